package inbox

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// get serves one request through Handler and returns the recorder.
func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	r.Host = "127.0.0.1:8443"
	for k, v := range hdr {
		if k == "Host" {
			r.Host = v
			continue
		}
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decoding %q: %v", w.Body.String(), err)
	}
	return v
}

func sampleFake() *fakeSource {
	f := newFake("hub1", "hub2")
	f.addDevices("hub1",
		Device{Kind: "installation", InstallationID: "inst-a", UserID: "alice", Platform: "apple", Handle: "AAAA", Tags: []string{"sports", "news"}},
		Device{Kind: "installation", InstallationID: "inst-b", Platform: "fcmv1", Handle: "BBBB", Tags: []string{"sports", "muted"}},
		Device{Kind: "registration", RegistrationID: "reg-c", Platform: "windows", Handle: "https://wns.example/CCCC", Tags: []string{"news"},
			Templates: []Template{{Body: "<toast/>", Headers: map[string]string{"X-WNS-Type": "wns/toast"}}}},
	)
	f.telemetry["hub1"] = []TelemetryRow{{NotificationID: "n1", State: "Completed", Targets: 3, Successes: 2, Failures: 1,
		Outcomes: []OutcomeCount{{Platform: "apple", Outcome: "Success", Count: 2}}}}
	f.scheduled["hub1"] = []ScheduledRow{{ID: "s1", ScheduledTime: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), Format: "apple", Payload: "{}"}}
	return f
}

func TestAPIEndpoints(t *testing.T) {
	f := sampleFake()
	f.push(Delivery{NotificationID: "n1", Hub: "hub1", Platform: "apple", Handle: "AAAA", Payload: `{"aps":{"alert":"hi"}}`})
	h := Handler(f)

	t.Run("hubs", func(t *testing.T) {
		w := get(t, h, "GET", "/api/hubs", nil)
		got := decode[[]Hub](t, w)
		want := []Hub{{Name: "hub1", Registrations: 1, Installations: 2, Deliveries: 1}, {Name: "hub2"}}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("hubs (-want +got):\n%s", d)
		}
		if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Errorf("content type %q", ct)
		}
	})
	t.Run("devices search", func(t *testing.T) {
		got := decode[DevicePage](t, get(t, h, "GET", "/api/hubs/hub1/devices?q=+ALICE+", nil))
		if got.Total != 1 || len(got.Devices) != 1 || got.Devices[0].InstallationID != "inst-a" {
			t.Errorf("search alice: %+v", got)
		}
		if f.lastDevQ.Search != "ALICE" {
			t.Errorf("search passed as %q, want trimmed ALICE", f.lastDevQ.Search)
		}
	})
	t.Run("devices of an empty hub", func(t *testing.T) {
		w := get(t, h, "GET", "/api/hubs/hub2/devices", nil)
		if got := strings.TrimSpace(w.Body.String()); got != `{"devices":[],"total":0,"offset":0}` {
			t.Errorf("body %s", got)
		}
	})
	t.Run("match", func(t *testing.T) {
		got := decode[DevicePage](t, get(t, h, "GET", "/api/hubs/hub1/match?expr="+urlq("sports && !muted || $InstallationId:{inst-x}"), nil))
		var ids []string
		for _, d := range got.Devices {
			ids = append(ids, d.InstallationID+d.RegistrationID)
		}
		if d := cmp.Diff([]string{"inst-a"}, ids); d != "" || got.Total != 1 {
			t.Errorf("matched (-want +got):\n%s total %d", d, got.Total)
		}
	})
	t.Run("telemetry", func(t *testing.T) {
		got := decode[rowPage[TelemetryRow]](t, get(t, h, "GET", "/api/hubs/hub1/telemetry", nil))
		if d := cmp.Diff(rowPage[TelemetryRow]{Rows: f.telemetry["hub1"], Total: 1}, got); d != "" {
			t.Errorf("telemetry (-want +got):\n%s", d)
		}
	})
	t.Run("scheduled", func(t *testing.T) {
		got := decode[rowPage[ScheduledRow]](t, get(t, h, "GET", "/api/hubs/hub1/scheduled", nil))
		if d := cmp.Diff(rowPage[ScheduledRow]{Rows: f.scheduled["hub1"], Total: 1}, got); d != "" {
			t.Errorf("scheduled (-want +got):\n%s", d)
		}
		empty := get(t, h, "GET", "/api/hubs/hub2/scheduled", nil)
		if got := strings.TrimSpace(empty.Body.String()); got != `{"rows":[],"total":0,"offset":0}` {
			t.Errorf("empty scheduled %s", got)
		}
	})
	t.Run("connection strings", func(t *testing.T) {
		got := decode[[]NamedString](t, get(t, h, "GET", "/api/connection-strings", nil))
		if d := cmp.Diff(f.ConnectionStrings(), got); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
	t.Run("deliveries filter", func(t *testing.T) {
		got := decode[DeliveryPage](t, get(t, h, "GET", "/api/deliveries?hub=HUB1&handle=AAAA&notification=n1", nil))
		if got.Total != 1 || got.Deliveries[0].NotificationID != "n1" {
			t.Errorf("got %+v", got)
		}
		want := DeliveryQuery{Hub: "HUB1", Handle: "AAAA", NotificationID: "n1", Limit: DefaultLimit}
		if f.lastDelQ != want {
			t.Errorf("query %+v, want %+v", f.lastDelQ, want)
		}
	})
}

func TestStatusCodes(t *testing.T) {
	h := Handler(sampleFake())
	tests := []struct {
		name, method, target string
		hdr                  map[string]string
		want                 int
		wantType             string
	}{
		{"page", "GET", "/", nil, 200, "text/html; charset=utf-8"},
		{"module", "GET", "/app.js", nil, 200, "text/javascript; charset=utf-8"},
		{"style", "GET", "/style.css", nil, 200, "text/css; charset=utf-8"},
		{"missing file", "GET", "/nope.js", nil, 404, ""},
		{"missing api", "GET", "/api/nope", nil, 404, "application/json; charset=utf-8"},
		{"wrong method", "DELETE", "/api/hubs", nil, 405, ""},
		{"reset without header", "POST", "/api/reset", nil, 403, "application/json; charset=utf-8"},
		{"empty expression", "GET", "/api/hubs/hub1/match?expr=+", nil, 400, "application/json; charset=utf-8"},
		{"foreign host", "GET", "/api/connection-strings", map[string]string{"Host": "evil.example:8443"}, 403, "application/json; charset=utf-8"},
		{"localhost", "GET", "/api/hubs", map[string]string{"Host": "localhost:8443"}, 200, "application/json; charset=utf-8"},
		{"ipv6 loopback", "GET", "/api/hubs", map[string]string{"Host": "[::1]:8443"}, 200, "application/json; charset=utf-8"},
		{"foreign host page", "GET", "/", map[string]string{"Host": "evil.example"}, 200, "text/html; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := get(t, h, tt.method, tt.target, tt.hdr)
			if w.Code != tt.want {
				t.Errorf("status %d, want %d; body %s", w.Code, tt.want, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); tt.wantType != "" && ct != tt.wantType {
				t.Errorf("content type %q, want %q", ct, tt.wantType)
			}
			if csp := w.Header().Get("Content-Security-Policy"); csp != contentSecurityPolicy {
				t.Errorf("CSP %q", csp)
			}
		})
	}
}

func TestReset(t *testing.T) {
	f := sampleFake()
	h := Handler(f)
	if w := get(t, h, "POST", "/api/reset", nil); w.Code != http.StatusForbidden || f.resets != 0 {
		t.Fatalf("reset without header: status %d, resets %d", w.Code, f.resets)
	}
	if w := get(t, h, "POST", "/api/reset", map[string]string{"X-Inbox": "1"}); w.Code != http.StatusNoContent || f.resets != 1 {
		t.Fatalf("reset: status %d, resets %d", w.Code, f.resets)
	}
}

func TestMatchErrorPosition(t *testing.T) {
	h := Handler(sampleFake())
	tests := []struct {
		expr    string
		wantPos int
	}{
		{"sports &&", 9},
		{"(a || b", 7},
		{"a b", 2},
	}
	for _, tt := range tests {
		w := get(t, h, "GET", "/api/hubs/hub1/match?expr="+urlq(tt.expr), nil)
		got := decode[apiError](t, w)
		if w.Code != http.StatusBadRequest || got.Position != tt.wantPos || !strings.Contains(got.Error, "position") {
			t.Errorf("%q: status %d, %+v; want 400 at %d", tt.expr, w.Code, got, tt.wantPos)
		}
	}
}

func TestPaging(t *testing.T) {
	f := newFake("h")
	for i := range 120 {
		f.addDevices("h", Device{Kind: "registration", RegistrationID: fmt.Sprint(i), Platform: "apple", Handle: fmt.Sprintf("h%03d", i)})
		f.push(Delivery{Hub: "h", Handle: fmt.Sprintf("h%03d", i), ID: fmt.Sprintf("d%03d", i)})
	}
	f.telemetry["h"] = make([]TelemetryRow, 120)
	h := Handler(f)
	tests := []struct {
		query                      string
		wantOffset, wantLimit, len int
		wantFirst                  string
	}{
		{"", 0, DefaultLimit, 50, "h000"},
		{"?offset=100&limit=50", 100, 50, 20, "h100"},
		{"?offset=-7&limit=0", 0, DefaultLimit, 50, "h000"},
		{"?offset=x&limit=y", 0, DefaultLimit, 50, "h000"},
		{"?limit=100000", 0, MaxLimit, 120, "h000"},
		{"?offset=500", 500, DefaultLimit, 0, ""},
	}
	for _, tt := range tests {
		p := decode[DevicePage](t, get(t, h, "GET", "/api/hubs/h/devices"+tt.query, nil))
		if f.lastDevQ.Offset != tt.wantOffset || f.lastDevQ.Limit != tt.wantLimit {
			t.Errorf("devices%s: source asked for %+v", tt.query, f.lastDevQ)
		}
		first := ""
		if len(p.Devices) > 0 {
			first = p.Devices[0].Handle
		}
		if len(p.Devices) != tt.len || p.Total != 120 || first != tt.wantFirst {
			t.Errorf("devices%s: %d devices from %q of %d", tt.query, len(p.Devices), first, p.Total)
		}
		tp := decode[rowPage[TelemetryRow]](t, get(t, h, "GET", "/api/hubs/h/telemetry"+tt.query, nil))
		if len(tp.Rows) != tt.len || tp.Total != 120 || tp.Offset != min(tt.wantOffset, 120) {
			t.Errorf("telemetry%s: %d rows at %d of %d", tt.query, len(tp.Rows), tp.Offset, tp.Total)
		}
	}
	// Deliveries come newest first.
	p := decode[DeliveryPage](t, get(t, h, "GET", "/api/deliveries?offset=10&limit=3", nil))
	var ids []string
	for _, d := range p.Deliveries {
		ids = append(ids, d.ID)
	}
	if d := cmp.Diff([]string{"d109", "d108", "d107"}, ids); d != "" || p.Total != 120 || p.Offset != 10 {
		t.Errorf("deliveries page (-want +got):\n%s total %d offset %d", d, p.Total, p.Offset)
	}
}

// greedySource ignores the page size.
type greedySource struct{ *fakeSource }

func (g greedySource) Devices(hub string, q DeviceQuery) DevicePage {
	q.Limit = 1 << 30
	return g.fakeSource.Devices(hub, q)
}

func TestPageClippedWhenSourceIgnoresLimit(t *testing.T) {
	f := newFake("h")
	for i := range 80 {
		f.addDevices("h", Device{Kind: "registration", Handle: fmt.Sprint(i)})
	}
	p := decode[DevicePage](t, get(t, Handler(greedySource{f}), "GET", "/api/hubs/h/devices?limit=10", nil))
	if len(p.Devices) != 10 || p.Total != 80 {
		t.Errorf("%d devices of %d, want 10 of 80", len(p.Devices), p.Total)
	}
}

func TestMountRedirect(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/_emulator/ui/", http.StripPrefix("/_emulator/ui", Handler(sampleFake())))
	mux.Handle("/_emulator/ui", http.StripPrefix("/_emulator/ui", Handler(sampleFake())))
	w := get(t, mux, "GET", "/_emulator/ui", nil)
	if w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "ui/" {
		t.Errorf("status %d location %q, want 301 to ui/", w.Code, w.Header().Get("Location"))
	}
	w = get(t, mux, "GET", "/_emulator/ui/", nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `<script type="module" src="app.js">`) {
		t.Errorf("page: status %d", w.Code)
	}
	w = get(t, mux, "GET", "/_emulator/ui/api/hubs", nil)
	if w.Code != http.StatusOK {
		t.Errorf("api under the mount: status %d", w.Code)
	}
}

const xssPayload = `{"aps":{"alert":{"title":"</script><script>alert(1)</script>","body":"<img src=x onerror=alert(2)>"}}}`

func TestPayloadEscapedInJSON(t *testing.T) {
	f := sampleFake()
	f.push(Delivery{Hub: "hub1", Platform: "apple", Handle: "AAAA", Payload: xssPayload,
		Headers: map[string]string{"apns-topic": "<script>x</script>"}})
	w := get(t, Handler(f), "GET", "/api/deliveries", nil)
	body := w.Body.String()
	if strings.Contains(body, "<script>") || strings.Contains(body, "<img") {
		t.Errorf("markup not escaped in JSON: %s", body)
	}
	if w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Error("nosniff missing")
	}
	got := decode[DeliveryPage](t, w)
	if got.Deliveries[0].Payload != xssPayload {
		t.Errorf("payload changed: %q", got.Deliveries[0].Payload)
	}
}

// TestNoHTMLSinks keeps the page's scripts away from the APIs that parse
// strings as HTML or code, so data can only ever become text.
func TestNoHTMLSinks(t *testing.T) {
	sinks := []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "createContextualFragment", "srcdoc"}
	n := 0
	err := fs.WalkDir(uiFS, "ui", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") && !strings.HasSuffix(p, ".html") {
			return err
		}
		n++
		b, err := uiFS.ReadFile(p)
		if err != nil {
			return err
		}
		for _, s := range sinks {
			if strings.Contains(string(b), s) {
				t.Errorf("%s uses %s", p, s)
			}
		}
		if strings.HasSuffix(p, ".html") && strings.Contains(string(b), "<script>") {
			t.Errorf("%s has an inline script (the CSP forbids it)", p)
		}
		return nil
	})
	if err != nil || n < 3 {
		t.Fatalf("walked %d files: %v", n, err)
	}
}

// TestNoRemoteAssets keeps the page working offline.
func TestNoRemoteAssets(t *testing.T) {
	err := fs.WalkDir(uiFS, "ui", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := uiFS.ReadFile(p)
		for _, s := range []string{"http://", "https://", "//cdn", "@import url("} {
			if strings.Contains(string(b), s) && !strings.HasSuffix(p, ".svg") {
				t.Errorf("%s refers to %q", p, s)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// sseEvent is one parsed server-sent event.
type sseEvent struct{ ID, Event, Data string }

// readEvent reads one event (skipping comments and retry fields).
func readEvent(r *bufio.Reader) (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev != (sseEvent{}) {
				return ev, nil
			}
		case strings.HasPrefix(line, ":"), strings.HasPrefix(line, "retry: "):
		case strings.HasPrefix(line, "id: "):
			ev.ID = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.Event = line[7:]
		case strings.HasPrefix(line, "data: "):
			if ev.Data != "" {
				ev.Data += "\n"
			}
			ev.Data += line[6:]
		default:
			return ev, fmt.Errorf("unexpected line %q", line)
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEvents(t *testing.T) {
	f := sampleFake()
	srv := httptest.NewServer(Handler(f))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Errorf("content type %q", ct)
	}
	r := bufio.NewReader(res.Body)
	first, err := r.ReadString('\n')
	if err != nil || first != "retry: 2000\n" {
		t.Fatalf("first line %q, %v", first, err)
	}
	ev, err := readEvent(r)
	if err != nil || ev != (sseEvent{Event: "ready", Data: "{}"}) {
		t.Fatalf("ready event %+v, %v", ev, err)
	}
	waitFor(t, "a subscriber", func() bool { return f.subscribers() == 1 })
	pushed := f.push(
		Delivery{ID: "a", Hub: "hub1", Platform: "apple", Handle: "AAAA", Payload: "{\n\"aps\": {}\n}"},
		Delivery{ID: "b\nevent: evil", Hub: "hub1", Platform: "windows", Handle: "CCCC", Payload: "<toast><script>x</script></toast>"},
	)
	for i, want := range pushed {
		ev, err := readEvent(r)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if ev.Event != "delivery" || strings.ContainsAny(ev.ID, "\r\n") || strings.Contains(ev.Data, "<") {
			t.Errorf("event %d framing: %+v", i, ev)
		}
		var got Delivery
		if err := json.Unmarshal([]byte(ev.Data), &got); err != nil {
			t.Fatalf("event %d data: %v", i, err)
		}
		if !got.Time.Equal(want.Time) {
			t.Errorf("event %d time %v, want %v", i, got.Time, want.Time)
		}
		got.Time = want.Time
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("event %d (-want +got):\n%s", i, d)
		}
	}
	res.Body.Close()
	waitFor(t, "the subscription to end", func() bool { return f.subscribers() == 0 })
}

func TestEventsHeartbeatAndClose(t *testing.T) {
	old := heartbeat
	heartbeat = 10 * time.Millisecond
	defer func() { heartbeat = old }()
	f := sampleFake()
	srv := httptest.NewServer(Handler(f))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	r := bufio.NewReader(res.Body)
	sawPing := false
	for !sawPing {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		sawPing = line == ": ping\n"
	}
	// When the source ends the subscription, the stream ends.
	f.endAll()
	if _, err := io.Copy(io.Discard, r); err != nil {
		t.Errorf("stream did not end cleanly: %v", err)
	}
}

func TestLoopbackHost(t *testing.T) {
	tests := map[string]bool{
		"localhost": true, "LOCALHOST:80": true, "app.localhost:1": true, "127.0.0.1": true, "127.0.0.1:8443": true,
		"[::1]:8443": true, "::1": true, "10.0.0.5:80": true, "localhost.": true,
		"example.com": false, "localhost.example.com": false, "": false, "127.0.0.1.nip.io": false,
	}
	for host, want := range tests {
		if got := loopbackHost(host); got != want {
			t.Errorf("loopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}
