package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	notificationhubs "github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/emulator"
)

func TestEveryCommandHasAnExample(t *testing.T) {
	root := newRootCmd(newFactory(IO{}, envMap(nil)))
	var walk func(c *cobra.Command)
	n := 0
	walk = func(c *cobra.Command) {
		n++
		if c.Example == "" {
			t.Errorf("%q has no example", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if n < 30 {
		t.Errorf("walked %d commands, want at least 30", n)
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"usage", usageErrorf("bad"), ExitUsage},
		{"cobra unknown command", errors.New(`unknown command "x" for "nh"`), ExitUsage},
		{"plain", errors.New("boom"), ExitError},
		{"404", &notificationhubs.ResponseError{StatusCode: 404}, ExitError},
		{"401", &notificationhubs.ResponseError{StatusCode: 401}, ExitAuth},
		{"403", &notificationhubs.ResponseError{StatusCode: 403}, ExitAuth},
		{"403 with Retry-After is throttling", &notificationhubs.ResponseError{StatusCode: 403, RetryAfter: time.Second}, ExitError},
		{"wrapped 401", errorsJoin("send", &notificationhubs.ResponseError{StatusCode: 401}), ExitAuth},
		{"silent", &silentError{code: 1}, ExitError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if got := reportError(&buf, nil, tt.err); got != tt.want {
				t.Errorf("reportError(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func errorsJoin(msg string, err error) error { return &wrapped{msg, err} }

type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg + ": " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }

func TestAuthHint(t *testing.T) {
	var buf bytes.Buffer
	reportError(&buf, nil, &notificationhubs.ResponseError{StatusCode: 401, Detail: "InvalidSignature"})
	if !strings.Contains(buf.String(), "check the connection string") {
		t.Errorf("401 output has no hint about the connection string:\n%s", buf.String())
	}
	buf.Reset()
	reportError(&buf, nil, &notificationhubs.ResponseError{StatusCode: 404})
	if strings.Contains(buf.String(), "hint") {
		t.Errorf("404 output has a hint:\n%s", buf.String())
	}
}

func TestNewSendCmdParsing(t *testing.T) {
	tests := []struct {
		args    []string
		want    sendOptions
		wantErr string
	}{
		{args: []string{"apple", `{"aps":{}}`, "--tag", "a", "--tag", "b"},
			want: sendOptions{format: "apple", payload: `{"aps":{}}`, tags: []string{"a", "b"}}},
		{args: []string{"--format", "windows", "@t.xml", "--tag-expression", "a && !b", "--test", "--debug"},
			want: sendOptions{format: "windows", payload: "@t.xml", tagExpression: "a && !b", test: true, debug: true}},
		{args: []string{"mpns", "x", "--direct", "h1", "--direct", "h2", "--header", "X-NotificationClass:2"},
			want: sendOptions{format: "windowsphone", payload: "x", direct: []string{"h1", "h2"}, headers: []string{"X-NotificationClass:2"}}},
		{args: []string{"template", "--prop", "a=1"},
			want: sendOptions{format: "template", props: []string{"a=1"}}},
		{args: []string{"--each", "rows.csv", "--concurrency", "4"},
			want: sendOptions{each: "rows.csv", concurrency: 4}},
		{args: []string{"apple", "x", "--deliveries", "never"},
			want: sendOptions{format: "apple", payload: "x", deliveries: "never"}},
		{args: []string{"apple", "x", "--deliveries", "sometimes"}, wantErr: "--deliveries must be auto, always or never"},
		{args: []string{"x"}, wantErr: "say which format"},
		{args: []string{"--format", "nokia", "x"}, wantErr: "unknown format"},
		{args: []string{"apple", "x", "--tag", "a", "--tag-expression", "b"}, wantErr: "exclude each other"},
		{args: []string{"apple", "x", "--direct", "h", "--test"}, wantErr: "--test works only"},
		{args: []string{"template", "x", "--direct", "h"}, wantErr: "cannot be sent directly"},
		{args: []string{"--each", "f.csv", "--tag", "a"}, wantErr: "--each takes the audience"},
		{args: []string{"--each", "f.csv", "--concurrency", "0"}, wantErr: "--concurrency"},
		{args: []string{"apple", "x", "--schedule", "soon"}, wantErr: "--schedule"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f := newFactory(IO{Out: io.Discard, Err: io.Discard}, envMap(nil))
			var got *sendOptions
			cmd := newSendCmd(f, func(_ context.Context, o *sendOptions) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(io.Discard)
			cmd.SetErr(io.Discard)
			err := cmd.Execute()
			if tt.wantErr != "" {
				var fe *flagError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &fe) {
					t.Fatalf("error = %v, want a usage error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g := *got
			g.f = nil
			g.maxAttempts, g.concurrency = 0, g.concurrency*boolInt(tt.want.each != "")
			if g.deliveries == "auto" {
				g.deliveries = "" // the default
			}
			opt := cmp.AllowUnexported(sendOptions{})
			if diff := cmp.Diff(tt.want, g, opt); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestParseScheduleTime(t *testing.T) {
	now := time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"+10m", now.Add(10 * time.Minute), false},
		{"2026-11-27T08:30:00Z", time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC), false},
		{"2026-11-27T08:30:00+01:00", time.Date(2026, 11, 27, 7, 30, 0, 0, time.UTC), false},
		{"2026-11-27T08:30:00", time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC), false},
		{"+-5m", time.Time{}, true},
		{"tomorrow", time.Time{}, true},
	}
	for _, tt := range tests {
		got, err := parseScheduleTime(tt.in, now)
		if (err != nil) != tt.err {
			t.Errorf("parseScheduleTime(%q) error = %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("parseScheduleTime(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestWriteCaret(t *testing.T) {
	tests := []struct {
		expr string
		pos  int
		want string
	}{
		{"a && ", 5, "  a && \n       ^\n"},
		{"(a", 0, "  (a\n  ^\n"},
		{"é || ", 3, "  é || \n    ^\n"}, // byte offset 3 is the third rune, '|'
	}
	for _, tt := range tests {
		var b bytes.Buffer
		writeCaret(&b, tt.expr, tt.pos)
		if b.String() != tt.want {
			t.Errorf("writeCaret(%q, %d) = %q, want %q", tt.expr, tt.pos, b.String(), tt.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	got := redactURL("https://acct.blob.core.windows.net/c?sv=2014-02-14&sr=c&sig=c2VjcmV0&se=2026&sp=rl")
	if strings.Contains(got, "c2VjcmV0") || !strings.Contains(got, "sig=REDACTED") {
		t.Errorf("redactURL = %q, want the signature redacted", got)
	}
}

// TestDemo runs nh demo and checks that every platform received its
// notification, that the template send rendered both greetings, and that
// the debug dump shows no key and no signature.
func TestDemo(t *testing.T) {
	stdio, out, errb := testIO("")
	if code := Main(context.Background(), []string{"demo"}, stdio, envMap(nil)); code != 0 {
		t.Fatalf("nh demo exit code %d, stderr:\n%s", code, errb.String())
	}
	text := out.String()
	for _, want := range []string{
		"Windows (WNS)", "Windows Phone (MPNS)", "iOS (APNs)", "Android (FCM v1)", "Android (FCM legacy)",
		"Kindle (ADM)", "Baidu", "Hello from WNS!", "Hello from APNs!", "Hello from FCM v1!", "Hello from FCM legacy!",
		"Hello from ADM!", "Hello from Baidu!", "Hello from MPNS!", "Salut !", "sig=REDACTED",
		"outcome: DetailedStateAvailable, 1 succeeded",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if strings.Contains(text, emulator.DefaultFullKey) {
		t.Error("demo output contains the key")
	}
	if errb.Len() != 0 {
		t.Errorf("demo wrote to stderr:\n%s", errb.String())
	}
}

func TestDemoJSON(t *testing.T) {
	stdio, out, errb := testIO("")
	if code := Main(context.Background(), []string{"demo", "-o", "json"}, stdio, envMap(nil)); code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", code, errb.String())
	}
	var got struct {
		Steps []demoStep `json:"steps"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("demo JSON: %v\n%s", err, out.String())
	}
	reached := map[string]int{}
	byTitle := map[string][]string{}
	for _, s := range got.Steps {
		for _, d := range s.Deliveries {
			reached[d.Device]++
			byTitle[s.Title] = append(byTitle[s.Title], d.Device)
		}
	}
	for _, dev := range demoDevices() {
		if reached[dev.label] == 0 {
			t.Errorf("no delivery to %s", dev.label)
		}
	}
	// The tag sends reach exactly the devices with the tag.
	if diff := cmp.Diff([]string{"Windows (WNS)", "iOS (APNs)", "Android (FCM v1)", "Kindle (ADM)"},
		byTitle["Send to sports (one native send per platform)"]); diff != "" {
		t.Errorf("devices reached by sports (-want +got):\n%s", diff)
	}
	if n := len(byTitle["Send to sports || politics (one native send per platform)"]); n != 7 {
		t.Errorf("sports || politics reached %d devices, want 7", n)
	}
}

// TestEmulatorCommand runs nh emulator on a random port, uses it with nh,
// and stops it by cancelling the context (as SIGINT does).
func TestEmulatorCommand(t *testing.T) {
	dir := t.TempDir()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		stdio := IO{In: strings.NewReader(""), Out: pw, Err: pw}
		done <- Main(ctx, []string{"emulator", "--listen", "127.0.0.1:0", "--cert-dir", dir, "--hub", "h1"}, stdio, envMap(nil))
		pw.Close()
	}()
	var cs string
	var printed strings.Builder
	sc := bufio.NewScanner(pr)
	re := regexp.MustCompile(`Connection string \(full\):\s+(\S+)`)
	for sc.Scan() {
		printed.WriteString(sc.Text() + "\n")
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			cs = m[1]
			break
		}
	}
	// How each client trusts the certificate, Go's line beside the others.
	cert := filepath.Join(dir, "cert.pem")
	for _, want := range []string{"\n  Go:     SSL_CERT_FILE=" + cert + " ", "\n  nh:     NH_CA_FILE=" + cert + "\n",
		"\n  Node:   NODE_EXTRA_CA_CERTS=" + cert + "\n", "\n  Python: SSL_CERT_FILE=" + cert + " "} {
		if !strings.Contains(printed.String(), want) {
			t.Errorf("nh emulator output lacks %q:\n%s", want, printed.String())
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if cs == "" {
		t.Fatal("nh emulator printed no connection string")
	}
	env := envMap(map[string]string{
		"NH_CONNECTION_STRING": cs,
		"NH_HUB":               "h1",
		"NH_CA_FILE":           filepath.Join(dir, "cert.pem"),
	})
	stdio, out, errb := testIO("")
	if code := Main(context.Background(), []string{"registration", "create", "--platform", "apple", "--handle", "AB12"}, stdio, env); code != 0 {
		t.Fatalf("registration create: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "AB12") {
		t.Errorf("registration create output:\n%s", out.String())
	}
	// A hub that the emulator was not told about does not exist.
	stdio, _, errb = testIO("")
	if code := Main(context.Background(), []string{"registration", "list", "--hub", "other"}, stdio, env); code != ExitError {
		t.Errorf("list on an unknown hub: exit %d, want 1: %s", code, errb.String())
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("nh emulator exit code %d after cancel, want 0", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("nh emulator did not stop")
	}
}

func TestEmulatorFlags(t *testing.T) {
	stdio, _, errb := testIO("")
	if code := Main(context.Background(), []string{"emulator", "--cert", "a.pem"}, stdio, envMap(nil)); code != ExitUsage {
		t.Errorf("--cert without --cert-key: exit %d, want 2 (%s)", code, errb.String())
	}
}

// TestCAFile checks NH_CA_FILE errors: a missing file and a file without PEM.
func TestCAFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ca := range []string{filepath.Join(dir, "missing.pem"), bad} {
		f := newFactory(IO{}, envMap(map[string]string{envCAFile: ca}))
		if _, err := f.httpClient(); err == nil || !strings.Contains(err.Error(), envCAFile) {
			t.Errorf("NH_CA_FILE=%s: error %v, want one naming %s", ca, err, envCAFile)
		}
	}
}

// TestEmulatorRedactsChosenKeys checks that keys given with --full-key,
// --listen-key and --namespace-key never appear in nh emulator's output.
func TestEmulatorRedactsChosenKeys(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		stdio := IO{In: strings.NewReader(""), Out: pw, Err: pw}
		done <- Main(ctx, []string{"emulator", "--listen", "127.0.0.1:0", "--plain-http",
			"--full-key", "Zm9vLWZ1bGwtc2VjcmV0", "--listen-key", "Zm9vLWxpc3Rlbi1zZWNyZXQ", "--namespace-key", "Zm9vLW5zLXNlY3JldA"}, stdio, envMap(nil))
		pw.Close()
	}()
	var out strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "Connection string (listen)") {
			break
		}
	}
	cancel()
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	<-done
	if strings.Contains(out.String(), "secret") || strings.Contains(out.String(), "Zm9v") {
		t.Errorf("emulator output shows a chosen key:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "SharedAccessKey=REDACTED") {
		t.Errorf("emulator output has no redacted connection string:\n%s", out.String())
	}
}

// TestEmulatorFlagsReachOptions checks that every emulator flag lands in
// the options handed to the emulator, under its documented name.
func TestEmulatorFlagsReachOptions(t *testing.T) {
	var got *emulatorOptions
	f := &factory{}
	cmd := newEmulatorCmd(f, func(_ context.Context, o *emulatorOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--data", "/tmp/nh-data", "--tier", "basic", "--telemetry-delay", "5s",
		"--read-delay", "1500ms", "--test-sends-per-minute", "-1", "--job-step-delay", "2s",
		"--throttle-rate", "50", "--throttle-burst", "10", "--throttle-window", "1s", "--allow-remote-storage"})
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got == nil {
		t.Fatal("run function not called")
	}
	if got.dataDir != "/tmp/nh-data" || got.tier != "basic" || got.telemetryDelay != 5*time.Second ||
		got.readDelay != 1500*time.Millisecond || got.testSendsPerMinute != -1 || got.jobStepDelay != 2*time.Second ||
		got.throttleRate != 50 || got.throttleBurst != 10 || got.throttleWindow != time.Second || !got.allowRemoteStorage {
		t.Errorf("options = %+v", *got)
	}
}

// TestExitCodeTable keeps the table of nh --help true: it is printed
// from exitCodes, every code Main returns has a row, and each row's
// meaning is what nh does, shown by examples run against an emulator.
func TestExitCodeTable(t *testing.T) {
	stdio, out, _ := testIO("")
	if code := Main(context.Background(), []string{"--help"}, stdio, envMap(nil)); code != 0 {
		t.Fatalf("nh --help: exit %d", code)
	}
	help := out.String()
	if !strings.Contains(help, "\n"+exitCodeHelp()+"\n") {
		t.Errorf("nh --help does not show the exit code table:\n%s", help)
	}
	rows := map[int]bool{}
	for _, e := range exitCodes {
		rows[e.code] = true
		if !regexp.MustCompile(`(?m)^  ` + strconv.Itoa(e.code) + `  \S`).MatchString(help) {
			t.Errorf("nh --help has no row for exit code %d", e.code)
		}
	}
	for _, code := range []int{ExitOK, ExitError, ExitUsage, ExitAuth} {
		if !rows[code] {
			t.Errorf("exit code %d is missing from the table", code)
		}
	}

	env, err := testEmulator()
	if err != nil {
		t.Fatal(err)
	}
	hub := "hub-exit-codes"
	vars := map[string]string{
		"NH_CONNECTION_STRING": env.emu.ConnectionString(env.endpoint(), false),
		"NH_HUB":               hub,
		"NH_CA_FILE":           env.caFile,
	}
	wrongKey := "Endpoint=" + env.endpoint() + ";SharedAccessKeyName=" + emulator.FullRuleName + ";SharedAccessKey=d3Jvbmcta2V5"
	examples := []struct {
		why  string
		args []string
		want int
	}{
		{"success", []string{"tags", "check", "sports"}, ExitOK},
		{"success", []string{"registration", "list"}, ExitOK},
		{"the service refused it", []string{"registration", "get", "1-2-3"}, ExitError},
		{"nh's check of a payload", []string{"send", "apple", `{"aps":`}, ExitError},
		{"nh's check of a tag expression", []string{"send", "apple", `{"aps":{}}`, "--tag-expression", "a &&"}, ExitError},
		{"nh's check of a tag", []string{"send", "apple", `{"aps":{}}`, "--tag", "a b"}, ExitError},
		{"nh's check of a handle", []string{"registration", "create", "--platform", "apns", "--handle", "ABC"}, ExitError},
		{"nh's check of a token", []string{"sas", "verify", "SharedAccessSignature sr=x&sig=y&se=1&skn=z"}, ExitError},
		{"an unknown command", []string{"frobnicate"}, ExitUsage},
		{"an unknown flag", []string{"send", "apple", "x", "--no-such-flag"}, ExitUsage},
		{"a missing argument", []string{"registration", "get"}, ExitUsage},
		{"an extra argument", []string{"send", "apple", "x", "y"}, ExitUsage},
		{"a flag value not one of its choices", []string{"send", "--format", "nokia", "x"}, ExitUsage},
		{"flags that do not go together", []string{"send", "apple", "x", "--tag", "a", "--tag-expression", "b"}, ExitUsage},
		{"401", []string{"registration", "list", "--connection-string", wrongKey}, ExitAuth},
		{"403 without Retry-After", []string{"send", "apple", `{"aps":{}}`, "--connection-string", env.emu.ConnectionString(env.endpoint(), true)}, ExitAuth},
	}
	seen := map[int]bool{}
	for _, ex := range examples {
		stdio, _, errb := testIO("")
		got := Main(context.Background(), ex.args, stdio, envMap(vars))
		if got != ex.want {
			t.Errorf("nh %s (%s): exit %d, want %d\n%s", strings.Join(ex.args, " "), ex.why, got, ex.want, errb.String())
		}
		seen[ex.want] = true
	}
	for code := range rows {
		if !seen[code] {
			t.Errorf("exit code %d has no example", code)
		}
	}
}

// TestValidationErrorsNameFlags: the SDK's checks of a payload reach the
// user in nh's words (PAYLOAD, --header, --content-type), never as SDK
// fields such as WindowsOptions.Type. Nothing is sent: the checks run
// before any request.
func TestValidationErrorsNameFlags(t *testing.T) {
	vars := map[string]string{
		"NH_CONNECTION_STRING": "Endpoint=sb://127.0.0.1:1/;SharedAccessKeyName=k;SharedAccessKey=a2V5",
		"NH_HUB":               "h",
	}
	tests := [][]string{
		{"send", "windows", "raw-bytes"},
		{"send", "windows", "<toast/>", "--header", "X-WNS-Type:wns/tile"},
		{"send", "windows", "<toast/>", "--header", "X-WNS-Type:wns/other"},
		{"send", "windows", "raw", "--header", "X-WNS-Type:wns/raw", "--content-type", "text/plain"},
		{"send", "apple", `{"aps":`},
		{"send", "apple", `{"aps":{}}`, "--header", "apns-priority:7"},
		{"send", "fcmv1", `{"notification":{}}`},
		{"send", "fcmv1", `{"message":{"data":{"n":1}}}`},
		{"send", "gcm", `{"to":"x"}`},
		{"send", "template", "--prop", "a=b", "--header", "X:1\nY"},
		{"send", "adm", strings.Repeat("x", 70000)},
	}
	for _, args := range tests {
		stdio, out, errb := testIO("")
		code := Main(context.Background(), args, stdio, envMap(vars))
		msg := errb.String()
		if code != ExitError || out.Len() > 0 {
			t.Errorf("nh %s: exit %d, stdout %q; want 1 and nothing sent\n%s", strings.Join(args, " "), code, out.String(), msg)
		}
		if m := sdkField.FindString(msg); m != "" {
			t.Errorf("nh %s: the error names the SDK field %s:\n%s", strings.Join(args, " "), m, msg)
		}
		if !strings.Contains(msg, "PAYLOAD") && !strings.Contains(msg, "--") {
			t.Errorf("nh %s: the error names neither PAYLOAD nor a flag:\n%s", strings.Join(args, " "), msg)
		}
	}
}

// TestDeliveriesControlAPI checks nh deliveries against a stand-in for an
// emulator's control endpoint: the query carries the filters, a bearer
// token goes only when given (--control-token, else
// NH_EMULATOR_CONTROL_TOKEN), 401 is exit 4 with a hint naming both, and
// an endpoint that is not an emulator says so.
func TestDeliveriesControlAPI(t *testing.T) {
	var gotQuery, gotAuth string
	want := "s3cret-token"
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/_emulator/deliveries" {
			http.NotFound(w, r)
			return
		}
		gotQuery, gotAuth = r.URL.RawQuery, r.Header.Get("Authorization")
		if gotAuth != "Bearer "+want {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `[{"notificationId":"n1","hub":"h1","platform":"apple","handle":"AB12","format":"apple","payload":"{\"aps\":{}}","outcome":"Success","time":"2026-01-02T03:04:05Z"}]`)
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"NH_CONNECTION_STRING": "Endpoint=sb://" + srv.Listener.Addr().String() + "/;SharedAccessKeyName=k;SharedAccessKey=a2V5",
		"NH_HUB":               "h1",
		"NH_CA_FILE":           ca,
	}
	run := func(env map[string]string, args ...string) (int, string, string) {
		stdio, out, errb := testIO("")
		code := Main(context.Background(), args, stdio, envMap(env))
		return code, out.String(), errb.String()
	}
	code, _, errs := run(vars, "deliveries")
	if code != ExitAuth || !strings.Contains(errs, "--control-token or NH_EMULATOR_CONTROL_TOKEN") || gotAuth != "" {
		t.Errorf("without a token: exit %d, Authorization %q:\n%s", code, gotAuth, errs)
	}
	code, out, errs := run(vars, "deliveries", "--control-token", want, "--notification-id", "n1", "--handle", "AB12", "--tag", "t")
	if code != 0 || out != "2026-01-02T03:04:05Z\tn1\tapple\tAB12\tSuccess\t{\"aps\":{}}\n" {
		t.Errorf("with --control-token: exit %d, out %q:\n%s", code, out, errs)
	}
	if diff := cmp.Diff("handle=AB12&hub=h1&notificationId=n1&tag=t", gotQuery); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}
	withEnv := map[string]string{envControlToken: want}
	for k, v := range vars {
		withEnv[k] = v
	}
	if code, _, errs := run(withEnv, "deliveries", "--all-hubs"); code != 0 || gotQuery != "" {
		t.Errorf("with %s and --all-hubs: exit %d, query %q:\n%s", envControlToken, code, gotQuery, errs)
	}
	// An endpoint that is not an emulator.
	notEmu := map[string]string{}
	for k, v := range vars {
		notEmu[k] = v
	}
	srv.Config.Handler = http.NotFoundHandler()
	code, _, errs = run(notEmu, "deliveries")
	if code != ExitError || !strings.Contains(errs, "the endpoint is not an nh emulator") {
		t.Errorf("not an emulator: exit %d:\n%s", code, errs)
	}
}
