package notificationhubs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nhkit/notificationhubs/internal/tagexpr"
)

// stFormat is one notification of the request-shape matrix with the headers and
// content type it must produce (docs/protocol.md, "Sends", whose table lists them
// as the JS SDK 2.x sends them).
type stFormat struct {
	name        string
	n           Notification
	format      string
	contentType string
	headers     map[string]string // platform headers, canonical names
	direct      map[string]string // extra headers of a direct send
	noBatch     bool
}

func stFormats() []stFormat {
	exp := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return []stFormat{
		{name: "template", n: NewTemplateNotification(map[string]string{"message": "Hello", "badge": "3"}),
			format: "template", contentType: "application/json;charset=utf-8", noBatch: true},
		{name: "apple", n: NewAppleNotification([]byte(`{"aps":{"alert":"Hello"}}`), &AppleOptions{PushType: "alert", Priority: 10, Topic: "com.example.app", CollapseID: "c1", Expiration: exp}),
			format: "apple", contentType: "application/json;charset=utf-8",
			headers: map[string]string{"Apns-Push-Type": "alert", "Apns-Priority": "10", "Apns-Topic": "com.example.app", "Apns-Collapse-Id": "c1", "Apns-Expiration": "1767323045"}},
		{name: "fcmv1", n: NewFcmV1Notification([]byte(`{"message":{"notification":{"title":"Hi","body":"Hello"},"data":{"k":"v"}}}`)),
			format: "fcmv1", contentType: "application/json;charset=utf-8"},
		{name: "gcm", n: NewGcmNotification([]byte(`{"data":{"message":"Hello"}}`)),
			format: "gcm", contentType: "application/json;charset=utf-8"},
		{name: "windows toast", n: NewWindowsNotification([]byte(`<toast><visual><binding template="ToastText01"><text id="1">Hello</text></binding></visual></toast>`), nil),
			format: "windows", contentType: "application/xml", headers: map[string]string{"X-Wns-Type": "wns/toast"}},
		{name: "windows tile", n: NewWindowsNotification([]byte(`<tile><visual><binding template="TileSquareText01"><text id="1">Hi</text></binding></visual></tile>`), &WindowsOptions{Headers: map[string]string{"X-WNS-TTL": "60"}}),
			format: "windows", contentType: "application/xml", headers: map[string]string{"X-Wns-Type": "wns/tile", "X-Wns-Ttl": "60"}},
		{name: "windows badge", n: NewWindowsNotification([]byte(`<badge value="3"/>`), nil),
			format: "windows", contentType: "application/xml", headers: map[string]string{"X-Wns-Type": "wns/badge"}},
		{name: "windows raw", n: NewWindowsRawNotification([]byte("raw bytes")),
			format: "windows", contentType: "application/octet-stream", headers: map[string]string{"X-Wns-Type": "wns/raw"}},
		{name: "mpns toast", n: NewMpnsNotification([]byte(`<?xml version="1.0" encoding="utf-8"?><wp:Notification xmlns:wp="WPNotification"><wp:Toast><wp:Text1>Hello</wp:Text1></wp:Toast></wp:Notification>`), nil),
			format: "windowsphone", contentType: "application/xml;charset=utf-8", headers: map[string]string{"X-Windowsphone-Target": "toast", "X-Notificationclass": "2"}},
		{name: "adm", n: NewAdmNotification([]byte(`{"data":{"msg":"Hello"}}`)),
			format: "adm", contentType: "application/json;charset=utf-8"},
		{name: "baidu", n: NewBaiduNotification([]byte(`{"title":"Hi","description":"Hello"}`)),
			format: "baidu", contentType: "application/json;charset=utf-8"},
		{name: "xiaomi", n: NewXiaomiNotification([]byte(`{"title":"Hi","description":"Hello"}`)),
			format: "xiaomi", contentType: "application/json;charset=utf-8"},
		{name: "browser", n: NewBrowserNotification([]byte(`{"title":"Hi","body":"Hello"}`)),
			format: "browser", contentType: "application/json;charset=utf-8",
			direct: map[string]string{"P256dh": "BPk-p256dh", "Auth": "auth-secret"}, noBatch: true},
	}
}

// stWant is the expected shape of one request.
type stWant struct {
	method, path, query string
	headers             map[string]string
	body                string
}

// checkRequest compares a received request with want: method, path,
// query, every header (User-Agent and Authorization by form, the Go
// transport's Accept-Encoding ignored) and body.
func checkRequest(t *testing.T, got receivedRequest, want stWant) {
	t.Helper()
	if got.Method != want.method {
		t.Errorf("method = %s, want %s", got.Method, want.method)
	}
	if got.Path != want.path {
		t.Errorf("path = %s, want %s", got.Path, want.path)
	}
	if got.Query != want.query {
		t.Errorf("query = %s, want %s", got.Query, want.query)
	}
	if string(got.Body) != want.body {
		t.Errorf("body =\n%q\nwant\n%q", got.Body, want.body)
	}
	gotH := map[string]string{}
	for k, v := range got.Header {
		switch k {
		case "Accept-Encoding":
			continue
		case "User-Agent":
			if !strings.HasPrefix(v[0], "azsdk-go-") {
				t.Errorf("User-Agent = %q, want azsdk-go-…", v[0])
			}
			continue
		case "Authorization":
			if !strings.HasPrefix(v[0], "SharedAccessSignature sr=https%3A%2F%2Fmynamespace.example.com%2Fmyhub&sig=") || !strings.HasSuffix(v[0], "&skn=DefaultFullSharedAccessSignature") {
				t.Errorf("Authorization = %q, not a SAS token for the hub", v[0])
			}
			continue
		}
		if len(v) != 1 {
			t.Errorf("header %s has %d values %q, want 1", k, len(v), v)
		}
		gotH[k] = v[0]
	}
	wantH := map[string]string{"X-Ms-Version": "2020-06"}
	if want.body != "" {
		wantH["Content-Length"] = fmt.Sprint(len(want.body))
	}
	for k, v := range want.headers {
		wantH[k] = v
	}
	if diff := cmp.Diff(wantH, gotH); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
}

func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// TestSendRequestShapes sends every format to every audience and checks
// each request against what the JS SDK 2.x sends (docs/protocol.md, "Sends") and the
// recordings' paths and queries (/{hub}/messages?api-version=…[&direct],
// /{hub}/messages/$batch?api-version=…&direct, /{hub}/schedulednotifications?api-version=…).
func TestSendRequestShapes(t *testing.T) {
	ctx := context.Background()
	at := time.Now().Add(2 * time.Hour).Truncate(time.Millisecond).UTC()
	atText := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", at.Year(), at.Month(), at.Day(), at.Hour(), at.Minute(), at.Second(), at.Nanosecond()/1e6)
	yes := true
	type audienceCase struct {
		name string
		send func(c *Client, f stFormat) (string, error) // returns the id
		want func(f stFormat) stWant
		skip func(f stFormat) bool
	}
	native := func(f stFormat, extra map[string]string) map[string]string {
		return merge(map[string]string{"Servicebusnotification-Format": f.format, "Content-Type": f.contentType}, f.headers, extra)
	}
	sendWith := func(o *SendNotificationOptions) func(c *Client, f stFormat) (string, error) {
		return func(c *Client, f stFormat) (string, error) {
			r, err := c.SendNotification(ctx, f.n, o)
			return r.NotificationID, err
		}
	}
	const msgID = "73622a22797441e4b434e8c2c14112ce-20181107001834-33331921-18"
	cases := []audienceCase{
		{name: "broadcast", send: sendWith(nil), want: func(f stFormat) stWant {
			return stWant{"POST", "/myhub/messages", "api-version=2020-06", native(f, nil), string(f.n.Body)}
		}},
		{name: "tag", send: sendWith(&SendNotificationOptions{Tags: []string{"sports"}}), want: func(f stFormat) stWant {
			return stWant{"POST", "/myhub/messages", "api-version=2020-06", native(f, map[string]string{"Servicebusnotification-Tags": "sports"}), string(f.n.Body)}
		}},
		{name: "tag set", send: sendWith(&SendNotificationOptions{Tags: []string{"sports", "news", "$InstallationId:{inst-1}"}}), want: func(f stFormat) stWant {
			return stWant{"POST", "/myhub/messages", "api-version=2020-06", native(f, map[string]string{"Servicebusnotification-Tags": "sports||news||$InstallationId:{inst-1}"}), string(f.n.Body)}
		}},
		{name: "expression", send: sendWith(&SendNotificationOptions{TagExpression: "(sports || news) && !muted"}), want: func(f stFormat) stWant {
			return stWant{"POST", "/myhub/messages", "api-version=2020-06", native(f, map[string]string{"Servicebusnotification-Tags": "(sports || news) && !muted"}), string(f.n.Body)}
		}},
		{name: "test send", send: sendWith(&SendNotificationOptions{Tags: []string{"sports"}, EnableTestSend: &yes}), want: func(f stFormat) stWant {
			return stWant{"POST", "/myhub/messages", "api-version=2020-06&test", native(f, map[string]string{"Servicebusnotification-Tags": "sports"}), string(f.n.Body)}
		}},
		{name: "direct", skip: func(f stFormat) bool { return f.format == "template" },
			send: func(c *Client, f stFormat) (string, error) {
				var o *SendDirectNotificationOptions
				if f.format == "browser" {
					o = &SendDirectNotificationOptions{P256DH: f.direct["P256dh"], Auth: f.direct["Auth"]}
				}
				handle := "https://db5.notify.windows.com/?token=AwYAAAB%2bX=="
				r, err := c.SendDirectNotification(ctx, f.n, handle, o)
				return r.NotificationID, err
			},
			want: func(f stFormat) stWant {
				return stWant{"POST", "/myhub/messages", "api-version=2020-06&direct",
					native(f, merge(map[string]string{"Servicebusnotification-Devicehandle": "https://db5.notify.windows.com/?token=AwYAAAB%2bX=="}, f.direct)), string(f.n.Body)}
			}},
		{name: "batch", skip: func(f stFormat) bool { return f.noBatch },
			send: func(c *Client, f stFormat) (string, error) {
				r, err := c.SendDirectBatchNotification(ctx, f.n, []string{"handle-1", "handle-2"}, nil)
				return r.NotificationID, err
			},
			want: func(f stFormat) stWant {
				body := "--nh-batch-multipart-boundary\r\n" +
					"Content-Type: " + f.contentType + "\r\n" +
					"Content-Disposition: inline; name=notification\r\n\r\n" +
					string(f.n.Body) + "\r\n" +
					"--nh-batch-multipart-boundary\r\n" +
					"Content-Type: application/json\r\n" +
					"Content-Disposition: inline; name=devices\r\n\r\n" +
					`["handle-1","handle-2"]` + "\r\n" +
					"--nh-batch-multipart-boundary--\r\n"
				h := native(f, map[string]string{"Content-Type": `multipart/mixed; boundary="nh-batch-multipart-boundary"`})
				return stWant{"POST", "/myhub/messages/$batch", "api-version=2020-06&direct", h, body}
			}},
		{name: "scheduled", send: func(c *Client, f stFormat) (string, error) {
			r, err := c.ScheduleNotification(ctx, f.n, at, &ScheduleNotificationOptions{Tags: []string{"a", "b"}})
			return r.ScheduledNotificationID, err
		}, want: func(f stFormat) stWant {
			return stWant{"POST", "/myhub/schedulednotifications", "api-version=2020-06",
				native(f, map[string]string{"Servicebusnotification-Scheduletime": atText, "Servicebusnotification-Tags": "a||b"}), string(f.n.Body)}
		}},
	}
	for _, ac := range cases {
		for _, f := range stFormats() {
			if ac.skip != nil && ac.skip(f) {
				continue
			}
			t.Run(ac.name+"/"+f.name, func(t *testing.T) {
				srv := newNamespaceServer(t, nil)
				c := srv.client(t, nil)
				id, err := ac.send(c, f)
				if err != nil {
					t.Fatalf("send: %v", err)
				}
				wantID := msgID
				if ac.name == "scheduled" {
					wantID = "af14e491a7994a65b7b3a5681a373337_20181107001832_33331921_17_QNHQueue930aa64c90d1481bb6b462578a54f1e0-S68116944391983712"
				}
				if id != wantID {
					t.Errorf("id = %q, want %q", id, wantID)
				}
				reqs := srv.Requests()
				if len(reqs) != 1 {
					t.Fatalf("%d requests, want 1", len(reqs))
				}
				checkRequest(t, reqs[0], ac.want(f))
			})
		}
	}
}

func TestCancelScheduledNotificationShape(t *testing.T) {
	srv := newNamespaceServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("TrackingId", "t-1")
		w.Header().Set("x-ms-correlation-request-id", "c-1")
		w.WriteHeader(http.StatusOK)
	})
	c := srv.client(t, nil)
	id := "af14e491a7994a65b7b3a5681a373337_20181107001832_33331921_17_QNHQueue930aa64c90d1481bb6b462578a54f1e0-S68116944391983712"
	resp, err := c.CancelScheduledNotification(context.Background(), id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(CancelScheduledNotificationResponse{TrackingID: "t-1", CorrelationID: "c-1"}, resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	checkRequest(t, srv.Requests()[0], stWant{"DELETE", "/myhub/schedulednotifications/" + id, "api-version=2020-06", nil, ""})
}

func TestClientWideTestSend(t *testing.T) {
	srv := newNamespaceServer(t, nil)
	c := srv.client(t, &ClientOptions{EnableTestSend: true})
	n := NewGcmNotification([]byte(`{"data":{"m":"x"}}`))
	ctx := context.Background()
	no := false
	if _, err := c.SendNotification(ctx, n, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendNotification(ctx, n, &SendNotificationOptions{EnableTestSend: &no}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendDirectNotification(ctx, n, "h", nil); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range srv.Requests() {
		got = append(got, r.Query)
	}
	want := []string{"api-version=2020-06&test", "api-version=2020-06", "api-version=2020-06&direct"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("queries (-want +got):\n%s", diff)
	}
}

// Outcome bodies: the sample of docs/protocol.md, "Test sends" (from
// Azure/azure-sdk-for-js#23139) and the "no targets" form of the Python how-to.
const (
	outcomeOne = `<NotificationOutcome xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
  <Success>1</Success>
  <Failure>0</Failure>
  <Results>
    <RegistrationResult>
      <ApplicationPlatform>apple</ApplicationPlatform>
      <PnsHandle>7603CF2F0786</PnsHandle>
      <RegistrationId>282625459606590828-2679902039720441464-3</RegistrationId>
      <Outcome>The Notification was successfully sent to the Push Notification System</Outcome>
    </RegistrationResult>
  </Results>
</NotificationOutcome>`
	outcomeNone = `<NotificationOutcome xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect" xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Success>0</Success><Failure>0</Failure><Results i:nil="true"/></NotificationOutcome>`
)

func TestTestSendOutcome(t *testing.T) {
	tests := []struct {
		name string
		body string
		want SendNotificationResponse
	}{
		{"one result", outcomeOne, SendNotificationResponse{
			NotificationID: "73622a22797441e4b434e8c2c14112ce-20181107001834-33331921-18",
			TrackingID:     "8b5bb8f2-6d1a-4f3c-9d55-4a3c1f0a2b11", CorrelationID: "f3b1a7c2-1111-2222-3333-444455556666",
			NotificationOutcome: NotificationOutcome{State: NotificationOutcomeStateDetailedStateAvailable, Success: 1, Results: []RegistrationResult{{
				ApplicationPlatform: "apple", PnsHandle: "7603CF2F0786", RegistrationID: "282625459606590828-2679902039720441464-3",
				Outcome: "The Notification was successfully sent to the Push Notification System"}}}}},
		{"no targets", outcomeNone, SendNotificationResponse{
			NotificationID: "73622a22797441e4b434e8c2c14112ce-20181107001834-33331921-18",
			TrackingID:     "8b5bb8f2-6d1a-4f3c-9d55-4a3c1f0a2b11", CorrelationID: "f3b1a7c2-1111-2222-3333-444455556666",
			NotificationOutcome: NotificationOutcome{State: NotificationOutcomeStateDetailedStateAvailable}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newNamespaceServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("TrackingId", "8b5bb8f2-6d1a-4f3c-9d55-4a3c1f0a2b11")
				w.Header().Set("x-ms-correlation-request-id", "f3b1a7c2-1111-2222-3333-444455556666")
				w.Header().Set("Location", "https://mynamespace.example.com/myhub/messages/73622a22797441e4b434e8c2c14112ce-20181107001834-33331921-18?api-version=2020-06")
				w.Header().Set("Content-Type", "application/xml; charset=utf-8")
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, tt.body)
			})
			c := srv.client(t, &ClientOptions{EnableTestSend: true})
			got, err := c.SendAppleNotification(context.Background(), []byte(`{"aps":{"alert":"x"}}`), nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			if tt.name == "no targets" && got.Results != nil {
				t.Errorf("Results = %#v, want nil", got.Results)
			}
		})
	}
}

func TestLastSegment(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://ns.servicebus.windows.net/hub/messages/abc-1?api-version=2020-06", "abc-1"},
		{"https://ns.servicebus.windows.net/hub/messages/$batch/b755f9e4-20181107001827-33331921-16?api-version=2017-04&direct", "b755f9e4-20181107001827-33331921-16"},
		{"https://ns/hub/schedulednotifications/id_1/", "id_1"},
		{"", ""},
		{"https://ns/", ""},
	}
	for _, tt := range tests {
		if got := lastSegment(tt.in); got != tt.want {
			t.Errorf("lastSegment(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestSendValidation checks client-side errors: each says what and where,
// and no request is made.
func TestSendValidation(t *testing.T) {
	big := strings.Repeat("x", 5000)
	tests := []struct {
		name    string
		n       Notification
		opts    *SendNotificationOptions
		wantErr string
	}{
		{"json syntax", NewAppleNotification([]byte(`{"aps":{"alert":"x",}}`), nil), nil, "apple notification: body: is not valid JSON at byte offset 20"},
		{"trailing data", NewAdmNotification([]byte(`{"data":{}} x`)), nil, "adm notification: body: has data after the JSON value"},
		{"xml syntax", NewWindowsNotification([]byte(`<toast><visual></toast>`), nil), nil, "windows notification: body line 1 column"},
		{"wns type vs root", NewWindowsNotification([]byte(`<tile/>`), &WindowsOptions{Type: WnsToast}), nil, "windows notification: header X-WNS-Type: is wns/toast but the XML root element is <tile>"},
		{"wns no type", NewWindowsNotification([]byte(`<foo/>`), nil), nil, "windows notification: header X-WNS-Type: is missing"},
		{"wns bad type", NewWindowsNotification([]byte(`<toast/>`), &WindowsOptions{Type: "wns/alert"}), nil, `header X-WNS-Type: is "wns/alert"`},
		{"fcmv1 no wrapper", NewFcmV1Notification([]byte(`{"notification":{"title":"x"}}`)), nil, `fcmv1 notification: body: has no "message" object`},
		{"fcmv1 data number", NewFcmV1Notification([]byte(`{"message":{"data":{"badge":3}}}`)), nil, "fcmv1 notification: message.data.badge: is a number, want a string"},
		{"fcmv1 android data", NewFcmV1Notification([]byte(`{"message":{"android":{"data":{"ok":"1","n":true}}}}`)), nil, "fcmv1 notification: message.android.data.n: is a boolean, want a string"},
		{"fcmv1 token", NewFcmV1Notification([]byte(`{"message":{"token":"t"}}`)), nil, "fcmv1 notification: message.token: must not be set"},
		{"gcm registration_ids", NewGcmNotification([]byte(`{"registration_ids":["a"],"data":{}}`)), nil, "gcm notification: registration_ids: must not be set"},
		{"apple background with alert", NewAppleNotification([]byte(`{"aps":{"content-available":1,"alert":"x"}}`), &AppleOptions{PushType: "background", Priority: 5}), nil, "apple notification: header apns-push-type: is background but aps has alert"},
		{"apple background without content-available", NewAppleNotification([]byte(`{"aps":{}}`), &AppleOptions{PushType: "background"}), nil, "is background but aps.content-available is not 1"},
		{"apple background priority 10", NewAppleNotification([]byte(`{"aps":{"content-available":1}}`), &AppleOptions{PushType: "background", Priority: 10}), nil, "apns-priority: is 10 but APNs requires 5"},
		{"apple alert silent", NewAppleNotification([]byte(`{"aps":{"content-available":1}}`), &AppleOptions{PushType: "alert"}), nil, "is alert but aps has only content-available"},
		{"apple bad priority", NewAppleNotification([]byte(`{"aps":{"alert":"x"}}`), &AppleOptions{Priority: 7}), nil, `apns-priority: is "7"`},
		{"apple too big", NewAppleNotification([]byte(`{"aps":{"alert":"`+big+`"}}`), nil), nil, "apple notification: body: is 5020 bytes, more than the push service's limit of 4096"},
		{"over 64 KB", NewTemplateNotification(map[string]string{"m": strings.Repeat("x", 70000)}), nil, "template notification: body: is 70008 bytes, more than the service's limit of 65536"},
		{"template number", Notification{Format: FormatTemplate, Body: []byte(`{"badge":3}`), ContentType: contentTypeJSON}, nil, `template notification: property "badge": value is a number, want a string`},
		{"template long name", NewTemplateNotification(map[string]string{strings.Repeat("p", 121): "x"}), nil, "name is 121 characters, more than 120"},
		{"template not object", Notification{Format: FormatTemplate, Body: []byte(`["a"]`)}, nil, "is not a JSON object of properties"},
		{"empty body", Notification{Format: FormatApple}, nil, "apple notification: body: is empty"},
		{"unknown format", Notification{Format: "fcm", Body: []byte(`{}`)}, nil, `Format: "fcm" is not a format the service knows`},
		{"header injection", Notification{Format: FormatAdm, Body: []byte(`{}`), Headers: map[string]string{"X-A": "a\r\nB: c"}}, nil, "header X-A: value contains a line break"},
		{"tags and expression", NewAdmNotification([]byte(`{}`)), &SendNotificationOptions{Tags: []string{"a"}, TagExpression: "b"}, "Tags and TagExpression are both set"},
		{"bad expression", NewAdmNotification([]byte(`{}`)), &SendNotificationOptions{TagExpression: "a && (b || "}, "position"},
		{"too many tags", NewAdmNotification([]byte(`{}`)), &SendNotificationOptions{Tags: strings.Split("a b c d e f g h i j k l m n o p q r s t u", " ")}, "Tags has 21 tags, more than the service's limit of 20"},
		{"bad tag", NewAdmNotification([]byte(`{}`)), &SendNotificationOptions{Tags: []string{"ok", "not ok"}}, "Tags[1]"},
	}
	srv := newNamespaceServer(t, nil)
	c := srv.client(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.SendNotification(context.Background(), tt.n, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests made, want none", n)
	}
	// The tag-expression error is the parser's, with its position.
	_, err := c.SendNotification(context.Background(), NewAdmNotification([]byte(`{}`)), &SendNotificationOptions{TagExpression: "a && (b || "})
	var se *tagexpr.SyntaxError
	if !errors.As(err, &se) {
		t.Errorf("error %v is not a *tagexpr.SyntaxError", err)
	}
	var ve *ValidationError
	if _, err := c.SendNotification(context.Background(), NewFcmV1Notification([]byte(`{}`)), nil); !errors.As(err, &ve) || ve.Format != FormatFcmV1 {
		t.Errorf("error %v is not a *ValidationError for fcmv1", err)
	}
}

func TestDirectAndScheduleValidation(t *testing.T) {
	srv := newNamespaceServer(t, nil)
	c := srv.client(t, nil)
	ctx := context.Background()
	apple := NewAppleNotification([]byte(`{"aps":{"alert":"x"}}`), nil)
	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprint("h", i)
	}
	checks := []struct {
		name    string
		err     error
		wantErr string
	}{
		{"direct empty handle", second(c.SendDirectNotification(ctx, apple, " ", nil)), "device handle is empty"},
		{"direct template", second(c.SendDirectNotification(ctx, NewTemplateNotification(nil), "h", nil)), "template notification cannot be sent"},
		{"direct browser keys", second(c.SendDirectNotification(ctx, NewBrowserNotification([]byte(`{}`)), "https://push", nil)), "needs the subscription's P256DH and Auth"},
		{"batch none", second(c.SendDirectBatchNotification(ctx, apple, nil, nil)), "no device handles"},
		{"batch too many", second(c.SendDirectBatchNotification(ctx, apple, many, nil)), "1001 device handles, more than the service's limit of 1000"},
		{"batch browser", second(c.SendDirectBatchNotification(ctx, NewBrowserNotification([]byte(`{}`)), []string{"a"}, nil)), "per-device keys"},
		{"schedule past", second(c.ScheduleNotification(ctx, apple, time.Now().Add(-time.Minute), nil)), "is not in the future"},
		{"schedule far", second(c.ScheduleNotification(ctx, apple, time.Now().Add(8*24*time.Hour), nil)), "more than 7 days ahead"},
		{"cancel empty", second(c.CancelScheduledNotification(ctx, "", nil)), "id is empty"},
	}
	for _, ch := range checks {
		if ch.err == nil || !strings.Contains(ch.err.Error(), ch.wantErr) {
			t.Errorf("%s: error = %v, want %q", ch.name, ch.err, ch.wantErr)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests made, want none", n)
	}
}

func second[T any](_ T, err error) error { return err }

func TestPerPlatformMethods(t *testing.T) {
	srv := newNamespaceServer(t, nil)
	c := srv.client(t, nil)
	ctx := context.Background()
	o := &SendNotificationOptions{Tags: []string{"t"}}
	calls := []struct {
		format string
		call   func() (SendNotificationResponse, error)
	}{
		{"template", func() (SendNotificationResponse, error) {
			return c.SendTemplateNotification(ctx, map[string]string{"m": "x"}, o)
		}},
		{"apple", func() (SendNotificationResponse, error) { return c.SendAppleNotification(ctx, []byte(`{"aps":{}}`), o) }},
		{"fcmv1", func() (SendNotificationResponse, error) {
			return c.SendFcmV1Notification(ctx, []byte(`{"message":{}}`), o)
		}},
		{"gcm", func() (SendNotificationResponse, error) { return c.SendGcmNotification(ctx, []byte(`{}`), o) }},
		{"windows", func() (SendNotificationResponse, error) { return c.SendWindowsNotification(ctx, []byte(`<toast/>`), o) }},
		{"windowsphone", func() (SendNotificationResponse, error) {
			return c.SendMpnsNotification(ctx, []byte(`<wp:Notification xmlns:wp="WPNotification"><wp:Tile/></wp:Notification>`), o)
		}},
		{"adm", func() (SendNotificationResponse, error) { return c.SendAdmNotification(ctx, []byte(`{}`), o) }},
		{"baidu", func() (SendNotificationResponse, error) { return c.SendBaiduNotification(ctx, []byte(`{}`), o) }},
		{"xiaomi", func() (SendNotificationResponse, error) { return c.SendXiaomiNotification(ctx, []byte(`{}`), o) }},
		{"browser", func() (SendNotificationResponse, error) { return c.SendBrowserNotification(ctx, []byte(`{}`), o) }},
	}
	for _, call := range calls {
		if _, err := call.call(); err != nil {
			t.Errorf("%s: %v", call.format, err)
		}
	}
	reqs := srv.Requests()
	if len(reqs) != len(calls) {
		t.Fatalf("%d requests, want %d", len(reqs), len(calls))
	}
	for i, call := range calls {
		if got := reqs[i].Header.Get("ServiceBusNotification-Format"); got != call.format {
			t.Errorf("call %d: format = %q, want %q", i, got, call.format)
		}
	}
	// MPNS tile detection.
	if got := reqs[5].Header.Get("X-WindowsPhone-Target") + "/" + reqs[5].Header.Get("X-NotificationClass"); got != "token/1" {
		t.Errorf("MPNS tile headers = %s, want token/1", got)
	}
}

// TestSendNilContext checks that a send with a nil context is refused
// with an error, not a panic, and sends nothing.
func TestSendNilContext(t *testing.T) {
	srv := newNamespaceServer(t, nil)
	c := srv.client(t, nil)
	var ctx context.Context // nil
	if _, err := c.SendNotification(ctx, sampleAppleNotification, nil); err == nil || !strings.Contains(err.Error(), "nil context") {
		t.Errorf("SendNotification(nil ctx) = %v, want a nil-context error", err)
	}
	if _, err := c.SendDirectNotification(ctx, sampleAppleNotification, "0123abcd", nil); err == nil || !strings.Contains(err.Error(), "nil context") {
		t.Errorf("SendDirectNotification(nil ctx) = %v, want a nil-context error", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}
