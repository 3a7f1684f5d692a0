package bench

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Targets of issue 7.
const (
	TargetSDKCeilingSends = 0.9  // SDK sends/s ÷ ceiling sends/s at concurrency 1 and 64
	TargetSDKCeilingCPU   = 0.85 // SDK sends/cpu-s ÷ ceiling sends/cpu-s
	TargetSDKJS           = 5.0  // SDK sends/s ÷ JS SDK sends/s at concurrency 64
	TargetEmulatorSink    = 0.6  // SDK sends/s against the emulator ÷ against the sink
)

// Targets of issue 2: what the SDK may add to a send over the bare
// net/http POST, measured in one process (lower is better).
const (
	TargetOverheadCPU    = 1.20 // SDK cpu-ns/op ÷ bare cpu-ns/op, at most
	TargetOverheadAllocs = 60   // SDK allocs/op − bare allocs/op, at most
)

// Units of the root package's in-process send benchmarks (go test -bench
// with -benchmem).
const (
	UnitCPUNsPerOp = "cpu-ns/op" // process CPU time per op, client and server
	UnitGoAllocsOp = "allocs/op"
)

// The root package's benchmark behind the overhead table, and its units
// ("bare-", "sdk-" or "azcore-" before the per-sender ones).
const (
	benchOverhead       = "BenchmarkSendOverhead"
	UnitOverCPU         = "cpu-ns/send"
	UnitOverAllocs      = "allocs/send"
	UnitOverSDKRatio    = "sdk/bare"
	UnitOverAzcoreRatio = "azcore/bare"
)

// Series is the runs of one benchmark, in the order they ran.
type Series struct {
	Name string
	Runs []Result
}

// Values returns the unit's value in each run that has it.
func (s *Series) Values(unit string) []float64 {
	if s == nil {
		return nil
	}
	var out []float64
	for _, r := range s.Runs {
		if v, ok := r.Metrics[unit]; ok {
			out = append(out, v)
		}
	}
	return out
}

// Median returns the median of the unit's values, and false when there
// are none.
func (s *Series) Median(unit string) (float64, bool) {
	v := s.Values(unit)
	if len(v) == 0 {
		return 0, false
	}
	return Median(v), true
}

// Median returns the median of v (the mean of the two middle values for
// an even count); v must not be empty.
func Median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Group collects results by name, keeping the order of first appearance
// and, within a name, the order of the runs.
func Group(results []Result) []*Series {
	var out []*Series
	byName := map[string]*Series{}
	for _, r := range results {
		s := byName[r.Name]
		if s == nil {
			s = &Series{Name: r.Name}
			byName[r.Name] = s
			out = append(out, s)
		}
		s.Runs = append(s.Runs, r)
	}
	return out
}

// Ratio is a ratio of two series' medians and of their runs pairwise
// (run i of the numerator over run i of the denominator, which ran next
// to each other).
type Ratio struct {
	// OK is false when either side is missing.
	OK bool
	// Median is the median of the per-run ratios.
	Median float64
	// Min and Max bound the per-run ratios.
	Min, Max float64
	// Runs is the number of run pairs.
	Runs int
}

// PairRatio computes num/den of unit run by run.
func PairRatio(num, den *Series, unit string) Ratio {
	a, b := num.Values(unit), den.Values(unit)
	n := min(len(a), len(b))
	var rs []float64
	for i := range n {
		if b[i] > 0 {
			rs = append(rs, a[i]/b[i])
		}
	}
	return RatioOf(rs)
}

// RatioOf summarises ratios measured run by run: their median and range.
func RatioOf(rs []float64) Ratio {
	if len(rs) == 0 {
		return Ratio{}
	}
	return Ratio{OK: true, Median: Median(rs), Min: slices.Min(rs), Max: slices.Max(rs), Runs: len(rs)}
}

// String formats the ratio as "0.93× (0.91–0.95)".
func (r Ratio) String() string { return r.Format(2) }

// Format formats the ratio with prec decimals, as String does with 2.
func (r Ratio) Format(prec int) string {
	if !r.OK {
		return "n/a"
	}
	if r.Runs == 1 {
		return fmt.Sprintf("%.*f×", prec, r.Median)
	}
	return fmt.Sprintf("%.*f× (%.*f–%.*f)", prec, r.Median, prec, r.Min, prec, r.Max)
}

// Verdict says whether the ratio's median meets target.
func (r Ratio) Verdict(target float64) string {
	switch {
	case !r.OK:
		return "not measured"
	case r.Median >= target:
		return fmt.Sprintf("met (≥ %.2g×)", target)
	default:
		return fmt.Sprintf("**missed** (≥ %.2g×)", target)
	}
}

// VerdictAtMost says whether the ratio's median meets a target that it
// must not exceed (lower is better).
func (r Ratio) VerdictAtMost(target float64) string {
	switch {
	case !r.OK:
		return "not measured"
	case r.Median <= target:
		return fmt.Sprintf("met (≤ %.2f×)", target)
	default:
		return fmt.Sprintf("**missed** (≤ %.2f×)", target)
	}
}

// Machine describes where the benchmarks ran.
type Machine struct {
	CPUs    int
	CPU     string
	Go      string
	Node    string
	Kernel  string
	Date    string
	Command string
}

// ReportInput is everything a report is made of.
type ReportInput struct {
	Machine Machine
	Results []Result
	// Benchstat is benchstat's output over Results (may be empty).
	Benchstat string
	// EmulatorBench is the output of the emulator's go test -bench (may be
	// empty when it has none).
	EmulatorBench string
	// Overhead are the result lines of the root package's in-process send
	// benchmarks (BenchmarkSendNotification, BenchmarkBareHTTPPostSend,
	// BenchmarkAzcorePipelineSend, each with sub-benchmarks server=tls and
	// server=plain), run interleaved in rounds: run i of each belongs to
	// round i. Names may carry go test's "-N" GOMAXPROCS suffix. May be
	// empty.
	Overhead []Result
	// OverheadBenchtime is the -test.benchtime of each of those runs (e.g.
	// "0.5s"), for the text under their table; may be empty.
	OverheadBenchtime string
	// SDKMicro is the output of the SDK's micro-benchmarks (go test -bench
	// of validation, SAS signing and tag expressions); may be empty.
	SDKMicro string
	// Notes are extra lines (e.g. why a part was skipped).
	Notes []string
	// Profiles are CPU profiles of the SDK client as `go tool pprof -top`
	// prints them, by label (e.g. "concurrency 1"); may be empty.
	Profiles []Profile
}

// index finds series by their name's keys.
type index struct{ series []*Series }

func (ix index) find(kv ...string) *Series {
	for _, s := range ix.series {
		r := s.Runs[0]
		ok := true
		for i := 0; i+1 < len(kv); i += 2 {
			if r.Key(kv[i]) != kv[i+1] {
				ok = false
				break
			}
		}
		if ok && strings.HasPrefix(s.Name, "BenchmarkSend/") {
			return s
		}
	}
	return nil
}

// values lists the distinct values of key among BenchmarkSend series, in
// numeric order when they are numbers.
func (ix index) values(key string) []string {
	var out []string
	for _, s := range ix.series {
		if !strings.HasPrefix(s.Name, "BenchmarkSend/") {
			continue
		}
		if v := s.Runs[0].Key(key); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		x, errA := strconv.Atoi(a)
		y, errB := strconv.Atoi(b)
		if errA == nil && errB == nil {
			return x - y
		}
		return strings.Compare(a, b)
	})
	return out
}

func med(s *Series, unit string) string {
	v, ok := s.Median(unit)
	if !ok {
		return "–"
	}
	switch unit {
	case UnitPeakRSSBytes:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case UnitAllocsPerOp:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// OverheadSeries groups the in-process send benchmarks' results by their
// name, with go test's GOMAXPROCS suffix turned into a procs key
// ("BenchmarkSendOverhead/server=tls/procs=2"; no suffix is procs=1), in
// the order of first appearance.
func OverheadSeries(results []Result) []*Series {
	base := make([]Result, len(results))
	for i, r := range results {
		name, procs := SplitProcs(r.Name)
		r.Name = name + "/procs=" + strconv.Itoa(max(procs, 1))
		base[i] = r
	}
	return Group(base)
}

// writeOverhead writes the table of issue 2's check from the runs of
// BenchmarkSendOverhead: per server, the CPU time and allocations per
// send of the bare POST, the SDK and azcore's pipeline alone (medians of
// the runs), the SDK's and azcore's CPU ratios to the bare POST (median
// and range of the runs' ratios, each measured over interleaved blocks)
// and the SDK's added allocations, against the targets.
func writeOverhead(b *strings.Builder, results []Result, benchtime string) {
	b.WriteString("### SDK overhead in one process (issue 2's check)\n\n")
	var series []*Series
	for _, s := range OverheadSeries(results) {
		if name, _, _ := strings.Cut(s.Name, "/"); name == benchOverhead {
			series = append(series, s)
		}
	}
	med := func(s *Series, unit, format string, scale float64) string {
		v, ok := s.Median(unit)
		if !ok {
			return "–"
		}
		return fmt.Sprintf(format, v/scale)
	}
	t := table{head: "| server | GOMAXPROCS | bare POST cpu-µs/send | SDK cpu-µs/send | azcore pipeline cpu-µs/send | SDK ÷ bare CPU | target | azcore ÷ bare CPU | allocs/send bare / SDK / azcore | SDK's added allocs | target |\n" +
		"|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---|\n"}
	runs := 0
	for _, s := range series {
		srv := s.Runs[0].Key("server")
		if srv == "" {
			continue
		}
		runs = max(runs, len(s.Runs))
		r := RatioOf(s.Values(UnitOverSDKRatio))
		added, verdict := "–", "not measured"
		sa, okS := s.Median("sdk-" + UnitOverAllocs)
		ba, okB := s.Median("bare-" + UnitOverAllocs)
		if okS && okB {
			added = fmt.Sprintf("%+.0f", sa-ba)
			verdict = fmt.Sprintf("met (≤ +%d)", TargetOverheadAllocs)
			if sa-ba > TargetOverheadAllocs {
				verdict = fmt.Sprintf("**missed** (≤ +%d)", TargetOverheadAllocs)
			}
		}
		t.row("| %s | %s | %s | %s | %s | %s | %s | %s | %s / %s / %s | %s | %s |\n", srv, s.Runs[0].Key("procs"),
			med(s, "bare-"+UnitOverCPU, "%.1f", 1000), med(s, "sdk-"+UnitOverCPU, "%.1f", 1000), med(s, "azcore-"+UnitOverCPU, "%.1f", 1000),
			r.Format(3), r.VerdictAtMost(TargetOverheadCPU), RatioOf(s.Values(UnitOverAzcoreRatio)).Format(3),
			med(s, "bare-"+UnitOverAllocs, "%.0f", 1), med(s, "sdk-"+UnitOverAllocs, "%.0f", 1), med(s, "azcore-"+UnitOverAllocs, "%.0f", 1),
			added, verdict)
	}
	t.writeTo(b)
	if len(t.rows) == 0 {
		return
	}
	bt := benchtime
	if bt == "" {
		bt = "1s"
	}
	fmt.Fprintf(b, "Same request, same *http.Client, same loopback server, client and server in one process (`BenchmarkSendOverhead` in bench_send_test.go): "+
		"the bare net/http POST, the SDK's send and the bare request through azcore's pipeline alone (its own policies, the request built the obvious way: URL parsed, every header set before the pipeline) "+
		"take turns in blocks of 250 sends, the order rotating through all six permutations, so that drift on the busy machine falls on all three alike; "+
		"TLS is how a send reaches the service, plain leaves the fixed costs with the least around them. "+
		"CPU is the process's user + system time per send (getrusage: client and server; waiting for a core does not count), allocations are every goroutine's (runtime.MemStats). "+
		"With GOMAXPROCS 1 the process CPU is the work done; with 2, the other core's scheduler also spins while it waits for work, "+
		"and that time grows with the time the client is busy per send (adding 3 µs of pure SDK work to each bare POST added about 6 µs of process CPU with 1 and 10 µs with 2). "+
		"%s per GOMAXPROCS of `-test.benchtime=%s`: figures are medians of the runs, ratios the median (min–max) of the runs' ratios. "+
		"Command: `go test -run='^$' -bench='^BenchmarkSendOverhead$' -benchtime=%s -count=%d -cpu=1,2 .`\n\n",
		plural(runs, "run"), bt, bt, runs)
}

// plural returns "1 run" or "n runs".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// table is a markdown table that says "Not measured" when it has no rows.
type table struct {
	head string
	rows []string
}

func (t *table) row(format string, args ...any) {
	t.rows = append(t.rows, fmt.Sprintf(format, args...))
}

func (t *table) writeTo(b *strings.Builder) {
	if len(t.rows) == 0 {
		b.WriteString("Not measured in this run.\n\n")
		return
	}
	b.WriteString(t.head)
	for _, r := range t.rows {
		b.WriteString(r)
	}
	b.WriteString("\n")
}

// WriteReport writes the markdown report: machine, command, the tables,
// what limits each figure, and benchstat's and the emulator's raw output.
func WriteReport(w io.Writer, in ReportInput) error {
	ix := index{series: Group(in.Results)}
	var b strings.Builder
	m := in.Machine
	fmt.Fprintf(&b, "Measured %s on %d CPUs (%s), %s, Node %s, Linux %s.\n\n", m.Date, m.CPUs, m.CPU, m.Go, m.Node, m.Kernel)
	fmt.Fprintf(&b, "Command: `%s` (about 9 minutes; add `--update` to rewrite this section). Each client is its own process; the sink and the emulator are separate processes on 127.0.0.1 with TLS and HTTP/1.1 keep-alive. The ceiling and the SDK run as a pair of processes that take turns in short slices (`-client pair`: each sends for one slice while the other waits, in the order ceiling, SDK, SDK, ceiling, …, so that drift on the machine falls on both alike; CPU is each process's own over the whole alternation, sends per second over its own slices); for one case the pair runs against the sink, then the JS SDK, then the pair against the emulator, then the next case, and the whole sequence is repeated; figures are medians of the runs, ratios are medians of per-run ratios (min–max in brackets).\n\n", m.Command)
	for _, n := range in.Notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	if len(in.Notes) > 0 {
		b.WriteString("\n")
	}

	concs := ix.values("conc")
	payloads := ix.values("payload")

	b.WriteString("### SDK against the ceiling (bare net/http, same request)\n\n")
	t := table{head: "| payload | conc | ceiling sends/s | SDK sends/s | SDK ÷ ceiling | target | ceiling sends/CPU-s | SDK sends/CPU-s | SDK ÷ ceiling | target | allocs/send ceiling / SDK | SDK peak RSS |\n" +
		"|---|---:|---:|---:|---:|---|---:|---:|---:|---|---:|---:|\n"}
	for _, p := range payloads {
		for _, c := range concs {
			ce := ix.find("server", "sink", "client", "ceiling", "payload", p, "conc", c)
			sd := ix.find("server", "sink", "client", "sdk", "payload", p, "conc", c)
			if ce == nil && sd == nil {
				continue
			}
			rs := PairRatio(sd, ce, UnitSendsPerSec)
			rc := PairRatio(sd, ce, UnitSendsPerCPU)
			target := "–"
			if c == "1" || c == "64" {
				target = rs.Verdict(TargetSDKCeilingSends)
			}
			t.row("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s |\n",
				p, c, med(ce, UnitSendsPerSec), med(sd, UnitSendsPerSec), rs, target,
				med(ce, UnitSendsPerCPU), med(sd, UnitSendsPerCPU), rc, rc.Verdict(TargetSDKCeilingCPU),
				med(ce, UnitAllocsPerOp), med(sd, UnitAllocsPerOp), med(sd, UnitPeakRSSBytes))
		}
	}
	t.writeTo(&b)

	writeOverhead(&b, in.Overhead, in.OverheadBenchtime)

	b.WriteString("### SDK micro-benchmarks (validation, SAS signing, tag expressions, a send without the network)\n\n")
	if strings.TrimSpace(in.SDKMicro) == "" {
		b.WriteString("Not measured in this run.\n\n")
	} else {
		b.WriteString("`go test -run='^$' -bench='^(BenchmarkValidate|BenchmarkSendSASPolicy|BenchmarkSendSignEveryRequest)$' -benchmem .`, `go test -run='^$' -bench=. -benchmem ./internal/tagexpr/` and `go test -run='^$' -bench='^BenchmarkSendNoNetwork$' -benchmem -count=5 .` (the bare request, the same through azcore's pipeline the obvious way, and the SDK's send, each to a transport that answers at once: the CPU each adds without sockets, TLS or a server):\n\n")
		b.WriteString("```\n" + strings.TrimRight(in.SDKMicro, "\n") + "\n```\n\n")
	}

	b.WriteString("### SDK against the official JS SDK (`@azure/notification-hubs` 2.1.0)\n\n")
	t = table{head: "| payload | conc | JS sends/s | JS sends/CPU-s | JS peak RSS | JS ÷ ceiling | SDK ÷ JS | target |\n" +
		"|---|---:|---:|---:|---:|---:|---:|---|\n"}
	for _, p := range payloads {
		for _, c := range concs {
			js := ix.find("server", "sink", "client", "js", "payload", p, "conc", c)
			if js == nil {
				continue
			}
			ce := ix.find("server", "sink", "client", "ceiling", "payload", p, "conc", c)
			sd := ix.find("server", "sink", "client", "sdk", "payload", p, "conc", c)
			r := PairRatio(sd, js, UnitSendsPerSec)
			target := "–"
			if c == "64" {
				target = r.Verdict(TargetSDKJS)
			}
			t.row("| %s | %s | %s | %s | %s | %s | %s | %s |\n", p, c, med(js, UnitSendsPerSec), med(js, UnitSendsPerCPU),
				med(js, UnitPeakRSSBytes), PairRatio(js, ce, UnitSendsPerSec), r, target)
		}
	}
	t.writeTo(&b)

	b.WriteString("### The emulator as the server (SDK loop; SAS verification, tag evaluation, one delivery recorded per send)\n\n")
	t = table{head: "| payload | conc | SDK → sink sends/s | SDK → emulator sends/s | emulator ÷ sink | target | ceiling → sink | ceiling → emulator | emulator ÷ sink |\n" +
		"|---|---:|---:|---:|---:|---|---:|---:|---:|\n"}
	for _, p := range payloads {
		for _, c := range concs {
			em := ix.find("server", "emulator", "client", "sdk", "payload", p, "conc", c)
			if em == nil {
				continue
			}
			sd := ix.find("server", "sink", "client", "sdk", "payload", p, "conc", c)
			r := PairRatio(em, sd, UnitSendsPerSec)
			ce := ix.find("server", "sink", "client", "ceiling", "payload", p, "conc", c)
			cem := ix.find("server", "emulator", "client", "ceiling", "payload", p, "conc", c)
			t.row("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", p, c, med(sd, UnitSendsPerSec), med(em, UnitSendsPerSec), r, r.Verdict(TargetEmulatorSink),
				med(ce, UnitSendsPerSec), med(cem, UnitSendsPerSec), PairRatio(cem, ce, UnitSendsPerSec))
		}
	}
	t.writeTo(&b)

	var cli []*Series
	for _, s := range ix.series {
		if strings.HasPrefix(s.Name, "BenchmarkCLIEach/") {
			cli = append(cli, s)
		}
	}
	b.WriteString("### CLI bulk: `nh send --each` against the emulator\n\n")
	if len(cli) == 0 {
		b.WriteString("Not measured in this run.\n\n")
	} else {
		b.WriteString("| rows | conc | rows/s | rows/CPU-s of nh | nh peak RSS |\n|---:|---:|---:|---:|---:|\n")
		for _, s := range cli {
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s |\n", s.Runs[0].N, s.Runs[0].Key("conc"), med(s, "rows/s"), med(s, "rows/cpu-s"), med(s, UnitPeakRSSBytes))
		}
		b.WriteString("\nRows/s is the whole `nh` process from start to exit (reading the CSV, the journal, the failures file) over the rows sent; each row is one template send to one user's tag.\n\n")
	}

	writeBulk(&b, ix.series)

	b.WriteString("### Emulator internals and durable writes (`go test -bench ./emulator/`)\n\n")
	if strings.TrimSpace(in.EmulatorBench) == "" {
		b.WriteString("Not measured in this run.\n\n")
	} else {
		b.WriteString("```\n" + strings.TrimRight(in.EmulatorBench, "\n") + "\n```\n\n")
	}

	b.WriteString(limits)
	for _, p := range in.Profiles {
		groups, listed := ProfileShares(p.Top)
		if len(groups) == 0 {
			continue
		}
		fmt.Fprintf(&b, "- **Where the SDK client's CPU went, %s** (FCM v1; own time of the functions `go tool pprof -top` lists, %.0f %% of the samples): ", p.Label, listed)
		for i, g := range groups {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s %.0f %%", g.Name, g.Percent)
		}
		b.WriteString(".")
		if parts := ProfileParts(p.Cum); parts != "" {
			b.WriteString(" By caller (time including callees): " + parts + ".")
		}
		b.WriteString("\n")
	}

	if strings.TrimSpace(in.Benchstat) != "" {
		b.WriteString("\n<details><summary>benchstat over all client runs</summary>\n\n```\n" + strings.TrimRight(in.Benchstat, "\n") + "\n```\n</details>\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// TargetBulkOfAllowed is issue 15's target for bulk sends against a
// throttled hub: sends per second ÷ the hub's allowed rate.
const TargetBulkOfAllowed = 0.9

// Units of the bulk benchmark's lines.
const (
	UnitOfAllowed = "x-allowed"
	UnitThrottled = "throttled"
)

// ReplaceSection returns doc with the text between the start and end
// markers replaced by body (markers kept). When the markers are missing the
// section (title, markers, body) is appended.
func ReplaceSection(doc, title, start, end, body string) string {
	block := start + "\n" + strings.TrimRight(body, "\n") + "\n" + end + "\n"
	i := strings.Index(doc, start)
	j := strings.Index(doc, end)
	if i >= 0 && j > i {
		return doc[:i] + block + strings.TrimPrefix(doc[j+len(end):], "\n")
	}
	if doc != "" && !strings.HasSuffix(doc, "\n") {
		doc += "\n"
	}
	if doc != "" {
		doc += "\n"
	}
	return doc + "## " + title + "\n\n" + block
}
