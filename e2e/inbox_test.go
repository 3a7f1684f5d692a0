package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	nh "github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/emulator"
	"github.com/nhkit/notificationhubs/emulator/emulatortest"
	"github.com/nhkit/notificationhubs/emulator/inbox"
	"github.com/nhkit/notificationhubs/internal/browsertest"
)

// TestInboxShowsTemplateSends is the first "done when": a
// template notification sent through the SDK to APNs, FCM v1 and WNS
// installations shows on the already open page, rendered, without a
// reload; a tag expression evaluated in the page shows the devices it
// matches.
func TestInboxShowsTemplateSends(t *testing.T) {
	srv := emulatortest.NewServer(t)
	ctx := testCtx(t)
	c := openShop(t, srv)

	b := newBrowser(t, srv.URL+"/_emulator/ui/")
	open(b, "deliveries?hub=shop", "deliveries")
	b.Run("live feed connects", chromedp.WaitVisible(chromedp.CSS(`body[data-live="on"]`)))
	browsertest.Eval[int](b, `window.__noReload = 42`)

	// Send after the page has loaded.
	start := time.Now()
	resp, err := c.SendTemplateNotification(ctx, map[string]string{
		"title": wantTitle, "subtitle": "Order 42", "body": wantBody, "badge": "3", "order": "42",
	}, &nh.SendNotificationOptions{TagExpression: "orders"})
	if err != nil {
		t.Fatalf("SendTemplateNotification: %v", err)
	}
	sent := time.Since(start)
	page := srv.Inbox().Deliveries(inbox.DeliveryQuery{Hub: "shop", NotificationID: resp.NotificationID, Limit: 10})
	if page.Total != 3 {
		t.Fatalf("the emulator recorded %d deliveries of %s, want 3", page.Total, resp.NotificationID)
	}
	byPlatform := map[string]inbox.Delivery{}
	var conds []string
	for _, d := range page.Deliveries {
		byPlatform[d.Platform] = d
		sel := `#feed li[data-id=` + jsQuote(d.ID) + `]`
		conds = append(conds, fmt.Sprintf(`(e => e && e.textContent === %s)(document.querySelector(%s))`, jsQuote(wantTitle), jsQuote(sel+" .p-title")),
			fmt.Sprintf(`(e => e && e.textContent === %s)(document.querySelector(%s))`, jsQuote(wantBody), jsQuote(sel+" .p-body")))
	}
	shown := b.Poll("the three deliveries show with title and body", strings.Join(conds, " && "), liveDeadline)
	latency := time.Since(start)
	t.Logf("the send took %v; all three deliveries were on the page %v after it started (%v polling; the issue's bound is %v)",
		sent.Round(time.Millisecond), latency.Round(time.Millisecond), shown.Round(time.Millisecond), liveBound)
	if latency > liveBound {
		t.Logf("note: slower than the issue's %v bound on this machine", liveBound)
	}
	if marker := browsertest.Eval[int](b, `window.__noReload`); marker != 42 {
		t.Error("the page reloaded")
	}
	for _, p := range []string{"apple", "fcmv1", "windows"} {
		d, ok := byPlatform[p]
		if !ok {
			t.Fatalf("no %s delivery among %+v", p, page.Deliveries)
		}
		sel := `#feed li[data-id="` + d.ID + `"]`
		if got := b.Text(sel + ` .p-title`); got != wantTitle {
			t.Errorf("%s title %q, want %q", p, got, wantTitle)
		}
		if got := b.Text(sel + ` .p-body`); got != wantBody {
			t.Errorf("%s body %q, want %q", p, got, wantBody)
		}
	}
	group := `#feed li.group[data-notification="` + resp.NotificationID + `"]`
	if got := b.Text(group + ` .counts`); got != "3 targets" {
		t.Errorf("group counts %q", got)
	}
	if got := b.Text(group + ` .aud`); got != "to orders" {
		t.Errorf("audience %q", got)
	}
	b.Screenshot("live-feed-1280")

	// Each delivery's detail: the platform's preview and the exact payload
	// the emulator rendered.
	previews := map[string]string{"apple": ".pv-ios", "fcmv1": ".pv-android", "windows": ".pv-windows"}
	for _, p := range []string{"apple", "fcmv1", "windows"} {
		d := byPlatform[p]
		b.Run("open the "+p+" delivery", chromedp.Click(chromedp.CSS(`#feed li[data-id="`+d.ID+`"] > button`)),
			chromedp.WaitVisible(chromedp.CSS(`#detail .detail-inner[data-id="`+d.ID+`"]`)))
		pv := `#detail figure` + previews[p]
		if got := b.Text(pv + ` .p-title`); got != wantTitle {
			t.Errorf("%s preview title %q", p, got)
		}
		if got := b.Text(pv + ` .p-body`); got != wantBody {
			t.Errorf("%s preview body %q", p, got)
		}
		if got := browsertest.Eval[string](b, `document.querySelector('#detail pre.payload').textContent`); got != d.Payload {
			t.Errorf("%s payload shown %q, want %q", p, got, d.Payload)
		}
		b.Screenshot("delivery-" + p + "-1280")
	}
	if p := byPlatform["windows"].Payload; !strings.HasPrefix(p, `<toast launch="order=42">`) {
		t.Errorf("WNS payload %q: the launch attribute is not rendered", p)
	}
	if got := strings.Join(strings.Fields(b.Text(`#detail table.headers`)), " "); !strings.Contains(got, "wns/toast") {
		t.Errorf("WNS headers shown as %q", got)
	}
	ios := `#detail figure.pv-ios`
	b.Run("open the apple delivery", chromedp.Click(chromedp.CSS(`#feed li[data-id="`+byPlatform["apple"].ID+`"] > button`)),
		chromedp.WaitVisible(chromedp.CSS(ios)))
	if got := b.Text(ios + ` .p-subtitle`); got != "Order 42" {
		t.Errorf("iOS subtitle %q", got)
	}
	if got := b.Text(ios + ` .pv-badge`); got != "3" {
		t.Errorf("iOS badge %q", got)
	}

	// The device's own inbox.
	open(b, "device?hub=shop&handle="+url.QueryEscape(iosHandle), "device")
	if got := b.Text(`#inbox li[data-id="` + byPlatform["apple"].ID + `"] .p-title`); got != wantTitle {
		t.Errorf("device inbox title %q", got)
	}
	b.Screenshot("device-1280")

	// A tag expression evaluated in the page.
	open(b, "hubs?hub=shop", "hubs")
	b.Run("evaluate a tag expression",
		chromedp.SendKeys(chromedp.CSS(`#tag-expr`), "orders && !muted\r"),
		chromedp.WaitVisible(chromedp.CSS(`#match-count`)))
	b.Poll("the match count", `document.querySelector('#match-count').textContent === '2 devices match'`, liveDeadline)
	handles := browsertest.Eval[[]string](b, `Array.from(document.querySelectorAll('#match-result tbody tr')).map(tr => tr.dataset.handle)`)
	slices.Sort(handles)
	if d := cmp.Diff([]string{iosHandle, fcmHandle}, handles); d != "" {
		t.Errorf("matched handles (-want +got):\n%s", d)
	}
	// The hubs table says which credentials each hub has: a first-use hub
	// needs none.
	if got := b.Text(`table.hubs tbody tr td.creds`); got != "none needed (first-use hub)" {
		t.Errorf("credentials column %q", got)
	}
	b.Screenshot("hub-1280")
	b.Run("phone width", chromedp.EmulateViewport(390, 844))
	b.NoHorizontalScroll("hub view at 390 px")
	b.Screenshot("hub-390")

	// The connection strings are the emulator's own.
	b.Run("desktop width", chromedp.EmulateViewport(1280, 900))
	open(b, "connect", "connect")
	got := browsertest.Eval[[]string](b, `Array.from(document.querySelectorAll('main input[readonly]')).map(i => i.value)`)
	if d := cmp.Diff([]string{srv.ConnectionString, srv.ListenConnectionString, srv.NamespaceConnectionString}, got); d != "" {
		t.Errorf("connection strings (-want +got):\n%s", d)
	}
}

// registrationLine is one line of an import file: a registration
// description. Registration i is apple, fcmv1, windows or gcm (i%4) and
// has the tags g{i%100} and all.
func registrationLine(i int) string {
	const ns = `xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect"`
	tags := fmt.Sprintf("<Tags>g%d,all</Tags>", i%100)
	switch i % 4 {
	case 0:
		return fmt.Sprintf(`<AppleRegistrationDescription %s>%s<DeviceToken>%064X</DeviceToken></AppleRegistrationDescription>`, ns, tags, i)
	case 1:
		return fmt.Sprintf(`<FcmV1RegistrationDescription %s>%s<FcmV1RegistrationId>fcm-%08d</FcmV1RegistrationId></FcmV1RegistrationDescription>`, ns, tags, i)
	case 2:
		return fmt.Sprintf(`<WindowsRegistrationDescription %s>%s<ChannelUri>https://db5p.notify.windows.com/?token=t%08d</ChannelUri></WindowsRegistrationDescription>`, ns, tags, i)
	default:
		return fmt.Sprintf(`<GcmRegistrationDescription %s>%s<GcmRegistrationId>gcm-%08d</GcmRegistrationId></GcmRegistrationDescription>`, ns, tags, i)
	}
}

// importRegistrations creates n registrations in hub through the SDK's
// import job, reading a file uploaded to the emulator's blob store.
func importRegistrations(t *testing.T, srv *emulatortest.Server, c *nh.Client, n int) {
	t.Helper()
	ctx := testCtx(t)
	var file bytes.Buffer
	for i := range n {
		file.WriteString(registrationLine(i))
		file.WriteByte('\n')
	}
	container := srv.ContainerURL(srv.URL, "imports")
	u, err := url.Parse(container)
	if err != nil {
		t.Fatal(err)
	}
	u.Path += "/registrations.txt"
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), &file)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("x-ms-blob-type", "BlockBlob")
	res, err := srv.Client.Do(req)
	if err != nil {
		t.Fatalf("upload the import file: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("upload the import file: status %d", res.StatusCode)
	}
	job, err := c.SubmitNotificationHubJob(ctx, nh.Job{
		Type:               nh.JobTypeImportCreateRegistrations,
		OutputContainerURL: container,
		ImportFileURL:      u.String(),
	}, nil)
	if err != nil {
		t.Fatalf("SubmitNotificationHubJob: %v", err)
	}
	done, err := c.WaitForNotificationHubJob(ctx, job.JobID, &nh.WaitForNotificationHubJobOptions{PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("WaitForNotificationHubJob: %v", err)
	}
	if done.Status != nh.JobStatusCompleted {
		t.Fatalf("import job %s: %s", done.Status, done.Failure)
	}
}

// TestInboxLargeHub is the second "done when" on the real
// emulator: 100,000 registrations and 10,000 deliveries, every view
// rendered from paged lists. The first render of each view is logged (the
// issue's target is 1 s); the test fails only if a view does not render at
// all or renders unpaged lists.
func TestInboxLargeHub(t *testing.T) {
	if testing.Short() {
		t.Skip("large hub: skipped with -short")
	}
	const registrations, deliveries = 100_000, 10_000
	srv := emulatortest.NewServerWithOptions(t, emulator.Options{JobStepDelay: time.Millisecond, Retention: deliveries})
	ctx := testCtx(t)
	c := newClient(t, srv, "big")
	browsertest.Chromium(t) // skip before the slow part when there is no browser

	start := time.Now()
	importRegistrations(t, srv, c, registrations)
	t.Logf("imported %d registrations in %v", registrations, time.Since(start).Round(time.Millisecond))
	if p := srv.Inbox().Devices("big", inbox.DeviceQuery{Limit: 1}); p.Total != registrations {
		t.Fatalf("the hub has %d devices, want %d", p.Total, registrations)
	}
	// Tags g0, g4, …, g36 hold 1,000 apple registrations each: ten native
	// sends of 1,000 deliveries.
	start = time.Now()
	for k := 0; k < 40; k += 4 {
		n := nh.NewAppleNotification([]byte(fmt.Sprintf(`{"aps":{"alert":{"title":"Batch %d","body":"One of a thousand"},"badge":%d}}`, k, k)), nil)
		if _, err := c.SendNotification(ctx, n, &nh.SendNotificationOptions{Tags: []string{fmt.Sprintf("g%d", k)}}); err != nil {
			t.Fatalf("SendNotification: %v", err)
		}
	}
	t.Logf("sent %d deliveries in %v", deliveries, time.Since(start).Round(time.Millisecond))
	if p := srv.Inbox().Deliveries(inbox.DeliveryQuery{Hub: "big", Limit: 1}); p.Total != deliveries {
		t.Fatalf("the emulator holds %d deliveries, want %d", p.Total, deliveries)
	}
	handle := fmt.Sprintf("%064X", 0)

	b := newBrowser(t, srv.URL+"/_emulator/ui/")
	views := []struct{ name, route, view string }{
		{"deliveries", "deliveries?hub=big", "deliveries"},
		{"deliveries-all-hubs", "deliveries", "deliveries"},
		{"hub", "hubs?hub=big", "hubs"},
		{"hub-search", "hubs?hub=big&q=g42", "hubs"},
		{"hub-expression", "hubs?hub=big&expr=" + url.QueryEscape("g4 && all && !g8"), "hubs"},
		{"device", "device?hub=big&handle=" + handle, "device"},
		{"telemetry", "telemetry?hub=big", "telemetry"},
		{"scheduled", "scheduled?hub=big", "scheduled"},
		{"connect", "connect", "connect"},
	}
	for _, width := range []int{1280, 390} {
		b.Run("viewport", chromedp.EmulateViewport(int64(width), 900))
		for _, v := range views {
			wall, pageMS := open(b, v.route, v.view)
			t.Logf("%4d px %-20s first render %5.0f ms after navigation start (%v wall, including navigation; target 1 s)",
				width, v.name, pageMS, wall.Round(time.Millisecond))
			b.NoHorizontalScroll(fmt.Sprintf("%s at %d px", v.name, width))
			rows := browsertest.Eval[int](b, `document.querySelectorAll('main tr, main li.dlv-item, main li.card').length`)
			if rows == 0 && v.name != "scheduled" && v.name != "connect" {
				t.Errorf("%s at %d px shows no rows", v.name, width)
			}
			if rows > 200 {
				t.Errorf("%s at %d px renders %d rows; lists must be paged", v.name, width, rows)
			}
			b.ViewportShot(fmt.Sprintf("big-%s-%d", v.name, width))
		}
	}
	b.Run("desktop", chromedp.EmulateViewport(1280, 900))
	open(b, "hubs?hub=big", "hubs")
	if got := b.Text(`.view-hubs .pager .range`); got != "1–50 of 100,000" {
		t.Errorf("pager %q", got)
	}
	b.Run("next page", chromedp.Click(chromedp.CSS(`.view-hubs .pager button:last-child`)))
	b.Poll("the second page", `document.querySelector('.view-hubs .pager .range').textContent === '51–100 of 100,000'`, liveDeadline)
	open(b, "hubs?hub=big&expr="+url.QueryEscape("g4 && all && !g8"), "hubs")
	b.Poll("the match count", `document.querySelector('#match-count').textContent === '1,000 devices match'`, liveDeadline)
}
