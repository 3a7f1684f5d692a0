package apicheck

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maxMixedLines is the length past which a Go file must say, in its first
// comment, that it holds one concern: a longer file that mixes several is
// split along its seams instead (docs/architecture.md).
const maxMixedLines = 700

// TestLongFilesHoldOneConcern fails on a non-test Go file longer than
// maxMixedLines whose opening comment does not say "one concern".
func TestLongFilesHoldOneConcern(t *testing.T) {
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n := bytes.Count(src, []byte("\n"))
		if n <= maxMixedLines {
			return nil
		}
		if !strings.Contains(strings.ToLower(openingComment(src)), "one concern") {
			t.Errorf("%s has %d lines: split it along its seams, or say in its first comment that it is one concern and which", path, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// openingComment returns the comment lines before the imports: the package
// doc comment and any comment right after the package clause.
func openingComment(src []byte) string {
	var b strings.Builder
	for line := range strings.SplitSeq(string(src), "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "import") || strings.HasPrefix(l, "func ") || strings.HasPrefix(l, "type ") {
			break
		}
		if strings.HasPrefix(l, "//") {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func TestOpeningComment(t *testing.T) {
	src := []byte("// Package x does y.\npackage x\n\n// One concern: sends.\n\nimport \"fmt\"\n\n// Not this.\nfunc f() {}\n")
	got := openingComment(src)
	if !strings.Contains(got, "One concern") || strings.Contains(got, "Not this") {
		t.Errorf("openingComment = %q", got)
	}
}
