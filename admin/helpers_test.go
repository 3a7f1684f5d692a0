package admin_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/admin"
	"github.com/nhkit/notificationhubs/emulator/emulatortest"
	"github.com/nhkit/notificationhubs/internal/pnscred/pnscredtest"
)

// Key material of every kind a hub's credentials take, made fresh for the
// tests. Each secret also lists fragments that must never be printed.
type material struct {
	p8            []byte // APNs .p8 (PEM)
	p12           []byte // APNs push certificate, PKCS#12
	p12Password   string
	certPEM       []byte // the same certificate and key as PEM
	serviceJSON   []byte // FCM v1 service account
	saKey         string // its private key (PEM)
	vapidPublic   string
	vapidPrivate  string
	wnsSecret     string
	admSecret     string
	baiduSecret   string
	xiaomiSecret  string
	gcmKey        string
	secretPieces  []string // fragments that must never show
	bundleID      string
	keyID, teamID string
}

func newMaterial(t testing.TB) material {
	t.Helper()
	m := material{bundleID: "com.example.app", keyID: "ABC123DEFG", teamID: "TEAM123456", p12Password: "p12-password-secret",
		wnsSecret: "wns-secret-value", admSecret: "adm-secret-value", baiduSecret: "baidu-secret-value",
		xiaomiSecret: "xiaomi-secret-value", gcmKey: "gcm-legacy-server-key"}
	m.p8 = pnscredtest.P8()
	cert := pnscredtest.NewCertificate(m.bundleID, &pnscredtest.CertificateOptions{NotAfter: time.Now().Add(365 * 24 * time.Hour)})
	m.p12, m.certPEM = cert.P12(m.p12Password), cert.PEM()
	sa := pnscredtest.NewServiceAccount("proj-1")
	m.saKey, m.serviceJSON = sa.PrivateKey, sa.JSON()
	m.vapidPublic, m.vapidPrivate = pnscredtest.VapidKeys()

	m.secretPieces = []string{
		strings.Split(string(m.p8), "\n")[1][:40],
		strings.Split(m.saKey, "\n")[1][:40],
		base64.StdEncoding.EncodeToString(m.p12)[:40],
		m.p12Password, m.vapidPrivate, m.wnsSecret, m.admSecret, m.baiduSecret, m.xiaomiSecret, m.gcmKey,
	}
	return m
}

// allCredentials gives a hub one credential of every push service.
func (m material) allCredentials(t testing.TB) admin.HubProperties {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var p admin.HubProperties
	var err error
	apns, err := admin.NewApnsTokenCredential(m.keyID, m.teamID, m.bundleID, m.p8, false)
	must(err)
	p.ApnsCredential = apns
	p.FcmV1Credential, err = admin.NewFcmV1CredentialFromJSON(m.serviceJSON)
	must(err)
	p.GcmCredential, err = admin.NewGcmCredential(m.gcmKey)
	must(err)
	p.WnsCredential, err = admin.NewWnsCredential("ms-app://s-1-15-2-1", m.wnsSecret)
	must(err)
	p.MpnsCredential, err = admin.NewMpnsCredential(m.p12, m.p12Password)
	must(err)
	p.AdmCredential, err = admin.NewAdmCredential("amzn1.application-oa2-client.1", m.admSecret)
	must(err)
	p.BaiduCredential, err = admin.NewBaiduCredential("baidu-api-key", m.baiduSecret)
	must(err)
	p.BrowserCredential, err = admin.NewBrowserCredential("mailto:ops@example.com", m.vapidPublic, m.vapidPrivate)
	must(err)
	p.XiaomiCredential, err = admin.NewXiaomiCredential(m.xiaomiSecret, admin.XiaomiGlobalEndpoint)
	must(err)
	return p
}

// noRetry keeps failing tests fast.
var noRetry = azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}

// newAdmin returns a client for the emulator's namespace with connStr.
func newAdmin(t testing.TB, srv *emulatortest.Server, connStr string, o *admin.ClientOptions) *admin.Client {
	t.Helper()
	if o == nil {
		o = &admin.ClientOptions{}
	}
	o.ClientOptions = noRetry
	o.Transport = srv.Client
	c, err := admin.NewClientFromConnectionString(connStr, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newHubClient returns a data-plane client for hub with connStr.
func newHubClient(t testing.TB, srv *emulatortest.Server, connStr, hub string) *notificationhubs.Client {
	t.Helper()
	c, err := notificationhubs.NewClientFromConnectionString(connStr, hub,
		&notificationhubs.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: srv.Client, Retry: policy.RetryOptions{MaxRetries: -1}}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
