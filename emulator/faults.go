package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Operations a Fault can target (Fault.Op).
const (
	OpAny          = "any"
	OpSend         = "send"         // POST messages, messages/$batch
	OpSchedule     = "schedule"     // scheduled notifications and their cancel
	OpTelemetry    = "telemetry"    // GET messages/{id}
	OpRegistration = "registration" // registrations, registrationids, tags/{tag}/registrations
	OpInstallation = "installation" // installations
	OpJob          = "job"          // jobs
	OpFeedback     = "feedback"     // feedbackcontainer
	OpHub          = "hub"          // hub management: PUT, GET, DELETE /{hub} and the listings
)

// faultOps are the values Fault.Op takes ("" is OpAny).
var faultOps = []string{OpAny, OpSend, OpSchedule, OpTelemetry, OpRegistration, OpInstallation, OpJob, OpFeedback, OpHub}

// Fault is an injected failure: the next Count requests matching Op and
// Hub get it instead of their answer.
type Fault struct {
	// ID identifies the fault (set by InjectFault).
	ID string `json:"id,omitempty"`
	// Op is one of the Op constants; "" means any.
	Op string `json:"op,omitempty"`
	// Hub restricts the fault to one hub (case-insensitive); "" means any.
	Hub string `json:"hub,omitempty"`
	// Count is how many requests the fault affects; 0 means 1, negative
	// means every request until the fault is removed.
	Count int `json:"count,omitempty"`
	// Status, if set, is answered with the service's error body: 429
	// (throttled), 403 (quota exceeded), 500, 503 or any other.
	Status int `json:"status,omitempty"`
	// RetryAfter is the Retry-After header in seconds; 0 means 1 for 429
	// and 403 and none otherwise.
	RetryAfter int `json:"retryAfter,omitempty"`
	// Latency delays the request before it is answered (or failed).
	Latency time.Duration `json:"-"`
	// Drop closes the connection without an answer.
	Drop bool `json:"drop,omitempty"`
	// Remaining is how many requests the fault will still affect
	// (negative: unlimited); set by Faults.
	Remaining int `json:"remaining,omitempty"`
}

// faultJSON is a Fault on the wire: latency as a Go duration string.
type faultJSON struct {
	Fault
	LatencyText string `json:"latency,omitempty"`
}

type faultSet struct {
	mu   sync.Mutex
	next int
	l    []*Fault
}

// InjectFault adds a fault and returns its id.
func (s *Server) InjectFault(f Fault) string {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.next++
	f.ID = "f" + strconv.Itoa(s.faults.next)
	f.Op = strings.ToLower(strings.TrimSpace(f.Op))
	if f.Op == OpAny {
		f.Op = ""
	}
	f.Remaining = f.Count
	if f.Remaining == 0 {
		f.Remaining = 1
	}
	s.faults.l = append(s.faults.l, &f)
	return f.ID
}

// RemoveFault removes one fault; it reports whether it existed.
func (s *Server) RemoveFault(id string) bool {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	for i, f := range s.faults.l {
		if f.ID == id {
			s.faults.l = append(s.faults.l[:i], s.faults.l[i+1:]...)
			return true
		}
	}
	return false
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.faults.mu.Lock()
	s.faults.l = nil
	s.faults.mu.Unlock()
}

// Faults returns the pending faults in the order they apply.
func (s *Server) Faults() []Fault {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	out := make([]Fault, 0, len(s.faults.l))
	for _, f := range s.faults.l {
		out = append(out, *f)
	}
	return out
}

// take consumes the first fault matching op and hub.
func (fs *faultSet) take(op, hub string) (Fault, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, f := range fs.l {
		if (f.Op == "" || f.Op == op) && (f.Hub == "" || strings.EqualFold(f.Hub, hub)) {
			c := *f
			if f.Remaining > 0 {
				f.Remaining--
				if f.Remaining == 0 {
					fs.l = append(fs.l[:i], fs.l[i+1:]...)
				}
			}
			return c, true
		}
	}
	return Fault{}, false
}

// applyFaults answers q with an injected fault or the throttle, if any
// applies; it reports whether it answered.
func (s *Server) applyFaults(q *request) bool {
	if f, ok := s.faults.take(q.match.rt.op, q.hubName); ok {
		if f.Latency > 0 && bufferBody(q.r) == nil {
			t := time.NewTimer(f.Latency)
			select {
			case <-t.C:
			case <-q.r.Context().Done():
				t.Stop()
			}
		}
		if f.Drop {
			dropConnection(q)
			return true
		}
		if f.Status != 0 {
			if f.Status < 200 || f.Status > 599 {
				// Only Server.InjectFault lets such a status in.
				q.fail(http.StatusInternalServerError, "The injected fault's status "+strconv.Itoa(f.Status)+" is not a final HTTP status.")
				return true
			}
			ra := f.RetryAfter
			if ra == 0 && (f.Status == http.StatusTooManyRequests || f.Status == http.StatusForbidden) {
				ra = 1
			}
			if ra > 0 {
				q.w.Header().Set("Retry-After", strconv.Itoa(ra))
			}
			q.fail(f.Status, faultMessage(f.Status))
			return true
		}
	}
	if wait, ok := s.throttle.take(q.hubName, s.now()); !ok {
		q.w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
		q.fail(http.StatusTooManyRequests, faultMessage(http.StatusTooManyRequests))
		return true
	}
	return false
}

// maxBufferedBody bounds what bufferBody reads ahead; every body the
// emulator accepts is smaller.
const maxBufferedBody = 2 << 20

// bufferBody reads r's body ahead into memory and puts it back. Go's server
// notices a client that goes away (and cancels r.Context()) only once the
// body has been read to its end, so a latency fault waits on a read body:
// the wait then ends when the client gives up, as it does for a GET. An
// error means the body could not be read (the client is gone); later
// reads return it too.
func bufferBody(r *http.Request) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, maxBufferedBody))
	var rest io.Reader = r.Body
	if err != nil {
		rest = errReader{err}
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(buf), rest), r.Body}
	return err
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func faultMessage(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "The request was throttled: the rate of requests to the hub is too high. Retry after the time given in Retry-After."
	case http.StatusForbidden:
		return "Quota exceeded or message too large; message was rejected."
	case http.StatusInternalServerError:
		return "InternalServerError: The server encountered an internal error. Please retry the request."
	case http.StatusServiceUnavailable:
		return "ServerBusy: The server is busy. Please retry the request."
	}
	return http.StatusText(status)
}

// dropConnection closes the client's connection without an answer.
func dropConnection(q *request) {
	if hj, ok := q.w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			q.status = -1
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// ---- throttle ------------------------------------------------------------------

// throttleLimit is one hub's (or every hub's) throttle: a token bucket of
// rate tokens a second holding at most burst, or, with window set, fixed
// windows of that length admitting rate×window requests each.
type throttleLimit struct {
	rate, burst float64
	window      time.Duration
}

// tokenBucket is the state of one hub's throttle: the bucket's tokens, or
// the current window and the requests it admitted.
type tokenBucket struct {
	tokens float64
	last   time.Time
	count  int // window model: requests admitted in the window starting at last
}

// throttleSet is a throttle per hub.
type throttleSet struct {
	mu      sync.Mutex
	window  time.Duration            // the model of new settings: 0 token bucket, else fixed windows
	rate    map[string]throttleLimit // lower-case hub ("" = every hub)
	buckets map[string]*tokenBucket
}

func (t *throttleSet) init(rate float64, burst int, window time.Duration) {
	t.rate = map[string]throttleLimit{}
	t.buckets = map[string]*tokenBucket{}
	t.window = max(window, 0)
	if rate > 0 {
		t.rate[""] = t.limit(rate, burst)
	}
}

func (t *throttleSet) limit(rate float64, burst int) throttleLimit {
	return throttleLimit{rate: rate, burst: burstOf(rate, burst), window: t.window}
}

func burstOf(rate float64, burst int) float64 {
	if burst > 0 {
		return float64(burst)
	}
	return math.Max(1, rate)
}

func (t *throttleSet) reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buckets = map[string]*tokenBucket{}
}

// take admits a request for hub; when it may not pass it returns the wait
// until one may.
func (t *throttleSet) take(hub string, now time.Time) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.rate) == 0 {
		return 0, true
	}
	key := strings.ToLower(hub)
	cfg, ok := t.rate[key]
	if !ok {
		if cfg, ok = t.rate[""]; !ok {
			return 0, true
		}
	}
	b := t.buckets[key]
	if b == nil {
		b = &tokenBucket{tokens: cfg.burst, last: now}
		t.buckets[key] = b
	}
	if cfg.window > 0 {
		return b.takeWindow(cfg, now)
	}
	b.tokens = math.Min(cfg.burst, b.tokens+now.Sub(b.last).Seconds()*cfg.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / cfg.rate * float64(time.Second)), false
}

// takeWindow is take in the window model: windows start on multiples of
// the window length (whole seconds for one-second windows), each admits
// rate×window requests, and a request beyond waits for the next window.
func (b *tokenBucket) takeWindow(cfg throttleLimit, now time.Time) (time.Duration, bool) {
	start := now.Truncate(cfg.window)
	if !start.Equal(b.last) {
		b.last, b.count = start, 0
	}
	if float64(b.count) < math.Max(1, math.Round(cfg.rate*cfg.window.Seconds())) {
		b.count++
		return 0, true
	}
	return start.Add(cfg.window).Sub(now), false
}

// SetThrottle throttles hub ("" = every hub without its own setting) to
// rate requests per second with burst tokens (0: one second's worth),
// answering 429 with Retry-After beyond it; rate 0 removes the setting.
// With Options.ThrottleWindow the model is fixed windows instead, and
// burst is not used.
func (s *Server) SetThrottle(hub string, rate float64, burst int) {
	t := &s.throttle
	t.mu.Lock()
	defer t.mu.Unlock()
	key := strings.ToLower(hub)
	if rate <= 0 {
		delete(t.rate, key)
	} else {
		t.rate[key] = t.limit(rate, burst)
	}
	t.buckets = map[string]*tokenBucket{}
}

// setThrottleBounded is SetThrottle, unless it would give more than
// maxThrottleHubs hubs a throttle of their own.
func (s *Server) setThrottleBounded(hub string, rate float64, burst int) bool {
	t := &s.throttle
	t.mu.Lock()
	_, has := t.rate[strings.ToLower(hub)]
	full := !has && rate > 0 && len(t.rate) >= maxThrottleHubs
	t.mu.Unlock()
	if full {
		return false
	}
	s.SetThrottle(hub, rate, burst)
	return true
}

// handleListFaults serves GET /_emulator/faults.
func (s *Server) handleListFaults(q *request) {
	l := s.Faults()
	out := make([]faultJSON, len(l))
	for i, f := range l {
		out[i] = faultJSON{Fault: f}
		if f.Latency > 0 {
			out[i].LatencyText = f.Latency.String()
		}
	}
	q.writeJSON(out)
}

// handleAddFault serves POST /_emulator/faults with a fault as JSON.
func (s *Server) handleAddFault(q *request) {
	raw, err := q.readBody(1 << 16)
	var fj faultJSON
	if err == nil {
		err = json.Unmarshal(raw, &fj)
	}
	if err == nil && fj.LatencyText != "" {
		fj.Latency, err = time.ParseDuration(fj.LatencyText)
	}
	if err != nil {
		q.fail(http.StatusBadRequest, "The body must be a fault: {\"op\",\"hub\",\"count\",\"status\",\"retryAfter\",\"latency\":\"250ms\",\"drop\"}.")
		return
	}
	if fj.Status == 0 && !fj.Drop && fj.Latency == 0 {
		q.fail(http.StatusBadRequest, "The fault needs a status, a latency or drop.")
		return
	}
	if msg := checkFault(&fj.Fault); msg != "" {
		q.fail(http.StatusBadRequest, msg)
		return
	}
	if len(s.Faults()) >= maxFaults {
		q.fail(http.StatusConflict, "The emulator keeps at most "+strconv.Itoa(maxFaults)+" faults: remove some first (DELETE /_emulator/faults).")
		return
	}
	fid := s.InjectFault(fj.Fault)
	b, _ := json.Marshal(map[string]string{"id": fid})
	q.write(http.StatusCreated, ctJSON, append(b, '\n'))
}

// Bounds of what the control plane takes for faults and throttles.
const (
	maxFaults        = 1000             // pending faults
	maxFaultCount    = 1_000_000        // Fault.Count
	maxFaultLatency  = 10 * time.Minute // Fault.Latency
	maxRetryAfter    = 86400            // Fault.RetryAfter, seconds
	maxThrottleHubs  = 1000             // hubs with a throttle of their own
	maxThrottleValue = 1_000_000        // rate (per second) and burst
)

// checkFault validates a fault given to the control plane: it returns
// what is wrong, or "".
func checkFault(f *Fault) string {
	if op := strings.ToLower(strings.TrimSpace(f.Op)); op != "" && !slices.Contains(faultOps, op) {
		return "The fault's op " + strconv.Quote(f.Op) + " is none of " + strings.Join(faultOps[:len(faultOps)-1], ", ") +
			" and " + faultOps[len(faultOps)-1] + "."
	}
	if f.Hub != "" {
		if err := validHubName(f.Hub); err != nil {
			return err.Error()
		}
	}
	switch {
	case f.Status != 0 && (f.Status < 200 || f.Status > 599):
		return "The fault's status must be a final HTTP status, 200 to 599, not " + strconv.Itoa(f.Status) + "."
	case f.Count < -1 || f.Count > maxFaultCount:
		return "The fault's count must be -1 (every request), 0 (one) or up to " + strconv.Itoa(maxFaultCount) + "."
	case f.RetryAfter < 0 || f.RetryAfter > maxRetryAfter:
		return "The fault's retryAfter must be 0 to 86400 seconds."
	case f.Latency < 0 || f.Latency > maxFaultLatency:
		return "The fault's latency must be 0 to 10m."
	}
	return ""
}

// handleClearFaults serves DELETE /_emulator/faults.
func (s *Server) handleClearFaults(q *request) {
	s.ClearFaults()
	q.empty(http.StatusNoContent, "")
}

// handleRemoveFault serves DELETE /_emulator/faults/{id}.
func (s *Server) handleRemoveFault(q *request) {
	if !s.RemoveFault(q.param("id")) {
		q.fail(http.StatusNotFound, "No such fault.")
		return
	}
	q.empty(http.StatusNoContent, "")
}

// handleThrottle serves POST /_emulator/throttle {"hub","rate","burst"}.
func (s *Server) handleThrottle(q *request) {
	var body struct {
		Hub   string  `json:"hub"`
		Rate  float64 `json:"rate"`
		Burst int     `json:"burst"`
	}
	raw, err := q.readBody(1 << 16)
	if err == nil {
		err = json.Unmarshal(raw, &body)
	}
	if err != nil || !(body.Rate >= 0 && body.Rate <= maxThrottleValue) || body.Burst < 0 || body.Burst > maxThrottleValue {
		q.fail(http.StatusBadRequest, "The body must be {\"hub\":\"…\",\"rate\":requests per second,\"burst\":n}, rate and burst 0 to 1000000.")
		return
	}
	if body.Hub != "" {
		if err := validHubName(body.Hub); err != nil {
			q.fail(http.StatusBadRequest, err.Error())
			return
		}
	}
	if !s.setThrottleBounded(body.Hub, body.Rate, body.Burst) {
		q.fail(http.StatusConflict, "The emulator keeps throttles for at most "+strconv.Itoa(maxThrottleHubs)+" hubs: remove some first (rate 0).")
		return
	}
	q.empty(http.StatusNoContent, "")
}
