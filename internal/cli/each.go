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
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Bulk personalised sends (nh send --each FILE).
//
// Input: CSV with a header row, or JSON Lines (one object a line). Each row
// is one template send: its audience (column or field "tags", a list joined
// with ||, separated by ';' or '|' in CSV; or "tag_expression" /
// "tagExpression"; neither means broadcast) and its template properties (every other column, or the
// "properties" object, or every other field). An optional "key" column or
// field names the row; otherwise its key is "#N", N its 1-based position in
// the file.
//
// Resuming: every row that succeeds is appended at once to a journal
// (FAILURES.journal, one key a line, flushed per row). A run skips the keys
// already in the journal, so re-running the same command after a crash or
// Ctrl-C sends only what is left. At the end (or on interruption) the rows
// that failed or were never attempted are written to the failures file
// (JSON Lines, keys kept), which a re-run can take as --each input. On
// interruption nh stops starting rows and lets the requests in flight
// finish, so that no row is left in the ambiguous "sent but not journaled"
// state. A row can be sent twice only if the process dies between the
// service's answer and the journal write.

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
	concurrency int
	maxAttempts int
	journalPath string
	failPath    string
	// send performs one row's send.
	send func(ctx context.Context, r eachRow) error
	// classify says whether err is throttling worth retrying, and the
	// server's Retry-After if it gave one.
	classify func(err error) (retry bool, after time.Duration)
	progress io.Writer // nil: no progress bar
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
}

// eachSummary is the result of a bulk run (also its JSON output).
type eachSummary struct {
	Rows         int    `json:"rows"`
	Sent         int    `json:"sent"`
	AlreadyDone  int    `json:"alreadyDone"`
	Failed       int    `json:"failed"`
	NotAttempted int    `json:"notAttempted"`
	Throttled    int    `json:"throttled"`
	Interrupted  bool   `json:"interrupted"`
	FailuresFile string `json:"failuresFile,omitempty"`
	JournalFile  string `json:"journalFile"`
}

// gate holds every worker back until a throttling pause is over.
type gate struct {
	mu      sync.Mutex
	until   time.Time
	streak  int // consecutive throttled answers, for exponential backoff
	now     func() time.Time
	maxWait time.Duration
}

// throttled extends the pause after a 429: Retry-After if given, else
// exponential backoff with jitter.
func (g *gate) throttled(after time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.streak++
	d := after
	if d <= 0 {
		d = 100 * time.Millisecond << min(g.streak-1, 8)
		d += rand.N(d/4 + 1)
	}
	d = min(d, g.maxWait)
	if t := g.now().Add(d); t.After(g.until) {
		g.until = t
	}
}

func (g *gate) ok() {
	g.mu.Lock()
	g.streak = 0
	g.mu.Unlock()
}

func (g *gate) wait() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.until.Sub(g.now())
}

// runEach sends every row not yet in the journal. ctx cancellation stops
// the dispatch of new rows; requests in flight complete.
func runEach(ctx context.Context, cfg eachConfig) (eachSummary, error) {
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.sleep == nil {
		cfg.sleep = sleepCtx
	}
	if cfg.concurrency < 1 {
		cfg.concurrency = 1
	}
	if cfg.maxAttempts < 1 {
		cfg.maxAttempts = 8
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
	var jmu sync.Mutex
	journal := func(key string) error {
		jmu.Lock()
		defer jmu.Unlock()
		// One write a row: the key is durable as soon as the write returns.
		_, err := jf.WriteString(key + "\n")
		return err
	}

	var todo []int
	for i, r := range cfg.rows {
		if done[r.Key] {
			sum.AlreadyDone++
			continue
		}
		todo = append(todo, i)
	}

	g := &gate{now: cfg.now, maxWait: 60 * time.Second}
	results := make([]error, len(cfg.rows))
	var sent, failed, throttled atomic.Int64
	var journalErr atomic.Value

	// Requests in flight must not be cancelled by an interruption.
	sendCtx := context.WithoutCancel(ctx)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range cfg.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				r := cfg.rows[i]
				var err error
				for attempt := 1; ; attempt++ {
					if d := g.wait(); d > 0 {
						if serr := cfg.sleep(ctx, d); serr != nil {
							err = serr
							break
						}
					}
					err = cfg.send(sendCtx, r)
					if err == nil {
						g.ok()
						break
					}
					retry, after := cfg.classify(err)
					if !retry || attempt >= cfg.maxAttempts {
						break
					}
					throttled.Add(1)
					g.throttled(after)
					if ctx.Err() != nil {
						break
					}
				}
				results[i] = err
				if err == nil {
					if jerr := journal(r.Key); jerr != nil {
						journalErr.Store(jerr)
					}
					sent.Add(1)
				} else {
					failed.Add(1)
				}
			}
		}()
	}

	stopProgress := startProgress(cfg.progress, len(todo), &sent, &failed, cfg.now)
dispatch:
	for n, i := range todo {
		select {
		case jobs <- i:
		case <-ctx.Done():
			sum.Interrupted = true
			sum.NotAttempted = len(todo) - n
			break dispatch
		}
	}
	close(jobs)
	wg.Wait()
	stopProgress()

	var failures []eachRow
	dispatched := len(todo) - sum.NotAttempted
	for n, i := range todo {
		if n >= dispatched {
			failures = append(failures, cfg.rows[i])
			continue
		}
		if results[i] != nil {
			r := cfg.rows[i]
			r.Error = results[i].Error()
			failures = append(failures, r)
		}
	}
	sum.Sent = int(sent.Load())
	sum.Throttled = int(throttled.Load())
	sum.Failed = len(failures) - sum.NotAttempted
	if ctx.Err() != nil {
		sum.Interrupted = true
	}
	if v := journalErr.Load(); v != nil {
		return sum, fmt.Errorf("write journal: %w", v.(error))
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

// readJournal returns the keys recorded as done.
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
	// The last element is "" after a final newline, or a torn line
	// (a crash mid-write), which is not a complete key.
	for _, line := range lines[:len(lines)-1] {
		if line != "" {
			done[line] = true
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

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// startProgress draws a progress bar on w (a terminal) until stopped.
func startProgress(w io.Writer, total int, sent, failed *atomic.Int64, now func() time.Time) func() {
	if w == nil || total == 0 {
		return func() {}
	}
	start := now()
	draw := func() {
		s, f := int(sent.Load()), int(failed.Load())
		done := s + f
		const width = 30
		filled := width * done / total
		rate := float64(s) / max(now().Sub(start).Seconds(), 0.001)
		fmt.Fprintf(w, "\r[%s%s] %d/%d sent, %d failed, %.0f/s ",
			strings.Repeat("=", filled), strings.Repeat(" ", width-filled), s, total, f, rate)
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
