package notificationhubs_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"regexp"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/emulator"
)

// These examples follow Microsoft's tutorial "How to use Notification Hubs
// from Python", in Go. They run against the local emulator (package
// emulator, what `nh emulator` serves) and print what each device
// received. With a real hub, use the connection string of its
// DefaultFullSharedAccessSignature rule and leave Transport unset.

// exampleHub is a running emulator with a hub "myhub" on which these
// devices are registered:
//
//	windows       https://db5.notify.windows.com/?token=w1  sports
//	windows       https://db5.notify.windows.com/?token=w2  politics
//	windows       https://db5.notify.windows.com/?token=w3  music
//	windowsphone  https://s.notify.live.net/u/1/db5/m1
//	apple         A1B2C3D4                                   sports
//	fcmv1         fcm-1                                      politics
//	gcm           gcm-1
//	adm           adm-1
//	baidu         baidu-user-baidu-channel
//	apple         E5F6A7B8  template {"aps":{"alert":"$(greeting_en)"}}
//	fcmv1         fcm-2     template {"message":{"notification":{"body":"$(greeting_fr)"}}}
type exampleHub struct {
	emu *emulator.Server
	srv *httptest.Server
	// ConnectionString is the full-access connection string of the emulator.
	ConnectionString string
	// Options make the client trust the emulator's certificate.
	Options *notificationhubs.ClientOptions
}

// startEmulator starts an emulator with opts on 127.0.0.1 (httptest
// serves it with a certificate its client trusts) and no devices. Close it
// when done.
func startEmulator(opts emulator.Options) *exampleHub {
	emu := emulator.New(opts)
	srv := httptest.NewTLSServer(emu)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	return &exampleHub{
		emu:              emu,
		srv:              srv,
		ConnectionString: emu.ConnectionString("sb://"+srv.Listener.Addr().String()+"/", false),
		Options:          &notificationhubs.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: srv.Client()}},
	}
}

// startExampleHub starts the emulator and registers the devices. Close it
// when done.
func startExampleHub() *exampleHub {
	h := startEmulator(emulator.Options{})
	client := h.client()
	for _, r := range []notificationhubs.Registration{
		notificationhubs.NewWindowsRegistration("https://db5.notify.windows.com/?token=w1", "sports"),
		notificationhubs.NewWindowsRegistration("https://db5.notify.windows.com/?token=w2", "politics"),
		notificationhubs.NewWindowsRegistration("https://db5.notify.windows.com/?token=w3", "music"),
		notificationhubs.NewMpnsRegistration("https://s.notify.live.net/u/1/db5/m1"),
		notificationhubs.NewAppleRegistration("A1B2C3D4", "sports"),
		notificationhubs.NewFcmV1Registration("fcm-1", "politics"),
		notificationhubs.NewGcmRegistration("gcm-1"),
		notificationhubs.NewAdmRegistration("adm-1"),
		notificationhubs.NewBaiduRegistration("baidu-user", "baidu-channel"),
		notificationhubs.NewAppleTemplateRegistration("E5F6A7B8", `{"aps":{"alert":"$(greeting_en)"}}`),
		notificationhubs.NewFcmV1TemplateRegistration("fcm-2", `{"message":{"notification":{"body":"$(greeting_fr)"}}}`),
	} {
		if _, err := client.CreateRegistration(context.Background(), r, nil); err != nil {
			log.Fatal(err)
		}
	}
	return h
}

// client returns a client for "myhub".
func (h *exampleHub) client() *notificationhubs.Client {
	client, err := notificationhubs.NewClientFromConnectionString(h.ConnectionString, "myhub", h.Options)
	if err != nil {
		log.Fatal(err)
	}
	return client
}

// printDeliveries prints what each device received for one notification:
// platform, handle, the WNS or MPNS type headers, payload.
func (h *exampleHub) printDeliveries(notificationID string) {
	for _, d := range h.emu.Deliveries(emulator.DeliveryFilter{NotificationID: notificationID}) {
		fmt.Print(d.Platform, " ", d.Handle, " ")
		for _, k := range []string{"X-WNS-Type", "X-WindowsPhone-Target", "X-NotificationClass"} {
			if v := d.Headers[k]; v != "" {
				fmt.Print(k, ":", v, " ")
			}
		}
		fmt.Println(d.Payload)
	}
}

// Close stops the emulator.
func (h *exampleHub) Close() {
	h.srv.Close()
	h.emu.Close()
}

func ExampleNewClientFromConnectionString() {
	hub := startExampleHub()
	defer hub.Close()

	// The article: hub = NotificationHub("myConnectionString", "myNotificationHubName")
	client, err := notificationhubs.NewClientFromConnectionString(hub.ConnectionString, "myhub", hub.Options)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(client.HubName(), client.APIVersion())
	// Output: myhub 2020-06
}

func ExampleClient_SendWindowsNotification() {
	hub := startExampleHub()
	defer hub.Close()
	client := hub.client()

	toast := []byte(`<toast><visual><binding template="ToastText01"><text id="1">Hello world!</text></binding></visual></toast>`)
	resp, err := client.SendWindowsNotification(context.Background(), toast, nil)
	if err != nil {
		log.Fatal(err)
	}
	hub.printDeliveries(resp.NotificationID)
	// Output:
	// windows https://db5.notify.windows.com/?token=w1 X-WNS-Type:wns/toast <toast><visual><binding template="ToastText01"><text id="1">Hello world!</text></binding></visual></toast>
	// windows https://db5.notify.windows.com/?token=w2 X-WNS-Type:wns/toast <toast><visual><binding template="ToastText01"><text id="1">Hello world!</text></binding></visual></toast>
	// windows https://db5.notify.windows.com/?token=w3 X-WNS-Type:wns/toast <toast><visual><binding template="ToastText01"><text id="1">Hello world!</text></binding></visual></toast>
}

func ExampleClient_SendMpnsNotification() {
	hub := startExampleHub()
	defer hub.Close()
	client := hub.client()

	toast := []byte(`<?xml version="1.0" encoding="utf-8"?><wp:Notification xmlns:wp="WPNotification"><wp:Toast><wp:Text1>Hello from Go!</wp:Text1></wp:Toast></wp:Notification>`)
	resp, err := client.SendMpnsNotification(context.Background(), toast, nil)
	if err != nil {
		log.Fatal(err)
	}
	hub.printDeliveries(resp.NotificationID)
	// Output:
	// windowsphone https://s.notify.live.net/u/1/db5/m1 X-WindowsPhone-Target:toast X-NotificationClass:2 <?xml version="1.0" encoding="utf-8"?><wp:Notification xmlns:wp="WPNotification"><wp:Toast><wp:Text1>Hello from Go!</wp:Text1></wp:Toast></wp:Notification>
}

func ExampleClient_SendAppleNotification() {
	hub := startExampleHub()
	defer hub.Close()
	client := hub.client()

	resp, err := client.SendAppleNotification(context.Background(), []byte(`{"aps":{"alert":"Hello from Go!"}}`), nil)
	if err != nil {
		log.Fatal(err)
	}
	hub.printDeliveries(resp.NotificationID)
	// Output:
	// apple A1B2C3D4 {"aps":{"alert":"Hello from Go!"}}
}

func ExampleClient_SendFcmV1Notification() {
	hub := startExampleHub()
	defer hub.Close()
	client := hub.client()

	// Android with Firebase Cloud Messaging v1: the hub adds each device's token.
	payload := []byte(`{"message":{"notification":{"title":"Hello","body":"Hello from Go!"}}}`)
	resp, err := client.SendFcmV1Notification(context.Background(), payload, nil)
	if err != nil {
		log.Fatal(err)
	}
	hub.printDeliveries(resp.NotificationID)

	// A data value that is not a string is refused before any request.
	_, err = client.SendFcmV1Notification(context.Background(), []byte(`{"message":{"data":{"id":42}}}`), nil)
	fmt.Println(err)
	// Output:
	// fcmv1 fcm-1 {"message":{"notification":{"title":"Hello","body":"Hello from Go!"},"token":"fcm-1"}}
	// fcmv1 notification: message.data.id: is a number, want a string (FCM v1 data values are strings)
}

func ExampleClient_SendGcmNotification() {
	hub := startExampleHub()
	defer hub.Close()
	client := hub.client()

	// Android with legacy FCM (GCM), as in the article.
	resp, err := client.SendGcmNotification(context.Background(), []byte(`{"data":{"msg":"Hello from Go!"}}`), nil)
	if err != nil {
		log.Fatal(err)
	}
	hub.printDeliveries(resp.NotificationID)
	// Output:
	// gcm gcm-1 {"to":"gcm-1","data":{"msg":"Hello from Go!"}}
}

func ExampleClient_SendAdmNotification() {
	hub := startExampleHub()
	defer hub.Close()
	client := hub.client()

	// Kindle Fire (Amazon Device Messaging).
	resp, err := client.SendAdmNotification(context.Background(), []byte(`{"data":{"msg":"Hello from Go!"}}`), nil)
	if err != nil {
		log.Fatal(err)
	}
	hub.printDeliveries(resp.NotificationID)
	// Output:
	// adm adm-1 {"data":{"msg":"Hello from Go!"}}
}

func ExampleClient_SendBaiduNotification() {
	hub := startExampleHub()
	defer hub.Close()
	client := hub.client()

	resp, err := client.SendBaiduNotification(context.Background(), []byte(`{"title":"Hello","description":"Hello from Go!"}`), nil)
	if err != nil {
		log.Fatal(err)
	}
	hub.printDeliveries(resp.NotificationID)
	// Output:
	// baidu baidu-user-baidu-channel {"title":"Hello","description":"Hello from Go!"}
}

func ExampleClient_SendTemplateNotification() {
	hub := startExampleHub()
	defer hub.Close()
	client := hub.client()

	// Each template registration renders the properties its own way.
	props := map[string]string{"greeting_en": "Hello", "greeting_fr": "Salut"}
	resp, err := client.SendTemplateNotification(context.Background(), props, nil)
	if err != nil {
		log.Fatal(err)
	}
	hub.printDeliveries(resp.NotificationID)
	// Output:
	// apple E5F6A7B8 {"aps":{"alert":"Hello"}}
	// fcmv1 fcm-2 {"message":{"notification":{"body":"Salut"},"token":"fcm-2"}}
}

func ExampleClient_SendNotification_tag() {
	hub := startExampleHub()
	defer hub.Close()
	client := hub.client()

	toast := notificationhubs.NewWindowsNotification([]byte(`<toast><visual><binding template="ToastText01"><text id="1">Hello sports fans!</text></binding></visual></toast>`), nil)
	resp, err := client.SendNotification(context.Background(), toast, &notificationhubs.SendNotificationOptions{Tags: []string{"sports"}})
	if err != nil {
		log.Fatal(err)
	}
	hub.printDeliveries(resp.NotificationID)
	// Output:
	// windows https://db5.notify.windows.com/?token=w1 X-WNS-Type:wns/toast <toast><visual><binding template="ToastText01"><text id="1">Hello sports fans!</text></binding></visual></toast>
}

func ExampleClient_SendNotification_tags() {
	hub := startExampleHub()
	defer hub.Close()
	client := hub.client()

	// Devices with any of the tags.
	toast := notificationhubs.NewWindowsNotification([]byte(`<toast><visual><binding template="ToastText01"><text id="1">Hello!</text></binding></visual></toast>`), nil)
	resp, err := client.SendNotification(context.Background(), toast, &notificationhubs.SendNotificationOptions{Tags: []string{"sports", "politics"}})
	if err != nil {
		log.Fatal(err)
	}
	hub.printDeliveries(resp.NotificationID)

	// A tag expression is checked before the request.
	_, err = client.SendNotification(context.Background(), toast, &notificationhubs.SendNotificationOptions{TagExpression: "sports && (news ||"})
	fmt.Println(err != nil)
	// Output:
	// windows https://db5.notify.windows.com/?token=w1 X-WNS-Type:wns/toast <toast><visual><binding template="ToastText01"><text id="1">Hello!</text></binding></visual></toast>
	// windows https://db5.notify.windows.com/?token=w2 X-WNS-Type:wns/toast <toast><visual><binding template="ToastText01"><text id="1">Hello!</text></binding></visual></toast>
	// true
}

func ExampleClient_SendNotification_tagExpression() {
	hub := startExampleHub()
	defer hub.Close()
	client := hub.client()

	// The Apple and FCM v1 devices tagged sports or politics: one send per
	// format.
	for _, n := range []notificationhubs.Notification{
		notificationhubs.NewAppleNotification([]byte(`{"aps":{"alert":"Breaking news"}}`), nil),
		notificationhubs.NewFcmV1Notification([]byte(`{"message":{"notification":{"body":"Breaking news"}}}`)),
	} {
		resp, err := client.SendNotification(context.Background(), n, &notificationhubs.SendNotificationOptions{TagExpression: "sports || politics"})
		if err != nil {
			log.Fatal(err)
		}
		hub.printDeliveries(resp.NotificationID)
	}
	// Output:
	// apple A1B2C3D4 {"aps":{"alert":"Breaking news"}}
	// fcmv1 fcm-1 {"message":{"notification":{"body":"Breaking news"},"token":"fcm-1"}}
}

// stableDump masks what changes from run to run in a debug dump: the
// emulator's port, the token expiry, ids and dates.
type stableDump struct{ w io.Writer }

var dumpMasks = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`127\.0\.0\.1(:|%3A)\d+`), "127.0.0.1${1}PORT"},
	{regexp.MustCompile(`se=\d+`), "se=EXPIRY"},
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), "GUID"},
	{regexp.MustCompile(`[0-9a-f]{32}-\d{14}-\d+-\d+`), "NOTIFICATION-ID"},
	{regexp.MustCompile(`<RegistrationId>[^<]*</RegistrationId>`), "<RegistrationId>ID</RegistrationId>"},
	{regexp.MustCompile(`(?m)^Date: .*$`), "Date: DATE"},
	{regexp.MustCompile(`(--- RESPONSE ---\n.*\nContent-Length: )\d+`), "${1}LENGTH"}, // ids vary in length
}

func (s stableDump) Write(p []byte) (int, error) {
	out := p
	for _, m := range dumpMasks {
		out = m.re.ReplaceAll(out, []byte(m.with))
	}
	_, err := s.w.Write(out)
	return len(p), err
}

func ExampleClientOptions_debug() {
	hub := startExampleHub()
	defer hub.Close()

	// The article's isDebug: a test send, whose response says what each
	// device got, plus a dump of each request and response. The signature
	// is redacted; sr, se and skn stay readable.
	opts := *hub.Options
	opts.EnableTestSend = true
	opts.DebugWriter = stableDump{os.Stdout}
	opts.Telemetry.Disabled = true // keep the User-Agent (Go and OS versions) out of the output
	client, err := notificationhubs.NewClientFromConnectionString(hub.ConnectionString, "myhub", &opts)
	if err != nil {
		log.Fatal(err)
	}
	toast := notificationhubs.NewWindowsNotification([]byte(`<toast><visual><binding template="ToastText01"><text id="1">Hi</text></binding></visual></toast>`), nil)
	resp, err := client.SendNotification(context.Background(), toast, &notificationhubs.SendNotificationOptions{Tags: []string{"sports"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("state:", resp.State, "success:", resp.Success, "failure:", resp.Failure)
	for _, r := range resp.Results {
		fmt.Println(r.ApplicationPlatform, r.PnsHandle, r.Outcome)
	}
	// Output:
	// --- REQUEST ---
	// POST https://127.0.0.1:PORT/myhub/messages?api-version=2020-06&test
	// Authorization: SharedAccessSignature sr=https%3A%2F%2F127.0.0.1%3APORT%2Fmyhub&sig=REDACTED&se=EXPIRY&skn=DefaultFullSharedAccessSignature
	// Content-Length: 96
	// Content-Type: application/xml
	// ServiceBusNotification-Format: windows
	// ServiceBusNotification-Tags: sports
	// X-Ms-Version: 2020-06
	// X-Wns-Type: wns/toast
	//
	// <toast><visual><binding template="ToastText01"><text id="1">Hi</text></binding></visual></toast>
	// --- END REQUEST ---
	// --- RESPONSE ---
	// 201 Created
	// Content-Length: LENGTH
	// Content-Type: application/xml; charset=utf-8
	// Date: DATE
	// Location: https://127.0.0.1:PORT/myhub/messages/NOTIFICATION-ID?api-version=2020-06
	// Trackingid: GUID
	// X-Ms-Correlation-Request-Id: GUID
	//
	// <NotificationOutcome xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Success>1</Success><Failure>0</Failure><Results><RegistrationResult><ApplicationPlatform>windows</ApplicationPlatform><PnsHandle>https://db5.notify.windows.com/?token=w1</PnsHandle><RegistrationId>ID</RegistrationId><Outcome>The Notification was successfully sent to the Push Notification System</Outcome></RegistrationResult></Results></NotificationOutcome>
	// --- END RESPONSE ---
	// state: DetailedStateAvailable success: 1 failure: 0
	// windows https://db5.notify.windows.com/?token=w1 The Notification was successfully sent to the Push Notification System
}
