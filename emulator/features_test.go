package emulator

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nhkit/notificationhubs/internal/atom"
	"github.com/nhkit/notificationhubs/internal/sas"
)

func schedule(t *testing.T, s *Server, tags string, due time.Time) string {
	t.Helper()
	c := sendReq("apple", tags, `{"aps":{"alert":"x"}}`, map[string]string{"ServiceBusNotification-ScheduleTime": due.UTC().Format(time.RFC3339Nano)})
	c.path = regPath("/schedulednotifications?api-version=2020-06")
	w := c.do(t, s)
	mustStatus(t, w, 201)
	return lastSegment(w.Header().Get("Location"))
}

func TestScheduledSendsFireCancelAndSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, Options{})
	createReg(t, s, appleNative("t", appleTok))
	due := time.Now().Add(300 * time.Millisecond)
	fire := schedule(t, s, "t", due)
	cancel := schedule(t, s, "t", due)
	if st, d := details(t, s, fire); st != 200 || d.State != "Scheduled" {
		t.Errorf("pending telemetry = %d %+v", st, d)
	}
	mustStatus(t, call{method: "DELETE", path: regPath("/schedulednotifications/" + cancel + "?api-version=2020-06")}.do(t, s), 200)
	eventually(t, "the scheduled send", func() bool { return len(s.Deliveries(DeliveryFilter{NotificationID: fire})) == 1 })
	d := s.Deliveries(DeliveryFilter{NotificationID: fire})[0]
	if d.Time.Before(due) {
		t.Errorf("fired at %v, before its time %v", d.Time, due)
	}
	t.Logf("fired %v after its time", d.Time.Sub(due))
	if st, det := details(t, s, fire); st != 200 || det.State != "Completed" || len(det.Counts) != 1 || det.Counts[0].Counts[0] != (atom.OutcomeCount{Name: "Success", Count: 1}) {
		t.Errorf("fired telemetry = %d %+v", st, det)
	}
	// The cancelled one never fires and says so.
	time.Sleep(100 * time.Millisecond)
	if n := len(s.Deliveries(DeliveryFilter{NotificationID: cancel})); n != 0 {
		t.Errorf("cancelled notification delivered %d times", n)
	}
	if st, det := details(t, s, cancel); st != 200 || det.State != "Canceled" {
		t.Errorf("cancelled telemetry = %d %+v", st, det)
	}
	// One due while the emulator is down fires when it starts again.
	due = time.Now().Add(200 * time.Millisecond)
	down := schedule(t, s, "t", due)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(due) + 100*time.Millisecond)
	s2 := openAt(t, dir, Options{})
	defer s2.Close()
	eventually(t, "the send due during the restart", func() bool { return len(s2.Deliveries(DeliveryFilter{NotificationID: down})) == 1 })
	eventually(t, "its telemetry", func() bool { st, det := details(t, s2, down); return st == 200 && det.State == "Completed" })
	if st, det := details(t, s2, cancel); st != 200 || det.State != "Canceled" {
		t.Errorf("cancelled telemetry after restart = %d %+v", st, det)
	}
	if h := s2.Hubs(); len(h) != 1 || h[0].ScheduledPending != 0 {
		t.Errorf("hubs after restart = %+v", h)
	}
}

func TestTelemetryDelayAndPerPlatformCounts(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s := newTest(Options{TelemetryDelay: time.Minute, Now: clk.now})
	tmpl := func(kind, handleElem, handle string) string {
		return entry(`<` + kind + `TemplateRegistrationDescription ` + nsConnect + `><Tags>t</Tags><` + handleElem + `>` + handle + `</` + handleElem + `><BodyTemplate><![CDATA[{"data":{"m":"$(m)"}}]]></BodyTemplate></` + kind + `TemplateRegistrationDescription>`)
	}
	createReg(t, s, tmpl("Gcm", "GcmRegistrationId", "g1"))
	createReg(t, s, tmpl("Gcm", "GcmRegistrationId", "expired-g2"))
	createReg(t, s, entry(`<AppleTemplateRegistrationDescription `+nsConnect+`><Tags>t</Tags><DeviceToken>`+appleTok+`</DeviceToken><BodyTemplate><![CDATA[{"aps":{"alert":"$(m)"}}]]></BodyTemplate></AppleTemplateRegistrationDescription>`))
	w := sendReq("template", "t", `{"m":"hi"}`, nil).do(t, s)
	mustStatus(t, w, 201)
	nid := lastSegment(w.Header().Get("Location"))
	if st, _ := details(t, s, nid); st != 404 {
		t.Errorf("telemetry before TelemetryDelay: status %d, want 404", st)
	}
	clk.add(time.Minute)
	st, d := details(t, s, nid)
	if st != 200 {
		t.Fatalf("telemetry after TelemetryDelay: status %d", st)
	}
	want := []atom.PlatformCounts{
		{Element: "ApnsOutcomeCounts", Counts: []atom.OutcomeCount{{Name: "Success", Count: 1}}},
		{Element: "GcmOutcomeCounts", Counts: []atom.OutcomeCount{{Name: "Success", Count: 1}, {Name: "ExpiredChannel", Count: 1}}},
	}
	if diff := cmp.Diff(want, d.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if d.State != "Completed" || d.PnsErrorDetailsURI == "" {
		t.Errorf("details = %+v", d)
	}
}

func parseFeedback(t *testing.T, blob string) []atom.PnsFeedback {
	t.Helper()
	var out []atom.PnsFeedback
	for _, line := range strings.Split(strings.TrimSpace(blob), "\n") {
		f, err := atom.ParsePnsFeedback([]byte(line))
		if err != nil {
			t.Fatalf("feedback line %q: %v", line, err)
		}
		f.FeedbackTime = ""
		out = append(out, f)
	}
	return out
}

func TestExpiredInvalidAndThrottledHandles(t *testing.T) {
	s := newTest(Options{})
	expiredReg := createReg(t, s, gcmNative("t", "expired-device-1"))
	createReg(t, s, gcmNative("t", "throttled-device-2"))
	createReg(t, s, gcmNative("t", "ok-device"))
	putInstallation(t, s, "inst", `{"installationId":"inst","platform":"gcm","pushChannel":"dev-inst","tags":["t"]}`)
	s.MarkHandle("DEV-INST", HandleStateExpired)
	appleReg := createReg(t, s, appleNative("t", appleTok))
	// Through the control endpoint.
	mustStatus(t, control(s, "POST", "/_emulator/handles", `{"handle":"`+appleTok+`","state":"invalid"}`), 204)

	rec := sendReq("gcm", "t", `{"data":{"m":"x"}}`, nil).do(t, s)
	mustStatus(t, rec, 201)
	nid := lastSegment(rec.Header().Get("Location"))
	mustStatus(t, sendReq("apple", "t", `{"aps":{}}`, nil).do(t, s), 201)

	st, d := details(t, s, nid)
	if st != 200 {
		t.Fatalf("telemetry status %d", st)
	}
	want := []atom.PlatformCounts{{Element: "GcmOutcomeCounts", Counts: []atom.OutcomeCount{
		{Name: "Success", Count: 1}, {Name: "ExpiredChannel", Count: 2}, {Name: "Throttled", Count: 1}}}}
	if diff := cmp.Diff(want, d.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	code, body := get(t, s, d.PnsErrorDetailsURI)
	if code != 200 {
		t.Fatalf("PnsErrorDetailsUri: %d %s", code, body)
	}
	if n := len(parseFeedback(t, body)); n != 3 {
		t.Errorf("PnsErrorDetails lists %d failures, want 3", n)
	}
	// The expired registration is gone; the installation is marked.
	mustStatus(t, call{method: "GET", path: regPath("/registrations/" + expiredReg + "?api-version=2020-06")}.do(t, s), 404)
	mustStatus(t, call{method: "GET", path: regPath("/registrations/" + appleReg + "?api-version=2020-06")}.do(t, s), 200)
	if b := mustStatus(t, call{method: "GET", path: regPath("/installations/inst?api-version=2020-06")}.do(t, s), 200); !strings.Contains(b, `"pushChannelExpired":true`) {
		t.Errorf("installation = %s", b)
	}
	// Feedback container: a listing, one MMddyyyy blob, the documents.
	w := call{method: "GET", path: regPath("/feedbackcontainer?api-version=2020-06")}.do(t, s)
	cu := mustStatus(t, w, 200)
	u, err := url.Parse(cu)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("restype", "container")
	q.Set("comp", "list")
	u.RawQuery = q.Encode()
	code, listing := get(t, s, u.String())
	if code != 200 {
		t.Fatalf("listing: %d %s", code, listing)
	}
	var l struct {
		Blobs []struct{ Name string } `xml:"Blobs>Blob"`
	}
	if err := xml.Unmarshal([]byte(listing), &l); err != nil || len(l.Blobs) != 1 || !regexp.MustCompile(`^\d{8}$`).MatchString(l.Blobs[0].Name) {
		t.Fatalf("listing = %s (%v)", listing, err)
	}
	bu := *u
	bu.Path += "/" + l.Blobs[0].Name
	bu.RawQuery = u.Query().Encode()
	code, blob := get(t, s, bu.String())
	if code != 200 {
		t.Fatalf("feedback blob: %d %s", code, blob)
	}
	got := parseFeedback(t, blob)
	wantFB := []atom.PnsFeedback{
		{NotificationSystemError: "ExpiredChannel", Platform: "gcm", PnsHandle: "expired-device-1", RegistrationID: expiredReg, NotificationID: nid},
		{NotificationSystemError: "ExpiredChannel", Platform: "gcm", PnsHandle: "dev-inst", InstallationID: "inst", NotificationID: nid},
		{NotificationSystemError: "InvalidToken", Platform: "apple", PnsHandle: strings.ToUpper(appleTok), RegistrationID: appleReg},
	}
	got[2].NotificationID = ""
	sortFB := func(l []atom.PnsFeedback) {
		slices.SortFunc(l, func(a, b atom.PnsFeedback) int { return strings.Compare(a.PnsHandle, b.PnsHandle) })
	}
	sortFB(got)
	sortFB(wantFB)
	if diff := cmp.Diff(wantFB, got); diff != "" {
		t.Errorf("feedback (-want +got):\n%s", diff)
	}
	// A tampered signature is refused.
	code, _ = get(t, s, strings.Replace(bu.String(), "sig=", "sig=x", 1))
	if code != 403 {
		t.Errorf("tampered SAS: status %d, want 403", code)
	}
}

func waitJob(t *testing.T, s *Server, id string) atom.Job {
	t.Helper()
	j := finishedJob(t, s, id)
	if j.Status != "Completed" {
		t.Fatalf("job %s: %+v", id, j)
	}
	return j
}

// descriptions returns the registrations of s without ids, ETags and
// expiry, sorted.
func descriptions(t *testing.T, s *Server) []string {
	t.Helper()
	body := mustStatus(t, call{method: "GET", path: regPath("/registrations?api-version=2020-06")}.do(t, s), 200)
	f, err := atom.ParseFeed([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range f.Entries {
		d, err := atom.UnmarshalRegistration(e.Content)
		if err != nil {
			t.Fatal(err)
		}
		d.RegistrationID, d.ETag, d.ExpirationTime = "", "", ""
		out = append(out, fmt.Sprintf("%+v", d))
	}
	slices.Sort(out)
	return out
}

func TestExportThenImportReproducesRegistrations(t *testing.T) {
	const base = "https://" + testHost
	src := newTest(Options{JobStepDelay: time.Millisecond})
	createReg(t, src, appleNative("a,b", appleTok))
	createReg(t, src, gcmNative("c", "gcm-1"))
	createReg(t, src, entry(`<GcmTemplateRegistrationDescription `+nsConnect+`><Tags>t1</Tags><GcmRegistrationId>g1</GcmRegistrationId><BodyTemplate><![CDATA[{"data":{"m":"$(msg)",
"n":"two lines"}}]]></BodyTemplate><TemplateName>tn</TemplateName></GcmTemplateRegistrationDescription>`))
	createReg(t, src, entry(`<WindowsRegistrationDescription `+nsConnect+`><Tags>w</Tags><ChannelUri>https://db5.notify.windows.com/?token=a%2Bb</ChannelUri></WindowsRegistrationDescription>`))
	putInstallation(t, src, "inst", `{"installationId":"inst","platform":"fcmv1","pushChannel":"tok"}`)
	id := submitJob(t, src, "ExportRegistrations", src.ContainerURL(base, "exports"), "")
	j := waitJob(t, src, id)
	wantPath := "exports/" + testHub + "/" + id + "/Output.txt"
	if j.OutputProperties["OutputFilePath"] != wantPath {
		t.Errorf("OutputProperties = %v, want OutputFilePath %s", j.OutputProperties, wantPath)
	}
	out, ok := src.Blob("exports", testHub+"/"+id+"/Output.txt")
	if !ok {
		t.Fatal("no Output.txt")
	}
	regs, err := atom.ParseRegistrations(out)
	if err != nil || len(regs) != 4 {
		t.Fatalf("export file: %d registrations, %v:\n%s", len(regs), err, out)
	}
	// Import into an empty hub through the blob API.
	dst := newTest(Options{JobStepDelay: time.Millisecond})
	cu := dst.ContainerURL(base, "imports")
	u, _ := url.Parse(cu)
	u.Path += "/file.txt"
	req := httptest.NewRequest("PUT", u.String(), strings.NewReader(string(out)))
	req.Header.Set("x-ms-blob-type", "BlockBlob")
	w := httptest.NewRecorder()
	dst.ServeHTTP(w, req)
	mustStatus(t, w, 201)
	id = submitJob(t, dst, "ImportCreateRegistrations", cu, u.String())
	waitJob(t, dst, id)
	if failed, _ := dst.Blob("imports", testHub+"/"+id+"/Failed.txt"); len(failed) != 0 {
		t.Errorf("Failed.txt = %s", failed)
	}
	want := descriptions(t, src)
	want = slices.DeleteFunc(want, func(d string) bool { return strings.Contains(d, "$InstallationId") })
	if diff := cmp.Diff(want, descriptions(t, dst)); diff != "" {
		t.Errorf("imported registrations (-exported +imported):\n%s", diff)
	}
}

func TestJobToAzuriteContainer(t *testing.T) {
	var mu sync.Mutex
	puts := map[string]string{}
	azurite := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != "PUT" || r.Header.Get("x-ms-blob-type") != "BlockBlob" || r.URL.Query().Get("sig") != "s" {
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		puts[r.URL.Path] = string(b)
		mu.Unlock()
		w.WriteHeader(201)
	}))
	defer azurite.Close()
	s := newTest(Options{JobStepDelay: time.Millisecond})
	createReg(t, s, gcmNative("c", "gcm-1"))
	id := submitJob(t, s, "ExportRegistrations", azurite.URL+"/devstoreaccount1/exports?sv=2019-02-02&sr=c&sig=s&sp=rwl", "")
	waitJob(t, s, id)
	mu.Lock()
	defer mu.Unlock()
	out := puts["/devstoreaccount1/exports/"+testHub+"/"+id+"/Output.txt"]
	if regs, err := atom.ParseRegistrations([]byte(out)); err != nil || len(regs) != 1 || regs[0].GcmRegistrationID != "gcm-1" {
		t.Errorf("Output.txt at Azurite = %q (%v); puts: %v", out, err, puts)
	}
	if _, ok := puts["/devstoreaccount1/exports/"+testHub+"/"+id+"/Failed.txt"]; !ok {
		t.Errorf("no Failed.txt at Azurite: %v", puts)
	}
}

func TestFaults(t *testing.T) {
	s := newTest(Options{})
	send := func() *httptest.ResponseRecorder { return sendReq("gcm", "t", `{"data":{}}`, nil).do(t, s) }
	s.InjectFault(Fault{Op: OpSend, Hub: "MYHUB", Count: 2, Status: 429})
	for i := range 2 {
		w := send()
		mustStatus(t, w, 429)
		if ra := w.Header().Get("Retry-After"); ra != "1" {
			t.Errorf("send %d: Retry-After %q", i, ra)
		}
	}
	mustStatus(t, send(), 201)
	s.InjectFault(Fault{Op: OpRegistration, Status: 403, RetryAfter: 7})
	mustStatus(t, send(), 201) // other operation: unaffected
	w := call{method: "POST", path: regPath("/registrations?api-version=2020-06"), body: gcmNative("t", "h")}.do(t, s)
	if body := mustStatus(t, w, 403); !strings.Contains(body, "Quota exceeded") || w.Header().Get("Retry-After") != "7" {
		t.Errorf("403 fault: %s, Retry-After %q", body, w.Header().Get("Retry-After"))
	}
	// The endpoint.
	mustStatus(t, control(s, "POST", "/_emulator/faults", `{"op":"any","status":503,"count":-1,"latency":"1ms"}`), 201)
	mustStatus(t, send(), 503)
	mustStatus(t, call{method: "GET", path: regPath("/installations/x?api-version=2020-06")}.do(t, s), 503)
	if f := s.Faults(); len(f) != 1 || f[0].Remaining != -1 || f[0].Latency != time.Millisecond {
		t.Errorf("faults = %+v", f)
	}
	mustStatus(t, control(s, "DELETE", "/_emulator/faults", ""), 204)
	mustStatus(t, send(), 201)
	// Throttle: a token bucket of 2.
	s.SetThrottle(testHub, 0.001, 2)
	mustStatus(t, send(), 201)
	mustStatus(t, send(), 201)
	w = send()
	mustStatus(t, w, 429)
	if w.Header().Get("Retry-After") == "" {
		t.Error("throttled without Retry-After")
	}
	s.SetThrottle(testHub, 0, 0)
	mustStatus(t, send(), 201)
}

func TestFaultDropsConnection(t *testing.T) {
	s := newTest(Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	s.InjectFault(Fault{Op: OpInstallation, Drop: true})
	req, _ := http.NewRequest("GET", ts.URL+"/myhub/installations/x?api-version=2020-06", nil)
	req.Header.Set("Authorization", sas.Sign(ts.URL+"/myhub", FullRuleName, DefaultFullKey, time.Now().Add(time.Hour)))
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request answered %d", resp.StatusCode)
	}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("after the fault: status %d, want 404", resp.StatusCode)
	}
}

func TestTiers(t *testing.T) {
	free := newTest(Options{Tier: "free"})
	for _, c := range []call{
		{method: "GET", path: regPath("/messages/x?api-version=2020-06")},
		{method: "GET", path: regPath("/feedbackcontainer?api-version=2020-06")},
		{method: "GET", path: regPath("/jobs?api-version=2020-06")},
		sendReq("apple", "t", `{}`, map[string]string{"ServiceBusNotification-ScheduleTime": "2030-01-01T00:00:00"}),
	} {
		if c.headers["ServiceBusNotification-ScheduleTime"] != "" {
			c.path = regPath("/schedulednotifications?api-version=2020-06")
		}
		if body := mustStatus(t, c.do(t, free), 403); !strings.Contains(body, "not enabled for your SKU") {
			t.Errorf("%s %s: %s", c.method, c.path, body)
		}
	}
	// Free: 500 devices.
	for i := range 499 {
		createReg(t, free, gcmNative("t", fmt.Sprintf("h%d", i)))
	}
	putInstallation(t, free, "i500", `{"installationId":"i500","platform":"gcm","pushChannel":"x"}`)
	mustStatus(t, call{method: "POST", path: regPath("/registrations?api-version=2020-06"), body: gcmNative("t", "over")}.do(t, free), 403)
	mustStatus(t, call{method: "PUT", path: regPath("/installations/i501?api-version=2020-06"), body: `{"installationId":"i501","platform":"gcm","pushChannel":"x"}`}.do(t, free), 403)
	putInstallation(t, free, "i500", `{"installationId":"i500","platform":"gcm","pushChannel":"y"}`) // update: fine
	if _, err := Open(Options{Tier: "gold"}); err == nil {
		t.Error("Open accepted tier gold")
	}
	// Test sends: 10 per minute.
	clk := &fakeClock{t: time.Now()}
	std := newTest(Options{Now: clk.now})
	testSend := func() *httptest.ResponseRecorder {
		c := sendReq("gcm", "t", `{"data":{}}`, nil)
		c.path = regPath("/messages?api-version=2020-06&test")
		return c.do(t, std)
	}
	for range 10 {
		mustStatus(t, testSend(), 201)
	}
	w := testSend()
	mustStatus(t, w, 429)
	if w.Header().Get("Retry-After") != "60" {
		t.Errorf("Retry-After = %q", w.Header().Get("Retry-After"))
	}
	mustStatus(t, sendReq("gcm", "t", `{"data":{}}`, nil).do(t, std), 201) // ordinary sends unaffected
	clk.add(time.Minute)
	mustStatus(t, testSend(), 201)
}

func TestReadAfterWriteDelay(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s := newTest(Options{ReadDelay: time.Second, Now: clk.now})
	getUser := func() (int, string) {
		w := call{method: "GET", path: regPath("/installations/i?api-version=2020-06")}.do(t, s)
		b := w.Body.String()
		if m := regexp.MustCompile(`"userId":"([^"]*)"`).FindStringSubmatch(b); m != nil {
			return w.Code, m[1]
		}
		return w.Code, ""
	}
	putInstallation(t, s, "i", `{"installationId":"i","platform":"gcm","pushChannel":"x","userId":"u1"}`)
	if st, _ := getUser(); st != 404 {
		t.Errorf("GET right after create: %d, want 404", st)
	}
	clk.add(time.Second)
	if st, u := getUser(); st != 200 || u != "u1" {
		t.Errorf("GET after the delay: %d %q", st, u)
	}
	mustStatus(t, call{method: "PATCH", path: regPath("/installations/i?api-version=2020-06"), body: `[{"op":"replace","path":"/userId","value":"u2"}]`}.do(t, s), 200)
	if st, u := getUser(); st != 200 || u != "u1" {
		t.Errorf("GET right after patch: %d %q, want the old u1", st, u)
	}
	clk.add(time.Second)
	if st, u := getUser(); st != 200 || u != "u2" {
		t.Errorf("GET after the delay: %d %q, want u2", st, u)
	}
}
