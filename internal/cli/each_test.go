package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
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
	var mu sync.Mutex
	sent := map[string]int{}
	sum, err := runEach(context.Background(), eachConfig{
		rows: rows, concurrency: 3, journalPath: fail + ".journal", failPath: fail,
		send: func(_ context.Context, r eachRow) error {
			mu.Lock()
			defer mu.Unlock()
			sent[r.Key]++
			if r.Key == "r7" {
				return errors.New("bad row")
			}
			return nil
		},
		classify: func(error) (bool, time.Duration) { return false, 0 },
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
	data, err := os.ReadFile(fail)
	if err != nil {
		t.Fatal(err)
	}
	left, err := readEachRows(fail, data, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0].Key != "r7" || left[0].Error != "" {
		t.Errorf("failures file rows = %+v, want r7 only", left)
	}
	if !strings.Contains(string(data), `"error":"bad row"`) {
		t.Errorf("failures file does not say why: %s", data)
	}
}

// TestRunEachThrottling checks that a throttled row is retried after a
// pause, and that a row still throttled after maxAttempts fails.
func TestRunEachThrottling(t *testing.T) {
	dir := t.TempDir()
	var slept []time.Duration
	var mu sync.Mutex
	attempts := map[string]int{}
	errThrottled := errors.New("429")
	sum, err := runEach(context.Background(), eachConfig{
		rows:        []eachRow{{Key: "a"}, {Key: "b"}},
		concurrency: 1, maxAttempts: 3,
		journalPath: filepath.Join(dir, "j"), failPath: filepath.Join(dir, "f"),
		send: func(_ context.Context, r eachRow) error {
			mu.Lock()
			defer mu.Unlock()
			attempts[r.Key]++
			if r.Key == "b" || attempts[r.Key] == 1 {
				return errThrottled
			}
			return nil
		},
		classify: func(err error) (bool, time.Duration) { return err == errThrottled, 7 * time.Second },
		sleep: func(_ context.Context, d time.Duration) error {
			mu.Lock()
			slept = append(slept, d)
			mu.Unlock()
			return nil
		},
		now: func() time.Time { return time.Unix(1000, 0) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"a": 2, "b": 3}, attempts); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	for _, d := range slept {
		if d != 7*time.Second {
			t.Errorf("slept %v, want the Retry-After 7s", d)
		}
	}
	if len(slept) == 0 {
		t.Error("never paused after a 429")
	}
	if sum.Sent != 1 || sum.Failed != 1 || sum.Throttled != 3 {
		t.Errorf("summary = %+v, want 1 sent, 1 failed, 3 throttled", sum)
	}
}

// faultyHub serves an emulator and answers some sends with 429, and can
// cancel a context after a number of sends (an interrupted run).
type faultyHub struct {
	emu        *emulator.Server
	sends      atomic.Int64
	throttled  atomic.Int64
	cancelAt   int64
	cancel     context.CancelFunc
	cancelOnce sync.Once
}

func (h *faultyHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && strings.HasSuffix(strings.TrimSuffix(r.URL.Path, "/"), "/messages") {
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
	h := &faultyHub{emu: emulator.New(emulator.Options{Retention: 4 * rows})}
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

const bulkRows = 10000

// TestBulkSendExactlyOnce sends 10,000 personalised rows through nh send
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

// TestBulkSendInterruptedAndResumed interrupts a 10,000-row run half-way
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
