package push

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// tokenCache holds one access token and renews it shortly before it
// expires, by its clock. Concurrent callers wait for one fetch.
type tokenCache struct {
	clock Clock
	fetch func(ctx context.Context) (*oauth2.Token, error)

	mu      sync.Mutex
	token   string
	expires time.Time
}

// tokenError is a token endpoint's refusal or a failure to reach it, as a
// Result.
type tokenError struct{ r Result }

func (e *tokenError) Error() string { return "push: access token: " + e.r.Reason }

// get returns a valid token; fresh says it was fetched by this call.
func (c *tokenCache) get(ctx context.Context) (tok string, fresh bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	if c.token != "" && now.Before(c.expires) {
		return c.token, false, nil
	}
	t, err := c.fetch(ctx)
	if err != nil {
		return "", false, &tokenError{tokenResult(err, c.clock.Now())}
	}
	if t.AccessToken == "" {
		return "", false, &tokenError{Result{Status: StatusBadCredential, Outcome: OutcomeInvalidCredentials,
			Reason: "token endpoint answered without an access_token"}}
	}
	life := tokenLifetime(t)
	margin := 5 * time.Minute
	if life < 2*margin {
		margin = life / 2
	}
	c.token, c.expires = t.AccessToken, now.Add(life-margin)
	return c.token, true, nil
}

// drop forgets tok if it is still the cached token (the push service
// refused it).
func (c *tokenCache) drop(tok string) {
	c.mu.Lock()
	if c.token == tok {
		c.token = ""
	}
	c.mu.Unlock()
}

// tokenLifetime is the expires_in of t; an hour when the endpoint gave none.
func tokenLifetime(t *oauth2.Token) time.Duration {
	if t.ExpiresIn > 0 {
		return time.Duration(t.ExpiresIn) * time.Second
	}
	switch v := t.Extra("expires_in").(type) {
	case float64:
		if v > 0 {
			return time.Duration(v) * time.Second
		}
	case string:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	if !t.Expiry.IsZero() {
		if d := time.Until(t.Expiry); d > 0 {
			return d
		}
	}
	return time.Hour
}

// tokenResult classifies a token fetch failure.
func tokenResult(err error, now time.Time) Result {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		r := Result{HTTPStatus: re.Response.StatusCode}
		r.RetryAfter = parseRetryAfter(re.Response.Header.Get("Retry-After"), now)
		r.Reason = "token endpoint: " + re.Response.Status
		if re.ErrorCode != "" {
			r.Reason = "token endpoint: " + re.ErrorCode
			if re.ErrorDescription != "" {
				r.Reason += ": " + re.ErrorDescription
			}
		}
		switch c := re.Response.StatusCode; {
		case c == http.StatusTooManyRequests:
			r.Status, r.Outcome = StatusThrottled, OutcomeTokenProviderUnreachable
		case c >= 500:
			r.Status, r.Outcome = StatusUnavailable, OutcomeTokenProviderUnreachable
		default:
			r.Status, r.Outcome = StatusBadCredential, OutcomeInvalidCredentials
		}
		return r
	}
	if errors.Is(err, context.Canceled) {
		return Result{Status: StatusCanceled, Outcome: OutcomeDropped, Reason: "canceled"}
	}
	return Result{Status: StatusUnavailable, Outcome: OutcomeTokenProviderUnreachable, Reason: errorReason(err)}
}

// bearerClient sends requests with an OAuth access token from its cache and,
// when the push service refuses a cached token with 401, fetches a new one
// and tries once more.
type bearerClient struct {
	service   Service
	http      *http.Client
	transport *http.Transport
	tokens    *tokenCache
	clock     Clock
}

// newBearerClient returns a bearerClient whose tokens come from fetch; the
// context fetch gets makes oauth2 use the client's own HTTP client (and so
// its dialer and roots).
func newBearerClient(s Service, opts *Options, fetch func(ctx context.Context) (*oauth2.Token, error)) bearerClient {
	tr := opts.transport(nil, false)
	hc := &http.Client{Transport: tr, Timeout: opts.timeout()}
	return bearerClient{service: s, http: hc, transport: tr, clock: opts.clock(),
		tokens: &tokenCache{clock: opts.clock(), fetch: func(ctx context.Context) (*oauth2.Token, error) {
			return fetch(tokenHTTPContext(ctx, hc))
		}}}
}

// clientCredentials fetches tokens by the OAuth 2.0 client credentials
// grant, id and secret in the form body (as WNS and ADM want them).
func clientCredentials(id, secret, tokenURL, scope string) func(context.Context) (*oauth2.Token, error) {
	conf := &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: tokenURL,
		Scopes: []string{scope}, AuthStyle: oauth2.AuthStyleInParams}
	return conf.Token
}

// Service returns the push service.
func (b *bearerClient) Service() Service { return b.service }

// Close closes idle connections.
func (b *bearerClient) Close() { b.transport.CloseIdleConnections() }

// do sends the request build makes for the token; on a token failure it
// returns the failure as a Result and a nil response.
func (b *bearerClient) do(ctx context.Context, n *Notification, build func(token string) (*http.Request, error)) (*http.Response, Result) {
	r := Result{Service: b.service, Handle: n.Handle}
	for try := 0; ; try++ {
		tok, fresh, err := b.tokens.get(ctx)
		if err != nil {
			var te *tokenError
			if errors.As(err, &te) {
				tr := te.r
				tr.Service, tr.Handle = b.service, n.Handle
				return nil, tr
			}
			transportResult(&r, err)
			return nil, r
		}
		req, err := build(tok)
		if err != nil {
			r.Status, r.Outcome, r.Reason = StatusBadRequest, OutcomeInvalidNotificationFormat, err.Error()
			return nil, r
		}
		resp, err := b.http.Do(req.WithContext(ctx))
		if err != nil {
			transportResult(&r, err)
			return nil, r
		}
		if resp.StatusCode == http.StatusUnauthorized {
			b.tokens.drop(tok)
			if !fresh && try == 0 {
				drain(resp)
				continue
			}
		}
		return resp, r
	}
}

// drain reads a little of the body and closes it, so the connection can be
// reused.
func drain(resp *http.Response) {
	var buf [4096]byte
	for i := 0; i < 16; i++ {
		if _, err := resp.Body.Read(buf[:]); err != nil {
			break
		}
	}
	resp.Body.Close()
}

// tokenHTTPContext makes oauth2 fetch tokens with hc.
func tokenHTTPContext(ctx context.Context, hc *http.Client) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, hc)
}
