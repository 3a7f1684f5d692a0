package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"

	nh "github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/emulator"
	"github.com/nhkit/notificationhubs/emulator/emulatortest"
)

// TestInboxResetPassesControlChecks clicks the page's reset button (twice:
// arm, confirm) and checks that the emulator was reset: the page's request
// must pass the control plane's checks (same origin, JSON content type).
func TestInboxResetPassesControlChecks(t *testing.T) {
	srv := emulatortest.NewServer(t)
	openShop(t, srv)
	b := newBrowser(t, srv.URL+"/_emulator/ui/")
	open(b, "deliveries?hub=shop", "deliveries")
	b.Run("arm and confirm reset", chromedp.Click(chromedp.CSS(`#reset`)), chromedp.Click(chromedp.CSS(`#reset`)))
	b.WaitText("#status", "Emulator reset.")
	if hs := srv.Hubs(); len(hs) != 0 {
		t.Errorf("after the page's reset the emulator has hubs %+v", hs)
	}
}

// TestInboxWithControlToken opens the inbox of an emulator that needs a
// control token, as the address nh emulator prints (…/ui/?token=…): the
// page, its API and its live feed work through the cookie the emulator
// sets, and a delivery shows.
func TestInboxWithControlToken(t *testing.T) {
	const token = "e2e-control-token-0123456789"
	srv := emulatortest.NewServerWithOptions(t, emulator.Options{ControlToken: token})
	ctx := testCtx(t)
	c := openShop(t, srv)
	b := newBrowser(t, srv.URL+"/_emulator/ui/?token="+token)
	open(b, "deliveries?hub=shop", "deliveries")
	b.Run("live feed connects", chromedp.WaitVisible(chromedp.CSS(`body[data-live="on"]`)))
	if _, err := c.SendTemplateNotification(ctx, map[string]string{"title": wantTitle, "subtitle": "Order 7", "body": wantBody, "badge": "1", "order": "7"},
		&nh.SendNotificationOptions{TagExpression: "orders"}); err != nil {
		t.Fatalf("SendTemplateNotification: %v", err)
	}
	if n := len(srv.Deliveries(emulator.DeliveryFilter{Hub: "shop"})); n != 3 {
		t.Fatalf("the emulator recorded %d deliveries, want 3", n)
	}
	b.Poll("the deliveries show", `document.querySelectorAll('#feed li[data-id]').length === 3`, liveDeadline)
}
