package emulator

import (
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/nhkit/notificationhubs/internal/tagexpr"
)

// scheduledSend is a pending scheduled notification (docs/protocol.md, "Scheduled sends").
// When it fires, its send record takes the scheduled id as notification
// id, so GET /{hub}/messages/{scheduledId} follows it from Scheduled to
// Completed (or Canceled).
type scheduledSend struct {
	id        string
	hubName   string
	due       time.Time
	enqueued  time.Time
	n         *notification
	tagHeader string
	present   bool
}

// rebuildNotification restores a stored notification.
func rebuildNotification(format string, headers []kv, body string) (*notification, error) {
	n := &notification{format: format, headers: headers, body: body}
	if format == "template" {
		keys, m, err := orderedObject([]byte(body))
		if err != nil {
			return nil, fmt.Errorf("template notification body: %w", err)
		}
		for _, k := range keys {
			v, _ := jsonText(m[k])
			n.props = append(n.props, kv{k, v})
		}
		return n, nil
	}
	n.platform = platformFromFormat(format)
	if n.platform == pNone {
		return nil, fmt.Errorf("unknown format %q", format)
	}
	return n, nil
}

func (s *Server) handleSchedule(q *request) {
	if !s.requireStandard(q) {
		return
	}
	n, err := q.parseNotification()
	if err != nil {
		q.failErr(err)
		return
	}
	v := q.r.Header.Get(hScheduleTime)
	if strings.TrimSpace(v) == "" {
		q.fail(http.StatusBadRequest, "The 'ServiceBusNotification-ScheduleTime' header is required.")
		return
	}
	due, ok := parseTimeLoose(v)
	if !ok {
		q.fail(http.StatusBadRequest, "The value '"+v+"' of the 'ServiceBusNotification-ScheduleTime' header is not a valid UTC time.")
		return
	}
	tagVals, present := q.r.Header[textproto.CanonicalMIMEHeaderKey(hTags)]
	now := s.now()
	sc := &scheduledSend{due: due, n: n, present: present, enqueued: now, hubName: q.hubName}
	if present {
		sc.tagHeader = tagVals[0]
		if strings.TrimSpace(sc.tagHeader) != "" {
			if _, err := tagexpr.Parse(sc.tagHeader); err != nil {
				q.fail(http.StatusBadRequest, "The tag expression '"+sc.tagHeader+"' is invalid: "+err.Error())
				return
			}
		}
	}
	sc.id = fmt.Sprintf("%s_%s_%d_%d", randHex(16), now.UTC().Format("20060102150405"), now.UnixNano()%100000000, notificationCounter.Add(1))
	h := q.hub
	s.mu.Lock()
	h.scheduled[sc.id] = sc
	b := s.persist(s.opPutSched(h, sc))
	s.mu.Unlock()
	if err := b.wait(); err != nil {
		q.failDurability(err)
		return
	}
	if !due.After(now) {
		s.fireScheduled(h, sc.id)
	} else {
		s.arm(h, sc)
	}
	q.w.Header().Set("Location", q.baseURL()+"/schedulednotifications/"+sc.id+q.versionQuery())
	q.empty(http.StatusCreated, ctXML)
}

// arm starts the timer of a pending scheduled notification; one already
// due fires at once (in the background).
func (s *Server) arm(h *hub, sc *scheduledSend) {
	s.schedMu.Lock()
	defer s.schedMu.Unlock()
	if s.closed {
		return
	}
	id := sc.id
	s.timers[id] = time.AfterFunc(max(0, sc.due.Sub(s.now())), func() { s.fireScheduled(h, id) })
}

// stopTimers stops the timers of the scheduled notifications ids.
func (s *Server) stopTimers(ids ...string) {
	s.schedMu.Lock()
	defer s.schedMu.Unlock()
	for _, id := range ids {
		if t := s.timers[id]; t != nil {
			t.Stop()
			delete(s.timers, id)
		}
	}
}

// fireScheduled sends a scheduled notification if it is still pending.
// Its removal from the pending set is committed with its send record, so
// a crash leaves it either pending or sent.
func (s *Server) fireScheduled(h *hub, id string) {
	s.schedMu.Lock()
	delete(s.timers, id)
	closed := s.closed
	s.schedMu.Unlock()
	if closed {
		return
	}
	s.mu.Lock()
	sc, pending := h.scheduled[id]
	delete(h.scheduled, id)
	s.mu.Unlock()
	if !pending {
		return
	}
	_, _, err := s.sendAt(h, sc.hubName, sc.n, sc.tagHeader, sc.present, false, true, sc.id, sc.enqueued, s.opDelSched(h, id))
	if err != nil {
		s.log.Error("scheduled notification failed", "hub", sc.hubName, "id", id, "error", err)
	}
}

func (s *Server) handleCancelScheduled(q *request) {
	if !s.requireStandard(q) {
		return
	}
	id := q.param("id")
	h := q.hub
	s.mu.Lock()
	sc, ok := h.scheduled[id]
	if !ok {
		s.mu.Unlock()
		q.fail(http.StatusNotFound, "The scheduled notification was not found.")
		return
	}
	delete(h.scheduled, id)
	now := s.now()
	rec := SendRecord{NotificationID: id, Hub: sc.hubName, Format: sc.n.format, Audience: sc.tagHeader,
		Broadcast: !sc.present, Scheduled: true, State: "Canceled", Body: sc.n.body, EnqueueTime: sc.enqueued, SentTime: now}
	s.sends.push(rec)
	b := s.persist(append([]dbOp{s.opDelSched(h, id)}, s.opAddSend(&rec, nil)...)...)
	s.mu.Unlock()
	s.stopTimers(id)
	if err := b.wait(); err != nil {
		q.failDurability(err)
		return
	}
	q.empty(http.StatusOK, "")
}

// start arms the scheduled notifications restored from the database and
// resumes unfinished jobs.
func (s *Server) start() {
	s.mu.RLock()
	var hs []*hub
	var scs [][]*scheduledSend
	for _, h := range s.hubs {
		var l []*scheduledSend
		for _, sc := range h.scheduled {
			l = append(l, sc)
		}
		hs = append(hs, h)
		scs = append(scs, l)
	}
	s.mu.RUnlock()
	for i, h := range hs {
		for _, sc := range scs[i] {
			s.arm(h, sc)
		}
	}
	s.resumeJobs()
}
