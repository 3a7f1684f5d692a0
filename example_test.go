package notificationhubs

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// These examples follow Microsoft's tutorial "How to use Notification Hubs
// from Python" in Go. They run against a local stand-in for the service
// (an httptest server reached as mynamespace.example.com) that prints what
// it receives; with a real hub, use the connection string of its
// DefaultFullSharedAccessSignature rule and leave Transport unset.

// exampleHub starts the stand-in and returns the client options that reach
// it, a connection string, and a function to stop it.
func exampleHub() (*ClientOptions, string, func()) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Printf("hub received %s %s format=%s", r.Method, r.URL.Path, r.Header.Get("ServiceBusNotification-Format"))
		for _, h := range []string{"ServiceBusNotification-Tags", "X-WNS-Type", "X-WindowsPhone-Target", "X-NotificationClass"} {
			if v := r.Header.Get(h); v != "" {
				fmt.Printf(" %s=%s", h, v)
			}
		}
		fmt.Printf(" body=%d bytes\n", len(body))
		w.Header()["Date"] = nil
		w.Header().Set("Location", "https://mynamespace.example.com/myhub/messages/4651c1ec2b614f14bfec41c62ca000b1-20181107001828-33331921-15?api-version=2020-06")
		w.Header().Set("TrackingId", "d1ca1d5b-5c8e-4a65-b1a9-7e3c34a0d8cf")
		w.WriteHeader(http.StatusCreated)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	opts := &ClientOptions{ClientOptions: azcore.ClientOptions{Transport: srv.Client()}}
	connStr := "Endpoint=sb://mynamespace.example.com/;SharedAccessKeyName=DefaultFullSharedAccessSignature;SharedAccessKey=Zm9vYmFyYmF6cXV4PT0="
	return opts, connStr, srv.Close
}

func ExampleNewClientFromConnectionString() {
	opts, connStr, stop := exampleHub()
	defer stop()

	// The article: hub = NotificationHub("myConnectionString", "myNotificationHubName")
	client, err := NewClientFromConnectionString(connStr, "myhub", opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(client.Endpoint(), client.HubName(), client.APIVersion())
	// Output: https://mynamespace.example.com/ myhub 2020-06
}

func ExampleClient_SendWindowsNotification() {
	opts, connStr, stop := exampleHub()
	defer stop()
	client, err := NewClientFromConnectionString(connStr, "myhub", opts)
	if err != nil {
		log.Fatal(err)
	}
	toast := []byte(`<toast><visual><binding template="ToastText01"><text id="1">Hello world!</text></binding></visual></toast>`)
	resp, err := client.SendWindowsNotification(context.Background(), toast, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("notification id:", resp.NotificationID)
	// Output:
	// hub received POST /myhub/messages format=windows X-WNS-Type=wns/toast body=106 bytes
	// notification id: 4651c1ec2b614f14bfec41c62ca000b1-20181107001828-33331921-15
}

func ExampleClient_SendMpnsNotification() {
	opts, connStr, stop := exampleHub()
	defer stop()
	client, err := NewClientFromConnectionString(connStr, "myhub", opts)
	if err != nil {
		log.Fatal(err)
	}
	toast := []byte(`<?xml version="1.0" encoding="utf-8"?><wp:Notification xmlns:wp="WPNotification"><wp:Toast><wp:Text1>Hello from Go!</wp:Text1></wp:Toast></wp:Notification>`)
	if _, err := client.SendMpnsNotification(context.Background(), toast, nil); err != nil {
		log.Fatal(err)
	}
	// Output:
	// hub received POST /myhub/messages format=windowsphone X-WindowsPhone-Target=toast X-NotificationClass=2 body=155 bytes
}

func ExampleClient_SendAppleNotification() {
	opts, connStr, stop := exampleHub()
	defer stop()
	client, err := NewClientFromConnectionString(connStr, "myhub", opts)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.SendAppleNotification(context.Background(), []byte(`{"aps":{"alert":"Hello from Go!"}}`), nil); err != nil {
		log.Fatal(err)
	}
	// Output:
	// hub received POST /myhub/messages format=apple body=34 bytes
}

func ExampleClient_SendFcmV1Notification() {
	opts, connStr, stop := exampleHub()
	defer stop()
	client, err := NewClientFromConnectionString(connStr, "myhub", opts)
	if err != nil {
		log.Fatal(err)
	}
	payload := []byte(`{"message":{"notification":{"title":"Hello","body":"Hello from Go!"},"data":{"id":"42"}}}`)
	if _, err := client.SendFcmV1Notification(context.Background(), payload, nil); err != nil {
		log.Fatal(err)
	}
	// A data value that is not a string is refused before any request.
	_, err = client.SendFcmV1Notification(context.Background(), []byte(`{"message":{"data":{"id":42}}}`), nil)
	fmt.Println(err)
	// Output:
	// hub received POST /myhub/messages format=fcmv1 body=89 bytes
	// fcmv1 notification: message.data.id: is a number, want a string (FCM v1 data values are strings)
}

func ExampleClient_SendGcmNotification() {
	opts, connStr, stop := exampleHub()
	defer stop()
	client, err := NewClientFromConnectionString(connStr, "myhub", opts)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.SendGcmNotification(context.Background(), []byte(`{"data":{"msg":"Hello from Go!"}}`), nil); err != nil {
		log.Fatal(err)
	}
	// Output:
	// hub received POST /myhub/messages format=gcm body=33 bytes
}

func ExampleClient_SendAdmNotification() {
	opts, connStr, stop := exampleHub()
	defer stop()
	client, err := NewClientFromConnectionString(connStr, "myhub", opts)
	if err != nil {
		log.Fatal(err)
	}
	// Kindle Fire (Amazon Device Messaging).
	if _, err := client.SendAdmNotification(context.Background(), []byte(`{"data":{"msg":"Hello from Go!"}}`), nil); err != nil {
		log.Fatal(err)
	}
	// Output:
	// hub received POST /myhub/messages format=adm body=33 bytes
}

func ExampleClient_SendBaiduNotification() {
	opts, connStr, stop := exampleHub()
	defer stop()
	client, err := NewClientFromConnectionString(connStr, "myhub", opts)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.SendBaiduNotification(context.Background(), []byte(`{"title":"Hello","description":"Hello from Go!"}`), nil); err != nil {
		log.Fatal(err)
	}
	// Output:
	// hub received POST /myhub/messages format=baidu body=48 bytes
}

func ExampleClient_SendTemplateNotification() {
	opts, connStr, stop := exampleHub()
	defer stop()
	client, err := NewClientFromConnectionString(connStr, "myhub", opts)
	if err != nil {
		log.Fatal(err)
	}
	props := map[string]string{"greeting_en": "Hello", "greeting_fr": "Salut"}
	if _, err := client.SendTemplateNotification(context.Background(), props, nil); err != nil {
		log.Fatal(err)
	}
	// Output:
	// hub received POST /myhub/messages format=template body=45 bytes
}

func ExampleClient_SendNotification_tag() {
	opts, connStr, stop := exampleHub()
	defer stop()
	client, err := NewClientFromConnectionString(connStr, "myhub", opts)
	if err != nil {
		log.Fatal(err)
	}
	toast := NewWindowsNotification([]byte(`<toast><visual><binding template="ToastText01"><text id="1">Hello sports fans!</text></binding></visual></toast>`), nil)
	if _, err := client.SendNotification(context.Background(), toast, &SendNotificationOptions{Tags: []string{"sports"}}); err != nil {
		log.Fatal(err)
	}
	// Output:
	// hub received POST /myhub/messages format=windows ServiceBusNotification-Tags=sports X-WNS-Type=wns/toast body=112 bytes
}

func ExampleClient_SendNotification_tags() {
	opts, connStr, stop := exampleHub()
	defer stop()
	client, err := NewClientFromConnectionString(connStr, "myhub", opts)
	if err != nil {
		log.Fatal(err)
	}
	toast := NewWindowsNotification([]byte(`<toast><visual><binding template="ToastText01"><text id="1">Hello!</text></binding></visual></toast>`), nil)
	opt := &SendNotificationOptions{Tags: []string{"sports", "politics"}}
	if _, err := client.SendNotification(context.Background(), toast, opt); err != nil {
		log.Fatal(err)
	}
	// A tag expression is checked before the request; the error names the position.
	_, err = client.SendNotification(context.Background(), toast, &SendNotificationOptions{TagExpression: "sports && (news ||"})
	fmt.Println(err != nil)
	// Output:
	// hub received POST /myhub/messages format=windows ServiceBusNotification-Tags=sports||politics X-WNS-Type=wns/toast body=100 bytes
	// true
}

// stableDump rewrites the token expiry (the send time plus one hour) so
// that the example's output does not change from run to run.
type stableDump struct{ w io.Writer }

func (s stableDump) Write(p []byte) (int, error) {
	out := regexp.MustCompile(`se=\d+`).ReplaceAll(p, []byte("se=<expiry>"))
	_, err := s.w.Write(out)
	return len(p), err
}

func ExampleClientOptions_debug() {
	opts, connStr, stop := exampleHub()
	defer stop()
	// The article's isDebug: test send plus a dump of each request and
	// response. The signature is redacted; sr, se and skn stay readable.
	opts.EnableTestSend = true
	opts.DebugWriter = stableDump{os.Stdout}
	opts.Telemetry.Disabled = true // keep the User-Agent (Go and OS versions) out of the output
	client, err := NewClientFromConnectionString(connStr, "myhub", opts)
	if err != nil {
		log.Fatal(err)
	}
	resp, err := client.SendNotification(context.Background(), NewWindowsNotification([]byte(`<toast><visual><binding template="ToastText01"><text id="1">Hi</text></binding></visual></toast>`), nil), &SendNotificationOptions{Tags: []string{"sports"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("state:", resp.State, "tracking id:", strings.ToUpper(resp.TrackingID[:8]))
	// Output:
	// hub received POST /myhub/messages format=windows ServiceBusNotification-Tags=sports X-WNS-Type=wns/toast body=96 bytes
	// --- REQUEST ---
	// POST https://mynamespace.example.com/myhub/messages?api-version=2020-06&test
	// Authorization: SharedAccessSignature sr=https%3A%2F%2Fmynamespace.example.com%2Fmyhub&sig=REDACTED&se=<expiry>&skn=DefaultFullSharedAccessSignature
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
	// Content-Length: 0
	// Location: https://mynamespace.example.com/myhub/messages/4651c1ec2b614f14bfec41c62ca000b1-20181107001828-33331921-15?api-version=2020-06
	// Trackingid: d1ca1d5b-5c8e-4a65-b1a9-7e3c34a0d8cf
	//
	// --- END RESPONSE ---
	// state: Enqueued tracking id: D1CA1D5B
}
