package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nhkit/notificationhubs/internal/atom"
	"github.com/nhkit/notificationhubs/internal/pnscred/pnscredtest"
	"github.com/nhkit/notificationhubs/internal/sas"
)

// ---- helpers ----------------------------------------------------------------

// mgmt sends a hub-management request signed with rule keyName/key for the
// namespace.
func mgmt(t testing.TB, s *Server, method, path, body, keyName, key string, headers map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	return call{method: method, path: path, body: body, headers: headers,
		auth: strp(sas.Sign("https://"+testHost+"/", keyName, key, time.Now().Add(time.Hour)))}.do(t, s)
}

func nsCall(t testing.TB, s *Server, method, path, body string, headers map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	return mgmt(t, s, method, path, body, NamespaceRuleName, DefaultNamespaceKey, headers)
}

// hubCall is a data-plane request to hub signed with keyName/key.
func hubCall(t testing.TB, s *Server, hub, method, rest, body, keyName, key string, headers map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	return call{method: method, path: "/" + hub + rest, body: body, headers: headers,
		auth: strp(sas.Sign("https://"+testHost+"/"+hub, keyName, key, time.Now().Add(time.Hour)))}.do(t, s)
}

func hubDesc(inner string) string {
	return entry(`<NotificationHubDescription ` + nsConnect + `>` + inner + `</NotificationHubDescription>`)
}

func credXML(element string, nameValues ...string) string {
	var b strings.Builder
	b.WriteString("<" + element + "><Properties>")
	for i := 0; i+1 < len(nameValues); i += 2 {
		b.WriteString("<Property><Name>" + nameValues[i] + "</Name><Value>" + nameValues[i+1] + "</Value></Property>")
	}
	b.WriteString("</Properties></" + element + ">")
	return b.String()
}

func testP8(t testing.TB) string { return string(pnscredtest.P8()) }

func testRSAPEM(t testing.TB) string {
	_, p := pnscredtest.RSAKey()
	return string(p)
}

// readHubEntry parses a hub entry answer.
func readHubEntry(t testing.TB, body string) atom.HubDescription {
	t.Helper()
	_, d, found, err := atom.ParseHubEntry([]byte(body))
	if err != nil || !found {
		t.Fatalf("not a hub entry (found %v, %v): %s", found, err, body)
	}
	return d
}

func ruleKey(d atom.HubDescription, name string) string {
	for _, r := range d.AuthorizationRules {
		if r.KeyName == name {
			return r.PrimaryKey
		}
	}
	return ""
}

const v1 = "?api-version=2020-06"

// ---- tests --------------------------------------------------------------------

// TestHubKeysOpenOnlyTheirHub: a hub created through the API answers to
// its own keys and not to the development keys; a first-use hub the other
// way round; the namespace key opens both.
func TestHubKeysOpenOnlyTheirHub(t *testing.T) {
	s := newTest(Options{})
	d := readHubEntry(t, mustStatus(t, nsCall(t, s, "PUT", "/made"+v1, hubDesc(""), nil), 201))
	ownFull, ownListen := ruleKey(d, FullRuleName), ruleKey(d, ListenRuleName)
	if ownFull == "" || ownListen == "" || ownFull == DefaultFullKey || ownFull == ownListen {
		t.Fatalf("created rules: %+v", d.AuthorizationRules)
	}
	list := "/registrations" + v1
	for _, tc := range []struct {
		hub, keyName, key string
		want              int
	}{
		{"made", FullRuleName, ownFull, 200},
		{"made", ListenRuleName, ownListen, 403}, // no Manage: the 2020-06 answer
		{"made", FullRuleName, DefaultFullKey, 401},
		{"made", NamespaceRuleName, DefaultNamespaceKey, 200},
		{"firstuse", FullRuleName, DefaultFullKey, 200},
		{"firstuse", FullRuleName, ownFull, 401},
		{"firstuse", NamespaceRuleName, DefaultNamespaceKey, 200},
		{"made", NamespaceRuleName, "d3Jvbmc=", 401},
	} {
		w := hubCall(t, s, tc.hub, "GET", list, "", tc.keyName, tc.key, nil)
		if w.Code != tc.want {
			t.Errorf("%s with %s (%.6s…): status %d, want %d: %s", tc.hub, tc.keyName, tc.key, w.Code, tc.want, w.Body)
		}
	}
	// The rule's secondary key works too.
	var second string
	for _, r := range d.AuthorizationRules {
		if r.KeyName == FullRuleName {
			second = r.SecondaryKey
		}
	}
	if w := hubCall(t, s, "made", "GET", list, "", FullRuleName, second, nil); w.Code != 200 {
		t.Errorf("secondary key: %d", w.Code)
	}
}

// TestHubManagementAuthorization: creating and listing take the namespace
// rule; a hub's own Manage rule reads and updates that hub; Listen is
// refused with the old API's 401.
func TestHubManagementAuthorization(t *testing.T) {
	s := newTest(Options{})
	mustStatus(t, hubCall(t, s, "firstuse", "GET", "/registrations"+v1, "", FullRuleName, DefaultFullKey, nil), 200)
	tcs := []struct {
		name, method, path, body, keyName, key string
		headers                                map[string]string
		want                                   int
		detail                                 string
	}{
		{"hub rule reads its hub", "GET", "/firstuse" + v1, "", FullRuleName, DefaultFullKey, nil, 200, ""},
		{"hub rule updates its hub", "PUT", "/firstuse" + v1, hubDesc(""), FullRuleName, DefaultFullKey, map[string]string{"If-Match": "*"}, 200, ""},
		{"hub rule cannot create", "PUT", "/other" + v1, hubDesc(""), FullRuleName, DefaultFullKey, nil, 401, "InvalidSignature"},
		{"hub rule cannot list", "GET", "/$Resources/NotificationHubs" + v1, "", FullRuleName, DefaultFullKey, nil, 401, "Manage claim"},
		{"listen rule", "GET", "/firstuse" + v1, "", ListenRuleName, DefaultListenKey, nil, 401, "Manage claim is required for this operation.."},
		{"listen rule deletes", "DELETE", "/firstuse" + v1, "", ListenRuleName, DefaultListenKey, nil, 401, "Manage claim"},
		{"namespace rule lists", "GET", "/$Resources/NotificationHubs" + v1, "", NamespaceRuleName, DefaultNamespaceKey, nil, 200, ""},
		{"namespace rule reads root", "GET", "/", "", NamespaceRuleName, DefaultNamespaceKey, nil, 200, ""},
	}
	for _, tc := range tcs {
		w := mgmt(t, s, tc.method, tc.path, tc.body, tc.keyName, tc.key, tc.headers)
		if w.Code != tc.want || !strings.Contains(w.Body.String(), tc.detail) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, w.Code, w.Body, tc.want, tc.detail)
		}
	}
	// A token for one hub does not cover the namespace root listing.
	w := call{method: "GET", path: "/", auth: strp(sas.Sign("https://"+testHost+"/firstuse", NamespaceRuleName, DefaultNamespaceKey, time.Now().Add(time.Hour)))}.do(t, s)
	if w.Code != 401 || !strings.Contains(w.Body.String(), "InvalidAudience") {
		t.Errorf("hub-scoped token on /: %d %s", w.Code, w.Body)
	}
}

// TestHubCredentialsAndSends: a hub created through the API delivers only
// to the platforms it has credentials for; the others' targets fail with
// InvalidCredentials while the send is accepted. A first-use hub delivers
// everywhere.
func TestHubCredentialsAndSends(t *testing.T) {
	s := newTest(Options{})
	apns := credXML("ApnsCredential", "Endpoint", "https://api.development.push.apple.com:443/3/device", "Token", testP8(t),
		"KeyId", "ABC123DEFG", "AppId", "TEAM123456", "AppName", "com.example.app")
	d := readHubEntry(t, mustStatus(t, nsCall(t, s, "PUT", "/creds"+v1, hubDesc(apns), nil), 201))
	key := ruleKey(d, FullRuleName)
	reg := func(hub, k, body string) {
		w := hubCall(t, s, hub, "POST", "/registrations"+v1, body, FullRuleName, k, nil)
		mustStatus(t, w, 200)
	}
	for _, hub := range []string{"creds", "firstuse"} {
		k := key
		if hub == "firstuse" {
			k = DefaultFullKey
		}
		reg(hub, k, appleNative("t", appleTok))
		reg(hub, k, gcmNative("t", "gcm-token-1"))
	}
	send := func(hub, k, format, body string) string {
		w := hubCall(t, s, hub, "POST", "/messages"+v1+"&test", body, FullRuleName, k,
			map[string]string{"ServiceBusNotification-Format": format, "ServiceBusNotification-Tags": "t", "Content-Type": "application/json"})
		return mustStatus(t, w, 201)
	}
	send("creds", key, "apple", `{"aps":{"alert":"a"}}`)
	if out := send("creds", key, "gcm", `{"data":{"m":"g"}}`); !strings.Contains(out, "no credential for this push service") {
		t.Errorf("test send without a credential: outcome %s", out)
	}
	send("firstuse", DefaultFullKey, "gcm", `{"data":{"m":"g"}}`)
	outcomes := map[string]string{}
	for _, dl := range s.Deliveries(DeliveryFilter{}) {
		outcomes[dl.Hub+" "+dl.Platform] = dl.Outcome
	}
	want := map[string]string{"creds apple": "Success", "creds gcm": "InvalidCredentials", "firstuse gcm": "Success"}
	if diff := cmp.Diff(want, outcomes); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	// A direct send to a platform without credential fails the same way.
	w := hubCall(t, s, "creds", "POST", "/messages"+v1+"&direct", `{"data":{"m":"d"}}`, FullRuleName, key,
		map[string]string{"ServiceBusNotification-Format": "gcm", "ServiceBusNotification-DeviceHandle": "gcm-direct", "Content-Type": "application/json"})
	mustStatus(t, w, 201)
	if ds := s.Deliveries(DeliveryFilter{Handle: "gcm-direct"}); len(ds) != 1 || ds[0].Outcome != "InvalidCredentials" {
		t.Errorf("direct send: %+v", ds)
	}
	// Adding the credential makes the platform deliver.
	sa := credXML("GcmCredential", "GoogleApiKey", "legacy-key")
	mustStatus(t, nsCall(t, s, "PUT", "/creds"+v1, hubDesc(apns+sa), map[string]string{"If-Match": "*"}), 200)
	if out := send("creds", key, "gcm", `{"data":{"m":"g2"}}`); !strings.Contains(out, "<Success>1</Success>") {
		t.Errorf("after adding the GCM credential: %s", out)
	}
	// The control plane says which credentials each hub has, not their secrets.
	hubs := s.Hubs()
	raw, _ := json.Marshal(hubs)
	for _, h := range hubs {
		switch h.Name {
		case "creds":
			if h.CreatedBy != "api" || !cmp.Equal(h.Credentials, []string{"apns (token)", "gcm"}) {
				t.Errorf("creds hub state: %+v", h)
			}
		case "firstuse":
			if h.CreatedBy != "first use" || len(h.Credentials) != 0 {
				t.Errorf("firstuse hub state: %+v", h)
			}
		}
	}
	if strings.Contains(string(raw), "legacy-key") || strings.Contains(string(raw), "PRIVATE") || strings.Contains(string(raw), key) {
		t.Errorf("hub state shows a secret: %s", raw)
	}
}

// TestHubDescriptionChecks: malformed descriptions and credentials that
// would not work are refused with 400, without quoting secrets.
func TestHubDescriptionChecks(t *testing.T) {
	s := newTest(Options{})
	rule := func(rights string) string {
		return `<AuthorizationRules><AuthorizationRule i:type="SharedAccessAuthorizationRule"><ClaimType>SharedAccessKey</ClaimType><ClaimValue>None</ClaimValue><Rights>` +
			rights + `</Rights><KeyName>app</KeyName><PrimaryKey>cHJpbWFyeQ==</PrimaryKey><SecondaryKey>c2Vjb25k</SecondaryKey></AuthorizationRule></AuthorizationRules>`
	}
	for _, tc := range []struct{ name, body, want string }{
		{"not atom", `<feed/>`, "not an Atom entry"},
		{"no description", entry(""), "no NotificationHubDescription"},
		{"bad ttl", hubDesc(`<RegistrationTtl>39 days</RegistrationTtl>`), "RegistrationTtl"},
		{"manage alone", hubDesc(rule(`<AccessRights>Manage</AccessRights>`)), "Manage without Listen and Send"},
		{"unknown right", hubDesc(rule(`<AccessRights>Fly</AccessRights>`)), "unknown right"},
		{"apns key", hubDesc(credXML("ApnsCredential", "Endpoint", "https://api.push.apple.com:443/3/device", "Token", "c2VjcmV0LXA4", "KeyId", "K", "AppId", "T", "AppName", "b")), "Invalid ApnsCredential"},
		{"fcm key", hubDesc(credXML("FcmV1Credential", "PrivateKey", "secret-not-pem", "ProjectId", "p", "ClientEmail", "a@b.c")), "PrivateKey"},
		{"wns secret", hubDesc(credXML("WnsCredential", "PackageSid", "ms-app://s", "SecretKey", "")), "SecretKey"},
		{"browser", hubDesc(credXML("BrowserCredential", "Subject", "ops@example.com", "VapidPublicKey", "AA", "VapidPrivateKey", "secret-vapid")), "Subject"},
		{"twice", hubDesc(credXML("GcmCredential", "GoogleApiKey", "k") + credXML("GcmCredential", "GoogleApiKey", "k")), "twice"},
	} {
		w := nsCall(t, s, "PUT", "/checked"+v1, tc.body, nil)
		if w.Code != 400 || !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("%s: %d %s, want 400 with %q", tc.name, w.Code, w.Body, tc.want)
		}
		for _, secret := range []string{"c2VjcmV0LXA4", "secret-not-pem", "secret-vapid"} {
			if strings.Contains(w.Body.String(), secret) {
				t.Errorf("%s: the error quotes a secret: %s", tc.name, w.Body)
			}
		}
	}
	if w := nsCall(t, s, "GET", "/checked"+v1, "", nil); !strings.HasPrefix(w.Body.String(), "<feed") {
		t.Errorf("a refused create made a hub: %s", w.Body)
	}
	if w := nsCall(t, s, "PUT", "/9hub"+v1, hubDesc(""), nil); w.Code != 400 {
		t.Errorf("invalid hub name: %d", w.Code)
	}
}

// TestHubUpdateReplacesDescription: an update replaces credentials and
// settings, keeps rules it leaves out, and a disabled hub refuses its data
// plane with 403 until enabled again.
func TestHubUpdateReplacesDescription(t *testing.T) {
	s := newTest(Options{})
	gcm := credXML("GcmCredential", "GoogleApiKey", "k1")
	d := readHubEntry(t, mustStatus(t, nsCall(t, s, "PUT", "/upd"+v1, hubDesc(`<RegistrationTtl>P39D</RegistrationTtl>`+gcm), nil), 201))
	key := ruleKey(d, FullRuleName)
	if d.RegistrationTTL != "P39D" || len(d.Credentials) != 1 {
		t.Fatalf("created: %+v", d)
	}
	ifMatch := map[string]string{"If-Match": "*"}
	d = readHubEntry(t, mustStatus(t, nsCall(t, s, "PUT", "/upd"+v1, hubDesc(`<Status>true</Status>`), ifMatch), 200))
	if d.RegistrationTTL != defaultRegistrationTTL || len(d.Credentials) != 0 || d.Status != "true" || ruleKey(d, FullRuleName) != key {
		t.Errorf("updated: %+v", d)
	}
	w := hubCall(t, s, "upd", "GET", "/registrations"+v1, "", FullRuleName, key, nil)
	if w.Code != 403 || !strings.Contains(w.Body.String(), "disabled") {
		t.Errorf("disabled hub: %d %s", w.Code, w.Body)
	}
	mustStatus(t, nsCall(t, s, "PUT", "/upd"+v1, hubDesc(""), ifMatch), 200)
	mustStatus(t, hubCall(t, s, "upd", "GET", "/registrations"+v1, "", FullRuleName, key, nil), 200)
	// New rules replace the old: the old key no longer opens the hub.
	rules := `<AuthorizationRules><AuthorizationRule i:type="SharedAccessAuthorizationRule"><Rights><AccessRights>Listen</AccessRights><AccessRights>Manage</AccessRights><AccessRights>Send</AccessRights></Rights><KeyName>app</KeyName><PrimaryKey>bmV3LWtleQ==</PrimaryKey><SecondaryKey>c2Vjb25k</SecondaryKey></AuthorizationRule></AuthorizationRules>`
	mustStatus(t, nsCall(t, s, "PUT", "/upd"+v1, hubDesc(rules), ifMatch), 200)
	if w := hubCall(t, s, "upd", "GET", "/registrations"+v1, "", FullRuleName, key, nil); w.Code != 401 {
		t.Errorf("old rule after rotation: %d", w.Code)
	}
	mustStatus(t, hubCall(t, s, "upd", "GET", "/registrations"+v1, "", "app", "bmV3LWtleQ==", nil), 200)
	// Update of a missing hub: 404.
	if w := nsCall(t, s, "PUT", "/nohub"+v1, hubDesc(""), ifMatch); w.Code != 404 {
		t.Errorf("update of a missing hub: %d", w.Code)
	}
}

// TestHubDeleteAndList: delete takes the hub's data with it; the listing
// pages by $skip and $top, by name.
func TestHubDeleteAndList(t *testing.T) {
	s := newTest(Options{})
	for i := range 5 {
		mustStatus(t, nsCall(t, s, "PUT", fmt.Sprintf("/hub%d", i)+v1, hubDesc(""), nil), 201)
	}
	mustStatus(t, hubCall(t, s, "old", "POST", "/registrations"+v1, appleNative("t", appleTok), FullRuleName, DefaultFullKey, nil), 200)
	var names []string
	for skip := 0; ; skip += 2 {
		body := mustStatus(t, nsCall(t, s, "GET", fmt.Sprintf("/$Resources/NotificationHubs%s&$skip=%d&$top=2", v1, skip), "", nil), 200)
		f, ds, err := atom.ParseHubFeed([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range f.Entries {
			names = append(names, e.Title)
			if len(ds[i].AuthorizationRules) != 2 {
				t.Errorf("%s listed without its rules", e.Title)
			}
		}
		if len(f.Entries) < 2 {
			break
		}
	}
	if diff := cmp.Diff([]string{"hub0", "hub1", "hub2", "hub3", "hub4", "old"}, names); diff != "" {
		t.Errorf("listing (-want +got):\n%s", diff)
	}
	mustStatus(t, nsCall(t, s, "DELETE", "/old"+v1, "", nil), 200)
	// Used again, the name is a fresh first-use hub without the old data.
	body := mustStatus(t, hubCall(t, s, "old", "GET", "/registrations"+v1, "", FullRuleName, DefaultFullKey, nil), 200)
	if strings.Contains(body, "<entry") {
		t.Errorf("a deleted hub's registrations came back: %s", body)
	}
	if w := nsCall(t, s, "GET", "/$Resources/NotificationHubs"+v1+"&$top=x", "", nil); w.Code != 400 {
		t.Errorf("bad $top: %d", w.Code)
	}
}

// TestHubsWithOptionsHubs: with Options.Hubs, other hubs are not created
// on first use but can be created through the API.
func TestHubsWithOptionsHubs(t *testing.T) {
	s := newTest(Options{Hubs: []string{testHub}})
	if w := hubCall(t, s, "later", "GET", "/registrations"+v1, "", FullRuleName, DefaultFullKey, nil); w.Code != 404 {
		t.Fatalf("unlisted hub: %d", w.Code)
	}
	d := readHubEntry(t, mustStatus(t, nsCall(t, s, "PUT", "/later"+v1, hubDesc(""), nil), 201))
	mustStatus(t, hubCall(t, s, "later", "GET", "/registrations"+v1, "", FullRuleName, ruleKey(d, FullRuleName), nil), 200)
	s.Reset()
	if w := nsCall(t, s, "GET", "/later"+v1, "", nil); !strings.HasPrefix(w.Body.String(), "<feed") {
		t.Errorf("Reset kept a hub created through the API: %s", w.Body)
	}
	if w := nsCall(t, s, "GET", "/"+testHub+v1, "", nil); !strings.HasPrefix(w.Body.String(), "<entry") {
		t.Errorf("Reset dropped a hub of Options.Hubs: %s", w.Body)
	}
}

// TestHubDescriptionsPersist: descriptions, rules and credentials come back
// after Close and Open.
func TestHubDescriptionsPersist(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{DataDir: dir, AllowedHosts: []string{testHost}})
	if err != nil {
		t.Fatal(err)
	}
	gcm := credXML("GcmCredential", "GoogleApiKey", "k1")
	fcm := credXML("FcmV1Credential", "PrivateKey", testRSAPEM(t), "ProjectId", "proj", "ClientEmail", "a@proj.iam.gserviceaccount.com")
	created := readHubEntry(t, mustStatus(t, nsCall(t, s, "PUT", "/kept"+v1, hubDesc(`<RegistrationTtl>P2D</RegistrationTtl>`+gcm+fcm+`<UserMetadata>m</UserMetadata>`), nil), 201))
	mustStatus(t, hubCall(t, s, "firstuse", "GET", "/registrations"+v1, "", FullRuleName, DefaultFullKey, nil), 200)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(Options{DataDir: dir, AllowedHosts: []string{testHost}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := readHubEntry(t, mustStatus(t, nsCall(t, s, "GET", "/kept"+v1, "", nil), 200))
	got.DailyAPICalls, got.DailyMaxActiveDevices, got.DailyMaxActiveRegistrations = "", "", ""
	if diff := cmp.Diff(created, got); diff != "" {
		t.Errorf("after reopening (-created +got):\n%s", diff)
	}
	mustStatus(t, hubCall(t, s, "kept", "GET", "/registrations"+v1, "", FullRuleName, ruleKey(created, FullRuleName), nil), 200)
	if w := hubCall(t, s, "kept", "GET", "/registrations"+v1, "", FullRuleName, DefaultFullKey, nil); w.Code != 401 {
		t.Errorf("the development key opens a created hub after reopening: %d", w.Code)
	}
	for _, h := range s.Hubs() {
		if h.Name == "firstuse" && h.CreatedBy != "first use" || h.Name == "kept" && h.CreatedBy != "api" {
			t.Errorf("after reopening: %+v", h)
		}
	}
}

// FuzzHubRequest: a PUT body is refused or builds a description that
// survives the database's round trip unchanged.
func FuzzHubRequest(f *testing.F) {
	f.Add(hubDesc(""))
	f.Add(dotnetHubBody(dotnetNewHub))
	f.Add(hubDesc(`<RegistrationTtl>P1D</RegistrationTtl><Status>true</Status><UserMetadata>m</UserMetadata>` + credXML("GcmCredential", "GoogleApiKey", "k")))
	f.Add(hubDesc(`<AuthorizationRules><AuthorizationRule i:type="SharedAccessAuthorizationRule"><Rights><AccessRights>Listen</AccessRights></Rights><KeyName>l</KeyName></AuthorizationRule></AuthorizationRules>`))
	f.Add(hubDesc(credXML("WnsCredential", "PackageSid", "ms-app://s", "SecretKey", "x")))
	s := newTest(Options{})
	f.Fuzz(func(t *testing.T, body string) {
		d, err := parseHubRequest([]byte(body))
		if err != nil {
			return
		}
		m, err := s.metaFrom(d)
		if err != nil {
			return
		}
		h := newHub("h")
		h.meta = m
		raw, err := json.Marshal(hubRecOf(h))
		if err != nil {
			t.Fatal(err)
		}
		var back hubRec
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		h2 := newHub("h")
		h2.meta = back.meta()
		a, _ := atom.MarshalHubDescription(s.describe(h))
		b, _ := atom.MarshalHubDescription(s.describe(h2))
		if string(a) != string(b) {
			t.Fatalf("description changed through the database:\n%s\n%s", a, b)
		}
	})
}

// TestServeNamespaceConnectionString: the banner prints the namespace's
// Manage connection string beside the hub-level ones, and it creates hubs.
func TestServeNamespaceConnectionString(t *testing.T) {
	out := serveBanner(t, ServeOptions{Listen: "127.0.0.1:0", PlainHTTP: true})
	m := regexp.MustCompile(`Connection string \(namespace, for hub management\): Endpoint=([^;]+);SharedAccessKeyName=(` + NamespaceRuleName + `);SharedAccessKey=(\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no namespace connection string in the banner:\n%s", out)
	}
	endpoint, name, key := m[1], m[2], m[3]
	req, _ := http.NewRequest("PUT", endpoint+"bannerhub?api-version=2020-06", strings.NewReader(hubDesc("")))
	req.Header.Set("Authorization", sas.Sign(endpoint, name, key, time.Now().Add(time.Hour)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Errorf("create with the printed namespace connection string: %d", resp.StatusCode)
	}
}
