package emulator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/nhkit/notificationhubs/internal/atom"
)

// HandleState is how the simulated push service treats a device handle.
type HandleState string

// Handle states. A handle is in a state when it was marked with
// Server.MarkHandle (or POST /_emulator/handles), or when it contains one
// of the markers "expired-", "invalid-" or "throttled-" (any case; e.g.
// the FCM token "expired-device-1" or the WNS channel
// "https://expired-1.notify.windows.com/?token=x"). APNs tokens are hex,
// so mark them through the control API.
const (
	// HandleStateOK delivers normally.
	HandleStateOK HandleState = ""
	// HandleStateExpired makes the push service report the channel expired
	// (ExpiredChannel): the registration is deleted, an installation gets
	// pushChannelExpired, and feedback is written.
	HandleStateExpired HandleState = "expired"
	// HandleStateInvalid makes the push service reject the handle
	// (InvalidToken for APNs and FCM, BadChannel elsewhere); feedback is
	// written.
	HandleStateInvalid HandleState = "invalid"
	// HandleStateThrottled makes the push service throttle the channel
	// (Throttled, ChannelThrottled for WNS and MPNS).
	HandleStateThrottled HandleState = "throttled"
)

// Push-service outcomes beside Success, Skipped and
// InvalidNotificationFormat (docs/protocol.md, "Telemetry").
const (
	OutcomeExpiredChannel   = "ExpiredChannel"
	OutcomeInvalidToken     = "InvalidToken"
	OutcomeBadChannel       = "BadChannel"
	OutcomeThrottled        = "Throttled"
	OutcomeChannelThrottled = "ChannelThrottled"
)

// MarkHandle sets the simulated push service's state for handle (compared
// case-insensitively); HandleStateOK clears the mark.
func (s *Server) MarkHandle(handle string, state HandleState) {
	s.pnsMu.Lock()
	defer s.pnsMu.Unlock()
	m := make(map[string]HandleState, len(s.marks)+1) // copy on write: fan-outs read snapshots
	for k, v := range s.marks {
		m[k] = v
	}
	key := strings.ToLower(strings.TrimSpace(handle))
	if state == HandleStateOK {
		delete(m, key)
	} else {
		m[key] = state
	}
	s.marks = m
}

// Bounds of the marks the control plane takes.
const (
	maxMarkedHandle = 4096  // bytes of a handle (longer than any push service's)
	maxMarks        = 10000 // marked handles
)

// markHandleBounded is MarkHandle, unless it would mark more than
// maxMarks handles.
func (s *Server) markHandleBounded(handle string, state HandleState) bool {
	s.pnsMu.Lock()
	_, has := s.marks[strings.ToLower(strings.TrimSpace(handle))]
	full := !has && state != HandleStateOK && len(s.marks) >= maxMarks
	s.pnsMu.Unlock()
	if full {
		return false
	}
	s.MarkHandle(handle, state)
	return true
}

// HandleMarks returns the marked handles (lower-cased) and their states.
func (s *Server) HandleMarks() map[string]HandleState {
	s.pnsMu.Lock()
	defer s.pnsMu.Unlock()
	out := make(map[string]HandleState, len(s.marks))
	for k, v := range s.marks {
		out[k] = v
	}
	return out
}

func (s *Server) markSnapshot() map[string]HandleState {
	s.pnsMu.Lock()
	defer s.pnsMu.Unlock()
	return s.marks
}

// handleStateOf returns the state of handle under marks and the markers.
func handleStateOf(marks map[string]HandleState, handle string) HandleState {
	if len(marks) > 0 {
		if st, ok := marks[strings.ToLower(handle)]; ok {
			return st
		}
	}
	if strings.IndexByte(handle, '-') < 0 {
		return HandleStateOK
	}
	l := strings.ToLower(handle)
	switch {
	case strings.Contains(l, "expired-"):
		return HandleStateExpired
	case strings.Contains(l, "invalid-"):
		return HandleStateInvalid
	case strings.Contains(l, "throttled-"):
		return HandleStateThrottled
	}
	return HandleStateOK
}

// pnsOutcome is the outcome name platform p's push service gives state.
func pnsOutcome(p platform, st HandleState) string {
	switch st {
	case HandleStateExpired:
		return OutcomeExpiredChannel
	case HandleStateInvalid:
		if p == pApple || p == pGcm || p == pFcmV1 {
			return OutcomeInvalidToken
		}
		return OutcomeBadChannel
	case HandleStateThrottled:
		if p == pWindows || p == pMpns {
			return OutcomeChannelThrottled
		}
		return OutcomeThrottled
	}
	return OutcomeSuccess
}

// expireTarget does what the service does when a push service reports a
// channel expired: it deletes the registration, or marks the
// installation's pushChannelExpired. The caller holds s.mu.
func (s *Server) expireTarget(h *hub, t *target) []dbOp {
	if t.reg != nil {
		if h.target(t.regID) != t {
			return nil
		}
		h.remove(t)
		return []dbOp{s.opDelReg(h, t.regID)}
	}
	in := t.inst
	if h.installations[in.id] != in || in.pushChannelExpired {
		return nil
	}
	in.pushChannelExpired = true
	return []dbOp{s.opPutInst(h, in)}
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(s)))
	return hex.EncodeToString(sum[:8])
}

// feedbackContainer is the blob container of hub's PNS feedback.
func feedbackContainer(hub string) string { return "feedback-" + shortHash(hub) }

// errorContainer holds the PnsErrorDetails blobs of hub's sends.
func errorContainer(hub string) string { return "pnserrors-" + shortHash(hub) }

// feedbackLines renders feedback documents, one per line, each with the
// service's (utf-16) XML declaration.
func feedbackLines(fbs []atom.PnsFeedback) []byte {
	var b []byte
	for _, f := range fbs {
		b = append(b, `<?xml version="1.0" encoding="utf-16"?>`...)
		b = append(b, atom.MarshalPnsFeedback(f)...)
		b = append(b, '\n')
	}
	return b
}

// appendFeedback appends to the hub's feedback blob of the day
// (MMddyyyy); when the blob store cannot take it, it logs a warning.
func (s *Server) appendFeedback(hub string, fbs []atom.PnsFeedback) {
	if _, err := s.blobs.append(feedbackContainer(hub), s.now().UTC().Format("01022006"), feedbackLines(fbs)); err != nil {
		s.log.Warn("feedback not written", "hub", hub, "handles", len(fbs), "error", err.Error())
	}
}

// writeErrorDetails stores the failures of one send and returns the blob,
// or "" and a warning in the log when the blob store cannot take them.
func (s *Server) writeErrorDetails(hub, nid string, fbs []atom.PnsFeedback) string {
	c, name := errorContainer(hub), nid+".txt"
	if _, err := s.blobs.append(c, name, feedbackLines(fbs)); err != nil {
		s.log.Warn("error details not written", "hub", hub, "notificationId", nid, "failures", len(fbs), "error", err.Error())
		return ""
	}
	return c + "/" + name
}

func (s *Server) handleFeedbackContainer(q *request) {
	if !s.requireStandard(q) {
		return
	}
	c := feedbackContainer(q.hubName)
	s.blobs.ensure(c)
	q.write(http.StatusOK, "text/plain; charset=utf-8", []byte(s.blobURL(q, c, "rl")))
}

// handleListMarks serves GET /_emulator/handles: the marks.
func (s *Server) handleListMarks(q *request) { q.writeJSON(s.HandleMarks()) }

// handleMark serves POST /_emulator/handles
// {"handle":"…","state":"expired|invalid|throttled|"}: it sets one mark.
func (s *Server) handleMark(q *request) {
	var body struct {
		Handle string      `json:"handle"`
		State  HandleState `json:"state"`
	}
	raw, err := q.readBody(1 << 16)
	if err == nil {
		err = json.Unmarshal(raw, &body)
	}
	if err != nil || strings.TrimSpace(body.Handle) == "" {
		q.fail(http.StatusBadRequest, "The body must be {\"handle\":\"…\",\"state\":\"expired|invalid|throttled\"}.")
		return
	}
	switch body.State {
	case HandleStateOK, HandleStateExpired, HandleStateInvalid, HandleStateThrottled:
	default:
		q.fail(http.StatusBadRequest, "The state must be expired, invalid, throttled or empty.")
		return
	}
	if len(body.Handle) > maxMarkedHandle {
		q.fail(http.StatusBadRequest, "The handle has "+strconv.Itoa(len(body.Handle))+" bytes: a handle has at most "+strconv.Itoa(maxMarkedHandle)+".")
		return
	}
	if !s.markHandleBounded(body.Handle, body.State) {
		q.fail(http.StatusConflict, "The emulator keeps at most "+strconv.Itoa(maxMarks)+" marked handles: clear some first (state \"\").")
		return
	}
	q.empty(http.StatusNoContent, "")
}
