package emulator

import (
	"net/http"
	"strings"
	"time"

	"github.com/nhkit/notificationhubs/emulator/internal/push"
	"github.com/nhkit/notificationhubs/internal/atom"
)

// countElements names the per-platform count elements of
// NotificationDetails, in the service's order.
var countElements = []struct {
	p  platform
	el string
}{
	{pApple, "ApnsOutcomeCounts"}, {pMpns, "MpnsOutcomeCounts"}, {pWindows, "WnsOutcomeCounts"},
	{pGcm, "GcmOutcomeCounts"}, {pAdm, "AdmOutcomeCounts"}, {pFcmV1, "FcmV1OutcomeCounts"},
	{pBaidu, "BaiduOutcomeCounts"}, {pBrowser, "BrowserOutcomeCounts"}, {pXiaomi, "XiaomiOutcomeCounts"},
}

// outcomeOrder lists outcome names in a stable order: Success first.
var outcomeOrder = []string{OutcomeSuccess, OutcomeSkipped, OutcomeInvalidFormat, OutcomeExpiredChannel,
	OutcomeInvalidToken, OutcomeBadChannel, OutcomeThrottled, OutcomeChannelThrottled,
	OutcomeInvalidCredentials, push.OutcomeWrongToken, push.OutcomeInvalidNotificationSize,
	push.OutcomePnsServerError, push.OutcomePnsUnavailable, push.OutcomePnsUnreachable,
	push.OutcomeTokenProviderUnreachable, push.OutcomeDropped}

// findSend returns a copy of the newest send record with id in hub.
func (s *Server) findSend(hubName, id string) *SendRecord {
	var rec *SendRecord
	s.sends.each(func(r *SendRecord) {
		if r.NotificationID == id && strings.EqualFold(r.Hub, hubName) {
			c := *r
			rec = &c
		}
	})
	return rec
}

// handleNotificationDetails answers per-message telemetry (docs/protocol.md,
// "Telemetry"): Scheduled while a scheduled notification is pending, 404 until
// Options.TelemetryDelay has passed since the send, then Completed,
// NoTargetFound or Canceled with per-platform outcome counts.
func (s *Server) handleNotificationDetails(q *request) {
	if !s.requireStandard(q) {
		return
	}
	id := q.param("id")
	loc := "sb://" + q.r.Host + "/" + q.hubName + "/messages/" + id + q.versionQuery()
	s.mu.RLock()
	sc := q.hub.scheduled[id]
	var d atom.NotificationDetails
	if sc != nil {
		d = atom.NotificationDetails{
			NotificationID: id, Location: loc, State: "Scheduled",
			EnqueueTime: sc.enqueued.UTC().Format(time.RFC3339), NotificationBody: sc.n.body, Tags: sc.tagHeader,
		}
	}
	s.mu.RUnlock()
	if sc != nil {
		q.write(http.StatusOK, ctXML, atom.MarshalNotificationDetails(d))
		return
	}
	rec := s.findSend(q.hubName, id)
	if rec == nil || (rec.State != "Canceled" && s.now().Before(rec.SentTime.Add(s.opts.TelemetryDelay))) {
		q.fail(http.StatusNotFound, "The notification was not found. Notification details may not be available yet; wait and try again after 10 seconds.")
		return
	}
	state := rec.State
	if state == "" {
		state = "Completed"
	}
	d = atom.NotificationDetails{
		NotificationID:   rec.NotificationID,
		Location:         loc,
		State:            state,
		EnqueueTime:      rec.EnqueueTime.UTC().Format(time.RFC3339),
		StartTime:        rec.SentTime.UTC().Format(time.RFC3339Nano),
		EndTime:          rec.SentTime.UTC().Format(time.RFC3339Nano),
		NotificationBody: rec.Body,
		Tags:             rec.Audience,
		TargetPlatforms:  strings.Join(rec.Platforms, ","),
	}
	for _, ce := range countElements {
		m, ok := rec.Outcomes[ce.p.String()]
		if !ok {
			continue
		}
		var counts []atom.OutcomeCount
		for _, name := range outcomeOrder {
			if n := m[name]; n > 0 {
				counts = append(counts, atom.OutcomeCount{Name: name, Count: n})
			}
		}
		d.Counts = append(d.Counts, atom.PlatformCounts{Element: ce.el, Counts: counts})
	}
	if rec.ErrorBlob != "" {
		d.PnsErrorDetailsURI = s.blobURL(q, rec.ErrorBlob, "r")
	}
	q.write(http.StatusOK, ctXML, atom.MarshalNotificationDetails(d))
}
