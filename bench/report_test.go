package bench

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := Median(tc.in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func res(name string, sendsPerSec float64) Result {
	return Result{Name: name, N: 1, Metrics: map[string]float64{UnitSendsPerSec: sendsPerSec, UnitSendsPerCPU: sendsPerSec * 2}}
}

func TestPairRatio(t *testing.T) {
	series := Group([]Result{
		res("BenchmarkSend/client=ceiling", 100),
		res("BenchmarkSend/client=sdk", 90),
		res("BenchmarkSend/client=ceiling", 200),
		res("BenchmarkSend/client=sdk", 100),
		res("BenchmarkSend/client=ceiling", 100),
		res("BenchmarkSend/client=sdk", 95),
	})
	if len(series) != 2 {
		t.Fatalf("Group made %d series, want 2", len(series))
	}
	got := PairRatio(series[1], series[0], UnitSendsPerSec)
	want := Ratio{OK: true, Median: 0.9, Min: 0.5, Max: 0.95, Runs: 3}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("PairRatio (-want +got):\n%s", d)
	}
	if got.Verdict(0.9) != "met (≥ 0.9×)" {
		t.Errorf("Verdict(0.9) = %q", got.Verdict(0.9))
	}
	if v := got.Verdict(0.95); !strings.Contains(v, "missed") {
		t.Errorf("Verdict(0.95) = %q, want missed", v)
	}
	if r := PairRatio(nil, series[0], UnitSendsPerSec); r.OK || r.String() != "n/a" {
		t.Errorf("PairRatio with a missing side = %+v (%s), want not OK", r, r)
	}
}

func TestWriteReport(t *testing.T) {
	var rs []Result
	for range 3 {
		for _, c := range []string{"1", "64"} {
			rs = append(rs,
				res("BenchmarkSend/server=sink/client=ceiling/payload=fcmv1/conc="+c, 1000),
				res("BenchmarkSend/server=sink/client=sdk/payload=fcmv1/conc="+c, 950),
				res("BenchmarkSend/server=sink/client=js/payload=fcmv1/conc="+c, 100),
				res("BenchmarkSend/server=emulator/client=sdk/payload=fcmv1/conc="+c, 500),
			)
		}
		rs = append(rs, Result{Name: "BenchmarkCLIEach/server=emulator/conc=64", N: 5000, Metrics: map[string]float64{"rows/s": 2500}})
	}
	var b strings.Builder
	err := WriteReport(&b, ReportInput{
		Machine:       Machine{CPUs: 2, CPU: "Test CPU", Go: "go1.26", Node: "20", Command: "bash bench/run.sh"},
		Results:       rs,
		EmulatorBench: "BenchmarkTagExpression-2 10 5 ns/op",
		Notes:         []string{"a note"},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"2 CPUs (Test CPU)",
		"`bash bench/run.sh`",
		"- a note",
		"| fcmv1 | 1 | 1000 | 950 | 0.95× (0.95–0.95) | met (≥ 0.9×) |",
		"| fcmv1 | 64 | 950 | 500 | 0.53× (0.53–0.53) | **missed** (≥ 0.6×) |",
		"| 5000 | 64 | 2500 |",
		"BenchmarkTagExpression-2 10 5 ns/op",
		"### What limits each figure",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q\n%s", want, out)
		}
	}
	if !strings.Contains(out, "| fcmv1 | 64 | 100 | 200 | – | 0.10× (0.10–0.10) | 9.50× (9.50–9.50) | met (≥ 5×) |") {
		t.Errorf("report lacks the JS row at 64:\n%s", out)
	}
}

func TestReplaceSection(t *testing.T) {
	const start, end = "<!-- s -->", "<!-- e -->"
	tests := []struct{ name, doc, want string }{{
		name: "empty",
		doc:  "",
		want: "## T\n\n<!-- s -->\nbody\n<!-- e -->\n",
	}, {
		name: "append",
		doc:  "# Benchmarks\n\n## Other\n\ntheirs",
		want: "# Benchmarks\n\n## Other\n\ntheirs\n\n## T\n\n<!-- s -->\nbody\n<!-- e -->\n",
	}, {
		name: "replace keeps the rest",
		doc:  "# Benchmarks\n\n## T\n\n<!-- s -->\nold\nold\n<!-- e -->\n\n## Other\ntheirs\n",
		want: "# Benchmarks\n\n## T\n\n<!-- s -->\nbody\n<!-- e -->\n\n## Other\ntheirs\n",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ReplaceSection(tc.doc, "T", start, end, "body\n")
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("ReplaceSection (-want +got):\n%s", d)
			}
		})
	}
}

func TestWriteReportSaysWhatIsMissing(t *testing.T) {
	var b strings.Builder
	if err := WriteReport(&b, ReportInput{Results: []Result{res("BenchmarkSend/server=sink/client=ceiling/payload=fcmv1/conc=1", 10)}}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(b.String(), "Not measured in this run."); got != 4 {
		t.Errorf("%d parts say they were not measured, want 4 (JS, emulator, CLI, internals):\n%s", got, b.String())
	}
}
