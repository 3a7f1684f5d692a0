package notificationhubs

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"

	"github.com/nhkit/notificationhubs/internal/atom"
	"github.com/nhkit/notificationhubs/internal/tagexpr"
	"github.com/nhkit/notificationhubs/internal/template"
)

// RegistrationPlatform is the push notification service a registration
// targets. Its values are the prefixes of the service's registration
// description element names (rest-api.md §4.3).
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

// --- constructors, in the spirit of .NET's Create{Platform}{Native,Template}RegistrationAsync

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

// --- conversions to and from the wire model

// toAtom converts r to the wire model. ExpirationTime is never sent.
func (r Registration) toAtom() atom.Registration {
	a := atom.Registration{
		Platform:             atom.Platform(r.Platform),
		Template:             r.Template != nil,
		ETag:                 string(r.ETag),
		RegistrationID:       r.RegistrationID,
		Tags:                 append([]string(nil), r.Tags...),
		PushVariables:        r.PushVariables,
		DeviceToken:          r.DeviceToken,
		GcmRegistrationID:    r.GcmRegistrationID,
		FcmV1RegistrationID:  r.FcmV1RegistrationID,
		ChannelURI:           r.ChannelURI,
		SecondaryTileName:    r.SecondaryTileName,
		AdmRegistrationID:    r.AdmRegistrationID,
		BaiduUserID:          r.BaiduUserID,
		BaiduChannelID:       r.BaiduChannelID,
		Endpoint:             r.Endpoint,
		P256DH:               r.P256DH,
		Auth:                 r.Auth,
		XiaomiRegistrationID: r.XiaomiRegistrationID,
	}
	if !r.ExpirationTime.IsZero() {
		a.ExpirationTime = r.ExpirationTime.UTC().Format(time.RFC3339Nano)
	}
	if t := r.Template; t != nil {
		a.BodyTemplate = t.Body
		a.TemplateName = t.Name
		a.Expiry = t.Expiry
		a.Priority = t.Priority
		a.MessageType = t.MessageType
		var hs []atom.Header
		for _, k := range sortedHeaderNames(t.Headers) {
			hs = append(hs, atom.Header{Name: k, Value: t.Headers[k]})
		}
		switch r.Platform {
		case RegistrationPlatformApple:
			a.ApnsHeaders = hs
		case RegistrationPlatformWindows:
			a.WnsHeaders = hs
		case RegistrationPlatformMpns:
			a.MpnsHeaders = hs
		}
	}
	return a
}

// registrationFromAtom converts the wire model to a Registration.
func registrationFromAtom(a atom.Registration) (Registration, error) {
	r := Registration{
		RegistrationID:       a.RegistrationID,
		Platform:             RegistrationPlatform(a.Platform),
		DeviceToken:          a.DeviceToken,
		FcmV1RegistrationID:  a.FcmV1RegistrationID,
		GcmRegistrationID:    a.GcmRegistrationID,
		ChannelURI:           a.ChannelURI,
		SecondaryTileName:    a.SecondaryTileName,
		AdmRegistrationID:    a.AdmRegistrationID,
		BaiduUserID:          a.BaiduUserID,
		BaiduChannelID:       a.BaiduChannelID,
		XiaomiRegistrationID: a.XiaomiRegistrationID,
		Endpoint:             a.Endpoint,
		P256DH:               a.P256DH,
		Auth:                 a.Auth,
		ETag:                 azcore.ETag(a.ETag),
	}
	if len(a.Tags) > 0 {
		r.Tags = append([]string(nil), a.Tags...)
	}
	if len(a.PushVariables) > 0 {
		r.PushVariables = a.PushVariables
	}
	if a.ExpirationTime != "" {
		t, err := parseWireTime(a.ExpirationTime)
		if err != nil {
			return Registration{}, fmt.Errorf("notificationhubs: registration %q: ExpirationTime: %w", a.RegistrationID, err)
		}
		r.ExpirationTime = t
	}
	if a.Template {
		t := &RegistrationTemplate{
			Body:        a.BodyTemplate,
			Name:        a.TemplateName,
			Expiry:      a.Expiry,
			Priority:    a.Priority,
			MessageType: a.MessageType,
		}
		for _, hs := range [][]atom.Header{a.ApnsHeaders, a.WnsHeaders, a.MpnsHeaders} {
			for _, h := range hs {
				if t.Headers == nil {
					t.Headers = map[string]string{}
				}
				t.Headers[h.Name] = h.Value
			}
		}
		r.Template = t
	}
	return r, nil
}

// parseServiceTime parses an xs:dateTime as the service writes it, with or
// without a zone (no zone means UTC).
func parseWireTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad date-time %q", s)
	}
	return t, nil
}

func sortedHeaderNames(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
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

// --- response helpers

// respIDs returns the TrackingId and x-ms-correlation-request-id headers.
func responseIDs(resp *http.Response) (trackingID, correlationID string) {
	return resp.Header.Get("TrackingId"), resp.Header.Get("x-ms-correlation-request-id")
}

// weakETag strips W/ and quotes from an ETag header: W/"3" -> 3.
func weakETag(v string) azcore.ETag {
	v = strings.TrimSpace(v)
	v = strings.TrimPrefix(v, "W/")
	return azcore.ETag(strings.Trim(v, `"`))
}

// ifMatch renders an ETag for If-Match: "n", or * unchanged.
func ifMatch(etag azcore.ETag) string {
	e := strings.TrimSpace(string(etag))
	if e == "*" {
		return "*"
	}
	e = strings.Trim(strings.TrimPrefix(e, "W/"), `"`)
	return `"` + e + `"`
}

// readBody reads and closes resp.Body.
func readAllClose(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("notificationhubs: reading the response of %s %s: %w", resp.Request.Method, resp.Request.URL.Path, err)
	}
	return b, nil
}

// setAtomBody sets an Atom entry wrapping content as the body of req.
func setAtomBody(req *policy.Request, content []byte) error {
	body := atom.MarshalRequestEntry(content)
	return req.SetBody(streaming.NopCloser(bytes.NewReader(body)), "application/atom+xml;type=entry;charset=utf-8")
}

// entryRegistration decodes a registration entry response.
func entryRegistration(resp *http.Response) (Registration, error) {
	body, err := readAllClose(resp)
	if err != nil {
		return Registration{}, err
	}
	e, err := atom.ParseEntry(body)
	if err != nil {
		return Registration{}, fmt.Errorf("notificationhubs: decoding the registration entry of %s %s: %w", resp.Request.Method, resp.Request.URL.Path, err)
	}
	a, err := atom.UnmarshalRegistration(e.Content)
	if err != nil {
		return Registration{}, fmt.Errorf("notificationhubs: decoding the registration of %s %s: %w", resp.Request.Method, resp.Request.URL.Path, err)
	}
	r, err := registrationFromAtom(a)
	if err != nil {
		return Registration{}, err
	}
	if r.ETag == "" {
		if h := resp.Header.Get("ETag"); h != "" {
			r.ETag = weakETag(h)
		} else if e.ETag != "" {
			r.ETag = weakETag(e.ETag)
		}
	}
	if r.RegistrationID == "" {
		r.RegistrationID = e.Title
	}
	return r, nil
}

func registrationPath(id string) string { return "registrations/" + url.PathEscape(id) }

// --- operations

// CreateRegistrationOptions contains the optional parameters of CreateRegistration.
type CreateRegistrationOptions struct {
	// for future expansion
}

// CreateRegistrationResponse is the response of CreateRegistration.
type CreateRegistrationResponse struct {
	// Registration is the registration as the service stored it, with its
	// new RegistrationID, ETag and ExpirationTime.
	Registration
	// ContentLocation is the URL of the new registration.
	ContentLocation string
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// CreateRegistration creates a registration with an id the service chooses
// (POST registrations). reg.RegistrationID must be empty. Create is not
// idempotent: a retry after an ambiguous failure may create a duplicate,
// so the SDK does not retry it then; prefer CreateRegistrationID followed
// by CreateOrUpdateRegistration.
func (c *Client) CreateRegistration(ctx context.Context, reg Registration, options *CreateRegistrationOptions) (CreateRegistrationResponse, error) {
	if reg.RegistrationID != "" {
		return CreateRegistrationResponse{}, fmt.Errorf("notificationhubs: CreateRegistration: RegistrationID must be empty (use CreateOrUpdateRegistration to choose the id)")
	}
	if err := reg.Validate(); err != nil {
		return CreateRegistrationResponse{}, err
	}
	req, err := c.newRequest(ctx, http.MethodPost, "registrations", nil)
	if err != nil {
		return CreateRegistrationResponse{}, err
	}
	if err := setRegistrationBody(req, reg); err != nil {
		return CreateRegistrationResponse{}, err
	}
	resp, err := c.do(req, false, http.StatusOK, http.StatusCreated)
	if err != nil {
		return CreateRegistrationResponse{}, err
	}
	out := CreateRegistrationResponse{ContentLocation: resp.Header.Get("Content-Location")}
	out.TrackingID, out.CorrelationID = responseIDs(resp)
	out.Registration, err = entryRegistration(resp)
	return out, err
}

func setRegistrationBody(req *policy.Request, reg Registration) error {
	a := reg.toAtom()
	a.ETag = ""
	a.ExpirationTime = ""
	content, err := atom.MarshalRegistration(a)
	if err != nil {
		return fmt.Errorf("notificationhubs: encoding the registration: %w", err)
	}
	return setAtomBody(req, content)
}

// CreateRegistrationIDOptions contains the optional parameters of CreateRegistrationID.
type CreateRegistrationIDOptions struct {
	// for future expansion
}

// CreateRegistrationIDResponse is the response of CreateRegistrationID.
type CreateRegistrationIDResponse struct {
	// RegistrationID is the new, reserved registration id.
	RegistrationID string
	// Location is the URL the service returned, ending in the id.
	Location string
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// CreateRegistrationID asks the service for a new registration id (POST
// registrationids → 201 with Location). Nothing is registered until
// CreateOrUpdateRegistration stores a registration under the id; this
// two-step pattern is safe to retry, unlike CreateRegistration.
func (c *Client) CreateRegistrationID(ctx context.Context, options *CreateRegistrationIDOptions) (CreateRegistrationIDResponse, error) {
	req, err := c.newRequest(ctx, http.MethodPost, "registrationids", nil)
	if err != nil {
		return CreateRegistrationIDResponse{}, err
	}
	resp, err := c.do(req, true, http.StatusCreated)
	if err != nil {
		return CreateRegistrationIDResponse{}, err
	}
	_, _ = readAllClose(resp)
	out := CreateRegistrationIDResponse{Location: resp.Header.Get("Location")}
	out.TrackingID, out.CorrelationID = responseIDs(resp)
	out.RegistrationID, err = registrationIDFromLocation(out.Location)
	return out, err
}

// registrationIDFromLocation extracts the id from
// https://{ns}/{hub}/registrationids/{id}?api-version=…
func registrationIDFromLocation(loc string) (string, error) {
	u, err := url.Parse(loc)
	if err != nil || loc == "" {
		return "", fmt.Errorf("notificationhubs: CreateRegistrationID: the service returned no usable Location header")
	}
	segs := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	for i := len(segs) - 2; i >= 0; i-- {
		if strings.EqualFold(segs[i], "registrationids") {
			id, err := url.PathUnescape(segs[i+1])
			if err == nil && id != "" {
				return id, nil
			}
		}
	}
	return "", fmt.Errorf("notificationhubs: CreateRegistrationID: Location %q has no registrationids/{id} segment", u.Path)
}

// CreateOrUpdateRegistrationOptions contains the optional parameters of
// CreateOrUpdateRegistration.
type CreateOrUpdateRegistrationOptions struct {
	// for future expansion
}

// CreateOrUpdateRegistrationResponse is the response of CreateOrUpdateRegistration.
type CreateOrUpdateRegistrationResponse struct {
	// Registration is the registration as the service stored it.
	Registration
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// CreateOrUpdateRegistration stores reg under reg.RegistrationID, creating
// or replacing it whatever its current version (PUT without If-Match). The
// id may come from CreateRegistrationID or be chosen by the caller. A 410
// Gone from the service means the id cannot be used: mint a new one.
func (c *Client) CreateOrUpdateRegistration(ctx context.Context, reg Registration, options *CreateOrUpdateRegistrationOptions) (CreateOrUpdateRegistrationResponse, error) {
	r, tid, cid, err := c.putRegistration(ctx, "CreateOrUpdateRegistration", reg, "")
	return CreateOrUpdateRegistrationResponse{Registration: r, TrackingID: tid, CorrelationID: cid}, err
}

// UpdateRegistrationOptions contains the optional parameters of UpdateRegistration.
type UpdateRegistrationOptions struct {
	// for future expansion
}

// UpdateRegistrationResponse is the response of UpdateRegistration.
type UpdateRegistrationResponse struct {
	// Registration is the registration as the service stored it, with its new ETag.
	Registration
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// UpdateRegistration replaces the registration reg.RegistrationID only if
// its stored version is still reg.ETag (PUT with If-Match). If another
// writer got there first the error matches ErrPreconditionFailed; a missing
// registration is a *ResponseError with StatusCode 404.
func (c *Client) UpdateRegistration(ctx context.Context, reg Registration, options *UpdateRegistrationOptions) (UpdateRegistrationResponse, error) {
	if reg.ETag == "" {
		return UpdateRegistrationResponse{}, fmt.Errorf("notificationhubs: UpdateRegistration: registration %q has no ETag (read it first, or use CreateOrUpdateRegistration)", reg.RegistrationID)
	}
	r, tid, cid, err := c.putRegistration(ctx, "UpdateRegistration", reg, ifMatch(reg.ETag))
	return UpdateRegistrationResponse{Registration: r, TrackingID: tid, CorrelationID: cid}, err
}

func (c *Client) putRegistration(ctx context.Context, op string, reg Registration, match string) (Registration, string, string, error) {
	if reg.RegistrationID == "" {
		return Registration{}, "", "", fmt.Errorf("notificationhubs: %s: RegistrationID is empty", op)
	}
	if err := reg.Validate(); err != nil {
		return Registration{}, "", "", err
	}
	req, err := c.newRequest(ctx, http.MethodPut, registrationPath(reg.RegistrationID), nil)
	if err != nil {
		return Registration{}, "", "", err
	}
	if match != "" {
		req.Raw().Header.Set("If-Match", match)
	}
	if err := setRegistrationBody(req, reg); err != nil {
		return Registration{}, "", "", err
	}
	resp, err := c.do(req, true, http.StatusOK, http.StatusCreated)
	if err != nil {
		return Registration{}, "", "", err
	}
	tid, cid := responseIDs(resp)
	r, err := entryRegistration(resp)
	return r, tid, cid, err
}

// GetRegistrationOptions contains the optional parameters of GetRegistration.
type GetRegistrationOptions struct {
	// for future expansion
}

// GetRegistrationResponse is the response of GetRegistration.
type GetRegistrationResponse struct {
	// Registration is the stored registration.
	Registration
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// GetRegistration reads one registration. A missing registration is a
// *ResponseError with StatusCode 404 (see also RegistrationExists).
func (c *Client) GetRegistration(ctx context.Context, registrationID string, options *GetRegistrationOptions) (GetRegistrationResponse, error) {
	if registrationID == "" {
		return GetRegistrationResponse{}, fmt.Errorf("notificationhubs: GetRegistration: registrationID is empty")
	}
	req, err := c.newRequest(ctx, http.MethodGet, registrationPath(registrationID), nil)
	if err != nil {
		return GetRegistrationResponse{}, err
	}
	resp, err := c.do(req, true, http.StatusOK)
	if err != nil {
		return GetRegistrationResponse{}, err
	}
	var out GetRegistrationResponse
	out.TrackingID, out.CorrelationID = responseIDs(resp)
	out.Registration, err = entryRegistration(resp)
	return out, err
}

// RegistrationExistsOptions contains the optional parameters of RegistrationExists.
type RegistrationExistsOptions struct {
	// for future expansion
}

// RegistrationExistsResponse is the response of RegistrationExists.
type RegistrationExistsResponse struct {
	// Exists is false when the service answered 404.
	Exists bool
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// RegistrationExists reports whether a registration exists (GET; 404 means false).
func (c *Client) RegistrationExists(ctx context.Context, registrationID string, options *RegistrationExistsOptions) (RegistrationExistsResponse, error) {
	got, err := c.GetRegistration(ctx, registrationID, nil)
	if errors.Is(err, ErrNotFound) {
		var re *ResponseError
		errors.As(err, &re)
		return RegistrationExistsResponse{Exists: false, TrackingID: re.TrackingID, CorrelationID: re.CorrelationID}, nil
	}
	if err != nil {
		return RegistrationExistsResponse{}, err
	}
	return RegistrationExistsResponse{Exists: true, TrackingID: got.TrackingID, CorrelationID: got.CorrelationID}, nil
}

// DeleteRegistrationOptions contains the optional parameters of DeleteRegistration.
type DeleteRegistrationOptions struct {
	// ETag, when set, deletes only if the stored version still matches
	// (If-Match "n"); otherwise the registration is deleted whatever its
	// version (If-Match *). A mismatch matches ErrPreconditionFailed.
	ETag *azcore.ETag
}

// DeleteRegistrationResponse is the response of DeleteRegistration.
type DeleteRegistrationResponse struct {
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// DeleteRegistration deletes a registration. A missing registration is a
// *ResponseError with StatusCode 404.
func (c *Client) DeleteRegistration(ctx context.Context, registrationID string, options *DeleteRegistrationOptions) (DeleteRegistrationResponse, error) {
	if registrationID == "" {
		return DeleteRegistrationResponse{}, fmt.Errorf("notificationhubs: DeleteRegistration: registrationID is empty")
	}
	req, err := c.newRequest(ctx, http.MethodDelete, registrationPath(registrationID), nil)
	if err != nil {
		return DeleteRegistrationResponse{}, err
	}
	match := "*"
	if options != nil && options.ETag != nil && *options.ETag != "" {
		match = ifMatch(*options.ETag)
	}
	req.Raw().Header.Set("If-Match", match)
	resp, err := c.do(req, true, http.StatusOK, http.StatusNoContent)
	if err != nil {
		return DeleteRegistrationResponse{}, err
	}
	_, _ = readAllClose(resp)
	var out DeleteRegistrationResponse
	out.TrackingID, out.CorrelationID = responseIDs(resp)
	return out, nil
}

// DeleteRegistrationsByChannelOptions contains the optional parameters of
// DeleteRegistrationsByChannel.
type DeleteRegistrationsByChannelOptions struct {
	// for future expansion
}

// DeleteRegistrationsByChannelResponse is the response of DeleteRegistrationsByChannel.
type DeleteRegistrationsByChannelResponse struct {
	// Deleted lists the ids of the deleted registrations.
	Deleted []string
}

// DeleteRegistrationsByChannel deletes every registration of a PNS handle
// (device token, channel URI, registration token…). Unlike the .NET SDK's
// loop it reads every page of the listing first, then deletes; a
// registration that disappears meanwhile (404) is not an error.
func (c *Client) DeleteRegistrationsByChannel(ctx context.Context, pnsHandle string, options *DeleteRegistrationsByChannelOptions) (DeleteRegistrationsByChannelResponse, error) {
	var ids []string
	pager := c.NewListRegistrationsByChannelPager(pnsHandle, &ListRegistrationsByChannelOptions{Top: 100})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return DeleteRegistrationsByChannelResponse{}, err
		}
		for _, r := range page.Registrations {
			ids = append(ids, r.RegistrationID)
		}
	}
	var out DeleteRegistrationsByChannelResponse
	for _, id := range ids {
		if _, err := c.DeleteRegistration(ctx, id, nil); err != nil && !errors.Is(err, ErrNotFound) {
			return out, err
		}
		out.Deleted = append(out.Deleted, id)
	}
	return out, nil
}

// --- listing

// ListRegistrationsOptions contains the optional parameters of NewListRegistrationsPager.
type ListRegistrationsOptions struct {
	// Top is the page size (the service allows at most 100); 0 leaves it to the service.
	Top int
	// ContinuationToken resumes a listing from a page's ContinuationToken.
	ContinuationToken *string
}

// ListRegistrationsByTagOptions contains the optional parameters of
// NewListRegistrationsByTagPager.
type ListRegistrationsByTagOptions struct {
	// Top is the page size (the service allows at most 100); 0 leaves it to the service.
	Top int
	// ContinuationToken resumes a listing from a page's ContinuationToken.
	ContinuationToken *string
}

// ListRegistrationsByChannelOptions contains the optional parameters of
// NewListRegistrationsByChannelPager.
type ListRegistrationsByChannelOptions struct {
	// Top is the page size (the service allows at most 100); 0 leaves it to the service.
	Top int
	// ContinuationToken resumes a listing from a page's ContinuationToken.
	ContinuationToken *string
}

// ListRegistrationsResponse is one page of a registration listing.
type ListRegistrationsResponse struct {
	// Registrations are the page's registrations.
	Registrations []Registration
	// ContinuationToken, when not nil, resumes the listing after this page
	// (pass it in the options of a new pager); nil on the last page.
	ContinuationToken *string
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// NewListRegistrationsPager lists every registration in the hub, page by
// page (GET registrations). Installations appear here too, as the
// registrations the service derives from them (tagged $InstallationId:{…}).
func (c *Client) NewListRegistrationsPager(options *ListRegistrationsOptions) *runtime.Pager[ListRegistrationsResponse] {
	var o ListRegistrationsOptions
	if options != nil {
		o = *options
	}
	return c.registrationPager("registrations", "", o.Top, o.ContinuationToken, nil)
}

// NewListRegistrationsByTagPager lists the registrations that carry tag
// (GET tags/{tag}/registrations). The tag is percent-encoded as a path
// segment, so tags with # or : work. An unused tag gives no registrations.
func (c *Client) NewListRegistrationsByTagPager(tag string, options *ListRegistrationsByTagOptions) *runtime.Pager[ListRegistrationsResponse] {
	var o ListRegistrationsByTagOptions
	if options != nil {
		o = *options
	}
	var early error
	if tag == "" {
		early = fmt.Errorf("notificationhubs: NewListRegistrationsByTagPager: tag is empty")
	} else if err := tagexpr.ValidateTag(tag); err != nil {
		early = fmt.Errorf("notificationhubs: NewListRegistrationsByTagPager: %w", err)
	}
	return c.registrationPager("tags/"+url.PathEscape(tag)+"/registrations", "", o.Top, o.ContinuationToken, early)
}

// NewListRegistrationsByChannelPager lists the registrations of one PNS
// handle ($filter=ChannelUri eq '…', which the service matches against the
// handle of every platform, exactly as stored).
//
// The service stores APNs device tokens in upper-case hex and matches the
// filter as written, so a handle that is an APNs device token (16 or more
// hex digits, an even number of them) is upper-cased: iOS code usually
// formats tokens in lower case. Other handles are sent as given.
func (c *Client) NewListRegistrationsByChannelPager(pnsHandle string, options *ListRegistrationsByChannelOptions) *runtime.Pager[ListRegistrationsResponse] {
	var o ListRegistrationsByChannelOptions
	if options != nil {
		o = *options
	}
	var early error
	if pnsHandle == "" {
		early = fmt.Errorf("notificationhubs: NewListRegistrationsByChannelPager: pnsHandle is empty")
	}
	if isAPNsToken(pnsHandle) {
		pnsHandle = strings.ToUpper(pnsHandle)
	}
	filter := "ChannelUri eq '" + strings.ReplaceAll(pnsHandle, "'", "''") + "'"
	return c.registrationPager("registrations", filter, o.Top, o.ContinuationToken, early)
}

// isAPNsToken reports whether a PNS handle is an APNs device token: an
// even number, at least 16, of hex digits. (Apple's tokens are 32 bytes
// today; handles of the other platforms are never all hex: FCM, ADM and
// Xiaomi ids carry other letters and punctuation, channel URIs and
// browser endpoints are URLs, and Baidu ids, being digits, are the same
// upper-cased.)
func isAPNsToken(h string) bool {
	if len(h) < 16 || len(h)%2 != 0 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func (c *Client) registrationPager(p, filter string, top int, start *string, early error) *runtime.Pager[ListRegistrationsResponse] {
	return runtime.NewPager(runtime.PagingHandler[ListRegistrationsResponse]{
		More: func(page ListRegistrationsResponse) bool {
			return page.ContinuationToken != nil && *page.ContinuationToken != ""
		},
		Fetcher: func(ctx context.Context, prev *ListRegistrationsResponse) (ListRegistrationsResponse, error) {
			if early != nil {
				return ListRegistrationsResponse{}, early
			}
			token := start
			if prev != nil {
				token = prev.ContinuationToken
			}
			return c.listRegistrationsPage(ctx, p, filter, top, token)
		},
	})
}

func (c *Client) listRegistrationsPage(ctx context.Context, p, filter string, top int, token *string) (ListRegistrationsResponse, error) {
	if top < 0 || top > 100 {
		return ListRegistrationsResponse{}, fmt.Errorf("notificationhubs: listing registrations: Top must be between 1 and 100, not %d", top)
	}
	req, err := c.newRequest(ctx, http.MethodGet, p, nil)
	if err != nil {
		return ListRegistrationsResponse{}, err
	}
	// The query is written by hand, in the order and form the .NET SDK uses
	// ($filter, $top, continuationtoken), because the continuation token
	// arrives already URL-encoded and must not be encoded again.
	u := req.Raw().URL
	q := u.RawQuery
	add := func(kv string) {
		if q != "" {
			q += "&"
		}
		q += kv
	}
	if filter != "" {
		add("$filter=" + url.QueryEscape(filter))
	}
	if top > 0 {
		add("$top=" + strconv.Itoa(top))
	}
	if token != nil && *token != "" {
		add("continuationtoken=" + escapeContinuationToken(*token))
	}
	u.RawQuery = q
	resp, err := c.do(req, true, http.StatusOK)
	if err != nil {
		return ListRegistrationsResponse{}, err
	}
	var out ListRegistrationsResponse
	out.TrackingID, out.CorrelationID = responseIDs(resp)
	if t := resp.Header.Get("x-ms-continuationtoken"); t != "" {
		out.ContinuationToken = &t
	}
	body, err := readAllClose(resp)
	if err != nil {
		return ListRegistrationsResponse{}, err
	}
	feed, err := atom.ParseFeed(body)
	if err != nil {
		return ListRegistrationsResponse{}, fmt.Errorf("notificationhubs: decoding the registration feed of GET %s: %w", u.Path, err)
	}
	for i, e := range feed.Entries {
		a, err := atom.UnmarshalRegistration(e.Content)
		if err != nil {
			return ListRegistrationsResponse{}, fmt.Errorf("notificationhubs: decoding entry %d of the registration feed of GET %s: %w", i, u.Path, err)
		}
		r, err := registrationFromAtom(a)
		if err != nil {
			return ListRegistrationsResponse{}, err
		}
		if r.ETag == "" && e.ETag != "" {
			r.ETag = weakETag(e.ETag)
		}
		if r.RegistrationID == "" {
			r.RegistrationID = e.Title
		}
		out.Registrations = append(out.Registrations, r)
	}
	return out, nil
}

// escapeContinuationToken prepares a continuation token for the query.
// The service sends tokens already URL-encoded (e.g. MzEobik7Mg%3D%3D) and
// expects them back as they came, as the .NET SDK sends them; so valid
// %XX escapes and characters that are safe in a query value are kept, and
// only what would change the query's meaning is escaped (&, +, #, space,
// a % that starts no escape, non-ASCII, …).
func escapeContinuationToken(tok string) string {
	const hexDigits = "0123456789ABCDEF"
	isHex := func(b byte) bool {
		return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
	}
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		ch := tok[i]
		switch {
		case 'A' <= ch && ch <= 'Z', 'a' <= ch && ch <= 'z', '0' <= ch && ch <= '9',
			strings.IndexByte("-._~!$'()*,;:@/?=", ch) >= 0:
			b.WriteByte(ch)
		case ch == '%' && i+2 < len(tok) && isHex(tok[i+1]) && isHex(tok[i+2]):
			b.WriteByte(ch)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[ch>>4])
			b.WriteByte(hexDigits[ch&15])
		}
	}
	return b.String()
}
