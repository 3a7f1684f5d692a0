package apicheck

import (
	"flag"
	"go/types"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the API listing under api/ from the code")

// root is the module root, two levels up from this package.
const root = "../.."

var loaded struct {
	once sync.Once
	pkgs []*types.Package
	err  error
}

// publicPackages type-checks the public packages once per test binary.
func publicPackages(t *testing.T) []*types.Package {
	t.Helper()
	loaded.once.Do(func() {
		pkgs, err := Load(root)
		if err != nil {
			loaded.err = err
			return
		}
		// A new directory may be a new package: list them all for the cache.
		loaded.err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			switch d.Name() {
			case ".git", "node_modules", "testdata":
				return filepath.SkipDir
			}
			_, err = os.ReadDir(path)
			return err
		})
		if loaded.err != nil {
			return
		}
		for _, p := range pkgs {
			loaded.pkgs = append(loaded.pkgs, p.Types)
			// go/packages reads the sources in a go list process, which go
			// test's cache does not see: read them here too, so that a
			// changed or added file reruns these tests instead of replaying
			// a cached pass.
			if len(p.GoFiles) > 0 {
				if _, err := os.ReadDir(filepath.Dir(p.GoFiles[0])); err != nil {
					loaded.err = err
					return
				}
			}
			for _, f := range p.GoFiles {
				if _, err := os.ReadFile(f); err != nil {
					loaded.err = err
					return
				}
			}
		}
	})
	if loaded.err != nil {
		t.Fatal(loaded.err)
	}
	return loaded.pkgs
}

// TestAPIListing fails when a public package's exported API differs from
// its listing under api/. After a deliberate change, regenerate with
//
//	go test ./internal/apicheck -run TestAPIListing -update
func TestAPIListing(t *testing.T) {
	pkgs := publicPackages(t)
	dir := filepath.Join(root, "api")
	want := map[string]bool{}
	for _, p := range pkgs {
		file := ListingFile(p.Path())
		want[file] = true
		got := "pkg " + p.Path() + "\n" + strings.Join(Listing(p), "\n") + "\n"
		path := filepath.Join(dir, file)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s has no API listing (%v); if the package is meant to be public, run: go test ./internal/apicheck -run TestAPIListing -update", p.Path(), err)
			continue
		}
		if d := cmp.Diff(strings.Split(string(old), "\n"), strings.Split(got, "\n")); d != "" {
			t.Errorf("the exported API of %s differs from api/%s (-listing +code):\n%s\nIf the change is deliberate, run: go test ./internal/apicheck -run TestAPIListing -update", p.Path(), file, d)
		}
	}
	// A listing without its package: the package went away or turned internal.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".txt") && !want[e.Name()] {
			if *update {
				if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
					t.Fatal(err)
				}
				continue
			}
			t.Errorf("api/%s lists a package that is no longer public; run the -update command to remove it", e.Name())
		}
	}
}

// TestPublicPackages checks which packages the listing covers, so that a
// new package is guarded without anyone remembering to add it.
func TestPublicPackages(t *testing.T) {
	var got []string
	for _, p := range publicPackages(t) {
		got = append(got, p.Path())
	}
	for _, must := range []string{Module, Module + "/emulator", Module + "/emulator/emulatortest", Module + "/emulator/inbox"} {
		if !slices.Contains(got, must) {
			t.Errorf("public packages %v lack %s", got, must)
		}
	}
	for _, p := range got {
		if !Public(p) {
			t.Errorf("%s is listed but not public", p)
		}
	}
}

func TestPublic(t *testing.T) {
	for path, want := range map[string]bool{
		Module:                               true,
		Module + "/emulator":                 true,
		Module + "/emulator/inbox":           true,
		Module + "/hubs":                     true, // a package added later
		Module + "/internal/atom":            false,
		Module + "/emulator/internal/push":   false,
		Module + "/bench":                    false,
		Module + "/bench/cmd/benchclient":    false,
		Module + "/cmd/nh":                   false,
		Module + "/benchmarks":               true,
		"github.com/nhkit/notificationhubsx": false,
		"example.com/other":                  false,
	} {
		if got := Public(path); got != want {
			t.Errorf("Public(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestListingFile(t *testing.T) {
	for path, want := range map[string]string{
		Module:                            "notificationhubs.txt",
		Module + "/emulator":              "emulator.txt",
		Module + "/emulator/emulatortest": "emulator.emulatortest.txt",
	} {
		if got := ListingFile(path); got != want {
			t.Errorf("ListingFile(%q) = %q, want %q", path, got, want)
		}
	}
}
