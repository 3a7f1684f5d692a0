package push

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
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
	if err := checkAppleID(name, "KeyID", keyID); err != nil {
		return nil, err
	}
	if err := checkAppleID(name, "TeamID", teamID); err != nil {
		return nil, err
	}
	if err := checkToken(name, "BundleID", bundleID); err != nil {
		return nil, err
	}
	der, err := pemOrBase64(key, "PRIVATE KEY")
	if err != nil {
		return nil, credErr(name, "Key", "%s", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, credErr(name, "Key", "not a PKCS#8 private key")
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve.Params().Name != "P-256" {
		return nil, credErr(name, "Key", "not a P-256 EC key (APNs .p8 keys are)")
	}
	return &ApnsTokenCredential{KeyID: keyID, TeamID: teamID, BundleID: bundleID, Production: production, key: ec}, nil
}

func (c ApnsTokenCredential) String() string {
	return fmt.Sprintf("ApnsTokenCredential{KeyID: %q, TeamID: %q, BundleID: %q, Production: %t, Key: %s}",
		c.KeyID, c.TeamID, c.BundleID, c.Production, redacted)
}

// GoString is String, so %#v shows no key either.
func (c ApnsTokenCredential) GoString() string { return c.String() }

// ApnsProduction reads a Notification Hubs APNs endpoint
// (gateway.push.apple.com, https://api.push.apple.com:443/3/device, their
// sandbox and development forms) and reports whether it is production.
func ApnsProduction(endpoint string) (bool, error) {
	l := strings.ToLower(strings.TrimSpace(endpoint))
	switch {
	case strings.Contains(l, "sandbox") || strings.Contains(l, "development"):
		return false, nil
	case strings.Contains(l, "push.apple.com"):
		return true, nil
	}
	return false, fmt.Errorf("push: APNs endpoint %q is neither Apple's production nor its sandbox endpoint", endpoint)
}

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

var oidUID = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}

// NewApnsCertificateCredential parses data, a PKCS#12 file (raw or base64,
// as Notification Hubs stores it) opened with password, or PEM holding the
// certificate and its private key.
func NewApnsCertificateCredential(data []byte, password string, production bool) (*ApnsCertificateCredential, error) {
	const name = "ApnsCertificateCredential"
	var cert tls.Certificate
	if pemStart(data) {
		c, err := tls.X509KeyPair(data, data)
		if err != nil {
			return nil, credErr(name, "Certificate", "PEM without a matching certificate and private key")
		}
		cert = c
	} else {
		der := data
		if d, err := decodeBase64(string(data)); err == nil {
			der = d
		}
		key, leaf, chain, err := pkcs12.DecodeChain(der, password)
		if err != nil {
			if errors.Is(err, pkcs12.ErrIncorrectPassword) {
				return nil, credErr(name, "Password", "does not open the PKCS#12 file")
			}
			return nil, credErr(name, "Certificate", "neither PKCS#12 nor PEM")
		}
		cert.Certificate = [][]byte{leaf.Raw}
		for _, c := range chain {
			cert.Certificate = append(cert.Certificate, c.Raw)
		}
		cert.PrivateKey = key
		cert.Leaf = leaf
	}
	leaf := cert.Leaf
	if leaf == nil {
		l, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			return nil, credErr(name, "Certificate", "unparseable certificate")
		}
		leaf, cert.Leaf = l, l
	}
	switch cert.PrivateKey.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
	default:
		return nil, credErr(name, "Certificate", "private key is neither RSA nor EC")
	}
	var bundle string
	for _, n := range leaf.Subject.Names {
		if n.Type.Equal(oidUID) {
			bundle, _ = n.Value.(string)
		}
	}
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
	if !strings.Contains(clientEmail, "@") || strings.ContainsAny(clientEmail, " \t\r\n") {
		return nil, credErr(name, "ClientEmail", "not an e-mail address")
	}
	if err := checkToken(name, "ProjectID", projectID); err != nil {
		return nil, err
	}
	// Keys pasted into JSON or environment variables often carry literal \n.
	pk := strings.ReplaceAll(privateKey, `\n`, "\n")
	block, _ := pem.Decode([]byte(pk))
	if block == nil {
		return nil, credErr(name, "PrivateKey", "not PEM")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if _, ok := k.(*rsa.PrivateKey); !ok {
			return nil, credErr(name, "PrivateKey", "not an RSA key")
		}
	} else if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
		return nil, credErr(name, "PrivateKey", "not a PKCS#8 or PKCS#1 RSA key")
	}
	return &FcmV1Credential{ClientEmail: clientEmail, ProjectID: projectID, TokenURL: DefaultGoogleTokenURL,
		keyPEM: pem.EncodeToMemory(block)}, nil
}

// NewFcmV1CredentialFromJSON reads a service-account JSON key file.
func NewFcmV1CredentialFromJSON(serviceAccount []byte) (*FcmV1Credential, error) {
	const name = "FcmV1Credential"
	var sa struct {
		Type         string `json:"type"`
		ProjectID    string `json:"project_id"`
		PrivateKeyID string `json:"private_key_id"`
		PrivateKey   string `json:"private_key"`
		ClientEmail  string `json:"client_email"`
		TokenURI     string `json:"token_uri"`
	}
	if err := json.Unmarshal(serviceAccount, &sa); err != nil {
		// The decoder's message can quote the input; say only where.
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, credErr(name, "JSON", "not valid JSON (at byte %d)", se.Offset)
		}
		return nil, credErr(name, "JSON", "not a service-account object")
	}
	if sa.Type != "" && sa.Type != "service_account" {
		return nil, credErr(name, "JSON", "type is %q, want service_account", sa.Type)
	}
	c, err := NewFcmV1Credential(sa.ClientEmail, sa.PrivateKey, sa.ProjectID)
	if err != nil {
		return nil, err
	}
	c.PrivateKeyID = sa.PrivateKeyID
	if sa.TokenURI != "" {
		u, err := url.Parse(sa.TokenURI)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, credErr(name, "token_uri", "not an https URL")
		}
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
	if err := checkToken(name, "PackageSID", packageSID); err != nil {
		return nil, err
	}
	if err := checkSecret(name, "SecretKey", secretKey); err != nil {
		return nil, err
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
	if err := checkToken(name, "ClientID", clientID); err != nil {
		return nil, err
	}
	if err := checkSecret(name, "ClientSecret", clientSecret); err != nil {
		return nil, err
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
	u, err := url.Parse(subject)
	if err != nil || (u.Scheme != "mailto" && u.Scheme != "https") || (u.Opaque == "" && u.Host == "") {
		return nil, credErr(name, "Subject", "must be a mailto: or https: URL")
	}
	pub, err := decodeBase64(publicKey)
	if err != nil {
		return nil, credErr(name, "PublicKey", "not base64url")
	}
	if _, err := ecdh.P256().NewPublicKey(pub); err != nil {
		return nil, credErr(name, "PublicKey", "not an uncompressed P-256 point (65 bytes)")
	}
	priv, err := decodeBase64(privateKey)
	if err != nil {
		return nil, credErr(name, "PrivateKey", "not base64url")
	}
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), priv)
	if err != nil {
		return nil, credErr(name, "PrivateKey", "not a P-256 private key (32 bytes)")
	}
	mine, err := key.PublicKey.Bytes()
	if err != nil || string(mine) != string(pub) {
		return nil, credErr(name, "PrivateKey", "does not belong to PublicKey")
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
	if err := checkToken(name, "APIKey", apiKey); err != nil {
		return nil, err
	}
	if err := checkSecret(name, "SecretKey", secretKey); err != nil {
		return nil, err
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
	if err := checkSecret(name, "AppSecret", appSecret); err != nil {
		return nil, err
	}
	if u, err := url.Parse(endpoint); err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, credErr(name, "Endpoint", "not an https URL")
	}
	return &XiaomiCredential{Endpoint: endpoint, secret: appSecret}, nil
}

func (c XiaomiCredential) String() string {
	return fmt.Sprintf("XiaomiCredential{Endpoint: %q, AppSecret: %s}", c.Endpoint, redacted)
}

// GoString is String, so %#v shows no secret either.
func (c XiaomiCredential) GoString() string { return c.String() }

// ---- helpers ------------------------------------------------------------------

func checkAppleID(cred, field, v string) error {
	if v == "" {
		return credErr(cred, field, "empty")
	}
	if len(v) > 64 {
		return credErr(cred, field, "longer than 64 characters")
	}
	for _, r := range v {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return credErr(cred, field, "%q has characters other than letters and digits", v)
		}
	}
	return nil
}

func checkToken(cred, field, v string) error {
	if strings.TrimSpace(v) == "" {
		return credErr(cred, field, "empty")
	}
	if strings.ContainsAny(v, " \t\r\n") {
		return credErr(cred, field, "%q contains white space", v)
	}
	return nil
}

// checkSecret is checkToken that never quotes the value.
func checkSecret(cred, field, v string) error {
	if strings.TrimSpace(v) == "" {
		return credErr(cred, field, "empty")
	}
	if strings.ContainsAny(v, "\r\n") {
		return credErr(cred, field, "contains a line break")
	}
	return nil
}

func pemStart(b []byte) bool {
	return strings.HasPrefix(strings.TrimSpace(string(b)), "-----BEGIN")
}

// pemOrBase64 returns the DER of b: the first PEM block of type typ, or b as
// base64 (the PEM body without its armour).
func pemOrBase64(b []byte, typ string) ([]byte, error) {
	if pemStart(b) {
		for rest := b; ; {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				return nil, fmt.Errorf("no %s PEM block", typ)
			}
			if block.Type == typ {
				return block.Bytes, nil
			}
		}
	}
	der, err := decodeBase64(string(b))
	if err != nil {
		return nil, errors.New("neither PEM nor base64")
	}
	return der, nil
}

// decodeBase64 accepts standard and URL alphabets, padded or not, with
// white space anywhere.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		case '-':
			return '+'
		case '_':
			return '/'
		}
		return r
	}, s)
	s = strings.TrimRight(s, "=")
	if s == "" {
		return nil, errors.New("empty")
	}
	return base64.RawStdEncoding.DecodeString(s)
}
