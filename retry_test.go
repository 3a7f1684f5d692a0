package notificationhubs

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

func TestRetryThrottledThenCreated(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	srv := newNamespaceServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
		scripted(answerStatus(429, "Retry-After", "1"), nil)(w, r, n)
	})
	c := srv.client(t, nil)
	resp, err := c.SendNotification(context.Background(), sampleAppleNotification, nil)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if resp.NotificationID == "" {
		t.Errorf("no notification id")
	}
	reqs := srv.Requests()
	if n := len(reqs); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
	// Each try carries the api-version once (it is added per try), the
	// whole body (the first try reads it through a reader of its own,
	// later ones through GetBody) and the send's headers.
	for i, r := range reqs {
		if r.Query != "api-version=2020-06" {
			t.Errorf("try %d: query %q, want api-version=2020-06", i+1, r.Query)
		}
		if string(r.Body) != string(sampleAppleNotification.Body) {
			t.Errorf("try %d: body %q, want %q", i+1, r.Body, sampleAppleNotification.Body)
		}
		for k, want := range map[string]string{"ServiceBusNotification-Format": "apple", "Content-Type": contentTypeJSON, "X-Ms-Version": "2020-06"} {
			if got := r.Header.Get(k); got != want {
				t.Errorf("try %d: %s %q, want %q", i+1, k, got, want)
			}
		}
		if !strings.HasPrefix(r.Header.Get("Authorization"), "SharedAccessSignature ") {
			t.Errorf("try %d: no SAS Authorization header", i+1)
		}
	}
	// The stated wait was honoured (a lower bound only).
	if gap := times[1].Sub(times[0]); gap < 900*time.Millisecond {
		t.Errorf("retried after %v, want about the stated 1s", gap)
	}
}

func TestRetryAfterHTTPDate(t *testing.T) {
	srv := newNamespaceServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		date := time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
		scripted(answerStatus(503, "Retry-After", date), nil)(w, r, n)
	})
	c := srv.client(t, nil)
	if _, err := c.SendNotification(context.Background(), sampleAppleNotification, nil); err != nil {
		t.Fatalf("send: %v", err)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("%d requests, want 2 (503 with an HTTP-date Retry-After is retried)", n)
	}
}

func TestRetryPolicyByStatus(t *testing.T) {
	ctx := context.Background()
	send := func(c *Client, unsafe bool) error {
		_, err := c.SendNotification(ctx, sampleAppleNotification, &SendNotificationOptions{RetryUnsafe: unsafe})
		return err
	}
	cancel := func(c *Client, _ bool) error {
		_, err := c.CancelScheduledNotification(ctx, "id", nil)
		return err
	}
	tests := []struct {
		name         string
		op           func(*Client, bool) error
		unsafe       bool
		first        func(http.ResponseWriter)
		wantRequests int
	}{
		{"send 500 not retried", send, false, answerStatus(500), 1},
		{"send 500 retried when opted in", send, true, answerStatus(500), 2},
		{"send 503 without Retry-After not retried", send, false, answerStatus(503), 1},
		{"send 503 with Retry-After retried", send, false, answerStatus(503, "Retry-After", "0"), 2},
		{"send 429 retried", send, false, answerStatus(429), 2},
		{"send 408 not retried", send, false, answerStatus(408), 1},
		{"send 403 not retried", send, false, answerStatus(403), 1},
		{"send 403 not retried even when opted in", send, true, answerStatus(403), 1},
		{"send 403 with Retry-After retried", send, false, answerStatus(403, "Retry-After", "0"), 2},
		{"send 400 not retried", send, true, answerStatus(400), 1},
		{"cancel 500 retried", cancel, false, answerStatus(500), 2},
		{"cancel 408 retried", cancel, false, answerStatus(408), 2},
		{"cancel 502 retried", cancel, false, answerStatus(502), 2},
		{"cancel 504 retried", cancel, false, answerStatus(504), 2},
		{"cancel 403 not retried", cancel, false, answerStatus(403), 1},
		{"cancel 404 not retried", cancel, false, answerStatus(404), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newNamespaceServer(t, scripted(tt.first, nil))
			c := srv.client(t, nil)
			err := tt.op(c, tt.unsafe)
			n := len(srv.Requests())
			if n != tt.wantRequests {
				t.Errorf("%d requests, want %d", n, tt.wantRequests)
			}
			if tt.wantRequests == 1 {
				var re *ResponseError
				if !errors.As(err, &re) {
					t.Errorf("error = %v, want *ResponseError", err)
				}
			} else if err != nil {
				t.Errorf("error = %v, want success after the retry", err)
			}
		})
	}
}

// countingTransport counts the tries that reach the transport.
type countingTransport struct {
	n     atomic.Int32
	inner *http.Client
}

func (c *countingTransport) Do(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.inner.Do(r)
}

func TestRetryConnectionRefused(t *testing.T) {
	ct := &countingTransport{inner: &http.Client{}}
	cred, _ := NewSharedAccessKeyCredential("r", testKey)
	c, err := NewClient("http://"+closedPort(t), "myhub", cred, &ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: ct,
		Retry:     policyRetry(2, time.Millisecond),
	}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.SendNotification(context.Background(), sampleAppleNotification, nil)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("error = %v, want ECONNREFUSED", err)
	}
	if got := ct.n.Load(); got != 3 {
		t.Errorf("%d tries, want 3 (connection refused is retried on a send)", got)
	}
}

func TestRetryConnectionRefusedThenUp(t *testing.T) {
	// The first try is refused; the server comes up before the retry.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	started := make(chan struct{})
	var once sync.Once
	tr := transporterFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			once.Do(func() {
				l2, lerr := net.Listen("tcp", addr)
				if lerr != nil {
					t.Errorf("relisten: %v", lerr)
					return
				}
				srv := &http.Server{Handler: http.HandlerFunc(answerSent)}
				go srv.Serve(l2)
				t.Cleanup(func() { srv.Close() })
				close(started)
			})
		}
		return resp, err
	})
	cred, _ := NewSharedAccessKeyCredential("r", testKey)
	c, err := NewClient("http://"+addr, "myhub", cred, &ClientOptions{ClientOptions: azcore.ClientOptions{Transport: tr, Retry: policyRetry(3, time.Millisecond)}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.SendNotification(context.Background(), sampleAppleNotification, nil)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	<-started
	if resp.NotificationID == "" {
		t.Errorf("no notification id")
	}
}

func TestSendNotRetriedAfterAmbiguousFailure(t *testing.T) {
	// The server reads the request and drops the connection: the service
	// may have acted, so a send is not retried unless opted in, while an
	// idempotent cancel is.
	for _, tt := range []struct {
		name   string
		unsafe bool
		cancel bool
		want   int
	}{
		{"send", false, false, 1},
		{"send opted in", true, false, 2},
		{"cancel", false, true, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newNamespaceServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if n == 0 {
					hj, _ := w.(http.Hijacker)
					conn, _, _ := hj.Hijack()
					conn.Close()
					return
				}
				if r.Method == http.MethodDelete {
					w.WriteHeader(http.StatusOK)
					return
				}
				answerSent(w, r)
			})
			c := srv.client(t, nil)
			var err error
			if tt.cancel {
				_, err = c.CancelScheduledNotification(context.Background(), "id", nil)
			} else {
				_, err = c.SendNotification(context.Background(), sampleAppleNotification, &SendNotificationOptions{RetryUnsafe: tt.unsafe})
			}
			if got := len(srv.Requests()); got != tt.want {
				t.Errorf("%d requests, want %d", got, tt.want)
			}
			if tt.want == 1 && err == nil {
				t.Errorf("no error after a dropped connection")
			}
			if tt.want == 2 && err != nil {
				t.Errorf("error = %v after the retry", err)
			}
		})
	}
}

func TestCancelledContextEndsRetryWait(t *testing.T) {
	arrived := make(chan struct{}, 1)
	srv := newNamespaceServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		answerStatus(429, "Retry-After", "30")(w)
	})
	c := srv.client(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	start := time.Now()
	_, err := c.SendNotification(ctx, sampleAppleNotification, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	// Generous bound: the 30 s Retry-After wait must not run out.
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("returned after %v, want at once", d)
	}
}

func TestRetryAfterBeyondMaxDelayReturnsError(t *testing.T) {
	srv := newNamespaceServer(t, scripted(answerStatus(429, "Retry-After", "120")))
	c := srv.client(t, nil)
	_, err := c.SendNotification(context.Background(), sampleAppleNotification, nil)
	var re *ResponseError
	if !errors.As(err, &re) || re.RetryAfter != 120*time.Second || !errors.Is(err, ErrThrottled) {
		t.Fatalf("error = %v, want a throttled *ResponseError with RetryAfter 2m0s", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests, want 1 (Retry-After beyond the 60s cap is not waited for)", n)
	}
}

// TestNoRetryOnUntrustedCertificate: a certificate the machine does not
// trust (an emulator's, before the user trusts it) will not be trusted a
// moment later, so no operation retries it: the user sees the x509 error
// at once instead of after the retry delays.
func TestNoRetryOnUntrustedCertificate(t *testing.T) {
	srv := newNamespaceServer(t, nil)
	var dials atomic.Int32
	tr := http.DefaultTransport.(*http.Transport).Clone() // trusts the system roots only
	// The connection string names mynamespace.example.com; dial the test server instead.
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := NewClientFromConnectionString(namespaceConnStr(), "myhub", &ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: &http.Client{Transport: tr},
		Retry:     policy.RetryOptions{MaxRetries: 3, RetryDelay: 10 * time.Millisecond},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for name, op := range map[string]func() error{
		"idempotent": func() error { _, err := c.GetRegistration(context.Background(), "1-2-3", nil); return err },
		"send": func() error {
			_, err := c.SendNotification(context.Background(), sampleAppleNotification, nil)
			return err
		},
	} {
		dials.Store(0)
		err := op()
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("%s: error = %v, want a certificate error", name, err)
		}
		if n := dials.Load(); n != 1 {
			t.Errorf("%s: %d connections, want 1 (no retry)", name, n)
		}
	}
}
