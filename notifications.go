package notificationhubs

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Format is the value of the ServiceBusNotification-Format header: which
// registrations a notification is for (rest-api.md §3.1).
type Format string

// Formats the service accepts.
const (
	FormatTemplate Format = "template"
	FormatApple    Format = "apple"
	FormatFcmV1    Format = "fcmv1"
	FormatGcm      Format = "gcm" // FCM legacy
	FormatWindows  Format = "windows"
	FormatMpns     Format = "windowsphone" // MPNS
	FormatAdm      Format = "adm"
	FormatBaidu    Format = "baidu"
	FormatXiaomi   Format = "xiaomi"
	FormatBrowser  Format = "browser"
)

// Content types, as the JS SDK 2.x sends them.
const (
	contentTypeJSON   = "application/json;charset=utf-8"
	contentTypeXML    = "application/xml"
	contentTypeXMLUTF = "application/xml;charset=utf-8"
	contentTypeStream = "application/octet-stream"
)

// Size limits checked before a send.
const (
	// MaxPayloadSize is the largest request body the service accepts (64 KB).
	MaxPayloadSize = 64 * 1024
	// MaxTemplatePropertyNameLength is the longest template property name.
	MaxTemplatePropertyNameLength = 120
)

// platformLimit is the largest payload a push service accepts; the hub
// drops bigger ones with an InvalidNotificationSize outcome instead of an
// HTTP error (rest-api.md §3.6), so they are refused before the request.
func platformLimit(f Format, headers map[string]string) int {
	switch f {
	case FormatApple:
		if strings.EqualFold(headers["apns-push-type"], "voip") {
			return 5 * 1024
		}
		return 4 * 1024
	case FormatFcmV1, FormatGcm, FormatBaidu, FormatBrowser:
		return 4 * 1024
	case FormatWindows:
		return 5 * 1024
	case FormatMpns:
		if headers["X-NotificationClass"] == "3" || headers["X-NotificationClass"] == "13" || headers["X-NotificationClass"] == "23" {
			return 1024
		}
		return 3 * 1024
	case FormatAdm:
		return 6 * 1024
	}
	return MaxPayloadSize
}

// Notification is a payload for one format with its headers. Build it
// with a constructor (NewAppleNotification, NewWindowsNotification, …),
// which sets the format, content type and platform headers; its fields
// may then be changed. Sends validate it first (see Validate).
type Notification struct {
	// Format selects the registrations the notification is for.
	Format Format
	// Body is the payload: the native PNS payload, or for FormatTemplate a
	// JSON object of string properties.
	Body []byte
	// Headers are platform headers passed through to the push service
	// (apns-*, X-WNS-*, X-WindowsPhone-Target, X-NotificationClass, …).
	Headers map[string]string
	// ContentType is the Content-Type of the request.
	ContentType string
}

// NewTemplateNotification returns a template notification: the
// properties that the template registrations' expressions read.
func NewTemplateNotification(properties map[string]string) Notification {
	if properties == nil {
		properties = map[string]string{}
	}
	body, _ := json.Marshal(properties) // cannot fail for map[string]string
	return Notification{Format: FormatTemplate, Body: body, ContentType: contentTypeJSON}
}

// AppleOptions are the APNs headers of an Apple notification. Zero
// fields are not sent.
type AppleOptions struct {
	// PushType is apns-push-type: alert, background, voip, location,
	// complication, fileprovider, mdm, liveactivity, pushtotalk, controls.
	PushType string
	// Priority is apns-priority: 10 (immediate), 5 (power-saving) or 1.
	Priority int
	// Topic is apns-topic, usually the app's bundle id.
	Topic string
	// CollapseID is apns-collapse-id.
	CollapseID string
	// Expiration is apns-expiration (sent as Unix seconds).
	Expiration time.Time
	// Headers are more headers; every apns-* header is passed through.
	Headers map[string]string
}

// NewAppleNotification returns an APNs notification with an aps JSON
// payload such as {"aps":{"alert":"Hello"}}; opts may be nil.
func NewAppleNotification(payload []byte, opts *AppleOptions) Notification {
	n := Notification{Format: FormatApple, Body: payload, ContentType: contentTypeJSON}
	if opts == nil {
		return n
	}
	h := maps.Clone(opts.Headers)
	if h == nil {
		h = map[string]string{}
	}
	if opts.PushType != "" {
		h["apns-push-type"] = opts.PushType
	}
	if opts.Priority != 0 {
		h["apns-priority"] = strconv.Itoa(opts.Priority)
	}
	if opts.Topic != "" {
		h["apns-topic"] = opts.Topic
	}
	if opts.CollapseID != "" {
		h["apns-collapse-id"] = opts.CollapseID
	}
	if !opts.Expiration.IsZero() {
		h["apns-expiration"] = strconv.FormatInt(opts.Expiration.Unix(), 10)
	}
	if len(h) > 0 {
		n.Headers = h
	}
	return n
}

// NewFcmV1Notification returns a Firebase Cloud Messaging HTTP v1
// notification: {"message":{"notification":{…},"data":{…},"android":{…}}},
// without a token, topic or condition (the hub sets the target).
func NewFcmV1Notification(payload []byte) Notification {
	return Notification{Format: FormatFcmV1, Body: payload, ContentType: contentTypeJSON}
}

// NewGcmNotification returns a legacy FCM (GCM) notification:
// {"notification":{…},"data":{…}} without registration_ids or to.
func NewGcmNotification(payload []byte) Notification {
	return Notification{Format: FormatGcm, Body: payload, ContentType: contentTypeJSON}
}

// WNS notification types, the values of X-WNS-Type.
const (
	WnsToast = "wns/toast"
	WnsTile  = "wns/tile"
	WnsBadge = "wns/badge"
	WnsRaw   = "wns/raw"
)

// WindowsOptions are the WNS headers of a Windows notification.
type WindowsOptions struct {
	// Type is X-WNS-Type. When empty it is detected from the XML root
	// element (toast, tile, badge), as the article does.
	Type string
	// Headers are more X-WNS-* headers (X-WNS-Cache-Policy, X-WNS-TTL,
	// X-WNS-Tag, X-WNS-PRIORITY, X-WNS-RequestForStatus…).
	Headers map[string]string
}

// NewWindowsNotification returns a WNS notification. The X-WNS-Type is
// opts.Type, or detected from the root element of payload (<toast>,
// <tile>, <badge>); a payload that is not one of these needs
// Type WnsRaw. A raw notification is sent as application/octet-stream,
// the others as application/xml. opts may be nil.
func NewWindowsNotification(payload []byte, opts *WindowsOptions) Notification {
	n := Notification{Format: FormatWindows, Body: payload, ContentType: contentTypeXML}
	h := map[string]string{}
	typ := ""
	if opts != nil {
		maps.Copy(h, opts.Headers)
		typ = opts.Type
	}
	if typ == "" {
		typ = headerValue(h, "X-WNS-Type")
	}
	if typ == "" {
		switch root, _ := xmlRoot(payload); root {
		case "toast":
			typ = WnsToast
		case "tile":
			typ = WnsTile
		case "badge":
			typ = WnsBadge
		}
	}
	deleteHeader(h, "X-WNS-Type")
	if typ != "" {
		h["X-WNS-Type"] = typ
	}
	if typ == WnsRaw {
		n.ContentType = contentTypeStream
	}
	n.Headers = h
	return n
}

// NewWindowsRawNotification returns a raw WNS notification (wns/raw,
// application/octet-stream) carrying arbitrary bytes.
func NewWindowsRawNotification(payload []byte) Notification {
	return NewWindowsNotification(payload, &WindowsOptions{Type: WnsRaw})
}

// MpnsOptions are the headers of a Windows Phone (MPNS) notification.
type MpnsOptions struct {
	// Target is X-WindowsPhone-Target: "toast" or "token" (tile). When
	// empty it is detected from the payload as the article does.
	Target string
	// NotificationClass is X-NotificationClass: 2 toast, 1 tile, 3 raw
	// (and their delayed variants). When empty it follows the target.
	NotificationClass string
	// Headers are more X-* headers.
	Headers map[string]string
}

// NewMpnsNotification returns a Windows Phone (MPNS, retired by
// Microsoft) notification with format "windowsphone". When opts does
// not say, a payload containing <wp:Toast> gets X-WindowsPhone-Target
// toast and X-NotificationClass 2, one containing <wp:Tile> gets token
// and 1, and anything else is raw (class 3). opts may be nil.
func NewMpnsNotification(payload []byte, opts *MpnsOptions) Notification {
	n := Notification{Format: FormatMpns, Body: payload, ContentType: contentTypeXMLUTF}
	h := map[string]string{}
	var target, class string
	if opts != nil {
		maps.Copy(h, opts.Headers)
		target, class = opts.Target, opts.NotificationClass
	}
	if target == "" {
		target = headerValue(h, "X-WindowsPhone-Target")
	}
	if class == "" {
		class = headerValue(h, "X-NotificationClass")
	}
	if target == "" && class == "" {
		switch {
		case bytes.Contains(payload, []byte("<wp:Toast")):
			target, class = "toast", "2"
		case bytes.Contains(payload, []byte("<wp:Tile")):
			target, class = "token", "1"
		default:
			class = "3"
		}
	}
	if class == "" {
		switch target {
		case "toast":
			class = "2"
		case "token", "tile":
			class = "1"
		}
	}
	deleteHeader(h, "X-WindowsPhone-Target")
	deleteHeader(h, "X-NotificationClass")
	if target != "" {
		h["X-WindowsPhone-Target"] = target
	}
	if class != "" {
		h["X-NotificationClass"] = class
	}
	n.Headers = h
	return n
}

// NewAdmNotification returns an Amazon Device Messaging (Kindle)
// notification: {"data":{…}}.
func NewAdmNotification(payload []byte) Notification {
	return Notification{Format: FormatAdm, Body: payload, ContentType: contentTypeJSON}
}

// NewBaiduNotification returns a Baidu notification: {"title":…,"description":…}.
func NewBaiduNotification(payload []byte) Notification {
	return Notification{Format: FormatBaidu, Body: payload, ContentType: contentTypeJSON}
}

// NewXiaomiNotification returns a Xiaomi push notification (JSON).
func NewXiaomiNotification(payload []byte) Notification {
	return Notification{Format: FormatXiaomi, Body: payload, ContentType: contentTypeJSON}
}

// NewBrowserNotification returns a Web Push notification (JSON such as
// {"title":…,"body":…}).
func NewBrowserNotification(payload []byte) Notification {
	return Notification{Format: FormatBrowser, Body: payload, ContentType: contentTypeJSON}
}

// Validate checks what the service would reject or silently drop: a
// known format, a body of at most 64 KB and within the push service's own
// limit, well-formed JSON or XML, FCM v1 data values that are strings,
// an X-WNS-Type that matches the XML root, APNs headers consistent with
// content-available, and template properties. Errors are
// *ValidationError.
//
// JSON bodies are checked without decoding them: a syntax check, then a
// walk of only the members whose types matter (duplicate keys count as
// encoding/json counts them: the last one wins). A valid JSON
// notification costs no allocation (but for template property names
// written with escapes).
func (n Notification) Validate() error {
	f := n.Format
	if f == "" {
		return invalid(f, "Format", "is empty")
	}
	if len(n.Body) == 0 {
		return invalid(f, "body", "is empty")
	}
	if len(n.Body) > MaxPayloadSize {
		return invalid(f, "body", "is %d bytes, more than the service's limit of %d", len(n.Body), MaxPayloadSize)
	}
	if lim := platformLimit(f, n.Headers); len(n.Body) > lim {
		return invalid(f, "body", "is %d bytes, more than the push service's limit of %d", len(n.Body), lim)
	}
	for k, v := range n.Headers {
		if k == "" || strings.ContainsAny(k, " :\r\n\t") {
			return invalid(f, "header "+strconv.Quote(k), "is not a valid header name")
		}
		if strings.ContainsAny(v, "\r\n") {
			return invalid(f, "header "+k, "value contains a line break")
		}
	}
	switch f {
	case FormatTemplate:
		return validateTemplate(n.Body)
	case FormatApple:
		return validateApple(n)
	case FormatFcmV1:
		return validateFcmV1(n.Body)
	case FormatGcm:
		return validateGcm(n.Body)
	case FormatWindows:
		return validateWindows(n)
	case FormatMpns:
		switch headerValue(n.Headers, "X-NotificationClass") {
		case "3", "13", "23":
			return nil // raw: any bytes
		}
		_, err := checkXML(f, n.Body)
		return err
	case FormatAdm, FormatBaidu, FormatXiaomi, FormatBrowser:
		return checkJSON(f, n.Body)
	}
	return invalid(f, "Format", "%q is not a format the service knows", clip(string(f), 32))
}

// validJSONObject is the allocation-free check of the common case: body
// is one well-formed JSON object.
func validJSONObject(body []byte) bool {
	i := skipSpace(body, 0)
	return i < len(body) && body[i] == '{' && utf8.Valid(body) && validJSON(body)
}

// checkJSON checks that body is one well-formed JSON value in UTF-8 and
// says where it is broken. The valid case costs no allocation; only a
// broken body is run through a json.Decoder, for the position and text of
// its error. The walkers below rely on a body that passed it.
func checkJSON(f Format, body []byte) error {
	if utf8.Valid(body) && validJSON(body) {
		return nil
	}
	if !utf8.Valid(body) {
		return invalid(f, "body", "is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return invalid(f, "body", "is not valid JSON at byte offset %d: %v", max(se.Offset-1, 0), err)
		}
		return invalid(f, "body", "is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid(f, "body", "has data after the JSON value at byte offset %d", dec.InputOffset())
	}
	// validJSON and the decoder disagree; trust the stricter.
	return invalid(f, "body", "is not valid JSON")
}

// validJSON reports whether b is one JSON value with optional whitespace
// around it, as json.Valid does (UTF-8 aside), in one pass without
// allocating. Bodies nested deeper than maxScanDepth are left to
// json.Valid, which also enforces encoding/json's own depth limit.
func validJSON(b []byte) bool {
	ok, sure := scanJSON(b)
	if !sure {
		return json.Valid(b)
	}
	return ok
}

// maxScanDepth is the nesting scanJSON follows: one bit a level.
const maxScanDepth = 64

// scanJSON checks b; sure is false when b nests deeper than maxScanDepth.
func scanJSON(b []byte) (ok, sure bool) {
	const (
		wantValue  = iota // a value
		wantKey           // an object key (after '{' or ',')
		afterValue        // ',', a closing bracket, or the end
	)
	var objects uint64 // bit d set: level d+1 is an object
	depth := 0
	state := wantValue
	i := skipSpace(b, 0)
	for {
		switch state {
		case wantValue:
			if i >= len(b) {
				return false, true
			}
			switch c := b[i]; {
			case c == '{' || c == '[':
				if depth == maxScanDepth {
					return false, false
				}
				objects <<= 1
				depth++
				i = skipSpace(b, i+1)
				if c == '{' {
					objects |= 1
					if i < len(b) && b[i] == '}' {
						i, state = i+1, afterValue
						objects >>= 1
						depth--
					} else {
						state = wantKey
					}
					continue
				}
				if i < len(b) && b[i] == ']' {
					i, state = i+1, afterValue
					objects >>= 1
					depth--
				}
				continue // a value, or ']'
			case c == '"':
				i = scanString(b, i)
			case c == '-' || '0' <= c && c <= '9':
				i = scanNumber(b, i)
			case c == 't':
				i = scanLiteral(b, i, "true")
			case c == 'f':
				i = scanLiteral(b, i, "false")
			case c == 'n':
				i = scanLiteral(b, i, "null")
			default:
				return false, true
			}
			if i < 0 {
				return false, true
			}
			state = afterValue
		case wantKey:
			if i >= len(b) || b[i] != '"' {
				return false, true
			}
			if i = scanString(b, i); i < 0 {
				return false, true
			}
			i = skipSpace(b, i)
			if i >= len(b) || b[i] != ':' {
				return false, true
			}
			i, state = skipSpace(b, i+1), wantValue
		case afterValue:
			i = skipSpace(b, i)
			if depth == 0 {
				return i == len(b), true
			}
			if i >= len(b) {
				return false, true
			}
			closer := byte(']')
			if objects&1 == 1 {
				closer = '}'
			}
			switch b[i] {
			case ',':
				i = skipSpace(b, i+1)
				if objects&1 == 1 {
					state = wantKey
				} else {
					state = wantValue
				}
			case closer:
				i++
				objects >>= 1
				depth--
			default:
				return false, true
			}
		}
	}
}

// scanString returns the offset just past the JSON string at b[i] == '"',
// or -1 if it is not one (a control character, a bad escape, no end).
func scanString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		for i < len(b) && plainStringByte[b[i]] {
			i++
		}
		if i >= len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			if i++; i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
					return -1
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

// plainStringByte marks the bytes that stand for themselves in a JSON
// string: not a quote, a backslash or a control character.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// scanNumber returns the offset just past the JSON number at b[i], or -1.
func scanNumber(b []byte, i int) int {
	digits := func(i int) int { // one or more
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return -1
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i
	}
	if b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if i = digits(i); i < 0 {
		return -1
	}
	if i < len(b) && b[i] == '.' {
		if i = digits(i + 1); i < 0 {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i = digits(i); i < 0 {
			return -1
		}
	}
	return i
}

// scanLiteral returns the offset just past lit at b[i], or -1.
func scanLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// The functions below walk a body that checkJSON accepted: they index it
// without bounds checks of their own, because valid JSON always closes
// what it opens.

// skipSpace returns the offset of the first byte at or after i that is
// not JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the offset just past the string that starts at
// b[i] == '"', and whether it holds an escape.
func skipString(b []byte, i int) (end int, escaped bool) {
	for i++; ; i++ {
		for plainStringByte[b[i]] {
			i++
		}
		switch b[i] {
		case '"':
			return i + 1, escaped
		case '\\':
			escaped = true
			i++
		}
	}
}

// skipValue returns the offset just past the value that starts at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		end, _ := skipString(b, i)
		return end
	case '{', '[':
		depth := 0
		for {
			switch b[i] {
			case '"':
				i, _ = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return i
		}
		i++
	}
	return i
}

// jsonMember is one member of an object: its key as written (quotes
// included) and the offset of its value.
type jsonMember struct {
	rawKey  []byte
	escaped bool // the key holds an escape
	value   int
}

// is reports whether the member's key, decoded, is name.
func (m jsonMember) is(name string) bool {
	if !m.escaped {
		return string(m.rawKey[1:len(m.rawKey)-1]) == name
	}
	return m.key() == name
}

// key returns the member's key, decoded as encoding/json decodes it.
func (m jsonMember) key() string {
	if !m.escaped {
		return string(m.rawKey[1 : len(m.rawKey)-1])
	}
	var s string
	_ = json.Unmarshal(m.rawKey, &s) // a valid JSON string
	return s
}

// memberIter iterates the members of the object that starts at b[i] ==
// '{', in order, duplicates included.
type memberIter struct {
	b []byte
	i int
}

func members(b []byte, i int) memberIter { return memberIter{b: b, i: i + 1} }

// next returns the next member, or false after the last.
func (it *memberIter) next() (jsonMember, bool) {
	b := it.b
	i := skipSpace(b, it.i)
	if b[i] == ',' {
		i = skipSpace(b, i+1)
	}
	if b[i] != '"' {
		return jsonMember{}, false // '}'
	}
	end, esc := skipString(b, i)
	m := jsonMember{rawKey: b[i:end], escaped: esc}
	m.value = skipSpace(b, skipSpace(b, end)+1) // past ':'
	it.i = skipValue(b, m.value)
	return m, true
}

// lookup returns the offset of the value of the last member named name
// of the object at b[i], or -1.
func lookup(b []byte, i int, name string) int {
	v := -1
	for it := members(b, i); ; {
		m, ok := it.next()
		if !ok {
			return v
		}
		if m.is(name) {
			v = m.value
		}
	}
}

// lastValues returns each key of the object at b[i] with the offset of
// its last value, and the keys sorted: the object as encoding/json
// decodes it into a map. Only error paths use it.
func lastValues(b []byte, i int) (map[string]int, []string) {
	vals := map[string]int{}
	for it := members(b, i); ; {
		m, ok := it.next()
		if !ok {
			break
		}
		vals[m.key()] = m.value
	}
	return vals, slices.Sorted(maps.Keys(vals))
}

// kindAt names the type of the value at b[i], for error messages.
func kindAt(b []byte, i int) string {
	switch b[i] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func validateTemplate(body []byte) error {
	f := FormatTemplate
	if err := checkJSON(f, body); err != nil {
		return err
	}
	i := skipSpace(body, 0)
	if body[i] != '{' {
		return invalid(f, "body", "is not a JSON object of properties")
	}
	for it := members(body, i); ; {
		m, ok := it.next()
		if !ok {
			return nil
		}
		if m.escaped || len(m.rawKey) == 2 || body[m.value] != '"' ||
			len(m.rawKey)-2 > MaxTemplatePropertyNameLength && utf8.RuneCount(m.rawKey) > MaxTemplatePropertyNameLength+2 {
			break // something to look at closely
		}
	}
	// The first problem in key order, each key with its last value.
	vals, keys := lastValues(body, i)
	for _, k := range keys {
		if k == "" {
			return invalid(f, "property \"\"", "has an empty name")
		}
		if n := utf8.RuneCountInString(k); n > MaxTemplatePropertyNameLength {
			return invalid(f, "property "+strconv.Quote(clip(k, 32)), "name is %d characters, more than %d", n, MaxTemplatePropertyNameLength)
		}
		if v := vals[k]; body[v] != '"' {
			return invalid(f, "property "+strconv.Quote(k), "value is %s, want a string", kindAt(body, v))
		}
	}
	return nil
}

func validateApple(n Notification) error {
	f := FormatApple
	pushType := headerValue(n.Headers, "apns-push-type")
	priority := headerValue(n.Headers, "apns-priority")
	expiration := headerValue(n.Headers, "apns-expiration")
	if pushType == "" && priority == "" && expiration == "" && validJSONObject(n.Body) {
		// No APNs header to cross-check with the payload.
		return nil
	}
	body := n.Body
	if err := checkJSON(f, body); err != nil {
		return err
	}
	i := skipSpace(body, 0)
	if body[i] != '{' {
		return invalid(f, "body", "is not a JSON object")
	}
	aps := lookup(body, i, "aps")
	if aps >= 0 && body[aps] != '{' {
		return invalid(f, "aps", "is %s, want an object", kindAt(body, aps))
	}
	if p := priority; p != "" && p != "10" && p != "5" && p != "1" {
		return invalid(f, "header apns-priority", "is %q, want 10, 5 or 1", clip(p, 16))
	}
	if e := expiration; e != "" {
		if _, err := strconv.ParseInt(e, 10, 64); err != nil {
			return invalid(f, "header apns-expiration", "is %q, want Unix seconds", clip(e, 32))
		}
	}
	contentAvailable, visible := false, false
	if aps >= 0 {
		// The last of each member counts; a null alert, sound or badge
		// is no alert, sound or badge.
		ca, alert, sound, badge := -1, -1, -1, -1
		for it := members(body, aps); ; {
			m, ok := it.next()
			if !ok {
				break
			}
			switch {
			case m.is("content-available"):
				ca = m.value
			case m.is("alert"):
				alert = m.value
			case m.is("sound"):
				sound = m.value
			case m.is("badge"):
				badge = m.value
			}
		}
		if ca >= 0 {
			if kindAt(body, ca) != "a number" {
				return invalid(f, "aps.content-available", "is %s, want the number 1", kindAt(body, ca))
			}
			contentAvailable = skipValue(body, ca) == ca+1 && body[ca] == '1'
		}
		present := func(v int) bool { return v >= 0 && body[v] != 'n' }
		visible = present(alert) || present(sound) || present(badge)
	}
	switch strings.ToLower(pushType) {
	case "background":
		if !contentAvailable {
			return invalid(f, "header apns-push-type", "is background but aps.content-available is not 1")
		}
		if visible {
			return invalid(f, "header apns-push-type", "is background but aps has alert, sound or badge (use alert)")
		}
		if priority == "10" {
			return invalid(f, "header apns-priority", "is 10 but APNs requires 5 for background pushes")
		}
	case "alert":
		if contentAvailable && !visible {
			return invalid(f, "header apns-push-type", "is alert but aps has only content-available (use background, priority 5)")
		}
	}
	return nil
}

func validateFcmV1(body []byte) error {
	f := FormatFcmV1
	if err := checkJSON(f, body); err != nil {
		return err
	}
	i := skipSpace(body, 0)
	if body[i] != '{' {
		return invalid(f, "body", "is not a JSON object")
	}
	msg := lookup(body, i, "message")
	if msg < 0 {
		return invalid(f, "body", `has no "message" object (FCM v1 wraps the payload in {"message":{…}})`)
	}
	if body[msg] != '{' {
		return invalid(f, "message", "is %s, want an object", kindAt(body, msg))
	}
	var token, topic, condition bool
	data, android := -1, -1
	for it := members(body, msg); ; {
		m, ok := it.next()
		if !ok {
			break
		}
		switch {
		case m.is("data"):
			data = m.value
		case m.is("android"):
			android = m.value
		case m.is("token"):
			token = true
		case m.is("topic"):
			topic = true
		case m.is("condition"):
			condition = true
		}
	}
	for _, t := range []struct {
		set  bool
		name string
	}{{token, "token"}, {topic, "topic"}, {condition, "condition"}} {
		if t.set {
			return invalid(f, "message."+t.name, "must not be set: the hub sets the target")
		}
	}
	if err := stringMap(f, "message.data", body, data); err != nil {
		return err
	}
	if android >= 0 && body[android] == '{' {
		if err := stringMap(f, "message.android.data", body, lookup(body, android, "data")); err != nil {
			return err
		}
	}
	return nil
}

// stringMap checks that the value at body[v], if present (v >= 0) and not
// null, is an object of string values; where names it in errors.
func stringMap(f Format, where string, body []byte, v int) error {
	if v < 0 || body[v] == 'n' {
		return nil
	}
	if body[v] != '{' {
		return invalid(f, where, "is %s, want an object of strings", kindAt(body, v))
	}
	for it := members(body, v); ; {
		m, ok := it.next()
		if !ok {
			return nil
		}
		if body[m.value] != '"' {
			break
		}
	}
	// A value that is not a string, unless a later duplicate key
	// replaces it: report the first such key in key order.
	vals, keys := lastValues(body, v)
	for _, k := range keys {
		if x := vals[k]; body[x] != '"' {
			return invalid(f, where+"."+k, "is %s, want a string (FCM v1 data values are strings)", kindAt(body, x))
		}
	}
	return nil
}

func validateGcm(body []byte) error {
	f := FormatGcm
	if err := checkJSON(f, body); err != nil {
		return err
	}
	i := skipSpace(body, 0)
	if body[i] != '{' {
		return invalid(f, "body", "is not a JSON object")
	}
	var ids, to bool
	data := -1
	for it := members(body, i); ; {
		m, ok := it.next()
		if !ok {
			break
		}
		switch {
		case m.is("registration_ids"):
			ids = true
		case m.is("to"):
			to = true
		case m.is("data"):
			data = m.value
		}
	}
	if ids {
		return invalid(f, "registration_ids", "must not be set: the hub sets the target")
	}
	if to {
		return invalid(f, "to", "must not be set: the hub sets the target")
	}
	if data >= 0 && body[data] != '{' {
		return invalid(f, "data", "is %s, want an object", kindAt(body, data))
	}
	return nil
}

// checkXML checks that body is well-formed XML with one root element and
// returns the root's local name.
func checkXML(f Format, body []byte) (string, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	root := ""
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			line, col := dec.InputPos()
			return "", invalid(f, fmt.Sprintf("body line %d column %d", line, col), "is not well-formed XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if root != "" {
					line, col := dec.InputPos()
					return "", invalid(f, fmt.Sprintf("body line %d column %d", line, col), "XML has a second root element <%s>", t.Name.Local)
				}
				root = t.Name.Local
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				line, col := dec.InputPos()
				return "", invalid(f, fmt.Sprintf("body line %d column %d", line, col), "XML has text outside the root element")
			}
		}
	}
	if root == "" {
		return "", invalid(f, "body", "XML has no root element")
	}
	return root, nil
}

// xmlRoot returns the local name of the first element of body.
func xmlRoot(body []byte) (string, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", err
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local, nil
		}
	}
}

func validateWindows(n Notification) error {
	f := FormatWindows
	typ := headerValue(n.Headers, "X-WNS-Type")
	switch typ {
	case "":
		return invalid(f, "header X-WNS-Type", "is missing and the XML root is not toast, tile or badge (set WindowsOptions.Type, e.g. wns/raw)")
	case WnsRaw:
		if n.ContentType != contentTypeStream {
			return invalid(f, "Content-Type", "is %q, want %s for wns/raw", n.ContentType, contentTypeStream)
		}
		return nil
	case WnsToast, WnsTile, WnsBadge:
	default:
		return invalid(f, "header X-WNS-Type", "is %q, want wns/toast, wns/tile, wns/badge or wns/raw", clip(typ, 32))
	}
	root, err := checkXML(f, n.Body)
	if err != nil {
		return err
	}
	if want := strings.TrimPrefix(typ, "wns/"); root != want {
		return invalid(f, "header X-WNS-Type", "is %s but the XML root element is <%s>", typ, root)
	}
	return nil
}

// headerValue looks a header up case-insensitively.
func headerValue(h map[string]string, name string) string {
	if v, ok := h[name]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func deleteHeader(h map[string]string, name string) {
	for k := range h {
		if strings.EqualFold(k, name) {
			delete(h, k)
		}
	}
}
