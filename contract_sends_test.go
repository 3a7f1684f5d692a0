package notificationhubs_test

// Contract tests (see contract_test.go): Every kind of send: audiences, direct, batch, scheduled, test sends.

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	nh "github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/emulator"
)

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
			t.Errorf("second cancel: err = %v, want ErrNotFound (docs/protocol.md, 'Scheduled sends')", err)
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
			t.Errorf("Success %d, %d results; want 10 and 10 (docs/protocol.md, 'Test sends')", resp.Success, len(resp.Results))
		}
	})
}
