package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/bench"
)

// processStart is when the benchclient process started (as near as a Go
// program can tell): the SDK bulk run counts its start-up from here, as
// the CLI run counts the nh process's.
var processStart = time.Now()

// runBulk sends o.rows personalised template notifications, each to one
// user's tag, through the SDK's BulkSender (-via sdk) or `nh send --each`
// (-via cli), against a hub that allows o.rate sends a second, and prints
// a BenchmarkBulk line: sends per second from the start of the process to
// the last result, that ÷ the allowed rate, the throttled answers.
func runBulk(ctx context.Context, cs string, o options, stdout io.Writer, getenv func(string) string) error {
	if o.rate <= 0 {
		return fmt.Errorf("-rate %v: want the hub's allowed sends per second", o.rate)
	}
	start := "find"
	if o.maxRate > 0 {
		start = "told"
	}
	name := fmt.Sprintf("BenchmarkBulk/model=%s/rate=%s/client=%s/conc=%d/start=%s",
		o.model, strconv.FormatFloat(o.rate, 'f', -1, 64), o.via, o.conc, start)
	var (
		wall      time.Duration
		throttled int64
		rss       float64
		err       error
	)
	switch o.via {
	case "sdk":
		wall, throttled, err = bulkSDK(ctx, cs, o)
		rss = float64(bench.PeakRSS())
	case "cli":
		wall, throttled, rss, err = bulkCLI(ctx, cs, o, getenv)
	default:
		return fmt.Errorf("-via %q: want sdk or cli", o.via)
	}
	if err != nil {
		return err
	}
	perSec := float64(o.rows) / wall.Seconds()
	res := bench.Result{
		Name: name,
		N:    int64(o.rows),
		Metrics: map[string]float64{
			bench.UnitNsPerOp:     float64(wall.Nanoseconds() / int64(o.rows)),
			bench.UnitSendsPerSec: round(perSec, 1),
			bench.UnitOfAllowed:   round(perSec/o.rate, 3),
			bench.UnitThrottled:   float64(throttled),
		},
		Order: []string{bench.UnitNsPerOp, bench.UnitSendsPerSec, bench.UnitOfAllowed, bench.UnitThrottled, bench.UnitPeakRSSBytes},
	}
	if rss > 0 {
		res.Metrics[bench.UnitPeakRSSBytes] = rss
	}
	_, err = fmt.Fprintln(stdout, res.String())
	return err
}

func round(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// bulkProps are the template properties of row i.
func bulkProps(i int) map[string]string {
	return map[string]string{"title": "Hello " + strconv.Itoa(i), "body": "Your code is " + strconv.Itoa(100000+i)}
}

// writeRows writes o.rows rows to dir/rows.csv for `nh send --each`:
// key, the user's tag, and the template properties of bulkProps.
func writeRows(dir string, o options) (string, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"key", "tags", "title", "body"})
	for i := range o.rows {
		p := bulkProps(i)
		_ = w.Write([]string{"r" + strconv.Itoa(i), "user_" + strconv.Itoa(i%o.users), p["title"], p["body"]})
	}
	w.Flush()
	name := filepath.Join(dir, "rows.csv")
	return name, os.WriteFile(name, buf.Bytes(), 0o600)
}

// bulkSDK runs the rows through the SDK's BulkSender.
func bulkSDK(ctx context.Context, cs string, o options) (time.Duration, int64, error) {
	c, err := notificationhubs.NewClientFromConnectionString(cs, o.hub, nil)
	if err != nil {
		return 0, 0, err
	}
	s := c.NewBulkSender(&notificationhubs.BulkSenderOptions{Concurrency: o.conc, MaxRate: o.maxRate})
	items := func(yield func(notificationhubs.BulkNotification) bool) {
		for i := range o.rows {
			if !yield(notificationhubs.BulkNotification{
				Key:          strconv.Itoa(i),
				Notification: notificationhubs.NewTemplateNotification(bulkProps(i)),
				Tags:         []string{"user_" + strconv.Itoa(i%o.users)},
			}) {
				return
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var firstErr error
	for r := range s.Send(ctx, items) {
		if r.Err != nil && firstErr == nil {
			firstErr = fmt.Errorf("bulk send: row %s: %w", r.Key, r.Err)
		}
	}
	wall := time.Since(processStart)
	return wall, s.Stats().Throttled, firstErr
}

// bulkCLI writes the rows as a CSV and times `nh send --each` over it,
// from the start of the process to its exit; CPU and peak RSS are nh's.
func bulkCLI(ctx context.Context, cs string, o options, getenv func(string) string) (time.Duration, int64, float64, error) {
	dir, err := os.MkdirTemp("", "bench-bulk-")
	if err != nil {
		return 0, 0, 0, err
	}
	defer os.RemoveAll(dir)
	rowsFile, err := writeRows(dir, o)
	if err != nil {
		return 0, 0, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	args := []string{"send", "--each", rowsFile, "--concurrency", strconv.Itoa(o.conc),
		"--failures", filepath.Join(dir, "failed.jsonl"), "--hub", o.hub, "-o", "json"}
	if o.maxRate > 0 {
		args = append(args, "--max-rate", strconv.FormatFloat(o.maxRate, 'f', -1, 64))
	}
	cmd := exec.CommandContext(ctx, o.nh, args...)
	cmd.Env = append(os.Environ(), "NH_CONNECTION_STRING="+cs, "NH_HUB="+o.hub)
	if ca := getenv("SSL_CERT_FILE"); ca != "" {
		cmd.Env = append(cmd.Env, "NH_CA_FILE="+ca)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("nh send --each: %w: %s", err, clip(stderr.String(), 400))
	}
	var sum struct {
		Sent      int   `json:"sent"`
		Throttled int64 `json:"throttled"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		return 0, 0, 0, fmt.Errorf("nh send --each: summary: %w", err)
	}
	if sum.Sent != o.rows {
		return 0, 0, 0, fmt.Errorf("nh send --each sent %d of %d rows", sum.Sent, o.rows)
	}
	return wall, sum.Throttled, peakRSSOf(cmd), nil
}
