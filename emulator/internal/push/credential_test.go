package push_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nhkit/notificationhubs/emulator/internal/push"
	"github.com/nhkit/notificationhubs/emulator/internal/push/pushtest"
)

func TestCredentialErrors(t *testing.T) {
	good := p8(t, elliptic.P256())
	body := strings.Join(strings.Split(string(good), "\n")[1:4], "") // the .p8 without its armour
	a := pushtest.NewApns(t)
	p12 := a.NewCertificate(t, "com.example.app", "right")
	vapid := pushtest.NewVapidCredential(t)
	other := pushtest.NewVapidCredential(t)
	priv := func(*push.BrowserCredential) string { // a private key that belongs to no public key here
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		b, _ := k.Bytes()
		return base64.RawURLEncoding.EncodeToString(b)
	}
	for _, tc := range []struct {
		name  string
		build func() error
		field string
	}{
		{"apns key id", func() error { _, err := push.NewApnsTokenCredential("AB C", "TEAM", "b", good, false); return err }, "KeyID"},
		{"apns team", func() error { _, err := push.NewApnsTokenCredential("KEY", "", "b", good, false); return err }, "TeamID"},
		{"apns bundle", func() error { _, err := push.NewApnsTokenCredential("KEY", "TEAM", "", good, false); return err }, "BundleID"},
		{"apns key garbage", func() error {
			_, err := push.NewApnsTokenCredential("KEY", "TEAM", "b", []byte("%%%"), false)
			return err
		}, "Key"},
		{"apns key P-384", func() error {
			_, err := push.NewApnsTokenCredential("KEY", "TEAM", "b", p8(t, elliptic.P384()), false)
			return err
		}, "Key"},
		{"apns cert password", func() error { _, err := push.NewApnsCertificateCredential(p12, "wrong", false); return err }, "Password"},
		{"apns cert garbage", func() error { _, err := push.NewApnsCertificateCredential([]byte("nope"), "", false); return err }, "Certificate"},
		{"fcm json", func() error {
			_, err := push.NewFcmV1CredentialFromJSON([]byte(`{"private_key": "-----BEGIN`))
			return err
		}, "JSON"},
		{"fcm email", func() error { _, err := push.NewFcmV1Credential("nobody", "x", "p"); return err }, "ClientEmail"},
		{"fcm key", func() error { _, err := push.NewFcmV1Credential("a@b.c", "not pem", "p"); return err }, "PrivateKey"},
		{"fcm EC key", func() error { _, err := push.NewFcmV1Credential("a@b.c", string(good), "p"); return err }, "PrivateKey"},
		{"wns secret", func() error { _, err := push.NewWnsCredential("ms-app://s", " "); return err }, "SecretKey"},
		{"adm id", func() error { _, err := push.NewAdmCredential("", "s"); return err }, "ClientID"},
		{"vapid subject", func() error {
			_, err := push.NewBrowserCredential("ops@example.com", vapid.PublicKey, priv(vapid))
			return err
		}, "Subject"},
		{"vapid public", func() error { _, err := push.NewBrowserCredential("mailto:a@b.c", "AAAA", priv(vapid)); return err }, "PublicKey"},
		{"vapid mismatch", func() error {
			_, err := push.NewBrowserCredential("mailto:a@b.c", other.PublicKey, priv(vapid))
			return err
		}, "PrivateKey"},
		{"xiaomi endpoint", func() error { _, err := push.NewXiaomiCredential("s", "http://x"); return err }, "Endpoint"},
		{"baidu secret", func() error { _, err := push.NewBaiduCredential("k", ""); return err }, "SecretKey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.build()
			var ce *push.CredentialError
			if !errors.As(err, &ce) || ce.Field != tc.field {
				t.Fatalf("error %v, want a CredentialError on %s", err, tc.field)
			}
			if strings.Contains(err.Error(), "BEGIN") || strings.Contains(err.Error(), "right") {
				t.Errorf("error %q quotes secret material", err)
			}
		})
	}
	if _, err := push.NewApnsTokenCredential("KEY1", "TEAM1", "com.x", []byte(body), true); err != nil {
		t.Errorf("the .p8 body without armour, as Notification Hubs stores it: %v", err)
	}
}

// TestSecretsNeverPrinted formats every credential every way and looks for
// its secret material.
func TestSecretsNeverPrinted(t *testing.T) {
	a := pushtest.NewApns(t)
	g := pushtest.NewGoogle(t)
	key, keyID, teamID := a.NewKey(t, "com.example.app")
	apnsTok, _ := push.NewApnsTokenCredential(keyID, teamID, "com.example.app", key, false)
	apnsCert, err := push.NewApnsCertificateCredential(a.NewCertificatePEM(t, "com.example.app"), "", true)
	if err != nil {
		t.Fatal(err)
	}
	sa := g.NewServiceAccount(t, "proj")
	var saFields struct {
		PrivateKey string `json:"private_key"`
	}
	json.Unmarshal(sa, &saFields)
	fcm, _ := push.NewFcmV1CredentialFromJSON(sa)
	wns, _ := push.NewWnsCredential("ms-app://s-1", "wns-secret-value")
	adm, _ := push.NewAdmCredential("amzn1.client", "adm-secret-value")
	baidu, _ := push.NewBaiduCredential("api-key", "baidu-secret-value")
	xiaomi, _ := push.NewXiaomiCredential("xiaomi-secret-value", "https://api.xmpush.example")
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := k.PublicKey.Bytes()
	privRaw, _ := k.Bytes()
	vapidPriv := base64.RawURLEncoding.EncodeToString(privRaw)
	browser, err := push.NewBrowserCredential("mailto:a@example.com", base64.RawURLEncoding.EncodeToString(pub), vapidPriv)
	if err != nil {
		t.Fatal(err)
	}
	// Fragments of each secret that must never show.
	keyBody := strings.Split(string(key), "\n")[1]
	saBody := strings.Split(saFields.PrivateKey, "\n")[1]
	secrets := []string{keyBody, saBody, "wns-secret-value", "adm-secret-value", "baidu-secret-value", "xiaomi-secret-value", vapidPriv}
	for _, c := range []any{apnsTok, apnsCert, fcm, wns, adm, baidu, xiaomi, browser} {
		var outs []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			outs = append(outs, fmt.Sprintf(verb, c))
			outs = append(outs, fmt.Sprintf(verb, []any{c}))
		}
		j, _ := json.Marshal(c)
		outs = append(outs, string(j))
		for _, o := range outs {
			if !strings.Contains(o, "[redacted]") && !strings.HasPrefix(o, "{") {
				t.Errorf("%T printed %q without saying the secret is redacted", c, o)
			}
			for _, s := range secrets {
				if strings.Contains(o, s) {
					t.Errorf("%T printed its secret: %q", c, o)
				}
			}
		}
	}
}
