package notificationhubs

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/nhkit/notificationhubs/internal/sas"
)

// NewSASToken signs a Shared Access Signature token: the value of the
// Authorization header the service expects, built as the first step of
// Microsoft's article "How to use Notification Hubs from Python" builds it:
//
//	SharedAccessSignature sr={resource}&sig={signature}&se={expiry}&skn={keyName}
//
// resourceURI is what the token grants access to: for a hub, the
// namespace endpoint followed by the hub name
// (https://{namespace}.servicebus.windows.net/{hub}; an sb:// scheme is
// taken as https://), which covers every request on the hub. keyName and
// key are those of an access rule (the connection string's
// SharedAccessKeyName and SharedAccessKey; the key is used as written,
// not base64-decoded). The token is valid until expiry, to the second.
//
// A Client signs its own tokens; NewSASToken is for a backend that hands
// devices a token to register with, and for trying the REST API with curl.
// The token is a credential: log it no more than the key itself.
// Errors never contain the key.
func NewSASToken(resourceURI, keyName, key string, expiry time.Time) (string, error) {
	aud, err := sasAudience(resourceURI)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(keyName) == "" {
		return "", errors.New("notificationhubs: SAS token: key name is empty")
	}
	if strings.ContainsAny(keyName, "& \t\r\n") {
		return "", fmt.Errorf("notificationhubs: SAS token: key name %q contains '&' or white space", keyName)
	}
	if key == "" {
		return "", errors.New("notificationhubs: SAS token: key is empty")
	}
	if expiry.Unix() <= 0 {
		return "", fmt.Errorf("notificationhubs: SAS token: expiry %s is not after 1970", expiry.UTC().Format(time.RFC3339))
	}
	return sas.Sign(aud, keyName, key, expiry), nil
}

// sasAudience checks a resource URI and maps sb:// to https://.
func sasAudience(resourceURI string) (string, error) {
	s := strings.TrimSpace(resourceURI)
	if s == "" {
		return "", errors.New("notificationhubs: SAS token: resource URI is empty")
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("notificationhubs: SAS token: resource URI %q is not an absolute URL such as https://{namespace}.servicebus.windows.net/{hub}", clip(s, 80))
	}
	switch strings.ToLower(u.Scheme) {
	case "https", "http":
	case "sb":
		s = "https" + s[len(u.Scheme):]
	default:
		return "", fmt.Errorf("notificationhubs: SAS token: resource URI scheme %q is not https, http or sb", clip(u.Scheme, 16))
	}
	return s, nil
}

// SASToken is a parsed Shared Access Signature token. Parse one with
// ParseSASToken, then check it with ValidSignature, Expired and Covers, as
// the service does. Its String method leaves the signature out.
type SASToken struct {
	// ResourceURI is the resource the token grants access to (the sr
	// field, percent-decoded).
	ResourceURI string
	// KeyName is the name of the access rule that signed it (skn).
	KeyName string
	// Expiry is when the token stops being valid (se).
	Expiry time.Time

	tok sas.Token
}

// ParseSASToken parses a token as NewSASToken (or any official SDK) writes
// it, with or without the leading "SharedAccessSignature ", fields in any
// order. It checks the form only; ValidSignature checks the signature.
// Errors never contain the signature.
func ParseSASToken(token string) (SASToken, error) {
	s := strings.TrimSpace(token)
	if len(s) < len(sas.Prefix) || !strings.EqualFold(s[:len(sas.Prefix)], sas.Prefix) {
		s = sas.Prefix + " " + s
	}
	t, err := sas.Parse(s)
	if err != nil {
		return SASToken{}, fmt.Errorf("notificationhubs: SAS token: %w", err)
	}
	return SASToken{ResourceURI: t.Audience, KeyName: t.KeyName, Expiry: t.Expiry, tok: t}, nil
}

// ValidSignature reports, in constant time, whether the token was signed
// with key (the key of the rule KeyName, as written).
func (t SASToken) ValidSignature(key string) bool {
	return t.tok.Signature != "" && t.tok.ValidSignature(key)
}

// Expired reports whether the token has expired at now.
func (t SASToken) Expired(now time.Time) bool { return t.tok.Expired(now) }

// Covers reports whether the token grants access to resourceURI, as the
// service decides: the token's resource, without scheme, port, query or
// trailing slash and compared case-insensitively, must be resourceURI or
// a path prefix of it. A token for https://ns.servicebus.windows.net/hub
// covers https://ns.servicebus.windows.net/hub/messages.
func (t SASToken) Covers(resourceURI string) bool {
	u, err := url.Parse(strings.TrimSpace(resourceURI))
	if err != nil || u.Host == "" {
		return false
	}
	return t.tok.Covers(u.Host, u.Path)
}

// String returns the token with its signature replaced by REDACTED.
func (t SASToken) String() string {
	if t.tok.KeyName == "" {
		return ""
	}
	return sas.Prefix + " sr=" + t.tok.RawAudience + "&sig=REDACTED&se=" + t.tok.RawExpiry + "&skn=" + t.tok.KeyName
}

// GoString is like String, for the %#v verb.
func (t SASToken) GoString() string { return "notificationhubs.SASToken{" + t.String() + "}" }
