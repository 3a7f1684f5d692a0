package emulator

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// damageDataFile overwrites the page id of every page after the two meta
// pages of dir's data file, as a disk fault or a stray write would.
func damageDataFile(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, dbFile)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	for off := int64(2 * page); off < fi.Size(); off += page {
		if _, err := f.WriteAt([]byte{0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5}, off); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestDamagedDataFile checks that a damaged data file makes Open fail with
// one line that names the file and says what to do. bbolt panics on a
// damaged page, in a goroutine of its own when the file is opened for
// writing, which used to end the process with a stack trace.
func TestDamagedDataFile(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, Options{})
	for i := range 50 {
		putInstallation(t, s, fmt.Sprintf("i%d", i), fmt.Sprintf(`{"installationId":"i%d","platform":"fcmv1","pushChannel":"tok%d"}`, i, i))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	path := damageDataFile(t, dir)
	_, err := Open(Options{DataDir: dir})
	if err == nil {
		t.Fatal("Open of a damaged data file succeeded")
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\n\r") || !strings.Contains(msg, path) || !strings.Contains(msg, "damaged") ||
		!strings.Contains(msg, "move it away or delete it") || strings.Contains(msg, "goroutine") {
		t.Errorf("error = %q; want one line naming %s and saying what to do", msg, path)
	}
	// The file is not locked by the failed attempt: moved away, a fresh
	// emulator starts in the same directory.
	if err := os.Rename(path, path+".damaged"); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, dir, Options{})
	s.Close()
}
