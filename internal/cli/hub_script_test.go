package cli

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
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// hubKeyFiles are the files cmdHubKeys writes: fresh key material of every
// push service, so that no key, even a test's, is kept in the tree.
type hubKeyFiles struct {
	P8, Cert, CertPassword, ServiceAccount, ServiceKey, VapidPublic, VapidPrivate string
	// Secrets are fragments that must never appear in nh's output.
	Secrets []string
}

// makeHubKeys writes into dir: AuthKey.p8, cert.p12 (password in
// cert-password.txt), service-account.json, service-key.pem,
// vapid-public.txt and vapid-private.txt, and other secrets: wns.txt,
// adm.txt, baidu.txt, xiaomi.txt, gcm.txt.
func makeHubKeys(dir string) (hubKeyFiles, error) {
	var k hubKeyFiles
	write := func(name string, data []byte) error { return os.WriteFile(filepath.Join(dir, name), data, 0o600) }
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(ec)
	p8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})

	ck, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Apple Push Services: com.example.app",
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}, Value: "com.example.app"}}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	cder, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ck.PublicKey, ck)
	if err != nil {
		return k, err
	}
	cert, _ := x509.ParseCertificate(cder)
	const password = "cert-password-secret"
	p12, err := pkcs12.Modern.Encode(ck, cert, nil, password)
	if err != nil {
		return k, err
	}

	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	rder, _ := x509.MarshalPKCS8PrivateKey(rk)
	saKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: rder})
	sa, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "proj-1", "private_key": string(saKey),
		"client_email": "sender@proj-1.iam.gserviceaccount.com", "token_uri": "https://oauth2.googleapis.com/token"})

	vk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := vk.PublicKey.Bytes()
	priv, _ := vk.Bytes()
	vpub, vpriv := base64.RawURLEncoding.EncodeToString(pub), base64.RawURLEncoding.EncodeToString(priv)

	files := map[string][]byte{
		"AuthKey.p8": p8, "cert.p12": p12, "cert-password.txt": []byte(password + "\n"),
		"service-account.json": sa, "service-key.pem": saKey,
		"vapid-public.txt": []byte(vpub), "vapid-private.txt": []byte(vpriv + "\n"),
		"wns.txt": []byte("wns-secret-value\n"), "adm.txt": []byte("adm-secret-value\n"), "baidu.txt": []byte("baidu-secret-value\n"),
		"xiaomi.txt": []byte("xiaomi-secret-value\n"), "gcm.txt": []byte("gcm-legacy-key-value\n"),
		"bad.p8": []byte("-----BEGIN PRIVATE KEY-----\nbm90LWEta2V5LWF0LWFsbA==\n-----END PRIVATE KEY-----\n"),
	}
	for name, data := range files {
		if err := write(name, data); err != nil {
			return k, err
		}
	}
	k = hubKeyFiles{P8: "AuthKey.p8", Cert: "cert.p12", ServiceAccount: "service-account.json", VapidPublic: vpub, VapidPrivate: vpriv}
	k.Secrets = []string{
		string(p8[28:68]), string(saKey[28:68]), base64.StdEncoding.EncodeToString(p12)[:40], password, vpriv,
		"wns-secret-value", "adm-secret-value", "baidu-secret-value", "xiaomi-secret-value", "gcm-legacy-key-value", "bm90LWEta2V5LWF0LWFsbA",
	}
	return k, nil
}

// cmdHubKeys writes fresh key material into the script's work directory
// and sets VAPID_PUBLIC to the VAPID public key: hubkeys.
func cmdHubKeys(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: hubkeys")
	}
	k, err := makeHubKeys(ts.Getenv("WORK"))
	ts.Check(err)
	ts.Setenv("VAPID_PUBLIC", k.VapidPublic)
}
