package pushtest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/nhkit/notificationhubs/emulator/internal/push"
	"github.com/nhkit/notificationhubs/internal/pnscred/pnscredtest"
)

// WebPush stands in for a browser's push service: subscriptions it
// creates ({URL}/push/{id}) hold the user agent's key pair and auth secret;
// a push must carry a VAPID Authorization (RFC 8292: an ES256 JWT whose aud
// is the service's origin, exp within 24 hours, sub a mailto: or https:
// URL, signed by the key in k, which must be the subscription's
// application server key) and an aes128gcm body (RFC 8291) that the
// stand-in decrypts; Received holds the plaintext.
type WebPush struct {
	base
	// Origin, when set, is the push service origin the subscriptions'
	// endpoints name and the VAPID audience the stand-in wants, as when
	// clients reach it through push.Endpoints.Browser; "" means its own URL.
	Origin string
	subs   map[string]*Subscription // by path
}

// Subscription is what a browser's PushSubscription holds.
type Subscription struct {
	Endpoint string
	// P256DH and Auth are base64url, as PushSubscription.getKey gives them.
	P256DH, Auth string
	// ServerKey is the application server key the subscription was made
	// for (base64url).
	ServerKey string

	priv *ecdh.PrivateKey
	auth []byte
}

// NewWebPush starts a Web Push stand-in.
func NewWebPush(tb testing.TB) *WebPush {
	s := &WebPush{subs: map[string]*Subscription{}}
	s.init()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /push/{id}", s.serve)
	s.start(tb, mux, nil)
	return s
}

// NewVapidKeys makes an application server key pair and returns its public
// and private key, base64url as VAPID tools print them.
func NewVapidKeys() (publicKey, privateKey string) { return pnscredtest.VapidKeys() }

// NewVapidCredential makes an application server key pair and returns the
// credential with it.
func NewVapidCredential(tb testing.TB) *push.BrowserCredential {
	pub, priv := NewVapidKeys()
	c, err := push.NewBrowserCredential("mailto:ops@example.com", pub, priv)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// Subscribe makes a subscription for the application server key serverKey
// (base64url), as pushManager.subscribe does.
func (s *WebPush) Subscribe(tb testing.TB, serverKey string) *Subscription {
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	sub := &Subscription{
		Endpoint:  s.origin() + "/push/" + randomHex(12),
		P256DH:    base64.RawURLEncoding.EncodeToString(priv.PublicKey().Bytes()),
		Auth:      base64.RawURLEncoding.EncodeToString(auth),
		ServerKey: serverKey,
		priv:      priv,
		auth:      auth,
	}
	s.mu.Lock()
	s.subs[strings.TrimPrefix(sub.Endpoint, s.origin())] = sub
	s.mu.Unlock()
	return sub
}

func (s *WebPush) origin() string {
	if s.Origin != "" {
		return s.Origin
	}
	return s.URL()
}

func (s *WebPush) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	endpoint := s.origin() + r.URL.Path
	status, plain, msg := s.check(r, r.URL.Path, endpoint, body)
	s.record(Received{Handle: endpoint, Header: r.Header.Clone(), Body: plain, Status: status, Proto: r.Proto})
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", s.RetryAfter)
	}
	if status == http.StatusCreated {
		w.Header().Set("Location", s.URL()+"/message/"+randomHex(8))
		w.WriteHeader(status)
		return
	}
	http.Error(w, msg, status)
}

func (s *WebPush) check(r *http.Request, path, endpoint string, body []byte) (int, []byte, string) {
	s.mu.Lock()
	sub := s.subs[path]
	s.mu.Unlock()
	if sub == nil {
		return http.StatusNotFound, nil, "no such subscription"
	}
	if err := s.checkVapid(r.Header.Get("Authorization"), sub); err != nil {
		return http.StatusForbidden, nil, "VAPID: " + err.Error()
	}
	if r.Header.Get("TTL") == "" {
		return http.StatusBadRequest, nil, "TTL header required"
	}
	if u := r.Header.Get("Urgency"); u != "" && u != "very-low" && u != "low" && u != "normal" && u != "high" {
		return http.StatusBadRequest, nil, "bad Urgency"
	}
	if r.Header.Get("Content-Encoding") != "aes128gcm" {
		return http.StatusUnsupportedMediaType, nil, "Content-Encoding must be aes128gcm"
	}
	if len(body) > 4096 {
		return http.StatusRequestEntityTooLarge, nil, "payload too large"
	}
	plain, err := decryptAes128gcm(body, sub)
	if err != nil {
		return http.StatusBadRequest, nil, "decryption failed: " + err.Error()
	}
	switch s.fault(endpoint) {
	case FaultGone:
		return http.StatusGone, plain, "subscription expired"
	case FaultThrottled:
		return http.StatusTooManyRequests, plain, "too many requests"
	case FaultServerError:
		return http.StatusServiceUnavailable, plain, "unavailable"
	case FaultBadCredential:
		return http.StatusForbidden, plain, "VAPID key refused"
	}
	return http.StatusCreated, plain, ""
}

// checkVapid verifies "vapid t=<jwt>, k=<key>" for sub.
func (s *WebPush) checkVapid(auth string, sub *Subscription) error {
	rest, ok := strings.CutPrefix(auth, "vapid ")
	if !ok {
		return errors.New("the Authorization scheme is not vapid")
	}
	var t, k string
	for _, p := range strings.Split(rest, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch name {
		case "t":
			t = val
		case "k":
			k = val
		}
	}
	if k != sub.ServerKey {
		return errors.New("k is not the subscription's application server key")
	}
	raw, err := base64.RawURLEncoding.DecodeString(k)
	if err != nil {
		return errors.New("k is not base64url")
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return errors.New("k is not a P-256 point")
	}
	claims := jwt.MapClaims{}
	_, err = jwt.ParseWithClaims(t, claims, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithAudience(s.origin()), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.clock))
	if err != nil {
		return err
	}
	exp, _ := claims.GetExpirationTime()
	if exp.Sub(s.clock()) > 24*time.Hour {
		return errors.New("exp more than 24 hours ahead")
	}
	sb, _ := claims["sub"].(string)
	if !strings.HasPrefix(sb, "mailto:") && !strings.HasPrefix(sb, "https:") {
		return errors.New("sub is not a mailto: or https: URL")
	}
	return nil
}

// decryptAes128gcm undoes RFC 8291 on the user agent's side: the sender's
// public key comes from the header's key id.
func decryptAes128gcm(body []byte, sub *Subscription) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("short header")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if len(body) < 21+idlen || idlen != 65 {
		return nil, errors.New("key id is not a P-256 public key")
	}
	asPub, err := ecdh.P256().NewPublicKey(body[21 : 21+idlen])
	if err != nil {
		return nil, errors.New("key id is not a P-256 public key")
	}
	ct := body[21+idlen:]
	if rs < 18 || uint32(len(ct)) > rs {
		return nil, errors.New("not a single record within the record size")
	}
	shared, err := sub.priv.ECDH(asPub)
	if err != nil {
		return nil, err
	}
	info := "WebPush: info\x00" + string(sub.priv.PublicKey().Bytes()) + string(asPub.Bytes())
	prkKey, _ := hkdf.Extract(sha256.New, shared, sub.auth)
	ikm, _ := hkdf.Expand(sha256.New, prkKey, info, 32)
	prk, _ := hkdf.Extract(sha256.New, ikm, salt)
	cek, _ := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	nonce, _ := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	block, _ := aes.NewCipher(cek)
	gcm, _ := cipher.NewGCM(block)
	rec, err := gcm.Open(nil, nonce, ct, nil)
	if err != nil {
		return nil, errors.New("authentication tag does not verify")
	}
	// Strip the padding back to the last record's delimiter, 0x02.
	i := len(rec) - 1
	for i >= 0 && rec[i] == 0 {
		i--
	}
	if i < 0 || rec[i] != 2 {
		return nil, errors.New("last record lacks its 0x02 delimiter")
	}
	return rec[:i], nil
}
