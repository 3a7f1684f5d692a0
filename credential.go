package notificationhubs

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nhkit/notificationhubs/internal/sas"
)

// SharedAccessKeyCredential is the name and key of a shared access rule of
// a hub or namespace. A Client signs its requests with it (docs/protocol.md,
// "SAS tokens"). It prints without the key.
type SharedAccessKeyCredential struct {
	keys atomic.Pointer[sasKey]
}

type sasKey struct {
	name, key string
}

// NewSharedAccessKeyCredential returns a credential for the rule keyName
// with its key, used as written (not base64-decoded).
func NewSharedAccessKeyCredential(keyName, key string) (*SharedAccessKeyCredential, error) {
	c := &SharedAccessKeyCredential{}
	if err := c.Update(keyName, key); err != nil {
		return nil, err
	}
	return c, nil
}

// Update replaces the rule name and key, for key rotation. Clients using
// the credential sign their next request with the new key.
func (c *SharedAccessKeyCredential) Update(keyName, key string) error {
	if strings.TrimSpace(keyName) == "" {
		return errors.New("shared access key credential: key name is empty")
	}
	if key == "" {
		return errors.New("shared access key credential: key is empty")
	}
	c.keys.Store(&sasKey{name: keyName, key: key})
	return nil
}

// KeyName returns the rule name.
func (c *SharedAccessKeyCredential) KeyName() string { return c.keys.Load().name }

// String returns the rule name only.
func (c *SharedAccessKeyCredential) String() string {
	return "SharedAccessKeyCredential{KeyName: " + c.KeyName() + "}"
}

// GoString is like String, for the %#v verb.
func (c *SharedAccessKeyCredential) GoString() string { return c.String() }

// sasPolicy makes the Authorization header that the client's per-try
// policy (tryPolicy) sets on every try. It signs one token per lifetime
// for the hub audience, caches it and signs a new one shortly before it
// expires or when the credential's key changes. It is safe for
// concurrent use, and serving a cached token allocates nothing.
type sasPolicy struct {
	cred     *SharedAccessKeyCredential
	audience string
	lifetime time.Duration
	margin   time.Duration
	now      func() time.Time

	mu    sync.Mutex
	tok   atomic.Pointer[sasToken]
	signs atomic.Int64 // number of signatures made, for tests and benchmarks
}

type sasToken struct {
	header    []string // the Authorization header value, shared read-only
	key       *sasKey
	refreshAt time.Time
}

func newSASPolicy(cred *SharedAccessKeyCredential, audience string, lifetime time.Duration) *sasPolicy {
	// Refresh 5 minutes before expiry, or at half the lifetime when it is short.
	margin := 5 * time.Minute
	if lifetime < 2*margin {
		margin = lifetime / 2
	}
	return &sasPolicy{cred: cred, audience: audience, lifetime: lifetime, margin: margin, now: time.Now}
}

// header returns the current Authorization header value, signing a new
// token when there is none, it is about to expire or the key changed.
func (p *sasPolicy) header() []string {
	key := p.cred.keys.Load()
	if t := p.tok.Load(); t != nil && t.key == key && p.now().Before(t.refreshAt) {
		return t.header
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	key = p.cred.keys.Load()
	now := p.now()
	if t := p.tok.Load(); t != nil && t.key == key && now.Before(t.refreshAt) {
		return t.header
	}
	expiry := now.Add(p.lifetime)
	t := &sasToken{
		header:    []string{sas.Sign(p.audience, key.name, key.key, expiry)},
		key:       key,
		refreshAt: expiry.Add(-p.margin),
	}
	p.signs.Add(1)
	p.tok.Store(t)
	return t.header
}
