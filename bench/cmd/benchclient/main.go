// Command benchclient runs one benchmark client in its own process and
// prints one result line in Go benchmark format (see package bench).
//
//	benchclient -client ceiling|sdk -server sink|emulator -payload fcmv1|apple -conc 64 [-duration 3s]
//	benchclient -client pair -server sink -payload fcmv1 -conc 64 [-slices 10 -slice 200ms]
//	benchclient -client setup   (creates the emulator hub's installations)
//	benchclient -client cli -nh PATH -rows 5000 -conc 64   (times `nh send --each`)
//	benchclient -client bulk -via sdk|cli -rate 500 -rows 5000 -conc 16 [-max-rate 500]
//	                         (bulk sends against a throttled hub)
//
// The connection string comes from BENCH_CONNECTION_STRING and is never
// printed. TLS trust comes from the system roots, so run it with
// SSL_CERT_FILE naming the server's certificate.
//
// ceiling is a bare net/http loop posting the request that the SDK sends
// (captured once, before the measured phase, from the SDK itself: same URL,
// headers, body and SAS token), over a keep-alive transport with one idle
// connection per concurrent sender. sdk calls Client.SendNotification with
// a tag expression on a client built with default options.
//
// pair runs the ceiling and the SDK as two child processes that take
// turns: each sends for one slice while the other waits, slice after
// slice, in the order ceiling, SDK, SDK, ceiling, …, so that the drift
// of a busy machine falls on both alike; each child measures its own
// process over the whole alternation (its CPU while it waits is only
// what its own sends left behind) and its sends per second over its own
// slices. It prints the ceiling's line, then the SDK's.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/bench"
)

// Payloads of the benchmark sends.
const (
	fcmV1Payload = `{"message":{"notification":{"title":"Order shipped","body":"Your order 1234 is on its way"},"data":{"orderId":"1234","kind":"shipping"}}}`
	applePayload = `{"aps":{"alert":{"title":"Order shipped","body":"Your order 1234 is on its way"},"badge":1},"orderId":"1234"}`
	// fcmTemplate is the template of the fcmv1 installations, for the CLI
	// bulk benchmark's template sends.
	fcmTemplate = `{"message":{"notification":{"title":"$(title)","body":"$(body)"}}}`
)

// envConnectionString holds the connection string.
const envConnectionString = "BENCH_CONNECTION_STRING"

type options struct {
	client, server, payload, hub, tagExpr string
	conc                                  int
	duration, warmup                      time.Duration
	maxSends                              int64
	cpuProfile, memProfile                string
	turns                                 bool
	slices                                int
	slice                                 time.Duration
	nh                                    string
	rows, users                           int
	via, model                            string
	rate, maxRate                         float64
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "benchclient:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, getenv func(string) string) error {
	var o options
	fs := flag.NewFlagSet("benchclient", flag.ContinueOnError)
	fs.StringVar(&o.client, "client", "sdk", "ceiling, sdk, pair, setup, cli or bulk")
	fs.StringVar(&o.server, "server", "sink", "label of the server: sink or emulator")
	fs.StringVar(&o.payload, "payload", "fcmv1", "fcmv1 or apple")
	fs.StringVar(&o.hub, "hub", "bench", "hub name")
	fs.StringVar(&o.tagExpr, "tag-expression", "user_42 && !muted", "tag expression of every send")
	fs.IntVar(&o.conc, "conc", 1, "concurrent senders")
	fs.DurationVar(&o.duration, "duration", 3*time.Second, "measured phase")
	fs.DurationVar(&o.warmup, "warmup", 300*time.Millisecond, "unmeasured phase before it (connections, caches)")
	fs.Int64Var(&o.maxSends, "max-sends", 5_000_000, "bound on the sends of each phase")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the measured phase to this file")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a profile of every allocation of the measured phase to this file (slows the sends)")
	fs.StringVar(&o.nh, "nh", "nh", "cli: path of the nh binary")
	fs.IntVar(&o.rows, "rows", 5000, "cli: rows of the --each file")
	fs.IntVar(&o.users, "users", 1000, "setup, cli: number of users (installations per platform)")
	fs.StringVar(&o.via, "via", "sdk", "bulk: sdk (the SDK's BulkSender) or cli (nh send --each)")
	fs.StringVar(&o.model, "model", "bucket", "bulk: the hub's throttle model, for the result's name")
	fs.Float64Var(&o.rate, "rate", 0, "bulk: the sends per second the hub allows")
	fs.Float64Var(&o.maxRate, "max-rate", 0, "bulk: tell the sender the rate (BulkSenderOptions.MaxRate, --max-rate)")
	fs.IntVar(&o.slices, "slices", 10, "pair: slices each client sends for")
	fs.DurationVar(&o.slice, "slice", 200*time.Millisecond, "pair: length of one slice")
	fs.BoolVar(&o.turns, "turns", false, "ceiling, sdk: take turns as pair's child (commands on standard input)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cs := getenv(envConnectionString)
	if cs == "" {
		return errors.New("set " + envConnectionString)
	}
	if o.conc < 1 || o.conc > 1024 {
		return fmt.Errorf("-conc %d: want 1 to 1024", o.conc)
	}
	switch o.client {
	case "setup":
		return setup(ctx, cs, o)
	case "cli":
		return runCLI(ctx, cs, o, stdout, getenv)
	case "bulk":
		return runBulk(ctx, cs, o, stdout, getenv)
	case "pair":
		if o.slices < 1 || o.slice <= 0 {
			return fmt.Errorf("-slices %d -slice %s: want at least one slice of positive length", o.slices, o.slice)
		}
		if _, err := notification(o.payload); err != nil {
			return err
		}
		return runPair(ctx, o, stdout)
	case "ceiling", "sdk":
	default:
		return fmt.Errorf("-client %q: want ceiling, sdk, pair, setup, cli or bulk", o.client)
	}
	n, err := notification(o.payload)
	if err != nil {
		return err
	}
	var send func(context.Context) error
	if o.client == "sdk" {
		send, err = sdkSender(cs, o, n)
	} else {
		send, err = ceilingSender(ctx, cs, o, n)
	}
	if err != nil {
		return err
	}
	name := fmt.Sprintf("BenchmarkSend/server=%s/client=%s/payload=%s/conc=%d", o.server, o.client, o.payload, o.conc)
	if o.turns {
		return takeTurns(ctx, name, o, send, stdin, stdout)
	}
	res, err := measure(ctx, name, o, send)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, res.String())
	return err
}

// measure runs the warm-up phase, then the measured phase, and returns the
// result of the measured one.
func measure(ctx context.Context, name string, o options, send func(context.Context) error) (bench.Result, error) {
	if err := warmUp(ctx, o, send); err != nil {
		return bench.Result{}, err
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return bench.Result{}, fmt.Errorf("create CPU profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return bench.Result{}, fmt.Errorf("start CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if o.memProfile != "" {
		goruntime.MemProfileRate = 1
	}
	before := bench.TakeUsage()
	n, err := bench.Loop(ctx, o.conc, o.duration, o.maxSends, send)
	after := bench.TakeUsage()
	if err != nil {
		return bench.Result{}, fmt.Errorf("measured phase: %w", err)
	}
	if o.memProfile != "" {
		if err := writeHeapProfile(o.memProfile); err != nil {
			return bench.Result{}, err
		}
	}
	return bench.NewResult(name, n, before, after), nil
}

// warmUp sends for o.warmup, unmeasured: connections, caches.
func warmUp(ctx context.Context, o options, send func(context.Context) error) error {
	if o.warmup <= 0 {
		return nil
	}
	if _, err := bench.Loop(ctx, o.conc, o.warmup, o.maxSends, send); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	return nil
}

// writeHeapProfile writes the allocation profile to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create allocation profile: %w", err)
	}
	goruntime.GC() // the profile is as of the last collection
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("write allocation profile: %w", err)
	}
	return f.Close()
}

// takeTurns is a pair child: after the warm-up it says "ready", then
// sends for one slice (-duration) on each "run" and answers "done"; on
// "end" it prints its result line and returns.
func takeTurns(ctx context.Context, name string, o options, send func(context.Context) error, stdin io.Reader, stdout io.Writer) error {
	if err := warmUp(ctx, o, send); err != nil {
		return err
	}
	if _, err := fmt.Fprintln(stdout, turnReady); err != nil {
		return err
	}
	var before bench.Usage
	var n int64
	var active time.Duration
	in := bufio.NewScanner(stdin)
	for in.Scan() {
		switch cmd := in.Text(); cmd {
		case turnRun:
			if n == 0 && active == 0 {
				before = bench.TakeUsage()
			}
			start := time.Now()
			k, err := bench.Loop(ctx, o.conc, o.duration, o.maxSends, send)
			active += time.Since(start)
			n += k
			if err != nil {
				return fmt.Errorf("slice: %w", err)
			}
			if _, err := fmt.Fprintln(stdout, turnDone); err != nil {
				return err
			}
		case turnEnd:
			if active == 0 {
				return errors.New("turns: ended before any slice")
			}
			after := bench.TakeUsage()
			// CPU and allocations over the whole alternation; wall time
			// over this client's own slices.
			after.Wall = before.Wall.Add(active)
			_, err := fmt.Fprintln(stdout, bench.NewResult(name, n, before, after).String())
			return err
		default:
			return fmt.Errorf("turns: unknown command %q", clip(cmd, 40))
		}
	}
	if err := in.Err(); err != nil {
		return err
	}
	return errors.New("turns: input closed before the end")
}

// The lines of the turn protocol between pair and its children.
const (
	turnReady = "ready"
	turnRun   = "run"
	turnDone  = "done"
	turnEnd   = "end"
)

// turnChild is one child process of pair.
type turnChild struct {
	client string
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Scanner
	stderr bytes.Buffer
}

// say sends cmd and returns the child's next line.
func (c *turnChild) say(cmd string) (string, error) {
	if cmd != "" {
		if _, err := io.WriteString(c.in, cmd+"\n"); err != nil {
			return "", c.fail(err)
		}
	}
	if !c.out.Scan() {
		err := c.out.Err()
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return "", c.fail(err)
	}
	return c.out.Text(), nil
}

// fail describes a child that stopped answering, with its last words.
func (c *turnChild) fail(err error) error {
	_ = c.in.Close()
	if werr := c.cmd.Wait(); werr != nil {
		err = werr
	}
	return fmt.Errorf("pair: %s: %w: %s", c.client, err, clip(strings.TrimSpace(c.stderr.String()), 400))
}

// runPair runs the ceiling and the SDK taking turns (see the package
// comment) and prints their result lines, the ceiling's first.
func runPair(ctx context.Context, o options, stdout io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var kids [2]*turnChild
	defer func() {
		for _, k := range kids {
			if k != nil && k.cmd.ProcessState == nil {
				_ = k.in.Close()
				_ = k.cmd.Wait()
			}
		}
	}()
	for i, client := range [2]string{"ceiling", "sdk"} {
		k := &turnChild{client: client}
		k.cmd = exec.CommandContext(ctx, exe, "-client", client, "-turns", "-server", o.server, "-payload", o.payload,
			"-hub", o.hub, "-tag-expression", o.tagExpr, "-conc", strconv.Itoa(o.conc),
			"-duration", o.slice.String(), "-warmup", o.warmup.String(), "-max-sends", strconv.FormatInt(o.maxSends, 10))
		k.cmd.Stderr = &k.stderr
		if k.in, err = k.cmd.StdinPipe(); err != nil {
			return err
		}
		out, err := k.cmd.StdoutPipe()
		if err != nil {
			return err
		}
		k.out = bufio.NewScanner(out)
		if err := k.cmd.Start(); err != nil {
			return fmt.Errorf("pair: start %s: %w", client, err)
		}
		kids[i] = k
		// One at a time: the other's warm-up does not overlap.
		if line, err := k.say(""); err != nil {
			return err
		} else if line != turnReady {
			return fmt.Errorf("pair: %s said %q, want %q", client, clip(line, 40), turnReady)
		}
	}
	for s := range o.slices {
		order := [2]int{0, 1}
		if s%2 == 1 {
			order = [2]int{1, 0}
		}
		for _, i := range order {
			if line, err := kids[i].say(turnRun); err != nil {
				return err
			} else if line != turnDone {
				return fmt.Errorf("pair: %s said %q, want %q", kids[i].client, clip(line, 40), turnDone)
			}
		}
	}
	var lines [2]string
	for i, k := range kids {
		line, err := k.say(turnEnd)
		if err != nil {
			return err
		}
		if _, err := bench.ParseResult(line); err != nil {
			return fmt.Errorf("pair: %s: %w", k.client, err)
		}
		_ = k.in.Close()
		if err := k.cmd.Wait(); err != nil {
			return k.fail(err)
		}
		lines[i] = line
	}
	_, err = fmt.Fprintln(stdout, lines[0]+"\n"+lines[1])
	return err
}

func notification(payload string) (notificationhubs.Notification, error) {
	switch payload {
	case "fcmv1":
		return notificationhubs.NewFcmV1Notification([]byte(fcmV1Payload)), nil
	case "apple":
		return notificationhubs.NewAppleNotification([]byte(applePayload), &notificationhubs.AppleOptions{PushType: "alert", Priority: 10}), nil
	}
	return notificationhubs.Notification{}, fmt.Errorf("-payload %q: want fcmv1 or apple", payload)
}

// sdkSender returns a send through the SDK with default client options.
func sdkSender(cs string, o options, n notificationhubs.Notification) (func(context.Context) error, error) {
	c, err := notificationhubs.NewClientFromConnectionString(cs, o.hub, nil)
	if err != nil {
		return nil, err
	}
	so := &notificationhubs.SendNotificationOptions{TagExpression: o.tagExpr}
	return func(ctx context.Context) error {
		_, err := c.SendNotification(ctx, n, so)
		return err
	}, nil
}

// capturedRequest is the SDK's send request, recorded by captureTransport.
type capturedRequest struct {
	method, url string
	header      http.Header
	body        []byte
}

// captureTransport records the request and answers 201 without sending.
type captureTransport struct {
	mu  sync.Mutex
	req *capturedRequest
}

func (t *captureTransport) Do(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		body = b
	}
	t.mu.Lock()
	t.req = &capturedRequest{method: r.Method, url: r.URL.String(), header: r.Header.Clone(), body: body}
	t.mu.Unlock()
	return &http.Response{
		StatusCode: http.StatusCreated,
		Status:     "201 Created",
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Location": {"https://" + r.URL.Host + "/x/messages/1"}},
		Body:    http.NoBody,
		Request: r,
	}, nil
}

// captureSDKRequest returns the request the SDK sends for n.
func captureSDKRequest(ctx context.Context, cs string, o options, n notificationhubs.Notification) (*capturedRequest, error) {
	ct := &captureTransport{}
	c, err := notificationhubs.NewClientFromConnectionString(cs, o.hub, &notificationhubs.ClientOptions{
		ClientOptions: azcore.ClientOptions{Transport: ct, Retry: policy.RetryOptions{MaxRetries: -1}},
	})
	if err != nil {
		return nil, err
	}
	if _, err := c.SendNotification(ctx, n, &notificationhubs.SendNotificationOptions{TagExpression: o.tagExpr}); err != nil {
		return nil, fmt.Errorf("capture the SDK's request: %w", err)
	}
	if ct.req == nil {
		return nil, errors.New("capture the SDK's request: none was sent")
	}
	return ct.req, nil
}

// ceilingSender returns a bare net/http send of the SDK's request.
func ceilingSender(ctx context.Context, cs string, o options, n notificationhubs.Notification) (func(context.Context) error, error) {
	cr, err := captureSDKRequest(ctx, cs, o, n)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = o.conc + 8
	tr.MaxIdleConnsPerHost = o.conc + 8
	hc := &http.Client{Transport: tr}
	hdr := cr.header
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, cr.method, cr.url, bytes.NewReader(cr.body))
		if err != nil {
			return err
		}
		req.Header = hdr
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("ceiling send: status %d, want 201", resp.StatusCode)
		}
		return nil
	}, nil
}

// setup creates, for each user i, an fcmv1 installation (with a template)
// and an apns installation tagged user_i, so that the tag expression
// "user_42 && !muted" matches one installation of each platform.
func setup(ctx context.Context, cs string, o options) error {
	c, err := notificationhubs.NewClientFromConnectionString(cs, o.hub, nil)
	if err != nil {
		return err
	}
	const workers = 8
	jobs := make(chan int)
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				tag := "user_" + strconv.Itoa(i)
				ins := []notificationhubs.Installation{{
					InstallationID: "bench-fcm-" + strconv.Itoa(i),
					Platform:       notificationhubs.InstallationPlatformFcmV1,
					PushChannel:    fmt.Sprintf("bench-fcm-token-%08d", i),
					Tags:           []string{tag},
					Templates:      map[string]notificationhubs.InstallationTemplate{"bulk": {Body: fcmTemplate}},
				}, {
					InstallationID: "bench-apns-" + strconv.Itoa(i),
					Platform:       notificationhubs.InstallationPlatformApns,
					PushChannel:    fmt.Sprintf("%064x", i),
					Tags:           []string{tag},
				}}
				for _, in := range ins {
					if _, err := c.CreateOrUpdateInstallation(ctx, in, nil); err != nil {
						errc <- fmt.Errorf("setup installation %s: %w", in.InstallationID, err)
						return
					}
				}
			}
		})
	}
	var firstErr error
feed:
	for i := range o.users {
		select {
		case jobs <- i:
		case firstErr = <-errc:
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr == nil {
		select {
		case firstErr = <-errc:
		default:
		}
	}
	return firstErr
}

// runCLI times `nh send --each` over a CSV of o.rows template sends, each
// to one user's tag, and prints a BenchmarkCLIEach line. CPU time and
// peak RSS are the nh process's own (from its rusage).
func runCLI(ctx context.Context, cs string, o options, stdout io.Writer, getenv func(string) string) error {
	dir, err := os.MkdirTemp("", "bench-each-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rowsFile, err := writeRows(dir, o)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.nh, "send", "--each", rowsFile, "--concurrency", strconv.Itoa(o.conc),
		"--failures", filepath.Join(dir, "failed.jsonl"), "--hub", o.hub)
	cmd.Env = append(os.Environ(), "NH_CONNECTION_STRING="+cs, "NH_HUB="+o.hub)
	if ca := getenv("SSL_CERT_FILE"); ca != "" {
		cmd.Env = append(cmd.Env, "NH_CA_FILE="+ca)
	}
	var stderr bytes.Buffer
	cmd.Stdout = io.Discard
	cmd.Stderr = &stderr
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return fmt.Errorf("nh send --each: %w: %s", err, clip(stderr.String(), 400))
	}
	m := map[string]float64{bench.UnitNsPerOp: float64(wall.Nanoseconds() / int64(o.rows))}
	m["rows/s"] = float64(int64(float64(o.rows)/wall.Seconds()*10)) / 10
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		if cpu > 0 {
			m["rows/cpu-s"] = float64(int64(float64(o.rows)/cpu.Seconds()*10)) / 10
		}
	}
	if rss := peakRSSOf(cmd); rss > 0 {
		m[bench.UnitPeakRSSBytes] = rss
	}
	res := bench.Result{
		Name:    fmt.Sprintf("BenchmarkCLIEach/server=%s/conc=%d", o.server, o.conc),
		N:       int64(o.rows),
		Metrics: m,
		Order:   []string{bench.UnitNsPerOp, "rows/s", "rows/cpu-s", bench.UnitPeakRSSBytes},
	}
	_, err = fmt.Fprintln(stdout, res.String())
	return err
}

// peakRSSOf returns the peak resident set of a finished process in
// bytes, or 0.
func peakRSSOf(cmd *exec.Cmd) float64 {
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return float64(ru.Maxrss * 1024)
	}
	return 0
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
