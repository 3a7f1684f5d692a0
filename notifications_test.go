package notificationhubs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// oracleValidate is Notification.Validate as it was before the JSON
// checks stopped decoding bodies into maps: the reference the fast
// validator must agree with, error text included.
func oracleValidate(n Notification) error {
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
		return oracleValidateTemplate(n.Body)
	case FormatApple:
		return oracleValidateApple(n)
	case FormatFcmV1:
		return oracleValidateFcmV1(n.Body)
	case FormatGcm:
		return oracleValidateGcm(n.Body)
	case FormatWindows:
		return oracleValidateWindows(n)
	case FormatMpns:
		switch headerValue(n.Headers, "X-NotificationClass") {
		case "3", "13", "23":
			return nil // raw: any bytes
		}
		_, err := checkXML(f, n.Body)
		return err
	case FormatAdm, FormatBaidu, FormatXiaomi, FormatBrowser:
		if oracleValidJSONObject(n.Body) {
			return nil
		}
		_, err := oracleCheckJSON(f, n.Body)
		return err
	}
	return invalid(f, "Format", "%q is not a format the service knows", clip(string(f), 32))
}

// validJSONObject is the allocation-free check of the common case: body
// is one well-formed JSON object.
func oracleValidJSONObject(body []byte) bool {
	b := bytes.TrimLeft(body, " \t\r\n")
	return len(b) > 0 && b[0] == '{' && json.Valid(body) && utf8.Valid(body)
}

// checkJSON parses body as one JSON value and says where it is broken.
func oracleCheckJSON(f Format, body []byte) (any, error) {
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

func oracleValidateTemplate(body []byte) error {
	f := FormatTemplate
	v, err := oracleCheckJSON(f, body)
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
			return invalid(f, "property "+strconv.Quote(k), "value is %s, want a string", oracleJsonKind(obj[k]))
		}
	}
	return nil
}

func oracleJsonKind(v any) string {
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

func oracleValidateApple(n Notification) error {
	f := FormatApple
	if headerValue(n.Headers, "apns-push-type") == "" && headerValue(n.Headers, "apns-priority") == "" &&
		headerValue(n.Headers, "apns-expiration") == "" && oracleValidJSONObject(n.Body) {
		// No APNs header to cross-check with the payload.
		return nil
	}
	v, err := oracleCheckJSON(f, n.Body)
	if err != nil {
		return err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return invalid(f, "body", "is not a JSON object")
	}
	aps, _ := obj["aps"].(map[string]any)
	if _, has := obj["aps"]; has && aps == nil {
		return invalid(f, "aps", "is %s, want an object", oracleJsonKind(obj["aps"]))
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
				return invalid(f, "aps.content-available", "is %s, want the number 1", oracleJsonKind(ca))
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

func oracleValidateFcmV1(body []byte) error {
	f := FormatFcmV1
	v, err := oracleCheckJSON(f, body)
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
			return invalid(f, "message", "is %s, want an object", oracleJsonKind(obj["message"]))
		}
		return invalid(f, "body", `has no "message" object (FCM v1 wraps the payload in {"message":{…}})`)
	}
	for _, k := range []string{"token", "topic", "condition"} {
		if _, has := msg[k]; has {
			return invalid(f, "message."+k, "must not be set: the hub sets the target")
		}
	}
	if err := oracleStringMap(f, "message.data", msg["data"]); err != nil {
		return err
	}
	if android, ok := msg["android"].(map[string]any); ok {
		if err := oracleStringMap(f, "message.android.data", android["data"]); err != nil {
			return err
		}
	}
	return nil
}

// stringMap checks that v, if present, is an object of string values.
func oracleStringMap(f Format, where string, v any) error {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return invalid(f, where, "is %s, want an object of strings", oracleJsonKind(v))
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if _, ok := m[k].(string); !ok {
			return invalid(f, where+"."+k, "is %s, want a string (FCM v1 data values are strings)", oracleJsonKind(m[k]))
		}
	}
	return nil
}

func oracleValidateGcm(body []byte) error {
	f := FormatGcm
	v, err := oracleCheckJSON(f, body)
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
			return invalid(f, "data", "is %s, want an object", oracleJsonKind(d))
		}
	}
	return nil
}

func oracleValidateWindows(n Notification) error {
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

// errText is err's text, or "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// validateCases are bodies that reach every check of the JSON formats,
// with the shapes that are easy to get wrong without a decoder:
// duplicate keys (the last wins), escaped keys, null values, nesting,
// whitespace, and broken JSON.
var validateCases = []string{
	`{}`, ` {} `, `[]`, `null`, `"s"`, `1`, `true`, `{"a":1} x`, `{} {}`, `{"a":}`, `{"a":1,}`, `{"a" 1}`,
	"{\"a\":\"\xff\"}", `{"a":"\u00e9"}`, "\ufeff{}", `{"a":1e400}`, `{"a":[1,{"b":"}"}]}`,
	// FCM v1
	`{"message":{"notification":{"title":"t","body":"b"},"data":{"orderId":"1234","kind":"shipping"}}}`,
	`{"notification":{"title":"x"}}`, `{"message":null}`, `{"message":[1]}`, `{"message":"x"}`,
	`{"message":{"data":{"badge":3}}}`, `{"message":{"data":{"b":3,"a":true}}}`, `{"message":{"data":{"a":1,"a":"x"}}}`,
	`{"message":{"data":{"a":"x","a":1}}}`, `{"message":{"data":null}}`, `{"message":{"data":[]}}`, `{"message":{"data":"s"}}`,
	`{"message":{"android":{"data":{"ok":"1","n":true}}}}`, `{"message":{"android":null}}`, `{"message":{"android":{"data":null}}}`,
	`{"message":{"android":[{"data":1}]}}`, `{"message":{"android":{"data":{"x":{"y":"z"}}}}}`,
	`{"message":{"token":"t"}}`, `{"message":{"topic":null}}`, `{"message":{"condition":1,"token":2}}`,
	`{"message":{"to\u006ben":"t"}}`, `{"mess\u0061ge":{"data":{"a":1}}}`, `{"message":{"d\u0061ta":{"\u0062":null}}}`,
	`{"message":{}, "message":{"data":{"a":2}}}`, `{"message":{"data":{"a":2}}, "message":{}}`,
	`{"message":{"data":{"a":"\"}","b":"\\"}}}`, ` { "message" : { "data" : { "a" : "b" } } } `,
	`{"message":{"data":{"":1}}}`, `{"message":{"data":{"é":1,"z":1,"A":1}}}`,
	// GCM
	`{"registration_ids":["a"],"data":{}}`, `{"to":"x"}`, `{"to":"x","registration_ids":1}`, `{"data":null}`, `{"data":[]}`,
	`{"data":{"a":1}}`, `{"notification":{"title":"x"},"data":{"k":"v"}}`, `{"dat\u0061":1}`,
	// Apple
	`{"aps":{"alert":"Hello from Go!","badge":1}}`, `{"aps":{"alert":{"title":"t","body":"b"},"badge":1},"orderId":"1234"}`,
	`{"aps":{"content-available":1}}`, `{"aps":{"content-available":1,"alert":"x"}}`, `{"aps":{"content-available":1,"alert":null}}`,
	`{"aps":{"content-available":1.0}}`, `{"aps":{"content-available":"1"}}`, `{"aps":{"content-available":null}}`,
	`{"aps":{"content-available":0}}`, `{"aps":{"content-available":10}}`, `{"aps":{"content-available":1,"content-available":0}}`,
	`{"aps":{"content-available":1,"sound":"x"}}`, `{"aps":{"content-available":1,"badge":0}}`, `{"aps":{"badge":null,"sound":null}}`,
	`{"aps":null}`, `{"aps":[]}`, `{"aps":1}`, `{"aps":{},"aps":2}`, `{"aps":3,"aps":{}}`, `{"\u0061ps":{"content-available":1}}`,
	`{"aps":{"content-\u0061vailable":1}}`, `{"aps":{}}`, `{"aps":{"alert":"x",}}`, `{"aps":{"content-available":-1}}`,
	// template
	`{"badge":"3"}`, `{"badge":3}`, `{"b":3,"a":null}`, `{"":"x"}`, `{"a":"x","":1}`, `{"a":1,"a":"x"}`, `{"a":"x","a":1}`,
	`{"\u0061":1}`, `{"é":"x"}`, `["a"]`,
}

// validateHeaders are header sets that reach the APNs cross-checks.
var validateHeaders = []map[string]string{
	nil,
	{"apns-push-type": "alert", "apns-priority": "10"},
	{"apns-push-type": "background", "apns-priority": "5"},
	{"apns-push-type": "BACKGROUND", "apns-priority": "10"},
	{"apns-push-type": "Alert"},
	{"apns-priority": "7"},
	{"apns-expiration": "soon"},
	{"apns-expiration": "1700000000", "apns-push-type": "voip"},
}

var validateFormats = []Format{FormatTemplate, FormatApple, FormatFcmV1, FormatGcm, FormatAdm, FormatBaidu,
	FormatXiaomi, FormatBrowser, FormatWindows, FormatMpns}

func TestValidateMatchesOracle(t *testing.T) {
	for _, f := range validateFormats {
		for hi, h := range validateHeaders {
			for _, body := range validateCases {
				n := Notification{Format: f, Body: []byte(body), Headers: h, ContentType: contentTypeJSON}
				got, want := errText(n.Validate()), errText(oracleValidate(n))
				if got != want {
					t.Errorf("%s, headers %d, body %q:\n got %q\nwant %q", f, hi, body, got, want)
				}
			}
		}
	}
}

// TestValidateCatches spot-checks that the cases above are not all
// accepted, so that agreement with the oracle means something.
func TestValidateCatches(t *testing.T) {
	tests := []struct {
		f       Format
		body    string
		wantErr string
	}{
		{FormatFcmV1, `{"message":{"data":{"b":3,"a":true}}}`, "fcmv1 notification: message.data.a: is a boolean, want a string (FCM v1 data values are strings)"},
		{FormatFcmV1, `{"message":{"data":{"a":"x","a":1}}}`, "fcmv1 notification: message.data.a: is a number, want a string (FCM v1 data values are strings)"},
		{FormatFcmV1, `{"message":{"data":{"a":1,"a":"x"}}}`, ""},
		{FormatFcmV1, `{"mess\u0061ge":{"to\u006ben":"t"}}`, "fcmv1 notification: message.token: must not be set: the hub sets the target"},
		{FormatFcmV1, `{"message":null}`, "fcmv1 notification: message: is null, want an object"},
		{FormatTemplate, `{"b":3,"a":null}`, `template notification: property "a": value is null, want a string`},
		{FormatTemplate, `{"a":"x","":1}`, `template notification: property "": has an empty name`},
		{FormatGcm, `{"to":"x","registration_ids":1}`, "gcm notification: registration_ids: must not be set: the hub sets the target"},
		{FormatAdm, `{"a":}`, "adm notification: body: is not valid JSON at byte offset 5: invalid character '}' looking for beginning of value"},
		{FormatAdm, "{\"a\":\"\xff\"}", "adm notification: body: is not valid UTF-8"},
		{FormatAdm, `[1]`, ""},
	}
	for _, tt := range tests {
		n := Notification{Format: tt.f, Body: []byte(tt.body)}
		if got := errText(n.Validate()); got != tt.wantErr {
			t.Errorf("%s %q: error %q, want %q", tt.f, tt.body, got, tt.wantErr)
		}
	}
	apple := []struct {
		body, pushType, wantErr string
	}{
		{`{"aps":{"content-available":1,"alert":null}}`, "background", ""},
		{`{"aps":{"content-available":1,"content-available":0}}`, "background", "apple notification: header apns-push-type: is background but aps.content-available is not 1"},
		{`{"aps":{"content-available":1.0}}`, "background", "apple notification: header apns-push-type: is background but aps.content-available is not 1"},
		{`{"aps":{"content-available":"1"}}`, "alert", `apple notification: aps.content-available: is a string, want the number 1`},
		{`{"aps":3,"aps":{}}`, "alert", ""},
	}
	for _, tt := range apple {
		n := NewAppleNotification([]byte(tt.body), &AppleOptions{PushType: tt.pushType, Priority: 5})
		if got := errText(n.Validate()); got != tt.wantErr {
			t.Errorf("apple %s %q: error %q, want %q", tt.pushType, tt.body, got, tt.wantErr)
		}
	}
}

// FuzzValidate checks that the validator accepts and rejects exactly what
// the decoding one (oracleValidate) did, with the same error.
func FuzzValidate(f *testing.F) {
	for fi := range validateFormats {
		for hi := range validateHeaders {
			for _, body := range validateCases {
				if (fi+hi)%3 == 0 {
					f.Add(uint8(fi), uint8(hi), []byte(body))
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, fi, hi uint8, body []byte) {
		n := Notification{
			Format:      validateFormats[int(fi)%len(validateFormats)],
			Body:        body,
			Headers:     validateHeaders[int(hi)%len(validateHeaders)],
			ContentType: contentTypeJSON,
		}
		got, want := errText(n.Validate()), errText(oracleValidate(n))
		if got != want {
			t.Fatalf("%s, headers %d, body %q:\n got %q\nwant %q", n.Format, hi, body, got, want)
		}
	})
}

// validPayloads are common valid notifications, one per format.
var validPayloads = []struct {
	name string
	n    Notification
}{
	{"fcmv1", NewFcmV1Notification(benchFcmV1Payload)},
	{"apple", NewAppleNotification(benchPayload, nil)},
	{"apple-headers", NewAppleNotification([]byte(`{"aps":{"alert":{"title":"Order shipped","body":"Your order 1234 is on its way"},"badge":1},"orderId":"1234"}`),
		&AppleOptions{PushType: "alert", Priority: 10})},
	{"apple-background", NewAppleNotification([]byte(`{"aps":{"content-available":1},"orderId":"1234"}`),
		&AppleOptions{PushType: "background", Priority: 5})},
	{"gcm", NewGcmNotification([]byte(`{"notification":{"title":"Order shipped","body":"Your order 1234 is on its way"},"data":{"orderId":"1234"}}`))},
	{"template", NewTemplateNotification(map[string]string{"title": "Order shipped", "body": "Your order 1234 is on its way"})},
	{"adm", NewAdmNotification([]byte(`{"data":{"title":"Order shipped","body":"Your order 1234 is on its way"}}`))},
	{"browser", NewBrowserNotification([]byte(`{"title":"Order shipped","body":"Your order 1234 is on its way"}`))},
	{"windows", NewWindowsNotification([]byte(`<toast><visual><binding template="ToastText01"><text id="1">Order shipped</text></binding></visual></toast>`), nil)},
}

// TestValidateAllocations checks that valid JSON notifications cost no
// allocation (an allocation count, not a timing).
func TestValidateAllocations(t *testing.T) {
	for _, p := range validPayloads {
		if p.n.Format == FormatWindows {
			continue // XML is checked with encoding/xml
		}
		if err := p.n.Validate(); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		if got := testing.AllocsPerRun(100, func() { _ = p.n.Validate() }); got != 0 {
			t.Errorf("%s: Validate allocates %v times, want 0", p.name, got)
		}
	}
}

// Run: go test -run=^$ -bench=Validate -benchmem .
//
// BenchmarkValidate is the validator of every send; BenchmarkValidateOracle
// the decoding one it replaced, for comparison.
func BenchmarkValidate(b *testing.B) {
	for _, p := range validPayloads {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := p.n.Validate(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkValidateOracle(b *testing.B) {
	for _, p := range validPayloads {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := oracleValidate(p.n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
