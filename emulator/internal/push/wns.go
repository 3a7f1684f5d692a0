package push

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// WnsClient sends to WNS channel URIs with an access token from the
// package SID and secret (OAuth 2.0 client credentials).
type WnsClient struct {
	bearerClient
	endpoint string
}

// NewWnsClient returns a client for cred.
func NewWnsClient(cred *WnsCredential, opts *Options) (*WnsClient, error) {
	tokenURL := DefaultWnsTokenURL
	c := &WnsClient{}
	if opts != nil {
		if opts.Endpoints.WnsToken != "" {
			tokenURL = opts.Endpoints.WnsToken
		}
		c.endpoint = opts.Endpoints.Wns
	}
	c.bearerClient = newBearerClient(ServiceWns, opts, clientCredentials(cred.PackageSID, cred.secret, tokenURL, "notify.windows.com"))
	return c, nil
}

// Send posts n to its channel URI with its X-WNS-* headers; X-WNS-Type
// defaults to wns/toast, and Content-Type follows it (raw notifications are
// application/octet-stream, the others text/xml).
func (c *WnsClient) Send(ctx context.Context, n *Notification) (r Result) {
	u, err := url.Parse(n.Handle)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return Result{Service: ServiceWns, Handle: n.Handle, Status: StatusHandleGone, Outcome: OutcomeBadChannel,
			Reason: "channel URI is not an https URL", Time: c.clock.Now()}
	}
	if c.endpoint == "" && !wnsChannelHost(u) {
		return Result{Service: ServiceWns, Handle: n.Handle, Status: StatusHandleGone, Outcome: OutcomeBadChannel,
			Reason: "channel URI is not on WNS's domain notify.windows.com", Time: c.clock.Now()}
	}
	target := rebase(n.Handle, c.endpoint)
	resp, r := c.do(ctx, n, func(token string) (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(n.Payload))
		if err != nil {
			return nil, err
		}
		for k, v := range n.Headers {
			if strings.HasPrefix(strings.ToLower(k), "x-wns-") {
				req.Header.Set(k, v)
			}
		}
		typ := req.Header.Get("X-WNS-Type")
		if typ == "" {
			typ = "wns/toast"
			req.Header.Set("X-WNS-Type", typ)
		}
		if strings.EqualFold(typ, "wns/raw") {
			req.Header.Set("Content-Type", "application/octet-stream")
		} else {
			req.Header.Set("Content-Type", "text/xml")
		}
		req.Header.Set("Authorization", "Bearer "+token)
		return req, nil
	})
	defer func() { r.Time = c.clock.Now() }()
	if resp == nil {
		return r
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	r.ID = resp.Header.Get("X-WNS-Msg-ID")
	if d := resp.Header.Get("X-WNS-Error-Description"); d != "" {
		r.Reason = d
	} else if s := resp.Header.Get("X-WNS-Status"); s != "" && resp.StatusCode != http.StatusOK {
		r.Reason = s
	}
	httpResult(&r, resp, c.clock.Now())
	switch resp.StatusCode {
	case http.StatusGone:
		r.Status, r.Outcome = StatusHandleGone, OutcomeExpiredChannel
	case http.StatusNotFound:
		r.Status, r.Outcome = StatusHandleGone, OutcomeBadChannel
	case http.StatusNotAcceptable, http.StatusTooManyRequests:
		r.Status, r.Outcome = StatusThrottled, OutcomeChannelThrottled
	case http.StatusForbidden:
		r.Outcome = OutcomeWrongToken
	}
	return r
}

// wnsChannelHost reports whether u, a channel URI, is WNS's: on port 443
// of notify.windows.com or a name below it. Microsoft's WNS overview asks
// senders to post to no channel URI of another domain: a forged one would
// receive the app's access token and the notification.
func wnsChannelHost(u *url.URL) bool {
	h := strings.ToLower(u.Hostname())
	return (h == "notify.windows.com" || strings.HasSuffix(h, ".notify.windows.com")) && (u.Port() == "" || u.Port() == "443")
}
