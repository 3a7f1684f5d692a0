package push

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"
)

// DefaultFcmURL is FCM's API host.
const DefaultFcmURL = "https://fcm.googleapis.com"

// fcmScope is the OAuth scope that allows sending with FCM.
const fcmScope = "https://www.googleapis.com/auth/firebase.messaging"

// FcmV1Client sends with the FCM HTTP v1 API, with an access token from the
// service account (JWT bearer grant, RFC 7523).
type FcmV1Client struct {
	bearerClient
	sendURL string
}

// NewFcmV1Client returns a client for cred.
func NewFcmV1Client(cred *FcmV1Credential, opts *Options) (*FcmV1Client, error) {
	tokenURL := cred.TokenURL
	host := DefaultFcmURL
	if opts != nil {
		if opts.Endpoints.GoogleToken != "" {
			tokenURL = opts.Endpoints.GoogleToken
		}
		if opts.Endpoints.Fcm != "" {
			host = strings.TrimRight(opts.Endpoints.Fcm, "/")
		}
	}
	conf := &jwt.Config{
		Email:        cred.ClientEmail,
		PrivateKey:   cred.keyPEM,
		PrivateKeyID: cred.PrivateKeyID,
		Scopes:       []string{fcmScope},
		TokenURL:     tokenURL,
	}
	c := &FcmV1Client{sendURL: host + "/v1/projects/" + url.PathEscape(cred.ProjectID) + "/messages:send"}
	c.bearerClient = newBearerClient(ServiceFcmV1, opts, func(ctx context.Context) (*oauth2.Token, error) {
		// A fresh source each time: the cache decides reuse, by the
		// injected clock.
		return conf.TokenSource(ctx).Token()
	})
	return c, nil
}

// fcmBody sets message.token to handle in an FCM v1 request body
// ({"message":{…}}), dropping any topic or condition.
func fcmBody(payload []byte, handle string) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(payload, &top); err != nil || top == nil {
		return nil, errors.New("FCM v1 payload is not a JSON object")
	}
	var msg map[string]json.RawMessage
	if raw, ok := top["message"]; ok {
		if err := json.Unmarshal(raw, &msg); err != nil || msg == nil {
			return nil, errors.New(`FCM v1 payload's "message" is not a JSON object`)
		}
	} else {
		return nil, errors.New(`FCM v1 payload has no "message"`)
	}
	delete(msg, "topic")
	delete(msg, "condition")
	tok, _ := json.Marshal(handle)
	msg["token"] = tok
	m, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	top["message"] = m
	return json.Marshal(top)
}

// Send posts n to messages:send with n.Handle as message.token.
func (c *FcmV1Client) Send(ctx context.Context, n *Notification) (r Result) {
	body, err := fcmBody(n.Payload, n.Handle)
	if err != nil {
		return Result{Service: ServiceFcmV1, Handle: n.Handle, Status: StatusBadRequest,
			Outcome: OutcomeInvalidNotificationFormat, Reason: err.Error(), Time: c.clock.Now()}
	}
	resp, r := c.do(ctx, n, func(token string) (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, c.sendURL, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		return req, nil
	})
	defer func() { r.Time = c.clock.Now() }()
	if resp == nil {
		return r
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode == http.StatusOK {
		var ok struct {
			Name string `json:"name"`
		}
		json.Unmarshal(raw, &ok)
		r.ID = ok.Name
		httpResult(&r, resp, c.clock.Now())
		return r
	}
	var e struct {
		Error struct {
			Status  string `json:"status"`
			Details []struct {
				Type      string `json:"@type"`
				ErrorCode string `json:"errorCode"`
			} `json:"details"`
		} `json:"error"`
	}
	json.Unmarshal(raw, &e)
	r.Reason = e.Error.Status
	for _, d := range e.Error.Details {
		if d.ErrorCode != "" {
			r.Reason = d.ErrorCode
		}
	}
	httpResult(&r, resp, c.clock.Now())
	switch {
	case r.Reason == "UNREGISTERED" || (resp.StatusCode == http.StatusNotFound && r.Reason == "NOT_FOUND"):
		r.Status, r.Outcome = StatusHandleGone, OutcomeExpiredChannel
	case r.Reason == "SENDER_ID_MISMATCH":
		r.Status, r.Outcome = StatusBadRequest, OutcomeWrongToken
	case r.Reason == "QUOTA_EXCEEDED":
		r.Status, r.Outcome = StatusThrottled, OutcomeThrottled
	case r.Reason == "THIRD_PARTY_AUTH_ERROR":
		r.Status, r.Outcome = StatusBadCredential, OutcomeInvalidCredentials
	}
	return r
}
