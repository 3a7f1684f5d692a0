// Package template implements the Notification Hubs template expression
// language (docs/protocol.md, "Templates"): validating template bodies and rendering them
// with a notification's properties. The SDK uses it for client-side checks;
// the emulator renders with it.
//
// # Where expressions sit
//
// Only JSON string values (never keys) and XML text nodes and attribute
// values (never names, never xmlns declarations) are expressions, and only
// when their first character is one of $ . % # { (the whole-value rule):
// "Some text $(x)" is sent literally. Raw bodies are opaque.
//
// # Expressions
//
//	$(prop)            property value; missing gives ""
//	$(prop, n)         clipped to n characters
//	.(prop, n)         clipped to n characters including a "..." suffix
//	%(prop)            URI-encoded (as .NET's Uri.EscapeDataString)
//	#(prop)            unquoted in JSON when the value is a number
//	$(prop:{default})  default when the property is missing; \} escapes }
//	'text', "text"     literals, a doubled quote escapes the quote
//	{ e1 + e2 + ... }  concatenation; #() is not allowed with other operands
//
// Property names match ^[A-Za-z0-9_]+$, are at most 120 characters long and
// are looked up case-insensitively. Error texts follow the service's.
//
// # Rendering
//
// JSON bodies are re-serialised compactly with their key order kept. XML
// bodies are re-written token by token with prefixes and namespace
// declarations as written; substituted values are escaped, CDATA sections
// become escaped text and empty elements are written as <e/>.
package template

import "strconv"

// Kind is the kind of template body.
type Kind int

// Kinds of template body.
const (
	JSON Kind = iota // APNs, FCM, FCM v1, ADM, Baidu, browser, Xiaomi
	XML              // WNS toast/tile/badge, MPNS
	Raw              // WNS raw: opaque text, expressions not evaluated
)

// String returns the name of the kind.
func (k Kind) String() string {
	switch k {
	case JSON:
		return "JSON"
	case XML:
		return "XML"
	case Raw:
		return "Raw"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Properties looks a notification property up; names are matched
// case-insensitively by the caller's implementation (see Props).
type Properties interface {
	Lookup(name string) (string, bool)
}

// Props is a map of properties with case-insensitive lookup.
type Props map[string]string

// Error is a template error: where (a JSON path or XML location, and the
// offending value) and what.
type Error struct {
	Where string
	Msg   string
}

func (e *Error) Error() string {
	if e.Where == "" {
		return "template: " + e.Msg
	}
	return "template: " + e.Where + ": " + e.Msg
}

// Validate checks a whole template body of the given kind: it must parse
// (JSON or XML), and each expression in it must be valid.
func Validate(body string, kind Kind) error {
	check := func(where, v string) (string, bool, error) {
		if err := ValidateExpression(v); err != nil {
			return "", false, located(err, where)
		}
		return v, false, nil
	}
	switch kind {
	case JSON:
		_, err := walkJSON(body, check)
		return err
	case XML:
		_, err := walkXML(body, check)
		return err
	case Raw:
		return nil
	}
	return &Error{Msg: "unknown template kind " + kind.String()}
}

// Render expands every expression in body with props and returns the
// payload a device would receive. For JSON it re-serialises, keeping key
// order, with #() numbers unquoted; for XML it substitutes text and
// attribute values; Raw bodies are returned unchanged.
func Render(body string, kind Kind, props Properties) (string, error) {
	eval := func(where, v string) (string, bool, error) {
		out, number, err := Eval(v, props)
		if err != nil {
			return "", false, located(err, where)
		}
		return out, number, nil
	}
	switch kind {
	case JSON:
		return walkJSON(body, eval)
	case XML:
		return walkXML(body, eval)
	case Raw:
		return body, nil
	}
	return "", &Error{Msg: "unknown template kind " + kind.String()}
}

// located sets the Where of an expression error.
func located(err error, where string) error {
	if e, ok := err.(*Error); ok {
		return &Error{Where: where, Msg: e.Msg}
	}
	return &Error{Where: where, Msg: err.Error()}
}
