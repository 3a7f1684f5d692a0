// Package browsertest is the headless Chromium harness of the browser
// tests: it finds Debian's chromium, starts it through chromedp with the
// same flags for every test, fails the test on any JavaScript error the
// page reports, writes screenshots and waits with generous deadlines.
//
// Only tests import it.
//
// # Finding the browser
//
// [Chromium] looks for chromium on the PATH. Without it a test skips,
// unless the environment variable CI is set: there the test fails, so a CI
// machine that lost its browser does not pass silently.
//
// # Driving a page
//
// [New] starts one browser tab for a page under test; its methods run
// chromedp actions with a deadline ([Browser.Run], [Get], [Eval]), wait
// for the page ([Browser.Load], [Browser.Poll], [Browser.WaitText]) and
// record what it shows ([Browser.Screenshot], [Browser.ViewportShot]).
// Every failure is reported through the test's Fatalf or Errorf.
//
// # Artifacts
//
// Screenshots go to $NH_ARTIFACTS, or to a temporary directory when it is
// unset ([ArtifactsDir]).
package browsertest

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

// candidates are the names Chromium goes by, in the order they are tried.
var candidates = []string{"/usr/bin/chromium", "chromium", "chromium-browser"}

// find looks for Chromium with lookPath. When there is none, it returns
// an empty path and the message to skip the test with, or, when getenv
// says CI is set, to fail it with (fatal).
func find(lookPath func(string) (string, error), getenv func(string) string) (path string, fatal bool, msg string) {
	for _, p := range candidates {
		if lp, err := lookPath(p); err == nil {
			return lp, false, ""
		}
	}
	if getenv("CI") != "" {
		return "", true, "chromium not found; CI must install it (apt-get install -y chromium)"
	}
	return "", false, "chromium not found; install Debian's chromium package to run the browser tests"
}

// Chromium returns the path of the Chromium executable. Without one it
// skips tb, or fails it when the environment variable CI is set.
func Chromium(tb testing.TB) string {
	tb.Helper()
	path, fatal, msg := find(exec.LookPath, os.Getenv)
	switch {
	case path != "":
		return path
	case fatal:
		tb.Fatal(msg)
	default:
		tb.Skip(msg)
	}
	return ""
}

// ArtifactsDir returns where screenshots go: $NH_ARTIFACTS, created if
// needed, or a temporary directory of tb when it is unset.
func ArtifactsDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("NH_ARTIFACTS")
	if dir == "" {
		return tb.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatalf("browsertest: artifacts directory: %v", err)
	}
	return dir
}

// DefaultTimeout bounds every browser step unless [Timeout] says
// otherwise. It is generous on purpose: under go test ./... the browser
// shares the machine's cores with other test binaries, and a wait costs
// only as long as the page takes.
const DefaultTimeout = 30 * time.Second

// Option configures [New].
type Option func(*config)

type config struct {
	ignoreCertErrors bool
	timeout          time.Duration
	prefix           string
	allowedStatus    []int
}

// IgnoreCertificateErrors makes the browser accept any TLS certificate,
// such as the emulator's self-signed one. Use it only for servers on
// 127.0.0.1.
func IgnoreCertificateErrors() Option {
	return func(c *config) { c.ignoreCertErrors = true }
}

// Timeout sets the deadline of every browser step (default
// [DefaultTimeout]).
func Timeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// ScreenshotPrefix starts the file name of every screenshot, for example
// "e2e-" to give "e2e-<name>.png".
func ScreenshotPrefix(prefix string) Option {
	return func(c *config) { c.prefix = prefix }
}

// AllowHTTPStatus keeps the browser's network errors about responses with
// the given status from failing the test, for a page that is answered
// with it on purpose (an API that rejects bad input with 400).
func AllowHTTPStatus(code int) Option {
	return func(c *config) { c.allowedStatus = append(c.allowedStatus, code) }
}

// Browser is one headless Chromium tab on a page under test. Its methods
// report failures through the test that made it.
type Browser struct {
	tb      testing.TB
	ctx     context.Context
	base    string
	shots   string
	prefix  string
	timeout time.Duration
	allowed []int

	mu      sync.Mutex
	jsError []string
}

// New starts Chromium for the page at baseURL (or skips tb: see
// [Chromium]). The browser runs headless, without sandbox, GPU, QUIC or
// any background traffic, in a fresh profile, with a 1280x900 viewport.
// Uncaught exceptions and console errors (CSP violations among them) fail
// tb when it ends; the browser stops when tb ends.
func New(tb testing.TB, baseURL string, opts ...Option) *Browser {
	tb.Helper()
	cfg := config{timeout: DefaultTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	exe := Chromium(tb)
	flags := []chromedp.ExecAllocatorOption{
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
	}
	if cfg.ignoreCertErrors {
		flags = append(flags, chromedp.Flag("ignore-certificate-errors", true))
	}
	flags = append(flags,
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), flags...)
	ctx, cancelC := chromedp.NewContext(actx)
	tb.Cleanup(func() { cancelC(); cancelA() })
	b := &Browser{tb: tb, ctx: ctx, base: baseURL, shots: ArtifactsDir(tb),
		prefix: cfg.prefix, timeout: cfg.timeout, allowed: cfg.allowedStatus}
	// The first action starts the browser; it gets no deadline.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		tb.Fatalf("starting chromium: %v", err)
	}
	cctx, stopConsole := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range chromedp.Console(cctx) {
			if err != nil {
				return
			}
			if failsTest(m, b.allowed) {
				b.mu.Lock()
				b.jsError = append(b.jsError, m.String())
				b.mu.Unlock()
			}
		}
	}()
	tb.Cleanup(func() {
		stopConsole()
		<-done
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.jsError {
			tb.Errorf("page error: %s", e)
		}
	})
	tb.Logf("screenshots in %s", b.shots)
	return b
}

// failsTest reports whether a console message is a page error: an
// uncaught exception, or a console error other than a network error about
// a response with an allowed status.
func failsTest(m chromedp.ConsoleMessage, allowedStatus []int) bool {
	if m.IsException() {
		return true
	}
	if m.Type != chromedp.ConsoleError {
		return false
	}
	if m.Source == "network" {
		for _, code := range allowedStatus {
			if strings.Contains(m.Text, fmt.Sprintf("status of %d", code)) {
				return false
			}
		}
	}
	return true
}

// TB returns the test the browser reports to.
func (b *Browser) TB() testing.TB { return b.tb }

// Base returns the page URL New was given.
func (b *Browser) Base() string { return b.base }

// Run runs actions in order, within the step deadline; what names them in
// the failure message.
func (b *Browser) Run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.tb.Fatalf("%s: %v", what, err)
	}
}

// Get runs one action that returns a value, within the step deadline;
// what names it in the failure message.
func Get[T any](b *Browser, what string, a chromedp.Action[T]) T {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.tb.Fatalf("%s: %v", what, err)
	}
	return v
}

// Eval evaluates a JavaScript expression in the page and returns its
// value.
func Eval[T any](b *Browser, js string) T {
	b.tb.Helper()
	return Get(b, "eval "+js, chromedp.Evaluate[T](js))
}

// Load navigates to url afresh (through about:blank, so that a change of
// the hash alone reloads the page too) and waits until an element matches
// the CSS selector ready and is visible. It returns the wall time that took.
func (b *Browser) Load(url, ready string) time.Duration {
	b.tb.Helper()
	start := time.Now()
	b.Run("open "+url,
		chromedp.Navigate("about:blank"),
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(ready)),
	)
	return time.Since(start)
}

// Poll waits until the JavaScript expression cond is true, checking every
// 10 ms for at most timeout, and returns how long that took; what names
// the wait in the failure message.
func (b *Browser) Poll(what, cond string, timeout time.Duration) time.Duration {
	b.tb.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(b.ctx, timeout+5*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(10*time.Millisecond)))
	if err != nil {
		b.tb.Fatalf("%s: not true within %v: %s (%v)", what, timeout, cond, err)
	}
	return time.Since(start)
}

// Text returns the text of the first element the CSS selector sel
// matches, waiting for it.
func (b *Browser) Text(sel string) string {
	b.tb.Helper()
	return Get(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// WaitText waits, within the step deadline, until the first element the
// CSS selector sel matches has the text want (its textContent, whitespace
// collapsed), and returns it. When the wait ends first it returns what the
// element showed last, for the caller's error message.
func (b *Browser) WaitText(sel, want string) string {
	b.tb.Helper()
	textOf := fmt.Sprintf(`(e => e ? e.textContent.replace(/\s+/g, ' ').trim() : null)(document.querySelector(%q))`, sel)
	ctx, cancel := context.WithTimeout(b.ctx, b.timeout)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](fmt.Sprintf(`%s === %q`, textOf, want),
		chromedp.WithPollingTimeout(b.timeout), chromedp.WithPollingInterval(10*time.Millisecond)))
	if err == nil {
		return want
	}
	return Eval[string](b, `String(`+textOf+`)`)
}

// Screenshot writes the whole page as <prefix><name>.png in the artifacts
// directory.
func (b *Browser) Screenshot(name string) {
	b.tb.Helper()
	b.writeShot(name, Get(b, "screenshot "+name, chromedp.FullScreenshot(100))) // quality 100 means PNG
}

// ViewportShot writes what the viewport shows as <prefix><name>.png in the
// artifacts directory.
func (b *Browser) ViewportShot(name string) {
	b.tb.Helper()
	b.writeShot(name, Get(b, "screenshot "+name, chromedp.CaptureScreenshot()))
}

func (b *Browser) writeShot(name string, png []byte) {
	b.tb.Helper()
	p := filepath.Join(b.shots, b.prefix+name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.tb.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	b.tb.Logf("screenshot %s", p)
}

// NoHorizontalScroll fails the test (without stopping it) if the page is
// wider than the viewport; where names the page and width in the message.
func (b *Browser) NoHorizontalScroll(where string) {
	b.tb.Helper()
	widths := Eval[[]int](b, `[document.documentElement.scrollWidth, window.innerWidth]`)
	if widths[0] > widths[1] {
		b.tb.Errorf("%s: page is %d px wide in a %d px viewport", where, widths[0], widths[1])
	}
}
