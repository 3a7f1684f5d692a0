package tagexpr

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		in       string
		wantTags []string
		onlyOr   bool
		format   string
	}{
		{"a", []string{"a"}, true, "a"},
		{"  a  ", []string{"a"}, true, "a"},
		{"a||b", []string{"a", "b"}, true, "a || b"},
		{"a || b", []string{"a", "b"}, true, "a || b"},
		{"(a || b) && !c", []string{"a", "b", "c"}, false, "(a || b) && !c"},
		{"a && b || c", []string{"a", "b", "c"}, false, "a && b || c"},
		{"a || b && c", []string{"a", "b", "c"}, false, "a || b && c"},
		{"!a", []string{"a"}, false, "!a"},
		{"!!a", []string{"a"}, false, "!!a"},
		{"!(a && b)", []string{"a", "b"}, false, "!(a && b)"},
		{"((a))", []string{"a"}, true, "a"},
		{"(a || b) || c", []string{"a", "b", "c"}, true, "(a || b) || c"},
		{"\ta\n&&\r\nb", []string{"a", "b"}, false, "a && b"},
		{"user@example.com || group:sports#1 || x-y_z.w", []string{"user@example.com", "group:sports#1", "x-y_z.w"}, true, "user@example.com || group:sports#1 || x-y_z.w"},
		{"$InstallationId:{abc-123} || $UserId:{bob@contoso.com}", []string{"$InstallationId:{abc-123}", "$UserId:{bob@contoso.com}"}, true, "$InstallationId:{abc-123} || $UserId:{bob@contoso.com}"},
		{"$UserId:{a=b}&&!$InstallationId:{x}", []string{"$UserId:{a=b}", "$InstallationId:{x}"}, false, "$UserId:{a=b} && !$InstallationId:{x}"},
		{"café && 東京 && ß_1", []string{"café", "東京", "ß_1"}, false, "café && 東京 && ß_1"},
		{strings.Repeat("x", 120), []string{strings.Repeat("x", 120)}, true, strings.Repeat("x", 120)},
		{strings.Repeat("é", 120), []string{strings.Repeat("é", 120)}, true, strings.Repeat("é", 120)},
		// Limits: 20 tags with only ||, 6 with && or !.
		{orOf(20), tagsOf(20), true, orOf(20)},
		{andOf(6), tagsOf(6), false, andOf(6)},
		{"!t1 || t2 || t3 || t4 || t5 || t6", tagsOf(6), false, "!t1 || t2 || t3 || t4 || t5 || t6"},
		// Occurrences count, not distinct tags.
		{"a && a && a && a && a && a", []string{"a", "a", "a", "a", "a", "a"}, false, "a && a && a && a && a && a"},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q) error: %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.wantTags, e.Tags()); diff != "" {
			t.Errorf("Parse(%q).Tags() mismatch (-want +got):\n%s", tt.in, diff)
		}
		if got := e.OnlyOr(); got != tt.onlyOr {
			t.Errorf("Parse(%q).OnlyOr() = %v, want %v", tt.in, got, tt.onlyOr)
		}
		if got := Format(e.Root); got != tt.format {
			t.Errorf("Format(Parse(%q)) = %q, want %q", tt.in, got, tt.format)
		}
		if got := e.String(); got != tt.in {
			t.Errorf("String() = %q, want %q", got, tt.in)
		}
	}
}

func tagsOf(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("t%d", i+1)
	}
	return out
}

func orOf(n int) string  { return strings.Join(tagsOf(n), " || ") }
func andOf(n int) string { return strings.Join(tagsOf(n), " && ") }

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in      string
		wantPos int
		wantMsg string
	}{
		{"", 0, "empty expression"},
		{"   ", 0, "empty expression"},
		{"a && (b", 7, `missing ")"`},
		{"(a || (b && c)", 14, `missing ")"`},
		{"a &&", 4, `unexpected end of expression (expected a tag, "(" or "!")`},
		{"|| a", 0, `unexpected "||" (expected a tag, "(" or "!")`},
		{"a & b", 2, `unexpected character '&' (did you mean "&&"?)`},
		{"a | b", 2, `unexpected character '|' (did you mean "||"?)`},
		{"a b", 2, `unexpected tag "b" (expected "&&", "||" or the end)`},
		{"a)", 1, `unexpected ")" (expected "&&", "||" or the end)`},
		{"()", 1, "empty parentheses"},
		{"(a b)", 3, `unexpected tag "b" (expected "&&", "||" or ")")`},
		{"a && !", 6, `unexpected end of expression`},
		{"a*b", 1, `unexpected character '*'`},
		{"a || b c", 7, `unexpected tag "c"`},
		{"a || *", 5, `unexpected character '*'`},
		{"a,b", 1, `unexpected character ','`},
		{"a$UserId:{x}", 1, `unexpected character '$' after tag`},
		{"tag with space", 4, `unexpected tag "with"`},
		{strings.Repeat("x", 121), 0, "tag too long (121 > 120 characters)"},
		{"a || " + strings.Repeat("é", 121), 5, "tag too long (121 > 120 characters)"},
		{"$Foo:{x}", 0, "unknown system tag"},
		{"$installationid:{x}", 0, "unknown system tag"},
		{"$InstallationId:[x]", 0, "the id of a system tag goes in braces"},
		{"$InstallationId:x", 0, "the id of a system tag goes in braces"},
		{"$InstallationId:{}", 17, "empty id in system tag"},
		{"$UserId:{abc", 12, `missing "}" to close the system tag`},
		{"$UserId:{a b}", 10, `character ' ' is not allowed in a system tag id`},
		{"$UserId:{a}b", 11, `unexpected character 'b' after tag`},
		{"a\xffb", 1, "invalid UTF-8 byte 0xff"},
		{"\xff", 0, "invalid UTF-8 byte 0xff"},
		{"$UserId:{\xff}", 9, "invalid UTF-8 byte 0xff"},
		{orOf(21), strings.Index(orOf(21), "t21"), "too many tags (21 > 20)"},
		{andOf(7), strings.Index(andOf(7), "t7"), "too many tags (7 > 6 when && or ! is used)"},
		// The && comes after the 7th tag; the limit is still 6.
		{"t1 || t2 || t3 || t4 || t5 || t6 || t7 && t8", strings.Index("t1 || t2 || t3 || t4 || t5 || t6 || t7 && t8", "t7"), "too many tags (8 > 6 when && or ! is used)"},
		{"!t1 || t2 || t3 || t4 || t5 || t6 || t7", strings.Index("!t1 || t2 || t3 || t4 || t5 || t6 || t7", "t7"), "too many tags (7 > 6 when && or ! is used)"},
		{strings.Repeat("(", 300) + "a" + strings.Repeat(")", 300), 200, "expression nested too deeply"},
		{strings.Repeat("!", 300) + "a", 200, "expression nested too deeply"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) error = %v, want *SyntaxError", tt.in, err)
			continue
		}
		if se.Pos != tt.wantPos || !strings.HasPrefix(se.Msg, tt.wantMsg) {
			t.Errorf("Parse(%q) = position %d: %q, want position %d: %q", tt.in, se.Pos, se.Msg, tt.wantPos, tt.wantMsg)
		}
		if se.Expr != tt.in {
			t.Errorf("Parse(%q).Expr = %q", tt.in, se.Expr)
		}
	}
}

func TestSyntaxErrorText(t *testing.T) {
	_, err := Parse("a && (b")
	want := `tag expression "a && (b": position 7: missing ")"`
	if err == nil || err.Error() != want {
		t.Errorf("Parse error = %v, want %s", err, want)
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		expr string
		tags string // comma-separated tags of the target
		want bool
	}{
		{"a", "a", true},
		{"a", "b", false},
		{"a", "", false},
		{"a || b", "b", true},
		{"a || b", "c", false},
		{"a && b", "a", false},
		{"a && b", "a,b", true},
		{"!a", "", true},
		{"!a", "a", false},
		{"!!a", "a", true},
		// ! binds tighter than &&: (!a) && b.
		{"!a && b", "b", true},
		{"!a && b", "a,b", false},
		{"!a && b", "", false},
		// ! binds tighter than ||: (!a) || b.
		{"!a || b", "a", false},
		{"!a || b", "a,b", true},
		{"!(a || b)", "a", false},
		{"!(a || b)", "", true},
		// && binds tighter than ||: a || (b && c).
		{"a || b && c", "a", true},
		{"a || b && c", "b", false},
		{"a || b && c", "b,c", true},
		// ... and (a && b) || c.
		{"a && b || c", "c", true},
		{"a && b || c", "a", false},
		{"a && b || c", "a,b", true},
		// Parentheses override.
		{"(a || b) && c", "a", false},
		{"(a || b) && c", "a,c", true},
		{"a && (b || c)", "a,c", true},
		{"a && (b || c)", "b,c", false},
		// Exact, case-sensitive tag comparison is the caller's choice;
		// Match passes names through unchanged.
		{"$UserId:{bob}", "$UserId:{bob}", true},
		{"$UserId:{bob}", "$UserId:{alice}", false},
	}
	for _, tt := range tests {
		e, err := Parse(tt.expr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.expr, err)
		}
		set := map[string]bool{}
		for _, tag := range strings.Split(tt.tags, ",") {
			if tag != "" {
				set[tag] = true
			}
		}
		if got := e.Match(func(tag string) bool { return set[tag] }); got != tt.want {
			t.Errorf("Parse(%q).Match({%s}) = %v, want %v", tt.expr, tt.tags, got, tt.want)
		}
	}
}

func TestTree(t *testing.T) {
	e, err := Parse("a || !b && (c || d)")
	if err != nil {
		t.Fatal(err)
	}
	want := &Or{Operands: []Node{
		&Tag{Name: "a", Pos: 0},
		&And{Operands: []Node{
			&Not{X: &Tag{Name: "b", Pos: 6}},
			&Or{Operands: []Node{&Tag{Name: "c", Pos: 12}, &Tag{Name: "d", Pos: 17}}},
		}},
	}}
	if diff := cmp.Diff(Node(want), e.Root); diff != "" {
		t.Errorf("tree mismatch (-want +got):\n%s", diff)
	}
}

func TestValidateTag(t *testing.T) {
	tests := []struct {
		tag     string
		wantErr string // "" for valid
	}{
		{"sports", ""},
		{"user@example.com", ""},
		{"a_b-c.d:e#f@g", ""},
		{"café", ""},
		{strings.Repeat("x", 120), ""},
		{"$InstallationId:{0c7e4a5e-8d3c-4b59-9f63-3b5f2a1f1d2e}", ""},
		{"$UserId:{bob=1}", ""},
		{"", "empty tag"},
		{"a b", `position 1: character ' ' is not allowed`},
		{"a&&b", `position 1: character '&' is not allowed`},
		{"a$b", `position 1: character '$' is not allowed`},
		{"a=b", `position 1: character '=' is not allowed`},
		{"\xff", `position 0: invalid UTF-8`},
		{strings.Repeat("x", 121), "tag too long (121 > 120 characters)"},
		{"$Other:{x}", "unknown system tag"},
		{"$InstallationId:[x]", "goes in braces"},
		{"$InstallationId:{}", "empty id"},
		{"$InstallationId:{x", `missing "}"`},
		{"$InstallationId:{x}y", "unexpected text after the system tag"},
		{"$UserId:{a b}", `character ' ' is not allowed in a system tag id`},
	}
	for _, tt := range tests {
		err := ValidateTag(tt.tag)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ValidateTag(%q) = %v, want nil", tt.tag, err)
		case tt.wantErr != "" && err == nil:
			t.Errorf("ValidateTag(%q) = nil, want error containing %q", tt.tag, tt.wantErr)
		case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
			t.Errorf("ValidateTag(%q) = %v, want error containing %q", tt.tag, err, tt.wantErr)
		}
		// A tag valid for storage is a valid one-tag expression.
		if tt.wantErr == "" {
			if _, err := Parse(tt.tag); err != nil {
				t.Errorf("Parse(%q) of a valid tag: %v", tt.tag, err)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"a", "a || b", "(a || b) && !c", "!!a", "a && (b", "$InstallationId:{x}", "$UserId:{a=b} || c",
		"a & b", "()", "café && 東京", orOf(21), andOf(7), "a\xffb", "((((a))))",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *SyntaxError", err)
			}
			if se.Pos < 0 || se.Pos > len(s) {
				t.Fatalf("error position %d outside [0, %d]", se.Pos, len(s))
			}
			return
		}
		if e.String() != s {
			t.Fatalf("String() = %q, want %q", e.String(), s)
		}
		for _, tag := range e.Tags() {
			if err := ValidateTag(tag); err != nil {
				t.Fatalf("parsed tag %q fails ValidateTag: %v", tag, err)
			}
		}
		// The canonical text parses to the same tree.
		canon := Format(e.Root)
		e2, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(Format(%q)) = %q: %v", s, canon, err)
		}
		if diff := cmp.Diff(e.Root, e2.Root, cmpopts.IgnoreFields(Tag{}, "Pos")); diff != "" {
			t.Fatalf("tree of %q differs after Format (-orig +reparsed):\n%s", s, diff)
		}
		if got := Format(e2.Root); got != canon {
			t.Fatalf("Format not stable: %q then %q", canon, got)
		}
		if e.OnlyOr() != e2.OnlyOr() {
			t.Fatalf("OnlyOr changed after Format")
		}
		// Match agrees between the two trees on a few targets.
		for _, set := range []map[string]bool{{}, {e.Tags()[0]: true}} {
			has := func(tag string) bool { return set[tag] }
			if e.Match(has) != e2.Match(has) {
				t.Fatalf("Match differs after Format")
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	const s = "(sports || news) && !$UserId:{bob@contoso.com} && (en-US || fr-FR) && tier:gold"
	for b.Loop() {
		if _, err := Parse(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	e, err := Parse("(sports || news) && !$UserId:{bob@contoso.com} && (en-US || fr-FR) && tier:gold")
	if err != nil {
		b.Fatal(err)
	}
	tags := map[string]bool{"news": true, "fr-FR": true, "tier:gold": true, "$UserId:{alice}": true}
	has := func(t string) bool { return tags[t] }
	for b.Loop() {
		if !e.Match(has) {
			b.Fatal("no match")
		}
	}
}

// BenchmarkParseSend is the expression of the SDK's send benchmarks.
func BenchmarkParseSend(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("user_42 && !muted"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSystemTagMessages: the braces of a system tag are literal, and the
// errors say so with the tag the user meant.
func TestSystemTagMessages(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"$UserId:alice", `tag expression "$UserId:alice": position 0: the id of a system tag goes in braces: write "$UserId:{alice}"`},
		{"sports && $InstallationId:dev-1", `tag expression "sports && $InstallationId:dev-1": position 10: the id of a system tag goes in braces: write "$InstallationId:{dev-1}"`},
		{"$UserId:", `tag expression "$UserId:": position 0: the id of a system tag goes in braces: write "$UserId:{ID}"`},
		{"$userid:{alice}", `tag expression "$userid:{alice}": position 0: unknown system tag: the system tags are "$InstallationId:{ID}" and "$UserId:{ID}", spelled so, braces included`},
		{"$Foo:{x}", `tag expression "$Foo:{x}": position 0: unknown system tag: the system tags are "$InstallationId:{ID}" and "$UserId:{ID}", spelled so, braces included`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.expr)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q) error =\n%v\nwant\n%s", tt.expr, err, tt.want)
		}
	}
	if err := ValidateTag("$UserId:alice"); err == nil || !strings.Contains(err.Error(), `write "$UserId:{alice}"`) {
		t.Errorf("ValidateTag($UserId:alice) = %v", err)
	}
}
