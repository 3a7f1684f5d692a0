package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds the browser or skips (fails in CI).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if lp, err := exec.LookPath(p); err == nil {
			return lp
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found; CI must install it (apt-get install -y chromium)")
	}
	t.Skip("chromium not found; install Debian's chromium package to run the end-to-end tests")
	return ""
}

// artifactsDir is where screenshots go: $NH_ARTIFACTS or a temporary
// directory.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("NH_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// waitTimeout bounds every browser step. It is generous on purpose: the
// tests share two cores with other test binaries under go test ./...
const waitTimeout = 30 * time.Second

// browser is one headless Chromium tab on the inbox page of an emulator.
type browser struct {
	t       *testing.T
	ctx     context.Context
	base    string // page URL, ending in /
	shots   string
	mu      sync.Mutex
	jsError []string
}

// newBrowser starts Chromium for the page at base (https, with the
// emulator's self-signed certificate, which the browser is told to
// accept: it talks to 127.0.0.1 only).
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	exe := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("ignore-certificate-errors", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	b := &browser{t: t, ctx: ctx, base: base, shots: artifactsDir(t)}
	// The first action starts the browser; it gets no deadline.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	// Exceptions and console errors (CSP violations among them) fail the
	// test.
	cctx, stopConsole := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range chromedp.Console(cctx) {
			if err != nil {
				return
			}
			// The API answers a bad tag expression with 400 on purpose.
			expected := m.Source == "network" && strings.Contains(m.Text, "status of 400")
			if m.IsException() || m.Type == chromedp.ConsoleError && !expected {
				b.mu.Lock()
				b.jsError = append(b.jsError, m.String())
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		stopConsole()
		<-done
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.jsError {
			t.Errorf("page error: %s", e)
		}
	})
	t.Logf("screenshots in %s", b.shots)
	return b
}

// run runs actions with a generous deadline.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// get1 runs one action that returns a value.
func get1[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// evalJS evaluates a JavaScript expression in the page.
func evalJS[T any](b *browser, js string) T {
	b.t.Helper()
	return get1(b, "eval "+js, chromedp.Evaluate[T](js))
}

// poll waits until the JavaScript expression cond is true, for at most
// timeout, and returns how long that took.
func (b *browser) poll(what, cond string, timeout time.Duration) time.Duration {
	b.t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(b.ctx, timeout+5*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(10*time.Millisecond)))
	if err != nil {
		b.t.Fatalf("%s: not true within %v: %s (%v)", what, timeout, cond, err)
	}
	return time.Since(start)
}

// open loads the page fresh at the hash route and waits until the view
// has rendered its data; it returns the wall time and the page's own time
// from navigation start to the first render.
func (b *browser) open(route, view string) (wall time.Duration, pageMS float64) {
	b.t.Helper()
	start := time.Now()
	b.run("open "+route,
		chromedp.Navigate("about:blank"),
		chromedp.Navigate(b.base+"#/"+route),
		chromedp.WaitVisible(chromedp.CSS(`main[data-ready="`+view+`"]`)),
	)
	wall = time.Since(start)
	pageMS = evalJS[float64](b, fmt.Sprintf(`window.__inboxReady[%q]`, view))
	return wall, pageMS
}

// text returns the text of the first element sel matches (waiting for it).
func (b *browser) text(sel string) string {
	b.t.Helper()
	return get1(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// screenshot writes the whole page as a PNG.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	b.writeShot(name, get1(b, "screenshot "+name, chromedp.FullScreenshot(100))) // quality 100 means PNG
}

// viewportShot writes what the viewport shows as a PNG.
func (b *browser) viewportShot(name string) {
	b.t.Helper()
	b.writeShot(name, get1(b, "screenshot "+name, chromedp.CaptureScreenshot()))
}

func (b *browser) writeShot(name string, png []byte) {
	b.t.Helper()
	p := filepath.Join(b.shots, "e2e-"+name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", p)
}

// noHorizontalScroll fails if the page is wider than the viewport.
func (b *browser) noHorizontalScroll(where string) {
	b.t.Helper()
	widths := evalJS[[]int](b, `[document.documentElement.scrollWidth, window.innerWidth]`)
	if widths[0] > widths[1] {
		b.t.Errorf("%s: page is %d px wide in a %d px viewport", where, widths[0], widths[1])
	}
}

// jsQuote quotes s as a JavaScript string literal.
func jsQuote(s string) string { return fmt.Sprintf("%q", s) }
