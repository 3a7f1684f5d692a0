package emulator

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nhkit/notificationhubs/emulator/inbox"
	"github.com/nhkit/notificationhubs/emulator/internal/push"
	"github.com/nhkit/notificationhubs/emulator/internal/push/pushtest"
)

// deliverFixture is an emulator that delivers to the stand-ins, and the
// credentials they trust.
type deliverFixture struct {
	s      *Server
	apns   *pushtest.Apns
	google *pushtest.Google
	wns    *pushtest.Wns
	adm    *pushtest.Adm
	web    *pushtest.WebPush
	logs   *syncBuffer

	apnsCred, fcmCred, wnsCred, admCred, webCred string // credential XML
	vapidPub                                     string
	secrets                                      []string // what must never show
}

// syncBuffer is a bytes.Buffer for a logger written from several
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// newDeliverFixture starts the stand-ins and an emulator delivering to
// them; edit changes its DeliverOptions, and clock, if set, drives the
// clients, the dispatcher and the stand-ins.
func newDeliverFixture(t *testing.T, clock *pushtest.Clock, edit func(*DeliverOptions)) *deliverFixture {
	t.Helper()
	f := &deliverFixture{apns: pushtest.NewApns(t), google: pushtest.NewGoogle(t), wns: pushtest.NewWns(t),
		adm: pushtest.NewAdm(t), web: pushtest.NewWebPush(t), logs: &syncBuffer{}}
	po := pushtest.Options(t, f.apns, f.google, f.wns, f.adm, f.web)
	o := &DeliverOptions{Endpoints: map[string]string{"apns": po.Endpoints.Apns, "fcmv1": po.Endpoints.Fcm,
		"fcmv1-token": po.Endpoints.GoogleToken, "wns": po.Endpoints.Wns, "wns-token": po.Endpoints.WnsToken, "adm": po.Endpoints.Adm,
		"adm-token": po.Endpoints.AdmToken, "browser": po.Endpoints.Browser}, RootCAs: po.RootCAs, DialContext: po.DialContext, Backoff: 10 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(f.logs, nil))}
	if edit != nil {
		edit(o)
	}
	f.s = newTest(Options{Deliver: o, Logger: slog.New(slog.NewTextHandler(f.logs, nil))})
	if clock != nil {
		f.s.dlv.clock = clock
		for _, b := range []interface{ SetNow(func() time.Time) }{f.apns, f.google, f.wns, f.adm, f.web} {
			b.SetNow(clock.Now)
		}
	}
	t.Cleanup(func() { _ = f.s.Close() })

	p8, keyID, teamID := f.apns.NewKey(t, "com.example.app", "com.example.other")
	f.apnsCred = credXML("ApnsCredential", "Endpoint", "https://api.development.push.apple.com:443/3/device", "Token", string(p8),
		"KeyId", keyID, "AppId", teamID, "AppName", "com.example.app")
	var sa struct {
		ProjectID   string `json:"project_id"`
		PrivateKey  string `json:"private_key"`
		ClientEmail string `json:"client_email"`
	}
	if err := json.Unmarshal(f.google.NewServiceAccount(t, "proj-1"), &sa); err != nil {
		t.Fatal(err)
	}
	f.fcmCred = credXML("FcmV1Credential", "PrivateKey", sa.PrivateKey, "ProjectId", sa.ProjectID, "ClientEmail", sa.ClientEmail)
	sid, wnsSecret := f.wns.NewApp()
	f.wnsCred = credXML("WnsCredential", "PackageSid", sid, "SecretKey", wnsSecret)
	admID, admSecret := f.adm.NewSecurityProfile()
	f.admCred = credXML("AdmCredential", "ClientId", admID, "ClientSecret", admSecret)
	var vapidPriv string
	f.vapidPub, vapidPriv = pushtest.NewVapidKeys()
	f.webCred = credXML("BrowserCredential", "Subject", "mailto:ops@example.com", "VapidPublicKey", f.vapidPub, "VapidPrivateKey", vapidPriv)
	pemBody := func(p string) string { // a line of the key's base64 body
		return strings.Split(p, "\n")[2]
	}
	f.secrets = []string{pemBody(string(p8)), pemBody(sa.PrivateKey), wnsSecret, admSecret, vapidPriv,
		"ya29.pushtest-", "Atc|pushtest-", "EgAcAQMAAAAALYAAY", "eyJ"}
	return f
}

// hub creates hub with the credentials (in the service's element order)
// and returns its full key.
func (f *deliverFixture) hub(t *testing.T, name string, creds ...string) string {
	t.Helper()
	d := readHubEntry(t, mustStatus(t, nsCall(t, f.s, "PUT", "/"+name+v1, hubDesc(strings.Join(creds, "")), nil), 201))
	return ruleKey(d, FullRuleName)
}

// install puts an installation on hub.
func (f *deliverFixture) install(t *testing.T, hub, key, id, platform, channel string, tags ...string) {
	t.Helper()
	tj, _ := json.Marshal(tags)
	ch, _ := json.Marshal(channel)
	if platform == "browser" {
		ch = []byte(channel) // the subscription as JSON
	}
	body := fmt.Sprintf(`{"installationId":%q,"platform":%q,"pushChannel":%s,"tags":%s}`, id, platform, ch, tj)
	mustStatus(t, hubCall(t, f.s, hub, "PUT", "/installations/"+id+v1, body, FullRuleName, key,
		map[string]string{"Content-Type": "application/json"}), 200)
}

// subscribe makes a browser subscription for the fixture's VAPID key and
// returns its endpoint and pushChannel JSON.
func (f *deliverFixture) subscribe(t *testing.T) (endpoint, channel string) {
	sub := f.web.Subscribe(t, f.vapidPub)
	b, _ := json.Marshal(map[string]string{"endpoint": sub.Endpoint, "p256dh": sub.P256DH, "auth": sub.Auth})
	return sub.Endpoint, string(b)
}

// send posts a send to hub and returns its notification id.
func (f *deliverFixture) send(t *testing.T, hub, key, format, tags, body string, headers map[string]string) string {
	t.Helper()
	h := map[string]string{"ServiceBusNotification-Format": format, "Content-Type": "application/json"}
	if tags != broadcast {
		h["ServiceBusNotification-Tags"] = tags
	}
	for k, v := range headers {
		h[k] = v
	}
	w := hubCall(t, f.s, hub, "POST", "/messages"+v1, body, FullRuleName, key, h)
	mustStatus(t, w, 201)
	loc := w.Header().Get("Location")
	i := strings.Index(loc, "/messages/")
	id, _, _ := strings.Cut(loc[i+len("/messages/"):], "?")
	return id
}

// settled waits until the send nid has no target pending and returns its
// record.
func (f *deliverFixture) settled(t *testing.T, nid string) SendRecord {
	t.Helper()
	var rec SendRecord
	waitUntil(t, "send "+nid+" to settle", func() bool {
		for _, r := range f.s.Sends("") {
			if r.NotificationID == nid {
				rec = r
				return r.Pending == 0
			}
		}
		return false
	})
	return rec
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

const apnsTok2 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestDeliverTokensReusedAndRenewed sends through the emulator with a fake
// clock: every access token and provider token is fetched or signed once
// for all sends within its lifetime, by one client shared by the hubs
// with the same credential, and again once the lifetime is over.
func TestDeliverTokensReusedAndRenewed(t *testing.T) {
	clock := pushtest.NewClock(time.Now())
	f := newDeliverFixture(t, clock, nil)
	keyA := f.hub(t, "hub-a", f.apnsCred, f.wnsCred, f.admCred, f.fcmCred)
	// hub-b has the same credentials, the APNs key for another app.
	otherApp := strings.Replace(f.apnsCred, "<Value>com.example.app</Value>", "<Value>com.example.other</Value>", 1)
	keyB := f.hub(t, "hub-b", otherApp, f.wnsCred, f.admCred, f.fcmCred)
	for i, hk := range []struct{ hub, key string }{{"hub-a", keyA}, {"hub-b", keyB}} {
		for j := range 3 {
			tag := fmt.Sprintf("d%d", j)
			f.install(t, hk.hub, hk.key, fmt.Sprintf("a%d%d", i, j), "apns", fmt.Sprintf("%063x%d", i, j), tag)
			f.install(t, hk.hub, hk.key, fmt.Sprintf("f%d%d", i, j), "fcmv1", fmt.Sprintf("fcm-%d-%d", i, j), tag)
			f.install(t, hk.hub, hk.key, fmt.Sprintf("w%d%d", i, j), "wns", f.wns.ChannelURI(), tag)
			f.install(t, hk.hub, hk.key, fmt.Sprintf("m%d%d", i, j), "adm", fmt.Sprintf("adm-%d-%d", i, j), tag)
		}
	}
	round := func(formats ...string) {
		t.Helper()
		for _, hk := range []struct{ hub, key string }{{"hub-a", keyA}, {"hub-b", keyB}} {
			for _, s := range []struct{ format, body string }{
				{"apple", `{"aps":{"alert":"hi"}}`}, {"fcmv1", `{"message":{"data":{"k":"v"}}}`},
				{"windows", `<toast><visual><binding template="ToastGeneric"><text>hi</text></binding></visual></toast>`},
				{"adm", `{"data":{"k":"v"}}`},
			} {
				if len(formats) > 0 && !slices.Contains(formats, s.format) {
					continue
				}
				h := map[string]string{}
				if s.format == "windows" {
					h["X-WNS-Type"] = "wns/toast"
				}
				rec := f.settled(t, f.send(t, hk.hub, hk.key, s.format, broadcast, s.body, h))
				if rec.Success != 3 || rec.Failed != 0 {
					t.Fatalf("%s %s: %+v\n%+v", hk.hub, s.format, rec, f.s.Deliveries(DeliveryFilter{NotificationID: rec.NotificationID}))
				}
			}
		}
	}
	round()
	want := func(apns, google, wns, adm int) {
		t.Helper()
		got := [4]int{f.apns.TokensSeen(), f.google.TokenRequests(), f.wns.TokenRequests(), f.adm.TokenRequests()}
		if got != [4]int{apns, google, wns, adm} {
			t.Errorf("provider tokens signed, Google, WNS and ADM token requests: %v, want %v", got, [4]int{apns, google, wns, adm})
		}
	}
	want(1, 1, 1, 1)
	if n := f.apns.Connections(); n != 1 {
		t.Errorf("%d connections to APNs for two hubs with one key, want 1", n)
	}
	// Within their lifetimes (APNs 50 min, Google and ADM 1 h less 5 min,
	// WNS 24 h less 5 min) nothing is renewed.
	clock.Advance(49 * time.Minute)
	round()
	want(1, 1, 1, 1)
	// Past them, each is renewed once.
	clock.Advance(7 * time.Minute)
	round()
	want(2, 2, 1, 2)
	// WNS tokens last a day. (Google's token endpoint judges assertions by
	// the stand-in's clock, which oauth2 signs by the real one: a day
	// apart, it refuses them.)
	clock.Advance(24 * time.Hour)
	round("windows")
	want(2, 2, 2, 2)
}

// TestDeliverRetryAfter follows a throttled APNs push on a fake clock: it
// is retried no sooner than its Retry-After, and then delivered.
func TestDeliverRetryAfter(t *testing.T) {
	clock := pushtest.NewClock(time.Now())
	f := newDeliverFixture(t, clock, nil)
	key := f.hub(t, "h", f.apnsCred)
	f.install(t, "h", key, "i1", "apns", apnsTok2, "t")
	f.apns.SetFault(strings.ToUpper(apnsTok2), pushtest.FaultThrottled) // the stand-in's default Retry-After is 7 s
	nid := f.send(t, "h", key, "apple", "t", `{"aps":{"alert":"hi"}}`, nil)
	if !clock.WaitForWaiters(1) {
		t.Fatal("no retry was scheduled after the throttled answer")
	}
	f.apns.SetFault(strings.ToUpper(apnsTok2), pushtest.FaultNone)
	clock.Advance(6 * time.Second)
	if clock.Waiters() != 1 || len(f.apns.Received()) != 1 {
		t.Fatalf("after 6 s of a Retry-After of 7 s: %d timers wait, %d requests made", clock.Waiters(), len(f.apns.Received()))
	}
	clock.Advance(time.Second)
	rec := f.settled(t, nid)
	if rec.Success != 1 || rec.State != "Completed" || rec.Outcomes["apple"]["Success"] != 1 {
		t.Fatalf("send record %+v", rec)
	}
	ds := f.s.Deliveries(DeliveryFilter{NotificationID: nid})
	if len(ds) != 1 || len(ds[0].Attempts) != 2 {
		t.Fatalf("deliveries %+v", ds)
	}
	a := ds[0].Attempts
	if a[0].Status != "throttled" || a[0].RetryAfter != 7 || a[0].HTTPStatus != 429 || a[0].Reason != "TooManyRequests" ||
		a[1].Status != "delivered" || a[1].PnsID == "" || !a[1].Final || a[1].Time.Sub(a[0].Time) < 7*time.Second {
		t.Errorf("attempts %+v", a)
	}
}

// blockingDial dials only after release is closed.
func blockingDial(release <-chan struct{}, dial func(context.Context, string, string) (net.Conn, error)) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		select {
		case <-release:
			return dial(ctx, network, addr)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// TestDeliverAnswersAtOnceAndShowsAFullQueue sends while the push service
// cannot be reached yet: the send is answered at once with every target
// Pending (telemetry Processing); the targets beyond the queue end as
// Dropped, in the delivery records, telemetry, the inbox and a log line;
// the others are delivered once the push service answers.
func TestDeliverAnswersAtOnceAndShowsAFullQueue(t *testing.T) {
	release := make(chan struct{})
	f := newDeliverFixture(t, nil, func(o *DeliverOptions) {
		o.DialContext = blockingDial(release, o.DialContext)
		o.QueueSize, o.Concurrency = 2, 1
	})
	key := f.hub(t, "h", f.apnsCred)
	for i := range 5 {
		f.install(t, "h", key, fmt.Sprintf("i%d", i), "apns", fmt.Sprintf("%063x%d", 7, i), "t")
	}
	nid := f.send(t, "h", key, "apple", "t", `{"aps":{"alert":"hi"}}`, nil)
	// Answered while the first push waits for its connection.
	var rec SendRecord
	waitUntil(t, "the full queue's drops", func() bool {
		for _, r := range f.s.Sends("h") {
			rec = r
		}
		return rec.Outcomes["apple"]["Dropped"] == 2
	})
	if rec.State != "Processing" || rec.Pending != 3 || rec.Failed != 2 || rec.Success != 0 {
		t.Errorf("while delivering: %+v", rec)
	}
	w := hubCall(t, f.s, "h", "GET", "/messages/"+nid+v1, "", FullRuleName, key, nil)
	if body := mustStatus(t, w, 200); !strings.Contains(body, "<State>Processing</State>") || !strings.Contains(body, "<Name>Dropped</Name><Count>2</Count>") {
		t.Errorf("telemetry while delivering: %s", body)
	}
	outcomes := map[string]int{}
	for _, d := range f.s.Deliveries(DeliveryFilter{NotificationID: nid}) {
		outcomes[d.Outcome]++
		if d.Outcome == "Dropped" && (len(d.Attempts) != 1 || d.Attempts[0].Status != "queue-full") {
			t.Errorf("a dropped delivery: %+v", d)
		}
	}
	if outcomes["Pending"] != 3 || outcomes["Dropped"] != 2 {
		t.Errorf("delivery outcomes %v, want 3 Pending and 2 Dropped", outcomes)
	}
	page := f.s.Inbox().Deliveries(inbox.DeliveryQuery{Hub: "h", Limit: 100})
	dropped := 0
	for _, d := range page.Deliveries {
		if d.Outcome == "Dropped" && len(d.Attempts) == 1 {
			dropped++
		}
	}
	if dropped != 2 {
		t.Errorf("the inbox shows %d dropped deliveries, want 2", dropped)
	}
	if rows := f.s.Inbox().Telemetry("h"); len(rows) != 1 || !strings.Contains(fmt.Sprint(rows[0].Outcomes), "Dropped 2") {
		t.Errorf("inbox telemetry %+v", rows)
	}
	// The drops may reach the send record in one update or in two: a log
	// line each, whose counts add up.
	loggedDrops := 0
	for _, line := range strings.Split(f.logs.String(), "\n") {
		i := strings.Index(line, " dropped=")
		if i >= 0 && strings.Contains(line, "queue full") && strings.Contains(line, nid) {
			var n int
			if _, err := fmt.Sscanf(line[i+1:], "dropped=%d", &n); err == nil {
				loggedDrops += n
			}
		}
	}
	if loggedDrops != 2 {
		t.Errorf("the log says %d dropped, want 2: %s", loggedDrops, f.logs.String())
	}
	close(release)
	rec = f.settled(t, nid)
	if rec.State != "Completed" || rec.Success != 3 || rec.Failed != 2 {
		t.Errorf("after delivering: %+v", rec)
	}
}

// TestNothingLeavesWithoutDeliver sends to hubs with a credential for
// every platform, to handles at the stand-ins, with the dialer of every
// push client replaced by one that fails the test: without
// Options.Deliver no connection is made and the deliveries are simulated.
// With it, the same sends reach the stand-ins.
func TestNothingLeavesWithoutDeliver(t *testing.T) {
	f := newDeliverFixture(t, nil, nil)
	var dials atomic.Int64
	guard, orig := f.s.dlv.pushOpts.DialContext, f.s.opts.Deliver
	old := netDial
	netDial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return guard(ctx, network, addr)
	}
	t.Cleanup(func() { netDial = old })

	for _, deliver := range []bool{false, true} {
		var o *DeliverOptions
		if deliver {
			o = &DeliverOptions{Endpoints: orig.Endpoints, RootCAs: orig.RootCAs} // dials with netDial
		}
		s := newTest(Options{Deliver: o})
		f.s = s
		key := f.hub(t, "h", f.apnsCred, f.wnsCred, f.admCred, f.fcmCred, f.webCred)
		endpoint, sub := f.subscribe(t)
		f.install(t, "h", key, "a", "apns", apnsTok2, "t")
		f.install(t, "h", key, "f", "fcmv1", "fcm-token-1", "t")
		f.install(t, "h", key, "w", "wns", f.wns.ChannelURI(), "t")
		f.install(t, "h", key, "m", "adm", "adm-1", "t")
		f.install(t, "h", key, "b", "browser", sub, "t")
		var nids []string
		for _, x := range []struct{ format, body string }{
			{"apple", `{"aps":{"alert":"hi"}}`}, {"fcmv1", `{"message":{"data":{"k":"v"}}}`},
			{"windows", `<toast/>`}, {"adm", `{"data":{"k":"v"}}`}, {"browser", `{"title":"hi"}`},
		} {
			nids = append(nids, f.send(t, "h", key, x.format, "t", x.body, map[string]string{"X-WNS-Type": "wns/toast"}))
		}
		for _, nid := range nids {
			if rec := f.settled(t, nid); rec.Success != 1 {
				t.Errorf("deliver=%v: send %+v", deliver, rec)
			}
		}
		conns := f.apns.Connections() + f.google.Connections() + f.wns.Connections() + f.adm.Connections() + f.web.Connections()
		if !deliver && (dials.Load() != 0 || conns != 0) {
			t.Fatalf("without Deliver: %d dials, %d connections to the stand-ins", dials.Load(), conns)
		}
		if deliver && (dials.Load() == 0 || len(f.web.Received()) != 1 || f.web.Received()[0].Handle != endpoint) {
			t.Fatalf("with Deliver: %d dials; the browser stand-in received %+v", dials.Load(), f.web.Received())
		}
		_ = s.Close()
	}
}

// TestDeliverTestSendWaitsForOutcomes: a test send answers with what the
// push services said.
func TestDeliverTestSendWaitsForOutcomes(t *testing.T) {
	f := newDeliverFixture(t, nil, nil)
	key := f.hub(t, "h", f.fcmCred)
	f.install(t, "h", key, "ok", "fcmv1", "fcm-ok", "t")
	f.install(t, "h", key, "gone", "fcmv1", "fcm-gone", "t")
	f.google.SetFault("fcm-gone", pushtest.FaultGone)
	w := hubCall(t, f.s, "h", "POST", "/messages"+v1+"&test", `{"message":{"data":{"k":"v"}}}`, FullRuleName, key,
		map[string]string{"ServiceBusNotification-Format": "fcmv1", "ServiceBusNotification-Tags": "t", "Content-Type": "application/json"})
	body := mustStatus(t, w, 201)
	for _, want := range []string{"<Success>1</Success>", "<Failure>1</Failure>", outcomeSentText,
		"<PnsHandle>fcm-gone</PnsHandle><RegistrationId>", "rejected the notification: ExpiredChannel"} {
		if !strings.Contains(body, want) {
			t.Errorf("test send outcome lacks %q: %s", want, body)
		}
	}
}

// TestDeliverRefusesForeignChannels: without the wns and browser endpoint
// overrides, a WNS channel URI outside notify.windows.com and a browser
// subscription on loopback are not posted to (the WNS app's token would go
// with the first; the second would reach a service of this machine): each
// ends as BadChannel, with no token fetched and nothing received.
func TestDeliverRefusesForeignChannels(t *testing.T) {
	f := newDeliverFixture(t, nil, func(o *DeliverOptions) {
		delete(o.Endpoints, "wns")
		delete(o.Endpoints, "browser")
	})
	key := f.hub(t, "h", f.wnsCred, f.webCred)
	f.install(t, "h", key, "w", "wns", f.wns.ChannelURI(), "t")
	_, sub := f.subscribe(t)
	f.install(t, "h", key, "b", "browser", sub, "t")
	for _, x := range []struct{ format, body, platform string }{{"windows", "<toast/>", "wns"}, {"browser", `{"title":"hi"}`, "browser"}} {
		nid := f.send(t, "h", key, x.format, "t", x.body, map[string]string{"X-WNS-Type": "wns/toast"})
		rec := f.settled(t, nid)
		ds := f.s.Deliveries(DeliveryFilter{NotificationID: nid})
		if rec.Failed != 1 || len(ds) != 1 || ds[0].Outcome != "BadChannel" || len(ds[0].Attempts) != 1 {
			t.Errorf("%s: send %+v, deliveries %+v; want one BadChannel after one attempt", x.platform, rec, ds)
		}
	}
	if n := f.wns.TokenRequests(); n != 0 || len(f.wns.Received()) != 0 || len(f.web.Received()) != 0 {
		t.Errorf("WNS token requests %d, WNS received %d, browser received %d; want none", n, len(f.wns.Received()), len(f.web.Received()))
	}
}

// TestDeliverNothingStartsAfterClose: a send that got past its checks
// before Close (a scheduled send firing, a request in flight) and starts
// its delivery afterwards starts no dispatcher, whose workers nobody
// would stop; its targets end as canceled. Run with -race, the send
// racing Close also shows that close reads the dispatcher safely.
func TestDeliverNothingStartsAfterClose(t *testing.T) {
	f := newDeliverFixture(t, nil, nil)
	batch := func() *deliverBatch {
		ref := &deliverRef{hubName: "h", nid: "n", p: pApple}
		n := &push.Notification{Handle: apnsTok2, Payload: []byte(`{}`)}
		return &deliverBatch{jobs: []push.Job{{Sender: push.UnsupportedSender(push.ServiceApns), Notification: n, Ref: ref}}}
	}
	started := make(chan struct{})
	go func() {
		defer close(started)
		f.s.startDelivery(1, batch())
	}()
	_ = f.s.Close()
	<-started
	f.s.dlv.take() // the racing send's result, whichever it was

	f.s.startDelivery(2, batch())
	if got := f.s.dlv.take(); len(got) != 1 || got[0].r.Status != push.StatusCanceled || !got[0].r.Final || got[0].ref.sendSeq != 2 {
		t.Errorf("results after close %+v, want one final canceled result", got)
	}
}

// TestDeliverShutDownServices: sends to FCM legacy and MPNS end as
// PnsUnavailable with the reason, and nothing is sent.
func TestDeliverShutDownServices(t *testing.T) {
	f := newDeliverFixture(t, nil, nil)
	key := f.hub(t, "h", credXML("GcmCredential", "GoogleApiKey", "legacy-key"))
	mustStatus(t, hubCall(t, f.s, "h", "POST", "/registrations"+v1, gcmNative("t", "gcm-1"), FullRuleName, key, nil), 200)
	nid := f.send(t, "h", key, "gcm", "t", `{"data":{"k":"v"}}`, nil)
	rec := f.settled(t, nid)
	ds := f.s.Deliveries(DeliveryFilter{NotificationID: nid})
	if rec.Outcomes["gcm"]["PnsUnavailable"] != 1 || len(ds) != 1 || len(ds[0].Attempts) != 1 ||
		ds[0].Attempts[0].Status != "unsupported" || !strings.Contains(ds[0].Attempts[0].Reason, "shut down") {
		t.Errorf("gcm: %+v, %+v", rec, ds)
	}
}

// TestDeliverDirectAndTemplate delivers a batch direct send and a template
// send, checks what the push services received, and that nothing secret
// shows in the records, the inbox, the error details, the feedback or the
// logs, refused credentials included.
func TestDeliverDirectAndTemplate(t *testing.T) {
	f := newDeliverFixture(t, nil, nil)
	key := f.hub(t, "h", f.apnsCred, f.admCred, f.webCred)
	// Direct batch to two ADM devices, one gone.
	f.adm.SetFault("adm-gone", pushtest.FaultGone)
	w := hubCall(t, f.s, "h", "POST", "/messages/$batch"+v1+"&direct", "--b\r\nContent-Type: application/json\r\nContent-Disposition: inline; name=notification\r\n\r\n"+
		`{"data":{"k":"batch"}}`+"\r\n--b\r\nContent-Type: application/json\r\nContent-Disposition: inline; name=devices\r\n\r\n"+`["adm-1","adm-gone"]`+"\r\n--b--\r\n",
		FullRuleName, key, map[string]string{"ServiceBusNotification-Format": "adm", "Content-Type": "multipart/mixed; boundary=b"})
	mustStatus(t, w, 201)
	loc := w.Header().Get("Location")
	nid := loc[strings.Index(loc, "/messages/")+len("/messages/") : strings.Index(loc, "?")]
	rec := f.settled(t, nid)
	if rec.Success != 1 || rec.Outcomes["adm"]["ExpiredChannel"] != 1 {
		t.Errorf("direct batch: %+v", rec)
	}
	if got := f.adm.Received(); len(got) != 2 || string(got[0].Body) != `{"data":{"k":"batch"}}` {
		t.Errorf("ADM received %+v", got)
	}
	// A template installation, rendered for the browser.
	endpoint, sub := f.subscribe(t)
	mustStatus(t, hubCall(t, f.s, "h", "PUT", "/installations/web"+v1,
		`{"installationId":"web","platform":"browser","pushChannel":`+sub+`,"templates":{"main":{"body":"{\"title\":\"$(title)\"}","tags":["tmpl"]}}}`,
		FullRuleName, key, map[string]string{"Content-Type": "application/json"}), 200)
	nid = f.send(t, "h", key, "template", "tmpl", `{"title":"Rendered"}`, nil)
	if rec := f.settled(t, nid); rec.Success != 1 {
		t.Errorf("template send: %+v", rec)
	}
	if got := f.web.Received(); len(got) != 1 || got[0].Handle != endpoint || string(got[0].Body) != `{"title":"Rendered"}` {
		t.Errorf("the browser decrypted %+v", got)
	}
	// A hub whose APNs key the push service refuses.
	bad := strings.Replace(f.apnsCred, "<Name>KeyId</Name><Value>", "<Name>KeyId</Name><Value>X", 1)
	key2 := f.hub(t, "h2", bad)
	f.install(t, "h2", key2, "a", "apns", apnsTok2, "t")
	nid = f.send(t, "h2", key2, "apple", "t", `{"aps":{"alert":"hi"}}`, nil)
	if rec := f.settled(t, nid); rec.Outcomes["apple"]["InvalidCredentials"] != 1 {
		t.Errorf("refused key: %+v", rec)
	}

	var seen strings.Builder
	for _, path := range []string{"/_emulator/deliveries", "/_emulator/sends", "/_emulator/hubs", "/_emulator/ui/api/deliveries?limit=100"} {
		seen.WriteString(mustStatus(t, control(f.s, "GET", path, ""), 200))
	}
	for _, c := range []string{errorContainer("h"), errorContainer("h2"), feedbackContainer("h")} {
		l, _ := f.s.blobs.list(c, "")
		for _, e := range l {
			seen.Write(e.obj.Data)
		}
	}
	seen.WriteString(f.logs.String())
	all := seen.String()
	if !strings.Contains(all, "InvalidProviderToken") || !strings.Contains(all, "adm-gone") {
		t.Fatalf("the records lack what the test expects to search: %.2000s", all)
	}
	for _, secret := range f.secrets {
		if strings.Contains(all, secret) {
			t.Errorf("%q shows in the records, inbox, blobs or logs", secret)
		}
	}
}

// TestDeliverAnswersPersist: with DataDir, what the push services answered
// is restored with the records, and deliveries still waiting when the
// emulator closes end as Dropped (canceled), not Pending for ever.
func TestDeliverAnswersPersist(t *testing.T) {
	old := deliverCloseGrace
	deliverCloseGrace = 50 * time.Millisecond
	t.Cleanup(func() { deliverCloseGrace = old })
	dir := t.TempDir()
	release := make(chan struct{})
	var blockIt atomic.Bool
	f := newDeliverFixture(t, nil, func(o *DeliverOptions) {
		dial := o.DialContext
		o.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			if blockIt.Load() {
				return blockingDial(release, dial)(ctx, network, addr)
			}
			return dial(ctx, network, addr)
		}
	})
	opts := f.s.opts
	opts.DataDir = dir
	_ = f.s.Close()
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	key := f.hub(t, "h", f.apnsCred, f.wnsCred)
	f.install(t, "h", key, "ok", "apns", apnsTok2, "ok")
	f.install(t, "h", key, "gone", "apns", strings.Repeat("ab", 32), "gone")
	f.apns.SetFault(strings.ToUpper(strings.Repeat("ab", 32)), pushtest.FaultGone)
	okID := f.send(t, "h", key, "apple", "ok", `{"aps":{"alert":"hi"}}`, nil)
	goneID := f.send(t, "h", key, "apple", "gone", `{"aps":{"alert":"hi"}}`, nil)
	f.settled(t, okID)
	f.settled(t, goneID)
	// A WNS push that waits for its connection when the emulator closes.
	blockIt.Store(true)
	f.install(t, "h", key, "w", "wns", f.wns.ChannelURI(), "w")
	waitID := f.send(t, "h", key, "windows", "w", `<toast/>`, map[string]string{"X-WNS-Type": "wns/toast"})
	before := f.s.Deliveries(DeliveryFilter{Hub: "h"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	close(release)

	opts.Deliver = nil
	s2, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	after := s2.Deliveries(DeliveryFilter{Hub: "h"})
	if len(after) != 3 || len(before) != 3 {
		t.Fatalf("deliveries before %d, after %d", len(before), len(after))
	}
	for i, d := range after {
		b := before[i]
		if d.NotificationID == waitID {
			if d.Outcome != "Dropped" || len(d.Attempts) != 1 || d.Attempts[0].Status != "canceled" {
				t.Errorf("the delivery waiting at Close: %+v", d)
			}
			continue
		}
		if d.Outcome != b.Outcome || len(d.Attempts) != 1 || d.Attempts[0].PnsID != b.Attempts[0].PnsID || d.Attempts[0].PnsID == "" {
			t.Errorf("restored %+v, want %+v", d, b)
		}
	}
	states := map[string]string{}
	for _, r := range s2.Sends("h") {
		states[r.NotificationID] = fmt.Sprintf("%s %d/%d %v", r.State, r.Success, r.Failed, r.Outcomes)
	}
	want := map[string]string{okID: "Completed 1/0 map[apple:map[Success:1]]", goneID: "Completed 0/1 map[apple:map[ExpiredChannel:1]]",
		waitID: "Completed 0/1 map[windows:map[Dropped:1]]"}
	for id, w := range want {
		if states[id] != w {
			t.Errorf("send %s restored as %q, want %q", id, states[id], w)
		}
	}
}

// TestDeliverApnsCertificate delivers with a hub's APNs push certificate
// (PKCS#12, base64, as the service stores it): the stand-in checks the
// client certificate it issued and the topic from its subject.
func TestDeliverApnsCertificate(t *testing.T) {
	f := newDeliverFixture(t, nil, nil)
	p12 := f.apns.NewCertificate(t, "com.example.cert", "p12-password")
	cred := credXML("ApnsCredential", "Endpoint", "gateway.sandbox.push.apple.com", "ApnsCertificate", base64.StdEncoding.EncodeToString(p12),
		"CertificateKey", "p12-password")
	key := f.hub(t, "h", cred)
	f.install(t, "h", key, "a", "apns", apnsTok2, "t")
	nid := f.send(t, "h", key, "apple", "t", `{"aps":{"alert":"hi"}}`, map[string]string{"apns-push-type": "background", "apns-priority": "5"})
	if rec := f.settled(t, nid); rec.Success != 1 {
		t.Fatalf("send %+v; deliveries %+v", rec, f.s.Deliveries(DeliveryFilter{NotificationID: nid}))
	}
	got := f.apns.Received()
	if len(got) != 1 || got[0].Header.Get("apns-topic") != "com.example.cert" || got[0].Header.Get("apns-push-type") != "background" ||
		got[0].Header.Get("apns-priority") != "5" || got[0].Header.Get("authorization") != "" || got[0].Proto != "HTTP/2.0" {
		t.Errorf("APNs received %+v", got)
	}
	l := f.logs.String()
	if strings.Contains(l, "p12-password") || strings.Contains(l, base64.StdEncoding.EncodeToString(p12)[:40]) {
		t.Errorf("the certificate or its password in the log: %s", l)
	}
}
