package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	notificationhubs "github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/emulator"
	"github.com/spf13/cobra"
)

// testIO returns an IO on buffers.
func testIO(stdin string) (IO, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return IO{In: strings.NewReader(stdin), Out: &out, Err: &errb}, &out, &errb
}

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

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
	sc := bufio.NewScanner(pr)
	re := regexp.MustCompile(`Connection string \(full\):\s+(\S+)`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			cs = m[1]
			break
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

// TestEmulatorRedactsChosenKeys checks that keys given with --full-key and
// --listen-key never appear in nh emulator's output.
func TestEmulatorRedactsChosenKeys(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		stdio := IO{In: strings.NewReader(""), Out: pw, Err: pw}
		done <- Main(ctx, []string{"emulator", "--listen", "127.0.0.1:0", "--plain-http",
			"--full-key", "Zm9vLWZ1bGwtc2VjcmV0", "--listen-key", "Zm9vLWxpc3Rlbi1zZWNyZXQ"}, stdio, envMap(nil))
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
