package admin

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nhkit/notificationhubs/internal/atom"
	"github.com/nhkit/notificationhubs/internal/pnscred"
)

// CredentialError says which field of which push-service credential is
// wrong and why. It never quotes a key, secret or password.
type CredentialError struct {
	// Credential is the type, e.g. "ApnsTokenCredential".
	Credential string
	// Field is the field or argument, e.g. "Key".
	Field string
	// Reason says what is wrong with it.
	Reason string
}

func (e *CredentialError) Error() string {
	return "admin: " + e.Credential + ": " + e.Field + ": " + e.Reason
}

func credErr(cred, field, format string, args ...any) error {
	return &CredentialError{Credential: cred, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// wrapErr turns an error of the key reader into a CredentialError of cred.
func wrapErr(cred string, err error) error {
	var e *pnscred.Error
	if errors.As(err, &e) {
		return &CredentialError{Credential: cred, Field: e.Field, Reason: e.Reason}
	}
	return err
}

const redacted = "REDACTED"

// APNs endpoints as Notification Hubs stores them in a hub's APNs
// credential: token authentication names the HTTP/2 endpoints, certificate
// authentication the legacy gateway hosts.
const (
	ApnsTokenProductionEndpoint       = "https://api.push.apple.com:443/3/device"
	ApnsTokenSandboxEndpoint          = "https://api.development.push.apple.com:443/3/device"
	ApnsCertificateProductionEndpoint = "gateway.push.apple.com"
	ApnsCertificateSandboxEndpoint    = "gateway.sandbox.push.apple.com"
)

// served is what a credential read from the service keeps: the
// properties as the hub holds them, so that an update keeps those this
// package does not model. The service accepted them, so they are not
// checked again.
type served struct {
	props []atom.Property
}

func (s *served) get(name string) string {
	for _, p := range s.props {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// wire returns built, the credential's properties from its fields, for a
// new credential; for one read from a hub, the served properties with
// built's values over them, so that edits of the exported fields are sent
// and the rest is written back as the hub holds it.
func (s *served) wire(element string, built []atom.Property) atom.PnsCredential {
	if s == nil {
		return atom.PnsCredential{Element: element, Properties: built}
	}
	out := slices.Clone(s.props)
	for _, b := range built {
		switch i := slices.IndexFunc(out, func(p atom.Property) bool { return p.Name == b.Name }); {
		case i >= 0:
			out[i].Value = b.Value
		case b.Value != "":
			out = append(out, b)
		}
	}
	return atom.PnsCredential{Element: element, Properties: out}
}

// ---- APNs -------------------------------------------------------------------

// ApnsCredential is a hub's credential for the Apple Push Notification
// service: an *ApnsTokenCredential or an *ApnsCertificateCredential.
type ApnsCredential interface {
	// IsProduction reports whether the hub sends to APNs' production
	// endpoint rather than its sandbox.
	IsProduction() bool
	wire() (atom.PnsCredential, error)
}

// ApnsTokenCredential authenticates to APNs with a .p8 signing key
// (token-based authentication).
type ApnsTokenCredential struct {
	// KeyID is the key's id (10 characters, from Apple's developer site).
	KeyID string
	// TeamID is the developer team's id, the app id prefix (the service's
	// AppId).
	TeamID string
	// BundleID is the app's bundle id (the service's AppName).
	BundleID string
	// Endpoint is ApnsTokenProductionEndpoint or ApnsTokenSandboxEndpoint.
	Endpoint string

	token  string // the .p8 body, as Notification Hubs stores it
	served *served
}

// NewApnsTokenCredential checks the ids and parses key, the .p8 file (PEM)
// or its base64 body, which must be a P-256 EC key; production selects
// APNs' production endpoint over its sandbox.
func NewApnsTokenCredential(keyID, teamID, bundleID string, key []byte, production bool) (*ApnsTokenCredential, error) {
	const name = "ApnsTokenCredential"
	if _, err := pnscred.ApnsToken(keyID, teamID, bundleID, key); err != nil {
		return nil, wrapErr(name, err)
	}
	ep := ApnsTokenSandboxEndpoint
	if production {
		ep = ApnsTokenProductionEndpoint
	}
	return &ApnsTokenCredential{KeyID: keyID, TeamID: teamID, BundleID: bundleID, Endpoint: ep, token: pnscred.ApnsKeyBody(key)}, nil
}

// IsProduction implements ApnsCredential.
func (c *ApnsTokenCredential) IsProduction() bool { return pnscred.ApnsProduction(c.Endpoint) }

func (c *ApnsTokenCredential) wire() (atom.PnsCredential, error) {
	if c.served == nil && c.token == "" {
		return atom.PnsCredential{}, credErr("ApnsTokenCredential", "Key", "not set: build the credential with NewApnsTokenCredential")
	}
	// Properties in the order of the .NET SDK's ApnsCredential.
	return c.served.wire(atom.CredentialApns, props("Endpoint", c.Endpoint, "Token", c.token, "KeyId", c.KeyID, "AppId", c.TeamID, "AppName", c.BundleID)), nil
}

// String shows the credential without its key.
func (c ApnsTokenCredential) String() string {
	return fmt.Sprintf("ApnsTokenCredential{KeyID: %q, TeamID: %q, BundleID: %q, Endpoint: %q, Key: %s}",
		c.KeyID, c.TeamID, c.BundleID, c.Endpoint, redacted)
}

// GoString is String, so %#v shows no key either.
func (c ApnsTokenCredential) GoString() string { return c.String() }

// ApnsCertificateCredential authenticates to APNs with a push certificate
// (certificate-based authentication).
type ApnsCertificateCredential struct {
	// BundleID is the certificate subject's UID, the app's bundle id
	// ("" when read from a hub whose certificate does not open). It is
	// read from the certificate: a changed BundleID is refused.
	BundleID string
	// NotAfter is when the certificate expires (zero when read from a
	// hub whose certificate does not open). It is read from the
	// certificate: a changed NotAfter is refused.
	NotAfter time.Time
	// Endpoint is ApnsCertificateProductionEndpoint or
	// ApnsCertificateSandboxEndpoint.
	Endpoint string

	p12, password string // base64 PKCS#12 and its password
	// What the certificate says, to refuse edits of BundleID and NotAfter.
	certBundleID string
	certNotAfter time.Time
	served       *served
}

// NewApnsCertificateCredential parses data, a PKCS#12 file (.p12, raw or
// base64) opened with password, or PEM holding the certificate and its
// private key. The certificate must be valid now and carry the bundle id
// Apple puts in push certificates. PEM is converted to PKCS#12, protected
// by password, since the service takes only PKCS#12.
func NewApnsCertificateCredential(data []byte, password string, production bool) (*ApnsCertificateCredential, error) {
	const name = "ApnsCertificateCredential"
	cert, err := pnscred.ApnsCertificate(data, password)
	if err != nil {
		return nil, wrapErr(name, err)
	}
	if cert.BundleID == "" {
		return nil, credErr(name, "Certificate", "subject has no UID (the bundle id Apple puts in push certificates)")
	}
	if now := time.Now(); now.After(cert.Leaf.NotAfter) || now.Before(cert.Leaf.NotBefore) {
		return nil, credErr(name, "Certificate", "not valid now (valid %s to %s)",
			cert.Leaf.NotBefore.UTC().Format(time.DateOnly), cert.Leaf.NotAfter.UTC().Format(time.DateOnly))
	}
	p12, err := pnscred.PKCS12(cert, password)
	if err != nil {
		return nil, wrapErr(name, err)
	}
	ep := ApnsCertificateSandboxEndpoint
	if production {
		ep = ApnsCertificateProductionEndpoint
	}
	return &ApnsCertificateCredential{BundleID: cert.BundleID, NotAfter: cert.Leaf.NotAfter, Endpoint: ep,
		p12: base64.StdEncoding.EncodeToString(p12), password: password,
		certBundleID: cert.BundleID, certNotAfter: cert.Leaf.NotAfter}, nil
}

// IsProduction implements ApnsCredential.
func (c *ApnsCertificateCredential) IsProduction() bool { return pnscred.ApnsProduction(c.Endpoint) }

func (c *ApnsCertificateCredential) wire() (atom.PnsCredential, error) {
	if c.served == nil && c.p12 == "" {
		return atom.PnsCredential{}, credErr("ApnsCertificateCredential", "Certificate", "not set: build the credential with NewApnsCertificateCredential")
	}
	if c.BundleID != c.certBundleID {
		return atom.PnsCredential{}, credErr("ApnsCertificateCredential", "BundleID", "is read from the certificate: build a new credential with NewApnsCertificateCredential to change it")
	}
	if !c.NotAfter.Equal(c.certNotAfter) {
		return atom.PnsCredential{}, credErr("ApnsCertificateCredential", "NotAfter", "is read from the certificate: build a new credential with NewApnsCertificateCredential to change it")
	}
	return c.served.wire(atom.CredentialApns, props("Endpoint", c.Endpoint, "ApnsCertificate", c.p12, "CertificateKey", c.password)), nil
}

// String shows the credential without its certificate and password.
func (c ApnsCertificateCredential) String() string {
	return fmt.Sprintf("ApnsCertificateCredential{BundleID: %q, NotAfter: %s, Endpoint: %q, Certificate: %s}",
		c.BundleID, c.NotAfter.UTC().Format(time.RFC3339), c.Endpoint, redacted)
}

// GoString is String, so %#v shows no secret either.
func (c ApnsCertificateCredential) GoString() string { return c.String() }

// ---- FCM v1 ---------------------------------------------------------------------

// FcmV1Credential is a Google service account that may send with Firebase
// Cloud Messaging's HTTP v1 API.
type FcmV1Credential struct {
	ClientEmail string
	ProjectID   string

	privateKey string
	served     *served
}

// NewFcmV1Credential checks clientEmail and projectID and parses
// privateKey, the service account's RSA key in PEM (PKCS#8 or PKCS#1; line
// breaks pasted as \n are accepted).
func NewFcmV1Credential(clientEmail, privateKey, projectID string) (*FcmV1Credential, error) {
	const name = "FcmV1Credential"
	keyPEM, err := pnscred.FcmV1(clientEmail, privateKey, projectID)
	if err != nil {
		return nil, wrapErr(name, err)
	}
	return &FcmV1Credential{ClientEmail: clientEmail, ProjectID: projectID, privateKey: string(keyPEM)}, nil
}

// NewFcmV1CredentialFromJSON reads a service-account JSON key file, as
// Firebase's console downloads it.
func NewFcmV1CredentialFromJSON(serviceAccount []byte) (*FcmV1Credential, error) {
	sa, err := pnscred.ParseServiceAccount(serviceAccount)
	if err != nil {
		return nil, wrapErr("FcmV1Credential", err)
	}
	return NewFcmV1Credential(sa.ClientEmail, sa.PrivateKey, sa.ProjectID)
}

func (c *FcmV1Credential) wire() (atom.PnsCredential, error) {
	if c.served == nil && c.privateKey == "" {
		return atom.PnsCredential{}, credErr("FcmV1Credential", "PrivateKey", "not set: build the credential with NewFcmV1Credential")
	}
	// Properties in the order of the .NET SDK's FcmV1Credential.
	return c.served.wire(atom.CredentialFcmV1, props("PrivateKey", c.privateKey, "ProjectId", c.ProjectID, "ClientEmail", c.ClientEmail)), nil
}

// String shows the credential without its private key.
func (c FcmV1Credential) String() string {
	return fmt.Sprintf("FcmV1Credential{ClientEmail: %q, ProjectID: %q, PrivateKey: %s}", c.ClientEmail, c.ProjectID, redacted)
}

// GoString is String, so %#v shows no key either.
func (c FcmV1Credential) GoString() string { return c.String() }

// ---- FCM legacy (GCM) -------------------------------------------------------------

// GcmCredential is the server key of Firebase Cloud Messaging's legacy API
// (shut down by Google in 2024; kept so that hubs can be migrated).
type GcmCredential struct {
	apiKey string
	served *served
}

// NewGcmCredential checks the server key.
func NewGcmCredential(googleAPIKey string) (*GcmCredential, error) {
	if err := pnscred.Secret("GoogleAPIKey", googleAPIKey); err != nil {
		return nil, wrapErr("GcmCredential", err)
	}
	return &GcmCredential{apiKey: googleAPIKey}, nil
}

func (c *GcmCredential) wire() (atom.PnsCredential, error) {
	if c.served == nil && c.apiKey == "" {
		return atom.PnsCredential{}, credErr("GcmCredential", "GoogleAPIKey", "not set: build the credential with NewGcmCredential")
	}
	return c.served.wire(atom.CredentialGcm, props("GoogleApiKey", c.apiKey)), nil
}

// String shows the credential without its key.
func (c GcmCredential) String() string { return "GcmCredential{GoogleAPIKey: " + redacted + "}" }

// GoString is String, so %#v shows no key either.
func (c GcmCredential) GoString() string { return c.String() }

// ---- WNS ------------------------------------------------------------------------

// WnsCredential is a Windows app's package SID and client secret.
type WnsCredential struct {
	PackageSID string

	secretKey string
	served    *served
}

// NewWnsCredential checks both values.
func NewWnsCredential(packageSID, secretKey string) (*WnsCredential, error) {
	const name = "WnsCredential"
	if err := pnscred.IDAndSecret("PackageSID", packageSID, "SecretKey", secretKey); err != nil {
		return nil, wrapErr(name, err)
	}
	return &WnsCredential{PackageSID: packageSID, secretKey: secretKey}, nil
}

func (c *WnsCredential) wire() (atom.PnsCredential, error) {
	if c.served == nil && c.secretKey == "" {
		return atom.PnsCredential{}, credErr("WnsCredential", "SecretKey", "not set: build the credential with NewWnsCredential")
	}
	return c.served.wire(atom.CredentialWns, props("PackageSid", c.PackageSID, "SecretKey", c.secretKey)), nil
}

// String shows the credential without its secret.
func (c WnsCredential) String() string {
	return fmt.Sprintf("WnsCredential{PackageSID: %q, SecretKey: %s}", c.PackageSID, redacted)
}

// GoString is String, so %#v shows no secret either.
func (c WnsCredential) GoString() string { return c.String() }

// ---- MPNS -----------------------------------------------------------------------

// MpnsCredential is the Windows Phone push credential: a certificate for
// authenticated MPNS, or none for unauthenticated MPNS.
type MpnsCredential struct {
	// Authenticated reports whether the credential holds a certificate;
	// a changed Authenticated is refused.
	Authenticated bool

	cert, password string // base64 PKCS#12 and its password
	served         *served
}

// NewMpnsCredential parses a certificate with its key (PKCS#12, raw or
// base64, or PEM) for authenticated MPNS; a nil data gives the credential
// of unauthenticated MPNS.
func NewMpnsCredential(data []byte, password string) (*MpnsCredential, error) {
	if data == nil {
		return &MpnsCredential{}, nil
	}
	cert, err := pnscred.ApnsCertificate(data, password)
	if err != nil {
		return nil, wrapErr("MpnsCredential", err)
	}
	p12, err := pnscred.PKCS12(cert, password)
	if err != nil {
		return nil, wrapErr("MpnsCredential", err)
	}
	return &MpnsCredential{Authenticated: true, cert: base64.StdEncoding.EncodeToString(p12), password: password}, nil
}

func (c *MpnsCredential) wire() (atom.PnsCredential, error) {
	if c.Authenticated != (c.cert != "") {
		return atom.PnsCredential{}, credErr("MpnsCredential", "Authenticated", "says whether the credential holds a certificate: build a new credential with NewMpnsCredential to change it")
	}
	var p []atom.Property
	if c.Authenticated {
		p = props("MpnsCertificate", c.cert, "CertificateKey", c.password)
	}
	return c.served.wire(atom.CredentialMpns, p), nil
}

// String shows the credential without its certificate.
func (c MpnsCredential) String() string {
	if !c.Authenticated {
		return "MpnsCredential{Authenticated: false}"
	}
	return "MpnsCredential{Authenticated: true, Certificate: " + redacted + "}"
}

// GoString is String, so %#v shows no secret either.
func (c MpnsCredential) GoString() string { return c.String() }

// ---- ADM --------------------------------------------------------------------------

// AdmCredential is an Amazon Device Messaging security profile's client
// id and secret.
type AdmCredential struct {
	ClientID string

	clientSecret string
	served       *served
}

// NewAdmCredential checks both values.
func NewAdmCredential(clientID, clientSecret string) (*AdmCredential, error) {
	const name = "AdmCredential"
	if err := pnscred.IDAndSecret("ClientID", clientID, "ClientSecret", clientSecret); err != nil {
		return nil, wrapErr(name, err)
	}
	return &AdmCredential{ClientID: clientID, clientSecret: clientSecret}, nil
}

func (c *AdmCredential) wire() (atom.PnsCredential, error) {
	if c.served == nil && c.clientSecret == "" {
		return atom.PnsCredential{}, credErr("AdmCredential", "ClientSecret", "not set: build the credential with NewAdmCredential")
	}
	return c.served.wire(atom.CredentialAdm, props("ClientId", c.ClientID, "ClientSecret", c.clientSecret)), nil
}

// String shows the credential without its secret.
func (c AdmCredential) String() string {
	return fmt.Sprintf("AdmCredential{ClientID: %q, ClientSecret: %s}", c.ClientID, redacted)
}

// GoString is String, so %#v shows no secret either.
func (c AdmCredential) GoString() string { return c.String() }

// ---- Baidu ------------------------------------------------------------------------

// BaiduCredential is a Baidu Cloud Push API key and secret key.
type BaiduCredential struct {
	APIKey string

	secretKey string
	served    *served
}

// NewBaiduCredential checks both values.
func NewBaiduCredential(apiKey, secretKey string) (*BaiduCredential, error) {
	const name = "BaiduCredential"
	if err := pnscred.IDAndSecret("APIKey", apiKey, "SecretKey", secretKey); err != nil {
		return nil, wrapErr(name, err)
	}
	return &BaiduCredential{APIKey: apiKey, secretKey: secretKey}, nil
}

func (c *BaiduCredential) wire() (atom.PnsCredential, error) {
	if c.served == nil && c.secretKey == "" {
		return atom.PnsCredential{}, credErr("BaiduCredential", "SecretKey", "not set: build the credential with NewBaiduCredential")
	}
	return c.served.wire(atom.CredentialBaidu, props("BaiduApiKey", c.APIKey, "BaiduSecretKey", c.secretKey)), nil
}

// String shows the credential without its secret.
func (c BaiduCredential) String() string {
	return fmt.Sprintf("BaiduCredential{APIKey: %q, SecretKey: %s}", c.APIKey, redacted)
}

// GoString is String, so %#v shows no secret either.
func (c BaiduCredential) GoString() string { return c.String() }

// ---- Browser (Web Push) --------------------------------------------------------------

// BrowserCredential is an application server's VAPID key pair and
// contact, for Web Push.
type BrowserCredential struct {
	// Subject is the contact: a mailto: or https: URL.
	Subject string
	// VapidPublicKey is the public key (base64url of the uncompressed
	// P-256 point), the applicationServerKey browsers subscribe with.
	VapidPublicKey string

	privateKey string
	served     *served
}

// NewBrowserCredential checks subject and parses the keys (base64url, with
// or without padding); the private key must belong to the public one.
func NewBrowserCredential(subject, vapidPublicKey, vapidPrivateKey string) (*BrowserCredential, error) {
	const name = "BrowserCredential"
	if _, _, err := pnscred.Browser(subject, vapidPublicKey, vapidPrivateKey); err != nil {
		var e *pnscred.Error
		if errors.As(err, &e) && e.Field != "Subject" {
			return nil, credErr(name, "Vapid"+e.Field, "%s", e.Reason)
		}
		return nil, wrapErr(name, err)
	}
	return &BrowserCredential{Subject: subject, VapidPublicKey: vapidPublicKey, privateKey: vapidPrivateKey}, nil
}

func (c *BrowserCredential) wire() (atom.PnsCredential, error) {
	if c.served == nil && c.privateKey == "" {
		return atom.PnsCredential{}, credErr("BrowserCredential", "VapidPrivateKey", "not set: build the credential with NewBrowserCredential")
	}
	return c.served.wire(atom.CredentialBrowser, props("Subject", c.Subject, "VapidPublicKey", c.VapidPublicKey, "VapidPrivateKey", c.privateKey)), nil
}

// String shows the credential without its private key.
func (c BrowserCredential) String() string {
	return fmt.Sprintf("BrowserCredential{Subject: %q, VapidPublicKey: %q, VapidPrivateKey: %s}", c.Subject, c.VapidPublicKey, redacted)
}

// GoString is String, so %#v shows no key either.
func (c BrowserCredential) GoString() string { return c.String() }

// ---- Xiaomi -----------------------------------------------------------------------

// Xiaomi Push endpoints a XiaomiCredential may name.
const (
	XiaomiChinaEndpoint   = "https://api.xmpush.xiaomi.com"
	XiaomiGlobalEndpoint  = "https://api.xmpush.global.xiaomi.com"
	XiaomiSandboxEndpoint = "https://sandbox.xmpush.xiaomi.com"
)

// XiaomiCredential is a Xiaomi Push app secret and endpoint.
type XiaomiCredential struct {
	// Endpoint is XiaomiChinaEndpoint, XiaomiGlobalEndpoint or
	// XiaomiSandboxEndpoint.
	Endpoint string

	appSecret string
	served    *served
}

// NewXiaomiCredential checks appSecret and endpoint ("" means
// XiaomiChinaEndpoint, the .NET SDK's default), which must be one of
// Xiaomi's three endpoints.
func NewXiaomiCredential(appSecret, endpoint string) (*XiaomiCredential, error) {
	const name = "XiaomiCredential"
	if err := pnscred.Secret("AppSecret", appSecret); err != nil {
		return nil, wrapErr(name, err)
	}
	if endpoint == "" {
		endpoint = XiaomiChinaEndpoint
	}
	switch strings.ToLower(endpoint) {
	case XiaomiChinaEndpoint, XiaomiGlobalEndpoint, XiaomiSandboxEndpoint:
	default:
		return nil, credErr(name, "Endpoint", "%q is not one of %s, %s or %s", endpoint, XiaomiChinaEndpoint, XiaomiGlobalEndpoint, XiaomiSandboxEndpoint)
	}
	return &XiaomiCredential{Endpoint: endpoint, appSecret: appSecret}, nil
}

func (c *XiaomiCredential) wire() (atom.PnsCredential, error) {
	if c.served == nil && c.appSecret == "" {
		return atom.PnsCredential{}, credErr("XiaomiCredential", "AppSecret", "not set: build the credential with NewXiaomiCredential")
	}
	return c.served.wire(atom.CredentialXiaomi, props("AppSecret", c.appSecret, "Endpoint", c.Endpoint)), nil
}

// String shows the credential without its secret.
func (c XiaomiCredential) String() string {
	return fmt.Sprintf("XiaomiCredential{Endpoint: %q, AppSecret: %s}", c.Endpoint, redacted)
}

// GoString is String, so %#v shows no secret either.
func (c XiaomiCredential) GoString() string { return c.String() }

// ---- reading credentials from a hub ------------------------------------------------------

// credentialFromWire builds the typed credential of a served property bag,
// keeping the bag to write back what the credential does not model.
// Unknown elements give nil.
func credentialFromWire(c atom.PnsCredential) any {
	s := &served{props: c.Properties}
	switch c.Element {
	case atom.CredentialApns:
		if s.get("Token") != "" || s.get("KeyId") != "" {
			return &ApnsTokenCredential{KeyID: s.get("KeyId"), TeamID: s.get("AppId"), BundleID: s.get("AppName"), Endpoint: s.get("Endpoint"),
				token: s.get("Token"), served: s}
		}
		c := &ApnsCertificateCredential{Endpoint: s.get("Endpoint"), p12: s.get("ApnsCertificate"), password: s.get("CertificateKey"), served: s}
		// The bundle id and expiry, when the certificate opens.
		if cert, err := pnscred.ApnsCertificate([]byte(c.p12), c.password); err == nil {
			c.BundleID, c.NotAfter = cert.BundleID, cert.Leaf.NotAfter
			c.certBundleID, c.certNotAfter = c.BundleID, c.NotAfter
		}
		return c
	case atom.CredentialFcmV1:
		return &FcmV1Credential{ClientEmail: s.get("ClientEmail"), ProjectID: s.get("ProjectId"), privateKey: s.get("PrivateKey"), served: s}
	case atom.CredentialGcm:
		return &GcmCredential{apiKey: s.get("GoogleApiKey"), served: s}
	case atom.CredentialWns:
		return &WnsCredential{PackageSID: s.get("PackageSid"), secretKey: s.get("SecretKey"), served: s}
	case atom.CredentialMpns:
		return &MpnsCredential{Authenticated: s.get("MpnsCertificate") != "", cert: s.get("MpnsCertificate"), password: s.get("CertificateKey"), served: s}
	case atom.CredentialAdm:
		return &AdmCredential{ClientID: s.get("ClientId"), clientSecret: s.get("ClientSecret"), served: s}
	case atom.CredentialBaidu:
		return &BaiduCredential{APIKey: s.get("BaiduApiKey"), secretKey: s.get("BaiduSecretKey"), served: s}
	case atom.CredentialBrowser:
		return &BrowserCredential{Subject: s.get("Subject"), VapidPublicKey: s.get("VapidPublicKey"), privateKey: s.get("VapidPrivateKey"), served: s}
	case atom.CredentialXiaomi:
		return &XiaomiCredential{Endpoint: s.get("Endpoint"), appSecret: s.get("AppSecret"), served: s}
	}
	return nil
}

// props builds a property bag from name, value pairs.
func props(nameValues ...string) []atom.Property {
	out := make([]atom.Property, 0, len(nameValues)/2)
	for i := 0; i+1 < len(nameValues); i += 2 {
		out = append(out, atom.Property{Name: nameValues[i], Value: nameValues[i+1]})
	}
	return out
}
