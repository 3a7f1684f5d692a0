package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nhkit/notificationhubs/emulator"
	"github.com/nhkit/notificationhubs/internal/sas"
)

// emulatorServeOptions parses args as nh emulator would, with env as the
// environment, and returns what it would hand to emulator.Serve.
func emulatorServeOptions(t *testing.T, env map[string]string, args ...string) (emulator.ServeOptions, error) {
	t.Helper()
	var got *emulatorOptions
	f := newFactory(IO{}, envMap(env))
	cmd := newEmulatorCmd(f, func(_ context.Context, o *emulatorOptions) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if err := cmd.Execute(); err != nil {
		return emulator.ServeOptions{}, err
	}
	return got.serveOptions(), nil
}

// TestEmulatorSecurityFlags checks that the control-plane and limit flags
// reach emulator.Serve, and the control token's environment variable.
func TestEmulatorSecurityFlags(t *testing.T) {
	o, err := emulatorServeOptions(t, map[string]string{envControlToken: "from-the-environment-0123"},
		"--allow-host", "devbox.lan", "--allow-host", "*.corp.example", "--max-connections", "500",
		"--max-blob-size", "8MiB", "--max-blob-store", "1GiB", "--retention-bytes", "1048576")
	if err != nil {
		t.Fatal(err)
	}
	e := o.Emulator
	if e.ControlToken != "from-the-environment-0123" || len(e.AllowedHosts) != 2 || e.AllowedHosts[1] != "*.corp.example" ||
		o.MaxConnections != 500 || e.MaxBlobBytes != 8<<20 || e.MaxBlobStoreBytes != 1<<30 || e.RetentionBytes != 1<<20 {
		t.Errorf("options = %+v", o)
	}
	o, err = emulatorServeOptions(t, map[string]string{envControlToken: "from-the-environment-0123"}, "--control-token", "from-the-flag-0123456789")
	if err != nil || o.Emulator.ControlToken != "from-the-flag-0123456789" {
		t.Errorf("the flag does not win over the environment: %q, %v", o.Emulator.ControlToken, err)
	}
	o, err = emulatorServeOptions(t, nil, "--generate-control-token")
	if err != nil || !o.GenerateControlToken || o.Emulator.ControlToken != "" {
		t.Errorf("--generate-control-token: %+v, %v", o, err)
	}
	for _, args := range [][]string{
		{"--generate-control-token", "--control-token", "from-the-flag-0123456789"},
		{"--max-blob-size", "lots"},
		{"--max-blob-size", "-1"},
		{"--max-connections", "-1"},
	} {
		if _, err := emulatorServeOptions(t, nil, args...); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

// TestEmulatorHidesChosenControlToken checks that a control token given
// by the user is never printed, while a generated one is.
func TestEmulatorHidesChosenControlToken(t *testing.T) {
	const tok = "my-own-control-token-42"
	out := emulatorBanner(t, map[string]string{envControlToken: tok}, "--listen", "127.0.0.1:0", "--plain-http")
	if strings.Contains(out, tok) || !strings.Contains(out, "?token=<control token>") {
		t.Errorf("banner with a chosen token:\n%s", out)
	}
	out = emulatorBanner(t, nil, "--listen", "127.0.0.1:0", "--plain-http", "--generate-control-token")
	if !strings.Contains(out, "Control token: ") || !strings.Contains(out, "/_emulator/ui/?token=") {
		t.Errorf("banner with a generated token:\n%s", out)
	}
}

// emulatorBanner runs nh emulator until it has printed its connection
// strings, then stops it, and returns what it printed.
func emulatorBanner(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, append([]string{"emulator"}, args...), IO{Out: pw, Err: pw}, envMap(env))
		pw.Close()
	}()
	var out strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(out.String(), "Connection string (listen)") {
		n, err := pr.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			break
		}
	}
	cancel()
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	<-done
	return out.String()
}

// TestEmulatorDamagedDataFile checks that nh emulator on a damaged data
// file exits 1 with one line naming the file and what to do, not a panic.
func TestEmulatorDamagedDataFile(t *testing.T) {
	dir := t.TempDir()
	emu, err := emulator.Open(emulator.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		req := httptest.NewRequest("PUT", fmt.Sprintf("http://127.0.0.1/hub/installations/i%d?api-version=2020-06", i),
			strings.NewReader(fmt.Sprintf(`{"platform":"fcmv1","pushChannel":"tok%d"}`, i)))
		req.Header.Set("Authorization", sas.Sign("http://127.0.0.1/hub", emulator.FullRuleName, emulator.DefaultFullKey, time.Now().Add(time.Hour)))
		w := httptest.NewRecorder()
		emu.ServeHTTP(w, req)
		if w.Code != 200 {
			t.Fatalf("installation %d: %d %s", i, w.Code, w.Body)
		}
	}
	if err := emu.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "emulator.db")
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	for off := int64(8192); off < fi.Size(); off += 4096 {
		_, _ = f.WriteAt(bytes.Repeat([]byte{0xa5}, 8), off)
	}
	f.Close()

	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"emulator", "--listen", "127.0.0.1:0", "--plain-http", "--data", dir},
		IO{Out: &stdout, Err: &stderr}, envMap(nil))
	lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
	if code != ExitError || len(lines) != 1 || !strings.Contains(lines[0], path) || !strings.Contains(lines[0], "move it away or delete it") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
	}
}
