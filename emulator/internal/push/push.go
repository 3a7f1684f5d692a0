package push

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Service names a push service; the values are the lower-case names the
// CLI uses.
type Service string

// The push services.
const (
	ServiceApns    Service = "apns"
	ServiceFcmV1   Service = "fcmv1"
	ServiceWns     Service = "wns"
	ServiceAdm     Service = "adm"
	ServiceBrowser Service = "browser"
	// ServiceGcm is FCM's legacy HTTP API, shut down by Google in 2024.
	ServiceGcm Service = "gcm"
	// ServiceMpns is the Microsoft Push Notification Service for Windows
	// Phone, shut down by Microsoft.
	ServiceMpns   Service = "mpns"
	ServiceBaidu  Service = "baidu"
	ServiceXiaomi Service = "xiaomi"
)

// ServiceForFormat returns the push service that receives notifications of
// the Notification Hubs format (the ServiceBusNotification-Format value:
// apple, fcmv1, gcm, windows, windowsphone, adm, browser, baidu, xiaomi),
// and false for any other (template included).
func ServiceForFormat(format string) (Service, bool) {
	switch strings.ToLower(format) {
	case "apple":
		return ServiceApns, true
	case "fcmv1":
		return ServiceFcmV1, true
	case "gcm":
		return ServiceGcm, true
	case "windows":
		return ServiceWns, true
	case "windowsphone":
		return ServiceMpns, true
	case "adm":
		return ServiceAdm, true
	case "browser":
		return ServiceBrowser, true
	case "baidu":
		return ServiceBaidu, true
	case "xiaomi":
		return ServiceXiaomi, true
	}
	return "", false
}

// Notification is one notification for one device, shaped as the emulator
// records it for the push service.
type Notification struct {
	// Handle is the device handle: the APNs device token (hex), the FCM
	// registration token, the WNS channel URI, the ADM registration id or
	// the browser subscription's endpoint URL.
	Handle string
	// P256DH and Auth are a browser subscription's keys (base64url, as the
	// browser's PushSubscription gives them); browser only.
	P256DH, Auth string
	// Headers are the notification's headers as the push service would
	// receive them (apns-push-type, apns-priority, apns-expiration,
	// apns-collapse-id, apns-topic; X-WNS-Type and the other X-WNS-*
	// headers; TTL, Urgency and Topic for Web Push). Names are matched
	// case-insensitively.
	Headers map[string]string
	// Payload is the body: the APNs JSON, the FCM v1 message
	// ({"message":{…}}), the WNS XML or raw bytes, the ADM JSON
	// ({"data":{…}}), or the Web Push plaintext to encrypt.
	Payload []byte
	// BundleID is, for APNs, the app the default apns-topic derives from;
	// empty means the credential's. One provider token (a key id and team)
	// may serve several apps, and Apple wants one client per token.
	BundleID string
}

// header returns the value of the header name, compared case-insensitively.
func (n *Notification) header(name string) (string, bool) {
	if v, ok := n.Headers[name]; ok {
		return v, true
	}
	for k, v := range n.Headers {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// Sender delivers notifications to one push service with one credential.
// Send makes one attempt and never retries; it is safe for concurrent use.
type Sender interface {
	Service() Service
	Send(ctx context.Context, n *Notification) Result
	// Close releases the sender's idle connections.
	Close()
}

// Clock is the time source of token caches and the dispatcher's backoff.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Endpoints overrides the push services' endpoints, for tests and staging
// services. Each is a base URL such as "https://127.0.0.1:8443"; empty means
// the real service.
type Endpoints struct {
	// Apns replaces both APNs hosts (sandbox and production).
	Apns string
	// GoogleToken replaces the service account's token_uri.
	GoogleToken string
	// Fcm replaces https://fcm.googleapis.com.
	Fcm string
	// WnsToken replaces https://login.live.com/accesstoken.srf.
	WnsToken string
	// Wns replaces the scheme and host of every channel URI (its path and
	// query are kept). Without it the client posts only to channel URIs
	// on notify.windows.com.
	Wns string
	// AdmToken replaces https://api.amazon.com/auth/o2/token.
	AdmToken string
	// Adm replaces https://api.amazon.com for the messaging API.
	Adm string
	// Browser replaces the scheme and host of every subscription endpoint
	// (its path and query are kept; the VAPID audience stays the
	// subscription's own origin). Without it the client posts to no
	// endpoint at a loopback, private or link-local address.
	Browser string
}

// Options configure a client. The zero value uses the real services, the
// system's roots and the real clock.
type Options struct {
	Endpoints Endpoints
	// Clock drives token lifetimes; nil means the real clock.
	Clock Clock
	// DialContext makes every connection of the client (token endpoints
	// included); nil means a net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// RootCAs are the roots trusted for the push services' TLS
	// certificates; nil means the system's.
	RootCAs *x509.CertPool
	// Timeout bounds one request (token requests included); 0 means 30s.
	Timeout time.Duration
}

func (o *Options) clock() Clock {
	if o == nil || o.Clock == nil {
		return realClock{}
	}
	return o.Clock
}

func (o *Options) timeout() time.Duration {
	if o == nil || o.Timeout <= 0 {
		return 30 * time.Second
	}
	return o.Timeout
}

// defaultDial makes the connections of Options without a DialContext.
var defaultDial = (&net.Dialer{Timeout: 20 * time.Second, KeepAlive: 30 * time.Second}).DialContext

// transport returns a transport for o; certs are the TLS client
// certificates (APNs certificate authentication). With h2only the transport
// speaks HTTP/2 only and keeps one connection per host, on which requests
// wait for a free stream instead of opening another connection.
func (o *Options) transport(certs []tls.Certificate, h2only bool) *http.Transport {
	var opt Options
	if o != nil {
		opt = *o
	}
	dial := opt.DialContext
	if dial == nil {
		dial = defaultDial
	}
	t := &http.Transport{
		DialContext:         dial,
		TLSClientConfig:     &tls.Config{RootCAs: opt.RootCAs, Certificates: certs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: 20 * time.Second,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     5 * time.Minute,
	}
	if h2only {
		t.Protocols = new(http.Protocols)
		t.Protocols.SetHTTP2(true)
		t.HTTP2 = &http.HTTP2Config{StrictMaxConcurrentRequests: true, SendPingTimeout: time.Minute}
		// Requests that arrive before the first connection is up wait
		// for it instead of dialing their own.
		t.MaxConnsPerHost = 1
	}
	return t
}

// NewClient returns the Sender for cred, one of the credential types of this
// package. Baidu and Xiaomi credentials have no client (see
// UnsupportedSender).
func NewClient(cred any, opts *Options) (Sender, error) {
	switch c := cred.(type) {
	case *ApnsTokenCredential:
		return NewApnsTokenClient(c, opts)
	case *ApnsCertificateCredential:
		return NewApnsCertificateClient(c, opts)
	case *FcmV1Credential:
		return NewFcmV1Client(c, opts)
	case *WnsCredential:
		return NewWnsClient(c, opts)
	case *AdmCredential:
		return NewAdmClient(c, opts)
	case *BrowserCredential:
		return NewWebPushClient(c, opts)
	case *BaiduCredential:
		return UnsupportedSender(ServiceBaidu), nil
	case *XiaomiCredential:
		return UnsupportedSender(ServiceXiaomi), nil
	}
	return nil, fmt.Errorf("push: no client for credential type %T", cred)
}

// rebase replaces the scheme and host of raw by those of base, keeping raw's
// path and query; base "" leaves raw as it is.
func rebase(raw, base string) string {
	if base == "" {
		return raw
	}
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	rest := raw[i+3:]
	j := strings.IndexAny(rest, "/?")
	if j < 0 {
		return strings.TrimRight(base, "/") + "/"
	}
	return strings.TrimRight(base, "/") + rest[j:]
}
