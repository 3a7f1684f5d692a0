package browsertest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestFind(t *testing.T) {
	tests := []struct {
		name      string
		installed map[string]string // name looked up -> path found
		ci        string
		wantPath  string
		wantFatal bool
		wantMsg   bool
	}{
		{name: "debian path", installed: map[string]string{"/usr/bin/chromium": "/usr/bin/chromium"}, wantPath: "/usr/bin/chromium"},
		{name: "on PATH", installed: map[string]string{"chromium": "/opt/bin/chromium"}, wantPath: "/opt/bin/chromium"},
		{name: "other name", installed: map[string]string{"chromium-browser": "/snap/bin/chromium-browser"}, wantPath: "/snap/bin/chromium-browser"},
		{name: "first name wins", installed: map[string]string{"chromium": "/a/chromium", "chromium-browser": "/b/chromium-browser"}, wantPath: "/a/chromium"},
		{name: "found under CI", installed: map[string]string{"chromium": "/a/chromium"}, ci: "true", wantPath: "/a/chromium"},
		{name: "missing skips", wantMsg: true},
		{name: "missing under CI fails", ci: "true", wantFatal: true, wantMsg: true},
		{name: "any CI value fails", ci: "1", wantFatal: true, wantMsg: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookPath := func(name string) (string, error) {
				if p, ok := tt.installed[name]; ok {
					return p, nil
				}
				return "", errors.New("not found")
			}
			getenv := func(key string) string {
				if key == "CI" {
					return tt.ci
				}
				return ""
			}
			path, fatal, msg := find(lookPath, getenv)
			if path != tt.wantPath || fatal != tt.wantFatal || (msg != "") != tt.wantMsg {
				t.Errorf("find = %q, %v, %q; want %q, %v, message %v", path, fatal, msg, tt.wantPath, tt.wantFatal, tt.wantMsg)
			}
		})
	}
}

func TestFailsTest(t *testing.T) {
	const bad400 = "Failed to load resource: the server responded with a status of 400 (Bad Request)"
	const bad500 = "Failed to load resource: the server responded with a status of 500 (Internal Server Error)"
	tests := []struct {
		name    string
		m       chromedp.ConsoleMessage
		allowed []int
		want    bool
	}{
		{"exception", chromedp.ConsoleMessage{Type: chromedp.ConsoleException, Text: "Uncaught Error: x"}, []int{400}, true},
		{"console.error", chromedp.ConsoleMessage{Type: chromedp.ConsoleError, Text: "boom"}, nil, true},
		{"CSP violation", chromedp.ConsoleMessage{Type: chromedp.ConsoleError, Source: "security", Text: "Refused to execute inline script"}, []int{400}, true},
		{"log", chromedp.ConsoleMessage{Type: chromedp.ConsoleLog, Text: "hello"}, nil, false},
		{"warning", chromedp.ConsoleMessage{Type: chromedp.ConsoleWarning, Text: "careful"}, nil, false},
		{"allowed status", chromedp.ConsoleMessage{Type: chromedp.ConsoleError, Source: "network", Text: bad400}, []int{400}, false},
		{"status not allowed", chromedp.ConsoleMessage{Type: chromedp.ConsoleError, Source: "network", Text: bad400}, nil, true},
		{"other status", chromedp.ConsoleMessage{Type: chromedp.ConsoleError, Source: "network", Text: bad500}, []int{400}, true},
		{"status text from the page", chromedp.ConsoleMessage{Type: chromedp.ConsoleError, Text: bad400}, []int{400}, true},
	}
	for _, tt := range tests {
		if got := failsTest(tt.m, tt.allowed); got != tt.want {
			t.Errorf("%s: failsTest = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestArtifactsDir(t *testing.T) {
	t.Run("unset", func(t *testing.T) {
		t.Setenv("NH_ARTIFACTS", "")
		dir := ArtifactsDir(t)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			t.Errorf("ArtifactsDir = %q, not a directory (%v)", dir, err)
		}
	})
	t.Run("set", func(t *testing.T) {
		want := filepath.Join(t.TempDir(), "shots", "run1")
		t.Setenv("NH_ARTIFACTS", want)
		if got := ArtifactsDir(t); got != want {
			t.Errorf("ArtifactsDir = %q, want %q", got, want)
		}
		if fi, err := os.Stat(want); err != nil || !fi.IsDir() {
			t.Errorf("%s was not created (%v)", want, err)
		}
	})
}

const testPage = `<!doctype html>
<title>t</title><link rel="icon" href="data:,">
<main><p id="greeting">Hello,   world</p><p id="later"></p></main>
<script>
fetch('/bad');
setTimeout(() => {
	document.getElementById('later').textContent = ' done ';
	document.querySelector('main').dataset.ready = 'yes';
}, 50);
</script>`

// TestBrowser drives a small page through every method. The page fetches
// a URL that answers 400, which AllowHTTPStatus must keep from failing the
// test.
func TestBrowser(t *testing.T) {
	shots := t.TempDir()
	t.Setenv("NH_ARTIFACTS", shots)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(testPage))
	})
	mux.HandleFunc("GET /bad", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad", http.StatusBadRequest)
	})
	srv := httptest.NewServer(mux) // 127.0.0.1
	t.Cleanup(srv.Close)

	b := New(t, srv.URL+"/", ScreenshotPrefix("bt-"), AllowHTTPStatus(400))
	if b.Base() != srv.URL+"/" {
		t.Errorf("Base = %q", b.Base())
	}
	b.Load(b.Base(), `main[data-ready="yes"]`)
	if got := b.Text("#greeting"); got != "Hello, world" {
		t.Errorf("Text = %q", got)
	}
	if got := b.WaitText("#later", "done"); got != "done" {
		t.Errorf("WaitText = %q", got)
	}
	if got := Eval[int](b, `6 * 7`); got != 42 {
		t.Errorf("Eval = %d", got)
	}
	b.Run("set a marker", chromedp.Evaluate[chromedp.Void](`setTimeout(() => { window.marker = 1 }, 20)`))
	b.Poll("the marker", `window.marker === 1`, DefaultTimeout)
	b.NoHorizontalScroll("test page")
	b.Screenshot("page")
	b.ViewportShot("viewport")
	for _, name := range []string{"bt-page.png", "bt-viewport.png"} {
		png, err := os.ReadFile(filepath.Join(shots, name))
		if err != nil || len(png) < 8 || string(png[1:4]) != "PNG" {
			t.Errorf("%s: no PNG written (%v)", name, err)
		}
	}
}
