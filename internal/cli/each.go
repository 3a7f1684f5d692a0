package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	notificationhubs "github.com/nhkit/notificationhubs"
)

// Bulk personalised sends (nh send --each FILE).
//
// Input: CSV with a header row, or JSON Lines (one object a line). Each row
// is one template send: its audience (column or field "tags", a list joined
// with ||, separated by ';' or '|' in CSV; or "tag_expression" /
// "tagExpression"; neither means broadcast) and its template properties (every other column, or the
// "properties" object, or every other field). An optional "key" column or
// field names the row (unique, without a line break: the journal keeps one
// key a line); otherwise its key is "#N", N its 1-based position in the
// file.
//
// Sending: the SDK's BulkSender (bulk.go at the module's root) sends the
// rows, --concurrency at a time at most, at the pace the hub allows: a
// throttled answer holds every send for its Retry-After, and the pace
// adapts to the hub's answers. A row is retried only where the service
// cannot have acted (throttled, connection refused) unless --retry-unsafe;
// a 401, 403 or 404 stops the run.
//
// Resuming: every row that succeeds is appended at once to a journal
// (FAILURES.journal, one key a line, written per row). A run skips the
// keys already in the journal, so re-running the same command after a
// crash, kill -9 or Ctrl-C sends only what is left. At the end (or on
// interruption) the rows that failed or were not sent are written to the
// failures file (JSON Lines, keys kept), which a re-run can take as
// --each input. On interruption nh stops starting rows and lets the
// requests in flight finish, so that no row is left in the ambiguous
// "sent but not journaled" state. A row can be sent twice only if the
// process dies between the service's answer and the journal write.

// eachRow is one personalised send.
type eachRow struct {
	Key           string            `json:"key"`
	Tags          []string          `json:"tags,omitempty"`
	TagExpression string            `json:"tagExpression,omitempty"`
	Properties    map[string]string `json:"properties"`
	Error         string            `json:"error,omitempty"` // in failures files: why it failed
}

// audience returns the tag expression of the row ("" = broadcast).
func (r eachRow) audience() string {
	if r.TagExpression != "" {
		return r.TagExpression
	}
	return strings.Join(r.Tags, " || ")
}

// readEachRows reads rows from a CSV or JSON Lines file; format is "csv",
// "jsonl" or "" (by extension, then by content).
func readEachRows(name string, data []byte, format string) ([]eachRow, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%s: not UTF-8 text", name)
	}
	if format == "" {
		switch strings.ToLower(filepath.Ext(name)) {
		case ".csv":
			format = "csv"
		case ".jsonl", ".ndjson", ".json":
			format = "jsonl"
		default:
			if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
				format = "jsonl"
			} else {
				format = "csv"
			}
		}
	}
	var rows []eachRow
	var err error
	switch format {
	case "csv":
		rows, err = readCSVRows(data)
	case "jsonl":
		rows, err = readJSONLRows(data)
	default:
		return nil, usageErrorf("--each-format must be csv or jsonl, not %q", format)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	seen := make(map[string]int, len(rows))
	for i, r := range rows {
		// The journal keeps one key a line.
		if strings.ContainsAny(r.Key, "\r\n") {
			return nil, fmt.Errorf("%s: row %d: the key %q has a line break, which the journal of sent rows cannot hold", name, i+1, r.Key)
		}
		if j, dup := seen[r.Key]; dup {
			return nil, fmt.Errorf("%s: rows %d and %d have the same key %q", name, j+1, i+1, r.Key)
		}
		seen[r.Key] = i
	}
	return rows, nil
}

func isKeyField(k string) bool { return strings.EqualFold(k, "key") || strings.EqualFold(k, "id") }
func isTagsField(k string) bool {
	return strings.EqualFold(k, "tags") || strings.EqualFold(k, "tag")
}
func isExprField(k string) bool {
	k = strings.ToLower(strings.ReplaceAll(k, "_", ""))
	return k == "tagexpression"
}

func readCSVRows(data []byte) ([]eachRow, error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = 0
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("csv header: %w", err)
	}
	var rows []eachRow
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("csv: %w", err)
		}
		r := eachRow{Key: "#" + strconv.Itoa(n), Properties: map[string]string{}}
		for i, h := range header {
			v := rec[i]
			switch {
			case isKeyField(h):
				if v != "" {
					r.Key = v
				}
			case isTagsField(h):
				for _, t := range strings.FieldsFunc(v, func(c rune) bool { return c == ';' || c == '|' }) {
					if t = strings.TrimSpace(t); t != "" {
						r.Tags = append(r.Tags, t)
					}
				}
			case isExprField(h):
				r.TagExpression = v
			default:
				r.Properties[h] = v
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func readJSONLRows(data []byte) ([]eachRow, error) {
	var rows []eachRow
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	n := 0
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		n++
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(text, &obj); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		r := eachRow{Key: "#" + strconv.Itoa(n), Properties: map[string]string{}}
		for k, raw := range obj {
			switch {
			case isKeyField(k):
				var s string
				if err := json.Unmarshal(raw, &s); err != nil {
					return nil, fmt.Errorf("line %d: %s must be a string", line, k)
				}
				if s != "" {
					r.Key = s
				}
			case isTagsField(k):
				var list []string
				if err := json.Unmarshal(raw, &list); err != nil {
					var one string
					if err := json.Unmarshal(raw, &one); err != nil {
						return nil, fmt.Errorf("line %d: tags must be a string or a list of strings", line)
					}
					list = []string{one}
				}
				r.Tags = append(r.Tags, list...)
			case isExprField(k):
				if err := json.Unmarshal(raw, &r.TagExpression); err != nil {
					return nil, fmt.Errorf("line %d: %s must be a string", line, k)
				}
			case strings.EqualFold(k, "properties"):
				var props map[string]string
				if err := json.Unmarshal(raw, &props); err != nil {
					return nil, fmt.Errorf("line %d: properties must be an object of strings", line)
				}
				for pk, pv := range props {
					r.Properties[pk] = pv
				}
			case strings.EqualFold(k, "error"):
				// written by a previous run into its failures file
			default:
				var s string
				if err := json.Unmarshal(raw, &s); err != nil {
					// numbers and booleans become their JSON text
					s = string(raw)
				}
				r.Properties[k] = s
			}
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return rows, nil
}

// eachConfig drives runEach.
type eachConfig struct {
	rows        []eachRow
	journalPath string
	failPath    string
	// send sends the rows it takes from its sequence and yields one
	// result for each it took, in the order they complete (the SDK's
	// BulkSender.Send, or a test's).
	send func(ctx context.Context, rows iter.Seq[eachRow]) iter.Seq[eachResult]
	// stats reports the sender's progress for the progress bar (nil:
	// none).
	stats    func() notificationhubs.BulkSenderStats
	progress io.Writer // nil: no progress bar
	now      func() time.Time
}

// eachResult is the outcome of one row.
type eachResult struct {
	key string
	// err is nil when the hub accepted the row; it wraps
	// notificationhubs.ErrNotSent when the hub cannot have acted on it.
	err error
}

// eachSummary is the result of a bulk run (also its JSON output).
type eachSummary struct {
	Rows        int `json:"rows"`
	Sent        int `json:"sent"`
	AlreadyDone int `json:"alreadyDone"`
	Failed      int `json:"failed"`
	// NotAttempted counts the rows the service cannot have acted on:
	// never sent, or throttled on every attempt.
	NotAttempted int  `json:"notAttempted"`
	Throttled    int  `json:"throttled"`
	Interrupted  bool `json:"interrupted"`
	// Rate is the pace at the end in sends per second, once the service
	// has throttled a send (or --max-rate).
	Rate         float64 `json:"rate,omitempty"`
	FailuresFile string  `json:"failuresFile,omitempty"`
	JournalFile  string  `json:"journalFile"`
	// stopped is why the run stopped before its end, other than an
	// interruption.
	stopped error
}

// bulkSend returns an eachConfig.send over the SDK's bulk sender: one
// template send per row, to the row's audience.
func bulkSend(s *notificationhubs.BulkSender) func(context.Context, iter.Seq[eachRow]) iter.Seq[eachResult] {
	return func(ctx context.Context, rows iter.Seq[eachRow]) iter.Seq[eachResult] {
		items := func(yield func(notificationhubs.BulkNotification) bool) {
			for r := range rows {
				if !yield(notificationhubs.BulkNotification{
					Key:           r.Key,
					Notification:  notificationhubs.NewTemplateNotification(r.Properties),
					TagExpression: r.audience(),
				}) {
					return
				}
			}
		}
		return func(yield func(eachResult) bool) {
			for res := range s.Send(ctx, items) {
				if !yield(eachResult{key: res.Key, err: res.Err}) {
					return
				}
			}
		}
	}
}

// runEach sends every row not yet in the journal, journaling each as the
// service accepts it. ctx cancellation stops the sends from starting;
// sends in flight complete.
func runEach(ctx context.Context, cfg eachConfig) (eachSummary, error) {
	if cfg.now == nil {
		cfg.now = time.Now
	}
	sum := eachSummary{Rows: len(cfg.rows), JournalFile: cfg.journalPath}

	done, err := readJournal(cfg.journalPath)
	if err != nil {
		return sum, err
	}
	jf, err := os.OpenFile(cfg.journalPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return sum, fmt.Errorf("open journal: %w", err)
	}
	defer jf.Close()

	var todo []int
	for i, r := range cfg.rows {
		if done[r.Key] {
			sum.AlreadyDone++
			continue
		}
		todo = append(todo, i)
	}

	// The rows taken by the sender, and what became of them.
	taken := 0
	rows := func(yield func(eachRow) bool) {
		for _, i := range todo {
			taken++
			if !yield(cfg.rows[i]) {
				return
			}
		}
	}
	errs := make(map[string]error)
	var sent, failed atomic.Int64
	var journalErr error
	stopProgress := startProgress(cfg.progress, len(todo), &sent, &failed, cfg.stats, cfg.now)
	for res := range cfg.send(ctx, rows) {
		if res.err != nil {
			errs[res.key] = res.err
			failed.Add(1)
			continue
		}
		// One write a row: the key is durable as soon as the write
		// returns, so that a rerun never sends it again.
		if _, err := jf.WriteString(res.key + "\n"); err != nil && journalErr == nil {
			journalErr = err
		}
		sent.Add(1)
	}
	stopProgress()

	sum.Sent = int(sent.Load())
	if cfg.stats != nil {
		st := cfg.stats()
		sum.Throttled = int(st.Throttled)
		sum.Rate = st.Rate
	}
	var failures []eachRow
	for n, i := range todo {
		r := cfg.rows[i]
		err, ok := errs[r.Key]
		switch {
		case n >= taken:
			sum.NotAttempted++
		case !ok:
			continue // sent
		case errors.Is(err, notificationhubs.ErrNotSent):
			sum.NotAttempted++
			if !errors.Is(err, context.Canceled) && sum.stopped == nil {
				sum.stopped = err
			}
			r.Error = err.Error()
		default:
			sum.Failed++
			r.Error = err.Error()
		}
		failures = append(failures, r)
	}
	if ctx.Err() != nil {
		sum.Interrupted = true
	}
	if journalErr != nil {
		return sum, fmt.Errorf("write journal: %w", journalErr)
	}
	if len(failures) > 0 {
		if err := writeFailures(cfg.failPath, failures); err != nil {
			return sum, err
		}
		sum.FailuresFile = cfg.failPath
	} else if err := os.Remove(cfg.failPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return sum, fmt.Errorf("remove old failures file: %w", err)
	}
	return sum, nil
}

// readJournal returns the keys recorded as done. A torn last line (a
// crash mid-write) is not a complete key: it is cut off the file, so that
// the next key appended starts a line of its own.
func readJournal(path string) (map[string]bool, error) {
	done := map[string]bool{}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return done, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	lines := strings.Split(string(data), "\n")
	// The last element is "" after a final newline, or a torn line.
	for _, line := range lines[:len(lines)-1] {
		if line != "" {
			done[line] = true
		}
	}
	if torn := lines[len(lines)-1]; torn != "" {
		if err := os.Truncate(path, int64(len(data)-len(torn))); err != nil {
			return nil, fmt.Errorf("journal: cut off its torn last line: %w", err)
		}
	}
	return done, nil
}

// writeFailures writes rows as JSON Lines, atomically.
func writeFailures(path string, rows []eachRow) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, r := range rows {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write failures file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write failures file: %w", err)
	}
	return nil
}

// startProgress draws a progress bar on w (a terminal) until stopped:
// rows done, the send rate over the last second, the sender's pace and
// its throttled answers, or the Retry-After it waits for.
func startProgress(w io.Writer, total int, sent, failed *atomic.Int64, stats func() notificationhubs.BulkSenderStats, now func() time.Time) func() {
	if w == nil || total == 0 {
		return func() {}
	}
	type sample struct {
		at   time.Time
		sent int64
	}
	var last [10]sample // the last second, a sample per tick
	ticks := 0
	width := 0 // of the last line, to blank what a shorter one leaves
	draw := func() {
		s, f := sent.Load(), failed.Load()
		t := now()
		old := last[ticks%len(last)]
		if ticks < len(last) {
			old = last[0]
		}
		last[ticks%len(last)] = sample{t, s}
		ticks++
		rate := 0.0
		if d := t.Sub(old.at).Seconds(); d > 0 && !old.at.IsZero() {
			rate = float64(s-old.sent) / d
		}
		const bar = 30
		filled := bar * int(s+f) / total
		line := fmt.Sprintf("\r[%s%s] %d/%d sent, %d failed, %.0f/s", strings.Repeat("=", filled), strings.Repeat(" ", bar-filled), s, total, f, rate)
		if stats != nil {
			st := stats()
			if st.Rate > 0 {
				line += fmt.Sprintf(" (pace %.0f/s)", st.Rate)
			}
			line += fmt.Sprintf(", %d throttled", st.Throttled)
			if wait := st.HeldUntil.Sub(t); wait > 0 {
				line += fmt.Sprintf(", waiting %.1fs (Retry-After)", wait.Seconds())
			}
		}
		n := utf8.RuneCountInString(line)
		if n < width {
			line += strings.Repeat(" ", width-n)
		}
		width = n
		fmt.Fprint(w, line)
	}
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				draw()
			case <-stop:
				draw()
				fmt.Fprintln(w)
				return
			}
		}
	}()
	return func() { close(stop); <-finished }
}

// runSendEach performs a bulk personalised send (see each.go).
func runSendEach(ctx context.Context, o *sendOptions) error {
	f := o.f
	data, err := os.ReadFile(o.each)
	if err != nil {
		return fmt.Errorf("read --each file: %w", err)
	}
	rows, err := readEachRows(o.each, data, o.eachFormat)
	if err != nil {
		return err
	}
	failPath := o.failures
	if failPath == "" {
		failPath = strings.TrimSuffix(o.each, ".failed.jsonl") + ".failed.jsonl"
	}
	cfg := clientConfig{noRetry: true}
	if o.debug {
		cfg.debug = f.io.Err
	}
	c, err := f.client(cfg)
	if err != nil {
		return err
	}
	var progress = f.io.Err
	if !f.io.ErrTTY {
		progress = nil
	}
	sender := c.NewBulkSender(&notificationhubs.BulkSenderOptions{
		Concurrency: o.concurrency,
		MaxRate:     o.maxRate,
		MaxAttempts: o.maxAttempts,
		RetryUnsafe: o.retryUnsafe,
	})
	sum, err := runEach(ctx, eachConfig{
		rows:        rows,
		journalPath: failPath + ".journal",
		failPath:    failPath,
		progress:    progress,
		send:        bulkSend(sender),
		stats:       sender.Stats,
	})
	if err != nil {
		return err
	}
	if f.output == outputJSON {
		if err := writeJSON(f.io.Out, sum); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(f.io.Out, "rows: %d, sent: %d, already done: %d, failed: %d, not attempted: %d, throttled answers: %d\n",
			sum.Rows, sum.Sent, sum.AlreadyDone, sum.Failed, sum.NotAttempted, sum.Throttled)
		if sum.Throttled > 0 && sum.Rate > 0 {
			fmt.Fprintf(f.io.Out, "pace at the end: %.0f sends/s (--max-rate %.0f starts there next time)\n", sum.Rate, sum.Rate)
		}
		if sum.FailuresFile != "" {
			fmt.Fprintf(f.io.Out, "rows left: %s (re-run with --each %s, or re-run this command)\n", sum.FailuresFile, sum.FailuresFile)
		}
	}
	switch {
	case sum.Interrupted:
		return fmt.Errorf("interrupted: %d row(s) left in %s", sum.Failed+sum.NotAttempted, sum.FailuresFile)
	case sum.stopped != nil:
		return fmt.Errorf("%d row(s) left in %s: %w", sum.Failed+sum.NotAttempted, sum.FailuresFile, sum.stopped)
	case sum.Failed > 0 || sum.NotAttempted > 0:
		return fmt.Errorf("%d row(s) failed; see %s", sum.Failed+sum.NotAttempted, sum.FailuresFile)
	}
	return nil
}
