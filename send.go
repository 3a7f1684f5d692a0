package notificationhubs

// One concern: sending. The send operations, their options and responses,
// and the request path they share, built for few allocations per send
// (docs/architecture.md, "The send path").

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/nhkit/notificationhubs/internal/atom"
	"github.com/nhkit/notificationhubs/internal/tagexpr"
)

// Request headers of sends (docs/protocol.md, "Sends").
const (
	headerFormat       = "ServiceBusNotification-Format"
	headerTags         = "ServiceBusNotification-Tags"
	headerDeviceHandle = "ServiceBusNotification-DeviceHandle"
	headerScheduleTime = "ServiceBusNotification-ScheduleTime"
)

// Limits of sends.
const (
	// MaxBatchHandles is the most device handles of one batch direct send.
	MaxBatchHandles = 1000
	// MaxScheduleAhead is how far ahead a notification may be scheduled.
	MaxScheduleAhead = 7 * 24 * time.Hour
)

// NotificationOutcomeState is the state of a send's outcome.
type NotificationOutcomeState string

// States of a NotificationOutcome.
const (
	// NotificationOutcomeStateEnqueued: the service accepted the notification (every send
	// that is not a test send).
	NotificationOutcomeStateEnqueued NotificationOutcomeState = "Enqueued"
	// NotificationOutcomeStateDetailedStateAvailable: a test send, with per-registration
	// results.
	NotificationOutcomeStateDetailedStateAvailable NotificationOutcomeState = "DetailedStateAvailable"
)

// NotificationOutcome is what the service says about a send. For a test
// send it holds the success and failure counts and each registration's
// result (at most 10); otherwise State is NotificationOutcomeStateEnqueued and the rest is
// zero.
type NotificationOutcome struct {
	State   NotificationOutcomeState
	Success int
	Failure int
	// Results is nil when the service reported none (no targets).
	Results []RegistrationResult
}

// RegistrationResult is one registration's result in a test send.
type RegistrationResult struct {
	// ApplicationPlatform is the platform, e.g. "apple", "fcmv1".
	ApplicationPlatform string
	// PnsHandle is the device handle.
	PnsHandle string
	// RegistrationID is the registration's id.
	RegistrationID string
	// Outcome is the service's free text, e.g. "The Notification was
	// successfully sent to the Push Notification System".
	Outcome string
}

// SendNotificationResponse is the result of a send.
type SendNotificationResponse struct {
	// NotificationID is the id of the notification (the last segment of
	// the Location header), for per-message telemetry. It is empty when
	// the service gives none (Free and Basic tiers).
	NotificationID string
	// TrackingID is the TrackingId response header.
	TrackingID string
	// CorrelationID is the x-ms-correlation-request-id response header.
	CorrelationID string
	// NotificationOutcome holds the test-send outcome.
	NotificationOutcome
}

// SendNotificationOptions are the options of tag and broadcast sends.
// Nil options, or no Tags and no TagExpression, mean broadcast: every
// registration of the notification's format.
type SendNotificationOptions struct {
	// Tags sends to registrations with any of these tags (joined with
	// "||"); at most 20.
	Tags []string
	// TagExpression sends to registrations matching a tag expression such
	// as "(sports || news) && !muted". It is checked before the request.
	// Tags and TagExpression are exclusive.
	//
	// The system tags reach one installation or every installation of a
	// user, and their braces are part of them: "$InstallationId:{dev-1}",
	// "$UserId:{alice}" (not "$UserId:alice").
	TagExpression string
	// EnableTestSend overrides ClientOptions.EnableTestSend for this send.
	EnableTestSend *bool
	// RetryUnsafe allows retrying after failures where the service may
	// have acted (transport errors after the request was sent, 408, 500,
	// 502, 503, 504), at the risk of duplicate notifications.
	RetryUnsafe bool
}

// SendDirectNotificationOptions are the options of direct sends.
type SendDirectNotificationOptions struct {
	// P256DH and Auth are the keys of a browser push subscription; they
	// are required for FormatBrowser, whose device handle is the
	// subscription's endpoint.
	P256DH, Auth string
	// RetryUnsafe is as in SendNotificationOptions.
	RetryUnsafe bool
}

// ScheduleNotificationOptions are the options of scheduled sends.
type ScheduleNotificationOptions struct {
	// Tags and TagExpression are as in SendNotificationOptions.
	Tags          []string
	TagExpression string
	// RetryUnsafe is as in SendNotificationOptions.
	RetryUnsafe bool
}

// ScheduleNotificationResponse is the result of ScheduleNotification.
type ScheduleNotificationResponse struct {
	// ScheduledNotificationID identifies the scheduled notification, for
	// CancelScheduledNotification.
	ScheduledNotificationID string
	TrackingID              string
	CorrelationID           string
}

// CancelScheduledNotificationOptions are the options of
// CancelScheduledNotification; there are none yet.
type CancelScheduledNotificationOptions struct{}

// CancelScheduledNotificationResponse is the result of
// CancelScheduledNotification.
type CancelScheduledNotificationResponse struct {
	TrackingID    string
	CorrelationID string
}

// audience returns the ServiceBusNotification-Tags header value (nil for
// broadcast), checked with the service's grammar and limits. A tag
// expression the client has accepted recently is not parsed again.
func (c *Client) audience(tags []string, expr string) ([]string, error) {
	if len(tags) > 0 && expr != "" {
		return nil, errors.New("send: Tags and TagExpression are both set; use one")
	}
	if expr != "" {
		if h := c.exprs.header(expr); h != nil {
			return h, nil
		}
		if _, err := tagexpr.Parse(expr); err != nil {
			return nil, fmt.Errorf("send: TagExpression: %w", err)
		}
		return c.exprs.add(expr), nil
	}
	if len(tags) == 0 {
		return nil, nil
	}
	if len(tags) > tagexpr.MaxTagsOrOnly {
		return nil, fmt.Errorf("send: Tags has %d tags, more than the service's limit of %d", len(tags), tagexpr.MaxTagsOrOnly)
	}
	for i, t := range tags {
		if err := tagexpr.ValidateTag(t); err != nil {
			return nil, fmt.Errorf("send: Tags[%d]: %w", i, err)
		}
	}
	if len(tags) == 1 {
		return []string{tags[0]}, nil
	}
	return []string{strings.Join(tags, "||")}, nil
}

// SendNotification sends n to the registrations of its format: all of
// them (broadcast, nil options), those with one of options.Tags, or those
// matching options.TagExpression. With test send on (ClientOptions or
// options.EnableTestSend) the response carries the outcome.
func (c *Client) SendNotification(ctx context.Context, n Notification, options *SendNotificationOptions) (resp SendNotificationResponse, err error) {
	ctx, endSpan := runtime.StartSpan(ctx, "Client.SendNotification", c.tracer, nil)
	defer func() { endSpan(err) }()
	var o SendNotificationOptions
	if options != nil {
		o = *options
	}
	if err := n.Validate(); err != nil {
		return SendNotificationResponse{}, err
	}
	tags, err := c.audience(o.Tags, o.TagExpression)
	if err != nil {
		return SendNotificationResponse{}, err
	}
	test := c.enableTestSend
	if o.EnableTestSend != nil {
		test = *o.EnableTestSend
	}
	var query url.Values
	if test {
		query = testQuery
	}
	req, err := c.newSendRequest(ctx, "messages", query, n, n.Body, n.ContentType, tags, nil)
	if err != nil {
		return SendNotificationResponse{}, err
	}
	return c.doSend(req, o.RetryUnsafe, test)
}

// formatHeaders are the ServiceBusNotification-Format values, shared
// read-only by every request.
var formatHeaders = func() map[Format][]string {
	m := map[Format][]string{}
	for _, f := range []Format{FormatTemplate, FormatApple, FormatFcmV1, FormatGcm, FormatWindows,
		FormatMpns, FormatAdm, FormatBaidu, FormatXiaomi, FormatBrowser} {
		m[f] = []string{string(f)}
	}
	return m
}()

var (
	testQuery   = url.Values{"test": nil}
	directQuery = url.Values{"direct": nil}
)

// newSendRequest builds a POST to p with body and, set on each try by
// tryPolicy (see sendHeaders), the format, content type, tags (nil:
// none), platform headers and extra, the headers of the send kind (device
// handle, schedule time; nil: none). A send to messages copies the
// client's request built once; its headers, its first body reader and its
// URL are one allocation (sendState), and its header map is made by
// tryPolicy, on the retry policy's copy, at the size it needs.
func (c *Client) newSendRequest(ctx context.Context, p string, query url.Values, n Notification, body []byte, contentType string, tags []string, extra http.Header) (*policy.Request, error) {
	if ctx == nil {
		return nil, errors.New("notificationhubs: nil context")
	}
	ss := &sendState{st: sendHeaders{body: body, platform: n.Headers, tags: tags, extra: extra}}
	st := &ss.st
	if v, ok := formatHeaders[n.Format]; ok {
		st.format = v
	} else {
		st.format = []string{string(n.Format)}
	}
	if v, ok := contentTypeHeaders[contentType]; ok {
		st.contentType = v
	} else {
		st.contentType = []string{contentType}
	}
	// A context value rather than a Context of our own: the context
	// package finds values through its own types without allocating.
	ctx = context.WithValue(ctx, sendHeadersKey{}, st)
	var req *policy.Request
	if tmpl := c.sendRequest(p, query); tmpl != nil {
		raw := tmpl.WithContext(ctx)
		ss.url = *tmpl.URL
		raw.URL = &ss.url
		if c.perCall {
			raw.Header = http.Header{}
		}
		req, _ = runtime.NewRequestFromRequest(raw) // fails only for a body
	} else {
		var err error
		if req, err = c.newRequest(ctx, http.MethodPost, p, query); err != nil {
			return nil, err
		}
	}
	raw := req.Raw()
	raw.ContentLength = int64(len(body))
	raw.GetBody = st.getBody
	return req, nil
}

// sendState is what a send allocates once: its own headers and body, and
// the copy of its URL.
type sendState struct {
	st  sendHeaders
	url url.URL
}

// sendHeaders are a send's own headers and body. tryPolicy sets the
// headers on each try, after azcore's retry policy has copied the
// request (a copy of a header map costs an allocation per value and a
// map insert per key, on every try), and gives each try a fresh reader
// of the body (tryBody). net/http recognises an in-memory body and writes
// headers and body in one system call, where azcore's seekable wrapper
// would cost a second write (and a second read on the server); it writes
// the Content-Length header from the request's ContentLength.
type sendHeaders struct {
	format, contentType, tags []string          // shared read-only; tags nil: none
	platform                  map[string]string // Notification.Headers
	extra                     http.Header       // the send kind's; shared read-only
	body                      []byte
	// first is the first try's reader of body; later tries, and
	// net/http's own retries, get new ones from getBody.
	first     bytes.Reader
	firstUsed bool
}

// sendHeadersKey is the context key of a send's *sendHeaders.
type sendHeadersKey struct{}

// count returns the number of headers set adds.
func (s *sendHeaders) count() int {
	n := 2 + len(s.platform) + len(s.extra)
	if s.tags != nil {
		n++
	}
	return n
}

// set writes the headers into h.
func (s *sendHeaders) set(h http.Header) {
	for k, v := range s.platform {
		h[canonicalHeaderKey(k)] = []string{v}
	}
	for k, v := range s.extra {
		h[k] = v
	}
	h[headerFormat] = s.format
	h["Content-Type"] = s.contentType
	if s.tags != nil {
		h[headerTags] = s.tags
	}
}

// tryBody returns the body reader of a try.
func (s *sendHeaders) tryBody() io.ReadCloser {
	if !s.firstUsed {
		s.firstUsed = true
		s.first.Reset(s.body)
		return io.NopCloser(&s.first)
	}
	b, _ := s.getBody()
	return b
}

// getBody returns a fresh reader of the body.
func (s *sendHeaders) getBody() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(s.body)), nil
}

// canonicalHeaderKey is textproto.CanonicalMIMEHeaderKey without its
// allocation for the platform headers the constructors set.
func canonicalHeaderKey(k string) string {
	switch k {
	case "apns-push-type":
		return "Apns-Push-Type"
	case "apns-priority":
		return "Apns-Priority"
	case "apns-topic":
		return "Apns-Topic"
	case "apns-collapse-id":
		return "Apns-Collapse-Id"
	case "apns-expiration":
		return "Apns-Expiration"
	case "X-WNS-Type":
		return "X-Wns-Type"
	case "X-WindowsPhone-Target":
		return "X-Windowsphone-Target"
	case "X-NotificationClass":
		return "X-Notificationclass"
	}
	return textproto.CanonicalMIMEHeaderKey(k)
}

// contentTypeHeaders are the Content-Type values of the constructors,
// shared read-only by every request.
var contentTypeHeaders = map[string][]string{
	contentTypeJSON:   {contentTypeJSON},
	contentTypeXML:    {contentTypeXML},
	contentTypeXMLUTF: {contentTypeXMLUTF},
	contentTypeStream: {contentTypeStream},
}

// doSend sends a send request and reads the ids and, for a test send,
// the outcome.
func (c *Client) doSend(req *policy.Request, retryUnsafe, test bool) (SendNotificationResponse, error) {
	if !test {
		c.skipBodyDownload(req) // nothing to read; drained below
	}
	resp, err := c.do(req, retryUnsafe, http.StatusCreated, http.StatusOK)
	if err != nil {
		return SendNotificationResponse{}, err
	}
	defer drainBody(resp)
	// Canonical header names: Get then needs no allocation.
	out := SendNotificationResponse{
		NotificationID: lastSegment(resp.Header.Get("Location")),
		TrackingID:     resp.Header.Get("Trackingid"),
		CorrelationID:  resp.Header.Get("X-Ms-Correlation-Request-Id"),
	}
	out.State = NotificationOutcomeStateEnqueued
	if !test {
		return out, nil
	}
	body, err := runtime.Payload(resp)
	if err != nil {
		return out, fmt.Errorf("notificationhubs: test send: reading the outcome: %w", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return out, nil
	}
	oc, err := atom.ParseOutcome(body)
	if err != nil {
		return out, fmt.Errorf("notificationhubs: test send: %w", err)
	}
	out.NotificationOutcome = outcomeFrom(oc)
	return out, nil
}

func outcomeFrom(oc atom.Outcome) NotificationOutcome {
	o := NotificationOutcome{State: NotificationOutcomeStateDetailedStateAvailable, Success: oc.Success, Failure: oc.Failure}
	if oc.Results != nil {
		o.Results = make([]RegistrationResult, len(oc.Results))
		for i, r := range oc.Results {
			o.Results[i] = RegistrationResult(r)
		}
	}
	return o
}

// lastSegment returns the last non-empty path segment of a URL, or "".
func lastSegment(loc string) string {
	if loc == "" {
		return ""
	}
	p := loc
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if i := strings.Index(p, "://"); i >= 0 {
		// Drop scheme and host: "https://ns/" has no path segment.
		p = p[i+3:]
		j := strings.IndexByte(p, '/')
		if j < 0 {
			return ""
		}
		p = p[j:]
	}
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	if s, err := url.PathUnescape(p); err == nil {
		p = s
	}
	return p
}

// SendDirectNotification sends n to one device handle without a
// registration: an APNs token, an FCM token, a WNS channel URI, an ADM,
// Baidu or Xiaomi id, or for FormatBrowser the subscription endpoint with
// options.P256DH and options.Auth. Test send does not apply.
func (c *Client) SendDirectNotification(ctx context.Context, n Notification, deviceHandle string, options *SendDirectNotificationOptions) (resp SendNotificationResponse, err error) {
	ctx, endSpan := runtime.StartSpan(ctx, "Client.SendDirectNotification", c.tracer, nil)
	defer func() { endSpan(err) }()
	var o SendDirectNotificationOptions
	if options != nil {
		o = *options
	}
	if err := n.Validate(); err != nil {
		return SendNotificationResponse{}, err
	}
	if n.Format == FormatTemplate {
		return SendNotificationResponse{}, errors.New("direct send: a template notification cannot be sent to a device handle")
	}
	if strings.TrimSpace(deviceHandle) == "" {
		return SendNotificationResponse{}, errors.New("direct send: device handle is empty")
	}
	if strings.ContainsAny(deviceHandle, "\r\n") {
		return SendNotificationResponse{}, errors.New("direct send: device handle contains a line break")
	}
	if n.Format == FormatBrowser && (o.P256DH == "" || o.Auth == "") {
		return SendNotificationResponse{}, errors.New("direct send: a browser notification needs the subscription's P256DH and Auth")
	}
	extra := http.Header{headerDeviceHandle: {deviceHandle}}
	if n.Format == FormatBrowser {
		extra["P256dh"] = []string{o.P256DH}
		extra["Auth"] = []string{o.Auth}
	}
	req, err := c.newSendRequest(ctx, "messages", directQuery, n, n.Body, n.ContentType, nil, extra)
	if err != nil {
		return SendNotificationResponse{}, err
	}
	return c.doSend(req, o.RetryUnsafe, false)
}

// batchBoundary is the multipart boundary of batch sends, the one the
// .NET and Java SDKs use.
const batchBoundary = "nh-batch-multipart-boundary"

// SendDirectBatchNotification sends n to up to 1000 device handles in one
// multipart/mixed request (docs/protocol.md, "Direct and batch direct sends").
// Browser notifications need per-device keys and cannot be batched.
func (c *Client) SendDirectBatchNotification(ctx context.Context, n Notification, deviceHandles []string, options *SendDirectNotificationOptions) (resp SendNotificationResponse, err error) {
	ctx, endSpan := runtime.StartSpan(ctx, "Client.SendDirectBatchNotification", c.tracer, nil)
	defer func() { endSpan(err) }()
	var o SendDirectNotificationOptions
	if options != nil {
		o = *options
	}
	if err := n.Validate(); err != nil {
		return SendNotificationResponse{}, err
	}
	switch n.Format {
	case FormatTemplate:
		return SendNotificationResponse{}, errors.New("batch send: a template notification cannot be sent to device handles")
	case FormatBrowser:
		return SendNotificationResponse{}, errors.New("batch send: browser notifications need per-device keys; use SendDirectNotification")
	}
	if len(deviceHandles) == 0 {
		return SendNotificationResponse{}, errors.New("batch send: no device handles")
	}
	if len(deviceHandles) > MaxBatchHandles {
		return SendNotificationResponse{}, fmt.Errorf("batch send: %d device handles, more than the service's limit of %d", len(deviceHandles), MaxBatchHandles)
	}
	for i, h := range deviceHandles {
		if strings.TrimSpace(h) == "" {
			return SendNotificationResponse{}, fmt.Errorf("batch send: device handle %d is empty", i)
		}
	}
	if bytes.Contains(n.Body, []byte("--"+batchBoundary)) {
		return SendNotificationResponse{}, fmt.Errorf("batch send: body contains the multipart boundary %q", batchBoundary)
	}
	body := batchBody(n, deviceHandles)
	if len(body) > MaxPayloadSize {
		return SendNotificationResponse{}, fmt.Errorf("batch send: request body is %d bytes, more than the service's limit of %d", len(body), MaxPayloadSize)
	}
	req, err := c.newSendRequest(ctx, "messages/$batch", directQuery, n, body, `multipart/mixed; boundary="`+batchBoundary+`"`, nil, nil)
	if err != nil {
		return SendNotificationResponse{}, err
	}
	return c.doSend(req, o.RetryUnsafe, false)
}

// batchBody writes the two-part multipart body: the notification, then
// the JSON array of handles, with CRLF line endings.
func batchBody(n Notification, handles []string) []byte {
	devices, _ := json.Marshal(handles) // cannot fail for []string
	var b bytes.Buffer
	b.Grow(len(n.Body) + len(devices) + 256)
	b.WriteString("--" + batchBoundary + "\r\n")
	b.WriteString("Content-Type: " + n.ContentType + "\r\n")
	b.WriteString("Content-Disposition: inline; name=notification\r\n\r\n")
	b.Write(n.Body)
	b.WriteString("\r\n--" + batchBoundary + "\r\n")
	b.WriteString("Content-Type: application/json\r\n")
	b.WriteString("Content-Disposition: inline; name=devices\r\n\r\n")
	b.Write(devices)
	b.WriteString("\r\n--" + batchBoundary + "--\r\n")
	return b.Bytes()
}

// ScheduleNotification schedules n for the time at (in the future, at
// most 7 days ahead) to the registrations chosen as in SendNotification.
// It needs the Standard tier. Test send does not apply.
func (c *Client) ScheduleNotification(ctx context.Context, n Notification, at time.Time, options *ScheduleNotificationOptions) (resp ScheduleNotificationResponse, err error) {
	ctx, endSpan := runtime.StartSpan(ctx, "Client.ScheduleNotification", c.tracer, nil)
	defer func() { endSpan(err) }()
	var o ScheduleNotificationOptions
	if options != nil {
		o = *options
	}
	if err := n.Validate(); err != nil {
		return ScheduleNotificationResponse{}, err
	}
	now := time.Now()
	if !at.After(now) {
		return ScheduleNotificationResponse{}, fmt.Errorf("schedule: time %s is not in the future", at.UTC().Format(time.RFC3339))
	}
	if at.Sub(now) > MaxScheduleAhead {
		return ScheduleNotificationResponse{}, fmt.Errorf("schedule: time %s is more than 7 days ahead", at.UTC().Format(time.RFC3339))
	}
	tags, err := c.audience(o.Tags, o.TagExpression)
	if err != nil {
		return ScheduleNotificationResponse{}, err
	}
	// As JS's toISOString: UTC with milliseconds.
	extra := http.Header{headerScheduleTime: {at.UTC().Format("2006-01-02T15:04:05.000Z")}}
	req, err := c.newSendRequest(ctx, "schedulednotifications", nil, n, n.Body, n.ContentType, tags, extra)
	if err != nil {
		return ScheduleNotificationResponse{}, err
	}
	r, err := c.doSend(req, o.RetryUnsafe, false)
	if err != nil {
		return ScheduleNotificationResponse{}, err
	}
	return ScheduleNotificationResponse{ScheduledNotificationID: r.NotificationID, TrackingID: r.TrackingID, CorrelationID: r.CorrelationID}, nil
}

// CancelScheduledNotification cancels a notification scheduled with
// ScheduleNotification. An id the service does not have (never
// scheduled, already sent, or already cancelled) answers 404, an error
// matching ErrNotFound: cancelling twice is not silent. The request is
// retried on transport errors, 408, 429 and 5xx like the idempotent
// operations, so a retry after a cancel that took effect but whose answer
// was lost also ends in ErrNotFound.
func (c *Client) CancelScheduledNotification(ctx context.Context, scheduledNotificationID string, options *CancelScheduledNotificationOptions) (resp CancelScheduledNotificationResponse, err error) {
	ctx, endSpan := runtime.StartSpan(ctx, "Client.CancelScheduledNotification", c.tracer, nil)
	defer func() { endSpan(err) }()
	if strings.TrimSpace(scheduledNotificationID) == "" {
		return CancelScheduledNotificationResponse{}, errors.New("cancel scheduled notification: id is empty")
	}
	req, err := c.newRequest(ctx, http.MethodDelete, "schedulednotifications/"+url.PathEscape(scheduledNotificationID), nil)
	if err != nil {
		return CancelScheduledNotificationResponse{}, err
	}
	r, err := c.do(req, true, http.StatusOK, http.StatusNoContent)
	if err != nil {
		return CancelScheduledNotificationResponse{}, err
	}
	r.Body.Close()
	return CancelScheduledNotificationResponse{
		TrackingID:    r.Header.Get("TrackingId"),
		CorrelationID: r.Header.Get("x-ms-correlation-request-id"),
	}, nil
}

// SendTemplateNotification sends template properties to the template
// registrations chosen by options (nil: broadcast).
func (c *Client) SendTemplateNotification(ctx context.Context, properties map[string]string, options *SendNotificationOptions) (SendNotificationResponse, error) {
	return c.SendNotification(ctx, NewTemplateNotification(properties), options)
}

// SendAppleNotification sends an APNs payload ({"aps":{…}}) to the Apple
// registrations chosen by options (nil: broadcast).
func (c *Client) SendAppleNotification(ctx context.Context, payload []byte, options *SendNotificationOptions) (SendNotificationResponse, error) {
	return c.SendNotification(ctx, NewAppleNotification(payload, nil), options)
}

// SendFcmV1Notification sends an FCM v1 payload ({"message":{…}}) to the
// FCM v1 registrations chosen by options (nil: broadcast).
func (c *Client) SendFcmV1Notification(ctx context.Context, payload []byte, options *SendNotificationOptions) (SendNotificationResponse, error) {
	return c.SendNotification(ctx, NewFcmV1Notification(payload), options)
}

// SendGcmNotification sends a legacy FCM (GCM) payload to the GCM
// registrations chosen by options (nil: broadcast).
func (c *Client) SendGcmNotification(ctx context.Context, payload []byte, options *SendNotificationOptions) (SendNotificationResponse, error) {
	return c.SendNotification(ctx, NewGcmNotification(payload), options)
}

// SendWindowsNotification sends a WNS toast, tile or badge (X-WNS-Type
// detected from the XML root) to the Windows registrations chosen by
// options (nil: broadcast). Use NewWindowsNotification with
// SendNotification for raw notifications or other WNS headers.
func (c *Client) SendWindowsNotification(ctx context.Context, payload []byte, options *SendNotificationOptions) (SendNotificationResponse, error) {
	return c.SendNotification(ctx, NewWindowsNotification(payload, nil), options)
}

// SendMpnsNotification sends a Windows Phone (MPNS) payload, its target
// and class detected as in NewMpnsNotification, to the MPNS registrations
// chosen by options (nil: broadcast).
func (c *Client) SendMpnsNotification(ctx context.Context, payload []byte, options *SendNotificationOptions) (SendNotificationResponse, error) {
	return c.SendNotification(ctx, NewMpnsNotification(payload, nil), options)
}

// SendAdmNotification sends an Amazon Device Messaging (Kindle) payload
// to the ADM registrations chosen by options (nil: broadcast).
func (c *Client) SendAdmNotification(ctx context.Context, payload []byte, options *SendNotificationOptions) (SendNotificationResponse, error) {
	return c.SendNotification(ctx, NewAdmNotification(payload), options)
}

// SendBaiduNotification sends a Baidu payload to the Baidu registrations
// chosen by options (nil: broadcast).
func (c *Client) SendBaiduNotification(ctx context.Context, payload []byte, options *SendNotificationOptions) (SendNotificationResponse, error) {
	return c.SendNotification(ctx, NewBaiduNotification(payload), options)
}

// SendXiaomiNotification sends a Xiaomi payload to the Xiaomi
// registrations chosen by options (nil: broadcast).
func (c *Client) SendXiaomiNotification(ctx context.Context, payload []byte, options *SendNotificationOptions) (SendNotificationResponse, error) {
	return c.SendNotification(ctx, NewXiaomiNotification(payload), options)
}

// SendBrowserNotification sends a Web Push payload to the browser
// registrations chosen by options (nil: broadcast).
func (c *Client) SendBrowserNotification(ctx context.Context, payload []byte, options *SendNotificationOptions) (SendNotificationResponse, error) {
	return c.SendNotification(ctx, NewBrowserNotification(payload), options)
}
