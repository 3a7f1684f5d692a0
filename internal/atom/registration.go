package atom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Content types of Atom and XML bodies.
const (
	// ContentTypeEntry is the content type of an Atom entry request, as the
	// JS SDK and the docs send it.
	ContentTypeEntry = "application/atom+xml;type=entry;charset=utf-8"
	// ContentTypeEntryResponse is the content type the service puts on an
	// Atom entry response.
	ContentTypeEntryResponse = "application/atom+xml; type=entry; charset=utf-8"
	// ContentTypeFeedResponse is the content type the service puts on an
	// Atom feed response.
	ContentTypeFeedResponse = "application/atom+xml; type=feed; charset=utf-8"
	// ContentTypeXML is the content type of plain XML bodies (outcomes,
	// telemetry, errors).
	ContentTypeXML = "application/xml; charset=utf-8"
)

// Platforms lists every platform, in the order of docs/protocol.md, "Registration
// descriptions".
var Platforms = []Platform{Apple, Gcm, FcmV1, Windows, Mpns, Adm, Baidu, Browser, Xiaomi}

// elemKind says how an element of a description is written.
type elemKind int

const (
	kindOptional elemKind = iota // omitted when empty
	kindRequired                 // always written, empty when unset
	kindNillable                 // written as i:nil when unset
	kindBody                     // always written, as CDATA
	kindHeaders                  // always written, <X/> when empty
)

// elemSpec describes one element of a registration description.
type elemSpec struct {
	name    string
	kind    elemKind
	str     func(*Registration) *string
	headers func(*Registration) *[]Header
	item    string // element name of one header, for kindHeaders
}

func opt(name string, f func(*Registration) *string) elemSpec {
	return elemSpec{name: name, kind: kindOptional, str: f}
}

func req(name string, f func(*Registration) *string) elemSpec {
	return elemSpec{name: name, kind: kindRequired, str: f}
}

func nillable(name string, f func(*Registration) *string) elemSpec {
	return elemSpec{name: name, kind: kindNillable, str: f}
}

func hdrs(name, item string, f func(*Registration) *[]Header) elemSpec {
	return elemSpec{name: name, kind: kindHeaders, headers: f, item: item}
}

var (
	bodySpec         = elemSpec{name: "BodyTemplate", kind: kindBody, str: func(r *Registration) *string { return &r.BodyTemplate }}
	templateNameSpec = nillable("TemplateName", func(r *Registration) *string { return &r.TemplateName })
	channelURISpec   = req("ChannelUri", func(r *Registration) *string { return &r.ChannelURI })
	secondaryTile    = opt("SecondaryTileName", func(r *Registration) *string { return &r.SecondaryTileName })
)

// platformElems are the platform elements (orders 2001+) of each platform,
// in canonical order.
var platformElems = map[Platform][]elemSpec{
	Apple:   {req("DeviceToken", func(r *Registration) *string { return &r.DeviceToken })},
	Gcm:     {req("GcmRegistrationId", func(r *Registration) *string { return &r.GcmRegistrationID })},
	FcmV1:   {req("FcmV1RegistrationId", func(r *Registration) *string { return &r.FcmV1RegistrationID })},
	Windows: {channelURISpec, secondaryTile},
	Mpns:    {channelURISpec, secondaryTile},
	Adm:     {req("AdmRegistrationId", func(r *Registration) *string { return &r.AdmRegistrationID })},
	Baidu: {
		req("BaiduUserId", func(r *Registration) *string { return &r.BaiduUserID }),
		req("BaiduChannelId", func(r *Registration) *string { return &r.BaiduChannelID }),
	},
	Browser: {
		req("Endpoint", func(r *Registration) *string { return &r.Endpoint }),
		req("P256DH", func(r *Registration) *string { return &r.P256DH }),
		req("Auth", func(r *Registration) *string { return &r.Auth }),
	},
	Xiaomi: {req("XiaomiRegistrationId", func(r *Registration) *string { return &r.XiaomiRegistrationID })},
}

// templateElems are the template elements (orders 3001+) of each platform,
// in canonical order.
var templateElems = map[Platform][]elemSpec{
	Apple: {
		bodySpec,
		nillable("Expiry", func(r *Registration) *string { return &r.Expiry }),
		templateNameSpec,
		opt("Priority", func(r *Registration) *string { return &r.Priority }),
		hdrs("ApnsHeaders", "ApnsHeader", func(r *Registration) *[]Header { return &r.ApnsHeaders }),
	},
	Gcm:     {bodySpec, templateNameSpec},
	FcmV1:   {bodySpec, templateNameSpec},
	Windows: {bodySpec, hdrs("WnsHeaders", "WnsHeader", func(r *Registration) *[]Header { return &r.WnsHeaders }), templateNameSpec},
	Mpns:    {bodySpec, hdrs("MpnsHeaders", "MpnsHeader", func(r *Registration) *[]Header { return &r.MpnsHeaders }), templateNameSpec},
	Adm:     {bodySpec, templateNameSpec},
	Baidu: {
		bodySpec, templateNameSpec,
		opt("MessageType", func(r *Registration) *string { return &r.MessageType }),
	},
	Browser: {bodySpec, templateNameSpec},
	Xiaomi:  {bodySpec, templateNameSpec},
}

// ElementName returns the description's element name, e.g.
// "AppleTemplateRegistrationDescription".
func (r Registration) ElementName() string {
	if r.Template {
		return string(r.Platform) + "TemplateRegistrationDescription"
	}
	return string(r.Platform) + "RegistrationDescription"
}

// Handle returns the registration's PNS handle (DeviceToken, ChannelURI,
// …; for Baidu "userId-channelId"; for Browser the Endpoint).
func (r Registration) Handle() string {
	switch r.Platform {
	case Apple:
		return r.DeviceToken
	case Gcm:
		return r.GcmRegistrationID
	case FcmV1:
		return r.FcmV1RegistrationID
	case Windows, Mpns:
		return r.ChannelURI
	case Adm:
		return r.AdmRegistrationID
	case Baidu:
		return r.BaiduUserID + "-" + r.BaiduChannelID
	case Browser:
		return r.Endpoint
	case Xiaomi:
		return r.XiaomiRegistrationID
	}
	return ""
}

// ParsePlatformElement maps an element name such as
// "GcmTemplateRegistrationDescription" to its platform and template flag.
// The legacy names FcmRegistrationDescription and
// FcmTemplateRegistrationDescription map to Gcm. Platform names are matched
// case-insensitively.
func ParsePlatformElement(name string) (p Platform, template bool, ok bool) {
	const suffix = "RegistrationDescription"
	if len(name) <= len(suffix) || !strings.EqualFold(name[len(name)-len(suffix):], suffix) {
		return "", false, false
	}
	name = name[:len(name)-len(suffix)]
	if len(name) > len("Template") && strings.EqualFold(name[len(name)-len("Template"):], "Template") {
		name, template = name[:len(name)-len("Template")], true
	}
	if strings.EqualFold(name, "Fcm") {
		return Gcm, template, true
	}
	for _, p := range Platforms {
		if strings.EqualFold(name, string(p)) {
			return p, template, true
		}
	}
	return "", false, false
}

// MarshalRegistration encodes the description element alone (no Atom
// envelope), with xmlns and xmlns:i, in canonical element order, BodyTemplate
// as CDATA, unset Expiry/TemplateName as i:nil where the service does so,
// and the required elements always present.
func MarshalRegistration(r Registration) ([]byte, error) {
	var b bytes.Buffer
	if err := writeRegistration(&b, r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeRegistration(b *bytes.Buffer, r Registration) error {
	pelems, ok := platformElems[r.Platform]
	if !ok {
		return fmt.Errorf("atom: marshal registration: unknown platform %q", r.Platform)
	}
	name := r.ElementName()
	b.Grow(512 + len(r.BodyTemplate))
	b.WriteString("<" + name + connectRootAttrs + ">")
	optElem(b, "ETag", r.ETag)
	optElem(b, "ExpirationTime", r.ExpirationTime)
	optElem(b, "RegistrationId", r.RegistrationID)
	if len(r.Tags) > 0 {
		textElem(b, "Tags", strings.Join(r.Tags, ","))
	}
	if len(r.PushVariables) > 0 {
		var jb bytes.Buffer
		enc := json.NewEncoder(&jb)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r.PushVariables); err != nil {
			return fmt.Errorf("atom: marshal %s: PushVariables: %w", name, err)
		}
		textElem(b, "PushVariables", strings.TrimSuffix(jb.String(), "\n"))
	}
	writeElems(b, &r, pelems)
	if r.Template {
		writeElems(b, &r, templateElems[r.Platform])
	}
	b.WriteString("</" + name + ">")
	return nil
}

func writeElems(b *bytes.Buffer, r *Registration, specs []elemSpec) {
	for _, s := range specs {
		switch s.kind {
		case kindOptional:
			optElem(b, s.name, *s.str(r))
		case kindRequired:
			textElem(b, s.name, *s.str(r))
		case kindNillable:
			nilElem(b, s.name, *s.str(r))
		case kindBody:
			b.WriteString("<" + s.name + ">")
			writeCDATA(b, *s.str(r))
			b.WriteString("</" + s.name + ">")
		case kindHeaders:
			hs := *s.headers(r)
			if len(hs) == 0 {
				b.WriteString("<" + s.name + "/>")
				continue
			}
			b.WriteString("<" + s.name + ">")
			for _, h := range hs {
				b.WriteString("<" + s.item + ">")
				textElem(b, "Header", h.Name)
				textElem(b, "Value", h.Value)
				b.WriteString("</" + s.item + ">")
			}
			b.WriteString("</" + s.name + ">")
		}
	}
}

// UnmarshalRegistration decodes a description element: a root named
// {Platform}[Template]RegistrationDescription, or RegistrationDescription
// with i:type; elements in any order; unknown elements ignored.
//
// Elements are matched by local name, so the description may come from
// Entry.Content or from any namespace. Values are trimmed of white space;
// i:nil elements are empty. Tags are split on commas, trimmed, and empty
// tags dropped. Elements that do not belong to the description's platform
// and kind are ignored, as are the legacy FcmRegistrationId (read as
// GcmRegistrationId on Gcm descriptions).
func UnmarshalRegistration(data []byte) (Registration, error) {
	root, _, err := parseTree(data, "unmarshal registration")
	if err != nil {
		return Registration{}, err
	}
	return registrationFromNode(root)
}

func registrationFromNode(root *node) (Registration, error) {
	elemName := root.name.Local
	if elemName == "RegistrationDescription" {
		t, ok := root.attrValue("type")
		if !ok {
			return Registration{}, fmt.Errorf("atom: unmarshal registration: <RegistrationDescription> has no i:type attribute")
		}
		t = strings.TrimSpace(t)
		if i := strings.IndexByte(t, ':'); i >= 0 {
			t = t[i+1:]
		}
		elemName = t
	}
	p, template, ok := ParsePlatformElement(elemName)
	if !ok {
		return Registration{}, fmt.Errorf("atom: unmarshal registration: unknown description element %q (want {Platform}[Template]RegistrationDescription or RegistrationDescription with i:type)", elemName)
	}
	r := Registration{Platform: p, Template: template}
	specs := platformElems[p]
	if template {
		specs = append(specs[:len(specs):len(specs)], templateElems[p]...)
	}
	for _, k := range root.kids {
		name := k.name.Local
		switch name {
		case "ETag":
			r.ETag = nodeValue(k)
			continue
		case "ExpirationTime":
			r.ExpirationTime = nodeValue(k)
			continue
		case "RegistrationId":
			r.RegistrationID = nodeValue(k)
			continue
		case "Tags":
			r.Tags = SplitTags(nodeValue(k))
			continue
		case "PushVariables":
			v := nodeValue(k)
			if v == "" {
				r.PushVariables = nil
				continue
			}
			var m map[string]string
			if err := json.Unmarshal([]byte(v), &m); err != nil {
				return Registration{}, fmt.Errorf("atom: unmarshal %s: PushVariables is not a JSON object of strings: %v", r.ElementName(), err)
			}
			if len(m) == 0 {
				m = nil
			}
			r.PushVariables = m
			continue
		case "FcmRegistrationId":
			if p == Gcm {
				name = "GcmRegistrationId"
			}
		}
		for _, s := range specs {
			if s.name != name {
				continue
			}
			if s.kind == kindHeaders {
				*s.headers(&r) = headersFromNode(k)
			} else {
				*s.str(&r) = nodeValue(k)
			}
			break
		}
	}
	return r, nil
}

// nodeValue is the element's trimmed text, or "" when it is i:nil.
func nodeValue(n *node) string {
	if n.isNil() {
		return ""
	}
	return n.value()
}

func headersFromNode(n *node) []Header {
	if n.isNil() {
		return nil
	}
	var hs []Header
	for _, k := range n.kids {
		hs = append(hs, Header{Name: k.childValue("Header"), Value: k.childValue("Value")})
	}
	return hs
}

// SplitTags splits the wire form of Tags: on commas, trimmed, empty tags
// dropped. It returns nil when there is no tag.
func SplitTags(s string) []string {
	var tags []string
	for t := range strings.SplitSeq(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

// ParseRegistrations decodes an import file of a registrations job: one
// description element per line (docs/protocol.md, "Import and export jobs"). Blank
// lines are skipped; an error names the 1-based line that failed.
func ParseRegistrations(data []byte) ([]Registration, error) {
	var regs []Registration
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		r, err := UnmarshalRegistration(line)
		if err != nil {
			return regs, fmt.Errorf("line %d: %w", i+1, err)
		}
		regs = append(regs, r)
	}
	return regs, nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
