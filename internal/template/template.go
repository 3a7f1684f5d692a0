// Package template implements the Notification Hubs template expression
// language (rest-api.md §7): validating template bodies and rendering them
// with a notification's properties. The SDK uses it for client-side checks;
// the emulator renders with it.
package template

// Kind is the kind of template body.
type Kind int

// Kinds of template body.
const (
	JSON Kind = iota // APNs, FCM, FCM v1, ADM, Baidu, browser, Xiaomi
	XML              // WNS toast/tile/badge, MPNS
	Raw              // WNS raw: opaque text, expressions not evaluated
)

// Properties looks a notification property up; names are matched
// case-insensitively by the caller's implementation (see Props).
type Properties interface {
	Lookup(name string) (string, bool)
}

// Props is a map of properties with case-insensitive lookup.
type Props map[string]string

// Lookup implements Properties, matching name case-insensitively.
func (p Props) Lookup(name string) (string, bool) { panic("TODO") }

// Error is a template error: where (a JSON path or XML location, and the
// offending value) and what.
type Error struct {
	Where string
	Msg   string
}

func (e *Error) Error() string { panic("TODO") }

// IsExpression reports whether a JSON string value or XML text/attribute
// value is an expression: its first character is one of $ . % # {.
func IsExpression(v string) bool { panic("TODO") }

// ValidateExpression checks one expression value against the service's
// rules (property names, parentheses, composites, literals).
func ValidateExpression(v string) error { panic("TODO") }

// Eval evaluates one expression value. number is true when the result came
// from #(prop) and is a JSON number (to be emitted unquoted).
func Eval(v string, props Properties) (out string, number bool, err error) { panic("TODO") }

// Validate checks a whole template body of the given kind: it must parse
// (JSON or XML), and each expression in it must be valid.
func Validate(body string, kind Kind) error { panic("TODO") }

// Render expands every expression in body with props and returns the
// payload a device would receive. For JSON it re-serialises, keeping key
// order, with #() numbers unquoted; for XML it substitutes text and
// attribute values; Raw bodies are returned unchanged.
func Render(body string, kind Kind, props Properties) (string, error) { panic("TODO") }
