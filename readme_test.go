package notificationhubs_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeBlock returns the fenced block that follows the README's
// "<!-- readme-check: NAME" comment.
func readmeBlock(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "<!-- readme-check: "+name)
	if i < 0 {
		t.Fatalf("README.md has no readme-check comment for %q", name)
	}
	m := regexp.MustCompile("(?s)\n```[a-z]*\n(.*?)\n```").FindStringSubmatch(s[i:])
	if m == nil {
		t.Fatalf("README.md: no code block after the readme-check comment for %q", name)
	}
	return m[1] + "\n"
}

// TestREADMEFirstExampleBuilds copies the README's first example,
// verbatim, into main.go of a new module that uses this clone through a
// replace directive, and builds it, offline (the module cache and this
// module's go.sum have everything it needs).
func TestREADMEFirstExampleBuilds(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	src := readmeBlock(t, "first example")
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"main.go": src,
		"go.mod":  "module example.com/readme\n\ngo " + goDirective(t) + "\n\nrequire github.com/nhkit/notificationhubs v0.0.0\n\nreplace github.com/nhkit/notificationhubs => " + root + "\n",
		"go.sum":  string(sum),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(goBin, "build", "-o", os.DevNull, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the README's first example does not build: %v\n%s\n--- main.go:\n%s", err, out, src)
	}
}

// goDirective returns the go line of go.mod.
func goDirective(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	return string(m[1])
}

// TestREADMEGoVersionOnce: the README states the Go version once, and it
// is go.mod's.
func TestREADMEGoVersionOnce(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	got := regexp.MustCompile(`\bGo 1\.\d+(\.\d+)?`).FindAllString(string(b), -1)
	if want := "Go " + goDirective(t); len(got) != 1 || got[0] != want {
		t.Errorf("README.md states the Go version as %q, want once, %q", got, want)
	}
}
