package pnscred

import (
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
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

func p8(t testing.TB, curve elliptic.Curve) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func pushCert(t testing.TB, bundle string) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	subject := pkix.Name{CommonName: "Apple Push Services: " + bundle}
	if bundle != "" {
		subject.ExtraNames = []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}, Value: bundle}}
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: subject, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return key, c
}

func fieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

func TestApnsKey(t *testing.T) {
	good := p8(t, elliptic.P256())
	if _, err := ApnsKey(good); err != nil {
		t.Fatalf("PEM .p8: %v", err)
	}
	body := ApnsKeyBody(good)
	if strings.Contains(body, "BEGIN") || strings.ContainsAny(body, "\n ") {
		t.Errorf("ApnsKeyBody = %q, want the bare base64 body", body)
	}
	if _, err := ApnsKey([]byte(body)); err != nil {
		t.Errorf("the bare body, as Notification Hubs stores it: %v", err)
	}
	for name, key := range map[string][]byte{
		"garbage":     []byte("%%%"),
		"P-384":       p8(t, elliptic.P384()),
		"certificate": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}),
		"not PKCS#8":  []byte(base64.StdEncoding.EncodeToString([]byte("not der"))),
	} {
		if _, err := ApnsKey(key); fieldOf(err) != "Key" {
			t.Errorf("%s: error %v, want one on Key", name, err)
		}
	}
}

func TestApnsProduction(t *testing.T) {
	for endpoint, want := range map[string]bool{
		"https://api.push.apple.com:443/3/device":             true,
		"https://api.development.push.apple.com:443/3/device": false,
		"gateway.push.apple.com":                              true,
		"gateway.sandbox.push.apple.com":                      false,
		"Gateway.Sandbox.Push.Apple.com":                      false,
		"https://API.Development.push.apple.com/3/device":     false,
	} {
		if got := ApnsProduction(endpoint); got != want {
			t.Errorf("ApnsProduction(%q) = %t, want %t", endpoint, got, want)
		}
	}
}

func TestApnsCertificate(t *testing.T) {
	key, cert := pushCert(t, "com.example.app")
	p12, err := pkcs12.Modern.Encode(key, cert, nil, "right")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"raw": p12, "base64": []byte(base64.StdEncoding.EncodeToString(p12))} {
		c, err := ApnsCertificate(data, "right")
		if err != nil || c.BundleID != "com.example.app" {
			t.Errorf("%s: %+v, %v", name, c.BundleID, err)
		}
	}
	_, err = ApnsCertificate(p12, "wrong")
	if fieldOf(err) != "Password" || strings.Contains(err.Error(), "right") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := ApnsCertificate([]byte("nope"), ""); fieldOf(err) != "Certificate" {
		t.Errorf("garbage: %v", err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pemPair := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})...)
	if c, err := ApnsCertificate(pemPair, ""); err != nil || c.BundleID != "com.example.app" {
		t.Errorf("PEM pair: %v", err)
	}
	if _, err := ApnsCertificate(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), ""); fieldOf(err) != "Certificate" {
		t.Errorf("PEM without key: %v", err)
	}
	key2, cert2 := pushCert(t, "")
	p12, _ = pkcs12.Modern.Encode(key2, cert2, nil, "")
	if c, err := ApnsCertificate(p12, ""); err != nil || c.BundleID != "" {
		t.Errorf("no UID: %q, %v", c.BundleID, err)
	}
}

func serviceAccount(t testing.TB, mutate func(map[string]string)) []byte {
	t.Helper()
	k, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	m := map[string]string{
		"type": "service_account", "project_id": "proj-1", "private_key_id": "kid",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "sender@proj-1.iam.gserviceaccount.com", "token_uri": "https://oauth2.googleapis.com/token",
	}
	if mutate != nil {
		mutate(m)
	}
	b, _ := json.Marshal(m)
	return b
}

func TestParseServiceAccount(t *testing.T) {
	sa, err := ParseServiceAccount(serviceAccount(t, nil))
	if err != nil || sa.ProjectID != "proj-1" || sa.ClientEmail == "" || sa.PrivateKeyID != "kid" {
		t.Fatalf("%+v, %v", sa, err)
	}
	ec := string(p8(t, elliptic.P256()))
	for _, tc := range []struct {
		name   string
		mutate func(map[string]string)
		field  string
	}{
		{"type", func(m map[string]string) { m["type"] = "user" }, "JSON"},
		{"email", func(m map[string]string) { m["client_email"] = "nobody" }, "ClientEmail"},
		{"project", func(m map[string]string) { m["project_id"] = "" }, "ProjectID"},
		{"EC key", func(m map[string]string) { m["private_key"] = ec }, "PrivateKey"},
		{"no PEM", func(m map[string]string) { m["private_key"] = "abc" }, "PrivateKey"},
		{"token uri", func(m map[string]string) { m["token_uri"] = "http://x" }, "token_uri"},
	} {
		_, err := ParseServiceAccount(serviceAccount(t, tc.mutate))
		if fieldOf(err) != tc.field {
			t.Errorf("%s: %v, want an error on %s", tc.name, err, tc.field)
		}
		if err != nil && strings.Contains(err.Error(), "BEGIN") {
			t.Errorf("%s: error quotes the key: %v", tc.name, err)
		}
	}
	_, err = ParseServiceAccount([]byte(`{"private_key": "-----BEGIN`))
	if fieldOf(err) != "JSON" || strings.Contains(err.Error(), "BEGIN") {
		t.Errorf("truncated JSON: %v", err)
	}
	// Keys pasted with literal \n still parse.
	k := strings.ReplaceAll(sa.PrivateKey, "\n", `\n`)
	if _, err := RSAKeyPEM("PrivateKey", k); err != nil {
		t.Errorf("literal \\n: %v", err)
	}
}

func TestVapid(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := k.PublicKey.Bytes()
	priv, _ := k.Bytes()
	enc := base64.RawURLEncoding.EncodeToString
	if _, _, err := VapidKeys(enc(pub), enc(priv)); err != nil {
		t.Fatal(err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherPriv, _ := other.Bytes()
	for name, tc := range map[string][3]string{
		"public":   {"AAAA", enc(priv), "PublicKey"},
		"mismatch": {enc(pub), enc(otherPriv), "PrivateKey"},
		"private":  {enc(pub), "!!", "PrivateKey"},
	} {
		_, _, err := VapidKeys(tc[0], tc[1])
		if fieldOf(err) != tc[2] || strings.Contains(err.Error(), enc(otherPriv)) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, s := range []string{"mailto:ops@example.com", "https://example.com/contact"} {
		if err := VapidSubject(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	if err := VapidSubject("ops@example.com"); fieldOf(err) != "Subject" {
		t.Errorf("bare address accepted: %v", err)
	}
}

func TestPlainChecks(t *testing.T) {
	for _, tc := range []struct {
		err   error
		field string
	}{
		{AppleID("KeyID", "AB C"), "KeyID"},
		{AppleID("TeamID", ""), "TeamID"},
		{AppleID("TeamID", strings.Repeat("A", 65)), "TeamID"},
		{Token("BundleID", " "), "BundleID"},
		{Token("BundleID", "a b"), "BundleID"},
		{Secret("SecretKey", ""), "SecretKey"},
		{Secret("SecretKey", "a\nb"), "SecretKey"},
		{HTTPSURL("Endpoint", "http://x"), "Endpoint"},
		{ClientEmail("ClientEmail", "x"), "ClientEmail"},
	} {
		if fieldOf(tc.err) != tc.field {
			t.Errorf("error %v, want one on %s", tc.err, tc.field)
		}
	}
	if err := Secret("SecretKey", "s3cr3t value"); err != nil {
		t.Errorf("a secret with a space: %v", err)
	}
	if err := Secret("SecretKey", "x\ny"); strings.Contains(err.Error(), "x") && strings.Contains(err.Error(), "y\"") {
		t.Errorf("secret quoted: %v", err)
	}
}
