package pushtest

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/nhkit/notificationhubs/emulator/internal/push"
	"github.com/nhkit/notificationhubs/internal/pnscred/pnscredtest"
)

// Google stands in for Google's OAuth 2.0 token endpoint (POST /token: the
// JWT bearer grant, its assertion checked with the service account's public
// key, its iss, aud, scope, iat and exp) and FCM's send endpoint (POST
// /v1/projects/{project}/messages:send: a live access token of that
// project's account and a message with exactly one target).
type Google struct {
	base
	accounts map[string]googleAccount // by client email
	tokens   map[string]googleToken   // access tokens issued
	// TokenLifetime is the expires_in of the tokens issued (default 1h).
	TokenLifetime time.Duration
	// TokenFault, when set, is the status the token endpoint answers
	// (400 invalid_grant, 401 invalid_client, 429 or 5xx).
	TokenFault   int
	tokenCount   atomic.Int64
	msgCount     atomic.Int64
	assertionsOK atomic.Int64
}

type googleAccount struct {
	pub     *rsa.PublicKey
	project string
}

type googleToken struct {
	project string
	expires time.Time
}

// NewGoogle starts a Google token and FCM stand-in.
func NewGoogle(tb testing.TB) *Google {
	g := &Google{accounts: map[string]googleAccount{}, tokens: map[string]googleToken{}, TokenLifetime: time.Hour}
	g.init()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", g.serveToken)
	mux.HandleFunc("POST /v1/projects/{project}/messages:send", g.serveSend)
	g.start(tb, mux, nil)
	return g
}

// TokenURL is the token endpoint's URL, the aud of assertions.
func (g *Google) TokenURL() string { return g.URL() + "/token" }

// TokenRequests counts the token requests (each carries one signed
// assertion).
func (g *Google) TokenRequests() int { return int(g.tokenCount.Load()) }

// NewServiceAccount makes a service account of project the stand-in trusts
// and returns its JSON key file, with token_uri pointing at the stand-in.
func (g *Google) NewServiceAccount(tb testing.TB, project string) []byte {
	sa := pnscredtest.NewServiceAccount(project)
	sa.ClientEmail = fmt.Sprintf("sender-%s@%s.iam.gserviceaccount.com", randomHex(3), project)
	sa.PrivateKeyID, sa.ClientID, sa.TokenURI = randomHex(20), "1"+randomHex(10), g.TokenURL()
	g.mu.Lock()
	g.accounts[sa.ClientEmail] = googleAccount{pub: &sa.Key.PublicKey, project: project}
	g.mu.Unlock()
	return sa.JSON()
}

// NewCredential is NewServiceAccount parsed into a credential.
func (g *Google) NewCredential(tb testing.TB, project string) *push.FcmV1Credential {
	c, err := push.NewFcmV1CredentialFromJSON(g.NewServiceAccount(tb, project))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (g *Google) serveToken(w http.ResponseWriter, r *http.Request) {
	g.tokenCount.Add(1)
	if err := r.ParseForm(); err != nil {
		oauthError(w, 400, "invalid_request", "unreadable form")
		return
	}
	if f := g.TokenFault; f != 0 {
		if f == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", g.RetryAfter)
		}
		code := "invalid_grant"
		if f >= 500 || f == http.StatusTooManyRequests {
			code = "temporarily_unavailable"
		} else if f == http.StatusUnauthorized {
			code = "invalid_client"
		}
		oauthError(w, f, code, "stand-in fault")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		oauthError(w, 400, "unsupported_grant_type", "Invalid grant_type: "+gt)
		return
	}
	var acct googleAccount
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(r.PostForm.Get("assertion"), claims, func(t *jwt.Token) (any, error) {
		iss, _ := claims["iss"].(string)
		g.mu.Lock()
		a, ok := g.accounts[iss]
		g.mu.Unlock()
		if !ok {
			return nil, fmt.Errorf("unknown account")
		}
		acct = a
		return a.pub, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(g.TokenURL()), jwt.WithIssuedAt(),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(g.clock), jwt.WithLeeway(30*time.Second))
	if err != nil {
		oauthError(w, 400, "invalid_grant", "Invalid JWT: "+err.Error())
		return
	}
	iat, _ := claims.GetIssuedAt()
	exp, _ := claims.GetExpirationTime()
	if exp.Sub(iat.Time) > time.Hour {
		oauthError(w, 400, "invalid_grant", "Invalid JWT: expiration more than an hour after issue")
		return
	}
	if scope, _ := claims["scope"].(string); !strings.Contains(" "+scope+" ", " https://www.googleapis.com/auth/firebase.messaging ") {
		oauthError(w, 400, "invalid_scope", "firebase.messaging scope missing")
		return
	}
	g.assertionsOK.Add(1)
	tok := "ya29.pushtest-" + randomHex(16)
	g.mu.Lock()
	g.tokens[tok] = googleToken{project: acct.project, expires: g.now().Add(g.TokenLifetime)}
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": int(g.TokenLifetime / time.Second), "token_type": "Bearer"})
}

func fcmError(w http.ResponseWriter, status int, st, errorCode, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	e := map[string]any{"code": status, "message": msg, "status": st}
	if errorCode != "" {
		e["details"] = []map[string]string{{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": errorCode}}
	}
	json.NewEncoder(w).Encode(map[string]any{"error": e})
}

func (g *Google) serveSend(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rec := Received{Header: r.Header.Clone(), Body: body, Proto: r.Proto}
	status := g.send(w, r, body, &rec)
	rec.Status = status
	g.record(rec)
}

func (g *Google) send(w http.ResponseWriter, r *http.Request, body []byte, rec *Received) int {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	g.mu.Lock()
	t, known := g.tokens[raw]
	now := g.now()
	g.mu.Unlock()
	if !ok || !known || !now.Before(t.expires) {
		fcmError(w, 401, "UNAUTHENTICATED", "", "Request had invalid authentication credentials.")
		return 401
	}
	if t.project != r.PathValue("project") {
		fcmError(w, 403, "PERMISSION_DENIED", "", "Permission denied for the project.")
		return 403
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		fcmError(w, 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Invalid JSON payload received.")
		return 400
	}
	for k := range top {
		if k != "message" && k != "validate_only" {
			fcmError(w, 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "Unknown name "+k)
			return 400
		}
	}
	var msg map[string]json.RawMessage
	if err := json.Unmarshal(top["message"], &msg); err != nil || msg == nil {
		fcmError(w, 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "message is required")
		return 400
	}
	targets := 0
	for _, k := range []string{"token", "topic", "condition"} {
		if _, ok := msg[k]; ok {
			targets++
		}
	}
	var token string
	json.Unmarshal(msg["token"], &token)
	rec.Handle = token
	if targets != 1 || token == "" {
		fcmError(w, 400, "INVALID_ARGUMENT", "INVALID_ARGUMENT", "exactly one of token, topic or condition is required")
		return 400
	}
	switch g.fault(token) {
	case FaultGone:
		fcmError(w, 404, "NOT_FOUND", "UNREGISTERED", "Requested entity was not found.")
		return 404
	case FaultThrottled:
		w.Header().Set("Retry-After", g.RetryAfter)
		fcmError(w, 429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "Quota exceeded.")
		return 429
	case FaultServerError:
		fcmError(w, 503, "UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable.")
		return 503
	case FaultBadCredential:
		fcmError(w, 401, "UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR", "Auth error from APNS or Web Push Service")
		return 401
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	fmt.Fprintf(w, `{"name":"projects/%s/messages/0:%d%%%s"}`, t.project, g.msgCount.Add(1), randomHex(4))
	return 200
}
