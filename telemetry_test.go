package notificationhubs

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nhkit/notificationhubs/internal/atom"
)

// rpDetailsXML is the documented NotificationDetails body (docs/protocol.md,
// "Telemetry"), elements in the service's order.
const rpDetailsXML = `<NotificationDetails xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">` +
	`<NotificationId>abc-1</NotificationId><Location>sb://ns.servicebus.windows.net/hub/messages/abc-1?api-version=2015-04</Location>` +
	`<State>cancelled</State><EnqueueTime>2015-11-02T21:19:43Z</EnqueueTime><StartTime>2015-11-02T21:19:43.9926996Z</StartTime>` +
	`<EndTime>2015-11-02T21:19:43.9926996Z</EndTime><NotificationBody>&lt;toast/&gt;</NotificationBody><Tags>a</Tags>` +
	`<TargetPlatforms>windows, gcmtemplate</TargetPlatforms><MpnsOutcomeCounts/>` +
	`<WnsOutcomeCounts><Outcome><Name>Success</Name><Count>3</Count></Outcome><Outcome><Name>WrongToken</Name><Count>1</Count></Outcome></WnsOutcomeCounts>` +
	`<PnsErrorDetailsUri>https://blob.example/x?sig=s</PnsErrorDetailsUri></NotificationDetails>`

func TestGetNotificationOutcomeDetails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.EscapedPath() != "/hub/messages/abc-1" || r.URL.Query().Get("api-version") != "2020-06" {
			t.Errorf("request %s %s", r.Method, r.RequestURI)
		}
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.Header().Set("TrackingId", "tid")
		io.WriteString(w, rpDetailsXML)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, "hub", "2020-06")
	got, err := c.GetNotificationOutcomeDetails(context.Background(), "abc-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2015, 11, 2, 21, 19, 43, 992699600, time.UTC)
	want := NotificationDetails{
		NotificationID: "abc-1", Location: "sb://ns.servicebus.windows.net/hub/messages/abc-1?api-version=2015-04",
		State:       NotificationDetailsStateCanceled,
		EnqueueTime: time.Date(2015, 11, 2, 21, 19, 43, 0, time.UTC), StartTime: start, EndTime: start,
		NotificationBody: "<toast/>", Tags: "a", TargetPlatforms: []string{"windows", "gcmtemplate"},
		Outcomes:           map[string]map[string]int{"Mpns": {}, "Wns": {"Success": 3, "WrongToken": 1}},
		PnsErrorDetailsURI: "https://blob.example/x?sig=s",
	}
	if diff := cmp.Diff(want, got.NotificationDetails); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got.TrackingID != "tid" || !got.State.Final() {
		t.Errorf("TrackingID %q, final %v", got.TrackingID, got.State.Final())
	}
}

func TestNotificationDetailsState(t *testing.T) {
	for in, want := range map[string]NotificationDetailsState{
		"completed": NotificationDetailsStateCompleted, "Cancelled": NotificationDetailsStateCanceled,
		"": NotificationDetailsStateUnknown, "NewState": "NewState", "ENQUEUED": NotificationDetailsStateEnqueued,
	} {
		if got := parseNotificationDetailsState(in); got != want {
			t.Errorf("%q -> %q, want %q", in, got, want)
		}
	}
	for _, s := range []NotificationDetailsState{NotificationDetailsStateEnqueued, NotificationDetailsStateProcessing, NotificationDetailsStateScheduled, NotificationDetailsStateUnknown} {
		if s.Final() {
			t.Errorf("%s is final", s)
		}
	}
}

func TestWaitForNotificationOutcomeDetails(t *testing.T) {
	h := newFakeHub(t)
	h.mu.Lock()
	h.telemetryMisses = 3
	h.mu.Unlock()
	got, err := h.client.WaitForNotificationOutcomeDetails(context.Background(), "n-1", &WaitForNotificationOutcomeDetailsOptions{PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != NotificationDetailsStateCompleted || got.Outcomes["Apns"]["Success"] != 3 || got.Outcomes["FcmV1"]["Success"] != 5 {
		t.Errorf("details: %+v", got.NotificationDetails)
	}
	h.mu.Lock()
	left := h.telemetryMisses
	h.mu.Unlock()
	if left != 0 {
		t.Errorf("returned before the 404s were over")
	}

	// 404 for longer than the timeout: a deadline error wrapping the 404.
	h.mu.Lock()
	h.telemetryMisses = 1 << 30
	h.mu.Unlock()
	_, err = h.client.WaitForNotificationOutcomeDetails(context.Background(), "n-2", &WaitForNotificationOutcomeDetailsOptions{PollInterval: time.Millisecond, Timeout: 20 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v; want a deadline error wrapping the last 404", err)
	}
}

func TestWaitForNotificationOutcomeDetailsUntilFinal(t *testing.T) {
	states := []string{"Enqueued", "Processing", "Completed"}
	var reads atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := states[min(int(reads.Add(1))-1, len(states)-1)]
		w.Write(atom.MarshalNotificationDetails(atom.NotificationDetails{NotificationID: "x", State: s}))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, "hub", "2020-06")
	got, err := c.WaitForNotificationOutcomeDetails(context.Background(), "x", &WaitForNotificationOutcomeDetailsOptions{PollInterval: time.Millisecond})
	if n := reads.Load(); err != nil || got.State != NotificationDetailsStateCompleted || n != 3 {
		t.Errorf("got %s after %d reads, %v", got.State, n, err)
	}
	reads.Store(0)
	got, err = c.WaitForNotificationOutcomeDetails(context.Background(), "x", &WaitForNotificationOutcomeDetailsOptions{PollInterval: time.Millisecond, AnyState: true})
	if n := reads.Load(); err != nil || got.State != NotificationDetailsStateEnqueued || n != 1 {
		t.Errorf("AnyState: got %s after %d reads, %v", got.State, n, err)
	}
}

func TestGetFeedbackContainerURL(t *testing.T) {
	h := newFakeHub(t)
	got, err := h.client.GetFeedbackContainerURL(context.Background(), nil)
	if err != nil || got.URL != "https://feedback.blob.example/00000000001?sv=2014-02-14&sr=c&sig=SECRET&sp=rl" {
		t.Errorf("got %q, %v", got.URL, err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "  ") }))
	defer srv.Close()
	_, err = newTestClient(t, srv.URL, "hub", "2020-06").GetFeedbackContainerURL(context.Background(), nil)
	if err == nil || strings.Contains(err.Error(), "sig=") {
		t.Errorf("empty body: %v", err)
	}
}
