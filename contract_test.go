package notificationhubs_test

// The contract tests run the SDK against the emulator end to end: every exported
// operation of Client, checked both by what it returns and by what the emulator
// saw (its stored state and the deliveries a push service would have received).
// The SDK and the emulator were written separately from the protocol as
// docs/protocol.md describes it and the recordings, so a misunderstanding of the
// protocol on either side shows up here.
//
// The tests are in contract_<resource>_test.go (sends, registrations,
// installations, jobs and telemetry, migration, failures, faults); this
// file holds their shared helpers and fixtures, one case per platform
// among them.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

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
