package emulator

// What a push service receives for a send: the headers passed through,
// the payload with the device's token where its service wants it, and
// rendered templates.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/nhkit/notificationhubs/internal/atom"
	"github.com/nhkit/notificationhubs/internal/template"
)

// canonicalNames spells well-known PNS headers as their services do.
var canonicalNames = map[string]string{}

func init() {
	for _, n := range []string{"X-WNS-Type", "X-WNS-Cache-Policy", "X-WNS-Priority", "X-WNS-RequestForStatus",
		"X-WNS-Tag", "X-WNS-TTL", "X-WNS-Group", "X-WNS-Match", "X-WNS-SuppressPopup",
		"X-WindowsPhone-Target", "X-NotificationClass", "X-Baidu-Message-Type"} {
		canonicalNames[strings.ToLower(n)] = n
	}
}

func canonicalName(name string) string {
	if c, ok := canonicalNames[strings.ToLower(name)]; ok {
		return c
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}

// passThrough picks the request headers the PNS would receive.
func passThrough(p platform, h http.Header) ([]kv, error) {
	var out []kv
	for name, vals := range h {
		l := strings.ToLower(name)
		v := vals[0]
		switch p {
		case pApple:
			switch {
			case strings.HasPrefix(l, "apns-"):
				out = append(out, kv{l, v})
			case l == "x-apns-priority":
				out = append(out, kv{"apns-priority", v})
			case l == strings.ToLower(hApnsExpiry):
				t, ok := parseTimeLoose(v)
				if !ok {
					return nil, badRequest("The value of the 'ServiceBusNotification-Apns-Expiry' header is not a valid date.")
				}
				out = append(out, kv{"apns-expiration", strconv.FormatInt(t.Unix(), 10)})
			}
		case pWindows:
			if strings.HasPrefix(l, "x-wns-") {
				out = append(out, kv{canonicalName(name), v})
			}
		case pMpns:
			if strings.HasPrefix(l, "x-windowsphone-") || l == "x-notificationclass" {
				out = append(out, kv{canonicalName(name), v})
			}
		case pBaidu:
			if l == "x-baidu-message-type" {
				out = append(out, kv{canonicalName(name), v})
			}
		}
	}
	if p == pApple {
		for _, x := range out {
			if x.name == "apns-expiration" {
				if _, err := strconv.ParseInt(strings.TrimSpace(x.value), 10, 64); err != nil {
					return nil, badRequest("The value of the 'apns-expiration' header must be an integer.")
				}
			}
		}
	}
	if p == pWindows && !hasKV(out, "X-WNS-Type") {
		return nil, badRequest("The 'X-WNS-Type' header is required for Windows notifications.")
	}
	return out, nil
}

func hasKV(l []kv, name string) bool {
	for _, x := range l {
		if strings.EqualFold(x.name, name) {
			return true
		}
	}
	return false
}

// parseTimeLoose accepts RFC 3339 (with or without zone, zone-less = UTC),
// the Python sample's 'T' quoting and MM/dd/yyyy HH:mm:ss.
func parseTimeLoose(v string) (time.Time, bool) {
	v = strings.TrimSpace(strings.ReplaceAll(v, "'T'", "T"))
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02T15:04Z07:00",
		"01/02/2006 15:04:05", "1/2/2006 15:04:05", "01/02/2006 03:04:05 PM", "1/2/2006 3:04:05 PM", time.RFC1123} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// pnsMessage returns the headers and payload a PNS receives for handle.
func pnsMessage(p platform, handle string, hs []kv, body string) (map[string]string, string) {
	headers := make(map[string]string, len(hs)+2)
	for _, h := range hs {
		headers[h.name] = h.value
	}
	switch p {
	case pApple:
		if _, ok := headers["apns-push-type"]; !ok {
			headers["apns-push-type"] = "alert"
		}
		headers["content-type"] = "application/json"
	case pGcm:
		headers["Content-Type"] = "application/json"
		body = injectJSON(body, "to", handle, true)
	case pFcmV1:
		headers["Content-Type"] = "application/json"
		body = fcmV1Message(body, handle)
	case pWindows:
		if strings.EqualFold(headers["X-WNS-Type"], "wns/raw") {
			headers["Content-Type"] = "application/octet-stream"
		} else {
			headers["Content-Type"] = "text/xml"
		}
	case pMpns:
		headers["Content-Type"] = "text/xml"
	default:
		headers["Content-Type"] = "application/json"
	}
	return headers, body
}

// injectJSON adds "key":value to a JSON object text, first or last.
func injectJSON(obj, key, value string, first bool) string {
	return wrapInjectJSON("", obj, key, value, first, "")
}

// wrapInjectJSON is prefix + injectJSON(obj, key, value, first) + suffix,
// built in one buffer.
func wrapInjectJSON(prefix, obj, key, value string, first bool, suffix string) string {
	t := strings.TrimSpace(obj)
	if !strings.HasPrefix(t, "{") || !strings.HasSuffix(t, "}") {
		return prefix + t + suffix
	}
	inner := strings.TrimSpace(t[1 : len(t)-1])
	var b bytes.Buffer
	b.Grow(len(prefix) + len(inner) + len(key) + len(value) + len(suffix) + 8)
	b.WriteString(prefix)
	b.WriteByte('{')
	if inner != "" && !first {
		b.WriteString(inner)
		b.WriteByte(',')
	}
	writeJSONString(&b, key)
	b.WriteByte(':')
	writeJSONString(&b, value)
	if inner != "" && first {
		b.WriteByte(',')
		b.WriteString(inner)
	}
	b.WriteByte('}')
	b.WriteString(suffix)
	return b.String()
}

// fcmV1Message wraps an FCM v1 body as {"message":{…,"token":handle}}.
func fcmV1Message(body, handle string) string {
	// The usual body, {"message":{…}} and nothing else, is recognised by
	// a scan instead of decoding it; anything else takes the general path
	// below, which gives the same result for these bodies
	// (FuzzFcmV1Message checks it against fcmV1MessageDecoded).
	if msg, ok := onlyObjectMember(body, "message"); ok {
		return wrapInjectJSON(`{"message":`, msg, "token", handle, false, `}`)
	}
	return fcmV1MessageDecoded(body, handle)
}

// fcmV1MessageDecoded is fcmV1Message by decoding the body.
func fcmV1MessageDecoded(body, handle string) string {
	keys, m, err := orderedObject(json.RawMessage(body))
	if err == nil {
		if msg, ok := m["message"]; ok && len(keys) == 1 {
			return `{"message":` + injectJSON(string(msg), "token", handle, false) + `}`
		}
	}
	return `{"message":` + injectJSON(body, "token", handle, false) + `}`
}

// propsFor returns the template properties for a target: the
// notification's, with the target's push variables as defaults.
func propsFor(n *notification, pushVars map[string]string) template.Props {
	p := make(template.Props, len(n.props)+len(pushVars))
	for k, v := range pushVars {
		p[k] = v
	}
	for _, x := range n.props {
		for k := range p {
			if strings.EqualFold(k, x.name) {
				delete(p, k)
			}
		}
		p[x.name] = x.value
	}
	return p
}

// renderTemplate expands a template target for n.
func renderTemplate(t *target, n *notification) (map[string]string, string, error) {
	var (
		body, expiry string
		hs           []atom.Header
		pushVars     map[string]string
	)
	if t.reg != nil {
		d := &t.reg.desc
		body, expiry, pushVars = d.BodyTemplate, d.Expiry, d.PushVariables
		switch t.platform {
		case pApple:
			hs = d.ApnsHeaders
		case pWindows:
			hs = d.WnsHeaders
		case pMpns:
			hs = d.MpnsHeaders
		}
	} else {
		tp := &t.inst.templates[t.tmplIdx]
		body, expiry, pushVars = tp.body, tp.expiry, t.inst.pushVariables
		hs = tp.atomHeaders()
	}
	props := propsFor(n, pushVars)
	payload, err := template.Render(body, templateKind(t.platform, hs), props)
	if err != nil {
		return nil, "", err
	}
	var out []kv
	for _, h := range hs {
		v := h.Value
		if template.IsExpression(v) {
			if v, _, err = template.Eval(v, props); err != nil {
				return nil, "", err
			}
		}
		name := canonicalName(h.Name)
		if t.platform == pApple {
			name = strings.ToLower(h.Name)
		}
		out = append(out, kv{name, v})
	}
	if t.platform == pApple && expiry != "" {
		v := expiry
		if template.IsExpression(v) {
			if v, _, err = template.Eval(v, props); err != nil {
				return nil, "", err
			}
		}
		if ts, ok := parseTimeLoose(v); ok {
			out = append(out, kv{"apns-expiration", strconv.FormatInt(ts.Unix(), 10)})
		} else if _, err := strconv.ParseInt(v, 10, 64); err == nil {
			out = append(out, kv{"apns-expiration", v})
		}
	}
	headers, payload := pnsMessage(t.platform, t.handle, out, payload)
	return headers, payload, nil
}
