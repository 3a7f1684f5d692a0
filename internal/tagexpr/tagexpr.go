// Package tagexpr parses and evaluates Notification Hubs tag expressions
// (docs/protocol.md, "Tags and tag expressions") with the service's grammar and
// limits. The SDK uses it to reject bad expressions before a request; the emulator
// uses it to choose targets.
//
// # Grammar
//
//	expr  := or
//	or    := and ( "||" and )*
//	and   := unary ( "&&" unary )*
//	unary := "!" unary | "(" expr ")" | TAG
//
// Whitespace may appear between tokens. A TAG is 1 to 120 characters from
// A-Z a-z 0-9 _ @ # . : - and, as .NET's \w allows, Unicode letters,
// digits, combining marks and connector punctuation; or a system tag
// "$InstallationId:{id}" or "$UserId:{id}" whose id uses the same
// characters plus '='. The system-tag prefixes are case-sensitive and the
// 120-character limit applies to plain tags only.
//
// # Limits
//
// Tag occurrences are counted (a tag used twice counts twice). An
// expression with neither && nor ! may hold MaxTagsOrOnly tags; any other
// at most MaxTagsMixed.
//
// # Errors
//
// Every error of Parse is a *SyntaxError naming the byte offset, e.g.
//
//	tag expression "a && (b": position 7: missing ")"
package tagexpr

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the service.
const (
	MaxTagLength  = 120 // characters in one tag
	MaxTagsOrOnly = 20  // tag occurrences in an expression that uses only ||
	MaxTagsMixed  = 6   // tag occurrences in an expression that uses && or !
)

// System-tag prefixes; the id follows and a '}' closes the tag.
const (
	InstallationIDPrefix = "$InstallationId:{"
	UserIDPrefix         = "$UserId:{"
)

// Node is one node of a parsed expression: *Tag, *Not, *And or *Or.
type Node interface{ node() }

// Tag is a tag operand. Pos is its byte offset in the source.
type Tag struct {
	Name string
	Pos  int
}

// Not is the negation of X.
type Not struct{ X Node }

// And is the conjunction of its operands (two or more).
type And struct{ Operands []Node }

// Or is the disjunction of its operands (two or more).
type Or struct{ Operands []Node }

func (*Tag) node() {}
func (*Not) node() {}
func (*And) node() {}
func (*Or) node()  {}

// Expr is a parsed, validated tag expression.
type Expr struct {
	Root Node
	src  string
}

// SyntaxError describes what is wrong with an expression and where.
type SyntaxError struct {
	Expr string // the whole expression
	Pos  int    // byte offset of the problem (0-based)
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("tag expression %q: position %d: %s", e.Expr, e.Pos, e.Msg)
}

// Parse parses and validates s: grammar (!, &&, ||, parentheses; ! binds
// tightest, then &&, then ||), tag characters and length, system tags
// $InstallationId:{…} and $UserId:{…}, and the tag-count limits. Errors are
// *SyntaxError.
func Parse(s string) (*Expr, error) {
	p := &parser{src: s, onlyOr: true}
	// A valid expression has one tag more than binary operators: the
	// tags' slab is sized for that (bounded by what any limit allows).
	p.slab = make([]Tag, 0, min(1+strings.Count(s, "&&")+strings.Count(s, "||"), MaxTagsOrOnly+1))
	p.next()
	if p.tok.kind == tokEOF && p.err == nil {
		return nil, p.errorf(0, "empty expression")
	}
	root := p.parseOr()
	if p.err == nil && p.tok.kind != tokEOF {
		p.unexpected("\"&&\", \"||\" or the end")
	}
	if p.err != nil {
		return nil, p.err
	}
	limit, why := MaxTagsOrOnly, ""
	if !p.onlyOr {
		limit, why = MaxTagsMixed, " when && or ! is used"
	}
	if p.ntags > limit {
		pos := p.posOrOnly
		if !p.onlyOr {
			pos = p.posMixed
		}
		return nil, p.errorf(pos, "too many tags (%d > %d%s)", p.ntags, limit, why)
	}
	return &Expr{Root: root, src: s}, nil
}

// String returns the source text.
func (e *Expr) String() string { return e.src }

// Tags returns every tag occurrence, in source order.
func (e *Expr) Tags() []string {
	var out []string
	walk(e.Root, func(t *Tag) { out = append(out, t.Name) })
	return out
}

func walk(n Node, f func(*Tag)) {
	switch n := n.(type) {
	case *Tag:
		f(n)
	case *Not:
		walk(n.X, f)
	case *And:
		for _, o := range n.Operands {
			walk(o, f)
		}
	case *Or:
		for _, o := range n.Operands {
			walk(o, f)
		}
	}
}

// OnlyOr reports whether the expression uses neither && nor !.
func (e *Expr) OnlyOr() bool { return onlyOr(e.Root) }

func onlyOr(n Node) bool {
	switch n := n.(type) {
	case *Tag:
		return true
	case *Or:
		for _, o := range n.Operands {
			if !onlyOr(o) {
				return false
			}
		}
		return true
	}
	return false
}

// Match evaluates the expression for a target; has reports whether the
// target carries a tag.
func (e *Expr) Match(has func(tag string) bool) bool { return eval(e.Root, has) }

func eval(n Node, has func(string) bool) bool {
	switch n := n.(type) {
	case *Tag:
		return has(n.Name)
	case *Not:
		return !eval(n.X, has)
	case *And:
		for _, o := range n.Operands {
			if !eval(o, has) {
				return false
			}
		}
		return true
	case *Or:
		for _, o := range n.Operands {
			if eval(o, has) {
				return true
			}
		}
		return false
	}
	return false
}

// Format returns a canonical text for n: operators with single spaces
// around them and parentheses only where precedence needs them. Parse of
// the result gives the same tree.
func Format(n Node) string {
	var b strings.Builder
	format(&b, n, 0)
	return b.String()
}

// format writes n; prec is the binding strength of the context (0 top or
// inside ||, 1 inside &&, 2 under !).
func format(b *strings.Builder, n Node, prec int) {
	switch n := n.(type) {
	case *Tag:
		b.WriteString(n.Name)
	case *Not:
		b.WriteByte('!')
		format(b, n.X, 2)
	case *And:
		if prec > 1 {
			b.WriteByte('(')
		}
		for i, o := range n.Operands {
			if i > 0 {
				b.WriteString(" && ")
			}
			format(b, o, 2) // a nested && keeps its parentheses
		}
		if prec > 1 {
			b.WriteByte(')')
		}
	case *Or:
		if prec > 0 {
			b.WriteByte('(')
		}
		for i, o := range n.Operands {
			if i > 0 {
				b.WriteString(" || ")
			}
			format(b, o, 1)
		}
		if prec > 0 {
			b.WriteByte(')')
		}
	}
}

// ValidateTag reports whether tag may be stored on a registration or
// installation (characters, length, system-tag form). The error says what
// is wrong.
func ValidateTag(tag string) error {
	if tag == "" {
		return fmt.Errorf("tag %q: empty tag", tag)
	}
	if tag[0] == '$' {
		end, err := scanSystemTag(tag, 0)
		if err != nil {
			return fmt.Errorf("tag %q: position %d: %s", tag, err.Pos, err.Msg)
		}
		if end != len(tag) {
			return fmt.Errorf("tag %q: position %d: unexpected text after the system tag", tag, end)
		}
		return nil
	}
	n := 0
	for i, r := range tag {
		if r == utf8.RuneError && !validRuneAt(tag, i) {
			return fmt.Errorf("tag %q: position %d: invalid UTF-8", tag, i)
		}
		if !isTagRune(r) {
			return fmt.Errorf("tag %q: position %d: character %q is not allowed (use letters, digits and _ @ # . : -)", tag, i, r)
		}
		n++
	}
	if n > MaxTagLength {
		return fmt.Errorf("tag %q: tag too long (%d > %d characters)", clip(tag), n, MaxTagLength)
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func validRuneAt(s string, i int) bool {
	r, size := utf8.DecodeRuneInString(s[i:])
	return !(r == utf8.RuneError && size <= 1)
}

// isTagRune reports whether r may appear in a plain tag: the documented
// ASCII set plus what .NET's \w matches (letters, decimal digits,
// non-spacing marks, connector punctuation).
func isTagRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
			r == '_' || r == '@' || r == '#' || r == '.' || r == ':' || r == '-'
	}
	return isWordRune(r)
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Pc, r)
}

// isIDRune reports whether r may appear inside a system tag's braces:
// [-_@#.:=\w].
func isIDRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isTagRune(r) || r == '='
	}
	return isWordRune(r)
}

// posError is a message at a byte offset.
type posError struct {
	Pos int
	Msg string
}

// scanSystemTag scans a system tag starting at s[start] == '$' and returns
// the offset just past its '}'.
func scanSystemTag(s string, start int) (int, *posError) {
	rest := s[start:]
	var prefix string
	switch {
	case strings.HasPrefix(rest, InstallationIDPrefix):
		prefix = InstallationIDPrefix
	case strings.HasPrefix(rest, UserIDPrefix):
		prefix = UserIDPrefix
	default:
		// The braces are literal: "$UserId:alice" means "$UserId:{alice}".
		for _, p := range [...]string{InstallationIDPrefix, UserIDPrefix} {
			name := strings.TrimSuffix(p, "{")
			if strings.HasPrefix(rest, name) {
				id := rest[len(name):]
				for i, r := range id {
					if !isIDRune(r) {
						id = id[:i]
						break
					}
				}
				if id == "" {
					id = "ID"
				}
				return 0, &posError{start, fmt.Sprintf("the id of a system tag goes in braces: write %q", p+id+"}")}
			}
		}
		return 0, &posError{start, `unknown system tag: the system tags are "$InstallationId:{ID}" and "$UserId:{ID}", spelled so, braces included`}
	}
	i := start + len(prefix)
	idStart := i
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '}' {
			if i == idStart {
				return 0, &posError{i, "empty id in system tag"}
			}
			return i + 1, nil
		}
		if r == utf8.RuneError && size <= 1 {
			return 0, &posError{i, fmt.Sprintf("invalid UTF-8 byte 0x%02x", s[i])}
		}
		if !isIDRune(r) {
			return 0, &posError{i, fmt.Sprintf("character %q is not allowed in a system tag id", r)}
		}
		i += size
	}
	return 0, &posError{i, `missing "}" to close the system tag`}
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokTag
	tokNot
	tokAnd
	tokOr
	tokLParen
	tokRParen
)

type token struct {
	kind tokKind
	pos  int
	text string // tag name for tokTag
}

type parser struct {
	src string
	off int // next unread byte
	tok token
	err *SyntaxError
	// ntags counts tag occurrences; posMixed and posOrOnly are the
	// offsets of the first tag over each limit, for its error.
	ntags               int
	posMixed, posOrOnly int
	// slab holds the Tag nodes, allocated a few at a time.
	slab   []Tag
	onlyOr bool // set false on && or !
	depth  int
}

// newTag returns a Tag node from the slab, starting a new slab when it
// is full (earlier nodes keep theirs).
func (p *parser) newTag(name string, pos int) *Tag {
	if len(p.slab) == cap(p.slab) {
		p.slab = make([]Tag, 0, 4)
	}
	p.slab = append(p.slab, Tag{Name: name, Pos: pos})
	t := &p.slab[len(p.slab)-1]
	switch p.ntags {
	case MaxTagsMixed:
		p.posMixed = pos
	case MaxTagsOrOnly:
		p.posOrOnly = pos
	}
	p.ntags++
	return t
}

// orNode and andNode hold the first two operands with the node, so that
// the common binary expression costs one allocation, not three.
type orNode struct {
	Or
	buf [2]Node
}

type andNode struct {
	And
	buf [2]Node
}

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 200

func (p *parser) errorf(pos int, format string, args ...any) *SyntaxError {
	if p.err == nil {
		p.err = &SyntaxError{Expr: p.src, Pos: pos, Msg: fmt.Sprintf(format, args...)}
	}
	return p.err
}

// next reads the next token into p.tok. On a lexical error it records the
// error and yields tokEOF.
func (p *parser) next() {
	if p.err != nil {
		p.tok = token{kind: tokEOF, pos: len(p.src)}
		return
	}
	s := p.src
	for p.off < len(s) {
		r, size := utf8.DecodeRuneInString(s[p.off:])
		if !unicode.IsSpace(r) {
			break
		}
		p.off += size
	}
	start := p.off
	if start >= len(s) {
		p.tok = token{kind: tokEOF, pos: len(s)}
		return
	}
	switch c := s[start]; c {
	case '(':
		p.off++
		p.tok = token{kind: tokLParen, pos: start}
		return
	case ')':
		p.off++
		p.tok = token{kind: tokRParen, pos: start}
		return
	case '!':
		p.off++
		p.tok = token{kind: tokNot, pos: start}
		return
	case '&', '|':
		if start+1 < len(s) && s[start+1] == c {
			p.off += 2
			kind := tokAnd
			if c == '|' {
				kind = tokOr
			}
			p.tok = token{kind: kind, pos: start}
			return
		}
		p.errorf(start, "unexpected character %q (did you mean %q?)", c, string([]byte{c, c}))
		p.tok = token{kind: tokEOF, pos: start}
		return
	case '$':
		end, perr := scanSystemTag(s, start)
		if perr != nil {
			p.errorf(perr.Pos, "%s", perr.Msg)
			p.tok = token{kind: tokEOF, pos: perr.Pos}
			return
		}
		p.off = end
		p.tok = token{kind: tokTag, pos: start, text: s[start:end]}
		p.checkAfterTag()
		return
	}
	n := 0
	for p.off < len(s) {
		r, size := utf8.DecodeRuneInString(s[p.off:])
		if (r == utf8.RuneError && size <= 1) || !isTagRune(r) {
			break
		}
		p.off += size
		n++
	}
	if n == 0 {
		if r, size := utf8.DecodeRuneInString(s[start:]); r == utf8.RuneError && size <= 1 {
			p.errorf(start, "invalid UTF-8 byte 0x%02x", s[start])
		} else {
			p.errorf(start, "unexpected character %q", r)
		}
		p.tok = token{kind: tokEOF, pos: start}
		return
	}
	if n > MaxTagLength {
		p.errorf(start, "tag too long (%d > %d characters)", n, MaxTagLength)
		p.tok = token{kind: tokEOF, pos: start}
		return
	}
	p.tok = token{kind: tokTag, pos: start, text: s[start:p.off]}
	p.checkAfterTag()
}

// checkAfterTag rejects a character glued to a tag that can neither extend
// it nor start the next token, such as the '$' in "a$b" or '}' in "a}".
func (p *parser) checkAfterTag() {
	if p.off >= len(p.src) {
		return
	}
	r, size := utf8.DecodeRuneInString(p.src[p.off:])
	switch {
	case unicode.IsSpace(r), r == '(', r == ')', r == '!', r == '&', r == '|':
		return
	case r == utf8.RuneError && size <= 1:
		p.errorf(p.off, "invalid UTF-8 byte 0x%02x", p.src[p.off])
	case r == '$' || isTagRune(r):
		// "$a:{x}b" or "a$UserId:{x}": two tags with no operator.
		p.errorf(p.off, "unexpected character %q after tag", r)
	default:
		p.errorf(p.off, "unexpected character %q", r)
	}
	p.tok = token{kind: tokEOF, pos: p.off}
}

func (p *parser) unexpected(want string) {
	switch p.tok.kind {
	case tokEOF:
		p.errorf(p.tok.pos, "unexpected end of expression (expected %s)", want)
	case tokTag:
		p.errorf(p.tok.pos, "unexpected tag %q (expected %s)", p.tok.text, want)
	default:
		p.errorf(p.tok.pos, "unexpected %q (expected %s)", p.src[p.tok.pos:p.off], want)
	}
}

func (p *parser) parseOr() Node {
	x := p.parseAnd()
	if p.tok.kind != tokOr {
		return x
	}
	n := &orNode{}
	n.buf[0] = x
	n.Operands = n.buf[:1]
	for p.tok.kind == tokOr && p.err == nil {
		p.next()
		n.Operands = append(n.Operands, p.parseAnd())
	}
	return &n.Or
}

func (p *parser) parseAnd() Node {
	x := p.parseUnary()
	if p.tok.kind != tokAnd {
		return x
	}
	p.onlyOr = false
	n := &andNode{}
	n.buf[0] = x
	n.Operands = n.buf[:1]
	for p.tok.kind == tokAnd && p.err == nil {
		p.next()
		n.Operands = append(n.Operands, p.parseUnary())
	}
	return &n.And
}

func (p *parser) parseUnary() Node {
	if p.err != nil {
		return nil
	}
	switch p.tok.kind {
	case tokNot:
		p.onlyOr = false
		if p.depth++; p.depth > maxDepth {
			p.errorf(p.tok.pos, "expression nested too deeply (more than %d levels)", maxDepth)
			return nil
		}
		p.next()
		x := p.parseUnary()
		p.depth--
		return &Not{X: x}
	case tokLParen:
		open := p.tok.pos
		if p.depth++; p.depth > maxDepth {
			p.errorf(open, "expression nested too deeply (more than %d levels)", maxDepth)
			return nil
		}
		p.next()
		if p.tok.kind == tokRParen {
			p.errorf(p.tok.pos, "empty parentheses")
			return nil
		}
		x := p.parseOr()
		p.depth--
		if p.err != nil {
			return nil
		}
		if p.tok.kind != tokRParen {
			if p.tok.kind == tokEOF {
				p.errorf(p.tok.pos, `missing ")"`)
			} else {
				p.unexpected(`"&&", "||" or ")"`)
			}
			return nil
		}
		p.next()
		return x
	case tokTag:
		t := p.newTag(p.tok.text, p.tok.pos)
		p.next()
		return t
	}
	p.unexpected(`a tag, "(" or "!"`)
	return nil
}
