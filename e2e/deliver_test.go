package e2e

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/chromedp/chromedp"

	nh "github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/admin"
	"github.com/nhkit/notificationhubs/emulator"
	"github.com/nhkit/notificationhubs/emulator/emulatortest"
	"github.com/nhkit/notificationhubs/emulator/inbox"
	"github.com/nhkit/notificationhubs/internal/browsertest"
	"github.com/nhkit/notificationhubs/internal/pnscred/pnscredtest"
)

// deliverPlatform is one push service as the end-to-end delivery test
// drives it: the hub credential, a device the stand-in accepts, how the
// SDK registers it, and a notification for it.
type deliverPlatform struct {
	name    string // installation platform: apns, fcmv1, wns, adm, browser
	counts  string // telemetry's outcome-count key
	format  string // delivery records' platform
	install bool   // an installation (else a registration)
	payload string
	send    func(payload []byte) nh.Notification
	// throttled is the outcome of a 429 (WNS throttles with 406).
	throttled string
}

// deliverEnv is one emulator that delivers to the stand-ins, with a hub
// whose credentials the stand-ins trust and one whose credentials they
// do not know.
type deliverEnv struct {
	ps        *emulatortest.PushServices
	srv       *emulatortest.Server
	good, bad *nh.Client
	// vapidGood is the good hub's VAPID public key, for which the
	// browser subscriptions are made; the refused hub has another.
	vapidGood string
}

const (
	goodHub = "delivers"
	badHub  = "refused"
)

func newDeliverEnv(t *testing.T) *deliverEnv {
	t.Helper()
	ps := emulatortest.NewPushServices(t)
	ps.SetRetryAfter("1")
	opts := ps.DeliverOptions()
	opts.MaxAttempts = 3
	opts.Backoff = 20 * time.Millisecond
	srv := emulatortest.NewServerWithOptions(t, emulator.Options{Deliver: opts})
	env := &deliverEnv{ps: ps, srv: srv}
	ac, err := admin.NewClientFromConnectionString(srv.NamespaceConnectionString,
		&admin.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: srv.Client}})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(name string, props *admin.HubProperties) *nh.Client {
		resp, err := ac.CreateHub(testCtx(t), name, &admin.CreateHubOptions{Properties: props})
		if err != nil {
			t.Fatalf("CreateHub %s: %v", name, err)
		}
		rule, _ := resp.AuthorizationRule(emulator.FullRuleName)
		c, err := nh.NewClientFromConnectionString(ac.ConnectionString(rule), name,
			&nh.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: srv.Client}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	must := func(v any, err error) any {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	// Credentials the stand-ins trust.
	p8, keyID, teamID := ps.NewApnsKey("com.example.app")
	sid, wnsSecret := ps.NewWnsApp()
	admID, admSecret := ps.NewAdmSecurityProfile()
	var vapidPriv string
	env.vapidGood, vapidPriv = ps.NewVapidKeys()
	env.good = mk(goodHub, &admin.HubProperties{
		ApnsCredential:    must(admin.NewApnsTokenCredential(keyID, teamID, "com.example.app", p8, false)).(*admin.ApnsTokenCredential),
		FcmV1Credential:   must(admin.NewFcmV1CredentialFromJSON(ps.NewServiceAccount("proj-good"))).(*admin.FcmV1Credential),
		WnsCredential:     must(admin.NewWnsCredential(sid, wnsSecret)).(*admin.WnsCredential),
		AdmCredential:     must(admin.NewAdmCredential(admID, admSecret)).(*admin.AdmCredential),
		BrowserCredential: must(admin.NewBrowserCredential("mailto:ops@example.com", env.vapidGood, vapidPriv)).(*admin.BrowserCredential),
	})

	// Credentials of the same shape that the stand-ins never issued.
	strange := pnscredtest.P8()
	other := emulatortest.NewPushServices(t)
	otherPub, otherPriv := other.NewVapidKeys()
	otherSA := other.NewServiceAccount("proj-bad")
	env.bad = mk(badHub, &admin.HubProperties{
		ApnsCredential:    must(admin.NewApnsTokenCredential("KEY0000000", "TEAM000000", "com.example.app", strange, false)).(*admin.ApnsTokenCredential),
		FcmV1Credential:   must(admin.NewFcmV1CredentialFromJSON(otherSA)).(*admin.FcmV1Credential),
		WnsCredential:     must(admin.NewWnsCredential("ms-app://s-1-15-2-0", "not-the-secret")).(*admin.WnsCredential),
		AdmCredential:     must(admin.NewAdmCredential("amzn1.application-oa2-client.0", "not-the-secret")).(*admin.AdmCredential),
		BrowserCredential: must(admin.NewBrowserCredential("mailto:ops@example.com", otherPub, otherPriv)).(*admin.BrowserCredential),
	})
	return env
}

var deliverPlatforms = []deliverPlatform{
	{name: "apns", counts: "Apns", format: "apple", install: true,
		payload: `{"aps":{"alert":{"title":"Hello","body":"from the hub"}}}`,
		send:    func(p []byte) nh.Notification { return nh.NewAppleNotification(p, nil) }, throttled: "Throttled"},
	{name: "fcmv1", counts: "FcmV1", format: "fcmv1",
		payload: `{"message":{"notification":{"title":"Hello","body":"from the hub"}}}`,
		send:    nh.NewFcmV1Notification, throttled: "Throttled"},
	{name: "wns", counts: "Wns", format: "windows",
		payload: `<toast><visual><binding template="ToastGeneric"><text>Hello</text></binding></visual></toast>`,
		send:    func(p []byte) nh.Notification { return nh.NewWindowsNotification(p, nil) }, throttled: "ChannelThrottled"},
	{name: "adm", counts: "Adm", format: "adm", install: true,
		payload: `{"data":{"title":"Hello","body":"from the hub"}}`,
		send:    nh.NewAdmNotification, throttled: "Throttled"},
	{name: "browser", counts: "Browser", format: "browser", install: true,
		payload: `{"title":"Hello","body":"from the hub"}`,
		send:    nh.NewBrowserNotification, throttled: "Throttled"},
}

// TestDeliverEndToEnd sends with the SDK to an emulator that delivers to
// the stand-ins, for every platform and every way a push service answers:
// delivered, the handle gone, 429 with Retry-After (then delivered), 5xx
// until the attempts run out, and a credential the push service refuses.
// Each case checks the stand-in, the delivery record and its attempts,
// per-message telemetry, its error details, the feedback container, and
// the device's registration or installation.
func TestDeliverEndToEnd(t *testing.T) {
	env := newDeliverEnv(t)
	for _, p := range deliverPlatforms {
		for _, path := range []string{"delivered", "gone", "throttled", "unavailable", "refused"} {
			t.Run(p.name+"/"+path, func(t *testing.T) {
				t.Parallel()
				env.run(t, p, path)
			})
		}
	}
}

func (env *deliverEnv) device(t *testing.T, c *nh.Client, p deliverPlatform, tag, vapid string) (handle, regID string) {
	t.Helper()
	ctx := testCtx(t)
	var sub emulatortest.PushSubscription
	switch p.name {
	case "apns":
		handle = env.ps.NewApnsDeviceToken()
	case "fcmv1":
		handle = "fcm-" + tag + ":APA91b" + strings.Repeat("x", 20)
	case "wns":
		handle = env.ps.NewWnsChannelURI()
	case "adm":
		handle = "amzn1.adm-registration.v3." + tag
	case "browser":
		sub = env.ps.Subscribe(vapid)
		handle = sub.Endpoint
	}
	if p.install {
		in := nh.Installation{InstallationID: "inst-" + tag, Platform: nh.InstallationPlatform(p.name), PushChannel: handle, Tags: []string{tag}}
		if p.name == "browser" {
			in.PushChannel = ""
			in.BrowserPushChannel = &nh.BrowserPushChannel{Endpoint: sub.Endpoint, P256DH: sub.P256DH, Auth: sub.Auth}
		}
		if _, err := c.CreateOrUpdateInstallation(ctx, in, nil); err != nil {
			t.Fatalf("CreateOrUpdateInstallation: %v", err)
		}
		return handle, ""
	}
	var r nh.Registration
	switch p.name {
	case "fcmv1":
		r = nh.NewFcmV1Registration(handle, tag)
	case "wns":
		r = nh.NewWindowsRegistration(handle, tag)
	}
	resp, err := c.CreateRegistration(ctx, r, nil)
	if err != nil {
		t.Fatalf("CreateRegistration: %v", err)
	}
	return handle, resp.Registration.RegistrationID
}

func (env *deliverEnv) run(t *testing.T, p deliverPlatform, path string) {
	ctx := testCtx(t)
	c := env.good
	if path == "refused" {
		c = env.bad
	}
	tag := p.name + "-" + path
	handle, regID := env.device(t, c, p, tag, env.vapidGood)
	fault := map[string]emulatortest.PushFault{"gone": emulatortest.PushFaultGone, "throttled": emulatortest.PushFaultThrottled,
		"unavailable": emulatortest.PushFaultServerError}[path]
	env.ps.SetFault(handle, fault)

	sent, err := c.SendNotification(ctx, p.send([]byte(p.payload)), &nh.SendNotificationOptions{Tags: []string{tag}})
	if err != nil {
		t.Fatalf("SendNotification: %v", err)
	}
	if path == "throttled" {
		// Let the first attempt be throttled, then let the retry through.
		waitFor(t, "the stand-in's first answer", func() bool { return len(env.received(p.name, handle)) == 1 })
		env.ps.SetFault(handle, emulatortest.PushFaultDeliver)
	}
	d := waitDelivered(t, env.srv, sent.NotificationID)

	// What the stand-in received.
	got := env.received(p.name, handle)
	wantRequests := map[string]int{"delivered": 1, "gone": 1, "throttled": 2, "unavailable": 3, "refused": 1}[path]
	if p.name == "fcmv1" && path == "refused" || p.name == "wns" && path == "refused" || p.name == "adm" && path == "refused" {
		wantRequests = 0 // the token endpoint refused the credential first
	}
	if len(got) != wantRequests {
		t.Fatalf("the stand-in answered %d requests for the device, want %d", len(got), wantRequests)
	}
	if path == "delivered" {
		body := string(got[0].Body)
		if p.name == "fcmv1" {
			if !strings.Contains(body, `"title":"Hello"`) || !strings.Contains(body, `"token":"`+handle+`"`) {
				t.Errorf("FCM received %s", body)
			}
		} else if body != p.payload {
			t.Errorf("the stand-in received %q, want %q", body, p.payload)
		}
		if p.name == "apns" && got[0].Header.Get("apns-topic") != "com.example.app" {
			t.Errorf("apns-topic %q", got[0].Header.Get("apns-topic"))
		}
	}

	// The delivery record and its attempts.
	type want struct {
		outcome  string
		statuses []string
	}
	w := map[string]want{
		"delivered":   {"Success", []string{"delivered"}},
		"gone":        {"ExpiredChannel", []string{"handle-gone"}},
		"throttled":   {"Success", []string{"throttled", "delivered"}},
		"unavailable": {"PnsUnavailable", []string{"unavailable", "unavailable", "unavailable"}},
		"refused":     {"InvalidCredentials", []string{"bad-credential"}},
	}[path]
	if d.Platform != p.format || d.Handle != handle && p.name != "apns" {
		t.Errorf("delivery record of platform %s, handle %s", d.Platform, d.Handle)
	}
	if d.Outcome != w.outcome {
		t.Errorf("delivery outcome %s, want %s (attempts %+v)", d.Outcome, w.outcome, d.Attempts)
	}
	var statuses []string
	for _, a := range d.Attempts {
		statuses = append(statuses, a.Status)
	}
	if strings.Join(statuses, ",") != strings.Join(w.statuses, ",") {
		t.Fatalf("attempts %v, want %v: %+v", statuses, w.statuses, d.Attempts)
	}
	last := d.Attempts[len(d.Attempts)-1]
	if !last.Final {
		t.Errorf("the last attempt is not marked final: %+v", last)
	}
	switch path {
	case "delivered", "throttled":
		if last.PnsID == "" || last.HTTPStatus/100 != 2 {
			t.Errorf("a delivered attempt without the push service's id or 2xx: %+v", last)
		}
	case "gone":
		if last.Reason == "" || (last.HTTPStatus != 410 && last.HTTPStatus != 404) {
			t.Errorf("handle gone: %+v", last)
		}
	case "refused":
		if last.Reason == "" {
			t.Errorf("refused credential without a reason: %+v", last)
		}
	}
	if path == "throttled" {
		a0, a1 := d.Attempts[0], d.Attempts[1]
		if a0.Outcome != p.throttled || a0.RetryAfter != 1 {
			t.Errorf("the throttled attempt: %+v, want outcome %s and Retry-After 1", a0, p.throttled)
		}
		if gap := a1.Time.Sub(a0.Time); gap < time.Second {
			t.Errorf("the retry came %v after the throttled attempt, before its Retry-After of 1s", gap)
		}
	}

	// Per-message telemetry.
	det, err := c.GetNotificationOutcomeDetails(ctx, sent.NotificationID, nil)
	if err != nil {
		t.Fatalf("GetNotificationOutcomeDetails: %v", err)
	}
	if det.State != nh.NotificationDetailsStateCompleted || det.Outcomes[p.counts][w.outcome] != 1 {
		t.Errorf("telemetry: state %s, outcomes %v; want Completed and %s %s: 1", det.State, det.Outcomes, p.counts, w.outcome)
	}
	if (det.PnsErrorDetailsURI != "") != (path != "delivered") {
		t.Errorf("PnsErrorDetailsUri %q for a %s send", det.PnsErrorDetailsURI, path)
	}
	if det.PnsErrorDetailsURI != "" {
		details := env.get(t, det.PnsErrorDetailsURI)
		if n := strings.Count(details, "<PnsHandle>"+handle+"</PnsHandle>"); n != len(d.Attempts)-btoi(path == "throttled") {
			t.Errorf("error details list %d failures of the device, want one per failed attempt:\n%s", n, details)
		}
	}

	// The feedback container, and the device.
	feedback := env.feedback(t, c)
	inFeedback := strings.Contains(feedback, "<PnsHandle>"+handle+"</PnsHandle>")
	if inFeedback != (path == "gone") {
		t.Errorf("the feedback container lists the device: %v, want %v", inFeedback, path == "gone")
	}
	if p.install {
		got, err := c.GetInstallation(ctx, "inst-"+tag, nil)
		if err != nil {
			t.Fatalf("GetInstallation: %v", err)
		}
		if got.Installation.PushChannelExpired != (path == "gone") {
			t.Errorf("pushChannelExpired %v after a %s send", got.Installation.PushChannelExpired, path)
		}
	} else {
		_, err := c.GetRegistration(ctx, regID, nil)
		if path == "gone" {
			if !errors.Is(err, nh.ErrNotFound) {
				t.Errorf("the registration of a handle gone: %v, want deleted", err)
			}
		} else if err != nil {
			t.Errorf("the registration after a %s send: %v", path, err)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// received returns what the stand-in of service answered for handle.
func (env *deliverEnv) received(service, handle string) []emulatortest.PushRequest {
	var out []emulatortest.PushRequest
	for _, r := range env.ps.Received(service) {
		if r.Handle == handle {
			out = append(out, r)
		}
	}
	return out
}

// get reads a URL of the emulator (a blob with its SAS).
func (env *deliverEnv) get(t *testing.T, u string) string {
	t.Helper()
	resp, err := env.srv.Client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusNotFound {
		return ""
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	return string(b)
}

// feedback reads today's feedback blob of c's hub.
func (env *deliverEnv) feedback(t *testing.T, c *nh.Client) string {
	t.Helper()
	resp, err := c.GetFeedbackContainerURL(testCtx(t), nil)
	if err != nil {
		t.Fatalf("GetFeedbackContainerURL: %v", err)
	}
	u, err := url.Parse(resp.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path += "/" + time.Now().UTC().Format("01022006")
	return env.get(t, u.String())
}

// waitDelivered waits until the one delivery of notification nid has its
// final outcome and returns it.
func waitDelivered(t *testing.T, srv *emulatortest.Server, nid string) emulator.Delivery {
	t.Helper()
	var d emulator.Delivery
	waitFor(t, "the delivery's final outcome", func() bool {
		ds := srv.Deliveries(emulator.DeliveryFilter{NotificationID: nid})
		if len(ds) != 1 {
			t.Fatalf("%d deliveries of the send, want 1", len(ds))
		}
		d = ds[0]
		return d.Outcome != emulator.OutcomePending
	})
	// The send record follows the delivery record in the same batch.
	waitFor(t, "the send's telemetry", func() bool {
		for _, r := range srv.Sends("") {
			if r.NotificationID == nid {
				return r.Pending == 0
			}
		}
		return false
	})
	return d
}

// waitFor polls cond for up to 30 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestInboxShowsPushServiceAnswers opens the inbox of an emulator that
// delivers, sends to an iPhone whose first push APNs throttles, and
// watches the page: the delivery shows Pending with the throttled
// attempt, then, without a reload, delivered with APNs' apns-id.
func TestInboxShowsPushServiceAnswers(t *testing.T) {
	env := newDeliverEnv(t)
	c := env.good
	handle := env.ps.NewApnsDeviceToken()
	if _, err := c.CreateOrUpdateInstallation(testCtx(t), nh.Installation{InstallationID: "iphone", Platform: nh.InstallationPlatformApns,
		PushChannel: handle, Tags: []string{"inbox"}}, nil); err != nil {
		t.Fatal(err)
	}
	env.ps.SetFault(handle, emulatortest.PushFaultThrottled)

	b := newBrowser(t, env.srv.URL+"/_emulator/ui/")
	open(b, "deliveries?hub="+goodHub, "deliveries")
	b.Run("live feed connects", chromedp.WaitVisible(chromedp.CSS(`body[data-live="on"]`)))
	browsertest.Eval[int](b, `window.__noReload = 7`)
	sent, err := c.SendNotification(testCtx(t), nh.NewAppleNotification([]byte(`{"aps":{"alert":{"title":"Hi","body":"there"}}}`), nil),
		&nh.SendNotificationOptions{Tags: []string{"inbox"}})
	if err != nil {
		t.Fatal(err)
	}
	page := env.srv.Inbox().Deliveries(inbox.DeliveryQuery{NotificationID: sent.NotificationID, Limit: 1})
	if len(page.Deliveries) != 1 {
		t.Fatalf("deliveries %+v", page)
	}
	item := `#feed li[data-id=` + jsQuote(page.Deliveries[0].ID) + `]`
	b.Poll("the delivery shows Pending", fmt.Sprintf(`(e => e && e.textContent.includes('Pending'))(document.querySelector(%s))`, jsQuote(item)), liveDeadline)
	b.Run("select it", chromedp.Click(chromedp.CSS(item+" > button")))
	b.Poll("its throttled attempt shows", `document.querySelector('#detail').textContent.includes('throttled')`, liveDeadline)
	env.ps.SetFault(handle, emulatortest.PushFaultDeliver)
	d := waitDelivered(t, env.srv, sent.NotificationID)
	id := d.Attempts[len(d.Attempts)-1].PnsID
	b.Poll("the answer replaces Pending", fmt.Sprintf(`(e => e && !e.textContent.includes('Pending'))(document.querySelector(%s))`, jsQuote(item)), liveDeadline)
	b.Poll("the detail shows the apns-id", fmt.Sprintf(`document.querySelector('#detail').textContent.includes(%s)`, jsQuote(id)), liveDeadline)
	if got := b.Text("#feed-count"); !strings.Contains(got, "1 delivery") {
		t.Errorf("feed count %q", got)
	}
	if marker := browsertest.Eval[int](b, `window.__noReload`); marker != 7 {
		t.Error("the page reloaded")
	}
}
