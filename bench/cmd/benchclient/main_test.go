package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/nhkit/notificationhubs/bench"
	"github.com/nhkit/notificationhubs/emulator"
	"github.com/nhkit/notificationhubs/emulator/emulatortest"
)

// The test binary runs as benchclient itself when this variable is set,
// so that the system roots can come from SSL_CERT_FILE as in run.sh.
const envRunMain = "BENCHCLIENT_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		// Standard input and output as they are: pair's children talk
		// over them line by line.
		err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Getenv)
		if err != nil {
			os.Stderr.WriteString("benchclient: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// sink starts the benchmark sink over TLS and returns the connection
// string, the PEM file of its certificate and its count of answered sends.
func sink(t *testing.T) (cs, certFile string, sends *atomic.Int64) {
	t.Helper()
	sends = new(atomic.Int64)
	h := bench.SinkHandler()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		sends.Add(1)
	}))
	t.Cleanup(srv.Close)
	certFile = filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	cs = "Endpoint=sb://" + srv.Listener.Addr().String() + "/;SharedAccessKeyName=DefaultFullSharedAccessSignature;SharedAccessKey=dGVzdC1rZXktbm90LWEtc2VjcmV0"
	return cs, certFile, sends
}

func runChild(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), append([]string{envRunMain + "=1"}, env...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		t.Logf("stderr: %s", stderr.String())
	}
	return stdout.String(), err
}

func TestClientsPrintResultLines(t *testing.T) {
	cs, certFile, sends := sink(t)
	for _, tc := range []struct{ client, payload, conc string }{
		{"ceiling", "fcmv1", "1"},
		{"ceiling", "apple", "4"},
		{"sdk", "fcmv1", "4"},
		{"sdk", "apple", "1"},
	} {
		t.Run(tc.client+"/"+tc.payload+"/"+tc.conc, func(t *testing.T) {
			before := sends.Load()
			out, err := runChild(t, []string{"SSL_CERT_FILE=" + certFile, envConnectionString + "=" + cs},
				"-client", tc.client, "-payload", tc.payload, "-conc", tc.conc,
				"-warmup", "0", "-duration", "10s", "-max-sends", "40")
			if err != nil {
				t.Fatalf("benchclient: %v", err)
			}
			if strings.Contains(out, "dGVzdC1rZXkt") {
				t.Fatal("benchclient printed the key")
			}
			r, err := bench.ParseResult(strings.TrimSpace(out))
			if err != nil {
				t.Fatal(err)
			}
			wantName := "BenchmarkSend/server=sink/client=" + tc.client + "/payload=" + tc.payload + "/conc=" + tc.conc
			if r.Name != wantName {
				t.Errorf("name %q, want %q", r.Name, wantName)
			}
			if r.N != 40 {
				t.Errorf("N = %d, want 40 (the -max-sends bound)", r.N)
			}
			for _, u := range []string{bench.UnitNsPerOp, bench.UnitSendsPerSec, bench.UnitSendsPerCPU, bench.UnitAllocsPerOp, bench.UnitPeakRSSBytes} {
				if r.Metrics[u] <= 0 {
					t.Errorf("%s = %v, want > 0", u, r.Metrics[u])
				}
			}
			if got := sends.Load() - before; got < 40 {
				t.Errorf("the sink answered %d sends, want at least 40", got)
			}
		})
	}
}

// TestPairTakesTurns runs pair: two children, the ceiling and the SDK,
// sending in turns, and its two result lines, the ceiling's first.
func TestPairTakesTurns(t *testing.T) {
	cs, certFile, sends := sink(t)
	before := sends.Load()
	out, err := runChild(t, []string{"SSL_CERT_FILE=" + certFile, envConnectionString + "=" + cs},
		"-client", "pair", "-payload", "apple", "-conc", "2", "-warmup", "0", "-slices", "3", "-slice", "30ms")
	if err != nil {
		t.Fatalf("benchclient: %v", err)
	}
	if strings.Contains(out, "dGVzdC1rZXkt") {
		t.Fatal("benchclient printed the key")
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), out)
	}
	var total int64
	for i, client := range []string{"ceiling", "sdk"} {
		r, err := bench.ParseResult(lines[i])
		if err != nil {
			t.Fatal(err)
		}
		if want := "BenchmarkSend/server=sink/client=" + client + "/payload=apple/conc=2"; r.Name != want {
			t.Errorf("line %d: name %q, want %q", i+1, r.Name, want)
		}
		if r.N <= 0 || r.Metrics[bench.UnitSendsPerSec] <= 0 || r.Metrics[bench.UnitSendsPerCPU] <= 0 {
			t.Errorf("%s: N %d, metrics %v: want sends", client, r.N, r.Metrics)
		}
		// Sends per second count only the client's own three slices of
		// 30 ms: at most 90 ms and the last sends' tail.
		if ns := r.Metrics[bench.UnitNsPerOp] * float64(r.N); ns > float64(3*time.Second) {
			t.Errorf("%s: %v of active time for three 30 ms slices", client, time.Duration(ns))
		}
		total += r.N
	}
	if got := sends.Load() - before; got < total {
		t.Errorf("the sink answered %d sends, the clients counted %d", got, total)
	}
}

// TestCeilingSendsTheSDKRequest checks that the ceiling posts what the
// SDK posts: same method, path, query, headers and body.
func TestCeilingSendsTheSDKRequest(t *testing.T) {
	n, err := notification("apple")
	if err != nil {
		t.Fatal(err)
	}
	o := options{hub: "bench", tagExpr: "user_42 && !muted", conc: 1}
	cs := "Endpoint=sb://127.0.0.1:1/;SharedAccessKeyName=Rule;SharedAccessKey=dGVzdC1rZXktbm90LWEtc2VjcmV0"
	cr, err := captureSDKRequest(context.Background(), cs, o, n)
	if err != nil {
		t.Fatal(err)
	}
	if cr.method != http.MethodPost || !strings.HasPrefix(cr.url, "https://127.0.0.1:1/bench/messages?api-version=") {
		t.Errorf("captured %s %s", cr.method, cr.url)
	}
	for name, want := range map[string]string{
		"ServiceBusNotification-Format": "apple",
		"ServiceBusNotification-Tags":   "user_42 && !muted",
		"Apns-Push-Type":                "alert",
		"Apns-Priority":                 "10",
	} {
		if got := headerValue(cr.header, name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	if !strings.HasPrefix(cr.header.Get("Authorization"), "SharedAccessSignature ") {
		t.Error("the captured request has no SAS token")
	}
	if string(cr.body) != applePayload {
		t.Errorf("body %q, want the Apple payload", cr.body)
	}
}

func TestRejectsBadFlags(t *testing.T) {
	env := func(k string) string {
		if k == envConnectionString {
			return "Endpoint=sb://127.0.0.1:1/;SharedAccessKeyName=R;SharedAccessKey=eA=="
		}
		return ""
	}
	for _, args := range [][]string{
		{"-client", "python"},
		{"-payload", "wns"},
		{"-conc", "0"},
		{"-client", "pair", "-slices", "0"},
		{"-client", "pair", "-payload", "wns"},
	} {
		if err := run(context.Background(), args, strings.NewReader(""), &bytes.Buffer{}, env); err == nil {
			t.Errorf("run(%q) succeeded, want an error", args)
		}
	}
	if err := run(context.Background(), nil, strings.NewReader(""), &bytes.Buffer{}, func(string) string { return "" }); err == nil {
		t.Error("run without a connection string succeeded")
	}
}

// headerValue finds a header whatever the case of its key (the SDK sets
// some keys in the service's spelling, not Go's canonical one).
func headerValue(h http.Header, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// TestEmulatorSetupGivesOneTargetPerSend checks the emulator benchmark's
// premise: after setup, each send with the benchmark's tag expression
// reaches exactly one installation of its platform.
func TestEmulatorSetupGivesOneTargetPerSend(t *testing.T) {
	emu := emulatortest.NewServer(t)
	env := []string{"SSL_CERT_FILE=" + emu.CertFile, envConnectionString + "=" + emu.ConnectionString}
	if _, err := runChild(t, env, "-client", "setup", "-users", "50"); err != nil {
		t.Fatalf("setup: %v", err)
	}
	for _, payload := range []string{"fcmv1", "apple"} {
		out, err := runChild(t, env, "-client", "sdk", "-server", "emulator", "-payload", payload, "-conc", "2",
			"-warmup", "0", "-duration", "10s", "-max-sends", "6")
		if err != nil {
			t.Fatalf("sdk against the emulator: %v", err)
		}
		r, err := bench.ParseResult(strings.TrimSpace(out))
		if err != nil {
			t.Fatal(err)
		}
		if r.N != 6 {
			t.Errorf("%s: N = %d, want 6", payload, r.N)
		}
	}
	got := map[string]int{}
	for _, d := range emu.Deliveries(emulator.DeliveryFilter{Hub: "bench", Tag: "user_42"}) {
		got[d.Platform+" "+d.Handle]++
	}
	want := map[string]int{
		"fcmv1 bench-fcm-token-00000042":          6,
		"apple " + strings.Repeat("0", 62) + "2A": 6, // the service upper-cases APNs tokens
	}
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("deliveries by platform and handle (-want +got):\n%s", d)
	}
}

// TestTakeTurnsCountsOwnSlices drives one pair child by hand, with a wait
// between its two slices as if the other child were sending: its sends
// per second count only its own slices, not the wait.
func TestTakeTurnsCountsOwnSlices(t *testing.T) {
	inR, inW := io.Pipe()
	var out bytes.Buffer
	send := func(context.Context) error { time.Sleep(time.Millisecond); return nil }
	o := options{conc: 2, duration: 20 * time.Millisecond, maxSends: 1 << 30}
	done := make(chan error, 1)
	go func() { done <- takeTurns(context.Background(), "BenchmarkSend/x", o, send, inR, &out) }()
	start := time.Now()
	for _, step := range []string{"run", "wait", "run", "end"} {
		if step == "wait" {
			time.Sleep(250 * time.Millisecond) // the other child's slice
			continue
		}
		if _, err := io.WriteString(inW, step+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("takeTurns: %v", err)
	}
	elapsed := time.Since(start)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || lines[0] != turnReady || lines[1] != turnDone || lines[2] != turnDone {
		t.Fatalf("protocol lines %q, want ready, done, done, result", lines)
	}
	r, err := bench.ParseResult(lines[3])
	if err != nil {
		t.Fatal(err)
	}
	active := time.Duration(r.Metrics[bench.UnitNsPerOp] * float64(r.N))
	if active < 40*time.Millisecond || active > 150*time.Millisecond || elapsed < 250*time.Millisecond {
		t.Errorf("active time %v over two slices of 20 ms (%v in all): want only the slices", active, elapsed)
	}
}
