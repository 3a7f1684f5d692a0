package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	notificationhubs "github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/emulator"
	"github.com/spf13/cobra"
)

type demoOptions struct {
	f *factory
}

func newDemoCmd(f *factory) *cobra.Command {
	opts := &demoOptions{f: f}
	return &cobra.Command{
		Use:   "demo",
		Short: "Run the whole Notification Hubs tutorial on an embedded emulator",
		Long: `Demo starts an emulator inside this process (loopback only, TLS with a
certificate that lives in memory, nothing written to disk, nothing sent to any
push service), registers one device per platform with tags, plus two template
registrations, and then runs the tutorial's sends through the SDK: a Windows
toast broadcast; iOS, Android (FCM v1 and legacy), Kindle, Baidu and Windows
Phone sends; sends to the tag sports and to sports || politics; a template
send; and a debug-mode test send showing the redacted request and response
and the outcome. For each send it shows which device received what.

It needs no connection string and ignores --hub and NH_* settings.`,
		Example: `  nh demo
  nh demo -o json | jq '.steps[].deliveries[].device'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDemo(cmd.Context(), opts)
		},
	}
}

// demoDevice is one registered device of the demo.
type demoDevice struct {
	label string
	reg   notificationhubs.Registration
}

// demoStep is the JSON form of one send of the demo.
type demoStep struct {
	Title      string           `json:"title"`
	Command    string           `json:"command"`
	Deliveries []demoDelivery   `json:"deliveries"`
	Debug      string           `json:"debug,omitempty"`
	Outcome    *sendResult      `json:"outcome,omitempty"`
	Devices    []demoDeviceView `json:"devices,omitempty"`
}

type demoDelivery struct {
	Device   string `json:"device"`
	Platform string `json:"platform"`
	Handle   string `json:"handle"`
	Payload  string `json:"payload"`
}

type demoDeviceView struct {
	Device         string   `json:"device"`
	Platform       string   `json:"platform"`
	RegistrationID string   `json:"registrationId"`
	Handle         string   `json:"handle"`
	Tags           []string `json:"tags"`
	Template       string   `json:"template,omitempty"`
}

const (
	demoHub        = "demo"
	demoToast      = `<toast><visual><binding template="ToastText01"><text id="1">Hello from WNS!</text></binding></visual></toast>`
	demoMpnsToast  = `<?xml version="1.0" encoding="utf-8"?><wp:Notification xmlns:wp="WPNotification"><wp:Toast><wp:Text1>Hello from MPNS!</wp:Text1></wp:Toast></wp:Notification>`
	demoTemplateEn = `{"message":{"notification":{"title":"Greeting","body":"$(greeting_en)"}}}`
	demoTemplateFr = `<toast><visual><binding template="ToastText01"><text id="1">$(greeting_fr)</text></binding></visual></toast>`
)

// demoDevices are the devices the demo registers (handles are made up).
func demoDevices() []demoDevice {
	tmplEn := notificationhubs.NewFcmV1TemplateRegistration("fcmv1-token-template-en", demoTemplateEn, "sports")
	tmplEn.Template.Name = "greeting-en"
	tmplFr := notificationhubs.NewWindowsTemplateRegistration("https://db5p.notify.windows.com/?token=demo-template-fr", demoTemplateFr, "politics")
	tmplFr.Template.Name = "greeting-fr"
	tmplFr.Template.Headers = map[string]string{"X-WNS-Type": "wns/toast"}
	return []demoDevice{
		{"Windows (WNS)", notificationhubs.NewWindowsRegistration("https://db5p.notify.windows.com/?token=demo-windows", "sports")},
		{"Windows Phone (MPNS)", notificationhubs.NewMpnsRegistration("https://s.notify.live.net/u/1/demo-windows-phone", "politics")},
		{"iOS (APNs)", notificationhubs.NewAppleRegistration("62BCD3484834B7E2DC56733AC5509259230CC1BA82BA1AE7D06E91908A05A8FA", "sports", "politics")},
		{"Android (FCM v1)", notificationhubs.NewFcmV1Registration("fcmv1-token-android", "sports")},
		{"Android (FCM legacy)", notificationhubs.NewGcmRegistration("gcm-token-android-legacy", "politics")},
		{"Kindle (ADM)", notificationhubs.NewAdmRegistration("amzn1.adm-registration.demo-kindle", "sports")},
		{"Baidu", notificationhubs.NewBaiduRegistration("baidu-user-1", "baidu-channel-1", "politics")},
		{"Template, English (FCM v1)", tmplEn},
		{"Template, French (Windows)", tmplFr},
	}
}

// nativeSends are the per-platform sends of the demo, in order.
var nativeSends = []struct {
	title, cmd string
	n          func() notificationhubs.Notification
}{
	{"iOS (APNs)", `nh send apple '{"aps":{"alert":"Hello from APNs!"}}'`,
		func() notificationhubs.Notification {
			return notificationhubs.NewAppleNotification([]byte(`{"aps":{"alert":"Hello from APNs!"}}`), nil)
		}},
	{"Android (FCM v1)", `nh send fcmv1 '{"message":{"notification":{"title":"Hello","body":"Hello from FCM v1!"}}}'`,
		func() notificationhubs.Notification {
			return notificationhubs.NewFcmV1Notification([]byte(`{"message":{"notification":{"title":"Hello","body":"Hello from FCM v1!"}}}`))
		}},
	{"Android (FCM legacy)", `nh send gcm '{"data":{"message":"Hello from FCM legacy!"}}'`,
		func() notificationhubs.Notification {
			return notificationhubs.NewGcmNotification([]byte(`{"data":{"message":"Hello from FCM legacy!"}}`))
		}},
	{"Kindle (ADM)", `nh send adm '{"data":{"msg":"Hello from ADM!"}}'`,
		func() notificationhubs.Notification {
			return notificationhubs.NewAdmNotification([]byte(`{"data":{"msg":"Hello from ADM!"}}`))
		}},
	{"Baidu", `nh send baidu '{"title":"Hello","description":"Hello from Baidu!"}'`,
		func() notificationhubs.Notification {
			return notificationhubs.NewBaiduNotification([]byte(`{"title":"Hello","description":"Hello from Baidu!"}`))
		}},
	{"Windows Phone (MPNS)", `nh send windowsphone '<wp:Notification …><wp:Toast><wp:Text1>Hello from MPNS!</wp:Text1></wp:Toast></wp:Notification>'`,
		func() notificationhubs.Notification {
			return notificationhubs.NewMpnsNotification([]byte(demoMpnsToast), nil)
		}},
}

// demoRun holds the state of one demo.
type demoRun struct {
	emu     *emulator.Server
	client  *notificationhubs.Client
	devices map[string]string // handle (lower case) → label
	out     io.Writer
	human   bool
	steps   []demoStep
	sends   int
}

func runDemo(ctx context.Context, opts *demoOptions) error {
	f := opts.f
	emu := emulator.New(emulator.Options{Hubs: []string{demoHub}})
	ls, err := startLocalServer(emu)
	if err != nil {
		return fmt.Errorf("start the demo emulator: %w", err)
	}
	defer ls.Close()
	cs := emu.ConnectionString("sb://"+ls.Addr+"/", false)
	hc := &http.Client{Transport: ls.Transport}
	newClient := func(o notificationhubs.ClientOptions) (*notificationhubs.Client, error) {
		o.Transport = hc
		return notificationhubs.NewClientFromConnectionString(cs, demoHub, &o)
	}
	client, err := newClient(notificationhubs.ClientOptions{})
	if err != nil {
		return fmt.Errorf("demo client: %w", err)
	}
	d := &demoRun{emu: emu, client: client, devices: map[string]string{}, out: f.io.Out, human: f.output != outputJSON}
	d.printf("nh demo: the Notification Hubs tutorial on an emulator running inside this process\n")
	d.printf("(loopback %s, TLS with an in-memory certificate; nothing leaves this machine)\n", ls.Addr)

	// 1. Registrations.
	d.section("Register one device per platform, with tags, and two template registrations")
	reg := demoStep{Title: "registrations", Command: "nh registration create --platform PLATFORM --handle HANDLE --tag TAG", Deliveries: []demoDelivery{}}
	t := newTable("DEVICE", "TAGS", "REGISTRATION", "HANDLE")
	for _, dev := range demoDevices() {
		id, err := client.CreateRegistrationID(ctx, nil)
		if err != nil {
			return fmt.Errorf("demo: reserve a registration id: %w", err)
		}
		dev.reg.RegistrationID = id.RegistrationID
		got, err := client.CreateOrUpdateRegistration(ctx, dev.reg, nil)
		if err != nil {
			return fmt.Errorf("demo: register %s: %w", dev.label, err)
		}
		d.devices[strings.ToLower(got.Handle())] = dev.label
		if dev.reg.Platform == notificationhubs.RegistrationPlatformBaidu {
			// Deliveries may name a Baidu device by its channel or user id alone.
			d.devices[strings.ToLower(got.BaiduChannelID)] = dev.label
			d.devices[strings.ToLower(got.BaiduUserID)] = dev.label
		}
		v := demoDeviceView{Device: dev.label, Platform: strings.ToLower(string(got.Platform)), RegistrationID: got.RegistrationID, Handle: got.Handle(), Tags: got.Tags}
		if got.Template != nil {
			v.Template = got.Template.Name
		}
		reg.Devices = append(reg.Devices, v)
		t.add(dev.label, strings.Join(got.Tags, ", "), got.RegistrationID, shorten(got.Handle(), 44))
	}
	if d.human {
		_ = t.write(indent(d.out, "    "), true)
	}
	d.steps = append(d.steps, reg)

	// 2. Windows toast broadcast.
	if err := d.send(ctx, "Windows toast broadcast (no tags: every Windows registration)",
		`nh send windows '`+demoToast+`'`,
		notificationhubs.NewWindowsNotification([]byte(demoToast), nil), nil); err != nil {
		return err
	}
	// 3. One native send per platform.
	for _, s := range nativeSends {
		if err := d.send(ctx, s.title+" broadcast", s.cmd, s.n(), nil); err != nil {
			return err
		}
	}
	// 4. Tag sends: a native send reaches only its own platform, so the
	// same message goes out once per platform.
	for _, expr := range []string{"sports", "sports || politics"} {
		if err := d.sendEveryPlatform(ctx, expr); err != nil {
			return err
		}
	}
	// 5. Template send.
	props := map[string]string{"greeting_en": "Hello!", "greeting_fr": "Salut !"}
	if err := d.send(ctx, "Template send (each template registration renders its own payload)",
		`nh send template '{"greeting_en":"Hello!","greeting_fr":"Salut !"}'`,
		notificationhubs.NewTemplateNotification(props), nil); err != nil {
		return err
	}
	// 6. Debug-mode send.
	var dump bytes.Buffer
	dbg, err := newClient(notificationhubs.ClientOptions{DebugWriter: &dump, EnableTestSend: true})
	if err != nil {
		return fmt.Errorf("demo debug client: %w", err)
	}
	d.client = dbg
	if err := d.send(ctx, "Debug send to sports (test send: the service answers with the outcome)",
		`nh send apple '{"aps":{"alert":"Debug hello"}}' --tag sports --test --debug`,
		notificationhubs.NewAppleNotification([]byte(`{"aps":{"alert":"Debug hello"}}`), nil),
		&notificationhubs.SendNotificationOptions{Tags: []string{"sports"}}, &dump); err != nil {
		return err
	}

	if !d.human {
		return writeJSON(f.io.Out, demoView{Hub: demoHub, Steps: d.steps})
	}
	d.printf("\nDone: %d registrations, %d sends, every platform reached.\n", len(d.steps[0].Devices), d.sends)
	d.printf("Next: 'nh emulator' for a standing emulator,\n")
	d.printf("'nh send --help' for your own hub (NH_CONNECTION_STRING, NH_HUB).\n")
	return nil
}

func (d *demoRun) printf(format string, args ...any) {
	if d.human {
		fmt.Fprintf(d.out, format, args...)
	}
}

func (d *demoRun) section(title string) {
	d.printf("\n▸ %s\n", title)
}

// send performs one send and reports its deliveries. A trailing
// *bytes.Buffer argument is the debug dump to print.
func (d *demoRun) send(ctx context.Context, title, cmd string, n notificationhubs.Notification, o *notificationhubs.SendNotificationOptions, dump ...*bytes.Buffer) error {
	d.section(title)
	d.printf("  $ %s\n", shorten(cmd, 110))
	resp, err := d.client.SendNotification(ctx, n, o)
	if err != nil {
		return fmt.Errorf("demo: %s: %w", title, err)
	}
	d.sends++
	step := demoStep{Title: title, Command: cmd, Deliveries: d.deliveries(resp.NotificationID)}
	d.printDeliveries(step.Deliveries)
	if len(dump) > 0 {
		step.Debug = dump[0].String()
		r := resultOf(resp, true)
		step.Outcome = &r
		if d.human {
			d.printf("  redacted request and response (the SAS signature never appears):\n")
			_, _ = indent(d.out, "    │ ").Write(dump[0].Bytes())
			d.printf("  outcome: %s, %d succeeded, %d failed\n", r.State, *r.Success, *r.Failure)
			t := newTable("PLATFORM", "HANDLE", "REGISTRATION", "OUTCOME")
			for _, x := range r.Results {
				t.add(x.Platform, shorten(x.Handle, 30), x.RegistrationID, x.Outcome)
			}
			_ = t.write(indent(d.out, "    "), true)
		}
	}
	d.steps = append(d.steps, step)
	return nil
}

// sendEveryPlatform sends the same message natively to every platform,
// filtered by the tag expression, and reports the devices reached.
func (d *demoRun) sendEveryPlatform(ctx context.Context, expr string) error {
	title := "Send to " + expr + " (one native send per platform)"
	d.section(title)
	cmd := fmt.Sprintf("nh send PLATFORM PAYLOAD --tag-expression '%s'", expr)
	d.printf("  $ %s\n", cmd)
	msg := "News for " + expr
	sends := []notificationhubs.Notification{
		notificationhubs.NewWindowsNotification([]byte(`<toast><visual><binding template="ToastText01"><text id="1">`+msg+`</text></binding></visual></toast>`), nil),
		notificationhubs.NewMpnsNotification([]byte(`<?xml version="1.0" encoding="utf-8"?><wp:Notification xmlns:wp="WPNotification"><wp:Toast><wp:Text1>`+msg+`</wp:Text1></wp:Toast></wp:Notification>`), nil),
		notificationhubs.NewAppleNotification([]byte(`{"aps":{"alert":"`+msg+`"}}`), nil),
		notificationhubs.NewFcmV1Notification([]byte(`{"message":{"notification":{"body":"` + msg + `"}}}`)),
		notificationhubs.NewGcmNotification([]byte(`{"data":{"message":"` + msg + `"}}`)),
		notificationhubs.NewAdmNotification([]byte(`{"data":{"msg":"` + msg + `"}}`)),
		notificationhubs.NewBaiduNotification([]byte(`{"title":"News","description":"` + msg + `"}`)),
	}
	step := demoStep{Title: title, Command: cmd, Deliveries: []demoDelivery{}}
	for _, n := range sends {
		resp, err := d.client.SendNotification(ctx, n, &notificationhubs.SendNotificationOptions{TagExpression: expr})
		if err != nil {
			return fmt.Errorf("demo: send %s to %s: %w", n.Format, expr, err)
		}
		d.sends++
		step.Deliveries = append(step.Deliveries, d.deliveries(resp.NotificationID)...)
	}
	d.printDeliveries(step.Deliveries)
	d.steps = append(d.steps, step)
	return nil
}

// deliveries reads what the emulator delivered for a notification.
func (d *demoRun) deliveries(notificationID string) []demoDelivery {
	out := []demoDelivery{}
	if notificationID == "" {
		return out
	}
	for _, dl := range d.emu.Deliveries(emulator.DeliveryFilter{Hub: demoHub, NotificationID: notificationID}) {
		label := d.devices[strings.ToLower(dl.Handle)]
		if label == "" {
			label = dl.Platform + " device"
		}
		out = append(out, demoDelivery{Device: label, Platform: dl.Platform, Handle: dl.Handle, Payload: dl.Payload})
	}
	return out
}

func (d *demoRun) printDeliveries(ds []demoDelivery) {
	if !d.human {
		return
	}
	if len(ds) == 0 {
		d.printf("  → no device received it\n")
		return
	}
	width := 0
	for _, dl := range ds {
		width = max(width, len([]rune(dl.Device)))
	}
	for _, dl := range ds {
		payload := strings.Join(strings.Fields(dl.Payload), " ")
		d.printf("  → %-*s  %s\n", width, dl.Device, shorten(payload, 120))
	}
}

// indent returns a writer that prefixes every line written to w.
func indent(w io.Writer, prefix string) io.Writer {
	return &indentWriter{w: w, prefix: prefix, bol: true}
}

type indentWriter struct {
	w      io.Writer
	prefix string
	bol    bool
}

func (iw *indentWriter) Write(p []byte) (int, error) {
	var b bytes.Buffer
	for _, c := range p {
		if iw.bol {
			b.WriteString(iw.prefix)
			iw.bol = false
		}
		b.WriteByte(c)
		if c == '\n' {
			iw.bol = true
		}
	}
	if _, err := iw.w.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}
