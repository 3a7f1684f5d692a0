// Package pushtest runs local stand-ins for the push services, on
// loopback, that check what the real services check, for tests of package
// push.
//
// Each stand-in ([Apns], [Google], [Wns], [WebPush], [Adm]) is an
// httptest TLS server. It issues credentials it trusts (NewTokenCredential
// and the like), records what it received (Received), and can be told to
// answer a chosen handle with a Fault: the handle gone, throttled with
// Retry-After, a server error, or a refused credential. [Clock] is a
// fake clock for token lifetimes and backoff.
//
// Options returns push.Options pointing every endpoint at the stand-ins,
// trusting their certificates, and dialing only their addresses.
package pushtest

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhkit/notificationhubs/emulator/internal/push"
)

// Fault is how a stand-in answers a handle.
type Fault int

// The faults.
const (
	// FaultNone delivers.
	FaultNone Fault = iota
	// FaultGone answers that the handle is no longer valid (APNs 410
	// Unregistered, FCM 404 UNREGISTERED, WNS 410, Web Push 410, ADM 410
	// Unregistered).
	FaultGone
	// FaultThrottled answers 429 with Retry-After (WNS: 406, as WNS
	// documents its throttling).
	FaultThrottled
	// FaultServerError answers 503 (APNs: 503 ServiceUnavailable).
	FaultServerError
	// FaultBadCredential answers that the credential is refused (APNs 403
	// InvalidProviderToken, FCM/WNS/ADM 401, Web Push 403).
	FaultBadCredential
)

// Received is one request a stand-in accepted or answered with a fault.
type Received struct {
	Handle string
	Header http.Header
	// Body is what the push service received; for Web Push the decrypted
	// plaintext.
	Body []byte
	// Status is the stand-in's answer.
	Status int
	// Proto is the request's protocol (HTTP/2.0 for APNs).
	Proto string
}

// base is what every stand-in shares: its server, faults and records.
type base struct {
	Server *httptest.Server
	// RetryAfter is sent with FaultThrottled ("7" by default).
	RetryAfter string
	// NoRecord keeps only the count of requests (Requests), not the
	// requests themselves, for benchmarks.
	NoRecord bool

	mu       sync.Mutex
	now      func() time.Time
	faults   map[string]Fault
	received []Received
	requests int
	conns    int
}

func (b *base) init() {
	b.faults = map[string]Fault{}
	b.RetryAfter = "7"
	b.now = time.Now
}

// start serves h over TLS with HTTP/2 on loopback.
func (b *base) start(tb testing.TB, h http.Handler, configure func(*httptest.Server)) {
	s := httptest.NewUnstartedServer(h)
	s.EnableHTTP2 = true
	s.Config.ErrorLog = log.New(io.Discard, "", 0) // clients hanging up are no news
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			b.mu.Lock()
			b.conns++
			b.mu.Unlock()
		}
	}
	if configure != nil {
		configure(s)
	}
	s.StartTLS()
	b.Server = s
	tb.Cleanup(s.Close)
}

// URL is the stand-in's base URL.
func (b *base) URL() string { return b.Server.URL }

// SetNow sets the stand-in's clock (time.Now by default).
func (b *base) SetNow(now func() time.Time) {
	b.mu.Lock()
	b.now = now
	b.mu.Unlock()
}

func (b *base) clock() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.now()
}

// SetFault makes the stand-in answer handle with f (FaultNone clears it).
func (b *base) SetFault(handle string, f Fault) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f == FaultNone {
		delete(b.faults, handle)
	} else {
		b.faults[handle] = f
	}
}

func (b *base) fault(handle string) Fault {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.faults[handle]
}

func (b *base) record(r Received) {
	b.mu.Lock()
	b.requests++
	if !b.NoRecord {
		b.received = append(b.received, r)
	}
	b.mu.Unlock()
}

// Requests counts the requests the stand-in answered (token requests
// apart), recorded or not.
func (b *base) Requests() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.requests
}

// Received returns what the stand-in received, oldest first.
func (b *base) Received() []Received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Received(nil), b.received...)
}

// Connections counts the connections clients opened to the stand-in.
func (b *base) Connections() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.conns
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func newUUID() string {
	h := randomHex(16)
	return strings.ToUpper(h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32])
}

// Servers is implemented by every stand-in.
type Servers interface {
	URL() string
	cert() *x509.Certificate
}

func (b *base) cert() *x509.Certificate { return b.Server.Certificate() }

// Options returns push.Options for clients of the given stand-ins: their
// certificates trusted, their endpoints set (APNs, Google token and FCM,
// WNS token and channels, ADM token and messaging, Web Push), and a dialer
// that fails tb on any address but theirs. The WNS and Web Push overrides
// are what let the clients post to the stand-ins' channel URIs and
// subscriptions on loopback, which they refuse without one.
func Options(tb testing.TB, standIns ...Servers) *push.Options {
	pool := x509.NewCertPool()
	allowed := map[string]bool{}
	o := &push.Options{RootCAs: pool}
	for _, s := range standIns {
		pool.AddCert(s.cert())
		allowed[strings.TrimPrefix(s.URL(), "https://")] = true
		switch v := s.(type) {
		case *Apns:
			o.Endpoints.Apns = v.URL()
		case *Google:
			o.Endpoints.GoogleToken = v.TokenURL()
			o.Endpoints.Fcm = v.URL()
		case *Wns:
			o.Endpoints.WnsToken = v.TokenURL()
			o.Endpoints.Wns = v.URL()
		case *Adm:
			o.Endpoints.AdmToken = v.TokenURL()
			o.Endpoints.Adm = v.URL()
		case *WebPush:
			o.Endpoints.Browser = v.URL()
		}
	}
	o.DialContext = GuardDialer(tb, allowed)
	return o
}

// GuardDialer dials only the addresses (host:port) in allowed, and fails tb
// and refuses for any other.
func GuardDialer(tb testing.TB, allowed map[string]bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if !allowed[addr] {
			tb.Errorf("pushtest: dial to %s %s, which is no stand-in", network, addr)
			return nil, fmt.Errorf("pushtest: dial to %s refused: not a stand-in", addr)
		}
		return d.DialContext(ctx, network, addr)
	}
}
