package e2e

// Test helpers shared by this package's test files: the browser, the
// shop the tests fill, and what they wait for.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	nh "github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/emulator/emulatortest"
	"github.com/nhkit/notificationhubs/internal/browsertest"
)

// newBrowser starts Chromium for the inbox page at base (https, with the
// emulator's self-signed certificate, which the browser is told to
// accept: it talks to 127.0.0.1 only). The page's API answers a bad tag
// expression with 400 on purpose, so that error does not fail the test.
func newBrowser(t *testing.T, base string) *browsertest.Browser {
	t.Helper()
	return browsertest.New(t, base, browsertest.IgnoreCertificateErrors(),
		browsertest.ScreenshotPrefix("e2e-"), browsertest.AllowHTTPStatus(400))
}

// open loads the inbox page fresh at the hash route and waits until the
// view has rendered its data; it returns the wall time and the page's own
// time from navigation start to the first render.
func open(b *browsertest.Browser, route, view string) (wall time.Duration, pageMS float64) {
	b.TB().Helper()
	wall = b.Load(b.Base()+"#/"+route, `main[data-ready="`+view+`"]`)
	return wall, browsertest.Eval[float64](b, fmt.Sprintf(`window.__inboxReady[%q]`, view))
}

// jsQuote quotes s as a JavaScript string literal.
func jsQuote(s string) string { return fmt.Sprintf("%q", s) }

// openShop creates the shop's installations on srv and returns a client
// of the hub shop.
func openShop(t *testing.T, srv *emulatortest.Server) *nh.Client {
	t.Helper()
	c := newClient(t, srv, "shop")
	for _, in := range shopInstallations() {
		if _, err := c.CreateOrUpdateInstallation(testCtx(t), in, nil); err != nil {
			t.Fatalf("CreateOrUpdateInstallation %s: %v", in.InstallationID, err)
		}
	}
	return c
}

// liveBound is the bound for a delivery to show on the open page.
// The assertion waits longer (machines under test load vary); the measured
// latency is logged.
const (
	liveBound    = time.Second
	liveDeadline = 5 * time.Second
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// newClient returns an SDK client for hub on srv that trusts its
// certificate.
func newClient(t *testing.T, srv *emulatortest.Server, hub string) *nh.Client {
	t.Helper()
	c, err := nh.NewClientFromConnectionString(srv.ConnectionString, hub,
		&nh.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: srv.Client}})
	if err != nil {
		t.Fatalf("NewClientFromConnectionString: %v", err)
	}
	return c
}

// The shop's three devices: one installation per platform, each with a
// template named "main" that renders title and body its platform's way.
const (
	iosHandle = "5A1F0C2B9E8D7C6B5A4F3E2D1C0B9A8F7E6D5C4B3A2F1E0D9C8B7A6F5E4D3C2B"
	fcmHandle = "fcm-token-dGVzdC1kZXZpY2UtMDAx:APA91bHk"
	wnsHandle = "https://db5p.notify.windows.com/?token=AwYAAAB1cmkuZXhhbXBsZQ"
	wantTitle = "Order shipped"
	wantBody  = "Your parcel is on its way"
)

func shopInstallations() []nh.Installation {
	return []nh.Installation{
		{
			InstallationID: "iphone-alice", UserID: "alice", Platform: nh.InstallationPlatformApns, PushChannel: iosHandle,
			Tags: []string{"orders", "vip"},
			Templates: map[string]nh.InstallationTemplate{"main": {
				Body:    `{"aps":{"alert":{"title":"$(title)","subtitle":"$(subtitle)","body":"$(body)"},"badge":"#(badge)","sound":"default"},"orderId":"$(order)"}`,
				Headers: map[string]string{"apns-priority": "10"},
			}},
		},
		{
			InstallationID: "pixel-bob", UserID: "bob", Platform: nh.InstallationPlatformFcmV1, PushChannel: fcmHandle,
			Tags: []string{"orders"},
			Templates: map[string]nh.InstallationTemplate{"main": {
				Body: `{"message":{"notification":{"title":"$(title)","body":"$(body)"},"data":{"orderId":"$(order)"}}}`,
			}},
		},
		{
			InstallationID: "surface-carol", Platform: nh.InstallationPlatformWns, PushChannel: wnsHandle,
			Tags: []string{"orders", "muted"},
			Templates: map[string]nh.InstallationTemplate{"main": {
				Body:    `<toast launch="{'order=' + $(order)}"><visual><binding template="ToastGeneric"><text id="1">$(title)</text><text id="2">$(body)</text></binding></visual></toast>`,
				Headers: map[string]string{"X-WNS-Type": "wns/toast"},
			}},
		},
	}
}
