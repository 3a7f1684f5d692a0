// Package bench is the side-by-side benchmark suite of issue 7: a minimal
// HTTPS sink, the client loops that run against it (a bare net/http
// ceiling, this module's SDK, the emulator as the server) and the result
// lines they print.
//
// # Layout
//
// bench/run.sh builds the programs, installs the pinned JS SDK and
// benchstat, starts the sink (cmd/benchsink) and `nh emulator` as separate
// processes, runs each client (cmd/benchclient, js/send.mjs) as its own
// process, interleaved and repeated, and hands the result lines to
// cmd/benchreport, which writes the markdown tables.
//
// # Result lines
//
// Every client prints one line in Go benchmark format, so that benchstat
// reads it:
//
//	BenchmarkSend/server=sink/client=sdk/payload=fcmv1/conc=64 120000 16666 ns/op 60000 sends/s 45000 sends/cpu-s 45.0 allocs/send 24000000 peak-rss-B
//
// ns/op is wall time per send; sends/cpu-s is sends per second of user
// plus system CPU time of the client process during the measured phase;
// allocs/send is the Go heap allocation count per send (absent for the JS
// client); peak-rss-B is the process's peak resident set (VmHWM).
package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Units of the metrics of a Result, as printed.
const (
	UnitNsPerOp      = "ns/op"
	UnitSendsPerSec  = "sends/s"
	UnitSendsPerCPU  = "sends/cpu-s"
	UnitAllocsPerOp  = "allocs/send"
	UnitPeakRSSBytes = "peak-rss-B"
)

// Result is the outcome of one client run: a benchmark name with its
// iteration count and metrics by unit.
type Result struct {
	// Name is the full benchmark name, e.g.
	// "BenchmarkSend/server=sink/client=sdk/payload=fcmv1/conc=64".
	Name string
	// N is the number of measured sends.
	N int64
	// Metrics maps a unit (UnitSendsPerSec, …) to its value.
	Metrics map[string]float64
	// Order lists the units of Metrics in print order; units missing from
	// it are printed after, sorted.
	Order []string
}

// Key returns the value of the name's key=value element key, or "".
func (r Result) Key(key string) string {
	for _, part := range strings.Split(r.Name, "/")[1:] {
		if k, v, ok := strings.Cut(part, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// String formats r as a Go benchmark result line (without a newline).
func (r Result) String() string {
	var b strings.Builder
	b.WriteString(r.Name)
	b.WriteByte('\t')
	b.WriteString(strconv.FormatInt(r.N, 10))
	seen := map[string]bool{}
	write := func(u string) {
		v, ok := r.Metrics[u]
		if !ok || seen[u] {
			return
		}
		seen[u] = true
		b.WriteByte('\t')
		b.WriteString(strconv.FormatFloat(v, 'f', -1, 64))
		b.WriteByte(' ')
		b.WriteString(u)
	}
	order := r.Order
	if order == nil {
		order = []string{UnitNsPerOp, UnitSendsPerSec, UnitSendsPerCPU, UnitAllocsPerOp, UnitPeakRSSBytes}
	}
	for _, u := range order {
		write(u)
	}
	rest := make([]string, 0, len(r.Metrics))
	for u := range r.Metrics {
		if !seen[u] {
			rest = append(rest, u)
		}
	}
	slices.Sort(rest)
	for _, u := range rest {
		write(u)
	}
	return b.String()
}

// ParseResult parses one Go benchmark result line: a name starting with
// "Benchmark", an iteration count, then value-unit pairs. A "-N" GOMAXPROCS
// suffix on the name is kept as part of the name.
func ParseResult(line string) (Result, error) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
		return Result{}, fmt.Errorf("parse result line %q: want Benchmark<name> <N> and value-unit pairs", clipLine(line))
	}
	if len(f)%2 != 0 {
		return Result{}, fmt.Errorf("parse result line %q: a value has no unit", clipLine(line))
	}
	n, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || n < 0 {
		return Result{}, fmt.Errorf("parse result line %q: iteration count %q is not a count", clipLine(line), f[1])
	}
	r := Result{Name: f[0], N: n, Metrics: map[string]float64{}}
	for i := 2; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return Result{}, fmt.Errorf("parse result line %q: value %q of %s is not a number", clipLine(line), f[i], f[i+1])
		}
		if _, dup := r.Metrics[f[i+1]]; dup {
			return Result{}, fmt.Errorf("parse result line %q: unit %s appears twice", clipLine(line), f[i+1])
		}
		r.Metrics[f[i+1]] = v
		r.Order = append(r.Order, f[i+1])
	}
	return r, nil
}

// SplitProcs splits the "-N" suffix that go test appends to a benchmark
// name when GOMAXPROCS is not 1 ("BenchmarkSend/server=tls-2" →
// "BenchmarkSend/server=tls", 2). A name without one is returned whole,
// with procs 0. Only the last element of the name is looked at, and only a
// suffix of digits after a hyphen counts, so a name whose last value ends
// in "-<digits>" of its own must not be given to it.
func SplitProcs(name string) (base string, procs int) {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 || strings.IndexByte(name[i:], '/') >= 0 {
		return name, 0
	}
	digits := name[i+1:]
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return name, 0
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 1 {
		return name, 0
	}
	return name[:i], n
}

// ReadResults reads every result line of r, skipping lines that do not
// start with "Benchmark" (benchstat's configuration lines, logs).
func ReadResults(r io.Reader) ([]Result, error) {
	var out []Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		res, err := ParseResult(line)
		if err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	return out, nil
}

func clipLine(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// Usage is a snapshot of this process's resource counters.
type Usage struct {
	Wall    time.Time
	CPU     time.Duration // user + system
	Mallocs uint64
}

// TakeUsage reads the process's CPU time (getrusage) and Go heap
// allocation count. It stops the world briefly (runtime.ReadMemStats), so
// call it only around a measured phase.
func TakeUsage() Usage {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return Usage{Wall: time.Now(), CPU: processCPU(), Mallocs: ms.Mallocs}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// PeakRSS returns the process's peak resident set size in bytes (VmHWM of
// /proc/self/status), or 0 where that file is missing.
func PeakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	return parseVmHWM(string(b))
}

func parseVmHWM(status string) int64 {
	for _, line := range strings.Split(status, "\n") {
		rest, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0
		}
		return kb * 1024
	}
	return 0
}

// NewResult computes the metrics of n sends between the snapshots before
// and after.
func NewResult(name string, n int64, before, after Usage) Result {
	wall := after.Wall.Sub(before.Wall)
	cpu := after.CPU - before.CPU
	m := map[string]float64{UnitPeakRSSBytes: float64(PeakRSS())}
	if n > 0 {
		m[UnitNsPerOp] = round(float64(wall.Nanoseconds())/float64(n), 1)
		m[UnitAllocsPerOp] = round(float64(after.Mallocs-before.Mallocs)/float64(n), 2)
	}
	if wall > 0 {
		m[UnitSendsPerSec] = round(float64(n)/wall.Seconds(), 1)
	}
	if cpu > 0 {
		m[UnitSendsPerCPU] = round(float64(n)/cpu.Seconds(), 1)
	}
	return Result{Name: name, N: n, Metrics: m}
}

func round(v float64, digits int) float64 {
	s := strconv.FormatFloat(v, 'f', digits, 64)
	r, _ := strconv.ParseFloat(s, 64)
	return r
}

// Loop runs send from conc goroutines until maxSends sends have been
// started or d has passed, whichever comes first, and returns the number
// of sends that completed. The first error stops the loop and is
// returned.
func Loop(ctx context.Context, conc int, d time.Duration, maxSends int64, send func(context.Context) error) (int64, error) {
	if conc < 1 {
		return 0, errors.New("bench loop: concurrency must be at least 1")
	}
	if maxSends <= 0 {
		return 0, errors.New("bench loop: the send count bound must be positive")
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var started, done atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for ctx.Err() == nil && started.Add(1) <= maxSends {
				if err := send(context.WithoutCancel(ctx)); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return done.Load(), firstErr
}

// SinkHandler returns the sink's handler: POST /{hub}/messages (any query)
// is answered 201 Created with a Location header naming a fresh
// notification id, as the service answers a send; everything else 404.
// The request body is read and discarded.
func SinkHandler() http.Handler {
	var seq atomic.Uint64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hub, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if r.Method != http.MethodPost || !ok || hub == "" || strings.TrimSuffix(rest, "/") != "messages" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		id := seq.Add(1)
		h := w.Header()
		h["Location"] = []string{"https://" + r.Host + "/" + hub + "/messages/" + strconv.FormatUint(id, 10) + "?api-version=2020-06"}
		h["Trackingid"] = []string{"bench-" + strconv.FormatUint(id, 10)}
		h["Content-Length"] = []string{"0"}
		w.WriteHeader(http.StatusCreated)
	})
}
