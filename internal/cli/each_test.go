package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/google/go-cmp/cmp"

	notificationhubs "github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/emulator"
)

func TestReadEachRows(t *testing.T) {
	tests := []struct {
		name, file, data string
		want             []eachRow
		wantErr          string
	}{
		{
			name: "csv", file: "a.csv",
			data: "key,tags,name,greeting\nu1,sports;politics,Ann,Hi\n,news,Bob,Yo\n",
			want: []eachRow{
				{Key: "u1", Tags: []string{"sports", "politics"}, Properties: map[string]string{"name": "Ann", "greeting": "Hi"}},
				{Key: "#2", Tags: []string{"news"}, Properties: map[string]string{"name": "Bob", "greeting": "Yo"}},
			},
		},
		{
			name: "csv with expression", file: "a.csv",
			data: "tag_expression,msg\n\"a && !b\",x\n",
			want: []eachRow{{Key: "#1", TagExpression: "a && !b", Properties: map[string]string{"msg": "x"}}},
		},
		{
			name: "jsonl flat and nested", file: "a.jsonl",
			data: `{"key":"k1","tags":["a"],"name":"Ann","badge":3}` + "\n\n" +
				`{"tagExpression":"b || c","properties":{"name":"Bob"},"error":"old"}` + "\n",
			want: []eachRow{
				{Key: "k1", Tags: []string{"a"}, Properties: map[string]string{"name": "Ann", "badge": "3"}},
				{Key: "#2", TagExpression: "b || c", Properties: map[string]string{"name": "Bob"}},
			},
		},
		{
			name: "jsonl detected by content", file: "rows",
			data: `{"tags":"solo","x":"1"}`,
			want: []eachRow{{Key: "#1", Tags: []string{"solo"}, Properties: map[string]string{"x": "1"}}},
		},
		{name: "duplicate keys", file: "a.csv", data: "key,x\nk,1\nk,2\n", wantErr: "same key"},
		// The journal keeps one key a line: a key across lines would never
		// be found there, and would mark its pieces as sent.
		{name: "newline in a csv key", file: "a.csv", data: "key,x\nok,1\n\"a\nb\",2\n", wantErr: `row 2: the key "a\nb" has a line break`},
		{name: "newline in a jsonl key", file: "a.jsonl", data: `{"key":"ok"}` + "\n" + `{"key":"a\nb"}` + "\n", wantErr: `row 2: the key "a\nb" has a line break`},
		{name: "carriage return in a key", file: "a.jsonl", data: `{"id":"a\r"}`, wantErr: `row 1: the key "a\r" has a line break`},
		{name: "bad json", file: "a.jsonl", data: "{\n", wantErr: "line 1"},
		{name: "bad csv", file: "a.csv", data: "a,b\n1,2,3\n", wantErr: "csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readEachRows(tt.file, []byte(tt.data), "")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

// fakeSend is an eachConfig.send that answers each row with answer(row);
// it stops taking rows after stopAfter rows if positive.
func fakeSend(answer func(eachRow) error, stopAfter int) func(context.Context, iter.Seq[eachRow]) iter.Seq[eachResult] {
	return func(_ context.Context, rows iter.Seq[eachRow]) iter.Seq[eachResult] {
		return func(yield func(eachResult) bool) {
			n := 0
			for r := range rows {
				if !yield(eachResult{key: r.Key, err: answer(r)}) {
					return
				}
				if n++; n == stopAfter {
					return
				}
			}
		}
	}
}

// readFailuresFile reads a failures file back as rows (and its text).
func readFailuresFile(t *testing.T, path string) ([]eachRow, []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := readEachRows(path, data, "")
	if err != nil {
		t.Fatal(err)
	}
	return rows, data
}

// TestRunEachJournal checks the resume logic with a fake send: a second
// run skips the rows journaled by the first, a torn journal line does not
// count, and rows that fail land in the failures file with their keys.
func TestRunEachJournal(t *testing.T) {
	dir := t.TempDir()
	fail := filepath.Join(dir, "f.jsonl")
	var rows []eachRow
	for i := range 10 {
		rows = append(rows, eachRow{Key: fmt.Sprintf("r%d", i), Properties: map[string]string{}})
	}
	// A previous run completed r0..r2; it died while writing r3.
	if err := os.WriteFile(fail+".journal", []byte("r0\nr1\nr2\nr3"), 0o644); err != nil {
		t.Fatal(err)
	}
	sent := map[string]int{}
	sum, err := runEach(context.Background(), eachConfig{
		rows: rows, journalPath: fail + ".journal", failPath: fail,
		send: fakeSend(func(r eachRow) error {
			sent[r.Key]++
			if r.Key == "r7" {
				return errors.New("bad row")
			}
			return nil
		}, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"r3": 1, "r4": 1, "r5": 1, "r6": 1, "r7": 1, "r8": 1, "r9": 1}
	if diff := cmp.Diff(want, sent); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
	if sum.AlreadyDone != 3 || sum.Sent != 6 || sum.Failed != 1 {
		t.Errorf("summary = %+v, want 3 already done, 6 sent, 1 failed", sum)
	}
	left, data := readFailuresFile(t, fail)
	if len(left) != 1 || left[0].Key != "r7" || left[0].Error != "" {
		t.Errorf("failures file rows = %+v, want r7 only", left)
	}
	if !strings.Contains(string(data), `"error":"bad row"`) {
		t.Errorf("failures file does not say why: %s", data)
	}
	journal, err := os.ReadFile(fail + ".journal")
	if err != nil {
		t.Fatal(err)
	}
	// The torn line is cut off: r3, sent again, is journaled on a line of
	// its own (appended to the torn bytes it would read "r3r3", and a
	// third run would send r3 once more).
	want2 := "r0\nr1\nr2\nr3\nr4\nr5\nr6\nr8\nr9\n"
	lines := strings.SplitAfter(string(journal), "\n")
	slices.Sort(lines[3:])
	if got := strings.Join(lines, ""); got != want2 {
		t.Errorf("journal %q, want %q (the sent keys in any order)", journal, want2)
	}
}

// TestRunEachNotSent checks how rows the service cannot have acted on are
// counted: a 403 stop (the sender's ErrNotSent with the reason), and rows
// the sender never took. Both land in the failures file.
func TestRunEachNotSent(t *testing.T) {
	dir := t.TempDir()
	fail := filepath.Join(dir, "f.jsonl")
	var rows []eachRow
	for i := range 10 {
		rows = append(rows, eachRow{Key: fmt.Sprintf("r%d", i), Properties: map[string]string{}})
	}
	forbidden := &notificationhubs.ResponseError{StatusCode: 403, Detail: "Quota exceeded."}
	sum, err := runEach(context.Background(), eachConfig{
		rows: rows, journalPath: fail + ".journal", failPath: fail,
		send: fakeSend(func(r eachRow) error {
			switch r.Key {
			case "r0", "r1":
				return nil
			case "r2":
				return forbidden
			}
			return fmt.Errorf("%w: bulk send stopped after %w", notificationhubs.ErrNotSent, forbidden)
		}, 5),
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != 2 || sum.Failed != 1 || sum.NotAttempted != 7 || sum.Interrupted || !errors.Is(sum.stopped, notificationhubs.ErrNotSent) {
		t.Errorf("summary = %+v, want 2 sent, 1 failed, 7 not attempted, stopped", sum)
	}
	left, _ := readFailuresFile(t, fail)
	if len(left) != 8 || left[0].Key != "r2" || left[7].Key != "r9" {
		t.Errorf("failures file rows = %+v, want r2 to r9", left)
	}
}

// faultyHub serves an emulator and answers some sends with 429, and can
// cancel a context after a number of sends (an interrupted run).
type faultyHub struct {
	emu        *emulator.Server
	noFaults   atomic.Bool // serve the emulator only (set while the server may be serving)
	sends      atomic.Int64
	throttled  atomic.Int64
	cancelAt   int64
	cancel     context.CancelFunc
	cancelOnce sync.Once
}

func (h *faultyHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.noFaults.Load() && r.Method == http.MethodPost && strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/messages") {
		n := h.sends.Add(1)
		switch {
		case n == 2000 || n == 6000:
			h.throttled.Add(1)
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		case n%997 == 0:
			h.throttled.Add(1)
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		if h.cancelAt > 0 && n == h.cancelAt {
			h.cancelOnce.Do(h.cancel)
		}
	}
	h.emu.ServeHTTP(w, r)
}

// bulkFixture is an emulator behind faultyHub with one template
// registration tagged "all", and a CSV of rows.
func bulkFixture(t *testing.T, rows int) (*faultyHub, func(string) string, string) {
	t.Helper()
	return bulkFixtureWith(t, rows, emulator.Options{})
}

// bulkFixtureWith is bulkFixture with emulator options.
func bulkFixtureWith(t *testing.T, rows int, opts emulator.Options) (*faultyHub, func(string) string, string) {
	t.Helper()
	opts.Retention = 4 * rows
	h := &faultyHub{emu: emulator.New(opts)}
	ls, err := startLocalServer(h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ls.Close() })
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, ls.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	env := envMap(map[string]string{
		envConnectionString: h.emu.ConnectionString("sb://"+ls.Addr+"/", false),
		envHub:              "bulk",
		envCAFile:           ca,
	})
	c, err := newFactory(IO{}, env).client(clientConfig{})
	if err != nil {
		t.Fatal(err)
	}
	reg := notificationhubs.NewFcmV1TemplateRegistration("bulk-token",
		`{"message":{"data":{"row":"$(row)","greeting":"$(greeting)"}}}`, "all")
	reg.RegistrationID = "bulk-reg"
	if _, err := c.CreateOrUpdateRegistration(context.Background(), reg, nil); err != nil {
		t.Fatal(err)
	}
	var csv bytes.Buffer
	csv.WriteString("key,tags,row,greeting\n")
	for i := range rows {
		fmt.Fprintf(&csv, "k%d,all,%d,Hello %d\n", i, i, i)
	}
	file := filepath.Join(dir, "rows.csv")
	if err := os.WriteFile(file, csv.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return h, env, file
}

// deliveredRows counts the deliveries of each row to the bulk hub.
func deliveredRows(t *testing.T, emu *emulator.Server) map[int]int {
	t.Helper()
	got := map[int]int{}
	for _, d := range emu.Deliveries(emulator.DeliveryFilter{Hub: "bulk"}) {
		var p struct {
			Message struct {
				Data map[string]string `json:"data"`
			} `json:"message"`
		}
		if err := json.Unmarshal([]byte(d.Payload), &p); err != nil {
			t.Fatalf("delivery payload %q: %v", d.Payload, err)
		}
		n, err := strconv.Atoi(p.Message.Data["row"])
		if err != nil {
			t.Fatalf("delivery payload %q has no row", d.Payload)
		}
		if p.Message.Data["greeting"] != "Hello "+p.Message.Data["row"] {
			t.Errorf("row %d rendered greeting %q", n, p.Message.Data["greeting"])
		}
		got[n]++
	}
	return got
}

func checkExactlyOnce(t *testing.T, got map[int]int, rows int) {
	t.Helper()
	if len(got) != rows {
		t.Errorf("%d distinct rows delivered, want %d", len(got), rows)
	}
	for i := range rows {
		if got[i] != 1 {
			t.Errorf("row %d delivered %d times, want once", i, got[i])
		}
	}
}

const bulkRows = 3000

// TestBulkSendExactlyOnce sends 3,000 personalised rows through nh send
// --each against the emulator, with 429s injected (some with Retry-After);
// every row must be delivered exactly once.
func TestBulkSendExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("bulk test")
	}
	h, env, file := bulkFixture(t, bulkRows)
	stdio, out, errb := testIO("")
	code := Main(context.Background(), []string{"send", "--each", file, "--concurrency", "16", "-o", "json"}, stdio, env)
	if code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, out, errb)
	}
	var sum eachSummary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("summary: %v\n%s", err, out)
	}
	if sum.Sent != bulkRows || sum.Failed != 0 || sum.FailuresFile != "" {
		t.Errorf("summary = %+v, want all %d sent", sum, bulkRows)
	}
	if h.throttled.Load() == 0 || sum.Throttled != int(h.throttled.Load()) {
		t.Errorf("server throttled %d sends, nh counted %d", h.throttled.Load(), sum.Throttled)
	}
	checkExactlyOnce(t, deliveredRows(t, h.emu), bulkRows)
	if errb.Len() != 0 {
		t.Errorf("stderr not empty without a terminal:\n%s", errb)
	}

	// Running the same command again sends nothing: the journal has every row.
	stdio, out, errb = testIO("")
	if code := Main(context.Background(), []string{"send", "--each", file, "-o", "json"}, stdio, env); code != 0 {
		t.Fatalf("re-run exit code %d: %s", code, errb)
	}
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Sent != 0 || sum.AlreadyDone != bulkRows {
		t.Errorf("re-run summary = %+v, want nothing sent", sum)
	}
	checkExactlyOnce(t, deliveredRows(t, h.emu), bulkRows)
}

// TestBulkSendInterruptedAndResumed interrupts a 3,000-row run half-way
// (as Ctrl-C does), resumes it from its failures file, and checks that
// every row was delivered exactly once.
func TestBulkSendInterruptedAndResumed(t *testing.T) {
	if testing.Short() {
		t.Skip("bulk test")
	}
	h, env, file := bulkFixture(t, bulkRows)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.cancel, h.cancelAt = cancel, bulkRows/2

	stdio, out, errb := testIO("")
	code := Main(ctx, []string{"send", "--each", file, "--concurrency", "16", "-o", "json"}, stdio, env)
	if code != ExitError {
		t.Fatalf("interrupted run: exit code %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, errb)
	}
	var sum eachSummary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("summary: %v\n%s", err, out)
	}
	if !sum.Interrupted || sum.FailuresFile == "" || sum.Sent == 0 || sum.Sent >= bulkRows {
		t.Fatalf("interrupted summary = %+v", sum)
	}
	first := deliveredRows(t, h.emu)
	if len(first) != sum.Sent {
		t.Errorf("%d rows delivered, summary says %d sent", len(first), sum.Sent)
	}

	stdio, out, errb = testIO("")
	code = Main(context.Background(), []string{"send", "--each", sum.FailuresFile, "--concurrency", "16", "-o", "json"}, stdio, env)
	if code != 0 {
		t.Fatalf("resumed run: exit code %d\nstdout:\n%s\nstderr:\n%s", code, out, errb)
	}
	var sum2 eachSummary
	if err := json.Unmarshal(out.Bytes(), &sum2); err != nil {
		t.Fatal(err)
	}
	if sum.Sent+sum2.Sent != bulkRows {
		t.Errorf("sent %d + %d rows, want %d", sum.Sent, sum2.Sent, bulkRows)
	}
	checkExactlyOnce(t, deliveredRows(t, h.emu), bulkRows)
	if _, err := os.Stat(sum.FailuresFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failures file still there after a complete run: %v", err)
	}
}

// TestBulkSendKilledAndResumed runs nh send --each as a process of its
// own against a throttled emulator, kills it with SIGKILL half-way and
// runs the same command again: the rerun sends exactly the rows the
// journal does not hold, and every row is delivered. Only a row the
// service accepted in the instant between its answer and the journal
// write can be delivered twice, so at most the sends in flight.
func TestBulkSendKilledAndResumed(t *testing.T) {
	if testing.Short() {
		t.Skip("bulk test")
	}
	// testscript's TestMain puts this test binary on PATH as nh-bin.
	nhBin, err := exec.LookPath("nh-bin")
	if err != nil {
		t.Fatal(err)
	}
	const rows, conc = 3000, 16
	h, env, file := bulkFixtureWith(t, rows, emulator.Options{ThrottleRate: 600, ThrottleBurst: 60})
	h.noFaults.Store(true) // only the emulator's throttle
	args := []string{"send", "--each", file, "--concurrency", strconv.Itoa(conc), "-o", "json"}
	cmd := exec.Command(nhBin, args...)
	cmd.Env = append(os.Environ(), envConnectionString+"="+env(envConnectionString), envHub+"="+env(envHub), envCAFile+"="+env(envCAFile))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	journal := file + ".failed.jsonl.journal"
	deadline := time.Now().Add(60 * time.Second)
	for {
		data, _ := os.ReadFile(journal)
		if n := bytes.Count(data, []byte("\n")); n >= rows/3 {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the journal did not reach %d rows; stderr:\n%s", rows/3, stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatal("nh finished before it was killed")
	}
	data, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	journaled := map[string]bool{}
	for _, k := range strings.SplitAfter(string(data), "\n") {
		if strings.HasSuffix(k, "\n") {
			journaled[strings.TrimSuffix(k, "\n")] = true
		}
	}
	before := deliveredRows(t, h.emu)
	if len(journaled) == 0 || len(journaled) == rows || len(before) < len(journaled) {
		t.Fatalf("killed with %d rows journaled and %d delivered", len(journaled), len(before))
	}

	stdio, out, errb := testIO("")
	if code := Main(context.Background(), args, stdio, env); code != 0 {
		t.Fatalf("rerun: exit code %d\nstdout:\n%s\nstderr:\n%s", code, out, errb)
	}
	var sum eachSummary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("summary: %v\n%s", err, out)
	}
	if sum.AlreadyDone != len(journaled) || sum.Sent != rows-len(journaled) || sum.Failed+sum.NotAttempted != 0 {
		t.Errorf("rerun summary %+v; %d rows were journaled", sum, len(journaled))
	}
	after := deliveredRows(t, h.emu)
	twice := 0
	for i := range rows {
		k := "k" + strconv.Itoa(i)
		switch n := after[i]; {
		case n == 1:
		case n == 2 && before[i] == 1 && !journaled[k]:
			twice++ // accepted, then killed before the journal write
		default:
			t.Errorf("%s (journaled %v, delivered %d before the kill) delivered %d times", k, journaled[k], before[i], n)
		}
	}
	if twice > conc {
		t.Errorf("%d rows delivered twice; at most the %d in flight at the kill may be", twice, conc)
	}
	t.Logf("killed after %d rows journaled (%d delivered); %d delivered twice", len(journaled), len(before), twice)
}

// TestProgressBarOnlyOnATerminal runs a small bulk send with stderr marked
// as a terminal and not: the bar appears only in the first case.
func TestProgressBarOnlyOnATerminal(t *testing.T) {
	for _, tty := range []bool{true, false} {
		t.Run(fmt.Sprintf("tty=%v", tty), func(t *testing.T) {
			h, env, file := bulkFixture(t, 50)
			stdio, out, errb := testIO("")
			stdio.ErrTTY = tty
			if code := Main(context.Background(), []string{"send", "--each", file}, stdio, env); code != 0 {
				t.Fatalf("exit code %d: %s", code, errb)
			}
			bar := strings.Contains(errb.String(), "\r[") && strings.Contains(errb.String(), "50/50 sent")
			if bar != tty {
				t.Errorf("progress bar shown = %v, want %v; stderr:\n%q", bar, tty, errb.String())
			}
			if !strings.Contains(out.String(), "rows: 50, sent: 50") {
				t.Errorf("summary:\n%s", out)
			}
			checkExactlyOnce(t, deliveredRows(t, h.emu), 50)
		})
	}
}

// TestIsTerminal checks the TTY seam's detection on a pseudo-terminal and
// on a pipe.
func TestIsTerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	if !IsTerminal(tty) {
		t.Error("IsTerminal(pty) = false")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if IsTerminal(w) {
		t.Error("IsTerminal(pipe) = true")
	}
}

// FuzzReadEachRows checks that any input parses or fails cleanly, and that
// parsed rows survive the round trip through a failures file (the resume
// path) unchanged.
func FuzzReadEachRows(f *testing.F) {
	f.Add("a.csv", "key,tags,name\nk1,a;b,Ann\n")
	f.Add("a.jsonl", `{"key":"k","tags":["x"],"properties":{"p":"v"},"n":1}`+"\n")
	f.Add("a.jsonl", `{"tagExpression":"a && !b","x":"y"}`)
	f.Add("a.csv", "tag_expression,msg\n\"a || b\",\"hi, there\"\n")
	f.Fuzz(func(t *testing.T, name, data string) {
		rows, err := readEachRows(name, []byte(data), "")
		if err != nil {
			return
		}
		path := filepath.Join(t.TempDir(), "f.jsonl")
		if err := writeFailures(path, rows); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		back, err := readEachRows(path, raw, "")
		if err != nil {
			t.Fatalf("reading back a failures file: %v\n%s", err, raw)
		}
		norm := func(rs []eachRow) []eachRow {
			out := make([]eachRow, len(rs))
			for i, r := range rs {
				if len(r.Tags) == 0 {
					r.Tags = nil
				}
				out[i] = r
			}
			return out
		}
		if diff := cmp.Diff(norm(rows), norm(back)); diff != "" {
			t.Errorf("round trip (-before +after):\n%s", diff)
		}
	})
}
