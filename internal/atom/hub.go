package atom

import (
	"bytes"
	"fmt"
)

// Element names of the push-service credentials in a
// NotificationHubDescription.
const (
	CredentialApns    = "ApnsCredential"
	CredentialWns     = "WnsCredential"
	CredentialGcm     = "GcmCredential" // FCM legacy
	CredentialMpns    = "MpnsCredential"
	CredentialAdm     = "AdmCredential"
	CredentialBaidu   = "BaiduCredential"
	CredentialFcmV1   = "FcmV1Credential"
	CredentialBrowser = "BrowserCredential"
	CredentialXiaomi  = "XiaomiCredential"
)

// HubDescription is a NotificationHubDescription: what the hub-management
// requests send and answer. Empty strings and nil slices mean "absent".
type HubDescription struct {
	// RegistrationTTL is an xs:duration, e.g. "P10675199DT2H48M5.4775807S".
	RegistrationTTL string
	// AuthorizationRules are the hub's shared access rules; nil leaves the
	// element out.
	AuthorizationRules []AuthorizationRule
	// Read-only counters the service adds to GET answers (integer text).
	DailyOperations             string
	DailyMaxActiveDevices       string
	DailyMaxActiveRegistrations string
	DailyAPICalls               string
	UserMetadata                string
	// Status is "true" when the hub is disabled (.NET's IsDisabled).
	Status string
	// Credentials are the push-service credentials, at most one per
	// element name, in any order; they are written in canonical order.
	Credentials []PnsCredential
}

// PnsCredential is one push-service credential: its element name (one of
// the Credential… constants) and its property bag, in order.
type PnsCredential struct {
	Element    string
	Properties []Property
}

// Property is one <Property><Name/><Value/></Property>.
type Property struct {
	Name, Value string
}

// Get returns the value of the property name and whether it is present.
func (c PnsCredential) Get(name string) (string, bool) {
	for _, p := range c.Properties {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

// AuthorizationRule is one <AuthorizationRule> of a hub.
type AuthorizationRule struct {
	// Type is the i:type attribute; "" means SharedAccessAuthorizationRule.
	Type         string
	IssuerName   string
	ClaimType    string
	ClaimValue   string
	Rights       []string // Listen, Manage, Send
	CreatedTime  string
	ModifiedTime string
	Revision     string
	KeyName      string
	PrimaryKey   string
	SecondaryKey string
}

// hubElems is the canonical element order of a NotificationHubDescription:
// the DataContract orders of the .NET SDK's NotificationHubDescription
// (ApnsCredential 1001, RegistrationTtl 1002, WnsCredential 1003,
// AuthorizationRules 1004, GcmCredential 1005, MpnsCredential 1006,
// DailyOperations 1007 … UserMetadata 1010, AdmCredential 1014,
// BaiduCredential and Status 1016, FcmV1Credential 1017,
// BrowserCredential 1018), with DailyApiCalls where the service writes it
// (after DailyMaxActiveRegistrations) and XiaomiCredential, added last,
// after BrowserCredential.
var hubElems = []string{
	CredentialApns, "RegistrationTtl", CredentialWns, "AuthorizationRules",
	CredentialGcm, CredentialMpns, "DailyOperations", "DailyMaxActiveDevices",
	"DailyMaxActiveRegistrations", "DailyApiCalls", "UserMetadata",
	CredentialAdm, CredentialBaidu, "Status",
	CredentialFcmV1, CredentialBrowser, CredentialXiaomi,
}

// CredentialElements lists the credential element names in canonical order.
var CredentialElements = []string{
	CredentialApns, CredentialWns, CredentialGcm, CredentialMpns, CredentialAdm,
	CredentialBaidu, CredentialFcmV1, CredentialBrowser, CredentialXiaomi,
}

func isCredentialElement(name string) bool {
	for _, c := range CredentialElements {
		if c == name {
			return true
		}
	}
	return false
}

// MarshalHubDescription encodes d as a NotificationHubDescription element
// in canonical order. It refuses an unknown or repeated credential element.
func MarshalHubDescription(d HubDescription) ([]byte, error) {
	creds := map[string]*PnsCredential{}
	for i := range d.Credentials {
		c := &d.Credentials[i]
		if !isCredentialElement(c.Element) {
			return nil, fmt.Errorf("atom: hub description: unknown credential element %q", c.Element)
		}
		if creds[c.Element] != nil {
			return nil, fmt.Errorf("atom: hub description: %s given twice", c.Element)
		}
		creds[c.Element] = c
	}
	var b bytes.Buffer
	b.WriteString("<NotificationHubDescription" + connectRootAttrs + ">")
	for _, name := range hubElems {
		switch name {
		case "RegistrationTtl":
			optElem(&b, name, d.RegistrationTTL)
		case "AuthorizationRules":
			writeRules(&b, d.AuthorizationRules)
		case "DailyOperations":
			optElem(&b, name, d.DailyOperations)
		case "DailyMaxActiveDevices":
			optElem(&b, name, d.DailyMaxActiveDevices)
		case "DailyMaxActiveRegistrations":
			optElem(&b, name, d.DailyMaxActiveRegistrations)
		case "DailyApiCalls":
			optElem(&b, name, d.DailyAPICalls)
		case "UserMetadata":
			optElem(&b, name, d.UserMetadata)
		case "Status":
			optElem(&b, name, d.Status)
		default:
			if c := creds[name]; c != nil {
				writeCredential(&b, c)
			}
		}
	}
	b.WriteString("</NotificationHubDescription>")
	return b.Bytes(), nil
}

func writeCredential(b *bytes.Buffer, c *PnsCredential) {
	b.WriteString("<" + c.Element + "><Properties>")
	for _, p := range c.Properties {
		b.WriteString("<Property>")
		textElem(b, "Name", p.Name)
		textElem(b, "Value", p.Value)
		b.WriteString("</Property>")
	}
	b.WriteString("</Properties></" + c.Element + ">")
}

func writeRules(b *bytes.Buffer, rules []AuthorizationRule) {
	if rules == nil {
		return
	}
	if len(rules) == 0 {
		b.WriteString("<AuthorizationRules/>")
		return
	}
	b.WriteString("<AuthorizationRules>")
	for _, r := range rules {
		typ := r.Type
		if typ == "" {
			typ = "SharedAccessAuthorizationRule"
		}
		b.WriteString(`<AuthorizationRule i:type="`)
		escapeAttr(b, typ)
		b.WriteString(`">`)
		optElem(b, "IssuerName", r.IssuerName)
		optElem(b, "ClaimType", r.ClaimType)
		optElem(b, "ClaimValue", r.ClaimValue)
		b.WriteString("<Rights>")
		for _, right := range r.Rights {
			textElem(b, "AccessRights", right)
		}
		b.WriteString("</Rights>")
		optElem(b, "CreatedTime", r.CreatedTime)
		optElem(b, "ModifiedTime", r.ModifiedTime)
		optElem(b, "Revision", r.Revision)
		optElem(b, "KeyName", r.KeyName)
		optElem(b, "PrimaryKey", r.PrimaryKey)
		optElem(b, "SecondaryKey", r.SecondaryKey)
		b.WriteString("</AuthorizationRule>")
	}
	b.WriteString("</AuthorizationRules>")
}

// ParseHubDescription decodes a NotificationHubDescription element in any
// element order; unknown elements are ignored. A credential element that
// appears twice is an error.
func ParseHubDescription(data []byte) (HubDescription, error) {
	const what = "parse NotificationHubDescription"
	root, _, err := parseTree(data, what)
	if err != nil {
		return HubDescription{}, err
	}
	if root.name.Local != "NotificationHubDescription" {
		return HubDescription{}, errRoot(what, root.name, "<NotificationHubDescription>")
	}
	return hubFromNode(root)
}

func hubFromNode(root *node) (HubDescription, error) {
	var d HubDescription
	for _, k := range root.kids {
		v := nodeValue(k)
		switch name := k.name.Local; name {
		case "RegistrationTtl":
			d.RegistrationTTL = v
		case "AuthorizationRules":
			d.AuthorizationRules = []AuthorizationRule{}
			for _, r := range k.kids {
				if r.name.Local == "AuthorizationRule" {
					d.AuthorizationRules = append(d.AuthorizationRules, ruleFromNode(r))
				}
			}
		case "DailyOperations":
			d.DailyOperations = v
		case "DailyMaxActiveDevices":
			d.DailyMaxActiveDevices = v
		case "DailyMaxActiveRegistrations":
			d.DailyMaxActiveRegistrations = v
		case "DailyApiCalls":
			d.DailyAPICalls = v
		case "UserMetadata":
			d.UserMetadata = v
		case "Status":
			d.Status = v
		default:
			if !isCredentialElement(name) || k.isNil() {
				continue
			}
			for _, c := range d.Credentials {
				if c.Element == name {
					return HubDescription{}, fmt.Errorf("atom: parse NotificationHubDescription: %s appears twice", name)
				}
			}
			c := PnsCredential{Element: name}
			if props := k.child("Properties"); props != nil {
				for _, p := range props.kids {
					if p.name.Local != "Property" {
						continue
					}
					c.Properties = append(c.Properties, Property{Name: p.childValue("Name"), Value: p.childValue("Value")})
				}
			}
			d.Credentials = append(d.Credentials, c)
		}
	}
	return d, nil
}

func ruleFromNode(n *node) AuthorizationRule {
	r := AuthorizationRule{
		IssuerName:   n.childValue("IssuerName"),
		ClaimType:    n.childValue("ClaimType"),
		ClaimValue:   n.childValue("ClaimValue"),
		CreatedTime:  n.childValue("CreatedTime"),
		ModifiedTime: n.childValue("ModifiedTime"),
		Revision:     n.childValue("Revision"),
		KeyName:      n.childValue("KeyName"),
		PrimaryKey:   n.childValue("PrimaryKey"),
		SecondaryKey: n.childValue("SecondaryKey"),
	}
	if t, ok := n.attrValue("type"); ok {
		// "SharedAccessAuthorizationRule", possibly with a prefix.
		for i := len(t) - 1; i >= 0; i-- {
			if t[i] == ':' {
				t = t[i+1:]
				break
			}
		}
		r.Type = t
	}
	if rights := n.child("Rights"); rights != nil {
		for _, a := range rights.kids {
			if v := nodeValue(a); v != "" {
				r.Rights = append(r.Rights, v)
			}
		}
	}
	return r
}

// ParseHubEntry decodes an Atom entry holding a NotificationHubDescription,
// as the hub GET, PUT and the hub listing answer. ok is false when the
// body is an Atom feed instead (the service answers GET of a missing hub
// with an empty feed).
func ParseHubEntry(data []byte) (e Entry, d HubDescription, ok bool, err error) {
	const what = "parse hub entry"
	root, data, err := parseTree(data, what)
	if err != nil {
		return Entry{}, HubDescription{}, false, err
	}
	switch {
	case root.name.Local == "feed" && root.name.Space == NSAtom:
		return Entry{}, HubDescription{}, false, nil
	case root.name.Local != "entry" || root.name.Space != NSAtom:
		return Entry{}, HubDescription{}, false, errRoot(what, root.name, "<entry> or <feed> in namespace "+NSAtom)
	}
	e = entryFromNode(root, data)
	d, err = hubFromEntryNode(root)
	return e, d, true, err
}

// ParseHubFeed decodes a feed of hub entries: the $Resources/NotificationHubs
// listing (entries carrying descriptions) or the namespace root listing
// (entries carrying only titles, whose descriptions are then zero).
func ParseHubFeed(data []byte) (Feed, []HubDescription, error) {
	const what = "parse hub feed"
	root, data, err := parseTree(data, what)
	if err != nil {
		return Feed{}, nil, err
	}
	if root.name.Local != "feed" || root.name.Space != NSAtom {
		return Feed{}, nil, errRoot(what, root.name, "<feed> in namespace "+NSAtom)
	}
	f := feedFromNode(root, data)
	var ds []HubDescription
	for _, k := range root.kids {
		if k.name.Local != "entry" {
			continue
		}
		d, err := hubFromEntryNode(k)
		if err != nil {
			return Feed{}, nil, err
		}
		ds = append(ds, d)
	}
	return f, ds, nil
}

// hubFromEntryNode decodes the description in an entry's content; an
// entry without one gives the zero description.
func hubFromEntryNode(entry *node) (HubDescription, error) {
	c := entry.child("content")
	if c == nil || len(c.kids) == 0 {
		return HubDescription{}, nil
	}
	desc := c.kids[0]
	if desc.name.Local != "NotificationHubDescription" {
		return HubDescription{}, errRoot("parse hub entry", desc.name, "<NotificationHubDescription> in the entry's content")
	}
	return hubFromNode(desc)
}
