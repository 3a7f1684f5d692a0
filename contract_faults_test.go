package notificationhubs_test

// Contract tests (see contract_test.go): Read-after-write delays, tiers and injected faults.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	nh "github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/emulator"
	"github.com/nhkit/notificationhubs/emulator/emulatortest"
)

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
			t.Errorf("%s on Basic: err = %v, want 403 'not enabled for your SKU' (docs/protocol.md, 'Limits and tiers')", what, err)
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
			t.Errorf("a send on the Basic tier returns Location (notification id %q); docs/protocol.md, 'Sends', says Location is only available on Standard", resp.NotificationID)
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
		t.Errorf("after a new push channel: PushChannelExpired = %v, %v; want false (docs/protocol.md, 'JSON Patch')", in.PushChannelExpired, err)
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
				t.Errorf("send with the listen rule: err = %v, want %d (docs/protocol.md, 'Rights and authentication failures')", err, tt.listenSend)
			}
		})
	}
}
