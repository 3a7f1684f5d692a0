package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/spf13/cobra"

	notificationhubs "github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/internal/tagexpr"
)

// formats are the send formats, with the aliases nh accepts.
var formats = map[string]notificationhubs.Format{
	"template":     notificationhubs.FormatTemplate,
	"apple":        notificationhubs.FormatApple,
	"apns":         notificationhubs.FormatApple,
	"fcmv1":        notificationhubs.FormatFcmV1,
	"gcm":          notificationhubs.FormatGcm,
	"fcm-legacy":   notificationhubs.FormatGcm,
	"windows":      notificationhubs.FormatWindows,
	"wns":          notificationhubs.FormatWindows,
	"windowsphone": notificationhubs.FormatMpns,
	"mpns":         notificationhubs.FormatMpns,
	"adm":          notificationhubs.FormatAdm,
	"baidu":        notificationhubs.FormatBaidu,
	"xiaomi":       notificationhubs.FormatXiaomi,
	"browser":      notificationhubs.FormatBrowser,
}

const formatList = "template, apple, fcmv1, gcm, windows, windowsphone, adm, baidu, xiaomi or browser"

// platformSubcommands are nh send's per-platform subcommands.
var platformSubcommands = []struct {
	name, alias, short, example string
}{
	{"template", "", "Send template properties to template registrations", `  nh send template '{"greeting_en":"Hello","greeting_fr":"Salut"}'
  nh send template --prop greeting_en=Hello --prop greeting_fr=Salut --tag sports`},
	{"apple", "apns", "Send an APNs (iOS) notification", `  nh send apple '{"aps":{"alert":"Hello from nh"}}' --tag sports
  nh send apple @alert.json --header apns-priority:5 --header apns-push-type:alert`},
	{"fcmv1", "", "Send an FCM v1 (Android) notification", `  nh send fcmv1 '{"message":{"notification":{"title":"Hi","body":"Hello from nh"}}}'`},
	{"gcm", "fcm-legacy", "Send a legacy FCM (GCM) notification", `  nh send gcm '{"notification":{"title":"Hi","body":"Hello from nh"}}'`},
	{"windows", "wns", "Send a WNS (Windows) notification", `  nh send windows '<toast><visual><binding template="ToastText01"><text id="1">Hello</text></binding></visual></toast>'
  nh send windows --header X-WNS-Type:wns/raw 'raw bytes'`},
	{"windowsphone", "mpns", "Send an MPNS (Windows Phone) notification", `  nh send windowsphone '<?xml version="1.0" encoding="utf-8"?><wp:Notification xmlns:wp="WPNotification"><wp:Toast><wp:Text1>Hello</wp:Text1></wp:Toast></wp:Notification>'`},
	{"adm", "kindle", "Send an ADM (Kindle) notification", `  nh send adm '{"data":{"msg":"Hello from nh"}}'`},
	{"baidu", "", "Send a Baidu notification", `  nh send baidu '{"title":"Hi","description":"Hello from nh"}'`},
	{"xiaomi", "", "Send a Xiaomi notification", `  nh send xiaomi '{"title":"Hi","description":"Hello from nh"}'`},
	{"browser", "", "Send a Web Push (browser) notification", `  nh send browser '{"title":"Hi","body":"Hello from nh"}'
  nh send browser '{"title":"Hi"}' --direct https://push.example/ep --p256dh KEY --auth SECRET`},
}

type sendOptions struct {
	f             *factory
	format        string
	payload       string
	props         []string
	tags          []string
	tagExpression string
	direct        []string
	p256dh, auth  string
	schedule      string
	test          bool
	debug         bool
	headers       []string
	contentType   string
	retryUnsafe   bool
	deliveries    string // auto, always, never

	each        string
	eachFormat  string
	concurrency int
	failures    string
	maxAttempts int
	maxRate     float64

	scheduleAt time.Time
}

func newSendCmd(f *factory, runF func(context.Context, *sendOptions) error) *cobra.Command {
	opts := &sendOptions{f: f}
	cmd := &cobra.Command{
		Use:   "send [PAYLOAD]",
		Short: "Send a notification: broadcast, to tags, direct, scheduled or bulk",
		Long: `Send sends a notification in one format (--format, or a subcommand per
platform). PAYLOAD is the payload itself, @FILE, or - for stdin; for template
sends it is a JSON object of properties (or use --prop NAME=VALUE).

Audience: nothing means broadcast (every registration of the format); --tag
(repeatable, joined with ||) or --tag-expression target tags; --direct HANDLE
sends to a device handle without a registration (repeated: one batch request).
--schedule TIME sends later (RFC 3339, or +DURATION such as +10m; Standard tier).

--test asks the service for the outcome (at most 10 registrations) and prints
it; --debug prints the redacted request and response on stderr. Headers such
as apns-priority, X-WNS-Type or X-WindowsPhone-Target are set with --header.
The SDK checks the payload and headers before anything is sent.

Against an emulator (an endpoint on this machine) nh also prints what each
device received, read from the emulator as 'nh deliveries' does;
--deliveries=never turns that off, --deliveries=always asks any endpoint.

Bulk: --each FILE sends one template notification per row of a CSV or JSON
Lines file (a "tags" or "tag_expression" column for the audience, every other
column a template property; optional "key" column, unique, on one line). At most --concurrency
sends are in flight, at the pace the hub allows: a 429 holds every send for its
Retry-After, then the sends resume at a rate found from the hub's answers
(--max-rate caps it and starts there). Progress on a terminal shows the send
rate, the pace and the throttled answers. Rows that succeed are journaled in
FAILURES.journal as they complete; rows that fail or were not reached are
written to the failures file (default FILE.failed.jsonl), which a re-run takes
as --each input. Re-running the same command also resumes, after Ctrl-C or
kill -9 alike: rows already in the journal are skipped, so no row is sent twice.`,
		Example: `  nh send --format apple '{"aps":{"alert":"Hello"}}'
  nh send windows @toast.xml --tag sports --tag politics
  nh send fcmv1 - --tag-expression 'sports && !politics' < message.json
  nh send apple '{"aps":{"alert":"Hi"}}' --direct 62BCD3484834B7E2 --direct 62BCD3484834B7E3
  nh send template --prop greeting_en=Hello --schedule +10m
  nh send apple '{"aps":{"alert":"Hi"}}' --tag sports --test --debug
  nh send --each audience.csv --concurrency 16`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.payload = args[0]
			}
			if err := opts.validate(cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runSend(cmd.Context(), opts)
		},
	}
	addSendFlags(cmd, opts, true)
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(
		[]string{"template", "apple", "fcmv1", "gcm", "windows", "windowsphone", "adm", "baidu", "xiaomi", "browser"}, cobra.ShellCompDirectiveNoFileComp))

	for _, p := range platformSubcommands {
		sub := &cobra.Command{
			Use:     p.name + " [PAYLOAD]",
			Short:   p.short,
			Example: p.example,
			Args:    cobra.MaximumNArgs(1),
		}
		if p.alias != "" {
			sub.Aliases = []string{p.alias}
		}
		subOpts := &sendOptions{f: f, format: p.name}
		addSendFlags(sub, subOpts, false)
		sub.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				subOpts.payload = args[0]
			}
			if err := subOpts.validate(cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), subOpts)
			}
			return runSend(cmd.Context(), subOpts)
		}
		cmd.AddCommand(sub)
	}
	return cmd
}

func addSendFlags(cmd *cobra.Command, opts *sendOptions, withFormat bool) {
	fl := cmd.Flags()
	if withFormat {
		fl.StringVar(&opts.format, "format", "", "format: "+formatList)
		fl.StringVar(&opts.each, "each", "", "bulk: one template send per row of this CSV or JSON Lines file")
		fl.StringVar(&opts.eachFormat, "each-format", "", "format of the --each file: csv or jsonl (default: by extension)")
		fl.IntVar(&opts.concurrency, "concurrency", 8, "bulk: sends in flight at once")
		fl.StringVar(&opts.failures, "failures", "", "bulk: failures file (default FILE.failed.jsonl; its journal is FAILURES.journal)")
		fl.IntVar(&opts.maxAttempts, "max-attempts", 10, "bulk: attempts per row when throttled")
		fl.Float64Var(&opts.maxRate, "max-rate", 0, "bulk: at most this many sends per second, and start at it (0: find the hub's rate)")
	}
	fl.StringArrayVar(&opts.props, "prop", nil, "template property NAME=VALUE (repeatable)")
	fl.StringArrayVar(&opts.tags, "tag", nil, "send to registrations with this tag (repeatable: joined with ||)")
	fl.StringVar(&opts.tagExpression, "tag-expression", "", "send to registrations matching this tag expression")
	fl.StringArrayVar(&opts.direct, "direct", nil, "send directly to this device handle (repeatable: batch)")
	fl.StringVar(&opts.p256dh, "p256dh", "", "browser direct send: the subscription's p256dh key")
	fl.StringVar(&opts.auth, "auth", "", "browser direct send: the subscription's auth secret")
	fl.StringVar(&opts.schedule, "schedule", "", "send at TIME (RFC 3339 or +DURATION; Standard tier)")
	fl.BoolVar(&opts.test, "test", false, "test send: print the outcome per registration")
	fl.BoolVar(&opts.debug, "debug", false, "print the redacted request and response on stderr")
	fl.StringArrayVar(&opts.headers, "header", nil, "platform header NAME:VALUE (repeatable)")
	fl.StringVar(&opts.contentType, "content-type", "", "override the request's Content-Type")
	fl.BoolVar(&opts.retryUnsafe, "retry-unsafe", false, "retry failures where the service may have acted (risks duplicates)")
	fl.StringVar(&opts.deliveries, "deliveries", "auto", "print what each device received: auto (emulator on this machine only), always or never")
	_ = cmd.RegisterFlagCompletionFunc("deliveries", cobra.FixedCompletions([]string{"auto", "always", "never"}, cobra.ShellCompDirectiveNoFileComp))
}

// validate checks flag combinations (usage errors, exit code 2).
func (o *sendOptions) validate(cmd *cobra.Command) error {
	switch o.deliveries {
	case "auto", "always", "never", "":
	default:
		return usageErrorf("--deliveries must be auto, always or never, not %q", o.deliveries)
	}
	if o.each != "" {
		if o.payload != "" || len(o.direct) > 0 || o.schedule != "" || o.test || len(o.tags) > 0 || o.tagExpression != "" {
			return usageErrorf("--each takes the audience and properties from the file: drop PAYLOAD, --tag, --tag-expression, --direct, --schedule and --test")
		}
		if o.format != "" && o.format != "template" {
			return usageErrorf("--each sends template notifications; drop --format %s", o.format)
		}
		if o.concurrency < 1 || o.concurrency > 256 {
			return usageErrorf("--concurrency must be between 1 and 256")
		}
		if o.maxRate < 0 || math.IsNaN(o.maxRate) || math.IsInf(o.maxRate, 0) {
			return usageErrorf("--max-rate must be a number of sends per second, 0 for none")
		}
		return nil
	}
	if o.format == "" {
		return usageErrorf("say which format: --format %s, or a subcommand such as 'nh send apple'", formatList)
	}
	if _, ok := formats[strings.ToLower(o.format)]; !ok {
		return usageErrorf("unknown format %q: want %s", o.format, formatList)
	}
	if len(o.tags) > tagexpr.MaxTagsOrOnly {
		return usageErrorf("--tag given %d times: a send reaches at most %d tags (joined with ||)", len(o.tags), tagexpr.MaxTagsOrOnly)
	}
	if o.payload == "" && !(o.isTemplate() && len(o.props) > 0) {
		return usageErrorf("give the payload as an argument, @FILE or - for stdin")
	}
	if len(o.props) > 0 && !o.isTemplate() {
		return usageErrorf("--prop is for template sends")
	}
	if len(o.tags) > 0 && o.tagExpression != "" {
		return usageErrorf("--tag and --tag-expression exclude each other")
	}
	if len(o.direct) > 0 {
		if len(o.tags) > 0 || o.tagExpression != "" {
			return usageErrorf("--direct sends to handles; drop --tag and --tag-expression")
		}
		if o.schedule != "" {
			return usageErrorf("--direct and --schedule exclude each other")
		}
		if o.test {
			return usageErrorf("--test works only for tag and broadcast sends (the service answers direct test sends with nothing)")
		}
		if o.isTemplate() {
			return usageErrorf("a template notification cannot be sent directly: it needs registrations")
		}
	}
	if o.schedule != "" {
		if o.test {
			return usageErrorf("--test and --schedule exclude each other")
		}
		t, err := parseScheduleTime(o.schedule, time.Now())
		if err != nil {
			return usageErrorf("--schedule: %v", err)
		}
		o.scheduleAt = t
	}
	return nil
}

func (o *sendOptions) isTemplate() bool { return strings.EqualFold(o.format, "template") }

// parseScheduleTime reads RFC 3339, a zone-less time (UTC), or +DURATION.
func parseScheduleTime(s string, now time.Time) (time.Time, error) {
	if strings.HasPrefix(s, "+") {
		d, err := time.ParseDuration(s[1:])
		if err != nil || d <= 0 {
			return time.Time{}, fmt.Errorf("%q is not a positive duration such as +10m", s)
		}
		return now.Add(d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: want RFC 3339 (2026-11-26T20:00:00Z) or +DURATION", s)
}

// buildNotification makes the SDK notification from the options.
func buildNotification(f *factory, o *sendOptions) (notificationhubs.Notification, error) {
	format := formats[strings.ToLower(o.format)]
	headers, err := parsePairs(o.headers, ":", "--header")
	if err != nil {
		return notificationhubs.Notification{}, err
	}
	var body []byte
	if o.payload != "" {
		if body, err = readArg(f, o.payload); err != nil {
			return notificationhubs.Notification{}, err
		}
	}
	var n notificationhubs.Notification
	switch format {
	case notificationhubs.FormatTemplate:
		props := map[string]string{}
		if len(body) > 0 {
			if props, err = templateProperties(body); err != nil {
				return n, err
			}
		}
		extra, err := parsePairs(o.props, "=", "--prop")
		if err != nil {
			return n, err
		}
		for k, v := range extra {
			props[k] = v
		}
		n = notificationhubs.NewTemplateNotification(props)
	case notificationhubs.FormatApple:
		n = notificationhubs.NewAppleNotification(body, &notificationhubs.AppleOptions{Headers: headers})
		headers = nil
	case notificationhubs.FormatFcmV1:
		n = notificationhubs.NewFcmV1Notification(body)
	case notificationhubs.FormatGcm:
		n = notificationhubs.NewGcmNotification(body)
	case notificationhubs.FormatWindows:
		n = notificationhubs.NewWindowsNotification(body, &notificationhubs.WindowsOptions{Headers: headers})
		headers = nil
	case notificationhubs.FormatMpns:
		n = notificationhubs.NewMpnsNotification(body, &notificationhubs.MpnsOptions{Headers: headers})
		headers = nil
	case notificationhubs.FormatAdm:
		n = notificationhubs.NewAdmNotification(body)
	case notificationhubs.FormatBaidu:
		n = notificationhubs.NewBaiduNotification(body)
	case notificationhubs.FormatXiaomi:
		n = notificationhubs.NewXiaomiNotification(body)
	case notificationhubs.FormatBrowser:
		n = notificationhubs.NewBrowserNotification(body)
	}
	if len(headers) > 0 {
		if n.Headers == nil {
			n.Headers = map[string]string{}
		}
		for k, v := range headers {
			n.Headers[k] = v
		}
	}
	if o.contentType != "" {
		n.ContentType = o.contentType
	}
	return n, nil
}

// templateProperties reads a template payload: a JSON object whose
// values are strings. Its errors name PAYLOAD and the property.
func templateProperties(body []byte) (map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf(`PAYLOAD: a template payload is a JSON object of string properties, such as {"greeting":"Hello"}, not %s`, jsonKind(te.Value))
		}
		return nil, fmt.Errorf(`PAYLOAD: not valid JSON (a template payload is a JSON object of string properties, such as {"greeting":"Hello"}): %v`, err)
	}
	props := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			var kind string
			var any any
			if json.Unmarshal(v, &any) == nil {
				kind = jsonKindOf(any)
			}
			return nil, fmt.Errorf(`PAYLOAD: template property %q is %s, want a string (write "%s" for the text)`, k, kind, strings.ReplaceAll(string(v), `"`, `\"`))
		}
		props[k] = s
	}
	return props, nil
}

// jsonKind names an encoding/json type name: "an array", "a number", …
func jsonKind(v string) string {
	switch v {
	case "array":
		return "an array"
	case "number":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	}
	return v
}

// jsonKindOf names the kind of a decoded JSON value.
func jsonKindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "true or false"
	case float64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "not a string"
}

// checkAudience checks --tag and --tag-expression as the service would,
// before anything is sent, in the flags' words.
func checkAudience(tags []string, expr string) error {
	if expr != "" {
		if _, err := tagexpr.Parse(expr); err != nil {
			var se *tagexpr.SyntaxError
			if errors.As(err, &se) {
				return &caretError{msg: fmt.Sprintf("--tag-expression: position %d: %s", se.Pos, se.Msg), expr: expr, pos: se.Pos}
			}
			return fmt.Errorf("--tag-expression: %v", err)
		}
	}
	for _, t := range tags {
		if err := tagexpr.ValidateTag(t); err != nil {
			return fmt.Errorf("--%v", err)
		}
	}
	return nil
}

// sendResult is the stable JSON output of a send.
type sendResult struct {
	NotificationID          string          `json:"notificationId,omitempty"`
	ScheduledNotificationID string          `json:"scheduledNotificationId,omitempty"`
	ScheduledTime           *time.Time      `json:"scheduledTime,omitempty"`
	TrackingID              string          `json:"trackingId,omitempty"`
	CorrelationID           string          `json:"correlationId,omitempty"`
	State                   string          `json:"state,omitempty"`
	Success                 *int            `json:"success,omitempty"`
	Failure                 *int            `json:"failure,omitempty"`
	Results                 []outcomeResult `json:"results,omitempty"`
	// Deliveries is what each device received, read from an emulator.
	Deliveries []deliveryView `json:"deliveries,omitempty"`

	deliveriesRead bool // Deliveries was read (it may be empty)
}

// deliveryView is one device's delivery in nh send's output.
type deliveryView struct {
	Platform       string `json:"platform"`
	Handle         string `json:"handle"`
	RegistrationID string `json:"registrationId,omitempty"`
	Outcome        string `json:"outcome"`
	Payload        string `json:"payload"`
}

type outcomeResult struct {
	Platform       string `json:"platform"`
	Handle         string `json:"handle"`
	RegistrationID string `json:"registrationId"`
	Outcome        string `json:"outcome"`
}

func runSend(ctx context.Context, o *sendOptions) error {
	f := o.f
	if o.each != "" {
		return runSendEach(ctx, o)
	}
	n, err := buildNotification(f, o)
	if err != nil {
		return err
	}
	if err := checkAudience(o.tags, o.tagExpression); err != nil {
		return err
	}
	cfg := clientConfig{testSend: o.test}
	if o.debug {
		cfg.debug = f.io.Err
	}
	c, err := f.client(cfg)
	if err != nil {
		return err
	}
	var res sendResult
	switch {
	case o.schedule != "":
		resp, err := c.ScheduleNotification(ctx, n, o.scheduleAt, &notificationhubs.ScheduleNotificationOptions{
			Tags: o.tags, TagExpression: o.tagExpression, RetryUnsafe: o.retryUnsafe,
		})
		if err != nil {
			return fmt.Errorf("scheduled send: %w", err)
		}
		at := o.scheduleAt.UTC()
		res = sendResult{ScheduledNotificationID: resp.ScheduledNotificationID, ScheduledTime: &at, TrackingID: resp.TrackingID, CorrelationID: resp.CorrelationID}
	case len(o.direct) == 1:
		resp, err := c.SendDirectNotification(ctx, n, o.direct[0], &notificationhubs.SendDirectNotificationOptions{P256DH: o.p256dh, Auth: o.auth, RetryUnsafe: o.retryUnsafe})
		if err != nil {
			return fmt.Errorf("send: %w", err)
		}
		res = resultOf(resp, false)
	case len(o.direct) > 1:
		resp, err := c.SendDirectBatchNotification(ctx, n, o.direct, &notificationhubs.SendDirectNotificationOptions{P256DH: o.p256dh, Auth: o.auth, RetryUnsafe: o.retryUnsafe})
		if err != nil {
			return fmt.Errorf("send: %w", err)
		}
		res = resultOf(resp, false)
	default:
		resp, err := c.SendNotification(ctx, n, &notificationhubs.SendNotificationOptions{
			Tags: o.tags, TagExpression: o.tagExpression, RetryUnsafe: o.retryUnsafe,
		})
		if err != nil {
			return fmt.Errorf("send: %w", err)
		}
		res = resultOf(resp, o.test)
	}
	o.readDeliveries(ctx, &res)
	if f.output == outputJSON {
		return writeJSON(f.io.Out, res)
	}
	return printSendResult(f, res)
}

// readDeliveries adds to res what each device received, when the
// endpoint is an emulator (--deliveries). A failure to read them is a
// note on stderr: the send itself succeeded.
func (o *sendOptions) readDeliveries(ctx context.Context, res *sendResult) {
	f := o.f
	if res.NotificationID == "" || o.deliveries == "never" || (o.deliveries != "always" && !f.endpointIsLocal()) {
		return
	}
	hub, err := f.hubName()
	if err != nil {
		return
	}
	ds, err := fetchDeliveries(ctx, f, deliveryQuery{hub: hub, notificationID: res.NotificationID})
	if err != nil {
		fmt.Fprintf(f.io.Err, "note: the send succeeded, but what the devices received could not be read: %s\n", userMessage(err))
		return
	}
	res.deliveriesRead = true
	for _, d := range ds {
		res.Deliveries = append(res.Deliveries, deliveryView{Platform: d.Platform, Handle: d.Handle, RegistrationID: d.RegistrationID, Outcome: d.Outcome, Payload: d.Payload})
	}
}

func resultOf(resp notificationhubs.SendNotificationResponse, test bool) sendResult {
	r := sendResult{
		NotificationID: resp.NotificationID,
		TrackingID:     resp.TrackingID,
		CorrelationID:  resp.CorrelationID,
		State:          string(resp.State),
	}
	if test {
		s, fl := resp.Success, resp.Failure
		r.Success, r.Failure = &s, &fl
		for _, x := range resp.Results {
			r.Results = append(r.Results, outcomeResult{Platform: x.ApplicationPlatform, Handle: x.PnsHandle, RegistrationID: x.RegistrationID, Outcome: x.Outcome})
		}
	}
	return r
}

func printSendResult(f *factory, r sendResult) error {
	w := f.io.Out
	switch {
	case r.ScheduledNotificationID != "":
		fmt.Fprintf(w, "scheduled notification %s for %s\n", r.ScheduledNotificationID, r.ScheduledTime.Format(time.RFC3339))
	case r.NotificationID != "":
		fmt.Fprintf(w, "sent notification %s\n", r.NotificationID)
	default:
		fmt.Fprintln(w, "sent (the service gave no notification id)")
	}
	if r.deliveriesRead {
		if len(r.Deliveries) == 0 {
			fmt.Fprintln(w, "delivered to no device")
		} else {
			fmt.Fprintf(w, "delivered to %d device(s):\n", len(r.Deliveries))
			t := newTable()
			for _, d := range r.Deliveries {
				t.add(d.Platform, shorten(d.Handle, 40), d.Outcome, oneLine(d.Payload, 100))
			}
			if err := t.write(indent(w, "  "), true); err != nil {
				return err
			}
		}
	}
	if r.Success == nil {
		return nil
	}
	fmt.Fprintf(w, "outcome: %s, %d succeeded, %d failed\n", r.State, *r.Success, *r.Failure)
	if len(r.Results) == 0 {
		fmt.Fprintln(w, "no registration matched")
		return nil
	}
	t := newTable("PLATFORM", "HANDLE", "REGISTRATION", "OUTCOME")
	for _, x := range r.Results {
		t.add(x.Platform, shorten(x.Handle, 40), x.RegistrationID, x.Outcome)
	}
	return t.write(w, true)
}
