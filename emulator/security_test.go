package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nhkit/notificationhubs/internal/sas"
)

// state is what a request could have changed: the hubs and what is in
// them, the deliveries, faults, marks and throttles.
func state(s *Server) string {
	var b strings.Builder
	fmt.Fprintf(&b, "hubs %+v\n", s.Hubs())
	s.mu.RLock()
	names := slices.Sorted(maps.Keys(s.hubs))
	for _, name := range names {
		h := s.hubs[name]
		var ids []string
		for id := range h.installations {
			ids = append(ids, id)
		}
		for id := range h.byRegID {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		fmt.Fprintf(&b, "%s: %q\n", h.name, ids)
	}
	s.mu.RUnlock()
	fmt.Fprintf(&b, "deliveries %d sends %d faults %+v marks %v blobs %d\n",
		len(s.Deliveries(DeliveryFilter{})), len(s.Sends("")), s.Faults(), s.HandleMarks(), s.blobs.usage())
	s.throttle.mu.Lock()
	fmt.Fprintf(&b, "throttle %v\n", s.throttle.rate)
	s.throttle.mu.Unlock()
	return b.String()
}

// TestNoWayAcrossHubs sends requests with a token for the hub otherhub
// that name otherhub through dot segments and encoded slashes in the hub
// or id of another hub: each must answer 400 or 401 and change nothing.
// Before the router decoded segments once, the SAS check saw the cleaned
// path (/otherhub) while routing acted on authhub.
func TestNoWayAcrossHubs(t *testing.T) {
	s := newTest(Options{})
	putInstallation(t, s, "victim", `{"installationId":"victim","platform":"fcmv1","pushChannel":"victim-token","tags":["t"]}`)
	w := call{method: "PUT", path: "/authhub/installations/victim?api-version=2020-06", body: `{"installationId":"victim","platform":"fcmv1","pushChannel":"victim-token"}`,
		headers: map[string]string{"Content-Type": "application/json"}}
	w.auth = strp(sas.Sign("https://"+testHost+"/authhub", FullRuleName, DefaultFullKey, time.Now().Add(time.Hour)))
	mustStatus(t, w.do(t, s), 200)
	before := state(s)

	otherHub := sas.Sign("https://"+testHost+"/otherhub", FullRuleName, DefaultFullKey, time.Now().Add(time.Hour))
	paths := []string{
		"/authhub/%s/..%2F..%2Fotherhub",
		"/authhub/%s/..%2f..%2fotherhub",
		"/authhub/%s/%2e%2e%2F%2e%2e%2Fotherhub",
		"/authhub/%s/%2E%2E/%2E%2E/otherhub",
		"/authhub/%s/../../otherhub",
		"/authhub/%s/..%5C..%5Cotherhub",
		"/authhub/%s/x%2F..%2F..%2F..%2Fotherhub",
		"/otherhub/..%2Fauthhub/%s/victim",
		"/otherhub%2F..%2Fauthhub/%s/victim",
		"/otherhub/../authhub/%s/victim",
		"/%2e%2e/otherhub/%s/victim",
		"/otherhub/%s/..%2F..%2Fauthhub%2F%s%2Fvictim",
	}
	bodies := map[string]string{
		"installations": `{"platform":"fcmv1","pushChannel":"planted-token","tags":["t"]}`,
		"registrations": gcmNative("t", "planted-token"),
	}
	for _, entity := range []string{"installations", "registrations"} {
		for _, method := range []string{"PUT", "GET", "PATCH", "DELETE"} {
			for _, p := range paths {
				path := strings.ReplaceAll(p, "%s", entity) + "?api-version=2020-06"
				body := bodies[entity]
				if method == "PATCH" {
					body = `[{"op":"replace","path":"/pushChannel","value":"planted-token"}]`
				}
				c := call{method: method, path: path, body: body, auth: &otherHub, headers: map[string]string{"Content-Type": "application/json"}}
				w := c.do(t, s)
				if w.Code != 400 && w.Code != 401 {
					t.Errorf("%s %s = %d, want 400 or 401; body %s", method, path, w.Code, w.Body)
				}
			}
		}
	}
	if after := state(s); after != before {
		t.Errorf("the requests changed the state:\nbefore %s\nafter  %s", before, after)
	}
	// A send to authhub reaches only its own device.
	send := sendReq("fcmv1", "t", `{"message":{"data":{"k":"v"}}}`, nil)
	send.path = "/authhub/messages?api-version=2020-06"
	send.auth = strp(sas.Sign("https://"+testHost+"/authhub", FullRuleName, DefaultFullKey, time.Now().Add(time.Hour)))
	mustStatus(t, send.do(t, s), 201)
	for _, d := range s.Deliveries(DeliveryFilter{Hub: "authhub"}) {
		if d.Handle != "victim-token" {
			t.Errorf("authhub's send reached %q", d.Handle)
		}
	}
}

// TestPathSegmentsRefused checks the 400s of the router: dot segments,
// encoded slashes and backslashes, control characters and invalid hub
// names, in the data plane and the control plane, and that a token for
// exactly the right hub does not change that.
func TestPathSegmentsRefused(t *testing.T) {
	s := newTest(Options{})
	for _, p := range []string{
		"/h%00x/registrations",
		"/myhub/registrations/a%00b",
		"/myhub/installations/a%0Ab",
		"/myhub/installations/.",
		"/myhub/installations/%2e",
		"/myhub/installations/..",
		"/myhub/installations/a%2Fb",
		"/myhub/installations/a%5Cb",
		"/1hub/registrations",
		"/my%20hub/registrations",
		"/my+hub/registrations",
		"/" + strings.Repeat("h", 261) + "/registrations",
		"/_emulator/faults/..",
		"/_emulator/ui/..%2F..%2Fmyhub",
	} {
		for _, method := range []string{"GET", "POST"} {
			w := call{method: method, path: p + "?api-version=2020-06"}.do(t, s)
			if w.Code != 400 {
				t.Errorf("%s %s = %d, want 400; body %s", method, p, w.Code, w.Body)
			}
		}
	}
	if hs := s.Hubs(); len(hs) != 0 {
		t.Errorf("hubs created: %+v", hs)
	}
	for _, name := range []string{"a", "MyHub", "hub-1", "a.b_c-d", "h" + strings.Repeat("x", 259)} {
		if err := validHubName(name); err != nil {
			t.Errorf("validHubName(%q) = %v", name, err)
		}
	}
	if _, err := Open(Options{Hubs: []string{"h\x00x"}}); err == nil {
		t.Error("Open accepted the hub name h\\x00x")
	}
}

// controlRequests are the state-changing requests of the control plane.
var controlRequests = []struct{ method, path, body string }{
	{"POST", "/_emulator/reset", ""},
	{"POST", "/_emulator/faults", `{"op":"any","count":-1,"drop":true}`},
	{"DELETE", "/_emulator/faults", ""},
	{"DELETE", "/_emulator/faults/f1", ""},
	{"POST", "/_emulator/throttle", `{"hub":"myhub","rate":0.001,"burst":1}`},
	{"POST", "/_emulator/handles", `{"handle":"` + appleTok + `","state":"expired"}`},
	{"POST", "/_emulator/ui/api/reset", ""},
}

// TestControlPlaneRefusesCrossOrigin sends each state-changing control
// request as a page of another origin could make a browser send it: a
// simple POST (text/plain, a form's types, no type), with or without an
// Origin, and any method from another origin or an opaque one. None may
// change anything.
func TestControlPlaneRefusesCrossOrigin(t *testing.T) {
	s := newTest(Options{})
	createReg(t, s, appleNative("t", appleTok))
	mustStatus(t, sendReq("apple", "t", `{"aps":{}}`, nil).do(t, s), 201)
	s.InjectFault(Fault{Op: OpJob, Count: -1, Status: 500})
	s.MarkHandle("kept", HandleStateInvalid)
	before := state(s)
	type variant struct {
		name    string
		headers map[string]string
	}
	variants := []variant{
		{"text/plain from another site", map[string]string{"Content-Type": "text/plain", "Origin": "https://evil.example"}},
		{"form from another site", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"}},
		{"multipart from another site", map[string]string{"Content-Type": "multipart/form-data; boundary=x", "Origin": "https://evil.example"}},
		{"no type, opaque origin", map[string]string{"Origin": "null"}},
		{"text/plain without an Origin", map[string]string{"Content-Type": "text/plain"}},
		{"no type without an Origin", nil},
		{"JSON from another site", map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"}},
		{"JSON from another port", map[string]string{"Content-Type": "application/json", "Origin": "http://127.0.0.1:3000"}},
		{"JSON from another scheme", map[string]string{"Content-Type": "application/json", "Origin": "https://127.0.0.1:8443"}},
		{"JSON, opaque origin", map[string]string{"Content-Type": "application/json", "Origin": "null"}},
		{"JSON, Sec-Fetch-Site cross-site", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}},
		{"JSON, Sec-Fetch-Site same-site", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"}},
	}
	for _, r := range controlRequests {
		for _, v := range variants {
			if r.method == "DELETE" && v.headers["Origin"] == "" && v.headers["Sec-Fetch-Site"] == "" {
				continue // a page cannot send DELETE without a preflight; this is a local tool's request
			}
			req := httptest.NewRequest(r.method, "http://127.0.0.1:8443"+r.path, strings.NewReader(r.body))
			for k, val := range v.headers {
				req.Header.Set(k, val)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			if w.Code < 400 {
				t.Errorf("%s %s, %s: %d, want a refusal", r.method, r.path, v.name, w.Code)
			}
		}
	}
	if after := state(s); after != before {
		t.Errorf("cross-origin requests changed the state:\nbefore %s\nafter  %s", before, after)
	}
	// The same requests from the emulator's own origin, as JSON, work.
	for _, r := range controlRequests {
		req := httptest.NewRequest(r.method, "http://127.0.0.1:8443"+r.path, strings.NewReader(r.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "http://127.0.0.1:8443")
		req.Header.Set("X-Inbox", "1")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code >= 400 && !(w.Code == 404 && strings.HasSuffix(r.path, "/f1")) {
			t.Errorf("%s %s from its own origin: %d %s", r.method, r.path, w.Code, w.Body)
		}
	}
}

// samplePath fills a route's parameters with plausible values.
func samplePath(rt *route) string {
	p := rt.pattern
	for _, r := range [][2]string{{"{hub}", "myhub"}, {"{id}", "x"}, {"{tag}", "t"}, {"{container}", "feedback-abc"},
		{"{blob...}", "b.txt"}, {"{path...}", "index.html"}} {
		p = strings.ReplaceAll(p, r[0], r[1])
	}
	return p
}

// TestForeignHostRefusedEverywhere sends every route of the table with a
// Host the emulator does not answer (DNS rebinding): every one is refused
// with 403 and gives nothing away, while the same request with a loopback
// Host gets past the check.
func TestForeignHostRefusedEverywhere(t *testing.T) {
	s := newTest(Options{})
	createReg(t, s, appleNative("t", appleTok))
	mustStatus(t, sendReq("apple", "t", `{"aps":{}}`, nil).do(t, s), 201)
	before := state(s)
	if len(s.routes) < 40 {
		t.Fatalf("only %d routes", len(s.routes))
	}
	for i := range s.routes {
		rt := &s.routes[i]
		methods := []string{rt.method}
		if rt.method == "" {
			methods = []string{"GET", "PUT", "DELETE"}
		}
		for _, m := range methods {
			for _, host := range []string{"rebind.attacker.example", "rebind.attacker.example:8443", "localhost.attacker.example", "evil.localhost.example"} {
				req := httptest.NewRequest(m, "http://127.0.0.1"+samplePath(rt)+"?api-version=2020-06", strings.NewReader(""))
				req.Host = host
				req.Header.Set("Authorization", sas.Sign("https://"+host+"/myhub", FullRuleName, DefaultFullKey, time.Now().Add(time.Hour)))
				req.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				s.ServeHTTP(w, req)
				if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "does not answer the Host") {
					t.Errorf("%s %s with Host %s: %d %s", m, rt.pattern, host, w.Code, w.Body)
				}
				if strings.Contains(w.Body.String(), DefaultFullKey) || strings.Contains(w.Body.String(), appleTok) {
					t.Errorf("%s %s with Host %s gave data away: %s", m, rt.pattern, host, w.Body)
				}
			}
		}
	}
	if after := state(s); after != before {
		t.Errorf("requests with a foreign Host changed the state:\nbefore %s\nafter  %s", before, after)
	}
	// Allowed: loopback names and addresses, IP addresses, the public
	// endpoint's host, AllowedHosts and its wildcards.
	s2 := New(Options{AllowedHosts: []string{"devbox.lan", "*.corp.example"}})
	s2.SetPublicEndpoint("sb://emu.test:8443/")
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST:8443": true, "app.localhost": true, "127.0.0.1:1": true, "[::1]:8443": true,
		"192.168.1.7:8443": true, "emu.test:8443": true, "devbox.lan": true, "a.corp.example": true,
		"corp.example": false, "evil.example": false, "localhost.evil.example": false, "": false, "emu.test.evil:8443": false,
	} {
		req := httptest.NewRequest("GET", "http://127.0.0.1/_emulator/hubs", nil)
		req.Host = host
		w := httptest.NewRecorder()
		s2.ServeHTTP(w, req)
		if got := w.Code == 200; got != want {
			t.Errorf("Host %q: %d, want allowed=%v", host, w.Code, want)
		}
	}
}

// TestControlToken checks the control plane with Options.ControlToken:
// the bearer token, the inbox's cookie set from ?token=, and refusals.
func TestControlToken(t *testing.T) {
	const tok = "0123456789abcdef-token"
	s := New(Options{ControlToken: tok})
	get := func(path string, h map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "http://127.0.0.1:8443"+path, nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w
	}
	if w := get("/_emulator/deliveries", nil); w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("no token: %d", w.Code)
	}
	if w := get("/_emulator/deliveries", map[string]string{"Authorization": "Bearer wrong-token-0123456789"}); w.Code != 401 {
		t.Errorf("wrong token: %d", w.Code)
	}
	if w := get("/_emulator/deliveries", map[string]string{"Authorization": "Bearer " + tok}); w.Code != 200 {
		t.Errorf("bearer token: %d", w.Code)
	}
	if w := get("/_emulator/ui/api/hubs", nil); w.Code != 401 {
		t.Errorf("inbox api without token: %d", w.Code)
	}
	w := get("/_emulator/ui/?token="+tok, nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/_emulator/ui/" {
		t.Fatalf("inbox with ?token=: %d, Location %q", w.Code, w.Header().Get("Location"))
	}
	cookie := w.Result().Cookies()
	if len(cookie) != 1 || cookie[0].Name != controlCookie || !cookie[0].HttpOnly || cookie[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie = %+v", cookie)
	}
	if w := get("/_emulator/ui/api/hubs", map[string]string{"Cookie": cookie[0].Name + "=" + cookie[0].Value}); w.Code != 200 {
		t.Errorf("inbox api with the cookie: %d", w.Code)
	}
	if w := get("/_emulator/ui/?token=wrong-token-0123456789", nil); w.Code != 401 {
		t.Errorf("inbox with a wrong ?token=: %d", w.Code)
	}
	// The blob store keeps its own SAS; the data plane its SAS tokens.
	w = call{method: "POST", path: regPath("/registrationids?api-version=2020-06")}.do(t, newTest(Options{ControlToken: tok}))
	mustStatus(t, w, 201)
	for _, bad := range []string{"short", "has spaces in it, sixteen", "semi;colon-0123456789"} {
		if _, err := Open(Options{ControlToken: bad}); err == nil {
			t.Errorf("Open accepted the control token %q", bad)
		}
	}
	// Off: every control route answers 403, the data plane works.
	off := newTest(Options{DisableControlPlane: true})
	for _, p := range []string{"/_emulator/deliveries", "/_emulator/hubs", "/_emulator/ui/", "/_emulator/ui/api/connection-strings"} {
		if w := control(off, "GET", p, ""); w.Code != 403 || strings.Contains(w.Body.String(), DefaultFullKey) {
			t.Errorf("control plane off: GET %s = %d", p, w.Code)
		}
	}
	mustStatus(t, call{method: "POST", path: regPath("/registrationids?api-version=2020-06")}.do(t, off), 201)
}

// TestFaultInputValidated checks that the control plane refuses faults
// it cannot apply ({"status":5} was accepted and then made WriteHeader
// panic) and bounds their number.
func TestFaultInputValidated(t *testing.T) {
	s := newTest(Options{})
	for _, body := range []string{
		`{"status":5}`, `{"status":99}`, `{"status":101}`, `{"status":600}`, `{"status":-503}`,
		`{"status":503,"count":-2}`, `{"status":503,"count":1000001}`, `{"status":503,"retryAfter":-1}`,
		`{"status":503,"retryAfter":86401}`, `{"latency":"11m"}`, `{"latency":"-1s"}`, `{"op":"everything","status":503}`,
		`{"hub":"../x","status":503}`, `{"drop":false}`, `{"status":"503"}`,
	} {
		if w := control(s, "POST", "/_emulator/faults", body); w.Code != 400 {
			t.Errorf("fault %s: %d, want 400", body, w.Code)
		}
	}
	if f := s.Faults(); len(f) != 0 {
		t.Fatalf("faults kept: %+v", f)
	}
	// The message names every op that is taken.
	msg := mustStatus(t, control(s, "POST", "/_emulator/faults", `{"op":"everything","status":503}`), 400)
	for _, op := range []string{OpAny, OpSend, OpSchedule, OpTelemetry, OpRegistration, OpInstallation, OpJob, OpFeedback, OpHub} {
		if !strings.Contains(msg, op) {
			t.Errorf("the message for an unknown op does not name %q: %s", op, msg)
		}
	}
	for i := range maxFaults {
		if w := control(s, "POST", "/_emulator/faults", `{"op":"job","status":503}`); w.Code != 201 {
			t.Fatalf("fault %d: %d", i, w.Code)
		}
	}
	if w := control(s, "POST", "/_emulator/faults", `{"op":"job","status":503}`); w.Code != 409 {
		t.Errorf("fault past the bound: %d, want 409", w.Code)
	}
	// A status set through the Go API outside 200-599 answers 500 instead
	// of panicking.
	s.ClearFaults()
	s.InjectFault(Fault{Op: OpSend, Status: 5})
	if w := sendReq("apple", "t", `{"aps":{}}`, nil).do(t, s); w.Code != 500 {
		t.Errorf("send with an invalid injected status: %d", w.Code)
	}
	for _, body := range []string{`{"rate":-1}`, `{"rate":1e300}`, `{"burst":-1}`, `{"hub":"a/b","rate":1}`} {
		if w := control(s, "POST", "/_emulator/throttle", body); w.Code != 400 {
			t.Errorf("throttle %s: %d, want 400", body, w.Code)
		}
	}
	for i := range maxThrottleHubs {
		if w := control(s, "POST", "/_emulator/throttle", fmt.Sprintf(`{"hub":"h%d","rate":1000}`, i)); w.Code != 204 {
			t.Fatalf("throttle %d: %d", i, w.Code)
		}
	}
	if w := control(s, "POST", "/_emulator/throttle", `{"hub":"onemore","rate":1000}`); w.Code != 409 {
		t.Errorf("throttle past the bound: %d, want 409", w.Code)
	}
}

// TestHandleMarksBounded checks the bounds of POST /_emulator/handles.
func TestHandleMarksBounded(t *testing.T) {
	s := newTest(Options{})
	long, _ := json.Marshal(map[string]string{"handle": strings.Repeat("h", maxMarkedHandle+1), "state": "expired"})
	if w := control(s, "POST", "/_emulator/handles", string(long)); w.Code != 400 {
		t.Errorf("a %d-byte handle: %d, want 400", maxMarkedHandle+1, w.Code)
	}
	marks := map[string]HandleState{}
	for i := range maxMarks {
		marks[fmt.Sprintf("h%d", i)] = HandleStateExpired
	}
	s.pnsMu.Lock()
	s.marks = marks
	s.pnsMu.Unlock()
	if w := control(s, "POST", "/_emulator/handles", `{"handle":"one-more","state":"expired"}`); w.Code != 409 {
		t.Errorf("a mark past the bound: %d, want 409", w.Code)
	}
	if w := control(s, "POST", "/_emulator/handles", `{"handle":"h1","state":""}`); w.Code != 204 {
		t.Errorf("clearing a mark at the bound: %d, want 204", w.Code)
	}
}

// TestBlobSASIsPerBlob checks that a blob's read SAS (PnsErrorDetailsUri)
// reads that blob only: the signature covered only the container, so one
// notification's error blob SAS read every other's.
func TestBlobSASIsPerBlob(t *testing.T) {
	s := newTest(Options{})
	c := errorContainer(testHub)
	for _, n := range []string{"a.txt", "b.txt"} {
		if _, err := s.blobs.put(c, n, []byte(n), "text/plain"); err != nil {
			t.Fatal(err)
		}
	}
	read := func(u string) int {
		req := httptest.NewRequest("GET", u, nil)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w.Code
	}
	ua := s.blobURLFor("http://127.0.0.1:8443", c+"/a.txt", "r")
	if got := read(ua); got != 200 {
		t.Fatalf("blob SAS on its blob: %d", got)
	}
	u, _ := url.Parse(ua)
	other := "http://127.0.0.1:8443" + blobPrefix + c + "/b.txt?" + u.RawQuery
	if got := read(other); got != 403 {
		t.Errorf("blob a's SAS on blob b: %d, want 403", got)
	}
	q := u.Query()
	q.Set("sr", "c")
	if got := read("http://127.0.0.1:8443" + blobPrefix + c + "/b.txt?" + q.Encode()); got != 403 {
		t.Errorf("blob a's SAS turned into a container SAS: %d, want 403", got)
	}
	uc := s.blobURLFor("http://127.0.0.1:8443", c, "rl")
	u, _ = url.Parse(uc)
	if got := read("http://127.0.0.1:8443" + blobPrefix + c + "/b.txt?" + u.RawQuery); got != 200 {
		t.Errorf("container SAS on a blob: %d", got)
	}
}

// TestBlobSASKeyIsNoPublishedKey: blob SAS URLs are signed with a secret
// of the emulator's own, not with the hubs' full key (the published
// development key by default), so one emulator's URLs, or URLs signed
// with the full key, open nothing on another; with a data directory the
// secret is kept, and the URLs of one run still open after a restart.
func TestBlobSASKeyIsNoPublishedKey(t *testing.T) {
	const base = "http://127.0.0.1:8443"
	c := feedbackContainer("some-hub")
	read := func(s *Server, u string) int {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest("GET", u, nil))
		return w.Code
	}
	a, b := newTest(Options{}), newTest(Options{})
	for _, s := range []*Server{a, b} {
		s.blobs.ensure(c)
	}
	u := a.blobURLFor(base, c, "rl")
	if got := read(a, u+"&restype=container&comp=list"); got != 200 {
		t.Fatalf("own URL: %d", got)
	}
	if got := read(b, u+"&restype=container&comp=list"); got != 403 {
		t.Errorf("another emulator's URL: %d, want 403", got)
	}
	// A URL signed, as before, with the published full key.
	se := time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	m := hmac.New(sha256.New, []byte(DefaultFullKey))
	m.Write([]byte("blob\nc\n" + c + "\nrl\n" + se))
	forged := base + blobPrefix + c + "?" + url.Values{"sv": {"2019-02-02"}, "sr": {"c"}, "se": {se}, "sp": {"rl"},
		"sig": {base64.StdEncoding.EncodeToString(m.Sum(nil))}, "restype": {"container"}, "comp": {"list"}}.Encode()
	if got := read(a, forged); got != 403 {
		t.Errorf("URL signed with the published full key: %d, want 403", got)
	}

	dir := t.TempDir()
	s := openAt(t, dir, Options{})
	s.blobs.ensure(c)
	u = s.blobURLFor(base, c, "rl") + "&restype=container&comp=list"
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, dir, Options{})
	defer s.Close()
	if got := read(s, u); got != 200 {
		t.Errorf("URL of the previous run: %d, want 200", got)
	}
}

// TestBlobErrorIsWellFormedXML: a blob error's message, which quotes the
// container name as the request gave it, is escaped: an invalid name with
// XML in it still makes a well-formed error whose message says the name.
func TestBlobErrorIsWellFormedXML(t *testing.T) {
	s := newTest(Options{})
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "http://127.0.0.1:8443"+blobPrefix+"a%3C%3FMessage%3E%3Cx%3E%26?restype=container&comp=list", nil))
	var e struct {
		Code    string
		Message string
	}
	if err := xml.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("status %d, body not XML (%v): %s", w.Code, err, w.Body)
	}
	if w.Code != 400 || e.Code != "InvalidResourceName" || !strings.Contains(e.Message, `"a<?Message><x>&"`) {
		t.Errorf("status %d, error %+v", w.Code, e)
	}
}

// TestContainerNamesRoundTrip checks that container names are validated
// (jobs%2Fsub was accepted and came back as the container jobs after a
// restart) and that a valid one round-trips through the data directory.
func TestContainerNamesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, Options{})
	put := func(c, name string) int {
		u := s.blobURLFor("http://127.0.0.1:8443", c, "rwl")
		pu, _ := url.Parse(u)
		req := httptest.NewRequest("PUT", "http://127.0.0.1:8443"+blobPrefix+url.PathEscape(c)+"/"+name+"?"+pu.RawQuery, strings.NewReader("data"))
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w.Code
	}
	for _, c := range []string{"jobs/sub", "Jobs", "ab", "-jobs", "jobs-", "jo--bs", "jobs%sub", "jobs\x00", strings.Repeat("a", 64)} {
		if got := put(c, "x.txt"); got != 400 {
			t.Errorf("PUT to container %q: %d, want 400", c, got)
		}
	}
	if got := put("jobs-sub", "dir/x.txt"); got != 201 {
		t.Fatalf("PUT to jobs-sub: %d", got)
	}
	if _, err := s.blobs.put("jobs", "sub/x.txt", []byte("y"), ""); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openAt(t, dir, Options{})
	defer s.Close()
	s.blobs.mu.Lock()
	var got []string
	for c, m := range s.blobs.containers {
		for n := range m {
			got = append(got, c+" "+n)
		}
	}
	s.blobs.mu.Unlock()
	slices.Sort(got)
	if want := []string{"jobs sub/x.txt", "jobs-sub dir/x.txt"}; !slices.Equal(got, want) {
		t.Errorf("after a restart: %q, want %q", got, want)
	}
}

// FuzzRoutingMatchesAuthorization sends requests on fuzzed paths with a
// token for the hub otherhub (or for its installation a only) and checks
// that whatever hub and id a request acts on is what the token was
// checked against: no other hub comes into being or changes, and with the
// installation's token no other installation or registration appears.
// It also checks the router itself: when a data route matches and the
// token covers the resource authorisation builds, the route's hub and id
// are the token's.
func FuzzRoutingMatchesAuthorization(f *testing.F) {
	for _, p := range []string{
		"/authhub/installations/..%2F..%2Fotherhub",
		"/authhub/installations/%2e%2e%2F%2e%2e%2Fotherhub",
		"/authhub/registrations/..%2F..%2Fotherhub",
		"/otherhub/installations/a",
		"/otherhub/installations/A/",
		"/OTHERHUB//installations/a",
		"/otherhub/installations/b",
		"/otherhub%2F..%2Fauthhub/installations/a",
		"/otherhub/../authhub/installations/a",
		"/otherhub/registrations",
		"/otherhub/installations/a%2F..%2Fb",
		"/otherhub/messages",
		"/_emulator/reset",
	} {
		for m := range uint8(6) {
			f.Add(m, p, m%2 == 0)
		}
	}
	hubTok := sas.Sign("https://"+testHost+"/otherhub", FullRuleName, DefaultFullKey, time.Now().Add(24*time.Hour))
	entTok := sas.Sign("https://"+testHost+"/otherhub/installations/a", FullRuleName, DefaultFullKey, time.Now().Add(24*time.Hour))
	requests := []struct{ method, body string }{
		{"PUT", `{"platform":"fcmv1","pushChannel":"planted","tags":["t"]}`},
		{"GET", ""},
		{"PATCH", `[{"op":"add","path":"/tags","value":"x"}]`},
		{"DELETE", ""},
		{"POST", gcmNative("t", "planted")},
		{"POST", `{"message":{}}`},
	}
	f.Fuzz(func(t *testing.T, m uint8, path string, entity bool) {
		if !strings.HasPrefix(path, "/") {
			return
		}
		rq := requests[int(m)%len(requests)]
		req, err := http.NewRequest(rq.method, "https://"+testHost+path, strings.NewReader(rq.body))
		if err != nil || req.URL.Host != testHost {
			return
		}
		tok := hubTok
		if entity {
			tok = entTok
		}
		req.Host = testHost
		req.Header.Set("Authorization", tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("ServiceBusNotification-Format", "fcmv1")
		s := newTest(Options{})
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)

		for _, h := range s.Hubs() {
			if !strings.EqualFold(h.Name, "otherhub") {
				t.Fatalf("%s %s (%d) acted on hub %q with otherhub's token", rq.method, path, w.Code, h.Name)
			}
			if entity && h.Registrations > h.Installations {
				t.Fatalf("%s %s (%d) made a registration with installation a's token", rq.method, path, w.Code)
			}
		}
		if h := s.lookupHub("otherhub", false); h != nil && entity {
			for id := range h.installations {
				if !strings.EqualFold(id, "a") {
					t.Fatalf("%s %s (%d) acted on installation %q with installation a's token", rq.method, path, w.Code, id)
				}
			}
		}

		// The router: what the token covers is what the route names.
		segs, err := splitPath(req.URL.EscapedPath())
		if err != nil {
			return
		}
		mt, _ := s.match(rq.method, segs)
		if mt.rt == nil || mt.rt.plane != planeData {
			return
		}
		parsed, _ := sas.Parse(tok)
		res := resourcePath(mt.rt, mt.values[:])
		if !parsed.Covers(testHost, res) {
			return
		}
		if !strings.EqualFold(mt.param("hub"), "otherhub") {
			t.Fatalf("token for otherhub covers %q, routed to hub %q", res, mt.param("hub"))
		}
		if entity && (!strings.EqualFold(mt.param("id"), "a") || !strings.HasPrefix(strings.ToLower(mt.rt.pattern), "/{hub}/installations/")) {
			t.Fatalf("token for installation a covers %q, routed to %s id %q", res, mt.rt.pattern, mt.param("id"))
		}
	})
}

// TestOptionsShowNoSecret: Options printed (%v, %+v, %#v, alone, by
// pointer or inside ServeOptions) or logged (text and JSON) show their
// other fields but not the keys or the control token.
func TestOptionsShowNoSecret(t *testing.T) {
	o := Options{Hubs: []string{"myhub"}, NamespaceKey: "bmFtZXNwYWNlLXNlY3JldA==", FullKey: "ZnVsbC1zZWNyZXQ=",
		ListenKey: "bGlzdGVuLXNlY3JldA==", ControlToken: "control-token-secret-0123", Tier: "basic"}
	var text, js strings.Builder
	slog.New(slog.NewTextHandler(&text, nil)).Info("start", "options", o)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("start", "options", &o)
	for _, got := range []string{fmt.Sprint(o), fmt.Sprintf("%+v", o), fmt.Sprintf("%#v", o), fmt.Sprintf("%+v", &o),
		fmt.Sprintf("%+v", ServeOptions{Emulator: o}), fmt.Sprintf("%#v", ServeOptions{Emulator: o}), text.String(), js.String()} {
		for _, secret := range []string{o.NamespaceKey, o.FullKey, o.ListenKey, o.ControlToken} {
			if strings.Contains(got, secret) {
				t.Errorf("%q shows a secret", got)
			}
		}
		if !strings.Contains(got, "myhub") || !strings.Contains(got, "basic") || !strings.Contains(got, "REDACTED") {
			t.Errorf("%q lacks the other fields or the mark of what was left out", got)
		}
	}
}
