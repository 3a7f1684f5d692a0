package notificationhubs

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/nhkit/notificationhubs/internal/tagexpr"
	"github.com/nhkit/notificationhubs/internal/template"
)

// RegistrationPlatform is the push notification service a registration
// targets. Its values are the prefixes of the service's registration
// description element names (docs/protocol.md, "Registration descriptions").
type RegistrationPlatform string

// Registration platforms. FCM legacy is called Gcm on the wire.
const (
	RegistrationPlatformApple   RegistrationPlatform = "Apple"
	RegistrationPlatformFcmV1   RegistrationPlatform = "FcmV1"
	RegistrationPlatformGcm     RegistrationPlatform = "Gcm" // FCM legacy
	RegistrationPlatformWindows RegistrationPlatform = "Windows"
	RegistrationPlatformMpns    RegistrationPlatform = "Mpns"
	RegistrationPlatformAdm     RegistrationPlatform = "Adm"
	RegistrationPlatformBaidu   RegistrationPlatform = "Baidu"
	RegistrationPlatformXiaomi  RegistrationPlatform = "Xiaomi"
	RegistrationPlatformBrowser RegistrationPlatform = "Browser"
)

// RegistrationPlatforms returns every registration platform.
func RegistrationPlatforms() []RegistrationPlatform {
	return []RegistrationPlatform{
		RegistrationPlatformApple, RegistrationPlatformFcmV1, RegistrationPlatformGcm,
		RegistrationPlatformWindows, RegistrationPlatformMpns, RegistrationPlatformAdm,
		RegistrationPlatformBaidu, RegistrationPlatformXiaomi, RegistrationPlatformBrowser,
	}
}

// Registration is a registration of one device handle with a hub: native
// (Template nil) or template. Only the handle fields of Platform are used.
//
// RegistrationID, ETag and ExpirationTime are set by the service; the SDK
// does not send ETag or ExpirationTime (ETag goes into If-Match where an
// operation uses it).
type Registration struct {
	// RegistrationID identifies the registration in the hub.
	RegistrationID string
	// Platform is the push notification service of the device handle.
	Platform RegistrationPlatform

	// DeviceToken is the APNs device token (hex; the service stores it upper-case).
	DeviceToken string
	// FcmV1RegistrationID is the FCM v1 registration token.
	FcmV1RegistrationID string
	// GcmRegistrationID is the FCM legacy (GCM) registration token.
	GcmRegistrationID string
	// ChannelURI is the WNS or MPNS channel URI.
	ChannelURI string
	// SecondaryTileName is the WNS or MPNS secondary tile, if any.
	SecondaryTileName string
	// AdmRegistrationID is the Amazon Device Messaging registration id.
	AdmRegistrationID string
	// BaiduUserID and BaiduChannelID identify a Baidu device.
	BaiduUserID, BaiduChannelID string
	// XiaomiRegistrationID is the Xiaomi push registration id.
	XiaomiRegistrationID string
	// Endpoint, P256DH and Auth are a browser's Web Push subscription.
	Endpoint, P256DH, Auth string

	// Tags are the registration's tags (at most 60).
	Tags []string
	// PushVariables are substituted into template expressions for this
	// registration.
	PushVariables map[string]string
	// Template, when set, makes this a template registration.
	Template *RegistrationTemplate

	// ETag is the version the service assigned (an integer as text).
	ETag azcore.ETag
	// ExpirationTime is when the registration expires (year 9999 for never).
	ExpirationTime time.Time
}

// RegistrationTemplate is the template part of a template registration.
type RegistrationTemplate struct {
	// Body is the template body: JSON for Apple, FCM, ADM, Baidu, Xiaomi
	// and browsers; XML (or raw text for wns/raw) for Windows and MPNS.
	Body string
	// Name names the template; it also acts as a tag when sending.
	Name string
	// Headers are the APNs (apns-*), WNS (X-WNS-*) or MPNS headers.
	Headers map[string]string
	// Expiry is the APNs expiry: a date, 0, or an expression (Apple only).
	Expiry string
	// Priority is the APNs priority, e.g. 5 or 10, or an expression (Apple only).
	Priority string
	// MessageType is the Baidu message type (Baidu only; 0 message, 1 notification).
	MessageType string
}

// Handle returns the registration's PNS handle: the device token, channel
// URI or registration id of its platform; for Baidu "userId-channelId"; for
// a browser the endpoint.
func (r Registration) Handle() string {
	switch r.Platform {
	case RegistrationPlatformApple:
		return r.DeviceToken
	case RegistrationPlatformFcmV1:
		return r.FcmV1RegistrationID
	case RegistrationPlatformGcm:
		return r.GcmRegistrationID
	case RegistrationPlatformWindows, RegistrationPlatformMpns:
		return r.ChannelURI
	case RegistrationPlatformAdm:
		return r.AdmRegistrationID
	case RegistrationPlatformBaidu:
		return r.BaiduUserID + "-" + r.BaiduChannelID
	case RegistrationPlatformXiaomi:
		return r.XiaomiRegistrationID
	case RegistrationPlatformBrowser:
		return r.Endpoint
	}
	return ""
}

// IsTemplate reports whether r is a template registration.
func (r Registration) IsTemplate() bool { return r.Template != nil }

// The constructors below are in the spirit of .NET's
// Create{Platform}{Native,Template}RegistrationAsync.

// NewAppleRegistration returns a native APNs registration.
func NewAppleRegistration(deviceToken string, tags ...string) Registration {
	return Registration{Platform: RegistrationPlatformApple, DeviceToken: deviceToken, Tags: tags}
}

// NewAppleTemplateRegistration returns an APNs template registration with
// a JSON body template.
func NewAppleTemplateRegistration(deviceToken, bodyTemplate string, tags ...string) Registration {
	r := NewAppleRegistration(deviceToken, tags...)
	r.Template = &RegistrationTemplate{Body: bodyTemplate}
	return r
}

// NewFcmV1Registration returns a native FCM v1 registration.
func NewFcmV1Registration(fcmToken string, tags ...string) Registration {
	return Registration{Platform: RegistrationPlatformFcmV1, FcmV1RegistrationID: fcmToken, Tags: tags}
}

// NewFcmV1TemplateRegistration returns an FCM v1 template registration; the
// body is an FCM v1 message ({"message":{…}}).
func NewFcmV1TemplateRegistration(fcmToken, bodyTemplate string, tags ...string) Registration {
	r := NewFcmV1Registration(fcmToken, tags...)
	r.Template = &RegistrationTemplate{Body: bodyTemplate}
	return r
}

// NewGcmRegistration returns a native FCM legacy (GCM) registration. Google
// has shut FCM legacy down: use NewFcmV1Registration for new devices and
// MigrateGcmToFcmV1 for existing registrations.
func NewGcmRegistration(fcmToken string, tags ...string) Registration {
	return Registration{Platform: RegistrationPlatformGcm, GcmRegistrationID: fcmToken, Tags: tags}
}

// NewGcmTemplateRegistration returns an FCM legacy (GCM) template
// registration. See NewGcmRegistration.
func NewGcmTemplateRegistration(fcmToken, bodyTemplate string, tags ...string) Registration {
	r := NewGcmRegistration(fcmToken, tags...)
	r.Template = &RegistrationTemplate{Body: bodyTemplate}
	return r
}

// NewWindowsRegistration returns a native WNS registration.
func NewWindowsRegistration(channelURI string, tags ...string) Registration {
	return Registration{Platform: RegistrationPlatformWindows, ChannelURI: channelURI, Tags: tags}
}

// NewWindowsTemplateRegistration returns a WNS template registration. The
// mandatory X-WNS-Type header is derived from the body's root element
// (toast, tile, badge; anything else is wns/raw), as the .NET SDK does;
// set Template.Headers to override it.
func NewWindowsTemplateRegistration(channelURI, bodyTemplate string, tags ...string) Registration {
	r := NewWindowsRegistration(channelURI, tags...)
	r.Template = &RegistrationTemplate{Body: bodyTemplate, Headers: map[string]string{"X-WNS-Type": templateWNSType(bodyTemplate)}}
	return r
}

// NewMpnsRegistration returns a native MPNS (Windows Phone) registration.
func NewMpnsRegistration(channelURI string, tags ...string) Registration {
	return Registration{Platform: RegistrationPlatformMpns, ChannelURI: channelURI, Tags: tags}
}

// NewMpnsTemplateRegistration returns an MPNS template registration. The
// X-WindowsPhone-Target and X-NotificationClass headers are derived from
// the body (wp:Toast, wp:Tile, else raw), as the .NET SDK does.
func NewMpnsTemplateRegistration(channelURI, bodyTemplate string, tags ...string) Registration {
	r := NewMpnsRegistration(channelURI, tags...)
	r.Template = &RegistrationTemplate{Body: bodyTemplate, Headers: templateMPNSHeaders(bodyTemplate)}
	return r
}

// NewAdmRegistration returns a native Amazon Device Messaging registration.
func NewAdmRegistration(admRegistrationID string, tags ...string) Registration {
	return Registration{Platform: RegistrationPlatformAdm, AdmRegistrationID: admRegistrationID, Tags: tags}
}

// NewAdmTemplateRegistration returns an ADM template registration.
func NewAdmTemplateRegistration(admRegistrationID, bodyTemplate string, tags ...string) Registration {
	r := NewAdmRegistration(admRegistrationID, tags...)
	r.Template = &RegistrationTemplate{Body: bodyTemplate}
	return r
}

// NewBaiduRegistration returns a native Baidu registration.
func NewBaiduRegistration(userID, channelID string, tags ...string) Registration {
	return Registration{Platform: RegistrationPlatformBaidu, BaiduUserID: userID, BaiduChannelID: channelID, Tags: tags}
}

// NewBaiduTemplateRegistration returns a Baidu template registration.
func NewBaiduTemplateRegistration(userID, channelID, bodyTemplate string, tags ...string) Registration {
	r := NewBaiduRegistration(userID, channelID, tags...)
	r.Template = &RegistrationTemplate{Body: bodyTemplate}
	return r
}

// NewXiaomiRegistration returns a native Xiaomi registration.
func NewXiaomiRegistration(xiaomiRegistrationID string, tags ...string) Registration {
	return Registration{Platform: RegistrationPlatformXiaomi, XiaomiRegistrationID: xiaomiRegistrationID, Tags: tags}
}

// NewXiaomiTemplateRegistration returns a Xiaomi template registration.
func NewXiaomiTemplateRegistration(xiaomiRegistrationID, bodyTemplate string, tags ...string) Registration {
	r := NewXiaomiRegistration(xiaomiRegistrationID, tags...)
	r.Template = &RegistrationTemplate{Body: bodyTemplate}
	return r
}

// NewBrowserRegistration returns a native Web Push registration from a
// browser's push subscription (endpoint and the p256dh and auth keys).
func NewBrowserRegistration(endpoint, p256dh, auth string, tags ...string) Registration {
	return Registration{Platform: RegistrationPlatformBrowser, Endpoint: endpoint, P256DH: p256dh, Auth: auth, Tags: tags}
}

// NewBrowserTemplateRegistration returns a Web Push template registration.
func NewBrowserTemplateRegistration(endpoint, p256dh, auth, bodyTemplate string, tags ...string) Registration {
	r := NewBrowserRegistration(endpoint, p256dh, auth, tags...)
	r.Template = &RegistrationTemplate{Body: bodyTemplate}
	return r
}

var templateXMLRootRE = regexp.MustCompile(`<\s*(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)`)

// xmlRoot returns the local name of the first element in body, skipping a
// declaration and comments, or "" when body does not look like XML.
func templateXMLRoot(body string) (local string, rest string) {
	s := strings.TrimSpace(body)
	for strings.HasPrefix(s, "<?") || strings.HasPrefix(s, "<!--") {
		end := "?>"
		if strings.HasPrefix(s, "<!--") {
			end = "-->"
		}
		i := strings.Index(s, end)
		if i < 0 {
			return "", ""
		}
		s = strings.TrimSpace(s[i+len(end):])
	}
	m := templateXMLRootRE.FindStringSubmatchIndex(s)
	if m == nil || m[0] != 0 {
		return "", ""
	}
	return s[m[2]:m[3]], s[m[1]:]
}

func templateWNSType(body string) string {
	switch root, _ := templateXMLRoot(body); root {
	case "toast", "tile", "badge":
		return "wns/" + root
	}
	return "wns/raw"
}

func templateMPNSHeaders(body string) map[string]string {
	root, rest := templateXMLRoot(body)
	if root == "Notification" {
		child, _ := templateXMLRoot(rest[strings.Index(rest, ">")+1:])
		switch child {
		case "Toast":
			return map[string]string{"X-WindowsPhone-Target": "toast", "X-NotificationClass": "2"}
		case "Tile":
			return map[string]string{"X-WindowsPhone-Target": "token", "X-NotificationClass": "1"}
		}
	}
	return map[string]string{"X-NotificationClass": "3"}
}

// Validate checks r as CreateRegistration, CreateOrUpdateRegistration
// and UpdateRegistration do before any request: a known platform, its
// handle fields (an APNs device token is hexadecimal with an even number
// of digits, a channel URI is absolute), tags, and the template (name
// length, headers, body syntax). Call it to check a registration before
// reserving an id for it with CreateRegistrationID.
func (r Registration) Validate() error {
	where := "registration"
	if r.RegistrationID != "" {
		where = fmt.Sprintf("registration %q", r.RegistrationID)
	}
	need := func(field, v string) error {
		if strings.TrimSpace(v) == "" {
			return invalidResource(where, "%s platform needs %s", r.Platform, field)
		}
		return nil
	}
	var err error
	switch r.Platform {
	case RegistrationPlatformApple:
		if err = need("DeviceToken", r.DeviceToken); err == nil {
			if _, herr := hex.DecodeString(r.DeviceToken); herr != nil {
				err = invalidResource(where, "DeviceToken must be hexadecimal with an even length")
			}
		}
	case RegistrationPlatformFcmV1:
		err = need("FcmV1RegistrationID", r.FcmV1RegistrationID)
	case RegistrationPlatformGcm:
		err = need("GcmRegistrationID", r.GcmRegistrationID)
	case RegistrationPlatformWindows, RegistrationPlatformMpns:
		if err = need("ChannelURI", r.ChannelURI); err == nil {
			if u, perr := url.Parse(r.ChannelURI); perr != nil || !u.IsAbs() {
				err = invalidResource(where, "ChannelURI must be an absolute URI")
			}
		}
	case RegistrationPlatformAdm:
		err = need("AdmRegistrationID", r.AdmRegistrationID)
	case RegistrationPlatformBaidu:
		if err = need("BaiduUserID", r.BaiduUserID); err == nil {
			err = need("BaiduChannelID", r.BaiduChannelID)
		}
	case RegistrationPlatformXiaomi:
		err = need("XiaomiRegistrationID", r.XiaomiRegistrationID)
	case RegistrationPlatformBrowser:
		if err = need("Endpoint", r.Endpoint); err == nil {
			if err = need("P256DH", r.P256DH); err == nil {
				err = need("Auth", r.Auth)
			}
		}
	default:
		err = invalidResource(where, "unknown platform %q", r.Platform)
	}
	if err != nil {
		return err
	}
	for _, tag := range r.Tags {
		if terr := tagexpr.ValidateTag(tag); terr != nil {
			return invalidResource(where, "%w", terr)
		}
	}
	if t := r.Template; t != nil {
		if strings.TrimSpace(t.Body) == "" {
			return invalidResource(where, "template body is empty")
		}
		if len(t.Name) > 200 {
			return invalidResource(where, "template name is longer than 200 characters")
		}
		kind := template.JSON
		switch r.Platform {
		case RegistrationPlatformWindows:
			kind = template.XML
			typ := ""
			for k, v := range t.Headers {
				if strings.EqualFold(k, "X-WNS-Type") {
					typ = v
				}
			}
			if typ == "" {
				return invalidResource(where, "a Windows template needs the X-WNS-Type header")
			}
			if strings.EqualFold(typ, "wns/raw") {
				kind = template.Raw
			}
		case RegistrationPlatformMpns:
			kind = template.XML
		case RegistrationPlatformApple:
			for k := range t.Headers {
				if !strings.HasPrefix(strings.ToLower(k), "apns-") {
					return invalidResource(where, "APNs template header %q must start with apns-", k)
				}
			}
		}
		if kind != template.Raw {
			if verr := template.Validate(t.Body, kind); verr != nil {
				return invalidResource(where, "template body: %w", verr)
			}
		}
	}
	return nil
}
