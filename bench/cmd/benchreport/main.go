// Command benchreport turns the result lines of a bench/run.sh run into
// the markdown tables of BENCHMARKS.md: medians, per-run ratios against
// the targets, the machine and the command.
//
//	benchreport -results out/results.txt [-benchstat out/benchstat.txt]
//	            [-emulator-bench out/emulator-bench.txt] [-notes out/notes.txt]
//	            [-overhead out/overhead.txt] [-overhead-benchtime 0.5s]
//	            [-sdk-micro out/sdk-micro.txt]
//	            [-out out/report.md] [-update BENCHMARKS.md]
//
// -overhead names the result lines of the root package's in-process send
// benchmarks, run interleaved in rounds; a file that does not parse is
// noted in the report and its table left out.
//
// The report goes to stdout and to -out. With -update, the section
// between <!-- bench:start --> and <!-- bench:end --> of that file is
// replaced (or appended, with its title, when missing).
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nhkit/notificationhubs/bench"
)

// Markers and title of the section this tool owns in BENCHMARKS.md.
const (
	sectionTitle = "Side-by-side benchmarks"
	markerStart  = "<!-- bench:start -->"
	markerEnd    = "<!-- bench:end -->"
	docTitle     = "# Benchmarks"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run() error {
	results := flag.String("results", "", "result lines (required)")
	benchstatFile := flag.String("benchstat", "", "benchstat's output")
	emuFile := flag.String("emulator-bench", "", "output of go test -bench ./emulator/")
	notesFile := flag.String("notes", "", "notes, one a line")
	overheadFile := flag.String("overhead", "", "result lines of the in-process send benchmarks (BenchmarkSendNotification, BenchmarkBareHTTPPostSend, BenchmarkAzcorePipelineSend), interleaved in rounds")
	overheadBenchtime := flag.String("overhead-benchtime", "", "the -test.benchtime of each in-process run")
	microFile := flag.String("sdk-micro", "", "output of the SDK's micro-benchmarks (go test -bench)")
	out := flag.String("out", "", "also write the report here")
	update := flag.String("update", "", "replace the section in this markdown file")
	command := flag.String("command", "bash bench/run.sh", "the command that reproduces the run")
	profiles := flag.String("profiles", "", "pprof -top texts of the SDK client, named …conc<N>.txt (a glob; default: profile-sdk-conc*.txt beside -results)")
	flag.Parse()
	if *results == "" {
		return errors.New("give -results")
	}
	f, err := os.Open(*results)
	if err != nil {
		return err
	}
	rs, err := bench.ReadResults(f)
	f.Close()
	if err != nil {
		return err
	}
	in := bench.ReportInput{Results: rs, Machine: machine(*command)}
	in.Benchstat = readOptional(*benchstatFile)
	in.EmulatorBench = readOptional(*emuFile)
	in.SDKMicro = readOptional(*microFile)
	in.OverheadBenchtime = *overheadBenchtime
	for _, l := range strings.Split(readOptional(*notesFile), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			in.Notes = append(in.Notes, l)
		}
	}
	if text := readOptional(*overheadFile); text != "" {
		ov, err := bench.ReadResults(strings.NewReader(text))
		if err != nil {
			in.Notes = append(in.Notes, fmt.Sprintf("The in-process overhead results could not be read (%v); their table is missing.", err))
		} else {
			in.Overhead = ov
		}
	}
	if *profiles == "" {
		*profiles = filepath.Join(filepath.Dir(*results), "profile-sdk-conc*.txt")
	}
	in.Profiles = readProfiles(*profiles)
	var buf bytes.Buffer
	if err := bench.WriteReport(&buf, in); err != nil {
		return err
	}
	if _, err := os.Stdout.Write(buf.Bytes()); err != nil {
		return err
	}
	if *out != "" {
		if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if *update != "" {
		doc, err := os.ReadFile(*update)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if len(doc) == 0 {
			doc = []byte(docTitle + "\n")
		}
		next := bench.ReplaceSection(string(doc), sectionTitle, markerStart, markerEnd, buf.String())
		if err := os.WriteFile(*update, []byte(next), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// readProfiles reads the pprof texts matching glob, labelled and ordered
// by the concurrency in their names ("…conc64.txt").
func readProfiles(glob string) []bench.Profile {
	names, _ := filepath.Glob(glob)
	conc := func(name string) int {
		base := strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
		i := strings.LastIndex(base, "conc")
		if i < 0 {
			return -1
		}
		n, err := strconv.Atoi(base[i+len("conc"):])
		if err != nil {
			return -1
		}
		return n
	}
	slices.SortFunc(names, func(a, b string) int { return conc(a) - conc(b) })
	var out []bench.Profile
	for _, name := range names {
		top := readOptional(name)
		if strings.TrimSpace(top) == "" {
			continue
		}
		label := "concurrency " + strconv.Itoa(conc(name))
		if conc(name) < 0 {
			label = filepath.Base(name)
		}
		out = append(out, bench.Profile{Label: label, Top: top, Cum: cumText(name)})
	}
	return out
}

// cumText returns `go tool pprof -top -cum` of the profile beside the
// text topName ("profile-sdk-conc1.txt" → "sdk-conc1.pprof"), or "" when
// there is none or pprof fails. Go CPU profiles carry their symbols, so
// the binary is not needed.
func cumText(topName string) string {
	base := strings.TrimPrefix(strings.TrimSuffix(filepath.Base(topName), ".txt"), "profile-")
	prof := filepath.Join(filepath.Dir(topName), base+".pprof")
	if _, err := os.Stat(prof); err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount=1000", prof).Output()
	if err != nil {
		return ""
	}
	return string(b)
}

func readOptional(name string) string {
	if name == "" {
		return ""
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return ""
	}
	return string(b)
}

func machine(command string) bench.Machine {
	m := bench.Machine{
		CPUs:    runtime.NumCPU(),
		Go:      runtime.Version(),
		Date:    time.Now().UTC().Format("2006-01-02"),
		Command: command,
		CPU:     "unknown CPU",
		Node:    "(none)",
		Kernel:  "unknown",
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if b, err := exec.CommandContext(ctx, "node", "--version").Output(); err == nil {
		m.Node = strings.TrimPrefix(strings.TrimSpace(string(b)), "v")
	}
	return m
}
