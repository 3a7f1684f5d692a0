package cli

import (
	"context"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nhkit/notificationhubs/emulator"
	"github.com/spf13/cobra"
)

type emulatorOptions struct {
	f         *factory
	listen    string
	certFile  string
	keyFile   string
	certDir   string
	plainHTTP bool
	hubs      []string
	fullKey   string
	listenKey string
	dataDir   string
	tier      string

	telemetryDelay     time.Duration
	readDelay          time.Duration
	testSendsPerMinute int
	jobStepDelay       time.Duration
	throttleRate       float64
	throttleBurst      int
	throttleWindow     time.Duration
	allowRemoteStorage bool
}

func newEmulatorCmd(f *factory, runF func(context.Context, *emulatorOptions) error) *cobra.Command {
	opts := &emulatorOptions{f: f}
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Run a local emulator of Notification Hubs",
		Long: `Emulator serves an in-memory Notification Hubs namespace on this machine.
Nothing is sent to any push service: deliveries are recorded and can be read at
GET /_emulator/deliveries.

By default it listens on 127.0.0.1:8443 with TLS, using a self-signed
certificate it generates and writes to --cert-dir (trust it with
NH_CA_FILE=<cert-dir>/cert.pem, or pass your own with --cert and --cert-key).
It prints connection strings for the full and the listen-only rule, and stops
cleanly on Ctrl-C or SIGTERM.`,
		Example: `  nh emulator
  nh emulator --listen 127.0.0.1:9443 --hub demo --hub test
  nh emulator --plain-http --listen 127.0.0.1:8080
  nh emulator --data ~/.nh-emulator --tier basic
  nh emulator --read-delay 2s --telemetry-delay 5s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (opts.certFile == "") != (opts.keyFile == "") {
				return usageErrorf("--cert and --cert-key go together")
			}
			switch opts.tier {
			case "", "free", "basic", "standard":
			default:
				return usageErrorf("--tier must be free, basic or standard, not %q", opts.tier)
			}
			if opts.plainHTTP && opts.certFile != "" {
				return usageErrorf("--plain-http and --cert exclude each other")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runEmulator(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.listen, "listen", "127.0.0.1:8443", "address to listen on")
	fl.StringVar(&opts.certFile, "cert", "", "TLS certificate file (PEM); default: generate one")
	fl.StringVar(&opts.keyFile, "cert-key", "", "TLS private key file (PEM) for --cert")
	fl.StringVar(&opts.certDir, "cert-dir", "", "directory where a generated certificate is written")
	fl.BoolVar(&opts.plainHTTP, "plain-http", false, "serve plain HTTP instead of TLS")
	fl.StringArrayVar(&opts.hubs, "hub", nil, "a hub that exists (repeatable); default: hubs are created on first use")
	fl.StringVar(&opts.fullKey, "full-key", "", "key of DefaultFullSharedAccessSignature (default: the published development key)")
	fl.StringVar(&opts.listenKey, "listen-key", "", "key of DefaultListenSharedAccessSignature (default: the published development key)")
	fl.StringVar(&opts.dataDir, "data", "", "keep the emulator's state in this directory across restarts (default: memory only)")
	fl.StringVar(&opts.dataDir, "data-dir", "", "same as --data")
	_ = fl.MarkHidden("data-dir")
	fl.DurationVar(&opts.telemetryDelay, "telemetry-delay", 0, "how long per-message telemetry answers 404 after a send, as the service does")
	fl.DurationVar(&opts.readDelay, "read-delay", 0, "read-after-write delay: installation reads within it after a write see the old state (the service's eventual consistency)")
	fl.IntVar(&opts.testSendsPerMinute, "test-sends-per-minute", 0, "test sends allowed per minute and hub (0: the service's 10; negative: no limit)")
	fl.DurationVar(&opts.jobStepDelay, "job-step-delay", 0, "time between an import/export job's states (0: the emulator's default)")
	fl.Float64Var(&opts.throttleRate, "throttle-rate", 0, "requests per second per hub before 429 (0: no throttling)")
	fl.IntVar(&opts.throttleBurst, "throttle-burst", 0, "burst size of the throttle's token bucket")
	fl.DurationVar(&opts.throttleWindow, "throttle-window", 0, "count requests in fixed windows of this length (e.g. 1s) instead of a token bucket: each admits rate×window")
	fl.BoolVar(&opts.allowRemoteStorage, "allow-remote-storage", false, "let import/export jobs reach blob storage on other machines (default: loopback hosts and the emulator's own blobs only)")
	fl.StringVar(&opts.tier, "tier", "standard", "tier to emulate: free, basic or standard (Free and Basic refuse telemetry, feedback, scheduling and jobs)")
	return cmd
}

func runEmulator(ctx context.Context, opts *emulatorOptions) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return emulator.Serve(ctx, emulator.ServeOptions{
		Listen:    opts.listen,
		CertFile:  opts.certFile,
		KeyFile:   opts.keyFile,
		CertDir:   opts.certDir,
		PlainHTTP: opts.plainHTTP,
		Emulator: emulator.Options{
			Hubs:      opts.hubs,
			FullKey:   opts.fullKey,
			ListenKey: opts.listenKey,
			DataDir:   opts.dataDir,
			Tier:      opts.tier,

			TelemetryDelay:     opts.telemetryDelay,
			ReadDelay:          opts.readDelay,
			TestSendsPerMinute: opts.testSendsPerMinute,
			JobStepDelay:       opts.jobStepDelay,
			ThrottleRate:       opts.throttleRate,
			ThrottleBurst:      opts.throttleBurst,
			ThrottleWindow:     opts.throttleWindow,
			AllowRemoteStorage: opts.allowRemoteStorage,
		},
	}, redactingWriter(opts.f.io.Out, opts.fullKey, opts.listenKey))
}

// redactingWriter replaces the given secrets in everything written to w
// with REDACTED. The published development keys are not secrets and stay
// visible, so that the printed connection strings can be copied; keys the
// user chose are not printed.
func redactingWriter(w io.Writer, secrets ...string) io.Writer {
	var pairs []string
	for _, s := range secrets {
		if s != "" {
			pairs = append(pairs, s, "REDACTED")
		}
	}
	if len(pairs) == 0 {
		return w
	}
	return &replaceWriter{w: w, r: strings.NewReplacer(pairs...)}
}

// replaceWriter applies a Replacer to each Write. Serve writes whole
// lines, so a secret is never split across writes.
type replaceWriter struct {
	w io.Writer
	r *strings.Replacer
}

func (rw *replaceWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(rw.w, rw.r.Replace(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
