package apicheck

import (
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/go/packages"
)

// importRules are the allowed imports of docs/architecture.md: for each
// part, the parts of the module its non-test code may not reach, directly
// or through another package. The SDK and the emulator meet only on the
// wire and in the shared protocol packages, so that a misunderstanding of
// the protocol in one is caught by the other instead of mirrored.
var importRules = []struct {
	part      string   // packages whose path (below the module) starts with one of prefixes
	prefixes  []string // "" is the root package alone
	forbidden []string // path prefixes below the module; "" is the root package
}{
	{"the SDK", []string{"", "admin", "internal/nhpipeline"}, []string{"emulator", "internal/cli", "cmd", "bench"}},
	{"the emulator", []string{"emulator"}, []string{"", "internal/cli", "cmd", "bench"}},
	{"the shared protocol packages", []string{"internal/sas", "internal/atom", "internal/tagexpr", "internal/template", "internal/jsonscan", "internal/pnscred", "internal/names"},
		[]string{"", "emulator", "internal/cli", "cmd", "bench"}},
}

// TestImportRules fails when a part of the module imports, even
// indirectly, a part it must not.
func TestImportRules(t *testing.T) {
	cfg := &packages.Config{Mode: packages.NeedName | packages.NeedFiles | packages.NeedImports | packages.NeedDeps, Dir: root}
	pkgs, err := packages.Load(cfg, Module+"/...")
	if err != nil {
		t.Fatal(err)
	}
	// Read the module's sources here too, so that go test's cache sees
	// them (go list reads them in a process of its own).
	for _, p := range pkgs {
		for _, f := range p.GoFiles {
			if _, err := os.ReadFile(f); err != nil {
				t.Fatal(err)
			}
		}
	}
	rel := func(path string) (string, bool) {
		if path == Module {
			return "", true
		}
		r, ok := strings.CutPrefix(path, Module+"/")
		return r, ok
	}
	under := func(r, prefix string) bool {
		if prefix == "" {
			return r == ""
		}
		return r == prefix || strings.HasPrefix(r, prefix+"/")
	}
	checked := 0
	for _, p := range pkgs {
		r, ok := rel(p.PkgPath)
		if !ok {
			continue
		}
		for _, rule := range importRules {
			if !slices.ContainsFunc(rule.prefixes, func(pre string) bool { return under(r, pre) }) {
				continue
			}
			checked++
			// Walk the module's packages reachable from p.
			seen := map[string]bool{}
			var walk func(q *packages.Package, via []string)
			walk = func(q *packages.Package, via []string) {
				for path, dep := range q.Imports {
					dr, inModule := rel(path)
					if !inModule || seen[path] {
						continue
					}
					seen[path] = true
					chain := append(slices.Clone(via), path)
					for _, f := range rule.forbidden {
						if under(dr, f) {
							t.Errorf("%s (%s) imports %s: %s", rule.part, p.PkgPath, path, strings.Join(chain, " → "))
						}
					}
					walk(dep, chain)
				}
			}
			walk(p, nil)
		}
	}
	if checked < 8 {
		t.Errorf("checked %d packages against the rules; the rules match too little", checked)
	}
}
