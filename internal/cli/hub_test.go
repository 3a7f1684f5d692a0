package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/nhkit/notificationhubs/admin"
)

// TestHubCommandsShowNoSecret runs every nh hub command, successes and
// failures, with and without -o json and --debug, and checks that no
// output, error or debug dump holds a push-service secret, and that the
// hub's keys show only where --connection-strings asks for them.
func TestHubCommandsShowNoSecret(t *testing.T) {
	env, err := testEmulator()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keys, err := makeHubKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	file := func(name string) string { return "@" + filepath.Join(dir, name) }
	hub := "secrets-hub"
	vars := map[string]string{
		"NH_NAMESPACE_CONNECTION_STRING": env.emu.NamespaceConnectionString(env.endpoint()),
		"NH_CONNECTION_STRING":           env.emu.ConnectionString(env.endpoint(), false),
		"NH_CA_FILE":                     env.caFile,
		"NH_HUB":                         hub,
	}
	type run struct {
		args     []string
		connStrs bool // asks for the hub's connection strings
		fails    bool
	}
	set := func(platform string, args ...string) []string {
		return append([]string{"hub", "credentials", "set", platform}, args...)
	}
	runs := []run{
		{args: []string{"hub", "create", hub, "--debug"}},
		{args: set("apns", "--key", file("AuthKey.p8"), "--key-id", "ABC123DEFG", "--team-id", "TEAM123456", "--bundle-id", "com.example.app", "--debug")},
		{args: set("apns", "--certificate", file("cert.p12"), "--password", file("cert-password.txt"), "-o", "json")},
		{args: set("apns", "--certificate", file("cert.p12"), "--password", "wrong", "--debug"), fails: true},
		{args: set("apns", "--key", file("bad.p8"), "--key-id", "ABC123DEFG", "--team-id", "TEAM123456", "--bundle-id", "com.example.app"), fails: true},
		{args: set("fcmv1", "--service-account", file("service-account.json"), "--debug")},
		{args: set("fcmv1", "--client-email", "a@b.c", "--project-id", "p", "--private-key", file("AuthKey.p8")), fails: true},
		{args: set("gcm", "--google-api-key", file("gcm.txt"))},
		{args: set("wns", "--package-sid", "ms-app://s", "--secret-key", file("wns.txt"))},
		{args: set("mpns", "--certificate", file("cert.p12"), "--password", file("cert-password.txt"))},
		{args: set("adm", "--client-id", "c", "--client-secret", file("adm.txt"))},
		{args: set("baidu", "--api-key", "k", "--baidu-secret-key", file("baidu.txt"))},
		{args: set("browser", "--subject", "mailto:a@b.c", "--vapid-public-key", keys.VapidPublic, "--vapid-private-key", file("vapid-private.txt"))},
		{args: set("xiaomi", "--app-secret", file("xiaomi.txt"), "--debug")},
		{args: []string{"hub", "get", hub}},
		{args: []string{"hub", "get", hub, "-o", "json", "--debug"}},
		{args: []string{"hub", "list"}},
		{args: []string{"hub", "list", "-o", "json", "--debug"}},
		{args: []string{"hub", "update", hub, "--rotate-keys", "DefaultListenSharedAccessSignature", "--add-rule", "be=Send", "--debug"}},
		{args: []string{"hub", "credentials", "clear", "gcm", "--debug"}},
		{args: []string{"hub", "get", hub, "--connection-strings"}, connStrs: true},
		{args: []string{"hub", "get", hub, "-o", "json", "--connection-strings", "--debug"}, connStrs: true},
		{args: []string{"hub", "get", hub, "--connection-string", vars["NH_CONNECTION_STRING"]}, fails: true},
		{args: []string{"hub", "delete", hub, "--debug"}},
		{args: []string{"hub", "delete", hub}, fails: true},
	}
	// The hub's keys, read with the SDK before it is deleted.
	var ruleKeys []string
	readKeys := func() {
		pool := x509.NewCertPool()
		pem, _ := os.ReadFile(env.caFile)
		pool.AppendCertsFromPEM(pem)
		c, err := admin.NewClientFromConnectionString(vars["NH_NAMESPACE_CONNECTION_STRING"], &admin.ClientOptions{ClientOptions: azcore.ClientOptions{
			Transport: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.GetHub(context.Background(), hub, nil)
		if err != nil || got == nil {
			return
		}
		for _, r := range got.AuthorizationRules {
			ruleKeys = append(ruleKeys, r.PrimaryKey, r.SecondaryKey)
		}
	}
	type output struct {
		r           run
		text        string
		connStrings bool
	}
	var outs []output
	for _, r := range runs {
		if r.args[1] == "delete" {
			readKeys()
		}
		var stdout, stderr bytes.Buffer
		code := Main(context.Background(), r.args, IO{In: strings.NewReader(""), Out: &stdout, Err: &stderr}, func(k string) string { return vars[k] })
		if (code != 0) != r.fails {
			t.Errorf("nh %s: exit %d: %s", strings.Join(r.args, " "), code, stderr.String())
		}
		outs = append(outs, output{r, stdout.String() + stderr.String(), r.connStrs})
	}
	if len(ruleKeys) == 0 {
		t.Fatal("read no rule keys")
	}
	for _, o := range outs {
		for _, s := range keys.Secrets {
			if strings.Contains(o.text, s) {
				t.Errorf("nh %s printed a secret %.10q…:\n%s", strings.Join(o.r.args, " "), s, o.text)
			}
		}
		shown := false
		for _, k := range ruleKeys {
			shown = shown || strings.Contains(o.text, k)
		}
		if shown != o.connStrings {
			t.Errorf("nh %s: hub keys shown %v:\n%s", strings.Join(o.r.args, " "), shown, o.text)
		}
		if o.connStrings && !strings.Contains(o.text, "SharedAccessKey=") {
			t.Errorf("nh %s: no connection string:\n%s", strings.Join(o.r.args, " "), o.text)
		}
		if !o.r.fails && strings.Contains(strings.Join(o.r.args, " "), "--debug") && !strings.Contains(o.text, "REDACTED") {
			t.Errorf("nh %s: the debug dump redacts nothing:\n%s", strings.Join(o.r.args, " "), o.text)
		}
	}
}
