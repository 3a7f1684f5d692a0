package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSinkAnswersSends(t *testing.T) {
	srv := httptest.NewTLSServer(SinkHandler())
	defer srv.Close()
	c := srv.Client()

	post := func(path string) *http.Response {
		t.Helper()
		resp, err := c.Post(srv.URL+path, "application/json", strings.NewReader(`{"aps":{"alert":"x"}}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	seen := map[string]bool{}
	for _, path := range []string{"/bench/messages?api-version=2020-06", "/bench/messages/?api-version=2020-06&test", "/other-hub/messages"} {
		resp := post(path)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s: status %d, want 201", path, resp.StatusCode)
		}
		hub := strings.Split(path, "/")[1]
		loc := resp.Header.Get("Location")
		prefix := "https://" + srv.Listener.Addr().String() + "/" + hub + "/messages/"
		if !strings.HasPrefix(loc, prefix) || !strings.HasSuffix(loc, "?api-version=2020-06") {
			t.Errorf("POST %s: Location %q, want %s<id>?api-version=2020-06", path, loc, prefix)
		}
		if seen[loc] {
			t.Errorf("POST %s: Location %q was given before", path, loc)
		}
		seen[loc] = true
	}

	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/bench/messages"},
		{http.MethodPost, "/bench/registrations"},
		{http.MethodPost, "/bench/messages/123"},
		{http.MethodPost, "/messages"},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s: status %d, want 404", tc.method, tc.path, resp.StatusCode)
		}
	}
}

func TestParseResult(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Result
	}{{
		name: "go client",
		line: "BenchmarkSend/server=sink/client=sdk/payload=fcmv1/conc=64\t120000\t16666.5 ns/op\t60000 sends/s\t45000.2 sends/cpu-s\t45.25 allocs/send\t24000000 peak-rss-B",
		want: Result{
			Name: "BenchmarkSend/server=sink/client=sdk/payload=fcmv1/conc=64", N: 120000,
			Metrics: map[string]float64{UnitNsPerOp: 16666.5, UnitSendsPerSec: 60000, UnitSendsPerCPU: 45000.2, UnitAllocsPerOp: 45.25, UnitPeakRSSBytes: 24000000},
			Order:   []string{UnitNsPerOp, UnitSendsPerSec, UnitSendsPerCPU, UnitAllocsPerOp, UnitPeakRSSBytes},
		},
	}, {
		name: "js client, spaces",
		line: "BenchmarkSend/server=sink/client=js/payload=apple/conc=1 3493 572656.2 ns/op 1746.2 sends/s 2174.2 sends/cpu-s 108773376 peak-rss-B",
		want: Result{
			Name: "BenchmarkSend/server=sink/client=js/payload=apple/conc=1", N: 3493,
			Metrics: map[string]float64{UnitNsPerOp: 572656.2, UnitSendsPerSec: 1746.2, UnitSendsPerCPU: 2174.2, UnitPeakRSSBytes: 108773376},
			Order:   []string{UnitNsPerOp, UnitSendsPerSec, UnitSendsPerCPU, UnitPeakRSSBytes},
		},
	}, {
		name: "go test -bench line",
		line: "BenchmarkTagExpression-2   \t   10000\t    141582 ns/op\t   12336 B/op\t       4 allocs/op",
		want: Result{
			Name: "BenchmarkTagExpression-2", N: 10000,
			Metrics: map[string]float64{UnitNsPerOp: 141582, "B/op": 12336, "allocs/op": 4},
			Order:   []string{UnitNsPerOp, "B/op", "allocs/op"},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseResult(tc.line)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("ParseResult (-want +got):\n%s", d)
			}
			again, err := ParseResult(got.String())
			if err != nil {
				t.Fatalf("ParseResult(String()): %v", err)
			}
			if d := cmp.Diff(got, again); d != "" {
				t.Errorf("String does not round-trip (-first +second):\n%s", d)
			}
		})
	}
}

func TestParseResultRejects(t *testing.T) {
	for _, line := range []string{
		"",
		"PASS",
		"goos: linux",
		"BenchmarkX 10",
		"BenchmarkX ten 5 ns/op",
		"BenchmarkX -1 5 ns/op",
		"BenchmarkX 10 5 ns/op 7",
		"BenchmarkX 10 fast ns/op",
		"BenchmarkX 10 5 ns/op 6 ns/op",
		"Send/client=sdk 10 5 ns/op",
	} {
		if r, err := ParseResult(line); err == nil {
			t.Errorf("ParseResult(%q) = %+v, want an error", line, r)
		}
	}
}

func TestReadResultsSkipsOtherLines(t *testing.T) {
	in := "goos: linux\ncpu: AMD EPYC\nBenchmarkA/conc=1 10 5 ns/op\nPASS\n  BenchmarkB 3 1 sends/s\nok  \tpkg\t1s\n"
	got, err := ReadResults(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range got {
		names = append(names, r.Name)
	}
	if d := cmp.Diff([]string{"BenchmarkA/conc=1", "BenchmarkB"}, names); d != "" {
		t.Errorf("names (-want +got):\n%s", d)
	}
	if _, err := ReadResults(strings.NewReader("BenchmarkBad 1 x ns/op\n")); err == nil {
		t.Error("ReadResults accepted a malformed result line")
	}
}

func TestResultKey(t *testing.T) {
	r := Result{Name: "BenchmarkSend/server=sink/client=sdk/conc=64"}
	for key, want := range map[string]string{"server": "sink", "client": "sdk", "conc": "64", "payload": "", "BenchmarkSend": ""} {
		if got := r.Key(key); got != want {
			t.Errorf("Key(%q) = %q, want %q", key, got, want)
		}
	}
}

func TestSplitProcs(t *testing.T) {
	for _, tc := range []struct {
		name, base string
		procs      int
	}{
		{"BenchmarkSendNotification/server=tls-2", "BenchmarkSendNotification/server=tls", 2},
		{"BenchmarkTagExpression-16", "BenchmarkTagExpression", 16},
		{"BenchmarkValidate/apple-headers-2", "BenchmarkValidate/apple-headers", 2},
		{"BenchmarkValidate/apple-headers", "BenchmarkValidate/apple-headers", 0},
		{"BenchmarkSend/server=sink/conc=64", "BenchmarkSend/server=sink/conc=64", 0},
		{"BenchmarkX-2/server=tls", "BenchmarkX-2/server=tls", 0},
		{"BenchmarkX-", "BenchmarkX-", 0},
		{"BenchmarkX-0", "BenchmarkX-0", 0},
		{"BenchmarkX--2", "BenchmarkX-", 2},
		{"BenchmarkX-+2", "BenchmarkX-+2", 0},
	} {
		base, procs := SplitProcs(tc.name)
		if base != tc.base || procs != tc.procs {
			t.Errorf("SplitProcs(%q) = %q, %d, want %q, %d", tc.name, base, procs, tc.base, tc.procs)
		}
	}
}

func TestLoopBounds(t *testing.T) {
	var calls atomic.Int64
	send := func(context.Context) error { calls.Add(1); return nil }
	n, err := Loop(context.Background(), 8, time.Minute, 100, send)
	if err != nil {
		t.Fatal(err)
	}
	if n != 100 || calls.Load() != 100 {
		t.Errorf("Loop bounded by 100 sends: done %d, calls %d", n, calls.Load())
	}

	// Bounded by time: a loop with a huge count bound still stops.
	n, err = Loop(context.Background(), 2, 20*time.Millisecond, 1<<62, func(context.Context) error {
		time.Sleep(time.Millisecond)
		return nil
	})
	if err != nil || n == 0 || n >= 1<<62 {
		t.Errorf("Loop bounded by time: %d sends, %v", n, err)
	}

	boom := errors.New("boom")
	calls.Store(0)
	n, err = Loop(context.Background(), 4, time.Minute, 1000, func(context.Context) error {
		if calls.Add(1) == 10 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("Loop error = %v, want boom", err)
	}
	if n >= 1000 {
		t.Errorf("Loop went on after an error: %d sends", n)
	}

	if _, err := Loop(context.Background(), 0, time.Second, 1, send); err == nil {
		t.Error("Loop accepted concurrency 0")
	}
	if _, err := Loop(context.Background(), 1, time.Second, 0, send); err == nil {
		t.Error("Loop accepted a send bound of 0")
	}
}

func TestParseVmHWM(t *testing.T) {
	status := "Name:\tbench\nVmPeak:\t  812345 kB\nVmHWM:\t   23456 kB\nVmRSS:\t   20000 kB\n"
	if got, want := parseVmHWM(status), int64(23456*1024); got != want {
		t.Errorf("parseVmHWM = %d, want %d", got, want)
	}
	if got := parseVmHWM("Name:\tx\n"); got != 0 {
		t.Errorf("parseVmHWM without VmHWM = %d, want 0", got)
	}
	if PeakRSS() <= 0 {
		t.Error("PeakRSS of this process is not positive")
	}
}

func TestNewResult(t *testing.T) {
	t0 := time.Unix(1000, 0)
	before := Usage{Wall: t0, CPU: time.Second, Mallocs: 1000}
	after := Usage{Wall: t0.Add(2 * time.Second), CPU: 3 * time.Second, Mallocs: 1000 + 50*4000}
	r := NewResult("BenchmarkSend/conc=1", 4000, before, after)
	want := map[string]float64{UnitNsPerOp: 500000, UnitSendsPerSec: 2000, UnitSendsPerCPU: 2000, UnitAllocsPerOp: 50}
	for u, v := range want {
		if r.Metrics[u] != v {
			t.Errorf("%s = %v, want %v", u, r.Metrics[u], v)
		}
	}
	if r.Metrics[UnitPeakRSSBytes] <= 0 {
		t.Errorf("peak RSS = %v, want > 0", r.Metrics[UnitPeakRSSBytes])
	}
}

func TestGenerateCertServesTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := dir+"/cert.pem", dir+"/key.pem"
	if err := GenerateCert(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(SinkHandler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	defer srv.Close()
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("the certificate file holds no certificate")
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Post(srv.URL+"/hub/messages", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatalf("POST with the generated certificate trusted: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("status %d, want 201", resp.StatusCode)
	}
}

// TestJSClientPrintsResultLine runs js/send.mjs (the official JS SDK)
// against the sink when Node.js and the pinned SDK (npm ci in bench/js)
// are installed, and checks that its line parses.
func TestJSClientPrintsResultLine(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	if _, err := os.Stat("js/node_modules/@azure/notification-hubs"); err != nil {
		t.Skip("the JS SDK is not installed (run npm ci in bench/js)")
	}
	var sends atomic.Int64
	h := SinkHandler()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		sends.Add(1)
	}))
	defer srv.Close()
	certFile := t.TempDir() + "/cert.pem"
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "send.mjs", "--conc", "2", "--duration-ms", "200", "--warmup-ms", "0", "--payload", "apple")
	cmd.Dir = "js"
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+certFile,
		"BENCH_CONNECTION_STRING=Endpoint=sb://"+srv.Listener.Addr().String()+"/;SharedAccessKeyName=R;SharedAccessKey=dGVzdC1rZXktbm90LWEtc2VjcmV0")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("send.mjs: %v: %s", err, stderr.String())
	}
	r, err := ParseResult(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	if want := "BenchmarkSend/server=sink/client=js/payload=apple/conc=2"; r.Name != want {
		t.Errorf("name %q, want %q", r.Name, want)
	}
	if r.N <= 0 || r.N > sends.Load() {
		t.Errorf("N = %d with %d sends answered", r.N, sends.Load())
	}
	for _, u := range []string{UnitSendsPerSec, UnitSendsPerCPU, UnitPeakRSSBytes} {
		if r.Metrics[u] <= 0 {
			t.Errorf("%s = %v, want > 0", u, r.Metrics[u])
		}
	}
}
