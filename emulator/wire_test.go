package emulator

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestIfMatchForms checks every If-Match form a client sends on a
// registration's PUT and DELETE: "*" bare and quoted (the .NET SDK's
// DeleteRegistrationAsync(id) sends `"*"`), and the ETag as W/"n", "n"
// and n.
func TestIfMatchForms(t *testing.T) {
	type want struct{ match, stale int }
	forms := []struct {
		name   string
		header func(etag int) string
		want
	}{
		{"star", func(int) string { return `*` }, want{200, 200}},
		{"quoted star", func(int) string { return `"*"` }, want{200, 200}},
		{"weak", func(n int) string { return `W/"` + strconv.Itoa(n) + `"` }, want{200, 412}},
		{"quoted", func(n int) string { return `"` + strconv.Itoa(n) + `"` }, want{200, 412}},
		{"bare", func(n int) string { return strconv.Itoa(n) }, want{200, 412}},
		{"list", func(n int) string { return `"99", "` + strconv.Itoa(n) + `"` }, want{200, 412}},
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			s := newTest(Options{})
			id := createReg(t, s, appleNative("a", appleTok)) // ETag 1
			path := regPath("/registrations/" + id + "?api-version=2020-06")
			put := func(h string) int {
				return call{method: "PUT", path: path, body: appleNative("b", appleTok), headers: map[string]string{"If-Match": h}}.do(t, s).Code
			}
			del := func(h string) int {
				return call{method: "DELETE", path: path, headers: map[string]string{"If-Match": h}}.do(t, s).Code
			}
			if got := put(f.header(7)); got != f.stale {
				t.Errorf("PUT If-Match %s with ETag 1: %d, want %d", f.header(7), got, f.stale)
			}
			if got := put(f.header(1)); got != f.match {
				t.Errorf("PUT If-Match %s with ETag 1: %d, want %d", f.header(1), got, f.match)
			}
			etag := 2
			if f.stale == 200 {
				etag = 3 // the stale PUT went through too
			}
			if got := del(f.header(etag + 5)); got != f.stale {
				t.Errorf("DELETE If-Match %s with ETag %d: %d, want %d", f.header(etag+5), etag, got, f.stale)
			}
			if f.stale != 200 {
				if got := del(f.header(etag)); got != 200 {
					t.Errorf("DELETE If-Match %s with ETag %d: %d, want 200", f.header(etag), etag, got)
				}
			}
			// Gone: any form answers 404, as the service's recordings show.
			if got := del(f.header(etag)); got != 404 {
				t.Errorf("DELETE of a deleted registration: %d, want 404", got)
			}
			if got := put(f.header(1)); got != 404 {
				t.Errorf("PUT If-Match on a missing registration: %d, want 404", got)
			}
		})
	}
}

// TestInstallationsHaveNoETag pins what the service does with
// installations: no ETag on any answer (the recordings of PUT, GET, PATCH
// and DELETE have none, the REST reference documents none, and no
// official SDK sends If-Match or reads an ETag for them), and If-Match, in
// any form, changes nothing (see docs/wire.md).
func TestInstallationsHaveNoETag(t *testing.T) {
	s := newTest(Options{})
	path := regPath("/installations/i1?api-version=2020-06")
	body := `{"installationId":"i1","platform":"fcmv1","pushChannel":"tok"}`
	for _, h := range []string{"", `*`, `"*"`, `W/"999"`, `"999"`, `999`} {
		hs := map[string]string{"Content-Type": "application/json"}
		if h != "" {
			hs["If-Match"] = h
		}
		for _, c := range []call{
			{method: "PUT", path: path, body: body, headers: hs},
			{method: "GET", path: path, headers: hs},
			{method: "PATCH", path: path, body: `[{"op":"add","path":"/tags","value":"t"}]`, headers: hs},
			{method: "GET", path: path},
		} {
			w := c.do(t, s)
			if w.Code != 200 {
				t.Fatalf("%s If-Match %q: status %d: %s", c.method, h, w.Code, w.Body)
			}
			if e := w.Header().Get("ETag"); e != "" {
				t.Errorf("%s If-Match %q: ETag %q, want none", c.method, h, e)
			}
		}
		w := call{method: "DELETE", path: path, headers: hs}.do(t, s)
		if w.Code != 204 || w.Header().Get("ETag") != "" {
			t.Errorf("DELETE If-Match %q: status %d, ETag %q; want 204 and none", h, w.Code, w.Header().Get("ETag"))
		}
	}
}

// TestJobGetContentLocation replays the recorded job GET of the .NET
// SDK's ManagementApi_ShouldReceiveCorrectJobs: the answer carries
// Content-Location, and like the entry's id it repeats the job id.
func TestJobGetContentLocation(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "recordings", "ManagementApi_ShouldReceiveCorrectJobs.http"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct{ HttpCalls []recordedCall }
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	jobGet := regexp.MustCompile(`^/[^/]+/jobs/([^/?]+)\?`)
	var recorded *recordedCall
	for i, c := range rec.HttpCalls {
		if jobGet.MatchString(c.RequestURIPath) && c.StatusCode == 200 {
			recorded = &rec.HttpCalls[i]
			break
		}
	}
	if recorded == nil {
		t.Fatal("the recording has no job GET")
	}
	recID := jobGet.FindStringSubmatch(recorded.RequestURIPath)[1]
	recLoc := recorded.ContentHeaders["Content-Location"]
	if !strings.Contains(recLoc, "/jobs/"+recID+"/"+recID+"?") {
		t.Fatalf("recorded Content-Location %q does not repeat the id", recLoc)
	}

	s := newTest(Options{})
	id := submitJob(t, s, jobExport, s.ContainerURL("https://"+testHost, "out"), "")
	w := call{method: "GET", path: regPath("/jobs/" + id + "?api-version=2017-04")}.do(t, s)
	mustStatus(t, w, 200)
	got := map[string]string{}
	for k := range w.Header() {
		if !ours[strings.ToLower(k)] {
			got[k] = w.Header().Get(k)
		}
	}
	want := map[string]string{}
	for k, v := range recorded.Headers {
		want[k] = v
	}
	for k, v := range recorded.ContentHeaders {
		want[k] = v
	}
	if diff := cmp.Diff(headerNames(want), headerNames(got)); diff != "" {
		t.Errorf("header names (-recorded +emulator):\n%s", diff)
	}
	wantLoc := "https://" + testHost + "/" + testHub + "/jobs/" + id + "/" + id + "?api-version=2017-04"
	if loc := w.Header().Get("Content-Location"); loc != wantLoc {
		t.Errorf("Content-Location = %q, want %q", loc, wantLoc)
	}
}

// TestBrowserPushChannelEchoesItsForm: a browser installation's
// pushChannel comes back in the form it was written with. The JS SDK
// writes (and reads) an object; the .NET and Java SDKs write a string
// holding the object and fail to read back an object ("Expected STRING
// but was BEGIN_OBJECT at path $.pushChannel"). A PATCH keeps the form,
// and so does a restart.
func TestBrowserPushChannelEchoesItsForm(t *testing.T) {
	const sub = `{"endpoint":"https://fcm.googleapis.com/fcm/send/x","p256dh":"P","auth":"A"}`
	const sub2 = `{"endpoint":"https://fcm.googleapis.com/fcm/send/y","p256dh":"P2","auth":"A2"}`
	quoted := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	tests := []struct {
		name, pushChannel string
		want, wantPatched string
	}{
		{"object (JS)", sub, sub, sub2},
		{"string (.NET, Java)", quoted(sub), quoted(sub), quoted(sub2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(Options{DataDir: dir, AllowedHosts: []string{testHost}})
			if err != nil {
				t.Fatal(err)
			}
			putInstallation(t, s, "b1", `{"installationId":"b1","platform":"browser","pushChannel":`+tt.pushChannel+`}`)
			get := func(s *Server) string {
				body := mustStatus(t, call{method: "GET", path: regPath("/installations/b1?api-version=2020-06")}.do(t, s), 200)
				var v struct{ PushChannel json.RawMessage }
				if err := json.Unmarshal([]byte(body), &v); err != nil {
					t.Fatalf("GET: %v: %s", err, body)
				}
				return string(v.PushChannel)
			}
			if got := get(s); got != tt.want {
				t.Errorf("pushChannel = %s, want %s", got, tt.want)
			}
			// .NET and Java patch with a string value; the form stays.
			mustStatus(t, call{method: "PATCH", path: regPath("/installations/b1?api-version=2020-06"),
				body: `[{"op":"replace","path":"/pushChannel","value":` + quoted(sub2) + `}]`}.do(t, s), 200)
			if got := get(s); got != tt.wantPatched {
				t.Errorf("after PATCH: pushChannel = %s, want %s", got, tt.wantPatched)
			}
			s.Close()
			s, err = Open(Options{DataDir: dir, AllowedHosts: []string{testHost}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := get(s); got != tt.wantPatched {
				t.Errorf("after a restart: pushChannel = %s, want %s", got, tt.wantPatched)
			}
		})
	}
}

// TestChannelFilterPerPlatform pins what $filter=ChannelUri eq '…' (and
// the per-platform properties) match for each platform's handle. The
// service stores APNs device tokens upper-case and its reference says the
// filter value must be upper-case hex: a lower-case token finds nothing,
// and the emulator does the same so that a client that does not
// normalise finds out here. Other handles match exactly as stored.
func TestChannelFilterPerPlatform(t *testing.T) {
	s := newTest(Options{})
	apple := createReg(t, s, appleNative("a", appleTok)) // stored upper-case
	fcm := createReg(t, s, entry(`<FcmV1RegistrationDescription `+nsConnect+`><FcmV1RegistrationId>Fcm:Tok-1</FcmV1RegistrationId></FcmV1RegistrationDescription>`))
	gcm := createReg(t, s, gcmNative("b", "Gcm:Tok-1"))
	wns := createReg(t, s, entry(`<WindowsRegistrationDescription `+nsConnect+`><ChannelUri>https://db5.notify.windows.com/?token=AwYAAA%2b</ChannelUri></WindowsRegistrationDescription>`))
	adm := createReg(t, s, entry(`<AdmRegistrationDescription `+nsConnect+`><AdmRegistrationId>amzn1.adm-registration.v2.Abc</AdmRegistrationId></AdmRegistrationDescription>`))
	xiaomi := createReg(t, s, entry(`<XiaomiRegistrationDescription `+nsConnect+`><XiaomiRegistrationId>Xm/Reg+1</XiaomiRegistrationId></XiaomiRegistrationDescription>`))
	browser := createReg(t, s, entry(`<BrowserRegistrationDescription `+nsConnect+`><Endpoint>https://push.example/ep</Endpoint><P256DH>K</P256DH><Auth>S</Auth></BrowserRegistrationDescription>`))
	putInstallation(t, s, "i-apns", `{"installationId":"i-apns","platform":"apns","pushChannel":"`+strings.Repeat("ab", 32)+`"}`)
	instApple := "" // the installation's native registration, found below
	tests := []struct {
		name, filter string
		want         []string
	}{
		{"apns upper", "ChannelUri eq '" + strings.ToUpper(appleTok) + "'", []string{apple}},
		{"apns lower finds nothing", "ChannelUri eq '" + appleTok + "'", nil},
		{"apns DeviceToken upper", "DeviceToken eq '" + strings.ToUpper(appleTok) + "'", []string{apple}},
		{"apns DeviceToken lower finds nothing", "DeviceToken eq '" + appleTok + "'", nil},
		{"apns installation upper", "ChannelUri eq '" + strings.Repeat("AB", 32) + "'", []string{instApple}},
		{"apns installation lower finds nothing", "ChannelUri eq '" + strings.Repeat("ab", 32) + "'", nil},
		{"fcmv1 exact", "ChannelUri eq 'Fcm:Tok-1'", []string{fcm}},
		{"fcmv1 case matters", "ChannelUri eq 'fcm:tok-1'", nil},
		{"fcmv1 property", "FcmV1RegistrationId eq 'Fcm:Tok-1'", []string{fcm}},
		{"gcm exact", "ChannelUri eq 'Gcm:Tok-1'", []string{gcm}},
		{"gcm property", "GcmRegistrationId eq 'Gcm:Tok-1'", []string{gcm}},
		{"wns as stored", "ChannelUri eq 'https://db5.notify.windows.com/?token=AwYAAA%2b'", []string{wns}},
		{"wns percent-encoded (JS)", "ChannelUri eq 'https%3A%2F%2Fdb5.notify.windows.com%2F%3Ftoken%3DAwYAAA%252b'", []string{wns}},
		{"adm exact", "ChannelUri eq 'amzn1.adm-registration.v2.Abc'", []string{adm}},
		{"adm property", "AdmRegistrationId eq 'amzn1.adm-registration.v2.Abc'", []string{adm}},
		{"xiaomi exact", "ChannelUri eq 'Xm/Reg+1'", []string{xiaomi}},
		{"browser endpoint", "ChannelUri eq 'https://push.example/ep'", []string{browser}},
		{"browser properties", "Endpoint eq 'https://push.example/ep' and P256DH eq 'K' and Auth eq 'S'", []string{browser}},
	}
	// The installation's native registration id.
	body := mustStatus(t, call{method: "GET", path: regPath("/tags/$InstallationId:%7Bi-apns%7D/registrations?api-version=2020-06")}.do(t, s), 200)
	ids := listIDs(t, body)
	if len(ids) != 1 {
		t.Fatalf("installation registrations: %v", ids)
	}
	for i := range tests {
		for j, id := range tests[i].want {
			if id == "" {
				tests[i].want[j] = ids[0]
			}
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{"$filter": {tt.filter}, "api-version": {"2020-06"}}
			w := call{method: "GET", path: regPath("/registrations?" + q.Encode())}.do(t, s)
			if diff := cmp.Diff(tt.want, listIDs(t, mustStatus(t, w, 200))); diff != "" {
				t.Errorf("filter %q (-want +got):\n%s", tt.filter, diff)
			}
		})
	}
}
