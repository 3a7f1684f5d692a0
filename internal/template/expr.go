package template

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxPropertyNameLength is the longest property name an expression may use.
const MaxPropertyNameLength = 120

var (
	propertyNameRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	// numberRE is the service's JSON-number test for #(prop) (docs/protocol.md,
	// "Templates"). As documented it has no leading '-': a negative value is
	// emitted as a quoted string.
	numberRE = regexp.MustCompile(`^(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)
)

// Lookup implements Properties, matching name case-insensitively. An exact
// match wins; among keys that differ only in case the smallest (in byte
// order) is used, so that the result does not depend on map order.
func (p Props) Lookup(name string) (string, bool) {
	if v, ok := p[name]; ok {
		return v, true
	}
	var keys []string
	for k := range p {
		if strings.EqualFold(k, name) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return "", false
	}
	sort.Strings(keys)
	return p[keys[0]], true
}

// IsExpression reports whether a JSON string value or XML text/attribute
// value is an expression: its first character is one of $ . % # {.
func IsExpression(v string) bool {
	if v == "" {
		return false
	}
	switch v[0] {
	case '$', '.', '%', '#', '{':
		return true
	}
	return false
}

type tokenKind int

const (
	tokDollar  tokenKind = iota // $(prop) or $(prop, n)
	tokDot                      // .(prop, n)
	tokPercent                  // %(prop)
	tokHash                     // #(prop)
	tokLiteral                  // 'text' or "text"
)

// exprToken is one operand of an expression.
type exprToken struct {
	kind   tokenKind
	prop   string // property name, or the literal's text
	n      int    // clip length when hasN
	hasN   bool
	def    string // default value when hasDef
	hasDef bool
}

// parsed is a validated expression.
type parsed struct {
	tokens    []exprToken
	composite bool // written as { ... }
}

func exprError(v, format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf("expression %q: ", v) + fmt.Sprintf(format, args...)}
}

func trimLeft(s string) string  { return strings.TrimLeftFunc(s, unicode.IsSpace) }
func trimRight(s string) string { return strings.TrimRightFunc(s, unicode.IsSpace) }

// parse validates an expression value (IsExpression(v) must be true) with
// the rules of the service's ExpressionEvaluator: operands joined by '+',
// each at least 3 characters long, optionally wrapped in { }. As the
// service does, operands joined by '+' are accepted without braces too.
func parse(v string) (*parsed, error) {
	p := &parsed{composite: v[0] == '{'}
	work := v
	if p.composite {
		if len(v) < 2 || v[len(v)-1] != '}' {
			return nil, exprError(v, `missing closing "}" of the composite expression`)
		}
		work = trimRight(v[1 : len(v)-1])
	}
	for {
		work = trimLeft(work)
		if len(work) < 3 {
			return nil, exprError(v, "invalid token %q (a token is at least 3 characters long)", work)
		}
		var tok exprToken
		var end int // offset just past the token
		var err error
		switch work[0] {
		case '$':
			if len(work) >= 5 && strings.EqualFold(work[:5], "$body") {
				return nil, exprError(v, "Expression type '$body' is not supported")
			}
			tok.kind = tokDollar
			end, err = parseProperty(v, work, &tok)
		case '.':
			tok.kind = tokDot
			end, err = parseProperty(v, work, &tok)
		case '%':
			tok.kind = tokPercent
			end, err = parseProperty(v, work, &tok)
		case '#':
			tok.kind = tokHash
			end, err = parseProperty(v, work, &tok)
		case '\'', '"':
			tok.kind = tokLiteral
			end, err = parseLiteral(v, work, &tok)
		default:
			return nil, exprError(v, "Token has to begin with one of these characters . %% # ' \" $; invalid token %q", work)
		}
		if err != nil {
			return nil, err
		}
		p.tokens = append(p.tokens, tok)
		work = trimLeft(work[end:])
		if work == "" {
			break
		}
		if work[0] != '+' {
			return nil, exprError(v, "Only valid composition operator is +; invalid token %q", work)
		}
		work = work[1:]
	}
	if len(p.tokens) > 1 {
		for _, t := range p.tokens {
			if t.kind == tokHash {
				return nil, exprError(v, "Token type '#(prop)' is not allowed in composite expression")
			}
		}
	}
	return p, nil
}

// parseLiteral reads a quoted literal at the start of work; a doubled
// quote stands for one.
func parseLiteral(v, work string, tok *exprToken) (int, error) {
	q := work[0]
	var b strings.Builder
	i := 1
	for {
		j := strings.IndexByte(work[i:], q)
		if j < 0 {
			return 0, exprError(v, "Literal is missing closing notation; invalid token %q", work)
		}
		b.WriteString(work[i : i+j])
		i += j + 1
		if i < len(work) && work[i] == q {
			b.WriteByte(q)
			i++
			continue
		}
		tok.prop = b.String()
		return i, nil
	}
}

// parseProperty reads $(prop), $(prop, n), $(prop:{default}, n), .(prop, n),
// %(prop) or #(prop) at the start of work.
func parseProperty(v, work string, tok *exprToken) (int, error) {
	sym := work[0]
	if work[1] != '(' {
		return 0, exprError(v, "The character following '%c' should be '('; invalid token %q", sym, work)
	}
	i := 2
	for i < len(work) && work[i] != ')' && work[i] != ',' && !strings.HasPrefix(work[i:], ":{") {
		i++
	}
	if i >= len(work) {
		return 0, exprError(v, "Missing closing parentheses; invalid token %q", work)
	}
	name := strings.TrimFunc(work[2:i], unicode.IsSpace)
	if strings.HasPrefix(work[i:], ":{") {
		// Default value: any characters up to an unescaped '}'; a
		// backslash takes the next character literally.
		var b strings.Builder
		j := i + 2
		for {
			if j >= len(work) {
				return 0, exprError(v, "Missing closing \"}\" of the default value; invalid token %q", work)
			}
			c := work[j]
			if c == '}' {
				break
			}
			if c == '\\' && j+1 < len(work) {
				j++
				c = work[j]
			}
			b.WriteByte(c)
			j++
		}
		tok.def, tok.hasDef = b.String(), true
		i = j + 1
		for i < len(work) && work[i] != ')' && work[i] != ',' {
			if !unicode.IsSpace(rune(work[i])) {
				return 0, exprError(v, "unexpected %q after the default value; invalid token %q", work[i], work)
			}
			i++
		}
		if i >= len(work) {
			return 0, exprError(v, "Missing closing parentheses; invalid token %q", work)
		}
	}
	if work[i] == ',' {
		closeAt := strings.IndexByte(work[i:], ')')
		if closeAt < 0 {
			return 0, exprError(v, "Missing closing parentheses; invalid token %q", work)
		}
		closeAt += i
		if sym == '%' || sym == '#' {
			return 0, exprError(v, "The expression %c(prop, n) is not valid; invalid token %q", sym, work)
		}
		num := strings.TrimFunc(work[i+1:closeAt], unicode.IsSpace)
		n, ok := parseLength(num)
		if !ok {
			return 0, exprError(v, "%q is not a positive integer; invalid token %q", num, work)
		}
		tok.n, tok.hasN = n, true
		i = closeAt
	} else if sym == '.' {
		return 0, exprError(v, "Error trying to parse for .(prop, n) format: the length n is mandatory; invalid token %q", work)
	}
	if !propertyNameRE.MatchString(name) {
		return 0, exprError(v, "Property name is %q. Only ASCII-7 alphanumeric characters and '_' are permitted in the property name", name)
	}
	if len(name) > MaxPropertyNameLength {
		return 0, exprError(v, "Property name is of length %d. Maximum allowed length is %d", len(name), MaxPropertyNameLength)
	}
	tok.prop = name
	return i + 1, nil
}

// parseLength accepts what .NET's int.TryParse accepts for a non-negative
// value: surrounding spaces, an optional '+', decimal digits, at most
// math.MaxInt32.
func parseLength(s string) (int, bool) {
	s = strings.TrimFunc(s, unicode.IsSpace)
	s = strings.TrimPrefix(s, "+")
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
		if n > math.MaxInt32 {
			return 0, false
		}
	}
	return n, true
}

// ValidateExpression checks one expression value against the service's
// rules (property names, parentheses, composites, literals).
func ValidateExpression(v string) error {
	if !IsExpression(v) {
		return nil
	}
	_, err := parse(v)
	return err
}

// Eval evaluates one expression value. number is true when the result came
// from #(prop) and is a JSON number (to be emitted unquoted).
//
// Semantics, where the service is silent or where we chose:
//   - A value that is not an expression is returned unchanged.
//   - A missing property gives its default ($(p:{d})) or "". The default
//     then goes through the same clipping or encoding as a value would.
//   - Lengths count characters (runes), not bytes.
//   - .(p, n) keeps the result within n characters including "...": a
//     longer value becomes its first n-3 characters and "...". With n <= 3
//     there is no room for the ellipsis and the value is cut to n.
//   - %(p) encodes like .NET's Uri.EscapeDataString: RFC 3986 unreserved
//     characters (A-Z a-z 0-9 - _ . ~) are kept, every other UTF-8 byte is
//     written %XX with upper-case hex, so a space becomes %20 (not '+' as
//     url.QueryEscape would write).
//   - #(p) is a number when the value matches the documented regular
//     expression (0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; any other
//     value, including "" and negative numbers, is a string. #(p) wrapped
//     in braces, "{#(p)}", is a string, as for the service.
func Eval(v string, props Properties) (out string, number bool, err error) {
	if !IsExpression(v) {
		return v, false, nil
	}
	p, err := parse(v)
	if err != nil {
		return "", false, err
	}
	if len(p.tokens) == 1 {
		out = evalToken(p.tokens[0], props)
		number = p.tokens[0].kind == tokHash && !p.composite && numberRE.MatchString(out)
		return out, number, nil
	}
	var b strings.Builder
	for _, t := range p.tokens {
		b.WriteString(evalToken(t, props))
	}
	return b.String(), false, nil
}

func evalToken(t exprToken, props Properties) string {
	if t.kind == tokLiteral {
		return t.prop
	}
	val, ok := "", false
	if props != nil {
		val, ok = props.Lookup(t.prop)
	}
	if !ok && t.hasDef {
		val = t.def
	}
	switch t.kind {
	case tokDollar:
		if t.hasN {
			val = clipRunes(val, t.n)
		}
	case tokDot:
		if utf8.RuneCountInString(val) > t.n {
			if t.n > 3 {
				val = clipRunes(val, t.n-3) + "..."
			} else {
				val = clipRunes(val, t.n)
			}
		}
	case tokPercent:
		val = escapeDataString(val)
	}
	return val
}

// clipRunes returns the first n characters of s.
func clipRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// escapeDataString percent-encodes every byte of s except the RFC 3986
// unreserved characters, as .NET's Uri.EscapeDataString does.
func escapeDataString(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
