// Command benchreport turns the result lines of a bench/run.sh run into
// the markdown tables of BENCHMARKS.md: medians, per-run ratios against
// the targets, the machine and the command.
//
//	benchreport -results out/results.txt [-benchstat out/benchstat.txt]
//	            [-emulator-bench out/emulator-bench.txt] [-notes out/notes.txt]
//	            [-out out/report.md] [-update BENCHMARKS.md]
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
	"runtime"
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
	out := flag.String("out", "", "also write the report here")
	update := flag.String("update", "", "replace the section in this markdown file")
	command := flag.String("command", "bash bench/run.sh", "the command that reproduces the run")
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
	for _, l := range strings.Split(readOptional(*notesFile), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			in.Notes = append(in.Notes, l)
		}
	}
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
