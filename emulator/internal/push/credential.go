package push

import (
	"crypto/ecdsa"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/nhkit/notificationhubs/internal/pnscred"
)

// CredentialError says which field of which credential is wrong and why. It
// never quotes the secret.
type CredentialError struct {
	Credential string // e.g. "ApnsTokenCredential"
	Field      string // e.g. "Key"
	Reason     string
}

func (e *CredentialError) Error() string {
	return "push: " + e.Credential + ": " + e.Field + ": " + e.Reason
}

func credErr(cred, field, format string, args ...any) error {
	return &CredentialError{Credential: cred, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// wrapErr turns an error of package pnscred into a CredentialError of cred.
func wrapErr(cred string, err error) error {
	var e *pnscred.Error
	if errors.As(err, &e) {
		return &CredentialError{Credential: cred, Field: e.Field, Reason: e.Reason}
	}
	return err
}

const redacted = "[redacted]"

// ---- APNs by token --------------------------------------------------------

// ApnsTokenCredential authenticates to APNs with provider tokens signed by a
// .p8 key (token-based authentication).
type ApnsTokenCredential struct {
	// KeyID is the key's id (the kid of the provider token).
	KeyID string
	// TeamID is the developer team (the iss of the provider token).
	TeamID string
	// BundleID is the app's bundle id, the apns-topic.
	BundleID string
	// Production selects api.push.apple.com; false is the sandbox.
	Production bool

	key *ecdsa.PrivateKey
}

// NewApnsTokenCredential checks the ids and parses key, the .p8 file (PEM)
// or its base64 body as Notification Hubs stores it.
func NewApnsTokenCredential(keyID, teamID, bundleID string, key []byte, production bool) (*ApnsTokenCredential, error) {
	const name = "ApnsTokenCredential"
	ec, err := pnscred.ApnsToken(keyID, teamID, bundleID, key)
	if err != nil {
		return nil, wrapErr(name, err)
	}
	return &ApnsTokenCredential{KeyID: keyID, TeamID: teamID, BundleID: bundleID, Production: production, key: ec}, nil
}

func (c ApnsTokenCredential) String() string {
	return fmt.Sprintf("ApnsTokenCredential{KeyID: %q, TeamID: %q, BundleID: %q, Production: %t, Key: %s}",
		c.KeyID, c.TeamID, c.BundleID, c.Production, redacted)
}

// GoString is String, so %#v shows no key either.
func (c ApnsTokenCredential) GoString() string { return c.String() }

// ---- APNs by certificate --------------------------------------------------

// ApnsCertificateCredential authenticates to APNs with a TLS client
// certificate (certificate-based authentication).
type ApnsCertificateCredential struct {
	// BundleID is the apns-topic: the certificate subject's UID, which
	// Apple sets to the bundle id.
	BundleID string
	// Subject is the certificate's subject, for display.
	Subject string
	// Production selects api.push.apple.com; false is the sandbox.
	Production bool

	cert tls.Certificate
}

// NewApnsCertificateCredential parses data, a PKCS#12 file (raw or base64,
// as Notification Hubs stores it) opened with password, or PEM holding the
// certificate and its private key.
func NewApnsCertificateCredential(data []byte, password string, production bool) (*ApnsCertificateCredential, error) {
	const name = "ApnsCertificateCredential"
	c, err := pnscred.ApnsCertificate(data, password)
	if err != nil {
		return nil, wrapErr(name, err)
	}
	cert, leaf, bundle := c.TLS, c.Leaf, c.BundleID
	if bundle == "" {
		return nil, credErr(name, "Certificate", "subject has no UID (the bundle id Apple puts in push certificates)")
	}
	return &ApnsCertificateCredential{BundleID: bundle, Subject: leaf.Subject.String(), Production: production, cert: cert}, nil
}

func (c ApnsCertificateCredential) String() string {
	return fmt.Sprintf("ApnsCertificateCredential{BundleID: %q, Subject: %q, Production: %t, Key: %s}",
		c.BundleID, c.Subject, c.Production, redacted)
}

// GoString is String, so %#v shows no key either.
func (c ApnsCertificateCredential) GoString() string { return c.String() }

// ---- FCM v1 -----------------------------------------------------------------

// DefaultGoogleTokenURL is Google's OAuth 2.0 token endpoint.
const DefaultGoogleTokenURL = "https://oauth2.googleapis.com/token"

// FcmV1Credential is a Google service account allowed to send with FCM.
type FcmV1Credential struct {
	ClientEmail string
	ProjectID   string
	// TokenURL is the service account's token_uri.
	TokenURL string
	// PrivateKeyID is the service account's private_key_id (the JWT kid),
	// when known.
	PrivateKeyID string

	keyPEM []byte
}

// NewFcmV1Credential checks clientEmail and projectID and parses privateKey,
// the service account's RSA key in PEM (PKCS#8 or PKCS#1).
func NewFcmV1Credential(clientEmail, privateKey, projectID string) (*FcmV1Credential, error) {
	const name = "FcmV1Credential"
	keyPEM, err := pnscred.FcmV1(clientEmail, privateKey, projectID)
	if err != nil {
		return nil, wrapErr(name, err)
	}
	return &FcmV1Credential{ClientEmail: clientEmail, ProjectID: projectID, TokenURL: DefaultGoogleTokenURL,
		keyPEM: keyPEM}, nil
}

// NewFcmV1CredentialFromJSON reads a service-account JSON key file.
func NewFcmV1CredentialFromJSON(serviceAccount []byte) (*FcmV1Credential, error) {
	const name = "FcmV1Credential"
	sa, err := pnscred.ParseServiceAccount(serviceAccount)
	if err != nil {
		return nil, wrapErr(name, err)
	}
	c, err := NewFcmV1Credential(sa.ClientEmail, sa.PrivateKey, sa.ProjectID)
	if err != nil {
		return nil, err
	}
	c.PrivateKeyID = sa.PrivateKeyID
	if sa.TokenURI != "" {
		c.TokenURL = sa.TokenURI
	}
	return c, nil
}

func (c FcmV1Credential) String() string {
	return fmt.Sprintf("FcmV1Credential{ClientEmail: %q, ProjectID: %q, TokenURL: %q, PrivateKey: %s}",
		c.ClientEmail, c.ProjectID, c.TokenURL, redacted)
}

// GoString is String, so %#v shows no key either.
func (c FcmV1Credential) GoString() string { return c.String() }

// ---- WNS --------------------------------------------------------------------

// DefaultWnsTokenURL is the WNS token endpoint.
const DefaultWnsTokenURL = "https://login.live.com/accesstoken.srf"

// WnsCredential is a Windows app's package SID and client secret.
type WnsCredential struct {
	PackageSID string

	secret string
}

// NewWnsCredential checks both values.
func NewWnsCredential(packageSID, secretKey string) (*WnsCredential, error) {
	const name = "WnsCredential"
	if err := pnscred.IDAndSecret("PackageSID", packageSID, "SecretKey", secretKey); err != nil {
		return nil, wrapErr(name, err)
	}
	return &WnsCredential{PackageSID: packageSID, secret: secretKey}, nil
}

func (c WnsCredential) String() string {
	return fmt.Sprintf("WnsCredential{PackageSID: %q, SecretKey: %s}", c.PackageSID, redacted)
}

// GoString is String, so %#v shows no secret either.
func (c WnsCredential) GoString() string { return c.String() }

// ---- ADM --------------------------------------------------------------------

// AdmCredential is an Amazon Device Messaging security profile's client id
// and secret.
type AdmCredential struct {
	ClientID string

	secret string
}

// NewAdmCredential checks both values.
func NewAdmCredential(clientID, clientSecret string) (*AdmCredential, error) {
	const name = "AdmCredential"
	if err := pnscred.IDAndSecret("ClientID", clientID, "ClientSecret", clientSecret); err != nil {
		return nil, wrapErr(name, err)
	}
	return &AdmCredential{ClientID: clientID, secret: clientSecret}, nil
}

func (c AdmCredential) String() string {
	return fmt.Sprintf("AdmCredential{ClientID: %q, ClientSecret: %s}", c.ClientID, redacted)
}

// GoString is String, so %#v shows no secret either.
func (c AdmCredential) GoString() string { return c.String() }

// ---- Web Push (VAPID) ---------------------------------------------------------

// BrowserCredential is an application server's VAPID key pair and contact.
type BrowserCredential struct {
	// Subject is the contact: a mailto: or https: URL.
	Subject string
	// PublicKey is the VAPID public key, base64url of the uncompressed
	// P-256 point, as given to the browser's pushManager.subscribe.
	PublicKey string

	key *ecdsa.PrivateKey
}

// NewBrowserCredential checks subject and parses the keys (base64url, with
// or without padding); the private key must belong to the public one.
func NewBrowserCredential(subject, publicKey, privateKey string) (*BrowserCredential, error) {
	const name = "BrowserCredential"
	pub, key, err := pnscred.Browser(subject, publicKey, privateKey)
	if err != nil {
		return nil, wrapErr(name, err)
	}
	return &BrowserCredential{Subject: subject, PublicKey: base64.RawURLEncoding.EncodeToString(pub), key: key}, nil
}

func (c BrowserCredential) String() string {
	return fmt.Sprintf("BrowserCredential{Subject: %q, PublicKey: %q, PrivateKey: %s}", c.Subject, c.PublicKey, redacted)
}

// GoString is String, so %#v shows no key either.
func (c BrowserCredential) GoString() string { return c.String() }

// ---- Baidu and Xiaomi ---------------------------------------------------------

// BaiduCredential is a Baidu Cloud Push API key and secret key. There is no
// client for it (see UnsupportedSender).
type BaiduCredential struct {
	APIKey string

	secret string
}

// NewBaiduCredential checks both values.
func NewBaiduCredential(apiKey, secretKey string) (*BaiduCredential, error) {
	const name = "BaiduCredential"
	if err := pnscred.IDAndSecret("APIKey", apiKey, "SecretKey", secretKey); err != nil {
		return nil, wrapErr(name, err)
	}
	return &BaiduCredential{APIKey: apiKey, secret: secretKey}, nil
}

func (c BaiduCredential) String() string {
	return fmt.Sprintf("BaiduCredential{APIKey: %q, SecretKey: %s}", c.APIKey, redacted)
}

// GoString is String, so %#v shows no secret either.
func (c BaiduCredential) GoString() string { return c.String() }

// XiaomiCredential is a Xiaomi Push app secret and endpoint. There is no
// client for it (see UnsupportedSender).
type XiaomiCredential struct {
	Endpoint string

	secret string
}

// NewXiaomiCredential checks both values.
func NewXiaomiCredential(appSecret, endpoint string) (*XiaomiCredential, error) {
	const name = "XiaomiCredential"
	if err := pnscred.Secret("AppSecret", appSecret); err != nil {
		return nil, wrapErr(name, err)
	}
	if err := pnscred.HTTPSURL("Endpoint", endpoint); err != nil {
		return nil, wrapErr(name, err)
	}
	return &XiaomiCredential{Endpoint: endpoint, secret: appSecret}, nil
}

func (c XiaomiCredential) String() string {
	return fmt.Sprintf("XiaomiCredential{Endpoint: %q, AppSecret: %s}", c.Endpoint, redacted)
}

// GoString is String, so %#v shows no secret either.
func (c XiaomiCredential) GoString() string { return c.String() }

// ---- helpers ------------------------------------------------------------------

// decodeBase64 accepts standard and URL alphabets, padded or not, with
// white space anywhere.
func decodeBase64(s string) ([]byte, error) { return pnscred.DecodeBase64(s) }
