package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nhkit/notificationhubs/emulator/inbox"
	"github.com/nhkit/notificationhubs/internal/tagexpr"
)

// shopHub fills the hub myhub with two template installations (apple,
// fcmv1), one native gcm registration and one apple template
// registration.
func shopHub(t *testing.T, s *Server) (gcmRegID, tmplRegID string) {
	t.Helper()
	putInstallation(t, s, "iphone", `{"installationId":"iphone","userId":"Alice","platform":"apns","pushChannel":"`+appleTok+`",
		"tags":["orders","vip"],"templates":{"main":{"body":"{\"aps\":{\"alert\":{\"title\":\"$(title)\",\"body\":\"$(body)\"}}}","tags":["tmpl-tag"]}}}`)
	putInstallation(t, s, "pixel", `{"installationId":"pixel","platform":"fcmv1","pushChannel":"fcm-token-1","tags":["orders","muted"],
		"templates":{"main":{"body":"{\"message\":{\"notification\":{\"title\":\"$(title)\",\"body\":\"$(body)\"}}}"}}}`)
	gcmRegID = createReg(t, s, gcmNative("news,orders", "gcm-reg-1"))
	tmplRegID = createReg(t, s, entry(`<AppleTemplateRegistrationDescription `+nsConnect+`><Tags>news</Tags><DeviceToken>`+
		strings.Repeat("AB", 32)+`</DeviceToken><BodyTemplate><![CDATA[{"aps":{"alert":"$(title)"}}]]></BodyTemplate><TemplateName>banner</TemplateName></AppleTemplateRegistrationDescription>`))
	return gcmRegID, tmplRegID
}

func deviceKeys(p inbox.DevicePage) []string {
	var out []string
	for _, d := range p.Devices {
		out = append(out, d.Kind+":"+d.RegistrationID+d.InstallationID)
	}
	return out
}

func TestInboxDevices(t *testing.T) {
	s := newTest(Options{})
	gcmID, tmplID := shopHub(t, s)
	src := s.Inbox()
	all := []string{"installation:iphone", "installation:pixel", "registration:" + gcmID, "registration:" + tmplID}
	tests := []struct {
		name      string
		hub       string
		q         inbox.DeviceQuery
		want      []string
		wantTotal int
	}{
		{"all", "myhub", inbox.DeviceQuery{Limit: 50}, all, 4},
		{"hub name ignores case", "MyHub", inbox.DeviceQuery{Limit: 50}, all, 4},
		{"first page", "myhub", inbox.DeviceQuery{Limit: 3}, all[:3], 4},
		{"second page", "myhub", inbox.DeviceQuery{Offset: 3, Limit: 3}, all[3:], 4},
		{"past the end", "myhub", inbox.DeviceQuery{Offset: 9, Limit: 3}, nil, 4},
		{"search tag", "myhub", inbox.DeviceQuery{Search: "ORDERS", Limit: 50}, all[:3], 3},
		{"search template tag", "myhub", inbox.DeviceQuery{Search: "tmpl-", Limit: 50}, all[:1], 1},
		{"search user id", "myhub", inbox.DeviceQuery{Search: "alice", Limit: 50}, all[:1], 1},
		{"search handle", "myhub", inbox.DeviceQuery{Search: "abab", Limit: 50}, all[3:], 1},
		{"search registration id", "myhub", inbox.DeviceQuery{Search: gcmID, Limit: 50}, all[2:3], 1},
		{"search installation id", "myhub", inbox.DeviceQuery{Search: "pix", Limit: 50}, all[1:2], 1},
		{"search paged", "myhub", inbox.DeviceQuery{Search: "orders", Offset: 1, Limit: 1}, all[1:2], 3},
		{"search no match", "myhub", inbox.DeviceQuery{Search: "nothing", Limit: 50}, nil, 0},
		{"search non-ASCII", "myhub", inbox.DeviceQuery{Search: "ünï", Limit: 50}, nil, 0},
		{"unknown hub", "other", inbox.DeviceQuery{Limit: 50}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := src.Devices(tt.hub, tt.q)
			if d := cmp.Diff(tt.want, deviceKeys(p)); d != "" {
				t.Errorf("devices (-want +got):\n%s", d)
			}
			if p.Total != tt.wantTotal || p.Offset != tt.q.Offset {
				t.Errorf("total, offset = %d, %d; want %d, %d", p.Total, p.Offset, tt.wantTotal, tt.q.Offset)
			}
		})
	}

	// The views of each kind.
	p := src.Devices("myhub", inbox.DeviceQuery{Limit: 50})
	want := []inbox.Device{
		{Kind: "installation", InstallationID: "iphone", UserID: "Alice", Platform: "apple", Handle: strings.ToUpper(appleTok), Tags: []string{"orders", "vip"},
			Templates: []inbox.Template{{Name: "main", Body: `{"aps":{"alert":{"title":"$(title)","body":"$(body)"}}}`, Tags: []string{"tmpl-tag"}}}},
		{Kind: "installation", InstallationID: "pixel", Platform: "fcmv1", Handle: "fcm-token-1", Tags: []string{"orders", "muted"},
			Templates: []inbox.Template{{Name: "main", Body: `{"message":{"notification":{"title":"$(title)","body":"$(body)"}}}`}}},
		{Kind: "registration", RegistrationID: gcmID, Platform: "gcm", Handle: "gcm-reg-1", Tags: []string{"news", "orders"}},
		{Kind: "registration", RegistrationID: tmplID, Platform: "apple", Handle: strings.Repeat("AB", 32), Tags: []string{"news"},
			Templates: []inbox.Template{{Name: "banner", Body: `{"aps":{"alert":"$(title)"}}`}}},
	}
	if d := cmp.Diff(want, p.Devices); d != "" {
		t.Errorf("devices (-want +got):\n%s", d)
	}
}

func TestInboxMatch(t *testing.T) {
	s := newTest(Options{})
	gcmID, tmplID := shopHub(t, s)
	src := s.Inbox()
	tests := []struct {
		expr      string
		q         inbox.DeviceQuery
		want      []string
		wantTotal int
	}{
		{"orders && !muted", inbox.DeviceQuery{Limit: 50}, []string{"installation:iphone", "registration:" + gcmID}, 2},
		{"orders", inbox.DeviceQuery{Offset: 1, Limit: 1}, []string{"installation:pixel"}, 3},
		{"news", inbox.DeviceQuery{Limit: 50}, []string{"registration:" + gcmID, "registration:" + tmplID}, 2},
		// A template's tags and name reach its installation, once.
		{"main || tmpl-tag", inbox.DeviceQuery{Limit: 50}, []string{"installation:iphone", "installation:pixel"}, 2},
		// System tags.
		{"$InstallationId:{pixel}", inbox.DeviceQuery{Limit: 50}, []string{"installation:pixel"}, 1},
		{"$UserId:{Alice}", inbox.DeviceQuery{Limit: 50}, []string{"installation:iphone"}, 1},
		{"!orders", inbox.DeviceQuery{Limit: 50}, []string{"registration:" + tmplID}, 1},
		{"nobody", inbox.DeviceQuery{Limit: 50}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			p, err := src.Match("MYHUB", tt.expr, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, deviceKeys(p)); d != "" {
				t.Errorf("devices (-want +got):\n%s", d)
			}
			if p.Total != tt.wantTotal {
				t.Errorf("total = %d, want %d", p.Total, tt.wantTotal)
			}
		})
	}
	_, err := src.Match("myhub", "orders && (vip", inbox.DeviceQuery{Limit: 50})
	var se *tagexpr.SyntaxError
	if !errors.As(err, &se) || se.Pos != 14 {
		t.Errorf("syntax error = %v (%T), want a *tagexpr.SyntaxError at 14", err, err)
	}
}

// send posts a template notification with tags (broadcast if "\x00").
func sendTemplate(t *testing.T, s *Server, tags, props string) {
	t.Helper()
	mustStatus(t, sendReq("template", tags, props, nil).do(t, s), 201)
}

func TestInboxDeliveries(t *testing.T) {
	s := newTest(Options{Retention: 5})
	shopHub(t, s)
	src := s.Inbox()
	sendTemplate(t, s, "orders", `{"title":"T1","body":"B1"}`)  // iphone, pixel
	sendTemplate(t, s, broadcast, `{"title":"T2","body":"B2"}`) // iphone, pixel, template registration
	mustStatus(t, call{method: "POST", path: "/OtherHub/messages?direct&api-version=2020-06", body: `{"data":{}}`, auth: strp(fullAuth()),
		headers: map[string]string{"ServiceBusNotification-Format": "gcm", "ServiceBusNotification-DeviceHandle": "h"}}.do(t, s), 201)

	p := src.Deliveries(inbox.DeliveryQuery{Limit: 50})
	if p.Total != 5 || len(p.Deliveries) != 5 {
		t.Fatalf("total %d, %d deliveries; want 5 (retention)", p.Total, len(p.Deliveries))
	}
	type row struct{ Hub, Handle, Audience, PayloadPart string }
	var got []row
	ids := map[string]bool{}
	for _, d := range p.Deliveries {
		got = append(got, row{d.Hub, d.Handle, d.Audience, d.Payload[:min(len(d.Payload), 20)]})
		ids[d.ID] = true
	}
	want := []row{
		{"OtherHub", "h", "", `{"to":"h","data":{}}`},
		{"myhub", strings.Repeat("AB", 32), "", `{"aps":{"alert":"T2"`},
		{"myhub", "fcm-token-1", "", `{"message":{"notific`},
		{"myhub", strings.ToUpper(appleTok), "", `{"aps":{"alert":{"ti`},
		{"myhub", "fcm-token-1", "orders", `{"message":{"notific`},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("newest first (-want +got):\n%s", d)
	}
	if len(ids) != 5 {
		t.Errorf("ids not unique: %v", ids)
	}
	// Filters; hub names ignore case.
	p = src.Deliveries(inbox.DeliveryQuery{Hub: "MYHUB", Handle: "fcm-token-1", Offset: 1, Limit: 1})
	if p.Total != 2 || len(p.Deliveries) != 1 || p.Deliveries[0].Audience != "orders" || p.Offset != 1 {
		t.Errorf("filtered page = %+v", p)
	}
	nid := p.Deliveries[0].NotificationID
	if p := src.Deliveries(inbox.DeliveryQuery{NotificationID: nid, Limit: 50}); p.Total != 1 {
		t.Errorf("by notification id: total %d, want 1 (the other is no longer retained)", p.Total)
	}
	// IDs are stable across calls.
	again := src.Deliveries(inbox.DeliveryQuery{Limit: 50})
	for _, d := range again.Deliveries {
		if !ids[d.ID] {
			t.Errorf("id %s changed between calls", d.ID)
		}
	}

	hubs := src.Hubs()
	wantHubs := []inbox.Hub{{Name: "myhub", Registrations: 2, Installations: 2, Deliveries: 4, CreatedBy: "first use", Credentials: []string{}},
		{Name: "OtherHub", Deliveries: 1, CreatedBy: "first use", Credentials: []string{}}}
	if d := cmp.Diff(wantHubs, hubs); d != "" {
		t.Errorf("hubs (-want +got):\n%s", d)
	}

	// Reset forgets everything; ids do not repeat afterwards.
	src.Reset()
	if p := src.Deliveries(inbox.DeliveryQuery{Limit: 50}); p.Total != 0 {
		t.Errorf("after reset: %d deliveries", p.Total)
	}
	if p := src.Devices("myhub", inbox.DeviceQuery{Limit: 50}); p.Total != 0 {
		t.Errorf("after reset: %d devices", p.Total)
	}
	shopHub(t, s)
	sendTemplate(t, s, "orders", `{"title":"T3","body":"B3"}`)
	for _, d := range src.Deliveries(inbox.DeliveryQuery{Limit: 50}).Deliveries {
		if ids[d.ID] {
			t.Errorf("id %s reused after reset", d.ID)
		}
	}
}

func TestInboxSubscribe(t *testing.T) {
	s := newTest(Options{})
	shopHub(t, s)
	src := s.Inbox()
	ch, cancel := src.Subscribe()
	sendTemplate(t, s, "orders && vip", `{"title":"Hello","body":"World"}`)
	var got inbox.Delivery
	select {
	case got = <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery on the subscription")
	}
	page := src.Deliveries(inbox.DeliveryQuery{Limit: 1})
	if d := cmp.Diff(page.Deliveries[0], got); d != "" {
		t.Errorf("subscription and page disagree (-page +sub):\n%s", d)
	}
	if got.Audience != "orders && vip" || got.Format != "template" || !strings.Contains(got.Payload, `"title":"Hello"`) {
		t.Errorf("delivery = %+v", got)
	}

	// A subscriber that does not read never blocks a send; it misses what
	// does not fit its buffer.
	slow, cancelSlow := src.Subscribe()
	for range watchBuffer/2 + 1 {
		sendTemplate(t, s, broadcast, `{"title":"x","body":"y"}`) // 3 deliveries each
	}
	if n := len(slow); n != watchBuffer {
		t.Errorf("slow subscriber holds %d, want its buffer (%d)", n, watchBuffer)
	}
	cancelSlow()
	cancelSlow() // idempotent
	n := 0
	for range slow {
		n++
	}
	if n != watchBuffer {
		t.Errorf("drained %d after cancel, want %d and a closed channel", n, watchBuffer)
	}
	cancel()
	for range ch {
	}
	if got := s.watch.n.Load(); got != 0 {
		t.Errorf("%d subscriptions left", got)
	}
}

// TestInboxConcurrent subscribes, reads and cancels while sends run; run
// it with -race.
func TestInboxConcurrent(t *testing.T) {
	s := newTest(Options{Retention: 100})
	shopHub(t, s)
	src := s.Inbox()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				ch, cancel := src.Subscribe()
				select {
				case <-ch:
				case <-time.After(time.Millisecond):
				}
				cancel()
				src.Deliveries(inbox.DeliveryQuery{Hub: "myhub", Limit: 10})
				src.Devices("myhub", inbox.DeviceQuery{Search: "o", Limit: 10})
				src.Hubs()
				src.Telemetry("myhub")
			}
		})
	}
	for range 50 {
		sendTemplate(t, s, "orders", `{"title":"x","body":"y"}`)
	}
	close(stop)
	wg.Wait()
}

func TestInboxTelemetryAndScheduled(t *testing.T) {
	s := newTest(Options{})
	shopHub(t, s)
	s.MarkHandle("fcm-token-1", HandleStateExpired)
	src := s.Inbox()
	sendTemplate(t, s, "orders", `{"title":"x","body":"y"}`)
	rows := src.Telemetry("MyHub")
	if len(rows) != 1 {
		t.Fatalf("%d telemetry rows", len(rows))
	}
	r := rows[0]
	r.NotificationID, r.Enqueued = "", time.Time{}
	// The gcm registration is native: a template send reaches the two
	// installations' templates only.
	want := inbox.TelemetryRow{State: "Completed", Format: "template", Audience: "orders", Targets: 2, Successes: 1, Failures: 1,
		Outcomes: []inbox.OutcomeCount{{Platform: "apple", Outcome: "Success", Count: 1}, {Platform: "fcmv1", Outcome: "ExpiredChannel", Count: 1}}}
	if d := cmp.Diff(want, r); d != "" {
		t.Errorf("telemetry (-want +got):\n%s", d)
	}
	if rows := src.Telemetry("other"); len(rows) != 0 {
		t.Errorf("other hub: %d rows", len(rows))
	}

	due := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	for i, tags := range []string{"vip", "news"} {
		c := sendReq("apple", tags, `{"aps":{"alert":"later"}}`, map[string]string{"ServiceBusNotification-ScheduleTime": due.Add(time.Duration(-i) * time.Minute).Format(time.RFC3339)})
		c.path = regPath("/schedulednotifications?api-version=2020-06")
		mustStatus(t, c.do(t, s), 201)
	}
	sched := src.Scheduled("myhub")
	if len(sched) != 2 || sched[0].Audience != "news" || sched[1].Audience != "vip" || !sched[1].ScheduledTime.Equal(due) ||
		sched[0].Format != "apple" || sched[0].Payload != `{"aps":{"alert":"later"}}` || sched[0].ID == "" {
		t.Errorf("scheduled = %+v", sched)
	}
}

func TestInboxConnectionStrings(t *testing.T) {
	s := newTest(Options{})
	src := s.Inbox()
	// Without an endpoint the page's own host is used.
	req := httptest.NewRequest("GET", "http://127.0.0.1:9999/_emulator/ui/api/hubs", nil)
	s.ServeHTTP(httptest.NewRecorder(), req)
	if got := src.ConnectionStrings()[0].Value; !strings.HasPrefix(got, "Endpoint=sb://127.0.0.1:9999/;") {
		t.Errorf("connection string from the page host: %q", got)
	}
	s.SetPublicEndpoint("sb://localhost:8443")
	got := src.ConnectionStrings()
	want := []inbox.NamedString{
		{Name: "Full access (DefaultFullSharedAccessSignature)", Value: s.ConnectionString("sb://localhost:8443/", false)},
		{Name: "Listen only (DefaultListenSharedAccessSignature)", Value: s.ConnectionString("sb://localhost:8443/", true)},
		{Name: "Namespace, hub management (RootManageSharedAccessKey)", Value: s.NamespaceConnectionString("sb://localhost:8443/")},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestInboxMounted checks the page and its API on the emulator's own
// handler, without authentication.
func TestInboxMounted(t *testing.T) {
	s := newTest(Options{})
	shopHub(t, s)
	get := func(host, path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "http://"+host+path, nil)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w
	}
	if w := get("127.0.0.1:1", "/_emulator/ui"); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "ui/" {
		t.Errorf("/_emulator/ui: %d, Location %q", w.Code, w.Header().Get("Location"))
	}
	w := get("127.0.0.1:1", "/_emulator/ui/")
	if w.Code != 200 || !strings.Contains(w.Body.String(), "<html") || w.Header().Get("Content-Security-Policy") == "" {
		t.Errorf("page: %d %q", w.Code, w.Body.String()[:min(80, w.Body.Len())])
	}
	w = get("localhost:1", "/_emulator/ui/api/hubs/myhub/devices?q=orders&limit=2")
	var page inbox.DevicePage
	if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil || w.Code != 200 || page.Total != 3 || len(page.Devices) != 2 {
		t.Errorf("devices api: %d %s (%v)", w.Code, w.Body, err)
	}
	w = get("127.0.0.1:1", "/_emulator/ui/api/hubs/myhub/match?expr="+url.QueryEscape("orders && (vip"))
	if w.Code != 400 || !strings.Contains(w.Body.String(), `"position":14`) {
		t.Errorf("match api syntax error: %d %s", w.Code, w.Body)
	}
	if w := get("evil.example:1", "/_emulator/ui/api/connection-strings"); w.Code != http.StatusForbidden || strings.Contains(w.Body.String(), DefaultFullKey) {
		t.Errorf("non-loopback host: %d %s", w.Code, w.Body)
	}
	// Neighbours of the mount point are not the page.
	if w := get("127.0.0.1:1", "/_emulator/uix"); w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), "<html") {
		t.Errorf("/_emulator/uix: %d", w.Code)
	}
}

// TestInboxEventStream reads the page's server-sent events from a real
// listener while a send happens.
func TestInboxEventStream(t *testing.T) {
	s := newTest(Options{})
	shopHub(t, s)
	srv := httptest.NewServer(s)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/_emulator/ui/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		buf := make([]byte, 64<<10)
		var pending string
		for {
			n, err := resp.Body.Read(buf)
			pending += string(buf[:n])
			for {
				line, rest, ok := strings.Cut(pending, "\n")
				if !ok {
					break
				}
				lines <- line
				pending = rest
			}
			if err != nil {
				return
			}
		}
	}()
	next := func() string {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("event stream ended")
			}
			return l
		case <-time.After(10 * time.Second):
			t.Fatal("no event")
		}
		return ""
	}
	for next() != "event: ready" {
	}
	sendTemplate(t, s, "vip", `{"title":"Live","body":"now"}`)
	for {
		l := next()
		if data, ok := strings.CutPrefix(l, "data: "); ok && data != "{}" {
			var d inbox.Delivery
			if err := json.Unmarshal([]byte(data), &d); err != nil {
				t.Fatal(err)
			}
			if d.Handle != strings.ToUpper(appleTok) || d.Audience != "vip" || !strings.Contains(d.Payload, "Live") {
				t.Errorf("event delivery = %+v", d)
			}
			return
		}
	}
}

func TestFormatFcmAlias(t *testing.T) {
	s := newTest(Options{})
	createReg(t, s, gcmNative("t", "legacy-1"))
	mustStatus(t, sendReq("fcm", "t", `{"data":{"m":"x"}}`, nil).do(t, s), 201)
	mustStatus(t, sendReq("FCM", broadcast, `{"data":{"m":"y"}}`, nil).do(t, s), 201)
	ds := s.Deliveries(DeliveryFilter{Handle: "legacy-1"})
	var got []string
	for _, d := range ds {
		got = append(got, d.Platform+" "+d.Format+" "+d.Payload)
	}
	want := []string{`gcm gcm {"to":"legacy-1","data":{"m":"x"}}`, `gcm gcm {"to":"legacy-1","data":{"m":"y"}}`}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// Batch direct sends take the alias too.
	w := call{method: "POST", path: regPath("/messages/$batch?direct&api-version=2020-06"), body: "--b\r\nContent-Type: application/json\r\nContent-Disposition: inline; name=notification\r\n\r\n{\"data\":{}}\r\n" +
		"--b\r\nContent-Type: application/json\r\nContent-Disposition: inline; name=devices\r\n\r\n[\"a\",\"b\"]\r\n--b--\r\n",
		headers: map[string]string{"ServiceBusNotification-Format": "fcm", "Content-Type": "multipart/mixed; boundary=b"}}.do(t, s)
	if w.Code != 201 {
		t.Errorf("batch with fcm: %d %s", w.Code, w.Body)
	}
	// Anything else still fails.
	mustStatus(t, sendReq("fcmv2", "t", `{}`, nil).do(t, s), 400)
}

// BenchmarkInboxDevices pages and searches a hub of 100,000 registrations
// as the inbox page does.
func BenchmarkInboxDevices(b *testing.B) {
	s := newTest(Options{})
	h := fillHub(b, 100_000)
	s.hubs["bench"] = h
	src := s.Inbox()
	for _, bc := range []struct {
		name string
		q    inbox.DeviceQuery
	}{
		{"first-page", inbox.DeviceQuery{Limit: 50}},
		{"last-page", inbox.DeviceQuery{Offset: 99_950, Limit: 50}},
		{"search", inbox.DeviceQuery{Search: "g42", Limit: 50}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if p := src.Devices("bench", bc.q); p.Total == 0 {
					b.Fatal("no devices")
				}
			}
		})
	}
	b.Run("match", func(b *testing.B) {
		for b.Loop() {
			if p, err := src.Match("bench", "g7 && !even", inbox.DeviceQuery{Limit: 50}); err != nil || p.Total != 100 {
				b.Fatalf("%d, %v", p.Total, err)
			}
		}
	})
}

func ExampleServer_Inbox() {
	s := newTest(Options{})
	s.SetPublicEndpoint("sb://localhost:8443/")
	for _, c := range s.Inbox().ConnectionStrings() {
		fmt.Println(c.Name)
	}
	// Output:
	// Full access (DefaultFullSharedAccessSignature)
	// Listen only (DefaultListenSharedAccessSignature)
	// Namespace, hub management (RootManageSharedAccessKey)
}
