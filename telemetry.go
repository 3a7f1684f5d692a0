package notificationhubs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nhkit/notificationhubs/internal/atom"
)

// NotificationDetailsState is the processing state of a sent notification
// in its telemetry (docs/protocol.md, "Telemetry").
type NotificationDetailsState string

// Notification states. The SDK maps the service's spellings
// case-insensitively onto these (Cancelled becomes Canceled); other values
// are kept as the service wrote them.
const (
	NotificationDetailsStateEnqueued               NotificationDetailsState = "Enqueued"
	NotificationDetailsStateScheduled              NotificationDetailsState = "Scheduled"
	NotificationDetailsStateProcessing             NotificationDetailsState = "Processing"
	NotificationDetailsStateCompleted              NotificationDetailsState = "Completed"
	NotificationDetailsStateAbandoned              NotificationDetailsState = "Abandoned"
	NotificationDetailsStateCanceled               NotificationDetailsState = "Canceled"
	NotificationDetailsStateNoTargetFound          NotificationDetailsState = "NoTargetFound"
	NotificationDetailsStateDetailedStateAvailable NotificationDetailsState = "DetailedStateAvailable"
	NotificationDetailsStateUnknown                NotificationDetailsState = "Unknown"
)

// Final reports whether the state no longer changes: Completed,
// Abandoned, Canceled or NoTargetFound.
func (s NotificationDetailsState) Final() bool {
	switch s {
	case NotificationDetailsStateCompleted, NotificationDetailsStateAbandoned,
		NotificationDetailsStateCanceled, NotificationDetailsStateNoTargetFound:
		return true
	}
	return false
}

func parseNotificationDetailsState(s string) NotificationDetailsState {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "Cancelled") {
		return NotificationDetailsStateCanceled
	}
	for _, k := range []NotificationDetailsState{
		NotificationDetailsStateEnqueued, NotificationDetailsStateScheduled, NotificationDetailsStateProcessing,
		NotificationDetailsStateCompleted, NotificationDetailsStateAbandoned, NotificationDetailsStateCanceled,
		NotificationDetailsStateNoTargetFound, NotificationDetailsStateDetailedStateAvailable, NotificationDetailsStateUnknown,
	} {
		if strings.EqualFold(s, string(k)) {
			return k
		}
	}
	if s == "" {
		return NotificationDetailsStateUnknown
	}
	return NotificationDetailsState(s)
}

// NotificationDetails is the telemetry of one sent notification (Standard
// tier only).
type NotificationDetails struct {
	// NotificationID is the id from the send's Location header.
	NotificationID string
	// Location is the service's URL of the notification.
	Location string
	// State is the processing state.
	State NotificationDetailsState
	// EnqueueTime, StartTime and EndTime trace the processing.
	EnqueueTime, StartTime, EndTime time.Time
	// NotificationBody is the payload that was sent.
	NotificationBody string
	// Tags is the tag expression of the send.
	Tags string
	// TargetPlatforms are the platforms targeted, e.g. "apple", "gcmtemplate".
	TargetPlatforms []string
	// Outcomes counts outcomes per platform: the key is the platform as in
	// the service's element name without "OutcomeCounts" (Apns, Wns, Mpns,
	// Gcm, FcmV1, Adm, Baidu, Browser, Xiaomi); the inner key the outcome
	// name (Success, WrongToken, ExpiredChannel, …).
	Outcomes map[string]map[string]int
	// PnsErrorDetailsURI is a blob URL (with a SAS signature) of the
	// per-device errors, present when errors occurred.
	PnsErrorDetailsURI string
}

func notificationDetailsFromAtom(a atom.NotificationDetails) (NotificationDetails, error) {
	d := NotificationDetails{
		NotificationID:     a.NotificationID,
		Location:           a.Location,
		State:              parseNotificationDetailsState(a.State),
		NotificationBody:   a.NotificationBody,
		Tags:               a.Tags,
		PnsErrorDetailsURI: a.PnsErrorDetailsURI,
	}
	for _, p := range strings.Split(a.TargetPlatforms, ",") {
		if p = strings.TrimSpace(p); p != "" {
			d.TargetPlatforms = append(d.TargetPlatforms, p)
		}
	}
	for _, f := range []struct {
		name string
		src  string
		dst  *time.Time
	}{{"EnqueueTime", a.EnqueueTime, &d.EnqueueTime}, {"StartTime", a.StartTime, &d.StartTime}, {"EndTime", a.EndTime, &d.EndTime}} {
		if f.src == "" {
			continue
		}
		t, err := parseWireTime(f.src)
		if err != nil {
			return NotificationDetails{}, fmt.Errorf("notificationhubs: notification details of %q: %s: %w", a.NotificationID, f.name, err)
		}
		*f.dst = t
	}
	for _, pc := range a.Counts {
		if d.Outcomes == nil {
			d.Outcomes = map[string]map[string]int{}
		}
		name := strings.TrimSuffix(pc.Element, "OutcomeCounts")
		m := d.Outcomes[name]
		if m == nil {
			m = map[string]int{}
			d.Outcomes[name] = m
		}
		for _, oc := range pc.Counts {
			m[oc.Name] += oc.Count
		}
	}
	return d, nil
}

// GetNotificationOutcomeDetailsOptions contains the optional parameters of
// GetNotificationOutcomeDetails.
type GetNotificationOutcomeDetailsOptions struct {
	// for future expansion
}

// GetNotificationOutcomeDetailsResponse is the response of GetNotificationOutcomeDetails.
type GetNotificationOutcomeDetailsResponse struct {
	// NotificationDetails is the notification's telemetry.
	NotificationDetails
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// GetNotificationOutcomeDetails reads the telemetry of a sent notification
// (GET messages/{id}; Standard tier). The service answers 404 until the
// notification has progressed far enough, for up to 30 minutes: use
// WaitForNotificationOutcomeDetails to wait for it.
func (c *Client) GetNotificationOutcomeDetails(ctx context.Context, notificationID string, options *GetNotificationOutcomeDetailsOptions) (GetNotificationOutcomeDetailsResponse, error) {
	if notificationID == "" {
		return GetNotificationOutcomeDetailsResponse{}, fmt.Errorf("notificationhubs: GetNotificationOutcomeDetails: notificationID is empty")
	}
	req, err := c.newRequest(ctx, http.MethodGet, "messages/"+url.PathEscape(notificationID), nil)
	if err != nil {
		return GetNotificationOutcomeDetailsResponse{}, err
	}
	resp, err := c.do(req, true, http.StatusOK)
	if err != nil {
		return GetNotificationOutcomeDetailsResponse{}, err
	}
	var out GetNotificationOutcomeDetailsResponse
	out.TrackingID, out.CorrelationID = responseIDs(resp)
	body, err := readAllClose(resp)
	if err != nil {
		return out, err
	}
	a, err := atom.ParseNotificationDetails(body)
	if err != nil {
		return out, fmt.Errorf("notificationhubs: decoding the notification details of %q: %w", notificationID, err)
	}
	out.NotificationDetails, err = notificationDetailsFromAtom(a)
	return out, err
}

// WaitForNotificationOutcomeDetailsOptions contains the optional parameters
// of WaitForNotificationOutcomeDetails.
type WaitForNotificationOutcomeDetailsOptions struct {
	// PollInterval is the wait between reads (default 10 s, as the
	// service advises).
	PollInterval time.Duration
	// Timeout bounds the whole wait (default 30 minutes, after which the
	// service drops undelivered notifications). ctx bounds it too.
	Timeout time.Duration
	// AnyState returns the first details the service has, whatever their
	// state; by default the wait goes on until the state is final
	// (NotificationDetailsState.Final).
	AnyState bool
}

// WaitForNotificationOutcomeDetails polls GetNotificationOutcomeDetails,
// treating 404 as "not ready yet", until the details are available in a
// final state (or any state with AnyState), the timeout passes or ctx is
// done. On timeout it returns the last details read (if any) with an error
// that wraps context.DeadlineExceeded.
func (c *Client) WaitForNotificationOutcomeDetails(ctx context.Context, notificationID string, options *WaitForNotificationOutcomeDetailsOptions) (GetNotificationOutcomeDetailsResponse, error) {
	var o WaitForNotificationOutcomeDetailsOptions
	if options != nil {
		o = *options
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 10 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var last GetNotificationOutcomeDetailsResponse
	var lastErr error
	err := pollUntilDone(ctx, o.PollInterval, func() (bool, error) {
		got, err := c.GetNotificationOutcomeDetails(ctx, notificationID, nil)
		switch {
		case errors.Is(err, ErrNotFound):
			lastErr = err
			return false, nil
		case err != nil:
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			return false, err
		}
		last, lastErr = got, nil
		return o.AnyState || got.State.Final(), nil
	})
	if err != nil {
		if lastErr != nil {
			return last, fmt.Errorf("notificationhubs: waiting for the outcome details of %q: %w (last read: %w)", notificationID, err, lastErr)
		}
		if last.State != "" {
			return last, fmt.Errorf("notificationhubs: waiting for the outcome details of %q (last state %s): %w", notificationID, last.State, err)
		}
		return last, fmt.Errorf("notificationhubs: waiting for the outcome details of %q: %w", notificationID, err)
	}
	return last, nil
}

// GetFeedbackContainerURLOptions contains the optional parameters of
// GetFeedbackContainerURL.
type GetFeedbackContainerURLOptions struct {
	// for future expansion
}

// GetFeedbackContainerURLResponse is the response of GetFeedbackContainerURL.
type GetFeedbackContainerURLResponse struct {
	// URL is an Azure Storage container URL with a read/list SAS
	// signature. It is a secret: do not log it. The container holds blobs
	// named by date (MMddyyyy) of PnsFeedback documents.
	URL string
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// GetFeedbackContainerURL returns the URL of the container where the
// service writes PNS feedback (expired channels, bad tokens…; Standard tier).
func (c *Client) GetFeedbackContainerURL(ctx context.Context, options *GetFeedbackContainerURLOptions) (GetFeedbackContainerURLResponse, error) {
	req, err := c.newRequest(ctx, http.MethodGet, "feedbackcontainer", nil)
	if err != nil {
		return GetFeedbackContainerURLResponse{}, err
	}
	resp, err := c.do(req, true, http.StatusOK)
	if err != nil {
		return GetFeedbackContainerURLResponse{}, err
	}
	var out GetFeedbackContainerURLResponse
	out.TrackingID, out.CorrelationID = responseIDs(resp)
	body, err := readAllClose(resp)
	if err != nil {
		return out, err
	}
	out.URL = strings.TrimSpace(string(body))
	if u, perr := url.Parse(out.URL); out.URL == "" || perr != nil || !u.IsAbs() {
		return GetFeedbackContainerURLResponse{}, fmt.Errorf("notificationhubs: GetFeedbackContainerURL: the service returned no absolute URL")
	}
	return out, nil
}
