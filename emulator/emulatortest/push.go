package emulatortest

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/nhkit/notificationhubs/emulator"
	"github.com/nhkit/notificationhubs/emulator/internal/push/pushtest"
)

// PushServices are local stand-ins for the push services an emulator
// delivers to with emulator.Options.Deliver: APNs (HTTP/2, provider tokens
// verified with the .p8 key's public half, client certificates), Google's
// token endpoint and FCM v1 (service-account assertions verified with the
// account's public key, bearer tokens), WNS and ADM (client credentials,
// bearer tokens, their headers), and a browser push service that decrypts
// each Web Push message with the subscription's private key and verifies
// its VAPID signature. They listen on 127.0.0.1 with TLS and stop when the
// test ends.
//
// The credentials and device handles they hand out are the ones they
// accept: give the credentials to a hub (package admin, nh hub
// credentials set) and register the handles.
type PushServices struct {
	tb      testing.TB
	apns    *pushtest.Apns
	google  *pushtest.Google
	wns     *pushtest.Wns
	adm     *pushtest.Adm
	web     *pushtest.WebPush
	roots   *x509.CertPool
	certPEM []byte
}

// NewPushServices starts the stand-ins.
func NewPushServices(tb testing.TB) *PushServices {
	tb.Helper()
	p := &PushServices{tb: tb, apns: pushtest.NewApns(tb), google: pushtest.NewGoogle(tb), wns: pushtest.NewWns(tb),
		adm: pushtest.NewAdm(tb), web: pushtest.NewWebPush(tb), roots: x509.NewCertPool()}
	for _, s := range p.all() {
		c := s.cert
		p.roots.AddCert(c)
		p.certPEM = append(p.certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return p
}

type standIn struct {
	service  string
	cert     *x509.Certificate
	url      string
	received func() []pushtest.Received
	fault    func(string, pushtest.Fault)
	conns    func() int
}

func (p *PushServices) all() []standIn {
	return []standIn{
		{"apns", p.apns.Server.Certificate(), p.apns.URL(), p.apns.Received, p.apns.SetFault, p.apns.Connections},
		{"fcmv1", p.google.Server.Certificate(), p.google.URL(), p.google.Received, p.google.SetFault, p.google.Connections},
		{"wns", p.wns.Server.Certificate(), p.wns.URL(), p.wns.Received, p.wns.SetFault, p.wns.Connections},
		{"adm", p.adm.Server.Certificate(), p.adm.URL(), p.adm.Received, p.adm.SetFault, p.adm.Connections},
		{"browser", p.web.Server.Certificate(), p.web.URL(), p.web.Received, p.web.SetFault, p.web.Connections},
	}
}

// Endpoints are the stand-ins' base URLs by the names of
// emulator.DeliverOptions.Endpoints and nh emulator --pns-endpoint (apns,
// fcmv1, fcmv1-token, wns, wns-token, adm, adm-token, browser). The
// stand-ins' WNS channel URIs and browser subscriptions are on loopback,
// which an emulator posts to only through the wns and browser endpoints.
func (p *PushServices) Endpoints() map[string]string {
	return map[string]string{
		"apns": p.apns.URL(), "fcmv1": p.google.URL(), "fcmv1-token": p.google.TokenURL(),
		"wns": p.wns.URL(), "wns-token": p.wns.TokenURL(), "adm": p.adm.URL(), "adm-token": p.adm.TokenURL(),
		"browser": p.web.URL(),
	}
}

// CertificatesPEM are the stand-ins' certificates, for a client that
// trusts them from a file (nh emulator --pns-ca-file).
func (p *PushServices) CertificatesPEM() []byte { return append([]byte(nil), p.certPEM...) }

// DeliverOptions returns options that deliver to the stand-ins and to
// nothing else: their endpoints, their certificates trusted, and a dialer
// that fails the test on any other address.
func (p *PushServices) DeliverOptions() *emulator.DeliverOptions {
	return &emulator.DeliverOptions{Endpoints: p.Endpoints(), RootCAs: p.roots, DialContext: p.GuardDialer()}
}

// GuardDialer dials the stand-ins only; any other address fails the test
// and is refused.
func (p *PushServices) GuardDialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	allowed := map[string]bool{}
	for _, s := range p.all() {
		allowed[strings.TrimPrefix(s.url, "https://")] = true
	}
	return pushtest.GuardDialer(p.tb, allowed)
}

// NewApnsKey makes a .p8 signing key (PEM) the APNs stand-in trusts for
// bundleIDs, with its key id and team id.
func (p *PushServices) NewApnsKey(bundleIDs ...string) (p8 []byte, keyID, teamID string) {
	return p.apns.NewKey(p.tb, bundleIDs...)
}

// NewApnsCertificate makes a push certificate for bundleID the APNs
// stand-in trusts, as PKCS#12 protected by password.
func (p *PushServices) NewApnsCertificate(bundleID, password string) []byte {
	return p.apns.NewCertificate(p.tb, bundleID, password)
}

// NewServiceAccount makes a service account of project the Google
// stand-in trusts and returns its JSON key file.
func (p *PushServices) NewServiceAccount(project string) []byte {
	return p.google.NewServiceAccount(p.tb, project)
}

// NewWnsApp makes a Windows app the WNS stand-in trusts: its package SID
// and client secret.
func (p *PushServices) NewWnsApp() (packageSID, secret string) { return p.wns.NewApp() }

// NewAdmSecurityProfile makes an ADM security profile the ADM stand-in
// trusts: its client id and secret.
func (p *PushServices) NewAdmSecurityProfile() (clientID, secret string) {
	return p.adm.NewSecurityProfile()
}

// NewVapidKeys makes a VAPID key pair, base64url.
func (p *PushServices) NewVapidKeys() (publicKey, privateKey string) { return pushtest.NewVapidKeys() }

// NewApnsDeviceToken returns a device token (64 hex digits).
func (p *PushServices) NewApnsDeviceToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

// NewWnsChannelURI returns a channel URI of the WNS stand-in.
func (p *PushServices) NewWnsChannelURI() string { return p.wns.ChannelURI() }

// PushSubscription is what a browser's PushSubscription holds.
type PushSubscription struct {
	Endpoint     string
	P256DH, Auth string
}

// Subscribe makes a subscription of the browser stand-in for the VAPID
// public key, as pushManager.subscribe does; the stand-in decrypts what is
// sent to it with the subscription's private key.
func (p *PushServices) Subscribe(vapidPublicKey string) PushSubscription {
	s := p.web.Subscribe(p.tb, vapidPublicKey)
	return PushSubscription{Endpoint: s.Endpoint, P256DH: s.P256DH, Auth: s.Auth}
}

// PushFault is how a stand-in answers a device handle.
type PushFault int

// The faults.
const (
	// PushFaultDeliver delivers (clears a fault).
	PushFaultDeliver PushFault = PushFault(pushtest.FaultNone)
	// PushFaultGone answers that the handle is no longer valid (APNs 410
	// Unregistered, FCM 404 UNREGISTERED, WNS 410, Web Push 410, ADM 410).
	PushFaultGone PushFault = PushFault(pushtest.FaultGone)
	// PushFaultThrottled answers 429 with Retry-After (WNS: 406).
	PushFaultThrottled PushFault = PushFault(pushtest.FaultThrottled)
	// PushFaultServerError answers 503.
	PushFaultServerError PushFault = PushFault(pushtest.FaultServerError)
	// PushFaultBadCredential answers that the credential is refused (APNs 403,
	// FCM, WNS and ADM 401, Web Push 403).
	PushFaultBadCredential PushFault = PushFault(pushtest.FaultBadCredential)
)

// SetFault makes every stand-in answer handle with f (the handle as
// registered: a device token, registration token, channel URI or
// subscription endpoint).
func (p *PushServices) SetFault(handle string, f PushFault) {
	for _, s := range p.all() {
		s.fault(handle, pushtest.Fault(f))
	}
}

// SetRetryAfter sets the Retry-After the stand-ins send with a throttling
// answer, in seconds ("7" by default).
func (p *PushServices) SetRetryAfter(seconds string) {
	p.apns.RetryAfter, p.google.RetryAfter, p.wns.RetryAfter, p.adm.RetryAfter, p.web.RetryAfter = seconds, seconds, seconds, seconds, seconds
}

// PushRequest is one request a stand-in answered.
type PushRequest struct {
	// Handle is the device handle it was for.
	Handle string
	Header http.Header
	// Body is what the push service received; for Web Push, the
	// decrypted message.
	Body []byte
	// Status is the stand-in's answer.
	Status int
}

// Received returns the requests the stand-in of service (apns, fcmv1, wns,
// adm or browser) answered, oldest first. Token requests are not included.
func (p *PushServices) Received(service string) []PushRequest {
	for _, s := range p.all() {
		if s.service == service {
			var out []PushRequest
			for _, r := range s.received() {
				out = append(out, PushRequest{Handle: r.Handle, Header: r.Header, Body: r.Body, Status: r.Status})
			}
			return out
		}
	}
	p.tb.Fatalf("emulatortest: no push service %q: want apns, fcmv1, wns, adm or browser", service)
	return nil
}

// Connections counts the connections clients opened to all stand-ins.
func (p *PushServices) Connections() int {
	n := 0
	for _, s := range p.all() {
		n += s.conns()
	}
	return n
}

// TokenRequests counts the requests to the token endpoint of service
// (fcmv1, wns or adm).
func (p *PushServices) TokenRequests(service string) int {
	switch service {
	case "fcmv1":
		return p.google.TokenRequests()
	case "wns":
		return p.wns.TokenRequests()
	case "adm":
		return p.adm.TokenRequests()
	}
	panic(fmt.Sprintf("emulatortest: %q has no token endpoint", service))
}
