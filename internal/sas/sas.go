// Package sas signs and verifies Shared Access Signature tokens as Azure
// Notification Hubs uses them (docs/protocol.md, "SAS tokens"). It is shared by the SDK,
// which signs, and the emulator, which verifies, and is pinned by
// known-answer tests so that neither can drift from the service.
//
// # Signing
//
// Sign produces the header value the Go SDK sends. The audience is
// lower-cased and encoded with url.QueryEscape; that encoded text is both
// the sr field and what is signed.
//
// # Verifying
//
// Parse is tolerant: fields in any order, a case-insensitive prefix and
// extra spaces. ValidSignature recomputes the HMAC over sr and se exactly
// as they were sent, because clients percent-encode differently (.NET with
// lowercase hex, JS with uppercase hex, the Python sample leaving '/'
// alone) and the service accepts all of them. Covers compares the decoded
// audience with the requested resource, ignoring scheme, port and query.
//
// No error of this package contains a key or a signature.
package sas

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Prefix is the scheme word that starts a SAS Authorization header value.
const Prefix = "SharedAccessSignature"

// Sign returns the value of an Authorization header:
//
//	SharedAccessSignature sr=<ENC(lower(audience))>&sig=<ENC(b64(HMAC))>&se=<unix>&skn=<keyName>
//
// The HMAC-SHA256 key is the UTF-8 bytes of key as written (not
// base64-decoded); the string to sign is ENC(lower(audience)) + "\n" + se.
// ENC is url.QueryEscape.
func Sign(audience, keyName, key string, expiry time.Time) string {
	sr := url.QueryEscape(strings.ToLower(audience))
	se := strconv.FormatInt(expiry.Unix(), 10)
	sig := url.QueryEscape(signature(key, sr, se))
	var b strings.Builder
	b.Grow(len(Prefix) + len(sr) + len(sig) + len(se) + len(keyName) + 20)
	b.WriteString(Prefix)
	b.WriteString(" sr=")
	b.WriteString(sr)
	b.WriteString("&sig=")
	b.WriteString(sig)
	b.WriteString("&se=")
	b.WriteString(se)
	b.WriteString("&skn=")
	b.WriteString(keyName)
	return b.String()
}

// signature returns base64(HMAC-SHA256(key, sr + "\n" + se)).
func signature(key, sr, se string) string {
	return base64.StdEncoding.EncodeToString(mac(key, sr, se))
}

func mac(key, sr, se string) []byte {
	h := hmac.New(sha256.New, []byte(key))
	h.Write([]byte(sr))
	h.Write([]byte{'\n'})
	h.Write([]byte(se))
	return h.Sum(nil)
}

// Token is a parsed SharedAccessSignature token.
type Token struct {
	// RawAudience is the sr value exactly as it appeared, still percent-encoded.
	RawAudience string
	// Audience is RawAudience percent-decoded.
	Audience string
	// RawExpiry is the se value exactly as it appeared.
	RawExpiry string
	// Expiry is se as a time.
	Expiry time.Time
	// Signature is the sig value percent-decoded (base64 text).
	Signature string
	// KeyName is the skn value.
	KeyName string
}

// ErrMalformed is wrapped by every error of Parse, so that callers can map
// them all to the service's MalformedToken answer with errors.Is.
var ErrMalformed = errors.New("malformed SharedAccessSignature token")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// Parse parses an Authorization header value. The "SharedAccessSignature "
// prefix is matched case-insensitively; fields may come in any order. The
// error never contains the signature.
func Parse(authorization string) (Token, error) {
	s := strings.TrimSpace(authorization)
	if len(s) < len(Prefix) || !strings.EqualFold(s[:len(Prefix)], Prefix) {
		return Token{}, malformed("authorization does not start with %q", Prefix)
	}
	s = s[len(Prefix):]
	if s == "" || (s[0] != ' ' && s[0] != '\t') {
		return Token{}, malformed("no space after %q", Prefix)
	}
	s = strings.TrimSpace(s)

	var t Token
	var seen [4]bool // sr, sig, se, skn
	for part := range strings.SplitSeq(s, "&") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			// Never echo the part: it may be a signature.
			return Token{}, malformed("field without '='")
		}
		k = strings.TrimSpace(k)
		v = strings.TrimSpace(v)
		var idx int
		switch strings.ToLower(k) {
		case "sr":
			idx = 0
		case "sig":
			idx = 1
		case "se":
			idx = 2
		case "skn":
			idx = 3
		default:
			// Unknown fields are ignored, as the service does not
			// document any others.
			continue
		}
		if seen[idx] {
			return Token{}, malformed("duplicate field %q", strings.ToLower(k))
		}
		seen[idx] = true
		switch idx {
		case 0:
			aud, err := url.QueryUnescape(v)
			if err != nil {
				return Token{}, malformed("field \"sr\" is not percent-encoded correctly")
			}
			t.RawAudience, t.Audience = v, aud
		case 1:
			// PathUnescape keeps a literal '+', which base64 uses and
			// which some clients do not escape.
			sig, err := url.PathUnescape(v)
			if err != nil {
				return Token{}, malformed("field \"sig\" is not percent-encoded correctly")
			}
			t.Signature = sig
		case 2:
			n, err := parseUnix(v)
			if err != nil {
				return Token{}, malformed("field \"se\" is not a whole number of seconds")
			}
			t.RawExpiry, t.Expiry = v, time.Unix(n, 0).UTC()
		case 3:
			// Taken as written, as Sign writes it.
			t.KeyName = v
		}
	}
	for i, name := range [4]string{"sr", "sig", "se", "skn"} {
		if !seen[i] {
			return Token{}, malformed("field %q is missing", name)
		}
	}
	if t.Audience == "" {
		return Token{}, malformed("field \"sr\" is empty")
	}
	if t.Signature == "" {
		return Token{}, malformed("field \"sig\" is empty")
	}
	if t.KeyName == "" {
		return Token{}, malformed("field \"skn\" is empty")
	}
	return t, nil
}

// parseUnix parses decimal seconds since the epoch: digits only.
func parseUnix(v string) (int64, error) {
	if v == "" || len(v) > 18 {
		return 0, errors.New("bad length")
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, errors.New("not a digit")
		}
	}
	return strconv.ParseInt(v, 10, 64)
}

// ValidSignature reports, in constant time, whether the token was signed
// with key: HMAC-SHA256(key, RawAudience + "\n" + RawExpiry).
func (t Token) ValidSignature(key string) bool {
	got, err := base64.StdEncoding.DecodeString(t.Signature)
	if err != nil {
		return false
	}
	return hmac.Equal(got, mac(key, t.RawAudience, t.RawExpiry))
}

// Expired reports whether the token's expiry is before now.
func (t Token) Expired(now time.Time) bool {
	return now.After(t.Expiry)
}

// Covers reports whether the token's audience grants access to the resource
// at host and path: lower(host+path) of the audience, without scheme, port,
// query or trailing slash, must be a prefix on a '/' boundary of
// lower(host+path) of the request.
func (t Token) Covers(host, path string) bool {
	aud := AudienceResource(t.Audience)
	if aud == "" {
		return false
	}
	req := resource(stripPort(host), path)
	if req == "" {
		return false
	}
	return req == aud || strings.HasPrefix(req, aud+"/")
}

// AudienceResource returns the part of an audience URI that Covers
// compares: lower(host + path) without scheme, user info, port, query,
// fragment or trailing '/'. An audience without a scheme ("ns/hub") is
// read as host and path. It returns "" when there is no host.
func AudienceResource(audience string) string {
	a := strings.TrimSpace(audience)
	if !strings.Contains(a, "://") {
		a = "//" + strings.TrimPrefix(a, "//")
	}
	u, err := url.Parse(a)
	if err != nil || u.Host == "" {
		return ""
	}
	return resource(u.Hostname(), u.Path)
}

// resource joins a host (without port) and a path, cleaned, lower-cased,
// without a trailing '/'.
func resource(host, p string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" {
		return ""
	}
	if p != "" {
		p = path.Clean("/" + p)
	}
	return strings.TrimSuffix(host+strings.ToLower(p), "/")
}

// stripPort removes a ":port" and IPv6 brackets from host.
func stripPort(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}
