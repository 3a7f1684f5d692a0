package push

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Web Push limits: one aes128gcm record of 4096 bytes holds at most 3993
// bytes of plaintext (RFC 8291 section 4).
const (
	webPushRecordSize   = 4096
	WebPushMaxPlaintext = 3993
)

// VAPID tokens are signed for 12 hours (RFC 8292 allows up to 24) and
// reused for 11.
const (
	vapidLifetime = 12 * time.Hour
	vapidReuse    = 11 * time.Hour
)

// WebPushClient sends to browser push subscriptions with VAPID (RFC 8292)
// and aes128gcm payload encryption (RFC 8291, RFC 8188).
type WebPushClient struct {
	cred      *BrowserCredential
	endpoint  string
	http      *http.Client
	transport *http.Transport
	clock     Clock

	mu    sync.Mutex
	vapid map[string]vapidToken // by audience (the push service's origin)
}

type vapidToken struct {
	header string
	iat    time.Time
}

// NewWebPushClient returns a client for cred.
func NewWebPushClient(cred *BrowserCredential, opts *Options) (*WebPushClient, error) {
	c := &WebPushClient{cred: cred, clock: opts.clock(), vapid: map[string]vapidToken{}}
	var o Options
	if opts != nil {
		o = *opts
	}
	c.endpoint = o.Endpoints.Browser
	if c.endpoint == "" {
		o.DialContext = publicOnly(o.DialContext)
	}
	c.transport = o.transport(nil, false)
	c.http = &http.Client{Transport: c.transport, Timeout: opts.timeout()}
	return c, nil
}

// Service returns ServiceBrowser.
func (c *WebPushClient) Service() Service { return ServiceBrowser }

// Close closes idle connections.
func (c *WebPushClient) Close() { c.transport.CloseIdleConnections() }

// authorization returns the VAPID Authorization header for aud, signing a
// new JWT only when the cached one has aged.
func (c *WebPushClient) authorization(aud string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	if t, ok := c.vapid[aud]; ok && now.Sub(t.iat) < vapidReuse && !now.Before(t.iat) {
		return t.header, nil
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"aud": aud,
		"exp": now.Add(vapidLifetime).Unix(),
		"sub": c.cred.Subject,
	})
	s, err := tok.SignedString(c.cred.key)
	if err != nil {
		return "", err
	}
	h := "vapid t=" + s + ", k=" + c.cred.PublicKey
	c.vapid[aud] = vapidToken{header: h, iat: now}
	return h, nil
}

// Send encrypts n.Payload for the subscription (n.P256DH, n.Auth) and posts
// it to n.Handle, the subscription's endpoint. TTL defaults to four weeks;
// Urgency and Topic come from n's headers.
func (c *WebPushClient) Send(ctx context.Context, n *Notification) (r Result) {
	r = Result{Service: ServiceBrowser, Handle: n.Handle}
	defer func() { r.Time = c.clock.Now() }()
	u, err := url.Parse(n.Handle)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		r.Status, r.Outcome, r.Reason = StatusHandleGone, OutcomeBadChannel, "subscription endpoint is not an https URL"
		return r
	}
	if c.endpoint == "" && internalHost(u.Hostname()) {
		r.Status, r.Outcome, r.Reason = StatusHandleGone, OutcomeBadChannel, errInternalAddress.Error()
		return r
	}
	if len(n.Payload) > WebPushMaxPlaintext {
		r.Status, r.Outcome = StatusBadRequest, OutcomeInvalidNotificationSize
		r.Reason = fmt.Sprintf("payload of %d bytes exceeds Web Push's %d", len(n.Payload), WebPushMaxPlaintext)
		return r
	}
	body, err := encryptWebPush(n.Payload, n.P256DH, n.Auth)
	if err != nil {
		r.Status, r.Outcome, r.Reason = StatusHandleGone, OutcomeBadChannel, err.Error()
		return r
	}
	auth, err := c.authorization(u.Scheme + "://" + u.Host)
	if err != nil {
		r.Status, r.Outcome, r.Reason = StatusBadCredential, OutcomeInvalidCredentials, "signing the VAPID token failed"
		return r
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rebase(n.Handle, c.endpoint), bytes.NewReader(body))
	if err != nil {
		r.Status, r.Outcome, r.Reason = StatusHandleGone, OutcomeBadChannel, "subscription endpoint makes no request"
		return r
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Encoding", "aes128gcm")
	req.Header.Set("Content-Type", "application/octet-stream")
	ttl, ok := n.header("TTL")
	if !ok {
		ttl = "2419200"
	}
	req.Header.Set("TTL", ttl)
	for _, h := range []string{"Urgency", "Topic"} {
		if v, ok := n.header(h); ok {
			req.Header.Set(h, v)
		}
	}
	resp, err := c.http.Do(req)
	if errors.Is(err, errInternalAddress) {
		r.Status, r.Outcome, r.Reason = StatusHandleGone, OutcomeBadChannel, errInternalAddress.Error()
		return r
	}
	if err != nil {
		transportResult(&r, err)
		return r
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	r.ID = resp.Header.Get("Location")
	if resp.StatusCode >= 300 {
		r.Reason = strings.TrimSpace(string(msg))
	}
	httpResult(&r, resp, c.clock.Now())
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone {
		r.Status, r.Outcome = StatusHandleGone, OutcomeExpiredChannel
	}
	return r
}

// encryptWebPush encrypts plaintext for a subscription as one aes128gcm
// record (RFC 8291 section 3, RFC 8188 section 2).
func encryptWebPush(plaintext []byte, p256dh, authSecret string) ([]byte, error) {
	uaRaw, err := decodeBase64(p256dh)
	if err != nil {
		return nil, errors.New("subscription p256dh is not base64url")
	}
	uaPub, err := ecdh.P256().NewPublicKey(uaRaw)
	if err != nil {
		return nil, errors.New("subscription p256dh is not a P-256 point")
	}
	auth, err := decodeBase64(authSecret)
	if err != nil || len(auth) != 16 {
		return nil, errors.New("subscription auth is not 16 bytes of base64url")
	}
	asPriv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	secret, err := asPriv.ECDH(uaPub)
	if err != nil {
		return nil, err
	}
	asRaw := asPriv.PublicKey().Bytes()
	info := append(append([]byte("WebPush: info\x00"), uaRaw...), asRaw...)
	ikm, err := hkdf.Key(sha256.New, secret, auth, string(info), 32)
	if err != nil {
		return nil, err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	// Header: salt, record size, key id length, key id (the sender's
	// public key); then the single record, plaintext ending in the last
	// record's delimiter 0x02.
	out := make([]byte, 0, 16+4+1+len(asRaw)+len(plaintext)+1+gcm.Overhead())
	out = append(out, salt...)
	out = binary.BigEndian.AppendUint32(out, webPushRecordSize)
	out = append(out, byte(len(asRaw)))
	out = append(out, asRaw...)
	rec := append(append(make([]byte, 0, len(plaintext)+1), plaintext...), 2)
	return gcm.Seal(out, nonce, rec, nil), nil
}

// errInternalAddress refuses a subscription endpoint on this machine or a
// private network. A browser's push service is on the internet; an
// endpoint elsewhere would make the emulator post to whatever the
// subscriber named (a service of this machine, a cloud metadata address).
var errInternalAddress = errors.New("subscription endpoint is at an internal address (loopback, private or link-local), which no push service has; use an endpoint override (--pns-endpoint browser=URL) to reach a local one")

// internalHost reports whether host, a URL's host name, names this
// machine or a private network by itself: localhost, a name below
// .localhost, or an internal IP address. Other names are checked once
// resolved, by publicOnly.
func internalHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && internalIP(ip)
}

// internalIP reports whether ip is loopback, private (RFC 1918, RFC 4193),
// link-local, multicast or unspecified.
func internalIP(ip netip.Addr) bool {
	ip = ip.Unmap()
	return !ip.IsGlobalUnicast() || ip.IsPrivate()
}

// publicOnly wraps dial (nil: a net.Dialer) so that a connection whose
// peer is an internal address is closed before anything is sent on it,
// which catches names that resolve to one.
func publicOnly(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if dial == nil {
		dial = defaultDial
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if ta, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
			if ip, ok := netip.AddrFromSlice(ta.IP); ok && internalIP(ip) {
				conn.Close()
				return nil, errInternalAddress
			}
		}
		return conn, nil
	}
}
