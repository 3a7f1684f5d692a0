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
	FormatTemplate     Format = "template"
	FormatApple        Format = "apple"
	FormatFcmV1        Format = "fcmv1"
	FormatGcm          Format = "gcm" // FCM legacy
	FormatWindows      Format = "windows"
	FormatWindowsPhone Format = "windowsphone" // MPNS
	FormatAdm          Format = "adm"
	FormatBaidu        Format = "baidu"
	FormatXiaomi       Format = "xiaomi"
	FormatBrowser      Format = "browser"
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
	case FormatWindowsPhone:
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
	WNSToast = "wns/toast"
	WNSTile  = "wns/tile"
	WNSBadge = "wns/badge"
	WNSRaw   = "wns/raw"
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
// Type WNSRaw. A raw notification is sent as application/octet-stream,
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
			typ = WNSToast
		case "tile":
			typ = WNSTile
		case "badge":
			typ = WNSBadge
		}
	}
	deleteHeader(h, "X-WNS-Type")
	if typ != "" {
		h["X-WNS-Type"] = typ
	}
	if typ == WNSRaw {
		n.ContentType = contentTypeStream
	}
	n.Headers = h
	return n
}

// NewWindowsRawNotification returns a raw WNS notification (wns/raw,
// application/octet-stream) carrying arbitrary bytes.
func NewWindowsRawNotification(payload []byte) Notification {
	return NewWindowsNotification(payload, &WindowsOptions{Type: WNSRaw})
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
	n := Notification{Format: FormatWindowsPhone, Body: payload, ContentType: contentTypeXMLUTF}
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

// ValidationError says what is wrong with a notification and where,
// before any request is made.
type ValidationError struct {
	Format Format
	// Where is the place of the problem: "body", "body offset 17",
	// "message.data.badge", "header X-WNS-Type", …
	Where string
	Msg   string
}

func (e *ValidationError) Error() string {
	f := string(e.Format)
	if f == "" {
		f = "notification"
	}
	if e.Where == "" {
		return f + " notification: " + e.Msg
	}
	return f + " notification: " + e.Where + ": " + e.Msg
}

func invalid(f Format, where, format string, args ...any) error {
	return &ValidationError{Format: f, Where: where, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks what the service would reject or silently drop: a
// known format, a body of at most 64 KB and within the push service's own
// limit, well-formed JSON or XML, FCM v1 data values that are strings,
// an X-WNS-Type that matches the XML root, APNs headers consistent with
// content-available, and template properties. Errors are
// *ValidationError.
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
	case FormatWindowsPhone:
		switch headerValue(n.Headers, "X-NotificationClass") {
		case "3", "13", "23":
			return nil // raw: any bytes
		}
		_, err := checkXML(f, n.Body)
		return err
	case FormatAdm, FormatBaidu, FormatXiaomi, FormatBrowser:
		if validJSONObject(n.Body) {
			return nil
		}
		_, err := checkJSON(f, n.Body)
		return err
	}
	return invalid(f, "Format", "%q is not a format the service knows", clip(string(f), 32))
}

// validJSONObject is the allocation-free check of the common case: body
// is one well-formed JSON object.
func validJSONObject(body []byte) bool {
	b := bytes.TrimLeft(body, " \t\r\n")
	return len(b) > 0 && b[0] == '{' && json.Valid(body) && utf8.Valid(body)
}

// checkJSON parses body as one JSON value and says where it is broken.
func checkJSON(f Format, body []byte) (any, error) {
	if !utf8.Valid(body) {
		return nil, invalid(f, "body", "is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, invalid(f, "body", "is not valid JSON at byte offset %d: %v", max(se.Offset-1, 0), err)
		}
		return nil, invalid(f, "body", "is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalid(f, "body", "has data after the JSON value at byte offset %d", dec.InputOffset())
	}
	return v, nil
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

func validateTemplate(body []byte) error {
	f := FormatTemplate
	v, err := checkJSON(f, body)
	if err != nil {
		return err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return invalid(f, "body", "is not a JSON object of properties")
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if k == "" {
			return invalid(f, "property \"\"", "has an empty name")
		}
		if n := utf8.RuneCountInString(k); n > MaxTemplatePropertyNameLength {
			return invalid(f, "property "+strconv.Quote(clip(k, 32)), "name is %d characters, more than %d", n, MaxTemplatePropertyNameLength)
		}
		if _, ok := obj[k].(string); !ok {
			return invalid(f, "property "+strconv.Quote(k), "value is %s, want a string", jsonKind(obj[k]))
		}
	}
	return nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func validateApple(n Notification) error {
	f := FormatApple
	if headerValue(n.Headers, "apns-push-type") == "" && headerValue(n.Headers, "apns-priority") == "" &&
		headerValue(n.Headers, "apns-expiration") == "" && validJSONObject(n.Body) {
		// No APNs header to cross-check with the payload.
		return nil
	}
	v, err := checkJSON(f, n.Body)
	if err != nil {
		return err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return invalid(f, "body", "is not a JSON object")
	}
	aps, _ := obj["aps"].(map[string]any)
	if _, has := obj["aps"]; has && aps == nil {
		return invalid(f, "aps", "is %s, want an object", jsonKind(obj["aps"]))
	}
	if p := headerValue(n.Headers, "apns-priority"); p != "" && p != "10" && p != "5" && p != "1" {
		return invalid(f, "header apns-priority", "is %q, want 10, 5 or 1", clip(p, 16))
	}
	if e := headerValue(n.Headers, "apns-expiration"); e != "" {
		if _, err := strconv.ParseInt(e, 10, 64); err != nil {
			return invalid(f, "header apns-expiration", "is %q, want Unix seconds", clip(e, 32))
		}
	}
	contentAvailable := false
	if aps != nil {
		if ca, has := aps["content-available"]; has {
			num, ok := ca.(json.Number)
			if !ok {
				return invalid(f, "aps.content-available", "is %s, want the number 1", jsonKind(ca))
			}
			contentAvailable = num.String() == "1"
		}
	}
	visible := aps != nil && (aps["alert"] != nil || aps["sound"] != nil || aps["badge"] != nil)
	pushType := strings.ToLower(headerValue(n.Headers, "apns-push-type"))
	switch pushType {
	case "background":
		if !contentAvailable {
			return invalid(f, "header apns-push-type", "is background but aps.content-available is not 1")
		}
		if visible {
			return invalid(f, "header apns-push-type", "is background but aps has alert, sound or badge (use alert)")
		}
		if p := headerValue(n.Headers, "apns-priority"); p == "10" {
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
	v, err := checkJSON(f, body)
	if err != nil {
		return err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return invalid(f, "body", "is not a JSON object")
	}
	msg, ok := obj["message"].(map[string]any)
	if !ok {
		if _, has := obj["message"]; has {
			return invalid(f, "message", "is %s, want an object", jsonKind(obj["message"]))
		}
		return invalid(f, "body", `has no "message" object (FCM v1 wraps the payload in {"message":{…}})`)
	}
	for _, k := range []string{"token", "topic", "condition"} {
		if _, has := msg[k]; has {
			return invalid(f, "message."+k, "must not be set: the hub sets the target")
		}
	}
	if err := stringMap(f, "message.data", msg["data"]); err != nil {
		return err
	}
	if android, ok := msg["android"].(map[string]any); ok {
		if err := stringMap(f, "message.android.data", android["data"]); err != nil {
			return err
		}
	}
	return nil
}

// stringMap checks that v, if present, is an object of string values.
func stringMap(f Format, where string, v any) error {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return invalid(f, where, "is %s, want an object of strings", jsonKind(v))
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if _, ok := m[k].(string); !ok {
			return invalid(f, where+"."+k, "is %s, want a string (FCM v1 data values are strings)", jsonKind(m[k]))
		}
	}
	return nil
}

func validateGcm(body []byte) error {
	f := FormatGcm
	v, err := checkJSON(f, body)
	if err != nil {
		return err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return invalid(f, "body", "is not a JSON object")
	}
	for _, k := range []string{"registration_ids", "to"} {
		if _, has := obj[k]; has {
			return invalid(f, k, "must not be set: the hub sets the target")
		}
	}
	if d, has := obj["data"]; has {
		if _, ok := d.(map[string]any); !ok {
			return invalid(f, "data", "is %s, want an object", jsonKind(d))
		}
	}
	return nil
}

func validateWindows(n Notification) error {
	f := FormatWindows
	typ := headerValue(n.Headers, "X-WNS-Type")
	switch typ {
	case "":
		return invalid(f, "header X-WNS-Type", "is missing and the XML root is not toast, tile or badge (set WindowsOptions.Type, e.g. wns/raw)")
	case WNSRaw:
		if n.ContentType != contentTypeStream {
			return invalid(f, "Content-Type", "is %q, want %s for wns/raw", n.ContentType, contentTypeStream)
		}
		return nil
	case WNSToast, WNSTile, WNSBadge:
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
