// Package tagexpr parses and evaluates Notification Hubs tag expressions
// (rest-api.md §6) with the service's grammar and limits. The SDK uses it to
// reject bad expressions before a request; the emulator uses it to choose
// targets.
package tagexpr

// Limits of the service.
const (
	MaxTagLength  = 120 // characters in one tag
	MaxTagsOrOnly = 20  // tag occurrences in an expression that uses only ||
	MaxTagsMixed  = 6   // tag occurrences in an expression that uses && or !
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

func (e *SyntaxError) Error() string { panic("TODO") }

// Parse parses and validates s: grammar (!, &&, ||, parentheses; ! binds
// tightest, then &&, then ||), tag characters and length, system tags
// $InstallationId:{…} and $UserId:{…}, and the tag-count limits. Errors are
// *SyntaxError.
func Parse(s string) (*Expr, error) { panic("TODO") }

// String returns the source text.
func (e *Expr) String() string { return e.src }

// Tags returns every tag occurrence, in source order.
func (e *Expr) Tags() []string { panic("TODO") }

// OnlyOr reports whether the expression uses neither && nor !.
func (e *Expr) OnlyOr() bool { panic("TODO") }

// Match evaluates the expression for a target; has reports whether the
// target carries a tag.
func (e *Expr) Match(has func(tag string) bool) bool { panic("TODO") }

// ValidateTag reports whether tag may be stored on a registration or
// installation (characters, length, system-tag form). The error says what
// is wrong.
func ValidateTag(tag string) error { panic("TODO") }
