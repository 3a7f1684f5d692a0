package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	azlog "github.com/Azure/azure-sdk-for-go/sdk/azcore/log"

	"github.com/nhkit/notificationhubs/admin"
	"github.com/nhkit/notificationhubs/emulator/emulatortest"
)

// TestSecretsNeverPrinted formats every credential, rule and hub
// description every way and looks for their secret material.
func TestSecretsNeverPrinted(t *testing.T) {
	m := newMaterial(t)
	p := m.allCredentials(t)
	rule, err := admin.NewSharedAccessAuthorizationRule("app", admin.AccessRightsListen, admin.AccessRightsSend)
	if err != nil {
		t.Fatal(err)
	}
	p.AuthorizationRules = []admin.SharedAccessAuthorizationRule{rule}
	cert, err := admin.NewApnsCertificateCredential(m.p12, m.p12Password, true)
	if err != nil {
		t.Fatal(err)
	}
	secrets := append([]string{rule.PrimaryKey, rule.SecondaryKey}, m.secretPieces...)
	values := []any{p, &p, p.ApnsCredential, cert, p.FcmV1Credential, p.GcmCredential, p.WnsCredential, p.MpnsCredential,
		p.AdmCredential, p.BaiduCredential, p.BrowserCredential, p.XiaomiCredential, rule, &rule,
		admin.GetHubResponse{HubName: "h", HubProperties: p}, admin.CreateHubResponse{HubName: "h", HubProperties: p},
		admin.UpdateHubResponse{HubName: "h", HubProperties: p}, admin.HubItem{HubName: "h", HubProperties: p},
		admin.ListHubsResponse{Hubs: []admin.HubItem{{HubName: "h", HubProperties: p}}}}
	for _, v := range values {
		var outs []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			outs = append(outs, fmt.Sprintf(verb, v), fmt.Sprintf(verb, []any{v}))
		}
		// Structured logs: slog's JSON handler marshals exported fields
		// unless the value says how to log it.
		var logged bytes.Buffer
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("hub", "value", v)
		slog.New(slog.NewTextHandler(&logged, nil)).Info("hub", "value", v)
		outs = append(outs, logged.String())
		// A rule's keys are exported fields, on purpose (callers build
		// connection strings from them), so JSON of rules and hubs holds
		// them; a credential's secrets are unexported
		// and never in its JSON.
		if j, err := json.Marshal(v); err == nil && !strings.Contains(fmt.Sprintf("%T", v), "Rule") && !strings.Contains(fmt.Sprintf("%T", v), "Hub") {
			outs = append(outs, string(j))
		}
		for _, o := range outs {
			for _, s := range secrets {
				if strings.Contains(o, s) {
					t.Errorf("%T printed a secret: %q", v, o)
				}
			}
		}
		if !strings.Contains(fmt.Sprint(v), "REDACTED") && !strings.Contains(fmt.Sprintf("%T", v), "Hub") &&
			fmt.Sprintf("%T", v) != "*admin.MpnsCredential" {
			t.Errorf("%T prints %q without saying what it left out", v, fmt.Sprint(v))
		}
	}
}

// TestCredentialErrorsQuoteNoSecret builds credentials from bad secrets.
func TestCredentialErrorsQuoteNoSecret(t *testing.T) {
	m := newMaterial(t)
	badKey := strings.Replace(string(m.p8), "PRIVATE KEY-----\n", "PRIVATE KEY-----\nZZZ", 1)
	for name, f := range map[string]func() error{
		"apns key": func() error {
			_, err := admin.NewApnsTokenCredential(m.keyID, m.teamID, m.bundleID, []byte(badKey), true)
			return err
		},
		"apns key id": func() error {
			_, err := admin.NewApnsTokenCredential("KEY ID", m.teamID, m.bundleID, m.p8, true)
			return err
		},
		"cert password": func() error {
			_, err := admin.NewApnsCertificateCredential(m.p12, "wrong-"+m.p12Password, true)
			return err
		},
		"fcm key":    func() error { _, err := admin.NewFcmV1Credential("a@b.c", m.saKey[:100], "p"); return err },
		"fcm json":   func() error { _, err := admin.NewFcmV1CredentialFromJSON(m.serviceJSON[:200]); return err },
		"wns secret": func() error { _, err := admin.NewWnsCredential("ms-app://s", m.wnsSecret+"\n"); return err },
		"vapid": func() error {
			_, err := admin.NewBrowserCredential("mailto:a@b.c", m.vapidPublic, m.vapidPrivate[:20])
			return err
		},
		"xiaomi": func() error { _, err := admin.NewXiaomiCredential(m.xiaomiSecret, "https://evil.example"); return err },
	} {
		err := f()
		var ce *admin.CredentialError
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if !strings.Contains(err.Error(), "admin:") || (name != "fcm json" && !asCredentialError(err, &ce)) {
			t.Errorf("%s: %v is not a CredentialError", name, err)
		}
		for _, s := range append(m.secretPieces, "ZZZ") {
			if strings.Contains(err.Error(), s) {
				t.Errorf("%s: error %q quotes a secret", name, err)
			}
		}
	}
}

func asCredentialError(err error, ce **admin.CredentialError) bool {
	e, ok := err.(*admin.CredentialError)
	*ce = e
	return ok
}

// TestNoSecretsInDumpOrLog drives hub management with a debug dump and
// azcore logging (bodies asked for) and looks for keys and secrets.
func TestNoSecretsInDumpOrLog(t *testing.T) {
	srv := emulatortest.NewServer(t)
	m := newMaterial(t)
	var dump bytes.Buffer
	var mu sync.Mutex
	var logged strings.Builder
	azlog.SetListener(func(ev azlog.Event, msg string) {
		mu.Lock()
		logged.WriteString(msg + "\n")
		mu.Unlock()
	})
	defer azlog.SetListener(nil)
	o := &admin.ClientOptions{DebugWriter: &dump}
	o.Logging.IncludeBody = true
	c := newAdmin(t, srv, srv.NamespaceConnectionString, o)
	ctx := context.Background()
	p := m.allCredentials(t)
	created, err := c.CreateHub(ctx, "dumped", &admin.CreateHubOptions{Properties: &p})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetHub(ctx, "dumped", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateHub(ctx, "dumped", got.HubProperties, nil); err != nil {
		t.Fatal(err)
	}
	pager := c.NewListHubsPager(nil)
	for pager.More() {
		if _, err := pager.NextPage(ctx); err != nil {
			t.Fatal(err)
		}
	}
	secrets := append([]string(nil), m.secretPieces...)
	for _, r := range created.AuthorizationRules {
		secrets = append(secrets, r.PrimaryKey, r.SecondaryKey)
	}
	secrets = append(secrets, strings.SplitN(srv.NamespaceConnectionString, "SharedAccessKey=", 2)[1])
	mu.Lock()
	defer mu.Unlock()
	for what, text := range map[string]string{"debug dump": dump.String(), "azcore log": logged.String()} {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s contains a secret %.12q…", what, s)
			}
		}
	}
	for _, want := range []string{"<PrimaryKey>REDACTED</PrimaryKey>", "<Name>PrivateKey</Name><Value>REDACTED</Value>", "sig=REDACTED", "NotificationHubDescription"} {
		if !strings.Contains(dump.String(), want) {
			t.Errorf("the debug dump lacks %q", want)
		}
	}
}
