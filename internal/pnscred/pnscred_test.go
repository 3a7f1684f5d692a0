package pnscred

import (
	"crypto/elliptic"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"github.com/nhkit/notificationhubs/internal/pnscred/pnscredtest"
)

func fieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

func TestApnsKey(t *testing.T) {
	good := pnscredtest.P8()
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
	_, p384 := pnscredtest.ECKey(elliptic.P384())
	for name, key := range map[string][]byte{
		"garbage":     []byte("%%%"),
		"P-384":       p384,
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
	cert := pnscredtest.NewCertificate("com.example.app", nil)
	p12 := cert.P12("right")
	for name, data := range map[string][]byte{"raw": p12, "base64": []byte(base64.StdEncoding.EncodeToString(p12))} {
		c, err := ApnsCertificate(data, "right")
		if err != nil || c.BundleID != "com.example.app" {
			t.Errorf("%s: %+v, %v", name, c.BundleID, err)
		}
	}
	_, err := ApnsCertificate(p12, "wrong")
	if fieldOf(err) != "Password" || strings.Contains(err.Error(), "right") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := ApnsCertificate([]byte("nope"), ""); fieldOf(err) != "Certificate" {
		t.Errorf("garbage: %v", err)
	}
	if c, err := ApnsCertificate(cert.PEM(), ""); err != nil || c.BundleID != "com.example.app" {
		t.Errorf("PEM pair: %v", err)
	}
	if _, err := ApnsCertificate(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Leaf.Raw}), ""); fieldOf(err) != "Certificate" {
		t.Errorf("PEM without key: %v", err)
	}
	if c, err := ApnsCertificate(pnscredtest.NewCertificate("", nil).P12(""), ""); err != nil || c.BundleID != "" {
		t.Errorf("no UID: %q, %v", c.BundleID, err)
	}
}

func serviceAccount(mutate func(*pnscredtest.ServiceAccount)) []byte {
	sa := pnscredtest.NewServiceAccount("proj-1")
	sa.PrivateKeyID = "kid"
	if mutate != nil {
		mutate(&sa)
	}
	return sa.JSON()
}

func TestParseServiceAccount(t *testing.T) {
	sa, err := ParseServiceAccount(serviceAccount(nil))
	if err != nil || sa.ProjectID != "proj-1" || sa.ClientEmail == "" || sa.PrivateKeyID != "kid" {
		t.Fatalf("%+v, %v", sa, err)
	}
	ec := string(pnscredtest.P8())
	type account = pnscredtest.ServiceAccount
	for _, tc := range []struct {
		name   string
		mutate func(*account)
		field  string
	}{
		{"type", func(a *account) { a.Type = "user" }, "JSON"},
		{"email", func(a *account) { a.ClientEmail = "nobody" }, "ClientEmail"},
		{"project", func(a *account) { a.ProjectID = "" }, "ProjectID"},
		{"EC key", func(a *account) { a.PrivateKey = ec }, "PrivateKey"},
		{"no PEM", func(a *account) { a.PrivateKey = "abc" }, "PrivateKey"},
		{"token uri", func(a *account) { a.TokenURI = "http://x" }, "token_uri"},
	} {
		_, err := ParseServiceAccount(serviceAccount(tc.mutate))
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
	pub, priv := pnscredtest.VapidKeys()
	if _, _, err := VapidKeys(pub, priv); err != nil {
		t.Fatal(err)
	}
	_, otherPriv := pnscredtest.VapidKeys()
	for name, tc := range map[string][3]string{
		"public":   {"AAAA", priv, "PublicKey"},
		"mismatch": {pub, otherPriv, "PrivateKey"},
		"private":  {pub, "!!", "PrivateKey"},
	} {
		_, _, err := VapidKeys(tc[0], tc[1])
		if fieldOf(err) != tc[2] || strings.Contains(err.Error(), otherPriv) {
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
