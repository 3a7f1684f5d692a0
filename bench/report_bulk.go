// The report's bulk-send table: paced sends against throttled emulators.

package bench

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// BulkBound is the best sends per second ÷ allowed rate that a sender can
// reach when it must find the rate: n sends through a token bucket of
// rate r holding b, with one throttled answer whose Retry-After (retry,
// in seconds) it must wait out while the bucket refills to b only. The
// fastest such run sends b at once, is throttled, waits, then sends b at
// once again and the rest at r: it takes retry + (n − 2b)/r seconds.
func BulkBound(n, r, b, retry float64) float64 {
	return n / (retry + (n-2*b)/r) / r
}

// writeBulk writes the table of issue 15: bulk sends through the SDK's
// BulkSender and `nh send --each` against a throttled emulator.
func writeBulk(b *strings.Builder, series []*Series) {
	var bulk []*Series
	for _, s := range series {
		if strings.HasPrefix(s.Name, "BenchmarkBulk/") {
			bulk = append(bulk, s)
		}
	}
	b.WriteString("### Bulk sends against a throttled hub (issue 15)\n\n")
	if len(bulk) == 0 {
		b.WriteString("Not measured in this run.\n\n")
		return
	}
	find := func(model, rate, client, conc, start string) *Series {
		for _, s := range bulk {
			r := s.Runs[0]
			if r.Key("model") == model && r.Key("rate") == rate && r.Key("client") == client && r.Key("conc") == conc && r.Key("start") == start {
				return s
			}
		}
		return nil
	}
	type row struct{ model, rate, conc, start string }
	var rows []row
	for _, s := range bulk {
		r := s.Runs[0]
		x := row{r.Key("model"), r.Key("rate"), r.Key("conc"), r.Key("start")}
		if !slices.Contains(rows, x) {
			rows = append(rows, x)
		}
	}
	num := func(v string) float64 { f, _ := strconv.ParseFloat(v, 64); return f }
	slices.SortStableFunc(rows, func(a, c row) int {
		for _, d := range [][2]string{{a.start, c.start}, {a.model, c.model}} {
			if d[0] != d[1] {
				return strings.Compare(d[0], d[1]) // find before told, bucket before window
			}
		}
		if x, y := num(a.rate), num(c.rate); x != y {
			return int(x - y)
		}
		return int(num(a.conc) - num(c.conc))
	})
	cell := func(s *Series) string {
		if s == nil {
			return "– | – | –"
		}
		return fmt.Sprintf("%s | %s | %s", med(s, UnitSendsPerSec), medX(s, UnitOfAllowed), med(s, UnitThrottled))
	}
	verdict := func(ss ...*Series) string {
		v := "met (≥ 0.9×)"
		seen := false
		for _, s := range ss {
			x, ok := s.Median(UnitOfAllowed)
			if s == nil || !ok {
				continue
			}
			seen = true
			if x < TargetBulkOfAllowed {
				v = "**missed** (≥ 0.9×)"
			}
		}
		if !seen {
			return "–"
		}
		return v
	}
	n := float64(bulk[0].Runs[0].N)
	b.WriteString("| throttle | rate/s | burst | sender knows the rate | conc | SDK sends/s | SDK × allowed | SDK throttled | nh sends/s | nh × allowed | nh throttled | best possible | target |\n")
	b.WriteString("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, x := range rows {
		r := num(x.rate)
		burst, model, bound := fmt.Sprintf("%.0f", r/10), "token bucket", fmt.Sprintf("%.2f×", BulkBound(n, r, r/10, 1))
		if x.model == "window" {
			burst, model, bound = "–", "1 s windows", "–"
		}
		knows := "no"
		if x.start == "told" {
			knows, bound = "yes (`MaxRate`, `--max-rate`)", "1.00×"
		}
		sdk := find(x.model, x.rate, "sdk", x.conc, x.start)
		cli := find(x.model, x.rate, "cli", x.conc, x.start)
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", model, x.rate, burst, knows, x.conc, cell(sdk), cell(cli), bound, verdict(sdk, cli))
	}
	fmt.Fprintf(b, "\n%.0f rows, each a template send to one user's tag, through a fresh hub of its own; sends per second from the start of the process (the benchclient's for the SDK, `nh`'s for the CLI) to the last answer, start-up included; × allowed is that ÷ the hub's rate; throttled counts the 429 answers. *Best possible* is what a sender that must find the rate can reach at most: it is throttled at least once and must then wait the whole Retry-After (whole seconds, so 1 s) while the hub's bucket refills only its burst, i.e. %.0f ÷ (1 s + (rows − 2 × burst) ÷ rate) ÷ rate.\n\n", n, n)
}

// medX formats the median of a ratio.
func medX(s *Series, unit string) string {
	v, ok := s.Median(unit)
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.2f×", v)
}

const limits = `### What limits each figure

- **Sends/s at concurrency 1** is latency: one request in flight, so it is the loopback round trip through two processes (client write, sink wake-up, TLS record, HTTP parse, answer, client wake-up). The client's own per-send CPU adds to it directly, so an SDK that spends more per send is slower here in proportion.
- **Sends/s at concurrency 8 and 64** is CPU: the machine has 2 cores shared by the client and the server process, so every microsecond the client spends per send is taken from the server too. The ceiling shows what net/http and crypto/tls cost on their own. Both keep their connections (the SDK's default transport keeps up to 1024 idle per host), so after the warm-up no send pays for a TLS handshake; what the SDK adds is per-send CPU: azcore's pipeline for every try (a clone of the request, one hop per policy, the sanitized URL of the retry log line), request building, validation, and the allocations of all of these (GC work, which grows with the number of goroutines whose stacks it scans). The profile lines below say how the client's CPU divides in this run.
- **Sends per CPU-second** is the client process alone (user + system time from getrusage during the measured phase), so it does not depend on the server: it is the cleanest measure of the client's cost per send.
- **The JS SDK** runs on one thread (its event loop); at 64 concurrent sends it is bound by that one core and by its per-request pipeline, not by the sink.
- **The emulator** does per send what the service does before the push services: SAS verification (HMAC-SHA256), parsing, tag-expression evaluation over the hub's index, rendering and recording one delivery. Its CPU competes with the client's on the same 2 cores, so the ratio to the sink is a ratio of whole-machine throughput. The ceiling → emulator columns replay the SDK's request from the bare net/http loop, which keeps one connection per sender: they show the emulator's own cost without the SDK's connection handling. The Go clients run with ` + "`GODEBUG=http2client=0`" + ` so that they use HTTP/1.1 against the emulator (which offers HTTP/2) exactly as against the sink (which offers only HTTP/1.1).
- **CLI bulk** is the SDK loop plus the CLI's per-row work (CSV parsing, journal append and flush per row) against the emulator.
- **Peak RSS** is the process's high-water mark (VmHWM, or Node's maxRSS) over the whole run, warm-up included.
`
