package push

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// The ADM endpoints.
const (
	DefaultAdmTokenURL = "https://api.amazon.com/auth/o2/token"
	DefaultAdmURL      = "https://api.amazon.com"
)

// AdmClient sends with Amazon Device Messaging, with an access token from
// the security profile's client id and secret (OAuth 2.0 client
// credentials, scope messaging:push).
type AdmClient struct {
	bearerClient
	base string
}

// NewAdmClient returns a client for cred.
func NewAdmClient(cred *AdmCredential, opts *Options) (*AdmClient, error) {
	tokenURL, base := DefaultAdmTokenURL, DefaultAdmURL
	if opts != nil {
		if opts.Endpoints.AdmToken != "" {
			tokenURL = opts.Endpoints.AdmToken
		}
		if opts.Endpoints.Adm != "" {
			base = strings.TrimRight(opts.Endpoints.Adm, "/")
		}
	}
	c := &AdmClient{base: base}
	c.bearerClient = newBearerClient(ServiceAdm, opts, clientCredentials(cred.ClientID, cred.secret, tokenURL, "messaging:push"))
	return c, nil
}

// Send posts n's JSON to /messaging/registrations/{id}/messages.
func (c *AdmClient) Send(ctx context.Context, n *Notification) (r Result) {
	target := c.base + "/messaging/registrations/" + url.PathEscape(n.Handle) + "/messages"
	resp, r := c.do(ctx, n, func(token string) (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(n.Payload))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("X-Amzn-Type-Version", "com.amazon.device.messaging.ADMMessage@1.0")
		req.Header.Set("X-Amzn-Accept-Type", "com.amazon.device.messaging.ADMSendResult@1.0")
		return req, nil
	})
	defer func() { r.Time = c.clock.Now() }()
	if resp == nil {
		return r
	}
	defer resp.Body.Close()
	var body struct {
		Reason string `json:"reason"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&body)
	r.ID = resp.Header.Get("X-Amzn-RequestId")
	r.Reason = body.Reason
	httpResult(&r, resp, c.clock.Now())
	switch body.Reason {
	case "Unregistered":
		r.Status, r.Outcome = StatusHandleGone, OutcomeExpiredChannel
	case "InvalidRegistrationId":
		r.Status, r.Outcome = StatusHandleGone, OutcomeBadChannel
	case "MaxRateExceeded":
		r.Status, r.Outcome = StatusThrottled, OutcomeThrottled
	}
	return r
}
