package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/nhkit/notificationhubs/emulator"
)

// Test helpers shared by this package's test files; helpers used by
// one file stay in that file.

// testIO returns an IO on buffers.
func testIO(stdin string) (IO, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return IO{In: strings.NewReader(stdin), Out: &out, Err: &errb}, &out, &errb
}

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// testEmulator is one emulator for all scripts; each script has its own
// hub, so scripts run in parallel without seeing each other's devices.
var testEmulator = sync.OnceValues(func() (*testEnv, error) {
	emu := emulator.New(emulator.Options{Retention: 200000})
	ls, err := startLocalServer(emu)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "nh-script-ca-")
	if err != nil {
		return nil, err
	}
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, ls.CertPEM, 0o600); err != nil {
		return nil, err
	}
	return &testEnv{emu: emu, ls: ls, caFile: ca, dir: dir}, nil
})

type testEnv struct {
	emu    *emulator.Server
	ls     *localServer
	caFile string
	dir    string
}

func (e *testEnv) endpoint() string { return "sb://" + e.ls.Addr + "/" }
