package cli

import (
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nhkit/notificationhubs/emulator"
)

// TestEmulatorDeliverFlags: without --deliver the emulator is given no
// delivery options (nothing may leave the machine); with it, the
// platforms, endpoints, roots and queue the flags say.
func TestEmulatorDeliverFlags(t *testing.T) {
	o, err := emulatorServeOptions(t, nil)
	if err != nil || o.Emulator.Deliver != nil {
		t.Fatalf("without --deliver: Deliver = %+v, %v", o.Emulator.Deliver, err)
	}
	o, err = emulatorServeOptions(t, nil, "--deliver")
	if err != nil || o.Emulator.Deliver == nil || len(o.Emulator.Deliver.Platforms) != 0 {
		t.Fatalf("--deliver: %+v, %v", o.Emulator.Deliver, err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	cert, err := emulator.SelfSignedCertificate(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca, pemCert(cert.Certificate[0]), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err = emulatorServeOptions(t, nil, "--deliver=apns,browser", "--pns-endpoint", "apns=https://127.0.0.1:9444",
		"--pns-endpoint", "fcmv1-token=https://127.0.0.1:9445/token", "--pns-ca-file", ca, "--deliver-queue", "10")
	if err != nil {
		t.Fatal(err)
	}
	d := o.Emulator.Deliver
	if !slices.Equal(d.Platforms, []string{"apns", "browser"}) || d.Endpoints["apns"] != "https://127.0.0.1:9444" ||
		d.Endpoints["fcmv1-token"] != "https://127.0.0.1:9445/token" || d.RootCAs == nil || d.QueueSize != 10 {
		t.Errorf("options %+v", d)
	}
	notPEM := filepath.Join(t.TempDir(), "x.pem")
	_ = os.WriteFile(notPEM, []byte("nothing"), 0o600)
	for _, args := range [][]string{
		{"--pns-endpoint", "apns=https://127.0.0.1:9444"},
		{"--pns-ca-file", ca},
		{"--deliver-queue", "5"},
		{"--deliver=apns,pager"},
		{"--deliver", "--pns-endpoint", "apns=http://127.0.0.1:9444"},
		{"--deliver", "--pns-endpoint", "gcm=https://127.0.0.1:9444"},
		{"--deliver", "--pns-endpoint", "https://127.0.0.1:9444"},
		{"--deliver", "--pns-ca-file", notPEM},
		{"--deliver", "--deliver-queue", "-1"},
	} {
		if _, err := emulatorServeOptions(t, nil, args...); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

// TestVapidKeys: the private key goes to a new file readable by its owner
// only and is never printed; an existing file is kept.
func TestVapidKeys(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "vapid.txt")
	stdio, out, _ := testIO("")
	if code := Main(context.Background(), []string{"vapid-keys", "--private-key-file", file}, stdio, envMap(nil)); code != 0 {
		t.Fatalf("exit %d", code)
	}
	priv, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(file)
	key := strings.TrimSpace(string(priv))
	if len(key) != 43 || st.Mode().Perm() != 0o600 {
		t.Errorf("private key file: %q, mode %v", key, st.Mode())
	}
	if strings.Contains(out.String(), key) || !strings.Contains(out.String(), "Public key: B") {
		t.Errorf("output: %s", out)
	}
	stdio, _, _ = testIO("")
	if code := Main(context.Background(), []string{"vapid-keys", "--private-key-file", file}, stdio, envMap(nil)); code == 0 {
		t.Error("an existing key file was replaced")
	}
	if again, _ := os.ReadFile(file); string(again) != string(priv) {
		t.Error("the existing key file changed")
	}
	stdio, _, _ = testIO("")
	if code := Main(context.Background(), []string{"vapid-keys"}, stdio, envMap(nil)); code != ExitUsage {
		t.Errorf("without --private-key-file: exit %d", code)
	}
}

func TestAttemptsText(t *testing.T) {
	got := attemptsText([]emulator.DeliveryAttempt{
		{Attempt: 1, Status: "throttled", HTTPStatus: 429, Reason: "TooManyRequests", RetryAfter: 7},
		{Attempt: 2, Status: "delivered", HTTPStatus: 200, PnsID: "5E0F"},
	})
	if want := "throttled 429 TooManyRequests Retry-After 7s; delivered 200 id 5E0F"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
