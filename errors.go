package notificationhubs

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// ResponseError is a failure answered by the service: any status the
// operation does not expect. Match it with errors.As:
//
//	var re *notificationhubs.ResponseError
//	if errors.As(err, &re) && re.StatusCode == http.StatusNotFound { … }
//
// errors.As also finds it as azcore's *ResponseError, the type every Azure
// SDK for Go returns, so code written for those works unchanged:
//
//	var azErr *azcore.ResponseError
//	if errors.As(err, &azErr) && azErr.StatusCode == http.StatusNotFound { … }
//
// Neither its text, nor azcore's view of it, nor RawResponse contains a
// key or a signature.
type ResponseError struct {
	// StatusCode is the HTTP status code, e.g. 404.
	StatusCode int
	// Code is the service's error code: the <Code> of the XML error body
	// (usually the status code as text), or the status code when the body
	// is empty.
	Code string
	// Detail is the <Detail> of the XML error body, e.g. "Installation not
	// found.TrackingId:…,TimeStamp:…", or the status text when the body is
	// empty or not XML.
	Detail string
	// TrackingID is the TrackingId response header, or the one in Detail.
	TrackingID string
	// CorrelationID is the x-ms-correlation-request-id response header.
	CorrelationID string
	// RetryAfter is the wait the service asked for with Retry-After
	// (seconds or an HTTP date), or zero.
	RetryAfter time.Duration
	// Method and URL are those of the request, without the query.
	Method, URL string
	// RawResponse is the response; its body has been read and can be
	// read again. Its Request's Authorization header and any sig= in its
	// URL or body read REDACTED instead of the signature.
	RawResponse *http.Response
}

// As lets errors.As find the failure as azcore's *ResponseError, with
// ErrorCode set to Code. Its Error() is azcore's (method, URL without the
// query, status, code and body), written from the redacted RawResponse.
func (e *ResponseError) As(target any) bool {
	t, ok := target.(**azcore.ResponseError)
	if !ok {
		return false
	}
	*t = &azcore.ResponseError{ErrorCode: e.Code, StatusCode: e.StatusCode, RawResponse: e.RawResponse}
	return true
}

// Error returns "notificationhubs: METHOD URL: STATUS: message (tracking id …)",
// the message being Message.
func (e *ResponseError) Error() string {
	var b strings.Builder
	b.WriteString("notificationhubs: ")
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteByte(' ')
		b.WriteString(e.URL)
		b.WriteString(": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteByte(' ')
		b.WriteString(t)
	}
	if d := e.Message(); d != "" && d != http.StatusText(e.StatusCode) {
		b.WriteString(": ")
		b.WriteString(d)
	}
	if e.TrackingID != "" {
		b.WriteString(" (tracking id ")
		b.WriteString(e.TrackingID)
		b.WriteByte(')')
	}
	if e.RetryAfter > 0 {
		b.WriteString(" (retry after ")
		b.WriteString(e.RetryAfter.String())
		b.WriteByte(')')
	}
	return b.String()
}

// Message returns the service's explanation: Detail without the
// "TrackingId:…,TimeStamp:…" the service appends to it (TrackingID has
// the id). It is "" when the service said nothing else, as for a missing
// registration.
func (e *ResponseError) Message() string {
	d := e.Detail
	if i := strings.Index(d, "TrackingId:"); i >= 0 {
		d = d[:i]
	}
	d = strings.TrimSpace(d)
	if d == "." {
		return ""
	}
	return d
}

// Sentinel errors that a *ResponseError matches with errors.Is by status.
var (
	ErrNotFound           = errors.New("not found")           // 404
	ErrConflict           = errors.New("conflict")            // 409
	ErrPreconditionFailed = errors.New("precondition failed") // 412
	ErrThrottled          = errors.New("throttled")           // 429, or 403 with Retry-After
	ErrUnauthorized       = errors.New("unauthorized")        // 401, or 403 without Retry-After
)

// Is reports whether the error matches one of the sentinel errors by its
// status code.
func (e *ResponseError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrPreconditionFailed:
		return e.StatusCode == http.StatusPreconditionFailed
	case ErrThrottled:
		return e.StatusCode == http.StatusTooManyRequests || (e.StatusCode == http.StatusForbidden && e.RetryAfter > 0)
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || (e.StatusCode == http.StatusForbidden && e.RetryAfter <= 0)
	}
	return false
}

// newResponseError reads and closes resp's body and builds the error.
func newResponseError(resp *http.Response) *ResponseError {
	body, _ := runtime.Payload(resp)
	resp.Body.Close()
	if bytes.Contains(body, []byte("sig=")) {
		body = []byte(redactSignature(string(body)))
	}
	resp = redactedResponse(resp, body)
	e := &ResponseError{
		StatusCode:    resp.StatusCode,
		Code:          strconv.Itoa(resp.StatusCode),
		TrackingID:    resp.Header.Get("TrackingId"),
		CorrelationID: resp.Header.Get("x-ms-correlation-request-id"),
		RetryAfter:    retryAfter(resp.Header, time.Now()),
		RawResponse:   resp,
	}
	if resp.Request != nil {
		e.Method = resp.Request.Method
		e.URL = redactURL(resp.Request.URL)
	}
	if code, detail, ok := parseErrorBody(body); ok {
		if code != "" {
			e.Code = code
		}
		e.Detail = detail
	} else {
		e.Detail = http.StatusText(resp.StatusCode)
	}
	if e.TrackingID == "" {
		e.TrackingID = trackingIDFromDetail(e.Detail)
	}
	return e
}

// redactedResponse returns a copy of resp for a ResponseError to keep:
// its body is body (already without signatures), which runtime.Payload
// reads again and again, and its request a clone whose Authorization
// header and URL hold no signature.
func redactedResponse(resp *http.Response, body []byte) *http.Response {
	out := *resp
	out.Body = io.NopCloser(bytes.NewReader(body))
	_, _ = runtime.Payload(&out) // buffers the body where Payload finds it again
	if resp.Request != nil {
		req := resp.Request.Clone(resp.Request.Context())
		if v := req.Header.Get(headerAuthorization); v != "" {
			req.Header.Set(headerAuthorization, redactAuthorization(v))
		}
		if q := req.URL.RawQuery; q != "" {
			req.URL.RawQuery = redactSignature(q)
		}
		req.Body, req.GetBody = nil, nil
		out.Request = req
	}
	return &out
}

// parseErrorBody parses <Error><Code/><Detail/></Error> (docs/protocol.md, "Errors").
func parseErrorBody(body []byte) (code, detail string, ok bool) {
	if len(body) == 0 {
		return "", "", false
	}
	var v struct {
		XMLName xml.Name `xml:"Error"`
		Code    string   `xml:"Code"`
		Detail  string   `xml:"Detail"`
	}
	if err := xml.Unmarshal(body, &v); err != nil {
		return "", "", false
	}
	return strings.TrimSpace(v.Code), strings.TrimSpace(v.Detail), true
}

// trackingIDFromDetail extracts the id from "…TrackingId:{id},TimeStamp:…".
func trackingIDFromDetail(detail string) string {
	_, rest, ok := strings.Cut(detail, "TrackingId:")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, ",")
	return strings.TrimSpace(id)
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// ValidationError says what is wrong with a notification, a registration
// or an installation, and where, before any request is made: every
// client-side check of those returns one (Notification.Validate,
// Registration.Validate, and the sends and writes that call them).
type ValidationError struct {
	// Format is the notification's format; empty for a registration or an
	// installation.
	Format Format
	// Subject names what was checked when it is not a notification:
	// "registration", `registration "1-2-3"`, `installation "dev-1"`.
	Subject string
	// Where is the place of the problem in a notification: "body", "body
	// offset 17", "message.data.badge", "header X-WNS-Type", …
	Where string
	// Msg says what is wrong.
	Msg string
	// err is the cause, when another check (a tag's, a template's) found it.
	err error
}

// Error returns "FORMAT notification: WHERE: MSG" for a notification and
// "notificationhubs: SUBJECT: MSG" otherwise.
func (e *ValidationError) Error() string {
	if e.Subject != "" {
		return "notificationhubs: " + e.Subject + ": " + e.Msg
	}
	f := string(e.Format)
	if f == "" {
		f = "notification"
	}
	if e.Where == "" {
		return f + " notification: " + e.Msg
	}
	return f + " notification: " + e.Where + ": " + e.Msg
}

// Unwrap returns the cause: the tag or template error behind Msg, or nil.
func (e *ValidationError) Unwrap() error { return e.err }

func invalid(f Format, where, format string, args ...any) error {
	return &ValidationError{Format: f, Where: where, Msg: fmt.Sprintf(format, args...)}
}

// invalidResource is a ValidationError of a registration or an
// installation; a %w verb in format wraps its operand as the cause.
func invalidResource(subject, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &ValidationError{Subject: subject, Msg: err.Error(), err: errors.Unwrap(err)}
}
