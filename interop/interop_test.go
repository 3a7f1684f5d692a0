// Package interop_test runs official, unmodified Notification Hubs clients
// against the emulator over TLS with the emulator's certificate:
//
//   - TestJSSDK runs the node:test suite in js/ (the @azure/notification-hubs
//     SDK pinned in js/package.json) and then checks, in the emulator's
//     delivery log, what each of its sends delivered.
//   - TestJSSDKReadDelay runs the same suite with the emulator's
//     read-after-write delay on; the JS tests wait for their writes.
//   - TestJSSDKVerifiesTLS proves the SDK refuses the emulator without its
//     certificate, so the suite cannot pass with verification off.
//   - TestPythonSample runs Microsoft's Python REST sample, which may not be
//     committed here, from the file named by NH_PYTHON_SAMPLE.
//
// Without node, python3 or js/node_modules the tests skip, unless the
// environment variable CI is set, in which case they fail.
package interop_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nhkit/notificationhubs/emulator"
	"github.com/nhkit/notificationhubs/emulator/emulatortest"
)

// jsHub is the hub the JS suite works in; the emulator creates it on first use.
const jsHub = "interop-js"

// inCI reports whether missing tools must fail the run instead of skipping it.
func inCI() bool { return os.Getenv("CI") != "" }

// skipOrFatal skips the test, or fails it under CI.
func skipOrFatal(t *testing.T, format string, args ...any) {
	t.Helper()
	if inCI() {
		t.Fatalf(format+" (CI is set, so this is an error)", args...)
	}
	t.Skipf(format, args...)
}

// lookTool finds a program on PATH or skips (fails under CI).
func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		skipOrFatal(t, "%s is not on PATH; install it to run the interop suite", name)
	}
	return p
}

var keyRE = regexp.MustCompile(`(?i)SharedAccessKey=([^;]*)`)

// sharedAccessKey returns the SharedAccessKey value of a connection string.
func sharedAccessKey(cs string) string {
	if m := keyRE.FindStringSubmatch(cs); m != nil {
		return m[1]
	}
	return ""
}

// wrongKey returns cs with its key replaced by a random one of the same shape.
func wrongKey(t *testing.T, cs string) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("wrong-key connection string: reading random bytes: %v", err)
	}
	out := keyRE.ReplaceAllLiteralString(cs, "SharedAccessKey="+base64.StdEncoding.EncodeToString(b))
	if out == cs {
		t.Fatal("wrong-key connection string: the emulator's connection string has no SharedAccessKey")
	}
	return out
}

// childEnv is the environment for a client process: the parent's, minus
// anything that would turn TLS verification off, route loopback traffic to a
// proxy or leak a caller's own Notification Hubs settings, plus extra.
func childEnv(extra ...string) []string {
	drop := func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "NODE_TLS_REJECT_UNAUTHORIZED", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
			"NODE_OPTIONS", "PYTHONHTTPSVERIFY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE":
			return true
		}
		return strings.HasPrefix(strings.ToUpper(k), "NH_")
	}
	var env []string
	for _, kv := range os.Environ() {
		if !drop(kv) {
			env = append(env, kv)
		}
	}
	env = append(env, "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
	return append(env, extra...)
}

// logWriter sends complete lines to t.Log, with every secret replaced.
type logWriter struct {
	t       *testing.T
	prefix  string
	secrets []string
	mu      sync.Mutex
	buf     bytes.Buffer
}

var sigRE = regexp.MustCompile(`(?i)(SharedAccessSignature\s+)\S+|(sig=)[^&\s"']+`)

func (w *logWriter) redact(s string) string {
	for _, k := range w.secrets {
		if k != "" {
			s = strings.ReplaceAll(s, k, "REDACTED")
		}
	}
	return sigRE.ReplaceAllString(s, "${1}${2}REDACTED")
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.WriteString(line) // incomplete: keep for later
			break
		}
		w.t.Log(w.prefix + w.redact(strings.TrimRight(line, "\r\n")))
	}
	return len(p), nil
}

func (w *logWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() > 0 {
		w.t.Log(w.prefix + w.redact(w.buf.String()))
		w.buf.Reset()
	}
}

// run runs cmd with its output sent to the test log and fails the test if it
// does not exit 0.
func run(t *testing.T, cmd *exec.Cmd, prefix string, secrets []string) {
	t.Helper()
	w := &logWriter{t: t, prefix: prefix, secrets: secrets}
	cmd.Stdout = w
	cmd.Stderr = w
	err := cmd.Run()
	w.flush()
	if err != nil {
		t.Fatalf("%s failed: %v (output above)", filepath.Base(cmd.Path), err)
	}
}

// expectation is one line of the JS suite's report: what a send should have
// delivered. See expectDeliveries in js/helpers.mjs.
type expectation struct {
	Hub            string            `json:"hub"`
	Name           string            `json:"name"`
	NotificationID string            `json:"notificationId"`
	Handles        []string          `json:"handles"`
	Exact          bool              `json:"exact"`
	Excludes       []string          `json:"excludes"`
	OneOf          []string          `json:"oneOf"`
	Count          *int              `json:"count"`
	Payloads       map[string]string `json:"payloads"`
	Format         string            `json:"format"`
	Headers        map[string]string `json:"headers"`
	Contains       map[string]string `json:"contains"`
	Test           *bool             `json:"test"`
	Direct         *bool             `json:"direct"`
	None           bool              `json:"none"`
	// Marker selects deliveries by a string in their payload, for clients
	// (the Python sample) that do not return notification ids.
	Marker string `json:"marker"`
}

func readExpectations(t *testing.T, path string) []expectation {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("reading the JS suite's report %s: %v", path, err)
	}
	defer f.Close()
	var out []expectation
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 4<<20)
	for n := 1; sc.Scan(); n++ {
		var e expectation
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("report line %d: %v", n, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading the JS suite's report: %v", err)
	}
	return out
}

// samePayload compares payloads as JSON values when both parse, else as
// text. The emulator records what the push service would receive, so for FCM
// the hub has filled in the target ("to" for legacy, "message.token" for v1);
// a target equal to the delivery's handle is ignored.
func samePayload(want, got, handle string) bool {
	var w, g any
	if json.Unmarshal([]byte(want), &w) == nil && json.Unmarshal([]byte(got), &g) == nil {
		if m, ok := g.(map[string]any); ok {
			if m["to"] == handle {
				delete(m, "to")
			}
			if msg, ok := m["message"].(map[string]any); ok && msg["token"] == handle {
				delete(msg, "token")
			}
		}
		return cmp.Equal(w, g)
	}
	return want == got
}

func headerValue(h map[string]string, name string) (string, bool) {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// checkExpectation returns what is wrong with the deliveries ds for e.
func checkExpectation(e expectation, ds []emulator.Delivery) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	var live []emulator.Delivery
	for _, d := range ds {
		if d.Outcome != "Skipped" {
			live = append(live, d)
		}
	}
	if e.None {
		if len(live) != 0 {
			bad("want no delivery, got %d", len(live))
		}
		return problems
	}
	got := make([]string, 0, len(live))
	for _, d := range live {
		got = append(got, d.Handle)
	}
	if e.Count != nil && len(live) != *e.Count {
		bad("got %d deliveries, want %d (handles %q)", len(live), *e.Count, got)
	}
	if e.OneOf != nil {
		for _, h := range got {
			if !containsFold(e.OneOf, h) {
				bad("delivered to unexpected handle %q (want one of %q)", h, e.OneOf)
			}
		}
	}
	if e.Handles != nil {
		if e.Exact {
			want := slices.Clone(e.Handles)
			g := slices.Clone(got)
			sort.Strings(want)
			sort.Strings(g)
			if diff := cmp.Diff(want, g); diff != "" {
				bad("delivered handles mismatch (-want +got):\n%s", diff)
			}
		} else {
			for _, h := range e.Handles {
				if !containsFold(got, h) {
					bad("no delivery to %q", h)
				}
			}
		}
	}
	for _, h := range e.Excludes {
		if containsFold(got, h) {
			bad("delivered to excluded handle %q", h)
		}
	}
	for _, d := range live {
		for h, want := range e.Payloads {
			if strings.EqualFold(h, d.Handle) && !samePayload(want, d.Payload, d.Handle) {
				bad("payload to %q:\n got  %s\n want %s", d.Handle, d.Payload, want)
			}
		}
		for h, want := range e.Contains {
			if strings.EqualFold(h, d.Handle) && !strings.Contains(d.Payload, want) {
				bad("payload to %q does not contain %q: %s", d.Handle, want, d.Payload)
			}
		}
		if e.Format != "" && !strings.EqualFold(d.Format, e.Format) {
			bad("delivery to %q has format %q, want %q", d.Handle, d.Format, e.Format)
		}
		for k, want := range e.Headers {
			if v, ok := headerValue(d.Headers, k); !ok || v != want {
				bad("delivery to %q: header %s = %q (present %v), want %q", d.Handle, k, v, ok, want)
			}
		}
		if e.Test != nil && d.Test != *e.Test {
			bad("delivery to %q: Test = %v, want %v", d.Handle, d.Test, *e.Test)
		}
		if e.Direct != nil && d.Direct != *e.Direct {
			bad("delivery to %q: Direct = %v, want %v", d.Handle, d.Direct, *e.Direct)
		}
	}
	return problems
}

// jsSDKDir returns the absolute path of js/, skipping (failing under CI)
// when the SDK has not been installed there.
func jsSDKDir(t *testing.T) string {
	t.Helper()
	jsDir, err := filepath.Abs("js")
	if err != nil {
		t.Fatal(err)
	}
	sdk := filepath.Join(jsDir, "node_modules", "@azure", "notification-hubs", "package.json")
	if _, err := os.Stat(sdk); err != nil {
		skipOrFatal(t, "the JS SDK is not installed: run `npm ci` in interop/js")
	}
	return jsDir
}

// TestJSSDK runs the official JS SDK's interop suite against the emulator and
// then checks the emulator's deliveries against what the suite expected.
func TestJSSDK(t *testing.T) {
	t.Parallel()
	runJSSuite(t, emulator.Options{})
}

// readDelay is the read-after-write delay of TestJSSDKReadDelay.
const readDelay = 1500 * time.Millisecond

// TestJSSDKReadDelay runs the same suite against an emulator whose installation
// reads lag writes by readDelay, as the service's do (writes are "processed in the
// background", docs/protocol.md, "Installation operations"). NH_READ_DELAY_MS
// tells the JS tests, which then wait for each write with eventually() (the JS SDK
// has no wait of its own) and check that a read right after a write does not show
// it yet.
func TestJSSDKReadDelay(t *testing.T) {
	t.Parallel()
	runJSSuite(t, emulator.Options{ReadDelay: readDelay},
		"NH_READ_DELAY_MS="+strconv.FormatInt(readDelay.Milliseconds(), 10))
}

// runJSSuite starts an emulator with opts, runs the JS suite against it with
// extraEnv added to its environment and checks every send it reports
// against the emulator's deliveries.
func runJSSuite(t *testing.T, opts emulator.Options, extraEnv ...string) {
	t.Helper()
	node := lookTool(t, "node")
	jsDir := jsSDKDir(t)

	srv := emulatortest.NewServerWithOptions(t, opts)
	wrong := wrongKey(t, srv.ConnectionString)
	report := filepath.Join(t.TempDir(), "report.jsonl")
	// Jobs write their output into the emulator's own blob store, so
	// nothing leaves the machine.
	jobs := srv.ContainerURL(srv.URL, "interop-jobs")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-concurrency=1", "--test-reporter=spec")
	cmd.Dir = jsDir
	cmd.Env = childEnv(append([]string{
		"NH_CONNECTION_STRING=" + srv.ConnectionString,
		"NH_LISTEN_CONNECTION_STRING=" + srv.ListenConnectionString,
		"NH_WRONG_KEY_CONNECTION_STRING=" + wrong,
		"NH_HUB=" + jsHub,
		"NH_INTEROP_REPORT=" + report,
		"NH_JOB_CONTAINER_URL=" + jobs,
		"NODE_EXTRA_CA_CERTS=" + srv.CertFile,
		"NO_COLOR=1",
	}, extraEnv...)...)
	secrets := []string{
		srv.ConnectionString, srv.ListenConnectionString, wrong, jobs,
		sharedAccessKey(srv.ConnectionString), sharedAccessKey(srv.ListenConnectionString), sharedAccessKey(wrong),
	}
	run(t, cmd, "node: ", secrets)

	exps := readExpectations(t, report)
	if len(exps) == 0 {
		t.Fatal("the JS suite passed but reported no sends to check")
	}
	t.Logf("checking %d sends of the JS suite against the emulator's deliveries", len(exps))
	for _, e := range exps {
		if e.NotificationID == "" {
			t.Errorf("%s: the SDK returned no notification id", e.Name)
			continue
		}
		ds := srv.Deliveries(emulator.DeliveryFilter{Hub: e.Hub, NotificationID: e.NotificationID})
		for _, p := range checkExpectation(e, ds) {
			t.Errorf("%s (notification %s): %s", e.Name, e.NotificationID, p)
		}
	}
}

// TestJSSDKVerifiesTLS checks that TLS verification is really on for the
// JS suite: without NODE_EXTRA_CA_CERTS the SDK must refuse the emulator's
// self-signed certificate.
func TestJSSDKVerifiesTLS(t *testing.T) {
	node := lookTool(t, "node")
	jsDir := jsSDKDir(t)
	srv := emulatortest.NewServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "tlscheck.mjs")
	cmd.Dir = jsDir
	cmd.Env = childEnv("NH_CONNECTION_STRING="+srv.ConnectionString, "NH_HUB="+jsHub)
	run(t, cmd, "node: ", []string{srv.ConnectionString, sharedAccessKey(srv.ConnectionString)})
}

// TestPythonSample runs Microsoft's Python REST sample ("How to use
// Notification Hubs from Python") unmodified against the emulator. The
// sample may not be committed here: NH_PYTHON_SAMPLE names a Python file
// that defines the sample's NotificationHub and Notification classes (see
// python/README.md). The driver in python/ imports it and exercises it.
func TestPythonSample(t *testing.T) {
	sample := os.Getenv("NH_PYTHON_SAMPLE")
	if sample == "" {
		t.Skip("NH_PYTHON_SAMPLE is not set; see interop/python/README.md")
	}
	sample, err := filepath.Abs(sample)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(sample); err != nil {
		t.Fatalf("NH_PYTHON_SAMPLE: %v", err)
	}
	python := lookTool(t, "python3")
	driver, err := filepath.Abs(filepath.Join("python", "drive_sample.py"))
	if err != nil {
		t.Fatal(err)
	}

	srv := emulatortest.NewServer(t)
	const hub = "interop-python"
	report := filepath.Join(t.TempDir(), "report.jsonl")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, driver, sample)
	cmd.Env = childEnv(
		"NH_CONNECTION_STRING="+srv.ConnectionString,
		"NH_HUB="+hub,
		"REQUESTS_CA_BUNDLE="+srv.CertFile,
		"NH_INTEROP_REPORT="+report,
		"SSL_CERT_FILE="+srv.CertFile,
		"PYTHONDONTWRITEBYTECODE=1",
		"PYTHONUNBUFFERED=1",
	)
	run(t, cmd, "python: ", []string{srv.ConnectionString, sharedAccessKey(srv.ConnectionString)})

	exps := readExpectations(t, report)
	if len(exps) == 0 {
		t.Fatal("the Python driver passed but reported no sends to check")
	}
	all := srv.Deliveries(emulator.DeliveryFilter{Hub: hub})
	for _, e := range exps {
		if e.Marker == "" {
			t.Errorf("%s: report line has no marker", e.Name)
			continue
		}
		var ds []emulator.Delivery
		for _, d := range all {
			if strings.Contains(d.Payload, e.Marker) {
				ds = append(ds, d)
			}
		}
		for _, p := range checkExpectation(e, ds) {
			t.Errorf("%s: %s", e.Name, p)
		}
	}
}
