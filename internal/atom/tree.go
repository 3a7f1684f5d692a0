package atom

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf16"
)

// maxDepth bounds element nesting in every document this package reads.
// Real bodies nest at most seven levels (feed/entry/content/description/
// headers/header/value).
const maxDepth = 64

// node is one element of a parsed document: its resolved name, attributes,
// the character data directly inside it (CDATA and escaped text joined),
// its child elements, and its byte range in the input.
type node struct {
	name       xml.Name
	attr       []xml.Attr
	text       []byte
	kids       []*node
	parent     *node
	start, end int64
}

// parseTree reads a whole document into a tree. It returns the bytes the
// offsets refer to (the input, or its UTF-8 transcoding when it was
// UTF-16). what names the document in error messages.
func parseTree(data []byte, what string) (*node, []byte, error) {
	data = toUTF8(data)
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = charsetReader
	var root, cur *node
	depth := 0
	for {
		off := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("atom: %s: malformed XML: %w", what, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && cur == nil {
				return nil, nil, fmt.Errorf("atom: %s: malformed XML: second root element <%s> at byte %d", what, t.Name.Local, off)
			}
			depth++
			if depth > maxDepth {
				return nil, nil, fmt.Errorf("atom: %s: elements nested deeper than %d at byte %d", what, maxDepth, off)
			}
			n := &node{name: t.Name, attr: copyAttrs(t.Attr), parent: cur, start: off}
			if cur == nil {
				root = n
			} else {
				cur.kids = append(cur.kids, n)
			}
			cur = n
			if err := n.checkDeclared(); err != nil {
				return nil, nil, fmt.Errorf("atom: %s: malformed XML: %v at byte %d", what, err, off)
			}
		case xml.EndElement:
			cur.end = d.InputOffset()
			cur = cur.parent
			depth--
		case xml.CharData:
			if cur == nil {
				if len(bytes.TrimSpace(t)) != 0 {
					return nil, nil, fmt.Errorf("atom: %s: malformed XML: text outside the root element at byte %d", what, off)
				}
				continue
			}
			cur.text = append(cur.text, t...)
		}
	}
	if root == nil {
		return nil, nil, fmt.Errorf("atom: %s: empty document", what)
	}
	return root, data, nil
}

// checkDeclared rejects names with an undeclared namespace prefix.
func (n *node) checkDeclared() error {
	if !n.declared(n.name.Space) {
		return fmt.Errorf("undeclared namespace prefix %q on <%s>", n.name.Space, n.name.Local)
	}
	for _, a := range n.attr {
		if _, ok := nsDecl(a); !ok && !n.declared(a.Name.Space) {
			return fmt.Errorf("undeclared namespace prefix %q on attribute %s of <%s>", a.Name.Space, a.Name.Local, n.name.Local)
		}
	}
	return nil
}

func copyAttrs(a []xml.Attr) []xml.Attr {
	if len(a) == 0 {
		return nil
	}
	out := make([]xml.Attr, len(a))
	copy(out, a)
	return out
}

// toUTF8 strips a UTF-8 byte order mark and transcodes UTF-16 input (which
// must then start with a byte order mark) to UTF-8.
func toUTF8(data []byte) []byte {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return data[3:]
	case len(data) >= 2 && (data[0] == 0xFF && data[1] == 0xFE || data[0] == 0xFE && data[1] == 0xFF):
		le := data[0] == 0xFF
		data = data[2:]
		u := make([]uint16, len(data)/2)
		for i := range u {
			if le {
				u[i] = uint16(data[2*i]) | uint16(data[2*i+1])<<8
			} else {
				u[i] = uint16(data[2*i])<<8 | uint16(data[2*i+1])
			}
		}
		return []byte(string(utf16.Decode(u)))
	}
	return data
}

// charsetReader accepts the declarations seen on the wire that name an
// encoding other than UTF-8. PnsFeedback documents declare utf-16 even when
// their bytes are UTF-8; real UTF-16 input was transcoded by toUTF8.
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-16", "utf-16le", "utf-16be", "unicode", "us-ascii", "ascii", "utf8":
		return input, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", label)
}

// value returns the element's text with XML white space trimmed.
func (n *node) value() string {
	return strings.Trim(string(n.text), " \t\r\n")
}

// isNil reports whether the element carries i:nil="true".
func (n *node) isNil() bool {
	for _, a := range n.attr {
		if a.Name.Local == "nil" && (a.Name.Space == NSInstance || a.Name.Space == "i") {
			return strings.TrimSpace(a.Value) == "true"
		}
	}
	return false
}

// attrValue returns the value of the first attribute with the given local
// name, in any namespace.
func (n *node) attrValue(local string) (string, bool) {
	for _, a := range n.attr {
		if a.Name.Local == local && a.Name.Space != "xmlns" {
			return a.Value, true
		}
	}
	return "", false
}

// child returns the first child element with the given local name.
func (n *node) child(local string) *node {
	for _, k := range n.kids {
		if k.name.Local == local {
			return k
		}
	}
	return nil
}

// childValue returns the trimmed text of the first child with the given
// local name, or "" when it is absent or nil.
func (n *node) childValue(local string) string {
	k := n.child(local)
	if k == nil || k.isNil() {
		return ""
	}
	return k.value()
}

// rawElement returns the bytes of n as a standalone element: the namespace
// declarations n inherits from its ancestors and needs (the default
// namespace when its subtree has elements in it, and prefixes its subtree
// uses) are added to its start tag.
func (n *node) rawElement(data []byte) []byte {
	raw := data[n.start:n.end]
	own := map[string]bool{}
	for _, a := range n.attr {
		if prefix, ok := nsDecl(a); ok {
			own[prefix] = true
		}
	}
	// The closest declaration of each prefix; the default namespace is ""
	// until declared.
	inherited := map[string]string{}
	for p := n.parent; p != nil; p = p.parent {
		for _, a := range p.attr {
			if prefix, ok := nsDecl(a); ok && !own[prefix] {
				if _, seen := inherited[prefix]; !seen {
					inherited[prefix] = a.Value
				}
			}
		}
	}
	usedElem, usedAny, qnamePrefixes := map[string]bool{}, map[string]bool{}, map[string]bool{}
	n.walk(func(k *node) {
		usedElem[k.name.Space] = true
		usedAny[k.name.Space] = true
		for _, a := range k.attr {
			if _, ok := nsDecl(a); !ok {
				usedAny[a.Name.Space] = true
			}
			if a.Name.Local == "type" {
				if i := strings.IndexByte(a.Value, ':'); i > 0 {
					qnamePrefixes[a.Value[:i]] = true
				}
			}
		}
	})
	var decls []string
	if !own[""] && usedElem[inherited[""]] {
		decls = append(decls, "")
	}
	for prefix, uri := range inherited {
		if prefix != "" && (usedAny[uri] || qnamePrefixes[prefix]) {
			decls = append(decls, prefix)
		}
	}
	nameEnd := bytes.IndexAny(raw, " \t\r\n/>")
	if len(decls) == 0 || nameEnd < 0 {
		return bytes.Clone(raw)
	}
	sort.Strings(decls)
	var b bytes.Buffer
	b.Grow(len(raw) + 64*len(decls))
	b.Write(raw[:nameEnd])
	for _, prefix := range decls {
		if prefix == "" {
			b.WriteString(` xmlns="`)
		} else {
			b.WriteString(` xmlns:` + prefix + `="`)
		}
		escapeAttr(&b, inherited[prefix])
		b.WriteByte('"')
	}
	b.Write(raw[nameEnd:])
	return b.Bytes()
}

// nsDecl reports whether a is a namespace declaration, and of which prefix
// ("" for the default namespace).
func nsDecl(a xml.Attr) (prefix string, ok bool) {
	switch {
	case a.Name.Space == "" && a.Name.Local == "xmlns":
		return "", true
	case a.Name.Space == "xmlns":
		return a.Name.Local, true
	}
	return "", false
}

// declared reports whether space is "" or a namespace declared on n or an
// ancestor. encoding/xml leaves an undeclared prefix in Name.Space, which
// could not be carried into a standalone fragment.
func (n *node) declared(space string) bool {
	if space == "" || space == xmlNS {
		return true
	}
	for p := n; p != nil; p = p.parent {
		for _, a := range p.attr {
			if _, ok := nsDecl(a); ok && a.Value == space {
				return true
			}
		}
	}
	return false
}

const xmlNS = "http://www.w3.org/XML/1998/namespace"

func (n *node) walk(f func(*node)) {
	f(n)
	for _, k := range n.kids {
		k.walk(f)
	}
}

// errRoot builds the error for a document whose root element is wrong.
func errRoot(what string, got xml.Name, want string) error {
	name := got.Local
	if got.Space != "" {
		name = "{" + got.Space + "}" + got.Local
	}
	return fmt.Errorf("atom: %s: root element is <%s>, want %s", what, name, want)
}
