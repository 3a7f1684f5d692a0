package pushtest

import (
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// clientCredentials is a token endpoint for the OAuth 2.0 client
// credentials grant (RFC 6749 section 4.4) with id and secret in the form
// body, as WNS and ADM run it.
type clientCredentials struct {
	scope string
	// badClient is the status for an unknown id or wrong secret.
	badClient int
	prefix    string // of the tokens issued
	now       func() time.Time
	// lifetime is the expires_in of the tokens issued.
	lifetime time.Duration

	mu      sync.Mutex
	clients map[string]string    // id -> secret
	tokens  map[string]time.Time // token -> expiry
	count   atomic.Int64
}

func (c *clientCredentials) register(id, secret string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.clients == nil {
		c.clients, c.tokens = map[string]string{}, map[string]time.Time{}
	}
	c.clients[id] = secret
}

// live reports whether tok was issued and has not expired.
func (c *clientCredentials) live(tok string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	exp, ok := c.tokens[tok]
	return ok && c.now().Before(exp)
}

func (c *clientCredentials) serve(w http.ResponseWriter, r *http.Request) {
	c.count.Add(1)
	r.ParseForm()
	f := r.PostForm
	c.mu.Lock()
	secret, ok := c.clients[f.Get("client_id")]
	c.mu.Unlock()
	switch {
	case f.Get("grant_type") != "client_credentials":
		oauthError(w, 400, "unsupported_grant_type", "grant_type must be client_credentials")
	case !ok || secret != f.Get("client_secret"):
		oauthError(w, c.badClient, "invalid_client", "Invalid client id or secret")
	case f.Get("scope") != c.scope:
		oauthError(w, 400, "invalid_scope", "scope must be "+c.scope)
	default:
		tok := c.prefix + randomHex(16)
		c.mu.Lock()
		c.tokens[tok] = c.now().Add(c.lifetime)
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "bearer",
			"expires_in": int(c.lifetime / time.Second)})
	}
}
