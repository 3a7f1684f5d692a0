package notificationhubs_test

// SDK retry behaviour (docs/protocol.md, "Retries") against faults the emulator injects
// on the wire: every attempt is counted by the emulator itself, through its
// request log, so a retry inside net/http is counted as well as one by the
// SDK's pipeline.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	nh "github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/emulator"
	"github.com/nhkit/notificationhubs/emulator/emulatortest"
)

const retryHub = "retry-emu"

// retryToken is the APNs device token of the registration sends reach.
const retryToken = "00fc13adff785122b4ad28809a3420982341241421348097878e577c991de8f0"

// attemptLog records the requests the emulator served, from its one log
// line per request.
type attemptLog struct {
	mu sync.Mutex
	l  []attempt
}

// attempt is one request the emulator logged. Status is -1 for a dropped
// connection.
type attempt struct {
	Method, Path string
	Status       int
}

// Enabled implements slog.Handler.
func (a *attemptLog) Enabled(context.Context, slog.Level) bool { return true }

// Handle implements slog.Handler.
func (a *attemptLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "request" {
		return nil
	}
	var at attempt
	r.Attrs(func(x slog.Attr) bool {
		switch x.Key {
		case "method":
			at.Method = x.Value.String()
		case "path":
			at.Path = x.Value.String()
		case "status":
			at.Status = int(x.Value.Int64())
		}
		return true
	})
	a.mu.Lock()
	a.l = append(a.l, at)
	a.mu.Unlock()
	return nil
}

// WithAttrs implements slog.Handler.
func (a *attemptLog) WithAttrs([]slog.Attr) slog.Handler { return a }

// WithGroup implements slog.Handler.
func (a *attemptLog) WithGroup(string) slog.Handler { return a }

// matching returns the logged requests with method whose path contains
// part (case-insensitive).
func (a *attemptLog) matching(method, part string) []attempt {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []attempt
	for _, at := range a.l {
		if at.Method == method && strings.Contains(strings.ToLower(at.Path), strings.ToLower(part)) {
			out = append(out, at)
		}
	}
	return out
}

// count returns how many requests with method and path part reached the
// emulator. The emulator logs a request when its handler returns, which
// may be just after the client has the answer, so it waits (up to 2 s) for
// at least want of them and a little longer for stragglers.
func (a *attemptLog) count(method, part string, want int) int {
	deadline := time.Now().Add(2 * time.Second)
	for len(a.matching(method, part)) < want && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	return len(a.matching(method, part))
}

// retryEnv is an emulator with one Apple registration tagged "r" in
// retryHub and an SDK client with default options except the transport.
type retryEnv struct {
	srv *emulatortest.Server
	log *attemptLog
	c   *nh.Client
	ctx context.Context
}

func newRetryEnv(t *testing.T) *retryEnv {
	t.Helper()
	log := &attemptLog{}
	srv := emulatortest.NewServerWithOptions(t, emulator.Options{Logger: slog.New(log)})
	c, err := nh.NewClientFromConnectionString(srv.ConnectionString, retryHub,
		&nh.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: srv.Client}})
	if err != nil {
		t.Fatalf("NewClientFromConnectionString: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	e := &retryEnv{srv: srv, log: log, c: c, ctx: ctx}
	if _, err := c.CreateRegistration(ctx, nh.NewAppleRegistration(retryToken, "r"), nil); err != nil {
		t.Fatalf("CreateRegistration: %v", err)
	}
	in := nh.Installation{InstallationID: "inst-1", Platform: nh.InstallationPlatformFcmV1, PushChannel: "fcm-token-1", Tags: []string{"i"}}
	if _, err := c.CreateOrUpdateInstallation(ctx, in, nil); err != nil {
		t.Fatalf("CreateOrUpdateInstallation: %v", err)
	}
	return e
}

// send sends an Apple notification with a unique marker to tag "r" and
// returns the notification id.
func (e *retryEnv) send(marker string, o *nh.SendNotificationOptions) (string, error) {
	if o == nil {
		o = &nh.SendNotificationOptions{}
	}
	o.Tags = []string{"r"}
	body := fmt.Sprintf(`{"aps":{"alert":%q}}`, marker)
	resp, err := e.c.SendNotification(e.ctx, nh.NewAppleNotification([]byte(body), nil), o)
	return resp.NotificationID, err
}

// deliveries returns the deliveries whose payload carries marker.
func (e *retryEnv) deliveries(marker string) []emulator.Delivery {
	var out []emulator.Delivery
	for _, d := range e.srv.Deliveries(emulator.DeliveryFilter{Hub: retryHub}) {
		if strings.Contains(d.Payload, marker) {
			out = append(out, d)
		}
	}
	return out
}

// operation is one SDK call, with the method and path part of its
// requests.
type operation struct {
	name         string
	op           string // emulator.Op… its requests count as
	method, path string
	call         func(e *retryEnv) error
}

// idempotentOps are the SDK's idempotent calls the tests fault.
var idempotentOps = []operation{
	{"GetInstallation", emulator.OpInstallation, http.MethodGet, "/installations/inst-1", func(e *retryEnv) error {
		got, err := e.c.GetInstallation(e.ctx, "inst-1", nil)
		if err == nil && got.PushChannel != "fcm-token-1" {
			return fmt.Errorf("read installation with push channel %q", got.PushChannel)
		}
		return err
	}},
	{"CreateOrUpdateInstallation", emulator.OpInstallation, http.MethodPut, "/installations/inst-2", func(e *retryEnv) error {
		_, err := e.c.CreateOrUpdateInstallation(e.ctx, nh.Installation{InstallationID: "inst-2",
			Platform: nh.InstallationPlatformFcmV1, PushChannel: "fcm-token-2"}, nil)
		return err
	}},
	{"ListRegistrations", emulator.OpRegistration, http.MethodGet, "/registrations", func(e *retryEnv) error {
		page, err := e.c.NewListRegistrationsPager(nil).NextPage(e.ctx)
		if err == nil && len(page.Registrations) < 2 {
			return fmt.Errorf("listed %d registrations, want the native one and the installation's", len(page.Registrations))
		}
		return err
	}},
}

// sendPath is the path part of a send request.
const sendPath = "/" + retryHub + "/messages"

// TestEmulatorRetryThrottled: 429 with Retry-After 1 s, once, is waited
// out and retried for sends and idempotent calls; a send delivers once.
func TestEmulatorRetryThrottled(t *testing.T) {
	t.Parallel()
	t.Run("send", func(t *testing.T) {
		t.Parallel()
		e := newRetryEnv(t)
		e.srv.InjectFault(emulator.Fault{Op: emulator.OpSend, Status: http.StatusTooManyRequests, RetryAfter: 1})
		start := time.Now()
		nid, err := e.send("throttled-once", nil)
		elapsed := time.Since(start)
		if err != nil {
			t.Fatalf("send after one 429: %v", err)
		}
		// Retry-After is honoured: azcore waits the stated second (a lower
		// bound, which slowness cannot break).
		if elapsed < 900*time.Millisecond {
			t.Errorf("the send returned after %v, before the stated Retry-After of 1s", elapsed)
		}
		if n := e.log.count(http.MethodPost, sendPath, 2); n != 2 {
			t.Errorf("%d send attempts reached the emulator, want 2", n)
		}
		ds := e.deliveries("throttled-once")
		if len(ds) != 1 || ds[0].NotificationID != nid {
			t.Errorf("deliveries = %+v, want exactly one, of notification %s", ds, nid)
		}
		if s := e.srv.Sends(retryHub); len(s) != 1 {
			t.Errorf("%d send records, want 1 (the throttled attempt must not count)", len(s))
		}
	})
	for _, op := range idempotentOps {
		t.Run(op.name, func(t *testing.T) {
			t.Parallel()
			e := newRetryEnv(t)
			e.srv.InjectFault(emulator.Fault{Op: op.op, Status: http.StatusTooManyRequests, RetryAfter: 1})
			start := time.Now()
			if err := op.call(e); err != nil {
				t.Fatalf("%s after one 429: %v", op.name, err)
			}
			if elapsed := time.Since(start); elapsed < 900*time.Millisecond {
				t.Errorf("returned after %v, before the stated Retry-After of 1s", elapsed)
			}
			if n := e.log.count(op.method, op.path, 2); n != 2 {
				t.Errorf("%d attempts reached the emulator, want 2", n)
			}
		})
	}
}

// TestEmulatorRetrySendStatus: which failed sends are retried by default
// and with RetryUnsafe, counted at the emulator, with the deliveries.
func TestEmulatorRetrySendStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		fault          emulator.Fault
		unsafe         bool
		wantAttempts   int
		wantStatus     int // 0: success
		wantDeliveries int
	}{
		{"503 with Retry-After is retried", emulator.Fault{Status: 503, RetryAfter: 1}, false, 2, 0, 1},
		{"503 without Retry-After is not retried", emulator.Fault{Status: 503}, false, 1, 503, 0},
		{"500 is not retried by default", emulator.Fault{Status: 500}, false, 1, 500, 0},
		{"500 is retried with RetryUnsafe", emulator.Fault{Status: 500}, true, 2, 0, 1},
		{"403 quota with Retry-After is retried", emulator.Fault{Status: 403, RetryAfter: 1}, false, 2, 0, 1},
		{"429 twice is retried twice", emulator.Fault{Status: 429, RetryAfter: 1, Count: 2}, false, 3, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newRetryEnv(t)
			f := tt.fault
			f.Op = emulator.OpSend
			e.srv.InjectFault(f)
			marker := strings.ReplaceAll(tt.name, " ", "-")
			nid, err := e.send(marker, &nh.SendNotificationOptions{RetryUnsafe: tt.unsafe})
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("send: %v, want success after a retry", err)
				}
			} else {
				var re *nh.ResponseError
				if !errors.As(err, &re) || re.StatusCode != tt.wantStatus {
					t.Fatalf("send: err = %v, want a *ResponseError with status %d", err, tt.wantStatus)
				}
			}
			if n := e.log.count(http.MethodPost, sendPath, tt.wantAttempts); n != tt.wantAttempts {
				t.Errorf("%d send attempts reached the emulator, want %d", n, tt.wantAttempts)
			}
			ds := e.deliveries(marker)
			if len(ds) != tt.wantDeliveries {
				t.Errorf("%d deliveries, want %d", len(ds), tt.wantDeliveries)
			}
			if tt.wantDeliveries == 1 && len(ds) == 1 && ds[0].NotificationID != nid {
				t.Errorf("delivery of notification %s, want %s", ds[0].NotificationID, nid)
			}
			if left := e.srv.Faults(); len(left) != 0 {
				t.Errorf("faults left unconsumed: %+v", left)
			}
		})
	}
}

// TestEmulatorRetryIdempotentStatus: a 503 without Retry-After and a 500
// are retried for idempotent calls (they are not for sends).
func TestEmulatorRetryIdempotentStatus(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusInternalServerError} {
		for _, op := range idempotentOps {
			t.Run(fmt.Sprintf("%d/%s", status, op.name), func(t *testing.T) {
				t.Parallel()
				e := newRetryEnv(t)
				e.srv.InjectFault(emulator.Fault{Op: op.op, Status: status})
				if err := op.call(e); err != nil {
					t.Fatalf("%s after one %d: %v", op.name, status, err)
				}
				if n := e.log.count(op.method, op.path, 2); n != 2 {
					t.Errorf("%d attempts reached the emulator, want 2", n)
				}
			})
		}
	}
}

// TestEmulatorRetryDroppedConnection: a connection closed without an
// answer fails a send (the service may have acted) and is retried for an
// idempotent read.
func TestEmulatorRetryDroppedConnection(t *testing.T) {
	t.Parallel()
	t.Run("send", func(t *testing.T) {
		t.Parallel()
		e := newRetryEnv(t)
		e.srv.InjectFault(emulator.Fault{Op: emulator.OpSend, Drop: true})
		_, err := e.send("dropped", nil)
		var re *nh.ResponseError
		if err == nil || errors.As(err, &re) || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("send over a dropped connection: err = %v, want a transport error", err)
		}
		if strings.Contains(err.Error(), "SharedAccessSignature") || strings.Contains(err.Error(), "sig=") {
			t.Errorf("the transport error carries a signature: %v", err)
		}
		if n := e.log.count(http.MethodPost, sendPath, 1); n != 1 {
			t.Errorf("%d send attempts reached the emulator, want 1 (no retry)", n)
		}
		if ds := e.deliveries("dropped"); len(ds) != 0 {
			t.Errorf("%d deliveries, want none", len(ds))
		}
		// The fault is spent: the next send goes through, exactly once.
		if _, err := e.send("after-drop", nil); err != nil {
			t.Fatalf("send after the drop: %v", err)
		}
		if ds := e.deliveries("after-drop"); len(ds) != 1 {
			t.Errorf("%d deliveries of the next send, want 1", len(ds))
		}
	})
	for _, op := range idempotentOps {
		if op.method != http.MethodGet {
			continue
		}
		t.Run(op.name, func(t *testing.T) {
			t.Parallel()
			e := newRetryEnv(t)
			e.srv.InjectFault(emulator.Fault{Op: op.op, Drop: true})
			if err := op.call(e); err != nil {
				t.Fatalf("%s over a dropped connection: %v", op.name, err)
			}
			got := e.log.count(op.method, op.path, 2)
			if got != 2 {
				t.Errorf("%d attempts reached the emulator, want 2", got)
			}
			// The log is written as each request ends, and a dropped
			// request can end after its retry, so look for the drop in
			// any order: one dropped attempt and one answered.
			var dropped, answered int
			for _, a := range e.log.matching(op.method, op.path) {
				if a.Status == -1 {
					dropped++
				} else if a.Status == http.StatusOK {
					answered++
				}
			}
			if dropped != 1 || answered != 1 {
				t.Errorf("attempts: %d dropped, %d answered 200; want 1 and 1", dropped, answered)
			}
		})
	}
}

// TestEmulatorRetryDeadline: a slow answer and a caller's deadline end the
// call with context.DeadlineExceeded, without waiting for the answer.
func TestEmulatorRetryDeadline(t *testing.T) {
	t.Parallel()
	// The emulator sits out a send's latency even after the client has gone
	// (net/http notices a closed connection only once the body is read), and
	// the server's Close waits for it: keep it short.
	const latency = 4 * time.Second
	calls := []struct {
		name string
		op   string
		call func(ctx context.Context, c *nh.Client) error
	}{
		{"send", emulator.OpSend, func(ctx context.Context, c *nh.Client) error {
			_, err := c.SendNotification(ctx, nh.NewAppleNotification([]byte(`{"aps":{"alert":"slow"}}`), nil),
				&nh.SendNotificationOptions{Tags: []string{"r"}})
			return err
		}},
		{"GetInstallation", emulator.OpInstallation, func(ctx context.Context, c *nh.Client) error {
			_, err := c.GetInstallation(ctx, "inst-1", nil)
			return err
		}},
	}
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newRetryEnv(t)
			e.srv.InjectFault(emulator.Fault{Op: tt.op, Latency: latency, Count: -1})
			t.Cleanup(e.srv.ClearFaults)
			ctx, cancel := context.WithTimeout(e.ctx, 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := tt.call(ctx, e.c)
			elapsed := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want context.DeadlineExceeded", err)
			}
			// Generous: ten times the deadline, half the injected latency.
			if elapsed > latency/2 {
				t.Errorf("returned after %v; the deadline was 200ms and the latency %v", elapsed, latency)
			}
		})
	}
}

// TestEmulatorRetryThrottleBurst: with the hub throttled, a burst of
// concurrent sends all succeed through 429 + Retry-After retries, and each
// is delivered exactly once.
func TestEmulatorRetryThrottleBurst(t *testing.T) {
	t.Parallel()
	e := newRetryEnv(t)
	// 4 requests per second, 4 at once: 12 sends need three rounds, within
	// the default 3 retries.
	e.srv.SetThrottle(retryHub, 4, 4)
	const n = 12
	nids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nids[i], errs[i] = e.send(fmt.Sprintf("burst-%02d", i), nil)
		}()
	}
	wg.Wait()
	e.srv.SetThrottle(retryHub, 0, 0)
	for i, err := range errs {
		if err != nil {
			t.Errorf("send %d: %v", i, err)
		}
	}
	attempts := e.log.count(http.MethodPost, sendPath, n+1)
	throttled := 0
	for _, a := range e.log.matching(http.MethodPost, sendPath) {
		if a.Status == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled == 0 || attempts != n+throttled {
		t.Errorf("%d send attempts, %d throttled; want some throttled and %d that got through", attempts, throttled, n)
	}
	if s := e.srv.Sends(retryHub); len(s) != n {
		t.Errorf("%d send records, want %d", len(s), n)
	}
	for i := range n {
		ds := e.deliveries(fmt.Sprintf("burst-%02d", i))
		if len(ds) != 1 || ds[0].NotificationID != nids[i] {
			t.Errorf("send %d: %d deliveries, want exactly one of notification %s", i, len(ds), nids[i])
		}
	}
}
