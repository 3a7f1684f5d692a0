package notificationhubs

// The checks Notification.Validate makes before a send: sizes, syntax and
// the push services' own rules, on the bytes, without decoding them.

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nhkit/notificationhubs/internal/jsonscan"
)

// platformLimit is the largest payload a push service accepts; the hub
// drops bigger ones with an InvalidNotificationSize outcome instead of an
// HTTP error (docs/protocol.md, "Size limits"), so they are refused before the request.
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
	i := jsonscan.SkipSpace(body, 0)
	return i < len(body) && body[i] == '{' && utf8.Valid(body) && jsonscan.Valid(body)
}

// checkJSON checks that body is one well-formed JSON value in UTF-8 and
// says where it is broken. The valid case costs no allocation; only a
// broken body is run through a json.Decoder, for the position and text of
// its error. The walkers below rely on a body that passed it.
func checkJSON(f Format, body []byte) error {
	if utf8.Valid(body) && jsonscan.Valid(body) {
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
	// jsonscan.Valid and the decoder disagree; trust the stricter.
	return invalid(f, "body", "is not valid JSON")
}

func validateTemplate(body []byte) error {
	f := FormatTemplate
	if err := checkJSON(f, body); err != nil {
		return err
	}
	i := jsonscan.SkipSpace(body, 0)
	if body[i] != '{' {
		return invalid(f, "body", "is not a JSON object of properties")
	}
	for it := jsonscan.Members(body, i); ; {
		m, ok := it.Next()
		if !ok {
			return nil
		}
		if m.Escaped || len(m.RawKey) == 2 || body[m.Value] != '"' ||
			len(m.RawKey)-2 > MaxTemplatePropertyNameLength && utf8.RuneCount(m.RawKey) > MaxTemplatePropertyNameLength+2 {
			break // something to look at closely
		}
	}
	// The first problem in key order, each key with its last value.
	vals, keys := jsonscan.LastValues(body, i)
	for _, k := range keys {
		if k == "" {
			return invalid(f, "property \"\"", "has an empty name")
		}
		if n := utf8.RuneCountInString(k); n > MaxTemplatePropertyNameLength {
			return invalid(f, "property "+strconv.Quote(clip(k, 32)), "name is %d characters, more than %d", n, MaxTemplatePropertyNameLength)
		}
		if v := vals[k]; body[v] != '"' {
			return invalid(f, "property "+strconv.Quote(k), "value is %s, want a string", jsonscan.Kind(body, v))
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
	i := jsonscan.SkipSpace(body, 0)
	if body[i] != '{' {
		return invalid(f, "body", "is not a JSON object")
	}
	aps := jsonscan.Lookup(body, i, "aps")
	if aps >= 0 && body[aps] != '{' {
		return invalid(f, "aps", "is %s, want an object", jsonscan.Kind(body, aps))
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
		for it := jsonscan.Members(body, aps); ; {
			m, ok := it.Next()
			if !ok {
				break
			}
			switch {
			case m.Is("content-available"):
				ca = m.Value
			case m.Is("alert"):
				alert = m.Value
			case m.Is("sound"):
				sound = m.Value
			case m.Is("badge"):
				badge = m.Value
			}
		}
		if ca >= 0 {
			if jsonscan.Kind(body, ca) != "a number" {
				return invalid(f, "aps.content-available", "is %s, want the number 1", jsonscan.Kind(body, ca))
			}
			contentAvailable = jsonscan.SkipValue(body, ca) == ca+1 && body[ca] == '1'
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
	i := jsonscan.SkipSpace(body, 0)
	if body[i] != '{' {
		return invalid(f, "body", "is not a JSON object")
	}
	msg := jsonscan.Lookup(body, i, "message")
	if msg < 0 {
		return invalid(f, "body", `has no "message" object (FCM v1 wraps the payload in {"message":{…}})`)
	}
	if body[msg] != '{' {
		return invalid(f, "message", "is %s, want an object", jsonscan.Kind(body, msg))
	}
	var token, topic, condition bool
	data, android := -1, -1
	for it := jsonscan.Members(body, msg); ; {
		m, ok := it.Next()
		if !ok {
			break
		}
		switch {
		case m.Is("data"):
			data = m.Value
		case m.Is("android"):
			android = m.Value
		case m.Is("token"):
			token = true
		case m.Is("topic"):
			topic = true
		case m.Is("condition"):
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
		if err := stringMap(f, "message.android.data", body, jsonscan.Lookup(body, android, "data")); err != nil {
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
		return invalid(f, where, "is %s, want an object of strings", jsonscan.Kind(body, v))
	}
	for it := jsonscan.Members(body, v); ; {
		m, ok := it.Next()
		if !ok {
			return nil
		}
		if body[m.Value] != '"' {
			break
		}
	}
	// A value that is not a string, unless a later duplicate key
	// replaces it: report the first such key in key order.
	vals, keys := jsonscan.LastValues(body, v)
	for _, k := range keys {
		if x := vals[k]; body[x] != '"' {
			return invalid(f, where+"."+k, "is %s, want a string (FCM v1 data values are strings)", jsonscan.Kind(body, x))
		}
	}
	return nil
}

func validateGcm(body []byte) error {
	f := FormatGcm
	if err := checkJSON(f, body); err != nil {
		return err
	}
	i := jsonscan.SkipSpace(body, 0)
	if body[i] != '{' {
		return invalid(f, "body", "is not a JSON object")
	}
	var ids, to bool
	data := -1
	for it := jsonscan.Members(body, i); ; {
		m, ok := it.Next()
		if !ok {
			break
		}
		switch {
		case m.Is("registration_ids"):
			ids = true
		case m.Is("to"):
			to = true
		case m.Is("data"):
			data = m.Value
		}
	}
	if ids {
		return invalid(f, "registration_ids", "must not be set: the hub sets the target")
	}
	if to {
		return invalid(f, "to", "must not be set: the hub sets the target")
	}
	if data >= 0 && body[data] != '{' {
		return invalid(f, "data", "is %s, want an object", jsonscan.Kind(body, data))
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
