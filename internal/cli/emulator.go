package cli

import (
	"context"
	"fmt"
	"io"
	"math"
	"os/signal"
	"strconv"
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
	nsKey     string
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

	controlToken         string
	generateControlToken bool
	allowHosts           []string
	maxConnections       int
	maxBlobSize          byteSize
	maxBlobStore         byteSize
	retentionBytes       byteSize

	deliver deliverFlags // deliver.go
}

func newEmulatorCmd(f *factory, runF func(context.Context, *emulatorOptions) error) *cobra.Command {
	opts := &emulatorOptions{f: f}
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Run a local emulator of Notification Hubs",
		Long: `Emulator serves an in-memory Notification Hubs namespace on this machine.
By default nothing is sent to any push service: deliveries are recorded and can
be read at GET /_emulator/deliveries ('nh deliveries').

With --deliver (all platforms) or --deliver=apns,fcmv1,... the sends of hubs
that have a credential for a platform ('nh hub credentials set') go to its real
push service: APNs, FCM v1, WNS, ADM, browsers' Web Push. Each send is answered
at once; 'nh deliveries' shows each device's delivery Pending until the push
service answers, then its answer. --pns-endpoint SERVICE=URL points a push
service elsewhere (a staging service, a local stand-in), --pns-ca-file trusts
its certificate. Hubs created on first use have no credentials and stay
simulated.

By default it listens on 127.0.0.1:8443 with TLS, using a self-signed
certificate it generates and writes to --cert-dir, or one of your own
(--cert and --cert-key). It prints how each client trusts the certificate:
SSL_CERT_FILE for a Go program on Linux and for Python, NH_CA_FILE for nh,
NODE_EXTRA_CA_CERTS for Node.
It prints connection strings for the namespace's Manage rule (hub management:
'nh hub'), the full and the listen-only rule, and stops cleanly on Ctrl-C or
SIGTERM.

Who may use it:
  - The data plane (/{hub}/...) takes SAS tokens, as the service does. Hub
    management (PUT/GET/DELETE /{hub}) takes the namespace rule
    RootManageSharedAccessKey (--namespace-key); a hub created through it has
    keys of its own. On a loopback listener the keys are the published
    development keys unless --namespace-key, --full-key and --listen-key say
    otherwise. On any other listener each key not given (or given as the
    published one) is replaced by a random key, printed in the connection
    strings and new at every start: the published keys would let anyone who
    can reach the port read every hub's keys and push credentials.
  - Every request must name a Host the emulator answers: localhost (and names
    below .localhost), an IP address, or a name given with --allow-host.
    Others get 403, so that a web page cannot reach the emulator by pointing
    its own name at this machine (DNS rebinding).
  - The control plane (/_emulator/... and the inbox page; the blob store has
    its own SAS) takes no credential on a loopback listener. It refuses
    state-changing requests from another origin (an Origin header of another
    site, Origin: null), and a POST must carry Content-Type: application/json,
    which a web page of another origin cannot send without asking first.
  - On any other listener (--listen 0.0.0.0:8443, a LAN address) the emulator
    prints a warning and the control plane is off, unless you give a control
    token: --control-token TOKEN (or NH_EMULATOR_CONTROL_TOKEN; 16 or more
    letters, digits and -._~+/=) or --generate-control-token, which prints a
    fresh one. Clients then send "Authorization: Bearer TOKEN"; a browser opens
    the inbox once at /_emulator/ui/?token=TOKEN, which keeps it in a cookie.
    A token, once given, is required on a loopback listener too.

Limits: request headers must arrive within 10s, a body within 1m, and an idle
connection closes after 2m. At most --max-connections connections are open
(default: the open-file limit less 64, at most 10000); past it the longest idle
one is closed. Blobs are capped by --max-blob-size and --max-blob-store, and
delivery records by count (10000) and by --retention-bytes.`,
		Example: `  nh emulator
  nh emulator --listen 127.0.0.1:9443 --hub demo --hub test
  nh emulator --plain-http --listen 127.0.0.1:8080
  nh emulator --data ~/.nh-emulator --tier basic
  nh emulator --read-delay 2s --telemetry-delay 5s
  nh emulator --deliver
  nh emulator --deliver=apns,browser --pns-endpoint apns=https://127.0.0.1:9444 --pns-ca-file stand-in.pem
  nh emulator --listen 0.0.0.0:8443 --generate-control-token --allow-host devbox.lan`,
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
			if opts.controlToken == "" && f.getenv != nil {
				opts.controlToken = f.getenv(envControlToken)
			}
			if opts.controlToken != "" && opts.generateControlToken {
				return usageErrorf("--control-token (or %s) and --generate-control-token exclude each other", envControlToken)
			}
			if opts.maxConnections < 0 {
				return usageErrorf("--max-connections cannot be negative")
			}
			if err := opts.deliver.check(); err != nil {
				return err
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
	fl.StringVar(&opts.fullKey, "full-key", "", "key of DefaultFullSharedAccessSignature (default: the published development key on loopback, a random one beyond)")
	fl.StringVar(&opts.listenKey, "listen-key", "", "key of DefaultListenSharedAccessSignature (default: the published development key on loopback, a random one beyond)")
	fl.StringVar(&opts.nsKey, "namespace-key", "", "key of RootManageSharedAccessKey, the namespace's Manage rule (default: the published development key on loopback, a random one beyond)")
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
	fl.StringVar(&opts.controlToken, "control-token", "", "credential of the control plane (/_emulator/..., the inbox), sent as Authorization: Bearer TOKEN (default: $"+envControlToken+"; needed beyond loopback)")
	fl.BoolVar(&opts.generateControlToken, "generate-control-token", false, "generate a control token and print it")
	fl.StringArrayVar(&opts.allowHosts, "allow-host", nil, "a Host name to answer besides localhost and IP addresses (repeatable; *.example.com for every name below it)")
	fl.IntVar(&opts.maxConnections, "max-connections", 0, "client connections open at once (0: the open-file limit less 64, at most 10000)")
	fl.Var(&opts.maxBlobSize, "max-blob-size", "largest blob the blob store takes, e.g. 32MiB (default 32MiB)")
	fl.Var(&opts.maxBlobStore, "max-blob-store", "what all blobs together may hold, e.g. 256MiB (default 256MiB)")
	fl.Var(&opts.retentionBytes, "retention-bytes", "size of the delivery records kept, and of the send records, e.g. 64MiB (default 64MiB)")
	opts.deliver.add(fl)
	return cmd
}

func runEmulator(ctx context.Context, opts *emulatorOptions) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return emulator.Serve(ctx, opts.serveOptions(), trustWriter{redactingWriter(opts.f.io.Out, opts.fullKey, opts.listenKey, opts.nsKey, opts.controlToken)})
}

// serveOptions returns what the flags ask of emulator.Serve.
func (opts *emulatorOptions) serveOptions() emulator.ServeOptions {
	return emulator.ServeOptions{
		Listen:               opts.listen,
		CertFile:             opts.certFile,
		KeyFile:              opts.keyFile,
		CertDir:              opts.certDir,
		PlainHTTP:            opts.plainHTTP,
		GenerateControlToken: opts.generateControlToken,
		MaxConnections:       opts.maxConnections,
		Emulator: emulator.Options{
			Hubs:      opts.hubs,
			FullKey:   opts.fullKey,
			ListenKey: opts.listenKey,
			DataDir:   opts.dataDir,

			NamespaceKey: opts.nsKey,
			Tier:         opts.tier,

			TelemetryDelay:     opts.telemetryDelay,
			ReadDelay:          opts.readDelay,
			TestSendsPerMinute: opts.testSendsPerMinute,
			JobStepDelay:       opts.jobStepDelay,
			ThrottleRate:       opts.throttleRate,
			ThrottleBurst:      opts.throttleBurst,
			ThrottleWindow:     opts.throttleWindow,
			AllowRemoteStorage: opts.allowRemoteStorage,

			ControlToken:      opts.controlToken,
			AllowedHosts:      opts.allowHosts,
			MaxBlobBytes:      int64(opts.maxBlobSize),
			MaxBlobStoreBytes: int64(opts.maxBlobStore),
			RetentionBytes:    int64(opts.retentionBytes),

			Deliver: opts.deliver.options(),
		},
	}
}

// byteSize is a flag of a number of bytes: 1048576, 512KiB, 32MiB, 1GiB.
type byteSize int64

var byteUnits = []struct {
	suffix string
	mult   int64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}}

func (b *byteSize) String() string {
	if *b == 0 {
		return ""
	}
	for _, u := range byteUnits {
		if int64(*b)%u.mult == 0 {
			return strconv.FormatInt(int64(*b)/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(*b), 10)
}

func (b *byteSize) Set(v string) error {
	v = strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range byteUnits {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			v, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return fmt.Errorf("want a positive number of bytes, such as 1048576, 512KiB, 32MiB or 1GiB")
	}
	*b = byteSize(n * mult)
	return nil
}

func (b *byteSize) Type() string { return "size" }

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
