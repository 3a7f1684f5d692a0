package emulator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nhkit/notificationhubs/internal/sas"
)

// TestSendLocationOnlyOnStandard checks that every kind of send answers 201 with a
// Location (the notification id) on Standard and without one on Free and Basic
// (docs/protocol.md, "Sends": the Location is "only available for Standard tier").
func TestSendLocationOnlyOnStandard(t *testing.T) {
	batchBody := "--b\r\nContent-Type: application/json\r\nContent-Disposition: inline; name=notification\r\n\r\n{\"data\":{}}\r\n" +
		"--b\r\nContent-Type: application/json\r\nContent-Disposition: inline; name=devices\r\n\r\n[\"h1\",\"h2\"]\r\n--b--\r\n"
	sends := map[string]call{
		"tag":       sendReq("gcm", "t", `{"data":{}}`, nil),
		"broadcast": sendReq("gcm", broadcast, `{"data":{}}`, nil),
		"test": func() call {
			c := sendReq("gcm", "t", `{"data":{}}`, nil)
			c.path = regPath("/messages?api-version=2020-06&test")
			return c
		}(),
		"direct": func() call {
			c := sendReq("gcm", broadcast, `{"data":{}}`, map[string]string{hDeviceHandle: "h1"})
			c.path = regPath("/messages?api-version=2020-06&direct")
			return c
		}(),
		"batch": {method: "POST", path: regPath("/messages/$batch?api-version=2020-06&direct"), body: batchBody,
			headers: map[string]string{hFormat: "gcm", "Content-Type": `multipart/mixed; boundary="b"`}},
	}
	locRe := regexp.MustCompile(`^https://` + regexp.QuoteMeta(testHost) + `/` + testHub + `/messages/[0-9a-f]{32}-\d{14}-\d+-\d+\?api-version=2020-06(&direct)?$`)
	for _, tier := range []string{"free", "basic", "standard"} {
		s := newTest(Options{Tier: tier})
		createReg(t, s, gcmNative("t", "h1"))
		for name, c := range sends {
			w := c.do(t, s)
			mustStatus(t, w, 201)
			loc, has := w.Header().Get("Location"), len(w.Header().Values("Location")) > 0
			if tier == "standard" {
				if !locRe.MatchString(loc) {
					t.Errorf("%s send on %s: Location %q, want a notification URL", name, tier, loc)
				}
			} else if has {
				t.Errorf("%s send on %s: Location %q, want none", name, tier, loc)
			}
		}
		if n := len(s.Deliveries(DeliveryFilter{Handle: "h1"})); n != len(sends) {
			t.Errorf("%s: %d deliveries to h1, want %d (sends work on every tier)", tier, n, len(sends))
		}
	}
}

// TestTemplateSendTargetPlatforms checks telemetry's TargetPlatforms:
// template variants for a template send (docs/protocol.md, "Telemetry"), plain names
// for a native one.
func TestTemplateSendTargetPlatforms(t *testing.T) {
	s := newTest(Options{})
	tmpl := func(kind, handleElem, handle, body string) string {
		return entry(`<` + kind + `TemplateRegistrationDescription ` + nsConnect + `><Tags>t</Tags><` + handleElem + `>` + handle + `</` + handleElem +
			`><BodyTemplate><![CDATA[` + body + `]]></BodyTemplate></` + kind + `TemplateRegistrationDescription>`)
	}
	createReg(t, s, tmpl("Apple", "DeviceToken", appleTok, `{"aps":{"alert":"$(m)"}}`))
	createReg(t, s, tmpl("Gcm", "GcmRegistrationId", "g1", `{"data":{"m":"$(m)"}}`))
	createReg(t, s, tmpl("FcmV1", "FcmV1RegistrationId", "f1", `{"message":{"data":{"m":"$(m)"}}}`))
	createReg(t, s, gcmNative("t", "g2"))
	for _, tt := range []struct {
		name string
		send call
		want string
	}{
		{"template", sendReq("template", "t", `{"m":"hi"}`, nil), "appletemplate,gcmtemplate,fcmv1template"},
		{"native", sendReq("gcm", "t", `{"data":{}}`, nil), "gcm"},
	} {
		w := tt.send.do(t, s)
		mustStatus(t, w, 201)
		st, d := details(t, s, lastSegment(w.Header().Get("Location")))
		if st != 200 || d.TargetPlatforms != tt.want {
			t.Errorf("%s send: telemetry %d, TargetPlatforms %q, want %q", tt.name, st, d.TargetPlatforms, tt.want)
		}
	}
}

// TestReadDelayCoversDelete checks that Options.ReadDelay delays deletes like
// writes (docs/protocol.md, "Installation operations"): a GET within the delay
// after a DELETE still sees the installation.
func TestReadDelayCoversDelete(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s := newTest(Options{ReadDelay: time.Second, Now: clk.now})
	get := func() (int, string) {
		w := call{method: "GET", path: regPath("/installations/i?api-version=2020-06")}.do(t, s)
		if m := regexp.MustCompile(`"userId":"([^"]*)"`).FindStringSubmatch(w.Body.String()); m != nil {
			return w.Code, m[1]
		}
		return w.Code, ""
	}
	del := func() {
		mustStatus(t, call{method: "DELETE", path: regPath("/installations/i?api-version=2020-06")}.do(t, s), 204)
	}
	put := func(user string) {
		putInstallation(t, s, "i", `{"installationId":"i","platform":"gcm","pushChannel":"x","userId":"`+user+`"}`)
	}
	type step struct {
		do       func()
		wantCode int
		wantUser string
	}
	later := func() { clk.add(time.Second) }
	for i, st := range []step{
		{func() { put("u1") }, 404, ""},
		{later, 200, "u1"},
		{del, 200, "u1"}, // the delete is still queued
		{later, 404, ""},
		// A delete of an installation nobody could see yet stays unseen.
		{func() { put("u2") }, 404, ""},
		{del, 404, ""},
		{later, 404, ""},
		// Re-created within the delay after a delete: readers keep the
		// state before the delete until the new write is visible.
		{func() { put("u3") }, 404, ""},
		{later, 200, "u3"},
		{del, 200, "u3"},
		{func() { put("u4") }, 200, "u3"},
		{later, 200, "u4"},
	} {
		st.do()
		if code, user := get(); code != st.wantCode || user != st.wantUser {
			t.Errorf("step %d: GET = %d %q, want %d %q", i, code, user, st.wantCode, st.wantUser)
		}
	}
	// Without ReadDelay a delete is visible at once.
	s = newTest(Options{})
	putInstallation(t, s, "i", `{"installationId":"i","platform":"gcm","pushChannel":"x"}`)
	mustStatus(t, call{method: "DELETE", path: regPath("/installations/i?api-version=2020-06")}.do(t, s), 204)
	mustStatus(t, call{method: "GET", path: regPath("/installations/i?api-version=2020-06")}.do(t, s), 404)
}

// TestServeConnectionStrings checks the endpoints Serve prints: sb:// with
// TLS (SDKs switch it to https), http:// in plain-HTTP mode, where sb://
// would be unusable; and that the printed plain-HTTP connection string
// works while Location headers still say https (docs/protocol.md, "Response headers").
func TestServeConnectionStrings(t *testing.T) {
	full := regexp.MustCompile(`Connection string \(full\): +Endpoint=([^;]+);SharedAccessKeyName=([^;]+);SharedAccessKey=(\S+)`)

	out := serveBanner(t, ServeOptions{Listen: "127.0.0.1:0", PlainHTTP: true})
	m := full.FindStringSubmatch(out)
	if m == nil || !regexp.MustCompile(`^http://localhost:\d+/$`).MatchString(m[1]) {
		t.Fatalf("plain HTTP banner has no http:// connection string:\n%s", out)
	}
	if !strings.Contains(out, "TLS") || !strings.Contains(out, ".NET") {
		t.Errorf("plain HTTP banner does not say that .NET and Java need TLS:\n%s", out)
	}
	endpoint, name, key := m[1], m[2], m[3]
	req, _ := http.NewRequest("POST", endpoint+"hub/messages?api-version=2020-06", strings.NewReader(`{"data":{}}`))
	req.Header.Set("Authorization", sas.Sign(endpoint+"hub", name, key, time.Now().Add(time.Hour)))
	req.Header.Set(hFormat, "gcm")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("send to the printed endpoint: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 || !strings.HasPrefix(resp.Header.Get("Location"), "https://localhost:") {
		t.Errorf("send to the printed endpoint: %d, Location %q; want 201 and an https:// Location", resp.StatusCode, resp.Header.Get("Location"))
	}

	out = serveBanner(t, ServeOptions{Listen: "127.0.0.1:0", CertDir: t.TempDir()})
	if m := full.FindStringSubmatch(out); m == nil || !regexp.MustCompile(`^sb://localhost:\d+/$`).MatchString(m[1]) {
		t.Errorf("TLS banner has no sb:// connection string:\n%s", out)
	}
}

// recordingTransport answers blob requests without a network: loopback
// hosts redirect paths under /redirect/ to redirectTo, every other request
// gets 201. It records the hosts it was asked for.
type recordingTransport struct {
	mu         sync.Mutex
	hosts      []string
	redirectTo string
}

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.hosts = append(rt.hosts, req.URL.Hostname())
	rt.mu.Unlock()
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	resp := &http.Response{StatusCode: 201, Header: http.Header{}, Body: http.NoBody, Request: req}
	if strings.HasPrefix(req.URL.Path, "/redirect/") {
		resp.StatusCode = http.StatusTemporaryRedirect
		resp.Header.Set("Location", rt.redirectTo)
	}
	if req.Method == "GET" {
		resp.StatusCode = 200
	}
	return resp, nil
}

func (rt *recordingTransport) seen() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]string(nil), rt.hosts...)
}

// TestJobsStayOnThisMachine checks that jobs reach only loopback hosts and
// the emulator's own blobs unless Options.AllowRemoteStorage is set, and
// that a refused job fails saying why and how to allow it, without its
// SAS signature.
func TestJobsStayOnThisMachine(t *testing.T) {
	const sig = "sig=c2VjcmV0LXNpZw"
	tests := []struct {
		name, typ, out, in string
		allow              bool
		wantStatus         string
		wantFailure        string   // substring of Failure
		wantHosts          []string // hosts the transport saw
	}{
		{name: "remote output", typ: "ExportRegistrations", out: "https://acct.blob.core.windows.net/c?" + sig,
			wantStatus: "Failed", wantFailure: `OutputContainerUri host "acct.blob.core.windows.net" is not on this machine`},
		{name: "remote import file", typ: "ImportCreateRegistrations", out: "http://127.0.0.1:10000/devstoreaccount1/c?" + sig,
			in: "https://acct.blob.core.windows.net/c/f.txt?" + sig, wantStatus: "Failed", wantFailure: `ImportFileUri host "acct.blob.core.windows.net"`},
		{name: "redirect off the machine", typ: "ExportRegistrations", out: "http://127.0.0.1:10000/redirect/c?" + sig,
			wantStatus: "Failed", wantFailure: `redirect host "acct.blob.core.windows.net"`, wantHosts: []string{"127.0.0.1"}},
		{name: "127.0.0.2", typ: "ExportRegistrations", out: "http://127.0.0.2:10000/devstoreaccount1/c?" + sig,
			wantStatus: "Completed", wantHosts: []string{"127.0.0.2", "127.0.0.2"}},
		{name: "::1", typ: "ExportRegistrations", out: "http://[::1]:10000/devstoreaccount1/c?" + sig,
			wantStatus: "Completed", wantHosts: []string{"::1", "::1"}},
		{name: "localhost", typ: "ExportRegistrations", out: "http://LocalHost:10000/devstoreaccount1/c?" + sig,
			wantStatus: "Completed", wantHosts: []string{"LocalHost", "LocalHost"}},
		{name: "own blob service", typ: "ExportRegistrations", out: "own", wantStatus: "Completed"},
		{name: "remote allowed", typ: "ExportRegistrations", out: "https://acct.blob.core.windows.net/c?" + sig, allow: true,
			wantStatus: "Completed", wantHosts: []string{"acct.blob.core.windows.net", "acct.blob.core.windows.net"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := &recordingTransport{redirectTo: "https://acct.blob.core.windows.net/c/x?" + sig}
			s := newTest(Options{JobStepDelay: time.Millisecond, AllowRemoteStorage: tt.allow, HTTPClient: &http.Client{Transport: rt}})
			t.Cleanup(func() { s.Close() })
			createReg(t, s, gcmNative("t", "h1"))
			out := tt.out
			if out == "own" {
				out = s.ContainerURL("https://"+testHost, "exports")
			}
			j := finishedJob(t, s, submitJob(t, s, tt.typ, out, tt.in))
			if j.Status != tt.wantStatus || !strings.Contains(j.Failure, tt.wantFailure) {
				t.Errorf("job: status %q, failure %q; want %q with %q", j.Status, j.Failure, tt.wantStatus, tt.wantFailure)
			}
			if tt.wantStatus == "Failed" && !strings.Contains(j.Failure, "--allow-remote-storage") {
				t.Errorf("failure %q does not say how to allow remote storage", j.Failure)
			}
			if strings.Contains(j.Failure, "c2VjcmV0") {
				t.Errorf("failure shows the SAS signature: %q", j.Failure)
			}
			if d := cmp.Diff(tt.wantHosts, rt.seen()); d != "" {
				t.Errorf("hosts reached (-want +got):\n%s", d)
			}
		})
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "127.255.0.9": true, "::1": true,
		"0:0:0:0:0:0:0:1": true, "::ffff:127.0.0.1": true,
		"": false, "localhost.example.com": false, "10.0.0.1": false, "0.0.0.0": false, "::": false,
		"acct.blob.core.windows.net": false, "128.0.0.1": false, "[::1]": false,
	} {
		if got := isLoopbackHost(host); got != want {
			t.Errorf("isLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestLatencyFaultEndsWithClient checks that a latency fault on a request
// with a body ends when the client gives up, so closing the server does
// not wait out the latency; and that the delayed request still reads its
// body.
func TestLatencyFaultEndsWithClient(t *testing.T) {
	s := newTest(Options{})
	entered := make(chan struct{}, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case entered <- struct{}{}:
		default:
		}
		s.ServeHTTP(w, r)
	}))
	closing := false
	defer func() {
		if !closing {
			ts.Close()
		}
	}()
	send := func(ctx context.Context) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/myhub/messages?api-version=2020-06", strings.NewReader(`{"data":{"k":"v"}}`))
		req.Header.Set("Authorization", sas.Sign(ts.URL+"/myhub", FullRuleName, DefaultFullKey, time.Now().Add(time.Hour)))
		req.Header.Set(hFormat, "gcm")
		return ts.Client().Do(req)
	}

	// A short latency: the body still arrives.
	s.InjectFault(Fault{Op: OpSend, Latency: time.Millisecond})
	resp, err := send(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	<-entered
	if resp.StatusCode != 201 {
		t.Fatalf("send after a latency fault: %d", resp.StatusCode)
	}
	if ds := s.Deliveries(DeliveryFilter{}); len(ds) != 0 {
		t.Errorf("broadcast to an empty hub delivered %d", len(ds))
	}
	if recs := s.Sends(""); len(recs) != 1 || recs[0].Body != `{"data":{"k":"v"}}` {
		t.Errorf("send records after a delayed send: %+v", recs)
	}

	// A latency of an hour, and the client gives up.
	s.InjectFault(Fault{Op: OpSend, Latency: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		resp, err := send(ctx)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	<-entered
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled send: err = %v", err)
	}
	done := make(chan struct{})
	closing = true
	go func() {
		ts.Close()
		close(done)
	}()
	// A guard against a hang, not a speed check: Close returns at once
	// when the handler has ended; before the fix it waited for the hour.
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("closing the server waits for the latency fault of a request whose client has gone")
	}
	if f := s.Faults(); len(f) != 0 {
		t.Errorf("faults left: %+v; the cancelled request did not reach the latency fault", f)
	}
}
