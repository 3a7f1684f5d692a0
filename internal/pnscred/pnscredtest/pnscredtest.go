// Package pnscredtest makes fresh push-service key material for tests:
// APNs .p8 signing keys and push certificates, Google service accounts and
// VAPID key pairs, so that no key, not even a test's, is kept in the tree.
// Only tests import it, directly or through the emulator's push-service
// stand-ins.
//
// Its functions panic if the standard library cannot make a key, which
// only a broken random source causes.
package pnscredtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

func must[T any](v T, err error) T {
	if err != nil {
		panic("pnscredtest: " + err.Error())
	}
	return v
}

// keyPEM is key in PKCS#8 PEM.
func keyPEM(key any) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: must(x509.MarshalPKCS8PrivateKey(key))})
}

// ECKey makes a key on curve and returns it with its PKCS#8 PEM.
func ECKey(curve elliptic.Curve) (*ecdsa.PrivateKey, []byte) {
	k := must(ecdsa.GenerateKey(curve, rand.Reader))
	return k, keyPEM(k)
}

// P8 makes an APNs signing key as Apple's developer site gives it: a
// P-256 key in PKCS#8 PEM (an AuthKey_….p8 file).
func P8() []byte {
	_, p := ECKey(elliptic.P256())
	return p
}

// RSAKey makes a 2048-bit RSA key, as Google's service accounts have, and
// returns it with its PKCS#8 PEM.
func RSAKey() (*rsa.PrivateKey, []byte) {
	k := must(rsa.GenerateKey(rand.Reader, 2048))
	return k, keyPEM(k)
}

// Certificate is a push certificate with its private key.
type Certificate struct {
	Leaf *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// CertificateOptions change what NewCertificate makes; the zero value
// makes a self-signed certificate valid from an hour ago to a day ahead.
type CertificateOptions struct {
	// Parent and ParentKey sign the certificate (nil: it signs itself).
	Parent    *x509.Certificate
	ParentKey crypto.Signer
	// CommonName is the subject's CN ("Apple Push Services: " and the
	// bundle id by default).
	CommonName string
	// NotAfter is when the certificate expires (zero: a day ahead).
	NotAfter time.Time
	// ClientAuth marks the certificate for TLS client authentication, as
	// APNs checks it.
	ClientAuth bool
}

var oidUID = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}

// NewCertificate makes a push certificate for bundleID, which it carries
// as its subject's UID as Apple's do ("" leaves the UID out); o may be nil.
func NewCertificate(bundleID string, o *CertificateOptions) Certificate {
	if o == nil {
		o = &CertificateOptions{}
	}
	key := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	subject := pkix.Name{CommonName: o.CommonName}
	if subject.CommonName == "" {
		subject.CommonName = "Apple Push Services: " + bundleID
	}
	if bundleID != "" {
		subject.ExtraNames = []pkix.AttributeTypeAndValue{{Type: oidUID, Value: bundleID}}
	}
	notAfter := o.NotAfter
	if notAfter.IsZero() {
		notAfter = time.Now().Add(24 * time.Hour)
	}
	tmpl := &x509.Certificate{SerialNumber: must(rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))),
		Subject: subject, NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature}
	if o.ClientAuth {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	parent, signer := tmpl, crypto.Signer(key)
	if o.Parent != nil {
		parent, signer = o.Parent, o.ParentKey
	}
	der := must(x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer))
	return Certificate{Leaf: must(x509.ParseCertificate(der)), Key: key}
}

// P12 is the certificate and its key as a PKCS#12 file protected by
// password, as Keychain Access exports it.
func (c Certificate) P12(password string) []byte {
	return must(pkcs12.Modern.Encode(c.Key, c.Leaf, nil, password))
}

// PEM is the certificate and its key in PEM, certificate first.
func (c Certificate) PEM() []byte {
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Leaf.Raw}), keyPEM(c.Key)...)
}

// ServiceAccount is a Google service account's JSON key file, as
// Firebase's console downloads it. Change its fields before JSON to make
// the file a test needs.
type ServiceAccount struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id,omitempty"`
	PrivateKey   string `json:"private_key"` // PKCS#8 PEM
	ClientEmail  string `json:"client_email"`
	ClientID     string `json:"client_id,omitempty"`
	TokenURI     string `json:"token_uri,omitempty"`

	// Key is the account's private key.
	Key *rsa.PrivateKey `json:"-"`
}

// NewServiceAccount makes a service account of project with a fresh key,
// sender@project.iam.gserviceaccount.com as its address and Google's
// token endpoint.
func NewServiceAccount(project string) ServiceAccount {
	k, p := RSAKey()
	return ServiceAccount{Type: "service_account", ProjectID: project, PrivateKeyID: "kid1", PrivateKey: string(p),
		ClientEmail: "sender@" + project + ".iam.gserviceaccount.com", TokenURI: "https://oauth2.googleapis.com/token", Key: k}
}

// JSON is the key file.
func (sa ServiceAccount) JSON() []byte { return must(json.Marshal(sa)) }

// VapidKeys makes an application server key pair for Web Push and returns
// its public key (the uncompressed P-256 point) and private key, in
// base64url without padding as VAPID tools print them.
func VapidKeys() (publicKey, privateKey string) {
	k := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	pub := must(k.PublicKey.Bytes())
	priv := must(k.Bytes())
	return base64.RawURLEncoding.EncodeToString(pub), base64.RawURLEncoding.EncodeToString(priv)
}
