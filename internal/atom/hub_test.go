package atom

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// recordedHubBodies returns the non-empty bodies of the hub-management
// recordings (testdata/recordings/ManagementApi_*), by recording and call.
func recordedHubBodies(t testing.TB) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "recordings", "ManagementApi_*.http"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no hub-management recordings: %v", err)
	}
	out := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var rec struct {
			HttpCalls []struct {
				RequestURIPath string  `json:"RequestUriPath"`
				Content        *string `json:"Content"`
			}
		}
		if err := json.Unmarshal(data, &rec); err != nil {
			t.Fatal(err)
		}
		for i, c := range rec.HttpCalls {
			if c.Content == nil || strings.Contains(c.RequestURIPath, "/jobs") {
				continue
			}
			out[filepath.Base(f)+"#"+string(rune('0'+i/10))+string(rune('0'+i%10))] = *c.Content
		}
	}
	return out
}

var contentRe = regexp.MustCompile(`(?s)<content type="application/xml">(.*)</content>`)

// TestRecordedHubBodiesReencodeExactly decodes every hub entry and feed the
// service answered and encodes it again: the bytes must be the service's,
// so the canonical element order is the service's own.
func TestRecordedHubBodiesReencodeExactly(t *testing.T) {
	n := 0
	for name, body := range recordedHubBodies(t) {
		switch {
		case strings.HasPrefix(body, "<entry"):
			n++
			e, d, ok, err := ParseHubEntry([]byte(body))
			if err != nil || !ok {
				t.Fatalf("%s: ParseHubEntry: ok %v, %v", name, ok, err)
			}
			desc, err := MarshalHubDescription(d)
			if err != nil {
				t.Fatal(err)
			}
			if want := contentRe.FindStringSubmatch(body)[1]; string(desc) != want {
				t.Errorf("%s: description re-encoded\n got %s\nwant %s", name, desc, want)
			}
			e.Content = desc
			if got := string(MarshalEntry(e)); got != body {
				t.Errorf("%s: entry re-encoded\n got %s\nwant %s", name, got, body)
			}
		case strings.HasPrefix(body, "<feed"):
			n++
			f, ds, err := ParseHubFeed([]byte(body))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(ds) != len(f.Entries) {
				t.Errorf("%s: %d descriptions for %d entries", name, len(ds), len(f.Entries))
			}
			if got := string(MarshalFeed(f)); got != body {
				t.Errorf("%s: feed re-encoded\n got %s\nwant %s", name, got, body)
			}
			if _, _, ok, err := ParseHubEntry([]byte(body)); ok || err != nil {
				t.Errorf("%s: ParseHubEntry of a feed: ok %v, %v; want false, nil", name, ok, err)
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d recorded hub bodies", n)
	}
}

func TestRecordedHubValues(t *testing.T) {
	bodies := recordedHubBodies(t)
	body := bodies["ManagementApi_ShouldCreateGetOrDeleteHubOrRecieveConflictException.http#04"]
	e, d, ok, err := ParseHubEntry([]byte(body))
	if err != nil || !ok {
		t.Fatalf("ok %v, %v", ok, err)
	}
	if e.Title != "am3verify20200623" || e.Author != "am3verify20200623" || e.Published == "" {
		t.Errorf("entry = %+v", e)
	}
	want := HubDescription{
		RegistrationTTL: "P10675199DT2H48M5.4775807S",
		AuthorizationRules: []AuthorizationRule{
			{Type: "SharedAccessAuthorizationRule", ClaimType: "SharedAccessKey", ClaimValue: "None", Rights: []string{"Listen"},
				CreatedTime: "2020-07-02T18:03:10.772227Z", ModifiedTime: "2020-07-02T18:03:10.772227Z",
				KeyName: "DefaultListenSharedAccessSignature", PrimaryKey: "REDACTED", SecondaryKey: "REDACTED"},
			{Type: "SharedAccessAuthorizationRule", ClaimType: "SharedAccessKey", ClaimValue: "None", Rights: []string{"Listen", "Manage", "Send"},
				CreatedTime: "2020-07-02T18:03:10.772227Z", ModifiedTime: "2020-07-02T18:03:10.772227Z",
				KeyName: "DefaultFullSharedAccessSignature", PrimaryKey: "REDACTED", SecondaryKey: "REDACTED"},
		},
		DailyMaxActiveDevices: "1", DailyMaxActiveRegistrations: "12", DailyAPICalls: "28",
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("description (-want +got):\n%s", diff)
	}
	_, d, _, _ = ParseHubEntry([]byte(bodies["ManagementApi_ShouldCreateGetOrDeleteHubOrRecieveConflictException.http#09"]))
	if d.Status != "true" {
		t.Errorf("update answer: Status %q, want true", d.Status)
	}
}

func allCredentials() []PnsCredential {
	return []PnsCredential{
		{Element: CredentialXiaomi, Properties: []Property{{"AppSecret", "xs"}, {"Endpoint", "https://api.xmpush.xiaomi.com"}}},
		{Element: CredentialBrowser, Properties: []Property{{"Subject", "mailto:a@example.com"}, {"VapidPublicKey", "pub"}, {"VapidPrivateKey", "priv"}}},
		{Element: CredentialFcmV1, Properties: []Property{{"PrivateKey", "-----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY-----"}, {"ProjectId", "p"}, {"ClientEmail", "a@p.iam"}}},
		{Element: CredentialBaidu, Properties: []Property{{"BaiduApiKey", "k"}, {"BaiduSecretKey", "s"}}},
		{Element: CredentialAdm, Properties: []Property{{"ClientId", "c"}, {"ClientSecret", "s"}}},
		{Element: CredentialMpns, Properties: []Property{{"MpnsCertificate", "Y2VydA=="}, {"CertificateKey", "pw"}}},
		{Element: CredentialGcm, Properties: []Property{{"GoogleApiKey", "g"}}},
		{Element: CredentialWns, Properties: []Property{{"PackageSid", "ms-app://s"}, {"SecretKey", "s&<>"}}},
		{Element: CredentialApns, Properties: []Property{{"Endpoint", "https://api.push.apple.com:443/3/device"}, {"Token", "t"}, {"KeyId", "K"}, {"AppId", "T"}, {"AppName", "b"}}},
	}
}

func TestHubDescriptionRoundTripAndOrder(t *testing.T) {
	d := HubDescription{
		RegistrationTTL: "P39D",
		AuthorizationRules: []AuthorizationRule{{Type: "SharedAccessAuthorizationRule", ClaimType: "SharedAccessKey", ClaimValue: "None",
			Rights: []string{"Listen", "Send"}, KeyName: "app", PrimaryKey: "p", SecondaryKey: "s"}},
		UserMetadata: "meta",
		Status:       "false",
		Credentials:  allCredentials(),
	}
	data, err := MarshalHubDescription(d)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseHubDescription(data)
	if err != nil {
		t.Fatal(err)
	}
	// Parsing gives the credentials in document (canonical) order.
	want := d
	want.Credentials = nil
	for _, name := range CredentialElements {
		for _, c := range d.Credentials {
			if c.Element == name {
				want.Credentials = append(want.Credentials, c)
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	var top []string
	depth := 0
	for _, m := range regexp.MustCompile(`<(/?)([A-Za-z0-9]+)[^>]*?(/?)>`).FindAllStringSubmatch(string(data), -1) {
		switch {
		case m[1] == "/":
			depth--
		case m[3] == "/":
			if depth == 1 {
				top = append(top, m[2])
			}
		default:
			if depth == 1 {
				top = append(top, m[2])
			}
			depth++
		}
	}
	wantTop := []string{"ApnsCredential", "RegistrationTtl", "WnsCredential", "AuthorizationRules", "GcmCredential",
		"MpnsCredential", "UserMetadata", "AdmCredential", "BaiduCredential", "Status", "FcmV1Credential",
		"BrowserCredential", "XiaomiCredential"}
	if diff := cmp.Diff(wantTop, top); diff != "" {
		t.Errorf("element order (-want +got):\n%s\n%s", diff, data)
	}
}

func TestHubDescriptionEmptyRules(t *testing.T) {
	data, _ := MarshalHubDescription(HubDescription{AuthorizationRules: []AuthorizationRule{}})
	if !strings.Contains(string(data), "<AuthorizationRules/>") {
		t.Errorf("empty rules: %s", data)
	}
	data, _ = MarshalHubDescription(HubDescription{})
	if strings.Contains(string(data), "AuthorizationRules") {
		t.Errorf("nil rules written: %s", data)
	}
	got, err := ParseHubDescription([]byte(`<NotificationHubDescription xmlns="` + NSConnect + `"><AuthorizationRules/></NotificationHubDescription>`))
	if err != nil || got.AuthorizationRules == nil || len(got.AuthorizationRules) != 0 {
		t.Errorf("parse empty rules = %#v, %v", got.AuthorizationRules, err)
	}
}

func TestHubDescriptionErrors(t *testing.T) {
	if _, err := MarshalHubDescription(HubDescription{Credentials: []PnsCredential{{Element: "PigeonCredential"}}}); err == nil {
		t.Error("unknown credential element accepted")
	}
	twice := []PnsCredential{{Element: CredentialGcm}, {Element: CredentialGcm}}
	if _, err := MarshalHubDescription(HubDescription{Credentials: twice}); err == nil {
		t.Error("repeated credential accepted")
	}
	for _, body := range []string{
		`<NotificationHubDescription xmlns="` + NSConnect + `"><GcmCredential/><GcmCredential/></NotificationHubDescription>`,
		`<QueueDescription xmlns="` + NSConnect + `"/>`,
		`<NotificationHubDescription`,
	} {
		if _, err := ParseHubDescription([]byte(body)); err == nil {
			t.Errorf("ParseHubDescription(%s) = nil error", body)
		}
	}
	if _, _, _, err := ParseHubEntry([]byte(`<entry xmlns="` + NSAtom + `"><content type="application/xml"><RegistrationDescription/></content></entry>`)); err == nil {
		t.Error("entry with another description accepted")
	}
	if _, _, _, err := ParseHubEntry([]byte(`<item/>`)); err == nil {
		t.Error("non-Atom root accepted")
	}
}

func FuzzParseHubDescription(f *testing.F) {
	for _, body := range recordedHubBodies(f) {
		if m := contentRe.FindStringSubmatch(body); m != nil {
			f.Add([]byte(m[1]))
		}
	}
	full, _ := MarshalHubDescription(HubDescription{RegistrationTTL: "P1D", Credentials: allCredentials(),
		AuthorizationRules: []AuthorizationRule{{KeyName: "k", Rights: []string{"Listen"}}}})
	f.Add(full)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseHubDescription(data)
		if err != nil {
			return
		}
		out, err := MarshalHubDescription(d)
		if err != nil {
			t.Fatalf("a parsed description does not encode: %v", err)
		}
		d2, err := ParseHubDescription(out)
		if err != nil {
			t.Fatalf("re-encoded description does not parse: %v\n%s", err, out)
		}
		out2, _ := MarshalHubDescription(d2)
		if string(out) != string(out2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", out, out2)
		}
	})
}
