package e2e

import (
	"fmt"
	"testing"
	"time"

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
