// Package pnscred reads and checks the key material of push-service
// credentials: APNs .p8 keys and push certificates, Google service
// accounts, VAPID key pairs, and the plain ids and secrets of the other
// services. The SDK's admin package checks credentials with it before it
// sends them to a hub; the emulator checks the credentials hubs are given
// and builds its push clients from them. It imports neither.
//
// No error of this package quotes secret material: a key, a secret or a
// password never appears in an error, only the name of the field that is
// wrong and why.
package pnscred

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

// Error says which field is wrong and why. It never quotes a secret.
type Error struct {
	Field  string
	Reason string
}

func (e *Error) Error() string { return e.Field + ": " + e.Reason }

func errf(field, format string, args ...any) error {
	return &Error{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// AppleID checks an Apple key id or team id: 1 to 64 letters and digits.
func AppleID(field, v string) error {
	if v == "" {
		return errf(field, "empty")
	}
	if len(v) > 64 {
		return errf(field, "longer than 64 characters")
	}
	for _, r := range v {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return errf(field, "%q has characters other than letters and digits", v)
		}
	}
	return nil
}

// Token checks a non-secret identifier: not empty, no white space. The
// error may quote it.
func Token(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return errf(field, "empty")
	}
	if strings.ContainsAny(v, " \t\r\n") {
		return errf(field, "%q contains white space", v)
	}
	return nil
}

// Secret checks a secret: not blank, no line break. The error never quotes
// it.
func Secret(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return errf(field, "empty")
	}
	if strings.ContainsAny(v, "\r\n") {
		return errf(field, "contains a line break")
	}
	return nil
}

// HTTPSURL checks that v is an https URL with a host.
func HTTPSURL(field, v string) error {
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return errf(field, "not an https URL")
	}
	return nil
}

// ApnsKey parses an APNs .p8 key: the file (PEM) or its base64 body without
// the armour, as Notification Hubs stores it. It must be a P-256 EC key in
// PKCS#8. Errors are on the field "Key".
func ApnsKey(key []byte) (*ecdsa.PrivateKey, error) {
	der, err := pemOrBase64(key, "PRIVATE KEY")
	if err != nil {
		return nil, errf("Key", "%s", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, errf("Key", "not a PKCS#8 private key")
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve.Params().Name != "P-256" {
		return nil, errf("Key", "not a P-256 EC key (APNs .p8 keys are)")
	}
	return ec, nil
}

// ApnsKeyBody returns the base64 body of a .p8 key without its armour and
// line breaks, the form Notification Hubs keeps in a hub's APNs
// credential. key must already parse with ApnsKey.
func ApnsKeyBody(key []byte) string {
	if der, err := pemOrBase64(key, "PRIVATE KEY"); err == nil {
		return base64.StdEncoding.EncodeToString(der)
	}
	return ""
}

// ApnsProduction reports whether an APNs endpoint as a hub's credential
// holds it, of either form (the HTTP/2 URL of token authentication, the
// gateway host of certificate authentication), is Apple's production
// service: an endpoint naming the sandbox or development is the sandbox,
// any other production.
func ApnsProduction(endpoint string) bool {
	l := strings.ToLower(endpoint)
	return !strings.Contains(l, "sandbox") && !strings.Contains(l, "development")
}

// Certificate is a parsed push certificate.
type Certificate struct {
	// TLS is the certificate chain with its private key.
	TLS tls.Certificate
	// Leaf is the push certificate itself.
	Leaf *x509.Certificate
	// BundleID is the subject's UID, which Apple sets to the app's bundle
	// id ("" if the subject has none).
	BundleID string
}

var oidUID = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}

// ApnsCertificate parses a push certificate with its private key: a
// PKCS#12 file (raw or base64, as Notification Hubs stores it) opened with
// password, or PEM holding the certificate and its key. Errors are on the
// fields "Certificate" and "Password".
func ApnsCertificate(data []byte, password string) (Certificate, error) {
	var cert tls.Certificate
	if pemStart(data) {
		c, err := tls.X509KeyPair(data, data)
		if err != nil {
			return Certificate{}, errf("Certificate", "PEM without a matching certificate and private key")
		}
		cert = c
	} else {
		der := data
		if d, err := DecodeBase64(string(data)); err == nil {
			der = d
		}
		key, leaf, chain, err := pkcs12.DecodeChain(der, password)
		if err != nil {
			if errors.Is(err, pkcs12.ErrIncorrectPassword) {
				return Certificate{}, errf("Password", "does not open the PKCS#12 file")
			}
			return Certificate{}, errf("Certificate", "neither PKCS#12 nor PEM")
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
			return Certificate{}, errf("Certificate", "unparseable certificate")
		}
		leaf, cert.Leaf = l, l
	}
	switch cert.PrivateKey.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey:
	default:
		return Certificate{}, errf("Certificate", "private key is neither RSA nor EC")
	}
	var bundle string
	for _, n := range leaf.Subject.Names {
		if n.Type.Equal(oidUID) {
			bundle, _ = n.Value.(string)
		}
	}
	return Certificate{TLS: cert, Leaf: leaf, BundleID: bundle}, nil
}

// ClientEmail checks a service account's e-mail address.
func ClientEmail(field, v string) error {
	if !strings.Contains(v, "@") || strings.ContainsAny(v, " \t\r\n") {
		return errf(field, "not an e-mail address")
	}
	return nil
}

// RSAKeyPEM parses a service account's RSA private key in PEM (PKCS#8 or
// PKCS#1), also when its line breaks were pasted as literal \n, and
// returns it re-encoded as PEM.
func RSAKeyPEM(field, v string) ([]byte, error) {
	pk := strings.ReplaceAll(v, `\n`, "\n")
	block, _ := pem.Decode([]byte(pk))
	if block == nil {
		return nil, errf(field, "not PEM")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if _, ok := k.(*rsa.PrivateKey); !ok {
			return nil, errf(field, "not an RSA key")
		}
	} else if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
		return nil, errf(field, "not a PKCS#8 or PKCS#1 RSA key")
	}
	return pem.EncodeToMemory(block), nil
}

// ServiceAccount is the part of a Google service-account key file a
// sender needs.
type ServiceAccount struct {
	ProjectID    string
	PrivateKeyID string
	PrivateKey   string // PEM, as in the file
	ClientEmail  string
	TokenURI     string
}

// ParseServiceAccount reads a service-account JSON key file and checks its
// e-mail, project id, private key and token URI. Errors are on the fields
// "JSON", "ClientEmail", "ProjectID", "PrivateKey" and "token_uri".
func ParseServiceAccount(data []byte) (ServiceAccount, error) {
	var sa struct {
		Type         string `json:"type"`
		ProjectID    string `json:"project_id"`
		PrivateKeyID string `json:"private_key_id"`
		PrivateKey   string `json:"private_key"`
		ClientEmail  string `json:"client_email"`
		TokenURI     string `json:"token_uri"`
	}
	if err := json.Unmarshal(data, &sa); err != nil {
		// The decoder's message can quote the input; say only where.
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return ServiceAccount{}, errf("JSON", "not valid JSON (at byte %d)", se.Offset)
		}
		return ServiceAccount{}, errf("JSON", "not a service-account object")
	}
	if sa.Type != "" && sa.Type != "service_account" {
		return ServiceAccount{}, errf("JSON", "type is %q, want service_account", sa.Type)
	}
	if err := ClientEmail("ClientEmail", sa.ClientEmail); err != nil {
		return ServiceAccount{}, err
	}
	if err := Token("ProjectID", sa.ProjectID); err != nil {
		return ServiceAccount{}, err
	}
	if _, err := RSAKeyPEM("PrivateKey", sa.PrivateKey); err != nil {
		return ServiceAccount{}, err
	}
	if sa.TokenURI != "" {
		if err := HTTPSURL("token_uri", sa.TokenURI); err != nil {
			return ServiceAccount{}, err
		}
	}
	return ServiceAccount{ProjectID: sa.ProjectID, PrivateKeyID: sa.PrivateKeyID, PrivateKey: sa.PrivateKey,
		ClientEmail: sa.ClientEmail, TokenURI: sa.TokenURI}, nil
}

// VapidSubject checks a VAPID contact: a mailto: or https: URL.
func VapidSubject(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "mailto" && u.Scheme != "https") || (u.Opaque == "" && u.Host == "") {
		return errf("Subject", "must be a mailto: or https: URL")
	}
	return nil
}

// VapidKeys parses a VAPID key pair (base64url, with or without padding):
// the public key an uncompressed P-256 point, the private key its 32-byte
// scalar, which must belong to the public key. It returns the raw public
// key. Errors are on the fields "PublicKey" and "PrivateKey".
func VapidKeys(publicKey, privateKey string) ([]byte, *ecdsa.PrivateKey, error) {
	pub, err := DecodeBase64(publicKey)
	if err != nil {
		return nil, nil, errf("PublicKey", "not base64url")
	}
	if _, err := ecdh.P256().NewPublicKey(pub); err != nil {
		return nil, nil, errf("PublicKey", "not an uncompressed P-256 point (65 bytes)")
	}
	priv, err := DecodeBase64(privateKey)
	if err != nil {
		return nil, nil, errf("PrivateKey", "not base64url")
	}
	key, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), priv)
	if err != nil {
		return nil, nil, errf("PrivateKey", "not a P-256 private key (32 bytes)")
	}
	mine, err := key.PublicKey.Bytes()
	if err != nil || string(mine) != string(pub) {
		return nil, nil, errf("PrivateKey", "does not belong to PublicKey")
	}
	return pub, key, nil
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
	der, err := DecodeBase64(string(b))
	if err != nil {
		return nil, errors.New("neither PEM nor base64")
	}
	return der, nil
}

// DecodeBase64 accepts standard and URL alphabets, padded or not, with
// white space anywhere.
func DecodeBase64(s string) ([]byte, error) {
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

// PKCS12 encodes a parsed certificate and its key as a PKCS#12 file
// protected by password, with 3DES (the encryption every PKCS#12 reader,
// Windows' included, opens), for services that take push certificates
// only as PKCS#12.
func PKCS12(c Certificate, password string) ([]byte, error) {
	var chain []*x509.Certificate
	for _, der := range c.TLS.Certificate[1:] {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, errf("Certificate", "unparseable chain certificate")
		}
		chain = append(chain, cert)
	}
	p12, err := pkcs12.LegacyDES.Encode(c.TLS.PrivateKey, c.Leaf, chain, password)
	if err != nil {
		return nil, errf("Certificate", "cannot be written as PKCS#12")
	}
	return p12, nil
}

// ---- whole credentials ---------------------------------------------------------
//
// The checks of each push service's credential, as both the SDK (before it
// sends one) and the emulator's push clients (before they use one) make
// them. Errors are on the fields named in each.

// ApnsToken checks an APNs token credential: KeyID and TeamID (Apple ids),
// BundleID, and Key (ApnsKey), which it returns parsed.
func ApnsToken(keyID, teamID, bundleID string, key []byte) (*ecdsa.PrivateKey, error) {
	if err := AppleID("KeyID", keyID); err != nil {
		return nil, err
	}
	if err := AppleID("TeamID", teamID); err != nil {
		return nil, err
	}
	if err := Token("BundleID", bundleID); err != nil {
		return nil, err
	}
	return ApnsKey(key)
}

// FcmV1 checks an FCM v1 credential: ClientEmail, ProjectID and PrivateKey
// (RSAKeyPEM), which it returns as PEM.
func FcmV1(clientEmail, privateKey, projectID string) ([]byte, error) {
	if err := ClientEmail("ClientEmail", clientEmail); err != nil {
		return nil, err
	}
	if err := Token("ProjectID", projectID); err != nil {
		return nil, err
	}
	return RSAKeyPEM("PrivateKey", privateKey)
}

// IDAndSecret checks the credentials made of an id (idField, e.g.
// PackageSID, ClientID, APIKey) and a secret (secretField).
func IDAndSecret(idField, id, secretField, secret string) error {
	if err := Token(idField, id); err != nil {
		return err
	}
	return Secret(secretField, secret)
}

// Browser checks a VAPID credential: Subject and the key pair
// (VapidKeys), returning the raw public key and the private key.
func Browser(subject, publicKey, privateKey string) ([]byte, *ecdsa.PrivateKey, error) {
	if err := VapidSubject(subject); err != nil {
		return nil, nil, err
	}
	return VapidKeys(publicKey, privateKey)
}
