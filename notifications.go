package notificationhubs

import (
	"bytes"
	"encoding/json"
	"maps"
	"strconv"
	"strings"
	"time"
)

// Format is the value of the ServiceBusNotification-Format header: which
// registrations a notification is for (docs/protocol.md, "Sends").
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
