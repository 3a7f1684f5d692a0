package push

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The APNs hosts.
const (
	ApnsProductionURL = "https://api.push.apple.com"
	ApnsSandboxURL    = "https://api.sandbox.push.apple.com"
)

// Provider token lifetime: Apple refuses a token whose iat is more than an
// hour old and one renewed more often than every 20 minutes.
const (
	apnsTokenRenewAfter = 50 * time.Minute
	apnsTokenMinAge     = 20 * time.Minute
)

// ApnsClient sends to APNs over one HTTP/2 connection per client, with a
// provider token or a client certificate.
type ApnsClient struct {
	base      string // host URL + "/3/device/"
	bundleID  string
	http      *http.Client
	transport *http.Transport
	clock     Clock
	token     *apnsToken // nil with certificate authentication
}

// apnsToken is the provider token of one .p8 key, signed again only when
// it has aged.
type apnsToken struct {
	cred  *ApnsTokenCredential
	clock Clock

	mu     sync.Mutex
	bearer string // "bearer " + JWT
	iat    time.Time
}

func (t *apnsToken) get() (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock.Now()
	if t.bearer != "" && now.Sub(t.iat) < apnsTokenRenewAfter && !now.Before(t.iat) {
		return t.bearer, nil
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": t.cred.TeamID, "iat": now.Unix()})
	tok.Header["kid"] = t.cred.KeyID
	s, err := tok.SignedString(t.cred.key)
	if err != nil {
		return "", err
	}
	t.bearer, t.iat = "bearer "+s, now
	return t.bearer, nil
}

// expired forgets bearer after APNs called it expired, unless it is younger
// than Apple lets a token be renewed.
func (t *apnsToken) expired(bearer string) {
	t.mu.Lock()
	if t.bearer == bearer && t.clock.Now().Sub(t.iat) >= apnsTokenMinAge {
		t.bearer = ""
	}
	t.mu.Unlock()
}

// NewApnsTokenClient returns a client authenticating with provider tokens.
func NewApnsTokenClient(cred *ApnsTokenCredential, opts *Options) (*ApnsClient, error) {
	c := newApnsClient(cred.BundleID, cred.Production, nil, opts)
	c.token = &apnsToken{cred: cred, clock: c.clock}
	return c, nil
}

// NewApnsCertificateClient returns a client authenticating with the
// credential's TLS client certificate.
func NewApnsCertificateClient(cred *ApnsCertificateCredential, opts *Options) (*ApnsClient, error) {
	return newApnsClient(cred.BundleID, cred.Production, []tls.Certificate{cred.cert}, opts), nil
}

func newApnsClient(bundleID string, production bool, certs []tls.Certificate, opts *Options) *ApnsClient {
	host := ApnsSandboxURL
	if production {
		host = ApnsProductionURL
	}
	if opts != nil && opts.Endpoints.Apns != "" {
		host = strings.TrimRight(opts.Endpoints.Apns, "/")
	}
	tr := opts.transport(certs, true)
	return &ApnsClient{
		base:      host + "/3/device/",
		bundleID:  bundleID,
		transport: tr,
		http:      &http.Client{Transport: tr, Timeout: opts.timeout()},
		clock:     opts.clock(),
	}
}

// Service returns ServiceApns.
func (c *ApnsClient) Service() Service { return ServiceApns }

// Close closes the client's idle connection.
func (c *ApnsClient) Close() { c.transport.CloseIdleConnections() }

// apnsTopicSuffix is what Apple appends to the bundle id for push types that
// have their own topic.
var apnsTopicSuffix = map[string]string{
	"voip":         ".voip",
	"complication": ".complication",
	"fileprovider": ".pushkit.fileprovider",
	"liveactivity": ".push-type.liveactivity",
	"location":     ".location-query",
	"pushtotalk":   ".voip-ptt",
}

// Send posts n to /3/device/{token}. The apns-* headers of n go along;
// apns-topic defaults to n.BundleID or else the credential's bundle id
// (with the suffix Apple wants for voip, complication, fileprovider,
// liveactivity, location and pushtotalk pushes) and apns-push-type to
// alert.
func (c *ApnsClient) Send(ctx context.Context, n *Notification) (r Result) {
	r = Result{Service: ServiceApns, Handle: n.Handle}
	defer func() { r.Time = c.clock.Now() }()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+url.PathEscape(n.Handle), bytes.NewReader(n.Payload))
	if err != nil {
		r.Status, r.Outcome, r.Reason = StatusBadRequest, OutcomeInvalidToken, "device token makes no URL"
		return r
	}
	h := req.Header
	for k, v := range n.Headers {
		if l := strings.ToLower(k); strings.HasPrefix(l, "apns-") {
			h.Set(l, v)
		}
	}
	pushType := h.Get("apns-push-type")
	if pushType == "" {
		pushType = "alert"
		h.Set("apns-push-type", pushType)
	}
	if h.Get("apns-topic") == "" {
		bundle := c.bundleID
		if n.BundleID != "" {
			bundle = n.BundleID
		}
		h.Set("apns-topic", bundle+apnsTopicSuffix[pushType])
	}
	h.Set("content-type", "application/json")
	var bearer string
	if c.token != nil {
		if bearer, err = c.token.get(); err != nil {
			r.Status, r.Outcome, r.Reason = StatusBadCredential, OutcomeInvalidCredentials, "signing the provider token failed"
			return r
		}
		h.Set("authorization", bearer)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		transportResult(&r, err)
		return r
	}
	defer resp.Body.Close()
	r.ID = resp.Header.Get("apns-id")
	if resp.StatusCode == http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		r.HTTPStatus, r.Status, r.Outcome = resp.StatusCode, StatusDelivered, OutcomeSuccess
		return r
	}
	var body struct {
		Reason string `json:"reason"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&body)
	r.Reason = body.Reason
	httpResult(&r, resp, c.clock.Now())
	switch body.Reason {
	case "Unregistered", "ExpiredToken":
		r.Status, r.Outcome = StatusHandleGone, OutcomeExpiredChannel
	case "BadDeviceToken":
		r.Status, r.Outcome = StatusHandleGone, OutcomeInvalidToken
	case "DeviceTokenNotForTopic", "TopicDisallowed", "BadTopic":
		r.Status, r.Outcome = StatusBadRequest, OutcomeWrongToken
	case "TooManyProviderTokenUpdates", "TooManyRequests":
		r.Status, r.Outcome = StatusThrottled, OutcomeThrottled
	case "ExpiredProviderToken":
		if c.token != nil {
			c.token.expired(bearer)
		}
	}
	return r
}
