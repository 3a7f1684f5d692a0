package notificationhubs_test

// The contract tests run the SDK against the emulator end to end: every
// exported operation of Client, checked both by what it returns and by
// what the emulator saw (its stored state and the deliveries a push
// service would have received). The SDK and the emulator were written
// separately from rest-api.md and the recordings, so a misunderstanding
// of the protocol on either side shows up here.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	nh "github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/emulator"
	"github.com/nhkit/notificationhubs/emulator/emulatortest"
)

const contractHub = "contract"

// newContract starts an emulator and returns it with a client for the
// hub "contract" that trusts its certificate. opts may be nil.
func newContract(t *testing.T, opts *nh.ClientOptions) (*emulatortest.Server, *nh.Client) {
	t.Helper()
	srv := emulatortest.NewServer(t)
	return srv, contractClient(t, srv, srv.ConnectionString, opts)
}

func contractClient(t *testing.T, srv *emulatortest.Server, connStr string, opts *nh.ClientOptions) *nh.Client {
	t.Helper()
	var o nh.ClientOptions
	if opts != nil {
		o = *opts
	}
	if o.Transport == nil {
		o.Transport = srv.Client
	}
	c, err := nh.NewClientFromConnectionString(connStr, contractHub, &o)
	if err != nil {
		t.Fatalf("NewClientFromConnectionString: %v", err)
	}
	return c
}

func contractCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// handlesOf returns the sorted, upper-cased handles of deliveries with
// the outcome Success.
func handlesOf(ds []emulator.Delivery) []string {
	var out []string
	for _, d := range ds {
		if d.Outcome == "Success" {
			out = append(out, strings.ToUpper(d.Handle))
		}
	}
	sort.Strings(out)
	return out
}

func upper(s ...string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strings.ToUpper(v)
	}
	sort.Strings(out)
	return out
}

// delivered returns the deliveries of one notification id, failing the
// test when the id is empty (the emulator is Standard tier: a send must
// return a Location).
func delivered(t *testing.T, srv *emulatortest.Server, nid string) []emulator.Delivery {
	t.Helper()
	if nid == "" {
		t.Fatal("send returned no notification id")
	}
	return srv.Deliveries(emulator.DeliveryFilter{Hub: contractHub, NotificationID: nid})
}

func mustCreate(t *testing.T, ctx context.Context, c *nh.Client, r nh.Registration) nh.Registration {
	t.Helper()
	got, err := c.CreateRegistration(ctx, r, nil)
	if err != nil {
		t.Fatalf("CreateRegistration(%s %s): %v", r.Platform, r.Handle(), err)
	}
	return got.Registration
}

func mustPutInstallation(t *testing.T, ctx context.Context, c *nh.Client, in nh.Installation) {
	t.Helper()
	if _, err := c.CreateOrUpdateInstallation(ctx, in, &nh.CreateOrUpdateInstallationOptions{WaitUntilVisible: true, PollInterval: 10 * time.Millisecond}); err != nil {
		t.Fatalf("CreateOrUpdateInstallation(%s): %v", in.InstallationID, err)
	}
}

// ---- platforms

// platformCase is one push service: a native registration and a template
// registration of it, how to send natively to it, and an installation.
type platformCase struct {
	name     string
	format   nh.Format
	platform string // the emulator's delivery platform
	handle   string
	// instHandle is the installation's handle, another device.
	instHandle string
	native     func(tags ...string) nh.Registration
	template   func(body string, tags ...string) nh.Registration
	tmplBody   string // template body reading $(msg)
	tmplHdr    map[string]string
	// payload returns a native payload carrying marker.
	payload func(marker string) []byte
	send    func(c *nh.Client, ctx context.Context, payload []byte, o *nh.SendNotificationOptions) (nh.SendNotificationResponse, error)
	inst    nh.InstallationPlatform
}

const (
	appleToken   = "62BCD3484834B7E2DC56733AC5509259230CC1BA82BA1AE7D06E91908A05A8FA"
	appleToken2  = "7603CF2F0786A1B2C3D4E5F60718293A4B5C6D7E8F9011223344556677889900"
	wnsChannel   = "https://db5.notify.windows.com/?token=AwYAAAB%2bWnsChannel"
	mpnsChannel  = "http://s.notify.live.net/u/1/db5/H2QAAAAMpnsChannel"
	browserEP    = "https://push.example.invalid/send/browser-endpoint-1"
	browserP256  = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
	browserAuth  = "tBHItJI5svbpez7KI4CCXg"
	baiduUser    = "baidu-user-1"
	baiduChannel = "baidu-channel-1"
)

func platformCases() []platformCase {
	jsonPayload := func(f string) func(string) []byte {
		return func(m string) []byte { return []byte(fmt.Sprintf(f, m)) }
	}
	return []platformCase{{
		name: "apple", format: nh.FormatApple, platform: "apple", handle: appleToken, instHandle: appleToken2,
		native: func(tags ...string) nh.Registration { return nh.NewAppleRegistration(appleToken, tags...) },
		template: func(b string, tags ...string) nh.Registration {
			return nh.NewAppleTemplateRegistration(appleToken, b, tags...)
		},
		tmplBody: `{"aps":{"alert":"$(msg)"}}`,
		payload:  jsonPayload(`{"aps":{"alert":"%s"}}`),
		send:     (*nh.Client).SendAppleNotification,
		inst:     nh.InstallationPlatformApns,
	}, {
		name: "fcmv1", format: nh.FormatFcmV1, platform: "fcmv1", handle: "fcmv1-token-1", instHandle: "fcmv1-token-2",
		native: func(tags ...string) nh.Registration { return nh.NewFcmV1Registration("fcmv1-token-1", tags...) },
		template: func(b string, tags ...string) nh.Registration {
			return nh.NewFcmV1TemplateRegistration("fcmv1-token-1", b, tags...)
		},
		tmplBody: `{"message":{"notification":{"title":"$(msg)"}}}`,
		payload:  jsonPayload(`{"message":{"notification":{"title":"%s"},"data":{"k":"v"}}}`),
		send:     (*nh.Client).SendFcmV1Notification,
		inst:     nh.InstallationPlatformFcmV1,
	}, {
		name: "gcm", format: nh.FormatGcm, platform: "gcm", handle: "gcm-token-1", instHandle: "gcm-token-2",
		native: func(tags ...string) nh.Registration { return nh.NewGcmRegistration("gcm-token-1", tags...) },
		template: func(b string, tags ...string) nh.Registration {
			return nh.NewGcmTemplateRegistration("gcm-token-1", b, tags...)
		},
		tmplBody: `{"data":{"msg":"$(msg)"}}`,
		payload:  jsonPayload(`{"data":{"msg":"%s"}}`),
		send:     (*nh.Client).SendGcmNotification,
		inst:     nh.InstallationPlatformGcm,
	}, {
		name: "windows", format: nh.FormatWindows, platform: "windows", handle: wnsChannel, instHandle: wnsChannel + "-2",
		native: func(tags ...string) nh.Registration { return nh.NewWindowsRegistration(wnsChannel, tags...) },
		template: func(b string, tags ...string) nh.Registration {
			return nh.NewWindowsTemplateRegistration(wnsChannel, b, tags...)
		},
		tmplBody: `<toast><visual><binding template="ToastText01"><text id="1">$(msg)</text></binding></visual></toast>`,
		tmplHdr:  map[string]string{"X-WNS-Type": "wns/toast"},
		payload:  jsonPayload(`<toast><visual><binding template="ToastText01"><text id="1">%s</text></binding></visual></toast>`),
		send:     (*nh.Client).SendWindowsNotification,
		inst:     nh.InstallationPlatformWns,
	}, {
		name: "mpns", format: nh.FormatMpns, platform: "windowsphone", handle: mpnsChannel, instHandle: mpnsChannel + "-2",
		native: func(tags ...string) nh.Registration { return nh.NewMpnsRegistration(mpnsChannel, tags...) },
		template: func(b string, tags ...string) nh.Registration {
			return nh.NewMpnsTemplateRegistration(mpnsChannel, b, tags...)
		},
		tmplBody: `<wp:Notification xmlns:wp="WPNotification"><wp:Toast><wp:Text1>$(msg)</wp:Text1></wp:Toast></wp:Notification>`,
		tmplHdr:  map[string]string{"X-WindowsPhone-Target": "toast", "X-NotificationClass": "2"},
		payload:  jsonPayload(`<?xml version="1.0" encoding="utf-8"?><wp:Notification xmlns:wp="WPNotification"><wp:Toast><wp:Text1>%s</wp:Text1></wp:Toast></wp:Notification>`),
		send:     (*nh.Client).SendMpnsNotification,
		inst:     nh.InstallationPlatformMpns,
	}, {
		name: "adm", format: nh.FormatAdm, platform: "adm", handle: "adm-id-1", instHandle: "adm-id-2",
		native: func(tags ...string) nh.Registration { return nh.NewAdmRegistration("adm-id-1", tags...) },
		template: func(b string, tags ...string) nh.Registration {
			return nh.NewAdmTemplateRegistration("adm-id-1", b, tags...)
		},
		tmplBody: `{"data":{"msg":"$(msg)"}}`,
		payload:  jsonPayload(`{"data":{"msg":"%s"}}`),
		send:     (*nh.Client).SendAdmNotification,
		inst:     nh.InstallationPlatformAdm,
	}, {
		name: "baidu", format: nh.FormatBaidu, platform: "baidu", handle: baiduUser + "-" + baiduChannel, instHandle: "baidu-user-2-baidu-channel-2",
		native: func(tags ...string) nh.Registration { return nh.NewBaiduRegistration(baiduUser, baiduChannel, tags...) },
		template: func(b string, tags ...string) nh.Registration {
			return nh.NewBaiduTemplateRegistration(baiduUser, baiduChannel, b, tags...)
		},
		tmplBody: `{"title":"Hello","description":"$(msg)"}`,
		payload:  jsonPayload(`{"title":"Hello","description":"%s"}`),
		send:     (*nh.Client).SendBaiduNotification,
		inst:     nh.InstallationPlatformBaidu,
	}, {
		name: "xiaomi", format: nh.FormatXiaomi, platform: "xiaomi", handle: "xiaomi-id-1", instHandle: "xiaomi-id-2",
		native: func(tags ...string) nh.Registration { return nh.NewXiaomiRegistration("xiaomi-id-1", tags...) },
		template: func(b string, tags ...string) nh.Registration {
			return nh.NewXiaomiTemplateRegistration("xiaomi-id-1", b, tags...)
		},
		tmplBody: `{"title":"Hello","description":"$(msg)"}`,
		payload:  jsonPayload(`{"title":"Hello","description":"%s"}`),
		send:     (*nh.Client).SendXiaomiNotification,
		inst:     nh.InstallationPlatformXiaomi,
	}, {
		name: "browser", format: nh.FormatBrowser, platform: "browser", handle: browserEP, instHandle: browserEP + "-2",
		native: func(tags ...string) nh.Registration {
			return nh.NewBrowserRegistration(browserEP, browserP256, browserAuth, tags...)
		},
		template: func(b string, tags ...string) nh.Registration {
			return nh.NewBrowserTemplateRegistration(browserEP, browserP256, browserAuth, b, tags...)
		},
		tmplBody: `{"title":"Hello","body":"$(msg)"}`,
		payload:  jsonPayload(`{"title":"Hello","body":"%s"}`),
		send:     (*nh.Client).SendBrowserNotification,
		inst:     nh.InstallationPlatformBrowser,
	}}
}

// installationFor returns an installation of pc's platform with one
// template named "greeting".
func (pc platformCase) installationFor(id string, tags ...string) nh.Installation {
	in := nh.Installation{
		InstallationID: id,
		Platform:       pc.inst,
		PushChannel:    pc.instHandle,
		Tags:           tags,
		Templates: map[string]nh.InstallationTemplate{
			"greeting": {Body: pc.tmplBody, Headers: pc.tmplHdr},
		},
	}
	if pc.inst == nh.InstallationPlatformBrowser {
		in.PushChannel = ""
		in.BrowserPushChannel = &nh.BrowserPushChannel{Endpoint: pc.instHandle, P256DH: browserP256, Auth: browserAuth}
	}
	return in
}

// ---- sends

// TestContractSendEveryFormat registers, on every platform, a native
// registration, a template registration and an installation with a
// template, then sends natively with each per-platform helper and once as
// a template: a native send reaches the native registration and the
// installation of its platform only; the template send reaches every
// template, rendered.
func TestContractSendEveryFormat(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	cases := platformCases()
	regIDs := map[string]map[string]bool{} // platform → native registration ids
	tmplIDs := map[string]bool{}
	for _, pc := range cases {
		n := mustCreate(t, ctx, c, pc.native("everyone"))
		regIDs[pc.platform] = map[string]bool{n.RegistrationID: true}
		tm := pc.template(pc.tmplBody, "everyone")
		if pc.tmplHdr != nil {
			tm.Template.Headers = pc.tmplHdr
		}
		tmplIDs[mustCreate(t, ctx, c, tm).RegistrationID] = true
		mustPutInstallation(t, ctx, c, pc.installationFor("inst-"+pc.name, "everyone"))
	}

	for _, pc := range cases {
		t.Run("native/"+pc.name, func(t *testing.T) {
			marker := "native-" + pc.name
			resp, err := pc.send(c, ctx, pc.payload(marker), nil)
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			if resp.State != nh.NotificationOutcomeStateEnqueued {
				t.Errorf("State = %q, want %q", resp.State, nh.NotificationOutcomeStateEnqueued)
			}
			if resp.TrackingID == "" || resp.CorrelationID == "" {
				t.Errorf("TrackingID %q, CorrelationID %q: want both", resp.TrackingID, resp.CorrelationID)
			}
			ds := delivered(t, srv, resp.NotificationID)
			if len(ds) != 2 {
				t.Fatalf("got %d deliveries, want 2 (native registration and installation): %+v", len(ds), ds)
			}
			var fromInst, fromReg int
			for _, d := range ds {
				if d.Platform != pc.platform || d.Format != string(pc.format) || d.Outcome != "Success" {
					t.Errorf("delivery platform %q format %q outcome %q, want %q %q Success", d.Platform, d.Format, d.Outcome, pc.platform, pc.format)
				}
				if !strings.Contains(d.Payload, marker) {
					t.Errorf("delivery payload %q does not carry %q", d.Payload, marker)
				}
				switch {
				case d.InstallationID == "inst-"+pc.name && strings.EqualFold(d.Handle, pc.instHandle):
					fromInst++
				case regIDs[pc.platform][d.RegistrationID] && strings.EqualFold(d.Handle, pc.handle):
					fromReg++
				default:
					t.Errorf("delivery to registration %q installation %q: not a native %s target", d.RegistrationID, d.InstallationID, pc.name)
				}
			}
			if fromInst != 1 || fromReg != 1 {
				t.Errorf("deliveries: %d from the installation, %d from the registration; want 1 and 1", fromInst, fromReg)
			}
		})
	}

	t.Run("native/headers", func(t *testing.T) {
		n := nh.NewAppleNotification([]byte(`{"aps":{"alert":"with headers"}}`), &nh.AppleOptions{PushType: "alert", Priority: 5, Topic: "com.example.app", CollapseID: "c1", Expiration: time.Unix(1900000000, 0)})
		resp, err := c.SendNotification(ctx, n, &nh.SendNotificationOptions{TagExpression: "$InstallationId:{inst-apple}"})
		if err != nil {
			t.Fatal(err)
		}
		ds := delivered(t, srv, resp.NotificationID)
		if len(ds) != 1 {
			t.Fatalf("got %d deliveries, want 1", len(ds))
		}
		for k, want := range map[string]string{"apns-push-type": "alert", "apns-priority": "5", "apns-topic": "com.example.app", "apns-collapse-id": "c1", "apns-expiration": "1900000000"} {
			if got := ds[0].Headers[k]; got != want {
				t.Errorf("APNs header %s = %q, want %q (all: %v)", k, got, want, ds[0].Headers)
			}
		}
		tile := nh.NewWindowsNotification([]byte(`<tile><visual/></tile>`), &nh.WindowsOptions{Headers: map[string]string{"X-WNS-Tag": "t1", "X-WNS-TTL": "60"}})
		resp, err = c.SendNotification(ctx, tile, &nh.SendNotificationOptions{TagExpression: "$InstallationId:{inst-windows}"})
		if err != nil {
			t.Fatal(err)
		}
		ds = delivered(t, srv, resp.NotificationID)
		if len(ds) != 1 || ds[0].Headers["X-WNS-Type"] != "wns/tile" || ds[0].Headers["X-WNS-Tag"] != "t1" || ds[0].Headers["X-WNS-TTL"] != "60" {
			t.Errorf("WNS tile deliveries = %+v; want X-WNS-Type wns/tile with X-WNS-Tag and X-WNS-TTL passed through", ds)
		}
		raw := nh.NewWindowsRawNotification([]byte("raw bytes"))
		resp, err = c.SendNotification(ctx, raw, &nh.SendNotificationOptions{Tags: []string{"$InstallationId:{inst-windows}"}})
		if err != nil {
			t.Fatal(err)
		}
		ds = delivered(t, srv, resp.NotificationID)
		if len(ds) != 1 || ds[0].Payload != "raw bytes" || ds[0].Headers["X-WNS-Type"] != "wns/raw" {
			t.Fatalf("raw WNS deliveries = %+v, want one with payload %q and X-WNS-Type wns/raw", ds, "raw bytes")
		}
	})

	t.Run("template", func(t *testing.T) {
		resp, err := c.SendTemplateNotification(ctx, map[string]string{"msg": "rendered-42"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ds := delivered(t, srv, resp.NotificationID)
		var gotReg, gotInst []string
		for _, d := range ds {
			if d.Format != "template" || d.Outcome != "Success" {
				t.Errorf("delivery %s/%s: format %q outcome %q, want template Success", d.Platform, d.Handle, d.Format, d.Outcome)
			}
			if !strings.Contains(d.Payload, "rendered-42") || strings.Contains(d.Payload, "$(msg)") {
				t.Errorf("delivery %s payload %q is not the rendered template", d.Platform, d.Payload)
			}
			if d.InstallationID != "" {
				gotInst = append(gotInst, d.Platform)
			} else {
				if !tmplIDs[d.RegistrationID] {
					t.Errorf("template send reached registration %q, which is not a template registration", d.RegistrationID)
				}
				gotReg = append(gotReg, d.Platform)
			}
			switch d.Platform {
			case "apple":
				if d.Payload != `{"aps":{"alert":"rendered-42"}}` {
					t.Errorf("apple payload = %s", d.Payload)
				}
			case "windows":
				if d.Headers["X-WNS-Type"] != "wns/toast" {
					t.Errorf("windows template delivery headers %v, want X-WNS-Type wns/toast", d.Headers)
				}
			}
		}
		var want []string
		for _, pc := range cases {
			want = append(want, pc.platform)
		}
		sort.Strings(want)
		sort.Strings(gotReg)
		sort.Strings(gotInst)
		if d := cmp.Diff(want, gotReg); d != "" {
			t.Errorf("template registrations reached (-want +got):\n%s", d)
		}
		if d := cmp.Diff(want, gotInst); d != "" {
			t.Errorf("installation templates reached (-want +got):\n%s", d)
		}
	})

	t.Run("template/by-name", func(t *testing.T) {
		// An installation template's name acts as a tag.
		resp, err := c.SendTemplateNotification(ctx, map[string]string{"msg": "by-name"}, &nh.SendNotificationOptions{Tags: []string{"greeting"}})
		if err != nil {
			t.Fatal(err)
		}
		ds := delivered(t, srv, resp.NotificationID)
		if len(ds) != len(cases) {
			t.Fatalf("got %d deliveries, want %d (one per installation template)", len(ds), len(cases))
		}
		for _, d := range ds {
			if d.InstallationID == "" {
				t.Errorf("delivery to registration %q: want only installation templates", d.RegistrationID)
			}
		}
	})
}

// TestContractAudience checks broadcast, one tag, a set of tags, tag
// expressions and the system tags $InstallationId:{…} and $UserId:{…}.
func TestContractAudience(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	tok := func(i int) string { return fmt.Sprintf("%064X", i) }
	mustCreate(t, ctx, c, nh.NewAppleRegistration(tok(1), "sports"))
	mustCreate(t, ctx, c, nh.NewAppleRegistration(tok(2), "news"))
	mustCreate(t, ctx, c, nh.NewAppleRegistration(tok(3), "sports", "news"))
	mustCreate(t, ctx, c, nh.NewAppleRegistration(tok(4), "music", "lang:de"))
	mustCreate(t, ctx, c, nh.NewFcmV1Registration("fcm-sports", "sports")) // another format: never reached
	mustPutInstallation(t, ctx, c, nh.Installation{
		InstallationID: "inst-1", UserID: "alice@example.com", Platform: nh.InstallationPlatformApns,
		PushChannel: tok(5), Tags: []string{"sports"},
	})
	mustPutInstallation(t, ctx, c, nh.Installation{
		InstallationID: "inst-2", UserID: "bob", Platform: nh.InstallationPlatformApns,
		PushChannel: tok(6),
	})

	tests := []struct {
		name string
		opts *nh.SendNotificationOptions
		want []string
	}{
		{"broadcast", nil, upper(tok(1), tok(2), tok(3), tok(4), tok(5), tok(6))},
		{"tag", &nh.SendNotificationOptions{Tags: []string{"sports"}}, upper(tok(1), tok(3), tok(5))},
		{"tag with colon", &nh.SendNotificationOptions{Tags: []string{"lang:de"}}, upper(tok(4))},
		{"tag set", &nh.SendNotificationOptions{Tags: []string{"news", "music"}}, upper(tok(2), tok(3), tok(4))},
		{"expression and-not", &nh.SendNotificationOptions{TagExpression: "sports && !news"}, upper(tok(1), tok(5))},
		{"expression parenthesised", &nh.SendNotificationOptions{TagExpression: "(sports || music) && !lang:de"}, upper(tok(1), tok(3), tok(5))},
		{"installation id", &nh.SendNotificationOptions{TagExpression: "$InstallationId:{inst-1}"}, upper(tok(5))},
		{"installation id in a set", &nh.SendNotificationOptions{Tags: []string{"$InstallationId:{inst-1}", "$InstallationId:{inst-2}"}}, upper(tok(5), tok(6))},
		{"user id", &nh.SendNotificationOptions{TagExpression: "$UserId:{alice@example.com}"}, upper(tok(5))},
		{"user id and tag", &nh.SendNotificationOptions{TagExpression: "$UserId:{bob} || news"}, upper(tok(2), tok(3), tok(6))},
		{"unused tag", &nh.SendNotificationOptions{Tags: []string{"nobody"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.SendAppleNotification(ctx, []byte(`{"aps":{"alert":"`+tt.name+`"}}`), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := handlesOf(delivered(t, srv, resp.NotificationID))
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("devices reached (-want +got):\n%s", d)
			}
		})
	}

	t.Run("invalid expression is refused before the request", func(t *testing.T) {
		before := len(srv.Sends(contractHub))
		_, err := c.SendAppleNotification(ctx, []byte(`{"aps":{"alert":"x"}}`), &nh.SendNotificationOptions{TagExpression: "sports && (news ||"})
		if err == nil {
			t.Fatal("no error for an invalid tag expression")
		}
		var re *nh.ResponseError
		if errors.As(err, &re) {
			t.Fatalf("error came from the service (%v); want a client-side error", err)
		}
		if after := len(srv.Sends(contractHub)); after != before {
			t.Errorf("emulator recorded %d new sends, want 0", after-before)
		}
	})
}

// TestContractDirect sends to device handles without registrations.
func TestContractDirect(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	// A registration with the same handle must not matter to a direct send.
	mustCreate(t, ctx, c, nh.NewFcmV1Registration("direct-fcm-1", "x"))

	for _, pc := range platformCases() {
		t.Run(pc.name, func(t *testing.T) {
			n := nh.Notification{}
			switch pc.format {
			case nh.FormatApple:
				n = nh.NewAppleNotification(pc.payload("direct"), nil)
			case nh.FormatWindows:
				n = nh.NewWindowsNotification(pc.payload("direct"), nil)
			case nh.FormatMpns:
				n = nh.NewMpnsNotification(pc.payload("direct"), nil)
			default:
				n = nh.Notification{Format: pc.format, Body: pc.payload("direct"), ContentType: "application/json;charset=utf-8"}
			}
			var o *nh.SendDirectNotificationOptions
			if pc.format == nh.FormatBrowser {
				o = &nh.SendDirectNotificationOptions{P256DH: browserP256, Auth: browserAuth}
			}
			resp, err := c.SendDirectNotification(ctx, n, pc.handle, o)
			if err != nil {
				t.Fatal(err)
			}
			ds := delivered(t, srv, resp.NotificationID)
			if len(ds) != 1 {
				t.Fatalf("got %d deliveries, want 1", len(ds))
			}
			d := ds[0]
			if !d.Direct || d.Handle != pc.handle || d.Platform != pc.platform || d.RegistrationID != "" || !strings.Contains(d.Payload, "direct") {
				t.Errorf("delivery = %+v; want a direct %s delivery to %q", d, pc.platform, pc.handle)
			}
			if pc.format == nh.FormatBrowser && (d.Headers["P256DH"] != browserP256 || d.Headers["Auth"] != browserAuth) {
				t.Errorf("browser delivery headers %v lack the subscription keys", d.Headers)
			}
		})
	}

	t.Run("batch", func(t *testing.T) {
		handles := []string{"direct-fcm-1", "direct-fcm-2", "direct-fcm-3"}
		resp, err := c.SendDirectBatchNotification(ctx, nh.NewFcmV1Notification([]byte(`{"message":{"data":{"k":"batch"}}}`)), handles, nil)
		if err != nil {
			t.Fatal(err)
		}
		ds := delivered(t, srv, resp.NotificationID)
		if d := cmp.Diff(upper(handles...), handlesOf(ds)); d != "" {
			t.Errorf("batch reached (-want +got):\n%s", d)
		}
		for _, d := range ds {
			if !d.Direct || d.Platform != "fcmv1" || !strings.Contains(d.Payload, `"batch"`) {
				t.Errorf("batch delivery %+v", d)
			}
		}
	})

	t.Run("batch windows", func(t *testing.T) {
		handles := []string{wnsChannel, wnsChannel + "2"}
		resp, err := c.SendDirectBatchNotification(ctx, nh.NewWindowsNotification([]byte(`<badge value="3"/>`), nil), handles, nil)
		if err != nil {
			t.Fatal(err)
		}
		ds := delivered(t, srv, resp.NotificationID)
		if d := cmp.Diff(upper(handles...), handlesOf(ds)); d != "" {
			t.Errorf("batch reached (-want +got):\n%s", d)
		}
		for _, d := range ds {
			if d.Headers["X-WNS-Type"] != "wns/badge" {
				t.Errorf("batch delivery headers %v, want X-WNS-Type wns/badge", d.Headers)
			}
		}
	})
}

// TestContractScheduled schedules a notification that fires and one that
// is cancelled.
func TestContractScheduled(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	mustCreate(t, ctx, c, nh.NewFcmV1Registration("sched-1", "later"))
	mustCreate(t, ctx, c, nh.NewFcmV1Registration("sched-2", "other"))

	pending := func() int {
		for _, h := range srv.Hubs() {
			if strings.EqualFold(h.Name, contractHub) {
				return h.ScheduledPending
			}
		}
		return 0
	}

	t.Run("cancel", func(t *testing.T) {
		s, err := c.ScheduleNotification(ctx, nh.NewFcmV1Notification([]byte(`{"message":{"data":{"k":"cancelled"}}}`)), time.Now().Add(time.Hour), &nh.ScheduleNotificationOptions{Tags: []string{"later"}})
		if err != nil {
			t.Fatal(err)
		}
		if s.ScheduledNotificationID == "" || s.TrackingID == "" {
			t.Fatalf("response %+v: want an id and a tracking id", s)
		}
		if got := pending(); got != 1 {
			t.Fatalf("emulator has %d scheduled notifications pending, want 1", got)
		}
		if _, err := c.CancelScheduledNotification(ctx, s.ScheduledNotificationID, nil); err != nil {
			t.Fatal(err)
		}
		if got := pending(); got != 0 {
			t.Errorf("after cancel, %d pending, want 0", got)
		}
		_, err = c.CancelScheduledNotification(ctx, s.ScheduledNotificationID, nil)
		if !errors.Is(err, nh.ErrNotFound) {
			t.Errorf("second cancel: err = %v, want ErrNotFound (rest-api.md §3.5)", err)
		}
	})

	t.Run("fires", func(t *testing.T) {
		at := time.Now().Add(1500 * time.Millisecond)
		s, err := c.ScheduleNotification(ctx, nh.NewFcmV1Notification([]byte(`{"message":{"data":{"k":"scheduled"}}}`)), at, &nh.ScheduleNotificationOptions{TagExpression: "later && !other"})
		if err != nil {
			t.Fatal(err)
		}
		var ds []emulator.Delivery
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) {
			ds = nil
			for _, d := range srv.Deliveries(emulator.DeliveryFilter{Hub: contractHub}) {
				if strings.Contains(d.Payload, `"scheduled"`) {
					ds = append(ds, d)
				}
			}
			if len(ds) > 0 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if d := cmp.Diff(upper("sched-1"), handlesOf(ds)); d != "" {
			t.Fatalf("scheduled notification %s reached (-want +got):\n%s", s.ScheduledNotificationID, d)
		}
		if ds[0].Time.Before(at.Add(-time.Second)) {
			t.Errorf("delivered at %v, before its time %v", ds[0].Time, at)
		}
		if got := pending(); got != 0 {
			t.Errorf("after firing, %d pending, want 0", got)
		}
	})
}

// TestContractTestSend checks the outcome of test ("debug") sends.
func TestContractTestSend(t *testing.T) {
	srv, c := newContract(t, &nh.ClientOptions{EnableTestSend: true})
	ctx := contractCtx(t)
	ids := map[string]string{}
	for i := range 3 {
		h := fmt.Sprintf("test-send-%d", i)
		ids[mustCreate(t, ctx, c, nh.NewFcmV1Registration(h, "beta")).RegistrationID] = h
	}

	t.Run("outcome", func(t *testing.T) {
		resp, err := c.SendFcmV1Notification(ctx, []byte(`{"message":{"data":{"k":"test"}}}`), &nh.SendNotificationOptions{Tags: []string{"beta"}})
		if err != nil {
			t.Fatal(err)
		}
		if resp.State != nh.NotificationOutcomeStateDetailedStateAvailable || resp.Success != 3 || resp.Failure != 0 || len(resp.Results) != 3 {
			t.Fatalf("outcome = %+v; want DetailedStateAvailable, 3 successes, 3 results", resp.NotificationOutcome)
		}
		for _, r := range resp.Results {
			if ids[r.RegistrationID] != r.PnsHandle || r.ApplicationPlatform != "fcmv1" || r.Outcome == "" {
				t.Errorf("result %+v does not match a registration of the hub", r)
			}
		}
		for _, d := range srv.Deliveries(emulator.DeliveryFilter{Hub: contractHub, NotificationID: resp.NotificationID}) {
			if !d.Test {
				t.Errorf("delivery %+v is not marked as a test send", d)
			}
		}
	})

	t.Run("no targets", func(t *testing.T) {
		resp, err := c.SendFcmV1Notification(ctx, []byte(`{"message":{"data":{"k":"test"}}}`), &nh.SendNotificationOptions{Tags: []string{"nobody"}})
		if err != nil {
			t.Fatal(err)
		}
		want := nh.NotificationOutcome{State: nh.NotificationOutcomeStateDetailedStateAvailable}
		if d := cmp.Diff(want, resp.NotificationOutcome); d != "" {
			t.Errorf("no-target outcome (-want +got):\n%s", d)
		}
	})

	t.Run("per send override", func(t *testing.T) {
		off := false
		resp, err := c.SendFcmV1Notification(ctx, []byte(`{"message":{"data":{"k":"real"}}}`), &nh.SendNotificationOptions{Tags: []string{"beta"}, EnableTestSend: &off})
		if err != nil {
			t.Fatal(err)
		}
		if resp.State != nh.NotificationOutcomeStateEnqueued || resp.Results != nil {
			t.Errorf("outcome = %+v, want Enqueued without results", resp.NotificationOutcome)
		}
		for _, d := range srv.Deliveries(emulator.DeliveryFilter{Hub: contractHub, NotificationID: resp.NotificationID}) {
			if d.Test {
				t.Errorf("delivery %+v is marked as a test send", d)
			}
		}
	})

	t.Run("at most 10 results", func(t *testing.T) {
		for i := range 12 {
			mustCreate(t, ctx, c, nh.NewGcmRegistration(fmt.Sprintf("many-%02d", i), "many"))
		}
		resp, err := c.SendGcmNotification(ctx, []byte(`{"data":{"k":"many"}}`), &nh.SendNotificationOptions{Tags: []string{"many"}})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Success != 10 || len(resp.Results) != 10 {
			t.Errorf("Success %d, %d results; want 10 and 10 (rest-api.md §3.2)", resp.Success, len(resp.Results))
		}
	})
}

// ---- registrations

// regDiffOpts ignores what the service assigns.
var regDiffOpts = cmp.Options{
	cmpopts.IgnoreFields(nh.Registration{}, "RegistrationID", "ETag", "ExpirationTime"),
	cmpopts.EquateEmpty(),
}

// TestContractRegistrationsEveryPlatform creates, reads, updates and
// deletes a native and a template registration of every platform.
func TestContractRegistrationsEveryPlatform(t *testing.T) {
	_, c := newContract(t, nil)
	ctx := contractCtx(t)
	for _, pc := range platformCases() {
		tmpl := pc.template(pc.tmplBody, "t1")
		tmpl.Template.Name = "tmpl-" + pc.name
		tmpl.PushVariables = map[string]string{"who": "world"}
		if pc.format == nh.FormatApple {
			tmpl.Template.Expiry = "2030-01-01T00:00:00Z"
			tmpl.Template.Priority = "10"
			tmpl.Template.Headers = map[string]string{"apns-push-type": "alert"}
		}
		if pc.format == nh.FormatBaidu {
			tmpl.Template.MessageType = "1"
		}
		for _, kind := range []struct {
			name string
			reg  nh.Registration
		}{{"native", pc.native("a", "b:c")}, {"template", tmpl}} {
			t.Run(pc.name+"/"+kind.name, func(t *testing.T) {
				created, err := c.CreateRegistration(ctx, kind.reg, nil)
				if err != nil {
					t.Fatal(err)
				}
				if created.RegistrationID == "" || created.ETag != "1" || created.ContentLocation == "" {
					t.Errorf("created: id %q ETag %q Content-Location %q; want an id, ETag 1 and a location", created.RegistrationID, created.ETag, created.ContentLocation)
				}
				if created.ExpirationTime.IsZero() {
					t.Errorf("created: no ExpirationTime")
				}
				if d := cmp.Diff(kind.reg, created.Registration, regDiffOpts); d != "" {
					t.Errorf("created registration (-sent +stored):\n%s", d)
				}
				got, err := c.GetRegistration(ctx, created.RegistrationID, nil)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(created.Registration, got.Registration); d != "" {
					t.Errorf("GetRegistration (-created +got):\n%s", d)
				}

				// Update with the current ETag.
				got.Tags = append(got.Tags, "added")
				upd, err := c.UpdateRegistration(ctx, got.Registration, nil)
				if err != nil {
					t.Fatalf("UpdateRegistration: %v", err)
				}
				if upd.ETag != "2" || !slices.Contains(upd.Tags, "added") {
					t.Errorf("updated: ETag %q tags %v; want 2 and the added tag", upd.ETag, upd.Tags)
				}
				// The old ETag is stale now.
				_, err = c.UpdateRegistration(ctx, got.Registration, nil)
				if !errors.Is(err, nh.ErrPreconditionFailed) {
					t.Errorf("update with stale ETag: err = %v, want ErrPreconditionFailed", err)
				}
				stale := got.ETag
				_, err = c.DeleteRegistration(ctx, got.RegistrationID, &nh.DeleteRegistrationOptions{ETag: &stale})
				if !errors.Is(err, nh.ErrPreconditionFailed) {
					t.Errorf("delete with stale ETag: err = %v, want ErrPreconditionFailed", err)
				}

				ex, err := c.RegistrationExists(ctx, created.RegistrationID, nil)
				if err != nil || !ex.Exists {
					t.Errorf("RegistrationExists = %v, %v; want true", ex.Exists, err)
				}
				cur := upd.ETag
				if _, err := c.DeleteRegistration(ctx, created.RegistrationID, &nh.DeleteRegistrationOptions{ETag: &cur}); err != nil {
					t.Fatalf("DeleteRegistration: %v", err)
				}
				ex, err = c.RegistrationExists(ctx, created.RegistrationID, nil)
				if err != nil || ex.Exists {
					t.Errorf("after delete RegistrationExists = %v, %v; want false", ex.Exists, err)
				}
				if _, err := c.GetRegistration(ctx, created.RegistrationID, nil); !errors.Is(err, nh.ErrNotFound) {
					t.Errorf("GetRegistration after delete: err = %v, want ErrNotFound", err)
				}
				if _, err := c.DeleteRegistration(ctx, created.RegistrationID, nil); !errors.Is(err, nh.ErrNotFound) {
					t.Errorf("DeleteRegistration after delete: err = %v, want ErrNotFound", err)
				}
			})
		}
	}
}

// TestContractRegistrationUpsert reserves an id, upserts under it twice
// and under an id the caller chose.
func TestContractRegistrationUpsert(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	id, err := c.CreateRegistrationID(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id.RegistrationID == "" || !strings.Contains(id.Location, "/registrationids/") {
		t.Fatalf("CreateRegistrationID = %+v", id)
	}
	reg := nh.NewFcmV1Registration("upsert-token", "sports")
	reg.RegistrationID = id.RegistrationID
	first, err := c.CreateOrUpdateRegistration(ctx, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg.Tags = []string{"news"}
	second, err := c.CreateOrUpdateRegistration(ctx, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.RegistrationID != id.RegistrationID || second.RegistrationID != id.RegistrationID {
		t.Errorf("ids %q, %q; want the reserved %q", first.RegistrationID, second.RegistrationID, id.RegistrationID)
	}
	if first.ETag != "1" || second.ETag != "2" {
		t.Errorf("ETags %q, %q; want 1, 2", first.ETag, second.ETag)
	}
	resp, err := c.SendFcmV1Notification(ctx, []byte(`{"message":{"data":{"k":"v"}}}`), &nh.SendNotificationOptions{Tags: []string{"news"}})
	if err != nil {
		t.Fatal(err)
	}
	ds := delivered(t, srv, resp.NotificationID)
	if len(ds) != 1 || ds[0].RegistrationID != id.RegistrationID {
		t.Errorf("send to the upserted tag reached %+v", ds)
	}

	own := nh.NewAppleRegistration(appleToken)
	own.RegistrationID = "my-own-id-1"
	got, err := c.CreateOrUpdateRegistration(ctx, own, nil)
	if err != nil {
		t.Fatalf("upsert with a caller-chosen id: %v", err)
	}
	if got.RegistrationID != "my-own-id-1" {
		t.Errorf("id = %q, want my-own-id-1", got.RegistrationID)
	}

	// UpdateRegistration on a missing registration is a 404.
	missing := nh.NewAppleRegistration(appleToken)
	missing.RegistrationID, missing.ETag = "does-not-exist-1", "1"
	if _, err := c.UpdateRegistration(ctx, missing, nil); !errors.Is(err, nh.ErrNotFound) {
		t.Errorf("UpdateRegistration of a missing registration: err = %v, want ErrNotFound", err)
	}
}

func collect(t *testing.T, ctx context.Context, pager interface {
	More() bool
	NextPage(context.Context) (nh.ListRegistrationsResponse, error)
}) (ids []string, pages int, first *string) {
	t.Helper()
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		pages++
		if pages == 1 {
			first = page.ContinuationToken
		}
		for _, r := range page.Registrations {
			ids = append(ids, r.RegistrationID)
		}
		if pages > 100 {
			t.Fatal("more than 100 pages: the continuation token does not advance")
		}
	}
	sort.Strings(ids)
	return ids, pages, first
}

// TestContractListRegistrations pages through every listing with more
// than three pages, and resumes one from a continuation token.
func TestContractListRegistrations(t *testing.T) {
	_, c := newContract(t, nil)
	ctx := contractCtx(t)
	const handle = "paged-token"
	var all, tagged []string
	for range 10 {
		r := mustCreate(t, ctx, c, nh.NewFcmV1Registration(handle, "paged", "#hash:tag"))
		all = append(all, r.RegistrationID)
		tagged = append(tagged, r.RegistrationID)
	}
	for i := range 3 {
		r := mustCreate(t, ctx, c, nh.NewGcmRegistration(fmt.Sprintf("other-%d", i), "other"))
		all = append(all, r.RegistrationID)
	}
	sort.Strings(all)
	sort.Strings(tagged)

	ids, pages, first := collect(t, ctx, c.NewListRegistrationsPager(&nh.ListRegistrationsOptions{Top: 3}))
	if d := cmp.Diff(all, ids); d != "" {
		t.Errorf("list all (-want +got):\n%s", d)
	}
	if pages != 5 {
		t.Errorf("list all: %d pages of 3 for 13 registrations, want 5", pages)
	}
	if first == nil {
		t.Fatal("first page has no continuation token")
	}
	rest, _, _ := collect(t, ctx, c.NewListRegistrationsPager(&nh.ListRegistrationsOptions{Top: 3, ContinuationToken: first}))
	if len(rest) != len(all)-3 {
		t.Errorf("resumed listing has %d registrations, want %d", len(rest), len(all)-3)
	}

	for _, tag := range []string{"paged", "#hash:tag"} {
		ids, pages, _ = collect(t, ctx, c.NewListRegistrationsByTagPager(tag, &nh.ListRegistrationsByTagOptions{Top: 3}))
		if d := cmp.Diff(tagged, ids); d != "" {
			t.Errorf("list by tag %q (-want +got):\n%s", tag, d)
		}
		if pages != 4 {
			t.Errorf("list by tag %q: %d pages, want 4", tag, pages)
		}
	}
	ids, _, _ = collect(t, ctx, c.NewListRegistrationsByTagPager("unused", nil))
	if len(ids) != 0 {
		t.Errorf("list by an unused tag: %v, want none", ids)
	}

	ids, pages, _ = collect(t, ctx, c.NewListRegistrationsByChannelPager(handle, &nh.ListRegistrationsByChannelOptions{Top: 3}))
	if d := cmp.Diff(tagged, ids); d != "" {
		t.Errorf("list by channel (-want +got):\n%s", d)
	}
	if pages != 4 {
		t.Errorf("list by channel: %d pages, want 4", pages)
	}

	// Every platform's handle is found by channel, APNs tokens in any case.
	for _, pc := range platformCases() {
		r := mustCreate(t, ctx, c, pc.native())
		h := pc.handle
		if pc.format == nh.FormatApple {
			h = strings.ToLower(h)
		}
		ids, _, _ := collect(t, ctx, c.NewListRegistrationsByChannelPager(h, nil))
		if !slices.Contains(ids, r.RegistrationID) {
			t.Errorf("list by channel %q: %v does not contain %s", h, ids, r.RegistrationID)
		}
	}
}

// TestContractDeleteRegistrationsByChannel deletes more registrations of
// one handle than fit in the SDK's pages of 100.
func TestContractDeleteRegistrationsByChannel(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	const handle = "shared-channel"
	var want []string
	for range 230 {
		want = append(want, mustCreate(t, ctx, c, nh.NewGcmRegistration(handle, "x")).RegistrationID)
	}
	keep := mustCreate(t, ctx, c, nh.NewGcmRegistration("another-channel", "x"))
	// The default page size needs several pages too.
	if ids, pages, _ := collect(t, ctx, c.NewListRegistrationsPager(nil)); len(ids) != 231 || pages < 2 {
		t.Errorf("list all without Top: %d registrations in %d pages, want 231 in several", len(ids), pages)
	}
	resp, err := c.DeleteRegistrationsByChannel(ctx, handle, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Clone(resp.Deleted)
	sort.Strings(got)
	sort.Strings(want)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("deleted (-want +got):\n%s", d)
	}
	ids, _, _ := collect(t, ctx, c.NewListRegistrationsPager(nil))
	if d := cmp.Diff([]string{keep.RegistrationID}, ids); d != "" {
		t.Errorf("left in the hub (-want +got):\n%s", d)
	}
	if hs := srv.Hubs(); len(hs) != 1 || hs[0].Registrations != 1 {
		t.Errorf("emulator hubs = %+v, want one registration left", hs)
	}
	// Nothing left to delete is not an error.
	resp, err = c.DeleteRegistrationsByChannel(ctx, handle, nil)
	if err != nil || len(resp.Deleted) != 0 {
		t.Errorf("second DeleteRegistrationsByChannel = %v, %v; want nothing deleted", resp.Deleted, err)
	}
}

// ---- installations

// instDiffOpts ignores the read-only fields and the template name that
// the service adds to each template's tags.
var instDiffOpts = cmp.Options{
	cmpopts.IgnoreFields(nh.Installation{}, "ExpirationTime", "LastActiveOn", "LastUpdate", "PushChannelExpired"),
	cmpopts.EquateEmpty(),
}

// withoutTemplateNameTags returns in with each template's own name
// removed from its tags.
func withoutTemplateNameTags(in nh.Installation) nh.Installation {
	if in.Templates == nil {
		return in
	}
	m := make(map[string]nh.InstallationTemplate, len(in.Templates))
	for name, tp := range in.Templates {
		tp.Tags = slices.DeleteFunc(slices.Clone(tp.Tags), func(s string) bool { return s == name })
		m[name] = tp
	}
	in.Templates = m
	return in
}

// TestContractInstallationsEveryPlatform puts, reads, checks and deletes
// an installation of every platform.
func TestContractInstallationsEveryPlatform(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	for _, pc := range platformCases() {
		t.Run(pc.name, func(t *testing.T) {
			in := pc.installationFor("inst-"+pc.name, "t1", "t2")
			in.UserID = "user-" + pc.name
			in.PushVariables = map[string]string{"who": "world"}
			tp := in.Templates["greeting"]
			tp.Tags = []string{"tmpl-tag"}
			in.Templates["greeting"] = tp
			put, err := c.CreateOrUpdateInstallation(ctx, in, &nh.CreateOrUpdateInstallationOptions{WaitUntilVisible: true, PollInterval: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(put.ContentLocation, "/installations/inst-"+pc.name) {
				t.Errorf("Content-Location = %q", put.ContentLocation)
			}
			got, err := c.GetInstallation(ctx, in.InstallationID, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := in
			if pc.format == nh.FormatApple {
				want.PushChannel = strings.ToUpper(want.PushChannel)
			}
			if d := cmp.Diff(want, withoutTemplateNameTags(got.Installation), instDiffOpts); d != "" {
				t.Errorf("GetInstallation (-put +got):\n%s", d)
			}
			if got.ExpirationTime.IsZero() {
				t.Error("no expirationTime")
			}
			if !slices.Contains(got.Templates["greeting"].Tags, "greeting") {
				t.Errorf("template tags %v: the service adds the template name", got.Templates["greeting"].Tags)
			}
			ex, err := c.InstallationExists(ctx, in.InstallationID, nil)
			if err != nil || !ex.Exists {
				t.Errorf("InstallationExists = %v, %v; want true", ex.Exists, err)
			}

			// The installation shows up as registrations tagged $InstallationId:{…}.
			ids, _, _ := collect(t, ctx, c.NewListRegistrationsByTagPager("$InstallationId:{"+in.InstallationID+"}", nil))
			if len(ids) != 2 {
				t.Errorf("registrations derived from the installation: %v, want native and template", ids)
			}

			if _, err := c.DeleteInstallation(ctx, in.InstallationID, &nh.DeleteInstallationOptions{WaitUntilVisible: true, PollInterval: 10 * time.Millisecond}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetInstallation(ctx, in.InstallationID, nil); !errors.Is(err, nh.ErrNotFound) {
				t.Errorf("GetInstallation after delete: err = %v, want ErrNotFound", err)
			}
			ex, err = c.InstallationExists(ctx, in.InstallationID, nil)
			if err != nil || ex.Exists {
				t.Errorf("InstallationExists after delete = %v, %v; want false", ex.Exists, err)
			}
			// Deleting again is a success (204 whether or not it exists).
			if _, err := c.DeleteInstallation(ctx, in.InstallationID, nil); err != nil {
				t.Errorf("second DeleteInstallation: %v", err)
			}
		})
	}
	for _, h := range srv.Hubs() {
		if h.Installations != 0 || h.Registrations != 0 {
			t.Errorf("emulator hub %s still has %d installations, %d registrations", h.Name, h.Installations, h.Registrations)
		}
	}
}

// TestContractPatchInstallation applies every typed patch operation and
// checks the installation after each.
func TestContractPatchInstallation(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	base := nh.Installation{
		InstallationID: "patch-me",
		Platform:       nh.InstallationPlatformFcmV1,
		PushChannel:    "patch-token-1",
		Tags:           []string{"t1"},
	}
	mustPutInstallation(t, ctx, c, base)
	tmplA := nh.InstallationTemplate{Body: `{"message":{"data":{"a":"$(a)"}}}`}
	tmplB := nh.InstallationTemplate{Body: `{"message":{"data":{"b":"$(b)"}}}`, Tags: []string{"bt"}}

	steps := []struct {
		name  string
		patch []nh.InstallationPatch
		check func(in *nh.Installation) // the expected state, from the previous
	}{
		{"AddTag", []nh.InstallationPatch{nh.AddTag("t2")}, func(in *nh.Installation) { in.Tags = append(in.Tags, "t2") }},
		{"AddTag existing", []nh.InstallationPatch{nh.AddTag("t2")}, func(in *nh.Installation) {}},
		{"AddTags", []nh.InstallationPatch{nh.AddTags("t3", "t4")}, func(in *nh.Installation) { in.Tags = append(in.Tags, "t3", "t4") }},
		{"RemoveTag", []nh.InstallationPatch{nh.RemoveTag("t1")}, func(in *nh.Installation) { in.Tags = []string{"t2", "t3", "t4"} }},
		{"ReplaceTags", []nh.InstallationPatch{nh.ReplaceTags("x", "y")}, func(in *nh.Installation) { in.Tags = []string{"x", "y"} }},
		{"AddUserID", []nh.InstallationPatch{nh.AddUserID("alice")}, func(in *nh.Installation) { in.UserID = "alice" }},
		{"ReplaceUserID", []nh.InstallationPatch{nh.ReplaceUserID("bob")}, func(in *nh.Installation) { in.UserID = "bob" }},
		{"RemoveUserID", []nh.InstallationPatch{nh.RemoveUserID()}, func(in *nh.Installation) { in.UserID = "" }},
		{"ReplacePushChannel", []nh.InstallationPatch{nh.ReplacePushChannel("patch-token-2")}, func(in *nh.Installation) { in.PushChannel = "patch-token-2" }},
		{"AddTemplate", []nh.InstallationPatch{nh.AddTemplate("a", tmplA), nh.AddTemplate("b", tmplB)}, func(in *nh.Installation) {
			in.Templates = map[string]nh.InstallationTemplate{"a": tmplA, "b": tmplB}
		}},
		{"ReplaceTemplate", []nh.InstallationPatch{nh.ReplaceTemplate("a", tmplB)}, func(in *nh.Installation) { in.Templates["a"] = tmplB }},
		{"ReplaceTemplateBody", []nh.InstallationPatch{nh.ReplaceTemplateBody("b", `{"message":{"data":{"b2":"$(b)"}}}`)}, func(in *nh.Installation) {
			tp := in.Templates["b"]
			tp.Body = `{"message":{"data":{"b2":"$(b)"}}}`
			in.Templates["b"] = tp
		}},
		{"AddTemplateTag", []nh.InstallationPatch{nh.AddTemplateTag("b", "bt2")}, func(in *nh.Installation) {
			tp := in.Templates["b"]
			tp.Tags = append(slices.Clone(tp.Tags), "bt2")
			in.Templates["b"] = tp
		}},
		{"RemoveTemplateTag", []nh.InstallationPatch{nh.RemoveTemplateTag("b", "bt")}, func(in *nh.Installation) {
			tp := in.Templates["b"]
			tp.Tags = []string{"bt2"}
			in.Templates["b"] = tp
		}},
		{"RemoveTemplate", []nh.InstallationPatch{nh.RemoveTemplate("a")}, func(in *nh.Installation) { delete(in.Templates, "a") }},
	}
	want := base
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if _, err := c.PatchInstallation(ctx, base.InstallationID, st.patch, &nh.PatchInstallationOptions{WaitUntilVisible: true, PollInterval: 10 * time.Millisecond}); err != nil {
				t.Fatal(err)
			}
			st.check(&want)
			got, err := c.GetInstallation(ctx, base.InstallationID, nil)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, withoutTemplateNameTags(got.Installation), instDiffOpts, cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
				t.Errorf("after %s (-want +got):\n%s", st.name, d)
			}
		})
	}

	t.Run("sends follow the patches", func(t *testing.T) {
		resp, err := c.SendTemplateNotification(ctx, map[string]string{"b": "patched"}, &nh.SendNotificationOptions{Tags: []string{"bt2"}})
		if err != nil {
			t.Fatal(err)
		}
		ds := delivered(t, srv, resp.NotificationID)
		if len(ds) != 1 || ds[0].Handle != "patch-token-2" || !strings.Contains(ds[0].Payload, `"b2":"patched"`) {
			t.Errorf("deliveries = %+v; want one to patch-token-2 with the patched body", ds)
		}
	})

	t.Run("browser push channel", func(t *testing.T) {
		pc := platformCases()[len(platformCases())-1]
		in := pc.installationFor("patch-browser")
		mustPutInstallation(t, ctx, c, in)
		ch := nh.BrowserPushChannel{Endpoint: browserEP + "-new", P256DH: browserP256, Auth: "bmV3LWF1dGg"}
		if _, err := c.PatchInstallation(ctx, in.InstallationID, []nh.InstallationPatch{nh.ReplaceBrowserPushChannel(ch)}, &nh.PatchInstallationOptions{WaitUntilVisible: true, PollInterval: 10 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		got, err := c.GetInstallation(ctx, in.InstallationID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got.BrowserPushChannel == nil || *got.BrowserPushChannel != ch {
			t.Errorf("BrowserPushChannel = %+v, want %+v", got.BrowserPushChannel, ch)
		}
	})

	t.Run("missing installation", func(t *testing.T) {
		_, err := c.PatchInstallation(ctx, "nope", []nh.InstallationPatch{nh.AddTag("x")}, nil)
		if !errors.Is(err, nh.ErrNotFound) {
			t.Errorf("patch of a missing installation: err = %v, want ErrNotFound", err)
		}
	})
}

// ---- telemetry, feedback, jobs

// skipIfUnrouted skips the test when the emulator has no route for the
// operation yet (404 "No service is hosted…").
func skipIfUnrouted(t *testing.T, what string, err error) {
	t.Helper()
	var re *nh.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusNotFound && strings.Contains(re.Detail, "No service is hosted") {
		t.Skipf("the emulator does not serve %s yet: %v", what, err)
	}
}

func TestContractTelemetry(t *testing.T) {
	_, c := newContract(t, nil)
	ctx := contractCtx(t)
	mustCreate(t, ctx, c, nh.NewAppleRegistration(appleToken, "tele"))
	mustCreate(t, ctx, c, nh.NewFcmV1Registration("tele-fcm", "tele"))
	resp, err := c.SendAppleNotification(ctx, []byte(`{"aps":{"alert":"telemetry"}}`), &nh.SendNotificationOptions{Tags: []string{"tele"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetNotificationOutcomeDetails(ctx, resp.NotificationID, nil)
	skipIfUnrouted(t, "per-message telemetry", err)
	details, err := c.WaitForNotificationOutcomeDetails(ctx, resp.NotificationID, &nh.WaitForNotificationOutcomeDetailsOptions{PollInterval: 20 * time.Millisecond, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if details.NotificationID != resp.NotificationID || details.State != nh.NotificationDetailsStateCompleted {
		t.Errorf("details: id %q state %q; want %q Completed", details.NotificationID, details.State, resp.NotificationID)
	}
	if d := cmp.Diff([]string{"apple"}, details.TargetPlatforms); d != "" {
		t.Errorf("TargetPlatforms (-want +got):\n%s", d)
	}
	if got := details.Outcomes["Apns"]["Success"]; got != 1 {
		t.Errorf("APNs Success = %d, want 1 (outcomes %v)", got, details.Outcomes)
	}
	if !strings.Contains(details.NotificationBody, "telemetry") {
		t.Errorf("NotificationBody = %q", details.NotificationBody)
	}

	_, err = c.GetNotificationOutcomeDetails(ctx, "0123456789abcdef0123456789abcdef-20260101000000-1-1", nil)
	if !errors.Is(err, nh.ErrNotFound) {
		t.Errorf("details of an unknown notification: err = %v, want ErrNotFound", err)
	}
}

func TestContractFeedbackContainer(t *testing.T) {
	_, c := newContract(t, nil)
	ctx := contractCtx(t)
	got, err := c.GetFeedbackContainerURL(ctx, nil)
	skipIfUnrouted(t, "the feedback container", err)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.URL, "http") || got.TrackingID == "" {
		t.Errorf("feedback container = %+v", got)
	}
}

func TestContractJobs(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	mustCreate(t, ctx, c, nh.NewFcmV1Registration("job-token", "jobs"))
	_, err := c.ListNotificationHubJobs(ctx, nil)
	skipIfUnrouted(t, "import/export jobs", err)
	if err != nil {
		t.Fatal(err)
	}
	container := srv.ContainerURL(srv.URL, "export")
	job, err := c.SubmitNotificationHubJob(ctx, nh.Job{Type: nh.JobTypeExportRegistrations, OutputContainerURL: container}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if job.JobID == "" || job.Type != nh.JobTypeExportRegistrations {
		t.Fatalf("submitted job = %+v", job.Job)
	}
	done, err := c.WaitForNotificationHubJob(ctx, job.JobID, &nh.WaitForNotificationHubJobOptions{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != nh.JobStatusCompleted || done.Progress != 100 {
		t.Fatalf("job status %q progress %v failure %q; want Completed 100", done.Status, done.Progress, done.Failure)
	}
	outPath := done.OutputProperties["OutputFilePath"]
	outContainer, name, _ := strings.Cut(outPath, "/")
	blob, ok := srv.Blob(outContainer, name)
	if !ok || !bytes.Contains(blob, []byte("job-token")) {
		t.Errorf("export output %q = %q, %v; want the registration of job-token", outPath, blob, ok)
	}

	// Import what was exported: a second registration of the same device.
	imp, err := c.SubmitNotificationHubJob(ctx, nh.Job{
		Type:               nh.JobTypeImportCreateRegistrations,
		OutputContainerURL: container,
		ImportFileURL:      srv.BlobURL(srv.URL, outContainer, name),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done, err = c.WaitForNotificationHubJob(ctx, imp.JobID, &nh.WaitForNotificationHubJobOptions{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != nh.JobStatusCompleted {
		t.Fatalf("import job status %q failure %q; want Completed", done.Status, done.Failure)
	}
	ids, _, _ := collect(t, ctx, c.NewListRegistrationsByChannelPager("job-token", nil))
	if len(ids) != 2 {
		t.Errorf("after the import, job-token has registrations %v; want 2", ids)
	}

	list, err := c.ListNotificationHubJobs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var jobIDs []string
	for _, j := range list.Jobs {
		jobIDs = append(jobIDs, j.JobID)
	}
	sort.Strings(jobIDs)
	wantIDs := []string{job.JobID, imp.JobID}
	sort.Strings(wantIDs)
	if d := cmp.Diff(wantIDs, jobIDs); d != "" {
		t.Errorf("ListNotificationHubJobs (-want +got):\n%s", d)
	}
	if _, err := c.GetNotificationHubJob(ctx, "no-such-job", nil); !errors.Is(err, nh.ErrNotFound) {
		t.Errorf("GetNotificationHubJob of an unknown id: err = %v, want ErrNotFound", err)
	}
}

// TestContractBeginSubmitJob: the azcore poller of a job, driven to the
// end, and resumed from its token by a second poller (as another process
// would) without submitting again; the token holds no signature.
func TestContractBeginSubmitJob(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	mustCreate(t, ctx, c, nh.NewFcmV1Registration("poll-token", "jobs"))
	container := srv.ContainerURL(srv.URL, "export")
	job := nh.Job{Type: nh.JobTypeExportRegistrations, OutputContainerURL: container}
	fast := &runtime.PollUntilDoneOptions{Frequency: 20 * time.Millisecond}

	poller, err := c.BeginSubmitNotificationHubJob(ctx, job, nil)
	if err != nil {
		t.Fatal(err)
	}
	done, err := poller.PollUntilDone(ctx, fast)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != nh.JobStatusCompleted || done.JobID == "" || done.OutputProperties["OutputFilePath"] == "" || done.TrackingID == "" {
		t.Fatalf("PollUntilDone = %+v; want a Completed job with its output and a tracking id", done)
	}

	started, err := c.BeginSubmitNotificationHubJob(ctx, job, nil)
	if err != nil {
		t.Fatal(err)
	}
	if started.Done() {
		t.Fatal("a new job's poller is done before any poll; the emulator's job steps take time")
	}
	token, err := started.ResumeToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, sig, _ := strings.Cut(container, "sig="); strings.Contains(token, "sig=") || strings.Contains(token, sig) {
		t.Errorf("resume token %s holds a signature", token)
	}
	resumed, err := c.BeginSubmitNotificationHubJob(ctx, nh.Job{}, &nh.BeginSubmitNotificationHubJobOptions{ResumeToken: token})
	if err != nil {
		t.Fatal(err)
	}
	again, err := resumed.PollUntilDone(ctx, fast)
	if err != nil {
		t.Fatal(err)
	}
	if again.Status != nh.JobStatusCompleted || again.JobID == done.JobID || again.JobID == "" {
		t.Errorf("resumed poller = %+v; want the second job (not %s), Completed", again.Job, done.JobID)
	}
	list, err := c.ListNotificationHubJobs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Jobs) != 2 {
		t.Errorf("the hub has %d jobs, want 2: resuming must not submit again", len(list.Jobs))
	}

	if _, err := c.BeginSubmitNotificationHubJob(ctx, nh.Job{}, &nh.BeginSubmitNotificationHubJobOptions{ResumeToken: `{"type":"other","token":{}}`}); err == nil {
		t.Error("a token of another poller type was accepted")
	}
	if _, err := c.BeginSubmitNotificationHubJob(ctx, nh.Job{Type: nh.JobTypeExportRegistrations}, nil); err == nil {
		t.Error("a job without OutputContainerURL was submitted")
	}
}

// ---- migration

// TestContractMigrateGcmToFcmV1 migrates a hub with native and template
// GCM registrations, a GCM registration already duplicated as FCM v1 and
// a GCM installation, then checks that FCM v1 sends reach the devices.
func TestContractMigrateGcmToFcmV1(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	n1 := mustCreate(t, ctx, c, nh.NewGcmRegistration("mig-1", "sports"))
	n2 := mustCreate(t, ctx, c, nh.NewGcmRegistration("mig-2", "sports", "news"))
	tr := nh.NewGcmTemplateRegistration("mig-3", `{"data":{"text":"$(text)"},"priority":"high"}`, "sports")
	tr.Template.Name = "greeting"
	tm := mustCreate(t, ctx, c, tr)
	dup := mustCreate(t, ctx, c, nh.NewGcmRegistration("mig-4", "sports"))
	mustCreate(t, ctx, c, nh.NewFcmV1Registration("mig-4", "sports"))
	mustPutInstallation(t, ctx, c, nh.Installation{InstallationID: "mig-inst", Platform: nh.InstallationPlatformGcm, PushChannel: "mig-5", Tags: []string{"sports"}})

	actions := func(r nh.MigrationReport) map[string]nh.MigrationAction {
		m := map[string]nh.MigrationAction{}
		for _, it := range r.Items {
			m[it.RegistrationID] = it.Action
		}
		return m
	}

	dry, err := c.MigrateGcmToFcmV1(ctx, &nh.MigrateGcmToFcmV1Options{DryRun: true, PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]nh.MigrationAction{
		n1.RegistrationID:  nh.MigrationActionRewrite,
		n2.RegistrationID:  nh.MigrationActionRewrite,
		tm.RegistrationID:  nh.MigrationActionRewrite,
		dup.RegistrationID: nh.MigrationActionDelete,
	}
	got := actions(dry)
	skipped := 0
	for id, a := range got {
		if a == nh.MigrationActionSkip {
			delete(got, id)
			skipped++
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("dry run plan (-want +got):\n%s", d)
	}
	if skipped != 1 || dry.Scanned != 6 || !dry.DryRun {
		t.Errorf("dry run: %d skipped, %d scanned, DryRun %v; want 1 (the installation), 6 (5 registrations and the installation's), true", skipped, dry.Scanned, dry.DryRun)
	}
	// A dry run changes nothing.
	if g, err := c.GetRegistration(ctx, n1.RegistrationID, nil); err != nil || g.Platform != nh.RegistrationPlatformGcm || g.ETag != n1.ETag {
		t.Fatalf("after the dry run: %+v, %v; want the GCM registration unchanged", g.Registration, err)
	}

	real, err := c.MigrateGcmToFcmV1(ctx, &nh.MigrateGcmToFcmV1Options{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if real.Rewritten != 3 || real.Deleted != 1 || real.Skipped != 1 || real.Failed != 0 {
		for _, it := range real.Items {
			t.Logf("item %s %s: err %v", it.RegistrationID, it.Action, it.Err)
		}
		t.Fatalf("real run: rewritten %d deleted %d skipped %d failed %d; want 3 1 1 0", real.Rewritten, real.Deleted, real.Skipped, real.Failed)
	}
	for _, id := range []string{n1.RegistrationID, n2.RegistrationID, tm.RegistrationID} {
		g, err := c.GetRegistration(ctx, id, nil)
		if err != nil {
			t.Fatalf("migrated registration %s: %v", id, err)
		}
		if g.Platform != nh.RegistrationPlatformFcmV1 || g.FcmV1RegistrationID == "" || len(g.Tags) == 0 {
			t.Errorf("migrated registration %s = %+v; want FcmV1 with its token and tags", id, g.Registration)
		}
	}
	if _, err := c.GetRegistration(ctx, dup.RegistrationID, nil); !errors.Is(err, nh.ErrNotFound) {
		t.Errorf("duplicate GCM registration: err = %v, want ErrNotFound (deleted)", err)
	}

	resp, err := c.SendFcmV1Notification(ctx, []byte(`{"message":{"data":{"k":"after-migration"}}}`), &nh.SendNotificationOptions{Tags: []string{"sports"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(upper("mig-1", "mig-2", "mig-4"), handlesOf(delivered(t, srv, resp.NotificationID))); d != "" {
		t.Errorf("fcmv1 send after migration reached (-want +got):\n%s", d)
	}
	resp, err = c.SendTemplateNotification(ctx, map[string]string{"text": "hi"}, &nh.SendNotificationOptions{Tags: []string{"sports"}})
	if err != nil {
		t.Fatal(err)
	}
	ds := delivered(t, srv, resp.NotificationID)
	if len(ds) != 1 || ds[0].Platform != "fcmv1" || !strings.Contains(ds[0].Payload, `"android":{"data":{"text":"hi"}`) {
		t.Errorf("template send after migration = %+v; want one FCM v1 delivery with the converted body", ds)
	}
	resp, err = c.SendGcmNotification(ctx, []byte(`{"data":{"k":"legacy"}}`), &nh.SendNotificationOptions{Tags: []string{"sports"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(upper("mig-5"), handlesOf(delivered(t, srv, resp.NotificationID))); d != "" {
		t.Errorf("gcm send after migration reached (-want +got):\n%s", d)
	}

	again, err := c.MigrateGcmToFcmV1(ctx, nil)
	if err != nil || again.Rewritten != 0 || again.Deleted != 0 {
		t.Errorf("second run: %+v, %v; want nothing to do", again, err)
	}
}

// ---- failures, secrets

func TestContractFailures(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	reg := mustCreate(t, ctx, c, nh.NewAppleRegistration(appleToken, "f"))

	t.Run("listen-only send", func(t *testing.T) {
		listen := contractClient(t, srv, srv.ListenConnectionString, nil)
		_, err := listen.SendAppleNotification(ctx, []byte(`{"aps":{"alert":"x"}}`), nil)
		var re *nh.ResponseError
		if !errors.As(err, &re) || (re.StatusCode != http.StatusForbidden && re.StatusCode != http.StatusUnauthorized) {
			t.Fatalf("err = %v, want a *ResponseError 403 (or 401)", err)
		}
		if !errors.Is(err, nh.ErrUnauthorized) {
			t.Errorf("errors.Is(err, ErrUnauthorized) = false for %v", err)
		}
		_, err = listen.SendDirectNotification(ctx, nh.NewAppleNotification([]byte(`{"aps":{"alert":"x"}}`), nil), appleToken, nil)
		if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
			t.Errorf("direct send with Listen: err = %v, want 403 (recording SendDirectNotificationAsync_ListenOnlyConnectionString)", err)
		}
		// Listen is enough to register a device.
		if _, err := listen.CreateRegistration(ctx, nh.NewFcmV1Registration("listen-token"), nil); err != nil {
			t.Errorf("CreateRegistration with Listen: %v", err)
		}
		if len(srv.Deliveries(emulator.DeliveryFilter{Hub: contractHub})) != 0 {
			t.Error("a refused send was delivered")
		}
	})

	t.Run("wrong key", func(t *testing.T) {
		cs := strings.Replace(srv.ConnectionString, emulator.DefaultFullKey, "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk=", 1)
		if cs == srv.ConnectionString {
			t.Fatal("the emulator's connection string does not use DefaultFullKey")
		}
		bad := contractClient(t, srv, cs, nil)
		_, err := bad.GetRegistration(ctx, reg.RegistrationID, nil)
		var re *nh.ResponseError
		if !errors.As(err, &re) || re.StatusCode != http.StatusUnauthorized || !errors.Is(err, nh.ErrUnauthorized) {
			t.Fatalf("err = %v, want a *ResponseError 401", err)
		}
		if strings.Contains(err.Error(), "d3Jvbmcta2V5") || strings.Contains(err.Error(), "sig=") {
			t.Errorf("error text %q contains the key or a signature", err)
		}
	})

	t.Run("deleted", func(t *testing.T) {
		if _, err := c.DeleteRegistration(ctx, reg.RegistrationID, nil); err != nil {
			t.Fatal(err)
		}
		_, err := c.GetRegistration(ctx, reg.RegistrationID, nil)
		var re *nh.ResponseError
		if !errors.Is(err, nh.ErrNotFound) || !errors.As(err, &re) || re.TrackingID == "" {
			t.Errorf("err = %v, want ErrNotFound with a tracking id", err)
		}
		_, err = c.GetInstallation(ctx, "never-existed", nil)
		if !errors.Is(err, nh.ErrNotFound) {
			t.Errorf("GetInstallation of a missing id: err = %v, want ErrNotFound", err)
		}
	})
}

// sigRecorder is a transport that records every Authorization header the
// SDK sends, to check the dump against.
type sigRecorder struct {
	next policy.Transporter
	mu   sync.Mutex
	auth []string
}

func (s *sigRecorder) Do(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.auth = append(s.auth, req.Header.Get("Authorization"))
	s.mu.Unlock()
	return s.next.Do(req)
}

// TestContractAzcoreResponseError: code written for every other Azure SDK
// for Go, errors.As into *azcore.ResponseError, works on a failure the
// emulator answers, our fields stay reachable through our type, and
// neither type's text nor RawResponse holds the key or the signature.
func TestContractAzcoreResponseError(t *testing.T) {
	srv := emulatortest.NewServer(t)
	rec := &sigRecorder{next: srv.Client}
	c := contractClient(t, srv, srv.ConnectionString, &nh.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: rec}})
	ctx := contractCtx(t)
	_, err := c.GetRegistration(ctx, "missing", nil)

	var azErr *azcore.ResponseError
	if !errors.As(err, &azErr) {
		t.Fatalf("errors.As(%v, *azcore.ResponseError) = false", err)
	}
	if azErr.StatusCode != http.StatusNotFound || azErr.ErrorCode != "404" {
		t.Errorf("azcore.ResponseError = %d %q, want 404 %q", azErr.StatusCode, azErr.ErrorCode, "404")
	}
	var re *nh.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusNotFound || re.TrackingID == "" || re.Method != http.MethodGet {
		t.Errorf("errors.As(*nh.ResponseError) = %+v, want our 404 with its tracking id", re)
	}
	if !errors.Is(err, nh.ErrNotFound) {
		t.Errorf("errors.Is(err, ErrNotFound) = false")
	}
	for _, want := range []string{"GET ", "/contract/registrations/missing", "RESPONSE 404", "ERROR CODE: 404"} {
		if !strings.Contains(azErr.Error(), want) {
			t.Errorf("azcore's Error() lacks %q:\n%s", want, azErr.Error())
		}
	}

	// Everything either type lets a caller print.
	raw := azErr.RawResponse
	if raw == nil || raw.Request == nil {
		t.Fatal("RawResponse or its Request is nil")
	}
	if got := raw.Request.Header.Get("Authorization"); !strings.Contains(got, "sig=REDACTED") {
		t.Errorf("RawResponse.Request's Authorization = %q, want the signature redacted", got)
	}
	body, rerr := io.ReadAll(raw.Body)
	if rerr != nil || !bytes.Contains(body, []byte("<Error>")) {
		t.Errorf("RawResponse.Body = %q, %v; want the service's error", body, rerr)
	}
	seen := strings.Join([]string{
		err.Error(), re.Error(), azErr.Error(), fmt.Sprintf("%+v %+v %+v", raw.Header, raw.Request.Header, raw.Request.URL), string(body),
	}, "\n")
	if strings.Contains(seen, emulator.DefaultFullKey) {
		t.Error("the error shows the key")
	}
	if len(rec.auth) == 0 {
		t.Fatal("no request recorded")
	}
	for _, a := range rec.auth {
		_, sig, _ := strings.Cut(a, "sig=")
		sig, _, _ = strings.Cut(sig, "&")
		if sig == "" || strings.Contains(seen, sig) {
			t.Errorf("the error shows the signature %q (or none was sent)", sig)
		}
	}
}

// TestContractDebugDump checks that the dump of real exchanges with the
// emulator never contains the key or the signature.
func TestContractDebugDump(t *testing.T) {
	srv := emulatortest.NewServer(t)
	var dump bytes.Buffer
	rec := &sigRecorder{next: srv.Client}
	c := contractClient(t, srv, srv.ConnectionString, &nh.ClientOptions{
		ClientOptions:  azcore.ClientOptions{Transport: rec},
		DebugWriter:    &dump,
		EnableTestSend: true,
	})
	ctx := contractCtx(t)
	mustCreate(t, ctx, c, nh.NewAppleRegistration(appleToken, "dbg"))
	resp, err := c.SendAppleNotification(ctx, []byte(`{"aps":{"alert":"debug"}}`), &nh.SendNotificationOptions{Tags: []string{"dbg"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Success != 1 {
		t.Errorf("test send Success = %d, want 1", resp.Success)
	}
	_, _ = c.GetRegistration(ctx, "missing", nil)

	out := dump.String()
	for _, want := range []string{"POST ", "sig=REDACTED", "skn=DefaultFullSharedAccessSignature", "201 Created", "<NotificationOutcome", "404 Not Found"} {
		if !strings.Contains(out, want) {
			t.Errorf("dump lacks %q", want)
		}
	}
	if strings.Contains(out, emulator.DefaultFullKey) {
		t.Error("dump contains the key")
	}
	if len(rec.auth) == 0 {
		t.Fatal("no request recorded")
	}
	for _, a := range rec.auth {
		_, sig, ok := strings.Cut(a, "sig=")
		if !ok {
			t.Fatalf("Authorization %q has no signature", a)
		}
		sig, _, _ = strings.Cut(sig, "&")
		if strings.Contains(out, sig) {
			t.Errorf("dump contains the signature %q", sig)
		}
	}
}

// ---- eventual consistency, tiers, faults

// manualClock is the emulator's clock in tests that move time by hand.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// readHook counts the installation reads the SDK makes and, after each,
// moves the emulator's clock past its read delay: the first read after a
// write sees the old state, the next one the new.
type readHook struct {
	next  policy.Transporter
	clock *manualClock
	step  time.Duration
	mu    sync.Mutex
	reads int
}

func (h *readHook) Do(req *http.Request) (*http.Response, error) {
	resp, err := h.next.Do(req)
	if req.Method == http.MethodGet && strings.Contains(req.URL.Path, "/installations/") {
		h.mu.Lock()
		h.reads++
		h.mu.Unlock()
		h.clock.Advance(h.step)
	}
	return resp, err
}

func (h *readHook) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reads
}

// TestContractWaitUntilVisible runs the installation writes against an
// emulator whose reads lag behind its writes, as the service's do.
func TestContractWaitUntilVisible(t *testing.T) {
	const delay = time.Minute
	clock := &manualClock{t: time.Now()}
	srv := emulatortest.NewServerWithOptions(t, emulator.Options{Now: clock.Now, ReadDelay: delay})
	hook := &readHook{next: srv.Client, clock: clock, step: delay + time.Second}
	c := contractClient(t, srv, srv.ConnectionString, &nh.ClientOptions{
		ClientOptions: azcore.ClientOptions{Transport: hook},
		TokenLifetime: 24 * time.Hour, // the emulator's clock runs ahead
	})
	ctx := contractCtx(t)
	wait := 10 * time.Millisecond
	in := nh.Installation{InstallationID: "lagging", Platform: nh.InstallationPlatformFcmV1, PushChannel: "lag-token", Tags: []string{"a"}}

	// Without waiting, the first read does not see the write yet.
	if _, err := c.CreateOrUpdateInstallation(ctx, in, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetInstallation(ctx, in.InstallationID, nil); !errors.Is(err, nh.ErrNotFound) {
		t.Fatalf("read right after the first write: err = %v, want ErrNotFound (Options.ReadDelay)", err)
	}
	if _, err := c.GetInstallation(ctx, in.InstallationID, nil); err != nil {
		t.Fatalf("read after the delay: %v", err)
	}

	steps := []struct {
		name  string
		write func() error
		check func(got nh.Installation) bool
	}{
		{"put", func() error {
			in.Tags = []string{"b"}
			_, err := c.CreateOrUpdateInstallation(ctx, in, &nh.CreateOrUpdateInstallationOptions{WaitUntilVisible: true, PollInterval: wait})
			return err
		}, func(got nh.Installation) bool { return slices.Equal(got.Tags, []string{"b"}) }},
		{"patch", func() error {
			_, err := c.PatchInstallation(ctx, in.InstallationID, []nh.InstallationPatch{nh.AddTag("c"), nh.ReplaceUserID("carol")},
				&nh.PatchInstallationOptions{WaitUntilVisible: true, PollInterval: wait})
			return err
		}, func(got nh.Installation) bool { return slices.Contains(got.Tags, "c") && got.UserID == "carol" }},
	}
	for _, st := range steps {
		before := hook.count()
		if err := st.write(); err != nil {
			t.Fatalf("%s with WaitUntilVisible: %v", st.name, err)
		}
		if n := hook.count() - before; n < 2 {
			t.Errorf("%s: WaitUntilVisible read %d times; the first read cannot see the write, so want at least 2", st.name, n)
		}
		got, err := c.GetInstallation(ctx, in.InstallationID, nil)
		if err != nil || !st.check(got.Installation) {
			t.Errorf("%s: read after WaitUntilVisible = %+v, %v", st.name, got.Installation, err)
		}
	}

	before := hook.count()
	if _, err := c.DeleteInstallation(ctx, in.InstallationID, &nh.DeleteInstallationOptions{WaitUntilVisible: true, PollInterval: wait}); err != nil {
		t.Fatalf("delete with WaitUntilVisible: %v", err)
	}
	deleteReads := hook.count() - before
	if ex, err := c.InstallationExists(ctx, in.InstallationID, nil); err != nil || ex.Exists {
		t.Errorf("InstallationExists after delete = %v, %v; want false", ex.Exists, err)
	}

	t.Run("delete lags", func(t *testing.T) {
		if deleteReads < 2 {
			t.Errorf("delete: WaitUntilVisible read %d times, want at least 2", deleteReads)
		}
	})

	// A wait that cannot succeed ends with the context.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err := c.GetInstallation(short, "never", &nh.GetInstallationOptions{WaitFor: func(nh.Installation) bool { return true }, PollInterval: wait})
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, nh.ErrNotFound) {
		t.Errorf("waiting for a missing installation: err = %v, want DeadlineExceeded wrapping the last ErrNotFound", err)
	}
}

// TestContractBasicTier checks that the Standard-only features answer
// 403 on the Basic tier while sends and registrations work.
func TestContractBasicTier(t *testing.T) {
	srv := emulatortest.NewServerWithOptions(t, emulator.Options{Tier: "basic"})
	c := contractClient(t, srv, srv.ConnectionString, nil)
	ctx := contractCtx(t)
	mustCreate(t, ctx, c, nh.NewFcmV1Registration("basic-token", "b"))
	resp, err := c.SendFcmV1Notification(ctx, []byte(`{"message":{"data":{"k":"basic"}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := handlesOf(srv.Deliveries(emulator.DeliveryFilter{Hub: contractHub, Handle: "basic-token"})); len(got) != 1 {
		t.Errorf("deliveries on Basic: %v, want one", got)
	}

	is403 := func(what string, err error) {
		t.Helper()
		var re *nh.ResponseError
		if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden || !strings.Contains(re.Detail, "SKU") {
			t.Errorf("%s on Basic: err = %v, want 403 'not enabled for your SKU' (rest-api.md §9.3)", what, err)
		}
	}
	_, err = c.ScheduleNotification(ctx, nh.NewFcmV1Notification([]byte(`{"message":{"data":{"k":"x"}}}`)), time.Now().Add(time.Hour), nil)
	is403("ScheduleNotification", err)
	_, err = c.GetFeedbackContainerURL(ctx, nil)
	is403("GetFeedbackContainerURL", err)
	_, err = c.ListNotificationHubJobs(ctx, nil)
	is403("ListNotificationHubJobs", err)
	if resp.NotificationID != "" {
		_, err = c.GetNotificationOutcomeDetails(ctx, resp.NotificationID, nil)
		is403("GetNotificationOutcomeDetails", err)
	}

	t.Run("no notification id", func(t *testing.T) {
		if resp.NotificationID != "" {
			t.Errorf("a send on the Basic tier returns Location (notification id %q); rest-api.md §3.1 says Location is only available on Standard", resp.NotificationID)
		}
	})
}

// TestContractRetries injects the emulator's faults and checks which the
// SDK retries: sends only where the service cannot have acted, reads on
// any transient failure.
func TestContractRetries(t *testing.T) {
	srv := emulatortest.NewServer(t)
	c := contractClient(t, srv, srv.ConnectionString, &nh.ClientOptions{ClientOptions: azcore.ClientOptions{
		// azcore gives up when Retry-After exceeds MaxRetryDelay; the
		// faults ask for 1 s.
		Retry: policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond, MaxRetryDelay: 2 * time.Second},
	}})
	ctx := contractCtx(t)
	reg := mustCreate(t, ctx, c, nh.NewFcmV1Registration("retry-token", "r"))
	payload := []byte(`{"message":{"data":{"k":"retry"}}}`)

	sends := []struct {
		name        string
		fault       emulator.Fault
		retryUnsafe bool
		wantErr     int // 0: success after a retry; else the status
	}{
		{"429 is retried", emulator.Fault{Op: emulator.OpSend, Status: 429, RetryAfter: 1}, false, 0},
		{"503 with Retry-After is retried", emulator.Fault{Op: emulator.OpSend, Status: 503, RetryAfter: 1}, false, 0},
		{"403 with Retry-After is retried", emulator.Fault{Op: emulator.OpSend, Status: 403, RetryAfter: 1}, false, 0},
		{"500 is not retried", emulator.Fault{Op: emulator.OpSend, Status: 500}, false, 500},
		{"500 is retried with RetryUnsafe", emulator.Fault{Op: emulator.OpSend, Status: 500}, true, 0},
	}
	for _, tt := range sends {
		t.Run(tt.name, func(t *testing.T) {
			srv.ClearFaults()
			srv.InjectFault(tt.fault)
			before := len(srv.Deliveries(emulator.DeliveryFilter{Hub: contractHub}))
			_, err := c.SendFcmV1Notification(ctx, payload, &nh.SendNotificationOptions{Tags: []string{"r"}, RetryUnsafe: tt.retryUnsafe})
			delivered := len(srv.Deliveries(emulator.DeliveryFilter{Hub: contractHub})) - before
			if tt.wantErr == 0 {
				if err != nil || delivered != 1 {
					t.Errorf("err = %v, %d deliveries; want success after one retry and 1 delivery", err, delivered)
				}
				return
			}
			var re *nh.ResponseError
			if !errors.As(err, &re) || re.StatusCode != tt.wantErr || delivered != 0 {
				t.Errorf("err = %v, %d deliveries; want %d and none", err, delivered, tt.wantErr)
			}
			if f := srv.Faults(); len(f) != 0 {
				t.Errorf("faults left %+v: the SDK did not try exactly once", f)
			}
		})
	}

	t.Run("dropped connection on a send is not retried", func(t *testing.T) {
		srv.ClearFaults()
		srv.InjectFault(emulator.Fault{Op: emulator.OpSend, Drop: true, Count: 1})
		_, err := c.SendFcmV1Notification(ctx, payload, nil)
		var re *nh.ResponseError
		if err == nil || errors.As(err, &re) {
			t.Errorf("err = %v, want a transport error", err)
		}
	})

	t.Run("reads are retried", func(t *testing.T) {
		srv.ClearFaults()
		srv.InjectFault(emulator.Fault{Op: emulator.OpRegistration, Status: 503, Count: 2})
		srv.InjectFault(emulator.Fault{Op: emulator.OpInstallation, Status: 500, Count: 1})
		if _, err := c.GetRegistration(ctx, reg.RegistrationID, nil); err != nil {
			t.Errorf("GetRegistration after two 503s: %v", err)
		}
		if _, err := c.InstallationExists(ctx, "none", nil); err != nil {
			t.Errorf("InstallationExists after a 500: %v", err)
		}
		if f := srv.Faults(); len(f) != 0 {
			t.Errorf("faults left %+v", f)
		}
	})

	t.Run("throttled error", func(t *testing.T) {
		srv.ClearFaults()
		srv.InjectFault(emulator.Fault{Op: emulator.OpRegistration, Status: 429, RetryAfter: 1, Count: -1})
		defer srv.ClearFaults()
		short := &nh.ClientOptions{ClientOptions: azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}}
		c1 := contractClient(t, srv, srv.ConnectionString, short)
		_, err := c1.GetRegistration(ctx, reg.RegistrationID, nil)
		var re *nh.ResponseError
		if !errors.Is(err, nh.ErrThrottled) || !errors.As(err, &re) || re.RetryAfter != time.Second {
			t.Errorf("err = %v, want ErrThrottled with RetryAfter 1s", err)
		}
	})
}

// TestContractHubNames checks a hub name with capitals and one taken from
// the connection string's EntityPath.
func TestContractHubNames(t *testing.T) {
	srv := emulatortest.NewServer(t)
	ctx := contractCtx(t)
	for _, tt := range []struct{ name, connStr, hub string }{
		{"mixed case", srv.ConnectionString, "MyHub"},
		{"EntityPath", srv.ConnectionString + ";EntityPath=entityhub", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := nh.NewClientFromConnectionString(tt.connStr, tt.hub, &nh.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: srv.Client}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.CreateRegistration(ctx, nh.NewFcmV1Registration("hub-token-"+c.HubName()), nil); err != nil {
				t.Fatal(err)
			}
			resp, err := c.SendFcmV1Notification(ctx, []byte(`{"message":{"data":{"k":"hub"}}}`), nil)
			if err != nil {
				t.Fatal(err)
			}
			ds := srv.Deliveries(emulator.DeliveryFilter{Hub: c.HubName(), NotificationID: resp.NotificationID})
			if len(ds) != 1 || ds[0].Handle != "hub-token-"+c.HubName() {
				t.Errorf("deliveries in hub %s = %+v", c.HubName(), ds)
			}
		})
	}
}

// TestContractInstallationIDs checks ids that need escaping in the path.
func TestContractInstallationIDs(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	for _, id := range []string{"device_42@home.local", "with space", "a:b=c#d", "ünï"} {
		t.Run(id, func(t *testing.T) {
			mustPutInstallation(t, ctx, c, nh.Installation{InstallationID: id, Platform: nh.InstallationPlatformAdm, PushChannel: "adm-" + id})
			got, err := c.GetInstallation(ctx, id, nil)
			if err != nil || got.InstallationID != id {
				t.Fatalf("GetInstallation(%q) = %q, %v", id, got.InstallationID, err)
			}
			if _, err := c.PatchInstallation(ctx, id, []nh.InstallationPatch{nh.AddTag("escaped")}, nil); err != nil {
				t.Fatalf("PatchInstallation: %v", err)
			}
			resp, err := c.SendAdmNotification(ctx, []byte(`{"data":{"k":"v"}}`), &nh.SendNotificationOptions{Tags: []string{"escaped"}})
			if err != nil {
				t.Fatal(err)
			}
			ds := delivered(t, srv, resp.NotificationID)
			if len(ds) != 1 || ds[0].InstallationID != id {
				t.Errorf("deliveries = %+v, want one to installation %q", ds, id)
			}
			if _, err := c.DeleteInstallation(ctx, id, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestContractPnsFailures sends to handles the simulated push services
// reject and checks the test-send outcome, the telemetry, the error
// details and feedback, and what the hub does with expired channels.
func TestContractPnsFailures(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	expired := mustCreate(t, ctx, c, nh.NewFcmV1Registration("expired-device-1", "pf"))
	mustCreate(t, ctx, c, nh.NewFcmV1Registration("invalid-device-2", "pf"))
	mustCreate(t, ctx, c, nh.NewFcmV1Registration("ok-device-3", "pf"))
	mustPutInstallation(t, ctx, c, nh.Installation{InstallationID: "pf-inst", Platform: nh.InstallationPlatformFcmV1, PushChannel: "expired-inst-4", Tags: []string{"pf"}})
	payload := []byte(`{"message":{"data":{"k":"pf"}}}`)

	t.Run("test send outcome", func(t *testing.T) {
		on := true
		resp, err := c.SendFcmV1Notification(ctx, payload, &nh.SendNotificationOptions{Tags: []string{"ok-only", "pf"}, EnableTestSend: &on})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Success != 1 || resp.Failure != 3 || len(resp.Results) != 4 {
			t.Fatalf("outcome = %+v; want 1 success, 3 failures, 4 results", resp.NotificationOutcome)
		}
		for _, r := range resp.Results {
			ok := r.PnsHandle == "ok-device-3"
			if ok != strings.Contains(r.Outcome, "successfully") {
				t.Errorf("result for %s: outcome %q", r.PnsHandle, r.Outcome)
			}
		}
	})

	// The test send already expired the channels; register the expired
	// device again for the telemetry send.
	expired = mustCreate(t, ctx, c, nh.NewFcmV1Registration("expired-device-1", "pf"))
	if _, err := c.PatchInstallation(ctx, "pf-inst", []nh.InstallationPatch{nh.ReplacePushChannel("expired-inst-5")}, nil); err != nil {
		t.Fatal(err)
	}

	resp, err := c.SendFcmV1Notification(ctx, payload, &nh.SendNotificationOptions{Tags: []string{"pf"}})
	if err != nil {
		t.Fatal(err)
	}
	details, err := c.WaitForNotificationOutcomeDetails(ctx, resp.NotificationID, &nh.WaitForNotificationOutcomeDetailsOptions{PollInterval: 20 * time.Millisecond, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]int{"FcmV1": {"Success": 1, "ExpiredChannel": 2, "InvalidToken": 1}}
	if d := cmp.Diff(want, details.Outcomes); d != "" {
		t.Errorf("outcome counts (-want +got):\n%s", d)
	}
	if details.PnsErrorDetailsURI == "" {
		t.Fatal("no PnsErrorDetailsUri although the push service reported errors")
	}
	body := fetch(t, srv, details.PnsErrorDetailsURI)
	if n := strings.Count(body, "<PnsFeedback"); n != 3 || !strings.Contains(body, "invalid-device-2") {
		t.Errorf("error details hold %d feedback documents, want 3:\n%s", n, body)
	}

	// An expired channel deletes the registration and marks the installation.
	if _, err := c.GetRegistration(ctx, expired.RegistrationID, nil); !errors.Is(err, nh.ErrNotFound) {
		t.Errorf("registration of an expired channel: err = %v, want ErrNotFound", err)
	}
	in, err := c.GetInstallation(ctx, "pf-inst", nil)
	if err != nil || !in.PushChannelExpired {
		t.Errorf("installation of an expired channel: PushChannelExpired = %v, %v; want true", in.PushChannelExpired, err)
	}
	if _, err := c.PatchInstallation(ctx, "pf-inst", []nh.InstallationPatch{nh.ReplacePushChannel("fresh-token")}, nil); err != nil {
		t.Fatal(err)
	}
	if in, err = c.GetInstallation(ctx, "pf-inst", nil); err != nil || in.PushChannelExpired {
		t.Errorf("after a new push channel: PushChannelExpired = %v, %v; want false (rest-api.md §5.3)", in.PushChannelExpired, err)
	}

	fb, err := c.GetFeedbackContainerURL(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	listing := fetch(t, srv, fb.URL+"&restype=container&comp=list")
	if day := time.Now().UTC().Format("01022006"); !strings.Contains(listing, day) {
		t.Errorf("feedback container listing has no blob %s:\n%s", day, listing)
	}
}

// fetch GETs a blob URL of the emulator.
func fetch(t *testing.T, srv *emulatortest.Server, u string) string {
	t.Helper()
	resp, err := srv.Client.Get(u)
	if err != nil {
		t.Fatalf("GET blob: %v", err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET blob: %s: %s", resp.Status, b.String())
	}
	return b.String()
}

// TestContractScheduledTelemetry reads the telemetry of a scheduled
// notification before and after its cancel, and of a template send.
func TestContractScheduledTelemetry(t *testing.T) {
	_, c := newContract(t, nil)
	ctx := contractCtx(t)
	mustCreate(t, ctx, c, nh.NewAppleTemplateRegistration(appleToken, `{"aps":{"alert":"$(msg)"}}`, "st"))
	mustCreate(t, ctx, c, nh.NewGcmTemplateRegistration("st-gcm", `{"data":{"m":"$(msg)"}}`, "st"))

	s, err := c.ScheduleNotification(ctx, nh.NewTemplateNotification(map[string]string{"msg": "later"}), time.Now().Add(time.Hour), &nh.ScheduleNotificationOptions{Tags: []string{"st"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetNotificationOutcomeDetails(ctx, s.ScheduledNotificationID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != nh.NotificationDetailsStateScheduled || got.Tags != "st" || !strings.Contains(got.NotificationBody, "later") {
		t.Errorf("details of a pending scheduled notification: %+v", got.NotificationDetails)
	}
	if _, err := c.CancelScheduledNotification(ctx, s.ScheduledNotificationID, nil); err != nil {
		t.Fatal(err)
	}
	got, err = c.GetNotificationOutcomeDetails(ctx, s.ScheduledNotificationID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != nh.NotificationDetailsStateCanceled || !got.State.Final() {
		t.Errorf("details of a cancelled notification: state %q, want Canceled", got.State)
	}

	resp, err := c.SendTemplateNotification(ctx, map[string]string{"msg": "now"}, &nh.SendNotificationOptions{Tags: []string{"st"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err = c.WaitForNotificationOutcomeDetails(ctx, resp.NotificationID, &nh.WaitForNotificationOutcomeDetailsOptions{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if got.Outcomes["Apns"]["Success"] != 1 || got.Outcomes["Gcm"]["Success"] != 1 {
		t.Errorf("template send outcomes = %v, want one success each for Apns and Gcm", got.Outcomes)
	}
	t.Run("template target platforms", func(t *testing.T) {
		want := []string{"appletemplate", "gcmtemplate"}
		if d := cmp.Diff(want, got.TargetPlatforms); d != "" {
			t.Errorf("TargetPlatforms (-want +got):\n%s", d)
		}
	})
}

// TestContractCredential builds a client from its parts and rotates its
// key while it is in use.
func TestContractCredential(t *testing.T) {
	srv := emulatortest.NewServer(t)
	ctx := contractCtx(t)
	cs, err := nh.ParseConnectionString(srv.ConnectionString)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cs.String(), cs.SharedAccessKey) || strings.Contains(fmt.Sprintf("%v %#v", cs, cs), cs.SharedAccessKey) {
		t.Error("ConnectionString's String or GoString shows the key")
	}
	cred, err := nh.NewSharedAccessKeyCredential(cs.SharedAccessKeyName, cs.SharedAccessKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := nh.NewClient(cs.Endpoint, contractHub, cred, &nh.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: srv.Client}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint() != srv.URL+"/" {
		t.Errorf("Endpoint() = %q, want %q", c.Endpoint(), srv.URL+"/")
	}
	mustCreate(t, ctx, c, nh.NewFcmV1Registration("cred-token"))
	send := func() error {
		_, err := c.SendFcmV1Notification(ctx, []byte(`{"message":{"data":{"k":"cred"}}}`), nil)
		return err
	}
	if err := send(); err != nil {
		t.Fatalf("send with the full key: %v", err)
	}

	// Rotate to the listen-only rule: the next request is signed with it.
	if err := cred.Update(emulator.ListenRuleName, emulator.DefaultListenKey); err != nil {
		t.Fatal(err)
	}
	if cred.KeyName() != emulator.ListenRuleName {
		t.Errorf("KeyName() = %q", cred.KeyName())
	}
	if err := send(); !errors.Is(err, nh.ErrUnauthorized) {
		t.Errorf("send with the listen key: err = %v, want ErrUnauthorized", err)
	}
	if _, err := c.RegistrationExists(ctx, "x", nil); err != nil {
		t.Errorf("a Listen operation with the listen key: %v", err)
	}
	// A key the hub does not know.
	if err := cred.Update(emulator.FullRuleName, "bm90LXRoZS1rZXk="); err != nil {
		t.Fatal(err)
	}
	var re *nh.ResponseError
	if err := send(); !errors.As(err, &re) || re.StatusCode != http.StatusUnauthorized {
		t.Errorf("send with a wrong key: err = %v, want 401", err)
	}
	if err := cred.Update(emulator.FullRuleName, emulator.DefaultFullKey); err != nil {
		t.Fatal(err)
	}
	if err := send(); err != nil {
		t.Errorf("send after rotating back: %v", err)
	}
	if n := len(srv.Deliveries(emulator.DeliveryFilter{Handle: "cred-token"})); n != 2 {
		t.Errorf("%d deliveries, want 2 (the sends with the full key)", n)
	}
}

// TestContractConcurrent shares one client between goroutines (run with
// -race).
func TestContractConcurrent(t *testing.T) {
	srv, c := newContract(t, &nh.ClientOptions{TokenLifetime: time.Hour})
	ctx := contractCtx(t)
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := fmt.Sprintf("conc-%02d", i)
			if _, err := c.CreateRegistration(ctx, nh.NewFcmV1Registration(h, "conc"), nil); err != nil {
				errs <- err
				return
			}
			if _, err := c.SendDirectNotification(ctx, nh.NewFcmV1Notification([]byte(`{"message":{"data":{"k":"conc"}}}`)), h, nil); err != nil {
				errs <- err
			}
			if _, err := c.CreateOrUpdateInstallation(ctx, nh.Installation{InstallationID: h, Platform: nh.InstallationPlatformFcmV1, PushChannel: h + "-inst"}, nil); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	resp, err := c.SendFcmV1Notification(ctx, []byte(`{"message":{"data":{"k":"all"}}}`), &nh.SendNotificationOptions{Tags: []string{"conc"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(delivered(t, srv, resp.NotificationID)); got != n {
		t.Errorf("tag send reached %d devices, want %d", got, n)
	}
	if hs := srv.Hubs(); len(hs) != 1 || hs[0].Installations != n {
		t.Errorf("emulator hubs = %+v, want %d installations", hs, n)
	}
}

// TestContractRoundTrips stores values that are easy to mangle on the
// way: XML and JSON special characters in template bodies, an APNs
// installation template with headers and expiry, WNS secondary tiles.
func TestContractRoundTrips(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	bodies := []nh.Registration{
		nh.NewAppleTemplateRegistration(appleToken, `{"aps":{"alert":"a]]>b <&> \"q\" ' é 😀 $(msg)"}}`, "rt"),
		nh.NewWindowsTemplateRegistration(wnsChannel, `<toast><visual><binding template="ToastText01"><text id="1">&lt;&amp;&gt; "q" $(msg)</text></binding></visual></toast>`, "rt"),
		nh.NewFcmV1TemplateRegistration("rt-token", `{"message":{"data":{"x":"{'Hi, ' + $(msg)}","n":"#(n)"}}}`, "rt"),
	}
	for _, r := range bodies {
		created := mustCreate(t, ctx, c, r)
		got, err := c.GetRegistration(ctx, created.RegistrationID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got.Template == nil || got.Template.Body != r.Template.Body {
			t.Errorf("%s template body came back as %q, want %q", r.Platform, got.Template.Body, r.Template.Body)
		}
	}
	resp, err := c.SendTemplateNotification(ctx, map[string]string{"msg": "M", "n": "7"}, &nh.SendNotificationOptions{Tags: []string{"rt"}})
	if err != nil {
		t.Fatal(err)
	}
	byPlatform := map[string]string{}
	for _, d := range delivered(t, srv, resp.NotificationID) {
		byPlatform[d.Platform] = d.Payload
	}
	for p, want := range map[string]string{
		"apple":   `"a]]>b <&> \"q\" ' é 😀 $(msg)"`, // not an expression: the value does not start with $
		"windows": `&lt;&amp;&gt; "q" $(msg)`,
		"fcmv1":   `"x":"Hi, M","n":7`,
	} {
		if !strings.Contains(byPlatform[p], want) {
			t.Errorf("%s received %s; want it to contain %s", p, byPlatform[p], want)
		}
	}

	in := nh.Installation{
		InstallationID: "rt-apns", Platform: nh.InstallationPlatformApns, PushChannel: appleToken2,
		PushVariables: map[string]string{"name": "Zoë"},
		Templates: map[string]nh.InstallationTemplate{"Template Name": {
			Body:    `{"aps":{"alert":"$(name)"}}`,
			Headers: map[string]string{"apns-priority": "5", "apns-push-type": "alert"},
			Expiry:  "2030-01-02T03:04:05Z",
			Tags:    []string{"tt"},
		}},
	}
	mustPutInstallation(t, ctx, c, in)
	got, err := c.GetInstallation(ctx, in.InstallationID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(in, withoutTemplateNameTags(got.Installation), instDiffOpts); d != "" {
		t.Errorf("APNs installation (-put +got):\n%s", d)
	}
	resp, err = c.SendTemplateNotification(ctx, map[string]string{}, &nh.SendNotificationOptions{Tags: []string{"tt"}})
	if err != nil {
		t.Fatal(err)
	}
	ds := delivered(t, srv, resp.NotificationID)
	if len(ds) != 1 || ds[0].Payload != `{"aps":{"alert":"Zoë"}}` || ds[0].Headers["apns-priority"] != "5" || ds[0].Headers["apns-expiration"] == "" {
		t.Errorf("installation template delivery = %+v; want the push variable rendered, apns-priority 5 and an apns-expiration", ds)
	}

	wns := nh.Installation{
		InstallationID: "rt-wns", Platform: nh.InstallationPlatformWns, PushChannel: wnsChannel + "-rt",
		SecondaryTiles: map[string]nh.WnsSecondaryTile{"tile1": {
			PushChannel: wnsChannel + "-tile1",
			Tags:        []string{"tile"},
			Templates:   map[string]nh.InstallationTemplate{"t": {Body: `<tile/>`, Headers: map[string]string{"X-WNS-Type": "wns/tile"}}},
		}},
	}
	mustPutInstallation(t, ctx, c, wns)
	gw, err := c.GetInstallation(ctx, wns.InstallationID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(wns.SecondaryTiles, gw.SecondaryTiles, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("secondary tiles (-put +got):\n%s", d)
	}
}

// TestContractMigrateRecreate migrates by creating FCM v1 registrations
// under new ids and deleting the GCM ones.
func TestContractMigrateRecreate(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	old := mustCreate(t, ctx, c, nh.NewGcmRegistration("rec-1", "r"))
	mustCreate(t, ctx, c, nh.NewGcmRegistration("rec-2", "other"))
	report, err := c.MigrateGcmToFcmV1(ctx, &nh.MigrateGcmToFcmV1Options{Tag: "r", Recreate: true})
	if err != nil {
		t.Fatal(err)
	}
	if report.Rewritten != 1 || len(report.Items) != 1 {
		t.Fatalf("report = %+v; want one registration rewritten", report)
	}
	it := report.Items[0]
	if !it.Done || it.NewRegistrationID == "" || it.NewRegistrationID == old.RegistrationID || it.NewETag == "" {
		t.Errorf("item = %+v; want done under a new id", it)
	}
	if _, err := c.GetRegistration(ctx, old.RegistrationID, nil); !errors.Is(err, nh.ErrNotFound) {
		t.Errorf("old GCM registration: err = %v, want ErrNotFound", err)
	}
	resp, err := c.SendFcmV1Notification(ctx, []byte(`{"message":{"data":{"k":"v"}}}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	ds := delivered(t, srv, resp.NotificationID)
	if len(ds) != 1 || ds[0].Handle != "rec-1" || ds[0].RegistrationID != it.NewRegistrationID {
		t.Errorf("fcmv1 broadcast after the migration = %+v; want rec-1 under the new id (rec-2 has another tag)", ds)
	}
}

// TestContractTestSendLimit exceeds the emulator's test sends per minute:
// the send is refused with 429 and Retry-After, which the SDK reports as
// ErrThrottled when it may not retry.
func TestContractTestSendLimit(t *testing.T) {
	clock := &manualClock{t: time.Now()}
	srv := emulatortest.NewServerWithOptions(t, emulator.Options{TestSendsPerMinute: 2, Now: clock.Now})
	c := contractClient(t, srv, srv.ConnectionString, &nh.ClientOptions{
		EnableTestSend: true,
		ClientOptions:  azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}},
	})
	ctx := contractCtx(t)
	mustCreate(t, ctx, c, nh.NewFcmV1Registration("limit-token", "l"))
	send := func() error {
		_, err := c.SendFcmV1Notification(ctx, []byte(`{"message":{"data":{"k":"l"}}}`), nil)
		return err
	}
	for i := range 2 {
		if err := send(); err != nil {
			t.Fatalf("test send %d: %v", i+1, err)
		}
	}
	err := send()
	var re *nh.ResponseError
	if !errors.Is(err, nh.ErrThrottled) || !errors.As(err, &re) || re.RetryAfter <= 0 {
		t.Fatalf("third test send in a minute: err = %v, want ErrThrottled with Retry-After", err)
	}
	clock.Advance(time.Minute)
	if err := send(); err != nil {
		t.Errorf("test send a minute later: %v", err)
	}
	// Sends that are not test sends are not limited.
	off := false
	if _, err := c.SendFcmV1Notification(ctx, []byte(`{"message":{"data":{"k":"l"}}}`), &nh.SendNotificationOptions{EnableTestSend: &off}); err != nil {
		t.Errorf("ordinary send: %v", err)
	}
}

// TestContractAPIVersions runs a few operations with older api-versions,
// under which a rule without the right gets 401 instead of 403.
func TestContractAPIVersions(t *testing.T) {
	srv := emulatortest.NewServer(t)
	ctx := contractCtx(t)
	for _, tt := range []struct {
		version    string
		listenSend int
	}{{"2015-01", 401}, {"2016-07", 401}, {"2017-04", 401}, {nh.DefaultAPIVersion, 403}} {
		t.Run(tt.version, func(t *testing.T) {
			c := contractClient(t, srv, srv.ConnectionString, &nh.ClientOptions{APIVersion: tt.version})
			if c.APIVersion() != tt.version {
				t.Errorf("APIVersion() = %q", c.APIVersion())
			}
			r := mustCreate(t, ctx, c, nh.NewAdmRegistration("v-"+tt.version))
			if _, err := c.GetRegistration(ctx, r.RegistrationID, nil); err != nil {
				t.Error(err)
			}
			resp, err := c.SendDirectNotification(ctx, nh.NewAdmNotification([]byte(`{"data":{"k":"v"}}`)), "v-"+tt.version, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(delivered(t, srv, resp.NotificationID)) != 1 {
				t.Error("direct send not delivered")
			}
			listen := contractClient(t, srv, srv.ListenConnectionString, &nh.ClientOptions{APIVersion: tt.version})
			_, err = listen.SendAdmNotification(ctx, []byte(`{"data":{"k":"v"}}`), nil)
			var re *nh.ResponseError
			if !errors.As(err, &re) || re.StatusCode != tt.listenSend || !errors.Is(err, nh.ErrUnauthorized) {
				t.Errorf("send with the listen rule: err = %v, want %d (rest-api.md §2.4)", err, tt.listenSend)
			}
		})
	}
}
