package cli

import (
	"encoding/base64"
	"os"
	"path/filepath"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nhkit/notificationhubs/internal/pnscred/pnscredtest"
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
	p8 := pnscredtest.P8()
	const password = "cert-password-secret"
	p12 := pnscredtest.NewCertificate("com.example.app", nil).P12(password)
	sa := pnscredtest.NewServiceAccount("proj-1")
	saKey := []byte(sa.PrivateKey)
	vpub, vpriv := pnscredtest.VapidKeys()

	files := map[string][]byte{
		"AuthKey.p8": p8, "cert.p12": p12, "cert-password.txt": []byte(password + "\n"),
		"service-account.json": sa.JSON(), "service-key.pem": saKey,
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
