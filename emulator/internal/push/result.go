package push

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Status is what became of one attempt to deliver a notification.
type Status uint8

// The statuses.
const (
	// StatusDelivered: the push service accepted the notification.
	StatusDelivered Status = iota + 1
	// StatusHandleGone: the push service says the device handle is no
	// longer valid (APNs 410 Unregistered or 400 BadDeviceToken, FCM
	// UNREGISTERED, WNS 404/410, Web Push 404/410, ADM Unregistered); the
	// registration should be expired.
	StatusHandleGone
	// StatusThrottled: the push service asked to slow down (429, WNS 406);
	// retryable after Result.RetryAfter.
	StatusThrottled
	// StatusUnavailable: the push service failed (5xx) or could not be
	// reached; retryable.
	StatusUnavailable
	// StatusBadCredential: the push service or its token endpoint refused
	// the credential (401/403, invalid_client, invalid_grant).
	StatusBadCredential
	// StatusBadRequest: the push service refused the notification itself
	// (bad payload, headers or topic).
	StatusBadRequest
	// StatusQueueFull: the dispatcher's queue for the service was full;
	// nothing was sent.
	StatusQueueFull
	// StatusCanceled: the dispatcher shut down, or the context ended,
	// before the notification was sent.
	StatusCanceled
	// StatusUnsupported: the package has no client for the service (FCM
	// legacy and MPNS were shut down; Baidu and Xiaomi are not
	// implemented); nothing was sent.
	StatusUnsupported
)

var statusNames = [...]string{"", "delivered", "handle-gone", "throttled", "unavailable",
	"bad-credential", "bad-request", "queue-full", "canceled", "unsupported"}

// String returns the status in lower-case words ("handle-gone").
func (s Status) String() string {
	if int(s) < len(statusNames) && s != 0 {
		return statusNames[s]
	}
	return "status(" + strconv.Itoa(int(s)) + ")"
}

// Retryable reports whether another attempt may succeed: throttled and
// unavailable.
func (s Status) Retryable() bool { return s == StatusThrottled || s == StatusUnavailable }

// Result is the outcome of one attempt. It never holds a secret.
type Result struct {
	Service Service
	Handle  string
	Status  Status
	// Outcome is the Notification Hubs outcome name the service reports
	// for it in per-message telemetry and feedback (Success,
	// ExpiredChannel, InvalidToken, BadChannel, Throttled,
	// ChannelThrottled, PnsServerError, PnsUnavailable, PnsUnreachable,
	// InvalidCredentials, TokenProviderUnreachable,
	// InvalidNotificationSize, InvalidNotificationFormat, WrongToken,
	// Dropped).
	Outcome string
	// HTTPStatus is the push service's status code, 0 when none came.
	HTTPStatus int
	// ID is the push service's id for the notification: APNs apns-id,
	// the FCM message name, WNS X-WNS-Msg-ID, the ADM request id, the Web
	// Push Location.
	ID string
	// Reason is the push service's reason (APNs "Unregistered", FCM
	// "UNREGISTERED", an OAuth error code, a transport error); empty on
	// success.
	Reason string
	// RetryAfter is the push service's Retry-After, 0 when none.
	RetryAfter time.Duration
	// Attempt counts the attempts, from 1 (set by the Dispatcher).
	Attempt int
	// Final is set by the Dispatcher on the last result of a notification.
	Final bool
	// Time is when the attempt ended.
	Time time.Time
}

// Outcome names of Notification Hubs (per-message telemetry and feedback).
const (
	OutcomeSuccess                   = "Success"
	OutcomeExpiredChannel            = "ExpiredChannel"
	OutcomeInvalidToken              = "InvalidToken"
	OutcomeBadChannel                = "BadChannel"
	OutcomeWrongToken                = "WrongToken"
	OutcomeThrottled                 = "Throttled"
	OutcomeChannelThrottled          = "ChannelThrottled"
	OutcomePnsServerError            = "PnsServerError"
	OutcomePnsUnavailable            = "PnsUnavailable"
	OutcomePnsUnreachable            = "PnsUnreachable"
	OutcomeInvalidCredentials        = "InvalidCredentials"
	OutcomeTokenProviderUnreachable  = "TokenProviderUnreachable"
	OutcomeInvalidNotificationSize   = "InvalidNotificationSize"
	OutcomeInvalidNotificationFormat = "InvalidNotificationFormat"
	OutcomeDropped                   = "Dropped"
)

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		if n > 86400 {
			n = 86400
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

// httpResult fills the parts of r every service shares: the status class
// of code and Retry-After. Services refine the outcome afterwards.
func httpResult(r *Result, resp *http.Response, now time.Time) {
	r.HTTPStatus = resp.StatusCode
	r.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		r.Status, r.Outcome = StatusDelivered, OutcomeSuccess
	case c == http.StatusTooManyRequests:
		r.Status, r.Outcome = StatusThrottled, OutcomeThrottled
	case c == http.StatusServiceUnavailable:
		r.Status, r.Outcome = StatusUnavailable, OutcomePnsUnavailable
	case c >= 500:
		r.Status, r.Outcome = StatusUnavailable, OutcomePnsServerError
	case c == http.StatusUnauthorized || c == http.StatusForbidden:
		r.Status, r.Outcome = StatusBadCredential, OutcomeInvalidCredentials
	case c == http.StatusRequestEntityTooLarge:
		r.Status, r.Outcome = StatusBadRequest, OutcomeInvalidNotificationSize
	default:
		r.Status, r.Outcome = StatusBadRequest, OutcomeInvalidNotificationFormat
	}
	if r.Reason == "" && r.Status != StatusDelivered {
		r.Reason = resp.Status
	}
}

// transportResult describes a request that got no answer.
func transportResult(r *Result, err error) {
	if errors.Is(err, context.Canceled) {
		r.Status, r.Outcome, r.Reason = StatusCanceled, OutcomeDropped, "canceled"
		return
	}
	r.Status, r.Outcome = StatusUnavailable, OutcomePnsUnreachable
	r.Reason = errorReason(err)
}

// errorReason is err's text with any URL query removed (a channel URI's
// query holds its token, which belongs in no log line).
func errorReason(err error) string {
	s := err.Error()
	if i := strings.Index(s, "?"); i >= 0 {
		j := strings.IndexAny(s[i:], "\": ")
		if j < 0 {
			s = s[:i]
		} else {
			s = s[:i] + s[i+j:]
		}
	}
	return s
}

// UnsupportedSender returns a Sender for a service this package does not
// deliver to: FCM legacy (gcm) and MPNS, which their owners shut down, and
// Baidu and Xiaomi. Its results are StatusUnsupported with outcome
// PnsUnavailable and a reason saying why.
func UnsupportedSender(s Service) Sender { return unsupported(s) }

type unsupported Service

func (u unsupported) Service() Service { return Service(u) }
func (u unsupported) Close()           {}
func (u unsupported) Send(_ context.Context, n *Notification) Result {
	reason := "not implemented: no client for " + string(u)
	switch Service(u) {
	case ServiceGcm:
		reason = "FCM legacy HTTP API was shut down by Google; send with FCM v1"
	case ServiceMpns:
		reason = "MPNS (Windows Phone) was shut down by Microsoft"
	case ServiceBaidu:
		reason = "not implemented: Baidu Cloud Push has no public API documentation this client could follow"
	case ServiceXiaomi:
		reason = "not implemented: Xiaomi Push delivery is not built yet"
	}
	return Result{Service: Service(u), Handle: n.Handle, Status: StatusUnsupported,
		Outcome: OutcomePnsUnavailable, Reason: reason}
}
