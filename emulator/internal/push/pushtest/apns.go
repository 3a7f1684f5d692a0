package pushtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/nhkit/notificationhubs/emulator/internal/push"
	"github.com/nhkit/notificationhubs/internal/pnscred/pnscredtest"
)

// Apns stands in for APNs: HTTP/2 over TLS, provider tokens (ES256 JWT,
// checked with the key's public half, its kid, iss and age) or client
// certificates it issued, apns-topic against the key's or certificate's
// bundle ids, the apns-* headers and the payload.
type Apns struct {
	base
	keys     map[string]apnsKey // by key id
	ca       *x509.Certificate
	caKey    *ecdsa.PrivateKey
	lastSign map[string]time.Time // key id -> iat of the newest token seen
	seen     map[string]verified  // tokens whose signature verified
}

type verified struct {
	iat time.Time
	key apnsKey
}

type apnsKey struct {
	team    string
	pub     *ecdsa.PublicKey
	bundles []string
}

// NewApns starts an APNs stand-in.
func NewApns(tb testing.TB) *Apns {
	a := &Apns{keys: map[string]apnsKey{}, lastSign: map[string]time.Time{}, seen: map[string]verified{}}
	a.init()
	a.caKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pushtest APNs client CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &a.caKey.PublicKey, a.caKey)
	if err != nil {
		tb.Fatal(err)
	}
	a.ca, _ = x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(a.ca)
	a.start(tb, http.HandlerFunc(a.serve), func(s *httptest.Server) {
		s.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	})
	return a
}

// NewTokenCredential makes a .p8 key the stand-in trusts for bundleID and
// returns the credential built from it (sandbox).
func (a *Apns) NewTokenCredential(tb testing.TB, bundleID string) *push.ApnsTokenCredential {
	p8, keyID, teamID := a.NewKey(tb, bundleID)
	c, err := push.NewApnsTokenCredential(keyID, teamID, bundleID, p8, false)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// NewKey makes a .p8 key (PEM) trusted for bundleIDs and returns it with its
// key id and team id.
func (a *Apns) NewKey(tb testing.TB, bundleIDs ...string) (p8 []byte, keyID, teamID string) {
	k, p8 := pnscredtest.ECKey(elliptic.P256())
	keyID, teamID = strings.ToUpper(randomHex(5)), strings.ToUpper(randomHex(5))
	a.mu.Lock()
	a.keys[keyID] = apnsKey{team: teamID, pub: &k.PublicKey, bundles: bundleIDs}
	a.mu.Unlock()
	return p8, keyID, teamID
}

var oidUID = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}

// NewCertificate issues a push certificate for bundleID (its subject UID, as
// Apple's) and returns it as PKCS#12 protected by password.
func (a *Apns) NewCertificate(tb testing.TB, bundleID, password string) []byte {
	return a.issue(bundleID).P12(password)
}

// NewCertificatePEM is NewCertificate as PEM (certificate and key).
func (a *Apns) NewCertificatePEM(tb testing.TB, bundleID string) []byte {
	return a.issue(bundleID).PEM()
}

func (a *Apns) issue(bundleID string) pnscredtest.Certificate {
	return pnscredtest.NewCertificate(bundleID, &pnscredtest.CertificateOptions{Parent: a.ca, ParentKey: a.caKey,
		CommonName: "Apple Development IOS Push Services: " + bundleID, ClientAuth: true})
}

// TokensSeen counts the distinct provider tokens (JWT signatures) received.
func (a *Apns) TokensSeen() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.seen)
}

var (
	apnsPushTypes = map[string]bool{"alert": true, "background": true, "location": true, "voip": true,
		"complication": true, "fileprovider": true, "mdm": true, "liveactivity": true, "pushtotalk": true, "widgets": true}
	hexToken = regexp.MustCompile(`^[0-9a-fA-F]{64,200}$`)
	apnsUUID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

func apnsFail(w http.ResponseWriter, status int, reason string) {
	w.Header().Set("apns-id", newUUID())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"reason":%q}`, reason)
}

func (a *Apns) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	handle := strings.TrimPrefix(r.URL.Path, "/3/device/")
	status, reason := a.check(r, handle, body)
	a.record(Received{Handle: handle, Header: r.Header.Clone(), Body: body, Status: status, Proto: r.Proto})
	if status != http.StatusOK {
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", a.RetryAfter)
		}
		apnsFail(w, status, reason)
		return
	}
	id := r.Header.Get("apns-id")
	if id == "" {
		id = newUUID()
	}
	w.Header().Set("apns-id", id)
	w.WriteHeader(http.StatusOK)
}

// check does what APNs does with a request, in its order: protocol, path,
// authentication, headers, payload, then the device.
func (a *Apns) check(r *http.Request, handle string, body []byte) (int, string) {
	if r.ProtoMajor != 2 {
		return http.StatusBadRequest, "BadHTTPVersion" // APNs speaks only HTTP/2
	}
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, "MethodNotAllowed"
	}
	if !strings.HasPrefix(r.URL.Path, "/3/device/") {
		return http.StatusNotFound, "BadPath"
	}
	if handle == "" {
		return http.StatusBadRequest, "MissingDeviceToken"
	}
	topic := r.Header.Get("apns-topic")
	var bundles []string
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		for _, n := range r.TLS.PeerCertificates[0].Subject.Names {
			if n.Type.Equal(oidUID) {
				s, _ := n.Value.(string)
				bundles = append(bundles, s)
			}
		}
		if topic == "" && len(bundles) > 0 {
			topic = bundles[0]
		}
	} else {
		st, reason, bs := a.checkToken(r.Header.Get("authorization"))
		if st != http.StatusOK {
			return st, reason
		}
		bundles = bs
		if topic == "" {
			return http.StatusBadRequest, "MissingTopic"
		}
	}
	if !topicAllowed(topic, bundles) {
		return http.StatusBadRequest, "TopicDisallowed"
	}
	pushType := r.Header.Get("apns-push-type")
	if pushType != "" && !apnsPushTypes[pushType] {
		return http.StatusBadRequest, "InvalidPushType"
	}
	if p := r.Header.Get("apns-priority"); p != "" && p != "10" && p != "5" && p != "1" {
		return http.StatusBadRequest, "BadPriority"
	}
	if e := r.Header.Get("apns-expiration"); e != "" {
		if _, err := strconv.ParseInt(e, 10, 64); err != nil {
			return http.StatusBadRequest, "BadExpirationDate"
		}
	}
	if c := r.Header.Get("apns-collapse-id"); len(c) > 64 {
		return http.StatusBadRequest, "BadCollapseId"
	}
	if id := r.Header.Get("apns-id"); id != "" && !apnsUUID.MatchString(id) {
		return http.StatusBadRequest, "BadMessageId"
	}
	if len(body) == 0 {
		return http.StatusBadRequest, "PayloadEmpty"
	}
	limit := 4096
	if pushType == "voip" {
		limit = 5120
	}
	if len(body) > limit {
		return http.StatusRequestEntityTooLarge, "PayloadTooLarge"
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil || obj == nil {
		// Apple documents no reason for this; the stand-in's own.
		return http.StatusBadRequest, "BadPayload"
	}
	if !hexToken.MatchString(handle) {
		return http.StatusBadRequest, "BadDeviceToken"
	}
	if _, err := hex.DecodeString(handle); err != nil {
		return http.StatusBadRequest, "BadDeviceToken"
	}
	switch a.fault(handle) {
	case FaultGone:
		return http.StatusGone, "Unregistered"
	case FaultThrottled:
		return http.StatusTooManyRequests, "TooManyRequests"
	case FaultServerError:
		return http.StatusServiceUnavailable, "ServiceUnavailable"
	case FaultBadCredential:
		return http.StatusForbidden, "InvalidProviderToken"
	}
	return http.StatusOK, ""
}

// topicAllowed: the topic is a bundle id or one with a suffix Apple gives
// special push types.
func topicAllowed(topic string, bundles []string) bool {
	for _, b := range bundles {
		if topic == b {
			return true
		}
		for _, s := range []string{".voip", ".complication", ".pushkit.fileprovider", ".push-type.liveactivity", ".location-query", ".voip-ptt"} {
			if topic == b+s {
				return true
			}
		}
	}
	return false
}

// checkToken verifies a provider token as APNs does.
func (a *Apns) checkToken(auth string) (int, string, []string) {
	const forbidden = http.StatusForbidden
	raw, ok := strings.CutPrefix(auth, "bearer ")
	if !ok || raw == "" {
		return forbidden, "MissingProviderToken", nil
	}
	a.mu.Lock()
	v, known := a.seen[raw]
	a.mu.Unlock()
	if known {
		// Verified before: only its age can have changed.
		if a.clock().Sub(v.iat) > time.Hour {
			return forbidden, "ExpiredProviderToken", nil
		}
		return http.StatusOK, "", v.key.bundles
	}
	var key apnsKey
	var kid string
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ = t.Header["kid"].(string)
		a.mu.Lock()
		k, ok := a.keys[kid]
		a.mu.Unlock()
		if !ok {
			return nil, fmt.Errorf("unknown kid")
		}
		key = k
		return k.pub, nil
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithoutClaimsValidation())
	if err != nil {
		return forbidden, "InvalidProviderToken", nil
	}
	if iss, _ := claims["iss"].(string); iss != key.team {
		return forbidden, "InvalidProviderToken", nil
	}
	iatF, ok := claims["iat"].(float64)
	if !ok {
		return forbidden, "InvalidProviderToken", nil
	}
	iat := time.Unix(int64(iatF), 0)
	now := a.clock()
	if now.Sub(iat) > time.Hour {
		return forbidden, "ExpiredProviderToken", nil
	}
	if iat.Sub(now) > time.Minute {
		return forbidden, "InvalidProviderToken", nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.seen[raw]; ok { // verified meanwhile by a concurrent request
		return http.StatusOK, "", key.bundles
	}
	// Apple refuses a key's new token less than 20 minutes after its
	// previous one.
	if last, ok := a.lastSign[kid]; ok && iat.Sub(last) < 20*time.Minute {
		return http.StatusTooManyRequests, "TooManyProviderTokenUpdates", nil
	}
	a.seen[raw] = verified{iat: iat, key: key}
	a.lastSign[kid] = iat
	return http.StatusOK, "", key.bundles
}
