// Package sas signs and verifies Shared Access Signature tokens as Azure
// Notification Hubs uses them (rest-api.md §2.2). It is shared by the SDK,
// which signs, and the emulator, which verifies, and is pinned by
// known-answer tests so that neither can drift from the service.
package sas

import "time"

// Sign returns the value of an Authorization header:
//
//	SharedAccessSignature sr=<ENC(lower(audience))>&sig=<ENC(b64(HMAC))>&se=<unix>&skn=<keyName>
//
// The HMAC-SHA256 key is the UTF-8 bytes of key as written (not
// base64-decoded); the string to sign is ENC(lower(audience)) + "\n" + se.
// ENC is url.QueryEscape.
func Sign(audience, keyName, key string, expiry time.Time) string { panic("TODO") }

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

// Parse parses an Authorization header value. The "SharedAccessSignature "
// prefix is matched case-insensitively; fields may come in any order. The
// error never contains the signature.
func Parse(authorization string) (Token, error) { panic("TODO") }

// ValidSignature reports, in constant time, whether the token was signed
// with key: HMAC-SHA256(key, RawAudience + "\n" + RawExpiry).
func (t Token) ValidSignature(key string) bool { panic("TODO") }

// Covers reports whether the token's audience grants access to the resource
// at host and path: lower(host+path) of the audience, without scheme, port,
// query or trailing slash, must be a prefix on a '/' boundary of
// lower(host+path) of the request.
func (t Token) Covers(host, path string) bool { panic("TODO") }
