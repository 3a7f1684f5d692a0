package atom

import (
	"bytes"
	"strings"
)

// MarshalEntry encodes an entry as the service sends it (docs/protocol.md, "The
// Atom envelope" response form): unprefixed entry, a:etag attribute when ETag is
// set, id, title, published, updated, self link, content type="application/xml".
// Empty fields other than Content are left out.
func MarshalEntry(e Entry) []byte {
	var b bytes.Buffer
	writeEntry(&b, e, true)
	return b.Bytes()
}

func writeEntry(b *bytes.Buffer, e Entry, root bool) {
	b.Grow(512 + len(e.Content))
	b.WriteString("<entry")
	if e.ETag != "" {
		b.WriteString(` a:etag="`)
		escapeAttr(b, `W/"`+e.ETag+`"`)
		b.WriteByte('"')
	}
	if root {
		b.WriteString(` xmlns="` + NSAtom + `"`)
	}
	if e.ETag != "" {
		b.WriteString(` xmlns:a="` + NSMetadata + `"`)
	}
	b.WriteByte('>')
	optElem(b, "id", e.ID)
	if e.Title != "" {
		b.WriteString(`<title type="text">`)
		escapeText(b, e.Title)
		b.WriteString("</title>")
	}
	optElem(b, "published", e.Published)
	optElem(b, "updated", e.Updated)
	if e.Author != "" {
		b.WriteString("<author>")
		textElem(b, "name", e.Author)
		b.WriteString("</author>")
	}
	writeLink(b, "self", e.SelfLink)
	writeLink(b, "alternate", e.AlternateLink)
	if e.Content == nil && e.AlternateLink != "" {
		// A listing entry that only names its resource.
		b.WriteString("</entry>")
		return
	}
	b.WriteString(`<content type="application/xml">`)
	b.Write(e.Content)
	b.WriteString("</content></entry>")
}

func writeLink(b *bytes.Buffer, rel, href string) {
	if href == "" {
		return
	}
	b.WriteString(`<link rel="` + rel + `" href="`)
	escapeAttr(b, href)
	b.WriteString(`"/>`)
}

// MarshalRequestEntry wraps content in the minimal entry a client sends:
// <?xml …?><entry xmlns="…Atom"><content type="application/xml">content</content></entry>.
func MarshalRequestEntry(content []byte) []byte {
	const head = `<?xml version="1.0" encoding="utf-8"?><entry xmlns="` + NSAtom + `"><content type="application/xml">`
	const tail = `</content></entry>`
	b := make([]byte, 0, len(head)+len(content)+len(tail))
	b = append(b, head...)
	b = append(b, content...)
	return append(b, tail...)
}

// ParseEntry decodes an entry; the root must be entry in the Atom namespace.
// Other children of the entry (author, a client's updated, …) are read when
// known and otherwise ignored. Content carries the namespace declarations
// it inherits, so it can be decoded on its own.
func ParseEntry(data []byte) (Entry, error) {
	root, data, err := parseTree(data, "parse entry")
	if err != nil {
		return Entry{}, err
	}
	if root.name.Local != "entry" || root.name.Space != NSAtom {
		return Entry{}, errRoot("parse entry", root.name, "<entry> in namespace "+NSAtom)
	}
	return entryFromNode(root, data), nil
}

func entryFromNode(n *node, data []byte) Entry {
	var e Entry
	if v, ok := n.attrValue("etag"); ok {
		e.ETag = trimETag(v)
	}
	for _, k := range n.kids {
		switch k.name.Local {
		case "id":
			e.ID = k.value()
		case "title":
			e.Title = k.value()
		case "published":
			e.Published = k.value()
		case "updated":
			e.Updated = k.value()
		case "author":
			e.Author = k.childValue("name")
		case "link":
			href, _ := k.attrValue("href")
			switch rel, _ := k.attrValue("rel"); rel {
			case "self":
				e.SelfLink = href
			case "alternate":
				e.AlternateLink = href
			}
		case "content":
			if len(k.kids) > 0 {
				e.Content = k.kids[0].rawElement(data)
			}
		}
	}
	return e
}

// trimETag strips the weak marker and quotes of an ETag: `W/"1"` → `1`.
func trimETag(v string) string {
	v = strings.TrimSpace(v)
	v = strings.TrimPrefix(v, "W/")
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	return v
}

// MarshalFeed encodes a feed as the service sends it (docs/protocol.md, "The Atom
// envelope").
func MarshalFeed(f Feed) []byte {
	var b bytes.Buffer
	b.WriteString(`<feed xmlns="` + NSAtom + `">`)
	if f.Title != "" {
		b.WriteString(`<title type="text">`)
		escapeText(&b, f.Title)
		b.WriteString("</title>")
	}
	if f.Subtitle != "" {
		b.WriteString(`<subtitle type="text">`)
		escapeText(&b, f.Subtitle)
		b.WriteString("</subtitle>")
	}
	optElem(&b, "id", f.ID)
	optElem(&b, "updated", f.Updated)
	optElem(&b, "generator", f.Generator)
	writeLink(&b, "self", f.SelfLink)
	writeLink(&b, "next", f.NextLink)
	for _, e := range f.Entries {
		writeEntry(&b, e, false)
	}
	b.WriteString("</feed>")
	return b.Bytes()
}

// ParseFeed decodes a feed; the root must be feed in the Atom namespace.
func ParseFeed(data []byte) (Feed, error) {
	root, data, err := parseTree(data, "parse feed")
	if err != nil {
		return Feed{}, err
	}
	if root.name.Local != "feed" || root.name.Space != NSAtom {
		return Feed{}, errRoot("parse feed", root.name, "<feed> in namespace "+NSAtom)
	}
	return feedFromNode(root, data), nil
}

func feedFromNode(root *node, data []byte) Feed {
	var f Feed
	for _, k := range root.kids {
		switch k.name.Local {
		case "title":
			f.Title = k.value()
		case "subtitle":
			f.Subtitle = k.value()
		case "id":
			f.ID = k.value()
		case "updated":
			f.Updated = k.value()
		case "generator":
			f.Generator = k.value()
		case "link":
			href, _ := k.attrValue("href")
			switch rel, _ := k.attrValue("rel"); rel {
			case "self":
				f.SelfLink = href
			case "next":
				f.NextLink = href
			}
		case "entry":
			f.Entries = append(f.Entries, entryFromNode(k, data))
		}
	}
	return f
}
