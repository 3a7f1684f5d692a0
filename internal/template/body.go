package template

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// leafFunc maps one string leaf (JSON string value, XML text node or
// attribute value) at where to its output. number asks for an unquoted
// JSON number.
type leafFunc func(where, v string) (out string, number bool, err error)

// jsonFrame is an open JSON object or array.
type jsonFrame struct {
	object    bool
	expectKey bool   // object: the next token is a key or '}'
	count     int    // members or elements written
	key       string // object: current key
}

// jsonPath renders the location of the value being read, e.g.
// aps.alert.title or message.android.data["a.b"] or items[2].
func jsonPath(stack []jsonFrame) string {
	var b strings.Builder
	for _, f := range stack {
		if f.object && f.expectKey {
			// Between members: the location is the object itself.
			break
		}
		if f.object {
			if isPlainKey(f.key) {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			} else {
				b.WriteByte('[')
				writeJSONString(&b, f.key)
				b.WriteByte(']')
			}
		} else {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(f.count))
			b.WriteByte(']')
		}
	}
	if b.Len() == 0 {
		return "$"
	}
	return b.String()
}

func isPlainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !(r == '_' || r == '-' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

// walkJSON reads body as one JSON value, applies fn to every string value
// (not to keys) and writes the result compactly, keeping key order.
func walkJSON(body string, fn leafFunc) (string, error) {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var out strings.Builder
	out.Grow(len(body))
	var stack []jsonFrame
	done := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if !done {
				if len(stack) == 0 {
					return "", &Error{Msg: "invalid JSON: empty body"}
				}
				return "", &Error{Where: jsonPath(stack), Msg: "invalid JSON: unexpected end of body"}
			}
			break
		}
		if err != nil {
			return "", &Error{Where: jsonPath(stack), Msg: "invalid JSON: " + jsonErrorText(err)}
		}
		if done {
			return "", &Error{Msg: "invalid JSON: unexpected data after the top-level value"}
		}
		var top *jsonFrame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if top != nil && top.object && top.expectKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				out.WriteByte('}')
				stack = stack[:len(stack)-1]
				done = endValue(stack)
				continue
			}
			key, _ := tok.(string) // the decoder only yields strings here
			if top.count > 0 {
				out.WriteByte(',')
			}
			writeJSONString(&out, key)
			out.WriteByte(':')
			top.key, top.expectKey = key, false
			continue
		}
		if top != nil && !top.object {
			if d, ok := tok.(json.Delim); ok && d == ']' {
				out.WriteByte(']')
				stack = stack[:len(stack)-1]
				done = endValue(stack)
				continue
			}
			if top.count > 0 {
				out.WriteByte(',')
			}
		}
		switch t := tok.(type) {
		case json.Delim:
			// Only '{' and '[' can come here; the decoder checks the rest.
			out.WriteByte(byte(t))
			stack = append(stack, jsonFrame{object: t == '{', expectKey: t == '{'})
			continue
		case string:
			v, number, err := fn(jsonPath(stack), t)
			if err != nil {
				return "", err
			}
			if number {
				out.WriteString(v)
			} else {
				writeJSONString(&out, v)
			}
		case json.Number:
			out.WriteString(string(t))
		case bool:
			if t {
				out.WriteString("true")
			} else {
				out.WriteString("false")
			}
		case nil:
			out.WriteString("null")
		}
		done = endValue(stack)
	}
	return out.String(), nil
}

// endValue records that a value was completed in the innermost container
// and reports whether it was the top-level value.
func endValue(stack []jsonFrame) bool {
	if len(stack) == 0 {
		return true
	}
	top := &stack[len(stack)-1]
	top.count++
	if top.object {
		top.expectKey = true
	}
	return false
}

// jsonErrorText strips the package prefix from decoder errors.
func jsonErrorText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error() + " (offset " + strconv.Itoa(int(se.Offset)) + ")"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of body"
	}
	return err.Error()
}

// writeJSONString writes s as a JSON string. It escapes only what JSON
// requires (quote, backslash, control characters) so that text such as
// <, > and & stays readable; invalid UTF-8 becomes U+FFFD.
func writeJSONString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"':
				b.WriteString(`\"`)
			case c == '\\':
				b.WriteString(`\\`)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&15])
			default:
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(`\ufffd`)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}

// qname writes an XML name as it was written: prefix:local.
func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func isNamespaceDecl(a xml.Attr) bool {
	return a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns")
}

// walkXML reads body as an XML document, applies fn to every text node and
// attribute value (not to xmlns declarations) and writes the document back
// token by token, keeping prefixes, namespace declarations, comments and
// processing instructions as written.
func walkXML(body string, fn leafFunc) (string, error) {
	dec := xml.NewDecoder(strings.NewReader(body))
	var out strings.Builder
	out.Grow(len(body))
	var stack []string // qualified names of open elements
	startOpen := false // "<name attrs" written, ">" not yet
	rootSeen := false
	var text strings.Builder
	path := func() string { return strings.Join(stack, "/") }

	flushText := func() error {
		if text.Len() == 0 {
			return nil
		}
		t := text.String()
		text.Reset()
		if len(stack) == 0 {
			if strings.TrimSpace(t) != "" {
				return &Error{Msg: "invalid XML: text outside the root element"}
			}
			out.WriteString(t)
			return nil
		}
		v, _, err := fn(path(), t)
		if err != nil {
			return err
		}
		if startOpen {
			out.WriteByte('>')
			startOpen = false
		}
		writeXMLText(&out, v)
		return nil
	}

	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return "", &Error{Where: path(), Msg: "invalid XML: line " + strconv.Itoa(se.Line) + ": " + se.Msg}
			}
			return "", &Error{Where: path(), Msg: "invalid XML: " + err.Error()}
		}
		if cd, ok := tok.(xml.CharData); ok {
			text.Write(cd)
			continue
		}
		if err := flushText(); err != nil {
			return "", err
		}
		if e, ok := tok.(xml.EndElement); ok && startOpen {
			if len(stack) == 0 || stack[len(stack)-1] != qname(e.Name) {
				return "", mismatch(stack, e)
			}
			out.WriteString("/>")
			startOpen = false
			stack = stack[:len(stack)-1]
			continue
		}
		if startOpen {
			out.WriteByte('>')
			startOpen = false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				if rootSeen {
					return "", &Error{Where: qname(t.Name), Msg: "invalid XML: more than one root element"}
				}
				rootSeen = true
			}
			name := qname(t.Name)
			stack = append(stack, name)
			out.WriteByte('<')
			out.WriteString(name)
			for _, a := range t.Attr {
				v := a.Value
				if !isNamespaceDecl(a) {
					v, _, err = fn(path()+"/@"+qname(a.Name), a.Value)
					if err != nil {
						return "", err
					}
				}
				out.WriteByte(' ')
				out.WriteString(qname(a.Name))
				out.WriteString(`="`)
				writeXMLAttr(&out, v)
				out.WriteByte('"')
			}
			startOpen = true
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1] != qname(t.Name) {
				return "", mismatch(stack, t)
			}
			stack = stack[:len(stack)-1]
			out.WriteString("</")
			out.WriteString(qname(t.Name))
			out.WriteByte('>')
		case xml.Comment:
			out.WriteString("<!--")
			out.Write(t)
			out.WriteString("-->")
		case xml.ProcInst:
			out.WriteString("<?")
			out.WriteString(t.Target)
			if len(t.Inst) > 0 {
				out.WriteByte(' ')
				out.Write(t.Inst)
			}
			out.WriteString("?>")
		case xml.Directive:
			out.WriteString("<!")
			out.Write(t)
			out.WriteByte('>')
		}
	}
	if err := flushText(); err != nil {
		return "", err
	}
	if len(stack) > 0 {
		return "", &Error{Where: path(), Msg: "invalid XML: element <" + stack[len(stack)-1] + "> is not closed"}
	}
	if !rootSeen {
		return "", &Error{Msg: "invalid XML: no root element"}
	}
	return out.String(), nil
}

func mismatch(stack []string, e xml.EndElement) error {
	if len(stack) == 0 {
		return &Error{Msg: "invalid XML: unexpected end element </" + qname(e.Name) + ">"}
	}
	return &Error{
		Where: strings.Join(stack, "/"),
		Msg:   "invalid XML: element <" + stack[len(stack)-1] + "> closed by </" + qname(e.Name) + ">",
	}
}

// writeXMLText escapes character data. Characters XML 1.0 cannot carry
// (most C0 controls, invalid UTF-8) become U+FFFD.
func writeXMLText(b *strings.Builder, s string) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '\r':
			b.WriteString("&#xD;")
		case !isXMLChar(r) || (r == utf8.RuneError && size == 1):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
}

// writeXMLAttr escapes an attribute value for a double-quoted attribute,
// keeping tabs and line breaks as character references.
func writeXMLAttr(b *strings.Builder, s string) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\t':
			b.WriteString("&#x9;")
		case r == '\n':
			b.WriteString("&#xA;")
		case r == '\r':
			b.WriteString("&#xD;")
		case !isXMLChar(r) || (r == utf8.RuneError && size == 1):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
}

// isXMLChar reports whether r is a Char of XML 1.0.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
