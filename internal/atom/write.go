package atom

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// Root attributes of every DataContract document the service writes.
const connectRootAttrs = ` xmlns="` + NSConnect + `" xmlns:i="` + NSInstance + `"`

// validXMLRune reports whether r may appear in an XML 1.0 document.
func validXMLRune(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// escapeText writes s as element text the way .NET's XmlWriter does: &, <
// and > escaped, quotes left alone, carriage returns as character
// references (so they survive end-of-line normalisation). Invalid UTF-8 and
// characters XML cannot carry become U+FFFD.
func escapeText(b *bytes.Buffer, s string) {
	escape(b, s, false)
}

// escapeAttr writes s as a double-quoted attribute value.
func escapeAttr(b *bytes.Buffer, s string) {
	escape(b, s, true)
}

func escape(b *bytes.Buffer, s string, attr bool) {
	last := 0
	for i := 0; i < len(s); {
		r, width := utf8.DecodeRuneInString(s[i:])
		var esc string
		switch {
		case r == '&':
			esc = "&amp;"
		case r == '<':
			esc = "&lt;"
		case r == '>':
			esc = "&gt;"
		case r == '\r':
			esc = "&#xD;"
		case attr && r == '"':
			esc = "&quot;"
		case attr && r == '\n':
			esc = "&#xA;"
		case attr && r == '\t':
			esc = "&#x9;"
		case r == utf8.RuneError && width == 1 || !validXMLRune(r):
			esc = "\uFFFD"
		default:
			i += width
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(esc)
		i += width
		last = i
	}
	b.WriteString(s[last:])
}

// cdataSafe reports whether s can be written inside CDATA sections and read
// back unchanged: valid UTF-8, only XML characters, and no carriage return
// (which XML parsers normalise away).
func cdataSafe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == '\r' || !validXMLRune(r) {
			return false
		}
	}
	return true
}

// writeCDATA writes s as CDATA, splitting the section around every "]]>".
// Text that CDATA cannot carry faithfully is written escaped instead.
func writeCDATA(b *bytes.Buffer, s string) {
	if !cdataSafe(s) {
		escapeText(b, s)
		return
	}
	b.WriteString("<![CDATA[")
	b.WriteString(strings.ReplaceAll(s, "]]>", "]]]]><![CDATA[>"))
	b.WriteString("]]>")
}

// textElem writes <name>value</name>.
func textElem(b *bytes.Buffer, name, value string) {
	b.WriteByte('<')
	b.WriteString(name)
	b.WriteByte('>')
	escapeText(b, value)
	b.WriteString("</")
	b.WriteString(name)
	b.WriteByte('>')
}

// optElem writes <name>value</name> unless value is empty.
func optElem(b *bytes.Buffer, name, value string) {
	if value != "" {
		textElem(b, name, value)
	}
}

// nilElem writes <name>value</name>, or <name i:nil="true"/> when value is
// empty.
func nilElem(b *bytes.Buffer, name, value string) {
	if value == "" {
		b.WriteString("<" + name + ` i:nil="true"/>`)
		return
	}
	textElem(b, name, value)
}
