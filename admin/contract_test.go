package admin_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/admin"
	"github.com/nhkit/notificationhubs/emulator"
	"github.com/nhkit/notificationhubs/emulator/emulatortest"
)

// Contract tests: the client against the emulator (package emulatortest),
// which never shares code with it beyond the wire formats.

func TestContractHubLifecycleWithEveryCredential(t *testing.T) {
	srv := emulatortest.NewServer(t)
	c := newAdmin(t, srv, srv.NamespaceConnectionString, nil)
	ctx := context.Background()
	m := newMaterial(t)

	ttl := 39 * 24 * time.Hour
	props := m.allCredentials(t)
	props.RegistrationTTL = &ttl
	props.UserMetadata = "owner=team-a"
	created, err := c.CreateHub(ctx, "everything", &admin.CreateHubOptions{Properties: &props})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"apns", "fcmv1", "gcm", "wns", "mpns", "adm", "baidu", "browser", "xiaomi"}
	if diff := cmp.Diff(want, created.CredentialPlatforms()); diff != "" {
		t.Errorf("credentials (-want +got):\n%s", diff)
	}
	if created.RegistrationTTL == nil || *created.RegistrationTTL != ttl || created.UserMetadata != "owner=team-a" {
		t.Errorf("created = %v, ttl %v", created.HubProperties, created.RegistrationTTL)
	}
	got, err := c.GetHub(ctx, "everything", nil)
	if err != nil || got == nil {
		t.Fatalf("GetHub = %v, %v", got, err)
	}
	apns, ok := got.ApnsCredential.(*admin.ApnsTokenCredential)
	if !ok || apns.KeyID != m.keyID || apns.TeamID != m.teamID || apns.BundleID != m.bundleID || apns.IsProduction() {
		t.Errorf("APNs credential read back: %v", got.ApnsCredential)
	}
	if got.FcmV1Credential.ProjectID != "proj-1" || got.FcmV1Credential.ClientEmail != "sender@proj-1.iam.gserviceaccount.com" {
		t.Errorf("FCM v1 credential read back: %v", got.FcmV1Credential)
	}
	if got.WnsCredential.PackageSID != "ms-app://s-1-15-2-1" || got.AdmCredential.ClientID == "" || got.BaiduCredential.APIKey != "baidu-api-key" ||
		got.BrowserCredential.VapidPublicKey != m.vapidPublic || got.XiaomiCredential.Endpoint != admin.XiaomiGlobalEndpoint || !got.MpnsCredential.Authenticated {
		t.Errorf("credentials read back: %v", got.HubProperties)
	}

	// Updates of every kind: APNs by certificate instead of token (PEM,
	// converted to PKCS#12), sandbox to production; others replaced; the
	// read-back description, written back, keeps what it does not change.
	cert, err := admin.NewApnsCertificateCredential(m.certPEM, "new-password", true)
	if err != nil {
		t.Fatal(err)
	}
	p := got.HubProperties
	p.ApnsCredential = cert
	p.WnsCredential, _ = admin.NewWnsCredential("ms-app://s-2", "another-secret")
	p.GcmCredential = nil // removed
	p.MpnsCredential, _ = admin.NewMpnsCredential(nil, "")
	p.XiaomiCredential, _ = admin.NewXiaomiCredential("x2", "")
	upd, err := c.UpdateHub(ctx, "everything", p, nil)
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"apns", "fcmv1", "wns", "mpns", "adm", "baidu", "browser", "xiaomi"}
	if diff := cmp.Diff(want, upd.CredentialPlatforms()); diff != "" {
		t.Errorf("credentials after update (-want +got):\n%s", diff)
	}
	if _, ok := upd.ApnsCredential.(*admin.ApnsCertificateCredential); !ok || !upd.ApnsCredential.IsProduction() {
		t.Errorf("APNs after update: %v", upd.ApnsCredential)
	}
	if upd.WnsCredential.PackageSID != "ms-app://s-2" || upd.MpnsCredential.Authenticated || upd.XiaomiCredential.Endpoint != admin.XiaomiChinaEndpoint {
		t.Errorf("after update: %v", upd.HubProperties)
	}
	if upd.FcmV1Credential.ProjectID != "proj-1" || *upd.RegistrationTTL != ttl {
		t.Errorf("what the update did not change was lost: %v", upd.HubProperties)
	}
	if r, _ := upd.AuthorizationRule("DefaultFullSharedAccessSignature"); r.PrimaryKey != mustRule(t, created.HubProperties, "DefaultFullSharedAccessSignature").PrimaryKey {
		t.Errorf("the update changed the rules")
	}

	// An update that replaces every kind of credential at once.
	m2 := newMaterial(t)
	p = upd.HubProperties
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	tok, err := admin.NewApnsTokenCredential("KEY2222222", "TEAM222222", "com.example.two", m2.p8, true)
	must(err)
	p.ApnsCredential = tok
	p.FcmV1Credential, err = admin.NewFcmV1Credential("two@proj-2.iam.gserviceaccount.com", m2.saKey, "proj-2")
	must(err)
	p.GcmCredential, err = admin.NewGcmCredential("gcm-two")
	must(err)
	p.WnsCredential, err = admin.NewWnsCredential("ms-app://s-3", "wns-two")
	must(err)
	p.MpnsCredential, err = admin.NewMpnsCredential(m2.certPEM, "mpns-password")
	must(err)
	p.AdmCredential, err = admin.NewAdmCredential("amzn1.two", "adm-two")
	must(err)
	p.BaiduCredential, err = admin.NewBaiduCredential("baidu-two", "baidu-secret-two")
	must(err)
	p.BrowserCredential, err = admin.NewBrowserCredential("https://example.com/contact", m2.vapidPublic, m2.vapidPrivate)
	must(err)
	p.XiaomiCredential, err = admin.NewXiaomiCredential("xiaomi-two", admin.XiaomiSandboxEndpoint)
	must(err)
	if _, err := c.UpdateHub(ctx, "everything", p, nil); err != nil {
		t.Fatal(err)
	}
	again, err := c.GetHub(ctx, "everything", nil)
	if err != nil {
		t.Fatal(err)
	}
	a2, ok := again.ApnsCredential.(*admin.ApnsTokenCredential)
	if !ok || a2.KeyID != "KEY2222222" || !a2.IsProduction() || again.FcmV1Credential.ProjectID != "proj-2" || again.GcmCredential == nil ||
		again.WnsCredential.PackageSID != "ms-app://s-3" || !again.MpnsCredential.Authenticated || again.AdmCredential.ClientID != "amzn1.two" ||
		again.BaiduCredential.APIKey != "baidu-two" || again.BrowserCredential.VapidPublicKey != m2.vapidPublic ||
		again.XiaomiCredential.Endpoint != admin.XiaomiSandboxEndpoint {
		t.Errorf("after replacing every credential: %v", again.HubProperties)
	}

	// Delete; then the hub is gone and a second delete is a 404.
	if _, err := c.DeleteHub(ctx, "everything", nil); err != nil {
		t.Fatal(err)
	}
	if g, err := c.GetHub(ctx, "everything", nil); err != nil || g != nil {
		t.Errorf("GetHub after delete = %v, %v", g, err)
	}
	if _, err := c.DeleteHub(ctx, "everything", nil); !errors.Is(err, notificationhubs.ErrNotFound) {
		t.Errorf("second delete: %v", err)
	}
	if _, err := c.UpdateHub(ctx, "everything", admin.HubProperties{}, nil); !errors.Is(err, notificationhubs.ErrNotFound) {
		t.Errorf("update of a deleted hub: %v", err)
	}
}

// TestContractEditsOfServedCredentials changes the exported fields of the
// credentials GetHub read and checks that UpdateHub sends them, keeping
// each credential's secret (the emulator refuses a credential without
// it), and that an edit of what a certificate says (its bundle id or
// expiry, whether an MPNS credential has one) is refused, not dropped.
func TestContractEditsOfServedCredentials(t *testing.T) {
	srv := emulatortest.NewServer(t)
	c := newAdmin(t, srv, srv.NamespaceConnectionString, nil)
	ctx := context.Background()
	m := newMaterial(t)
	props := m.allCredentials(t)
	if _, err := c.CreateHub(ctx, "edited", &admin.CreateHubOptions{Properties: &props}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetHub(ctx, "edited", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := got.HubProperties
	apns := p.ApnsCredential.(*admin.ApnsTokenCredential)
	apns.KeyID, apns.TeamID, apns.BundleID, apns.Endpoint = "KEY9999999", "TEAM999999", "com.example.edited", admin.ApnsTokenProductionEndpoint
	p.FcmV1Credential.ProjectID, p.FcmV1Credential.ClientEmail = "proj-9", "nine@proj-9.iam.gserviceaccount.com"
	p.WnsCredential.PackageSID = "ms-app://s-9"
	p.AdmCredential.ClientID = "amzn1.nine"
	p.BaiduCredential.APIKey = "baidu-nine"
	p.BrowserCredential.Subject = "https://example.com/nine"
	p.XiaomiCredential.Endpoint = admin.XiaomiSandboxEndpoint
	if _, err := c.UpdateHub(ctx, "edited", p, nil); err != nil {
		t.Fatal(err)
	}
	again, err := c.GetHub(ctx, "edited", nil)
	if err != nil {
		t.Fatal(err)
	}
	a := again.ApnsCredential.(*admin.ApnsTokenCredential)
	for _, f := range []struct{ name, got, want string }{
		{"APNs KeyID", a.KeyID, "KEY9999999"},
		{"APNs TeamID", a.TeamID, "TEAM999999"},
		{"APNs BundleID", a.BundleID, "com.example.edited"},
		{"APNs Endpoint", a.Endpoint, admin.ApnsTokenProductionEndpoint},
		{"FCM v1 ProjectID", again.FcmV1Credential.ProjectID, "proj-9"},
		{"FCM v1 ClientEmail", again.FcmV1Credential.ClientEmail, "nine@proj-9.iam.gserviceaccount.com"},
		{"WNS PackageSID", again.WnsCredential.PackageSID, "ms-app://s-9"},
		{"ADM ClientID", again.AdmCredential.ClientID, "amzn1.nine"},
		{"Baidu APIKey", again.BaiduCredential.APIKey, "baidu-nine"},
		{"browser Subject", again.BrowserCredential.Subject, "https://example.com/nine"},
		{"Xiaomi Endpoint", again.XiaomiCredential.Endpoint, admin.XiaomiSandboxEndpoint},
	} {
		if f.got != f.want {
			t.Errorf("%s after the update = %q, want %q", f.name, f.got, f.want)
		}
	}

	// What a certificate says cannot be edited: the update is refused.
	cert, err := admin.NewApnsCertificateCredential(m.p12, m.p12Password, false)
	if err != nil {
		t.Fatal(err)
	}
	p = again.HubProperties
	p.ApnsCredential = cert
	if _, err := c.UpdateHub(ctx, "edited", p, nil); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(p *admin.HubProperties){
		"ApnsCertificateCredential.BundleID": func(p *admin.HubProperties) {
			p.ApnsCredential.(*admin.ApnsCertificateCredential).BundleID = "com.example.other"
		},
		"ApnsCertificateCredential.NotAfter": func(p *admin.HubProperties) {
			c := p.ApnsCredential.(*admin.ApnsCertificateCredential)
			c.NotAfter = c.NotAfter.Add(time.Hour)
		},
		"MpnsCredential.Authenticated": func(p *admin.HubProperties) { p.MpnsCredential.Authenticated = false },
	} {
		h, err := c.GetHub(ctx, "edited", nil)
		if err != nil {
			t.Fatal(err)
		}
		edit(&h.HubProperties)
		_, err = c.UpdateHub(ctx, "edited", h.HubProperties, nil)
		var ce *admin.CredentialError
		if !errors.As(err, &ce) {
			t.Errorf("%s edited: UpdateHub err = %v, want a CredentialError", name, err)
		} else if got := ce.Credential + "." + ce.Field; got != name {
			t.Errorf("%s edited: the error names %s: %v", name, got, err)
		}
	}
}

func mustRule(t testing.TB, p admin.HubProperties, name string) admin.SharedAccessAuthorizationRule {
	t.Helper()
	r, ok := p.AuthorizationRule(name)
	if !ok {
		t.Fatalf("no rule %s in %v", name, p)
	}
	return r
}

func TestContractErrors(t *testing.T) {
	srv := emulatortest.NewServer(t)
	c := newAdmin(t, srv, srv.NamespaceConnectionString, nil)
	ctx := context.Background()
	sender, err := admin.NewSharedAccessAuthorizationRule("sender", admin.AccessRightsSend)
	if err != nil {
		t.Fatal(err)
	}
	created, err := c.CreateHub(ctx, "guarded", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := created.HubProperties
	p.SetAuthorizationRule(sender)
	if _, err := c.UpdateHub(ctx, "guarded", p, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateHub(ctx, "guarded", nil); !errors.Is(err, notificationhubs.ErrConflict) {
		t.Errorf("create of an existing hub: %v", err)
	}
	if _, err := c.DeleteHub(ctx, "absent", nil); !errors.Is(err, notificationhubs.ErrNotFound) {
		t.Errorf("delete of a missing hub: %v", err)
	}
	listen := mustRule(t, created.HubProperties, "DefaultListenSharedAccessSignature")
	for name, connStr := range map[string]string{
		"listen rule": c.ConnectionString(listen),
		"send rule":   c.ConnectionString(sender),
		"wrong key":   strings.Replace(srv.NamespaceConnectionString, "SharedAccessKey=", "SharedAccessKey=x", 1),
	} {
		other := newAdmin(t, srv, connStr, nil)
		_, err := other.GetHub(ctx, "guarded", nil)
		var re *notificationhubs.ResponseError
		if !errors.Is(err, notificationhubs.ErrUnauthorized) || !errors.As(err, &re) || re.StatusCode != 401 {
			t.Errorf("%s: GetHub: %v, want a 401", name, err)
		}
		if _, err := other.CreateHub(ctx, "made-by-"+strings.ReplaceAll(name, " ", "-"), nil); !errors.Is(err, notificationhubs.ErrUnauthorized) {
			t.Errorf("%s: CreateHub: %v, want a 401", name, err)
		}
	}
	// Bad input is refused before any request.
	for name, err := range map[string]error{
		"hub name": func() error { _, err := c.CreateHub(ctx, "9lives", nil); return err }(),
		"short TTL": func() error {
			d := time.Hour
			_, err := c.CreateHub(ctx, "h", &admin.CreateHubOptions{Properties: &admin.HubProperties{RegistrationTTL: &d}})
			return err
		}(),
		"empty cred": func() error {
			_, err := c.CreateHub(ctx, "h", &admin.CreateHubOptions{Properties: &admin.HubProperties{WnsCredential: &admin.WnsCredential{PackageSID: "x"}}})
			return err
		}(),
		"bad rule": func() error {
			_, err := admin.NewSharedAccessAuthorizationRule("r", admin.AccessRightsManage)
			return err
		}(),
	} {
		var re *notificationhubs.ResponseError
		if err == nil || errors.As(err, &re) {
			t.Errorf("%s: %v, want a client-side error", name, err)
		}
	}
}

func TestContractListPagesPastOnePage(t *testing.T) {
	srv := emulatortest.NewServer(t)
	c := newAdmin(t, srv, srv.NamespaceConnectionString, nil)
	ctx := context.Background()
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("hub-%02d", i)
		want = append(want, name)
		if _, err := c.CreateHub(ctx, name, nil); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	pages := 0
	pager := c.NewListHubsPager(&admin.ListHubsOptions{MaxPageSize: 3})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, h := range page.Hubs {
			got = append(got, h.HubName)
			if len(h.AuthorizationRules) != 2 {
				t.Errorf("%s listed without its rules", h.HubName)
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" || pages != 3 {
		t.Errorf("listing over %d pages (-want +got):\n%s", pages, diff)
	}
}

// TestContractHubKeys: a created hub's own keys open it and the
// development keys do not; a first-use hub the other way round. Rotation
// keeps the previous key working until the next rotation.
func TestContractHubKeys(t *testing.T) {
	srv := emulatortest.NewServer(t)
	c := newAdmin(t, srv, srv.NamespaceConnectionString, nil)
	ctx := context.Background()
	created, err := c.CreateHub(ctx, "ownkeys", nil)
	if err != nil {
		t.Fatal(err)
	}
	full := mustRule(t, created.HubProperties, "DefaultFullSharedAccessSignature")
	canList := func(connStr, hub string) bool {
		pager := newHubClient(t, srv, connStr, hub).NewListRegistrationsPager(nil)
		_, err := pager.NextPage(ctx)
		if err != nil && !errors.Is(err, notificationhubs.ErrUnauthorized) {
			t.Fatalf("%s: %v", hub, err)
		}
		return err == nil
	}
	for _, tc := range []struct {
		name, connStr, hub string
		want               bool
	}{
		{"own key, own hub", c.ConnectionString(full), "ownkeys", true},
		{"development key, created hub", srv.ConnectionString, "ownkeys", false},
		{"development key, first-use hub", srv.ConnectionString, "firstuse", true},
		{"created hub's key, first-use hub", c.ConnectionString(full), "firstuse", false},
		{"namespace key, created hub", srv.NamespaceConnectionString, "ownkeys", true},
	} {
		if got := canList(tc.connStr, tc.hub); got != tc.want {
			t.Errorf("%s: opens %v, want %v", tc.name, got, tc.want)
		}
	}
	// Rotate: the old primary, now secondary, still works; after a second
	// rotation it does not.
	old := c.ConnectionString(full)
	p := created.HubProperties
	for i := range p.AuthorizationRules {
		if p.AuthorizationRules[i].KeyName == full.KeyName {
			p.AuthorizationRules[i].RotateKeys()
		}
	}
	upd, err := c.UpdateHub(ctx, "ownkeys", p, nil)
	if err != nil {
		t.Fatal(err)
	}
	rotated := mustRule(t, upd.HubProperties, full.KeyName)
	if rotated.PrimaryKey == full.PrimaryKey || rotated.SecondaryKey != full.PrimaryKey {
		t.Fatalf("rotation: %+v", rotated)
	}
	if !canList(old, "ownkeys") || !canList(c.ConnectionString(rotated), "ownkeys") {
		t.Error("after one rotation both keys should work")
	}
	p = upd.HubProperties
	for i := range p.AuthorizationRules {
		if p.AuthorizationRules[i].KeyName == full.KeyName {
			p.AuthorizationRules[i].RotateKeys()
		}
	}
	if _, err := c.UpdateHub(ctx, "ownkeys", p, nil); err != nil {
		t.Fatal(err)
	}
	if canList(old, "ownkeys") {
		t.Error("the key of two rotations ago still works")
	}
}

// TestContractFcmV1Migration is the FCM legacy → v1 story end to end: a
// hub with GCM registrations is given an FCM v1 credential,
// MigrateGcmToFcmV1 rewrites the registrations, and FCM v1 sends reach the
// devices. Without the credential, FCM v1 sends are accepted and their
// targets fail with InvalidCredentials.
func TestContractFcmV1Migration(t *testing.T) {
	srv := emulatortest.NewServer(t)
	c := newAdmin(t, srv, srv.NamespaceConnectionString, nil)
	ctx := context.Background()
	m := newMaterial(t)
	gcm, _ := admin.NewGcmCredential(m.gcmKey)
	created, err := c.CreateHub(ctx, "migrating", &admin.CreateHubOptions{Properties: &admin.HubProperties{GcmCredential: gcm}})
	if err != nil {
		t.Fatal(err)
	}
	hub := newHubClient(t, srv, c.ConnectionString(mustRule(t, created.HubProperties, "DefaultFullSharedAccessSignature")), "migrating")
	for _, r := range []notificationhubs.Registration{
		notificationhubs.NewGcmRegistration("tok-1", "news"),
		notificationhubs.NewGcmRegistration("tok-2", "news"),
		notificationhubs.NewFcmV1Registration("tok-early", "news"), // an app already on FCM v1
	} {
		if _, err := hub.CreateRegistration(ctx, r, nil); err != nil {
			t.Fatal(err)
		}
	}
	send := func() {
		t.Helper()
		if _, err := hub.SendFcmV1Notification(ctx, []byte(`{"message":{"notification":{"title":"t","body":"b"}}}`), nil); err != nil {
			t.Fatal(err)
		}
	}
	outcomes := func() map[string]int {
		n := map[string]int{}
		for _, d := range srv.Deliveries(emulator.DeliveryFilter{Hub: "migrating"}) {
			n[d.Handle+" "+d.Outcome]++
		}
		return n
	}
	send()
	if diff := cmp.Diff(map[string]int{"tok-early InvalidCredentials": 1}, outcomes()); diff != "" {
		t.Errorf("without an FCM v1 credential (-want +got):\n%s", diff)
	}
	// 1. The FCM v1 credential, from the service-account file.
	got, err := c.GetHub(ctx, "migrating", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := got.HubProperties
	if p.FcmV1Credential, err = admin.NewFcmV1CredentialFromJSON(m.serviceJSON); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateHub(ctx, "migrating", p, nil); err != nil {
		t.Fatal(err)
	}
	// 2. The registrations.
	report, err := hub.MigrateGcmToFcmV1(ctx, nil)
	if err != nil || report.Rewritten != 2 {
		t.Fatalf("migration: %+v, %v", report, err)
	}
	// 3. FCM v1 sends reach every device.
	send()
	want := map[string]int{"tok-early InvalidCredentials": 1, "tok-early Success": 1, "tok-1 Success": 1, "tok-2 Success": 1}
	if diff := cmp.Diff(want, outcomes()); diff != "" {
		t.Errorf("after the migration (-want +got):\n%s", diff)
	}
}
