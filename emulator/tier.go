package emulator

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// tier is the pricing tier the emulator behaves as.
type tier uint8

const (
	tierStandard tier = iota
	tierBasic
	tierFree
)

func parseTier(s string) (tier, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "standard":
		return tierStandard, nil
	case "basic":
		return tierBasic, nil
	case "free":
		return tierFree, nil
	}
	return 0, fmt.Errorf("emulator tier %q: use free, basic or standard", s)
}

func (t tier) String() string {
	return [...]string{"Standard", "Basic", "Free"}[t]
}

// deviceCap is the tier's limit of active devices per hub.
func (t tier) deviceCap() int {
	return [...]int{10_000_000, 200_000, 500}[t]
}

const skuMessage = "Request rejected because this feature is not enabled for your SKU. Upgrade to Standard."

// requireStandard refuses Standard-only features (telemetry, feedback,
// scheduled sends, jobs) on Free and Basic with the service's 403.
func (s *Server) requireStandard(q *request) bool {
	if s.tier == tierStandard {
		return true
	}
	q.fail(http.StatusForbidden, skuMessage)
	return false
}

// devices counts a hub's active devices: registrations plus
// installations. The caller holds s.mu.
func (h *hub) devices() int { return h.regCount + len(h.installations) }

// checkDeviceCap refuses a new device beyond the tier's cap. The caller
// holds s.mu.
func (s *Server) checkDeviceCap(h *hub) error {
	if c := s.tier.deviceCap(); h.devices() >= c {
		return &httpError{http.StatusForbidden, "The number of active devices of the hub has reached the limit of " +
			strconv.Itoa(c) + " of the " + s.tier.String() + " tier."}
	}
	return nil
}

// rateWindow counts events per key over the last minute.
type rateWindow struct {
	mu   sync.Mutex
	hits map[string][]time.Time
}

func (w *rateWindow) reset() {
	w.mu.Lock()
	w.hits = nil
	w.mu.Unlock()
}

// take records an event for key unless limit events happened in the last
// minute; then it returns how long until one expires.
func (w *rateWindow) take(key string, limit int, now time.Time) (time.Duration, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.hits == nil {
		w.hits = map[string][]time.Time{}
	}
	l := w.hits[key]
	for len(l) > 0 && !l[0].After(now.Add(-time.Minute)) {
		l = l[1:]
	}
	if len(l) >= limit {
		w.hits[key] = l
		return l[0].Add(time.Minute).Sub(now), false
	}
	w.hits[key] = append(l, now)
	return 0, true
}

// allowTestSend enforces the service's 10 test sends per minute per hub
// (docs/protocol.md, "Test sends") with 429 and Retry-After.
func (s *Server) allowTestSend(q *request) bool {
	limit := s.opts.TestSendsPerMinute
	if limit < 0 {
		return true
	}
	if limit == 0 {
		limit = 10
	}
	wait, ok := s.testSend.take(strings.ToLower(q.hubName), limit, s.now())
	if ok {
		return true
	}
	secs := int(math.Ceil(wait.Seconds()))
	q.w.Header().Set("Retry-After", strconv.Itoa(max(1, secs)))
	q.fail(http.StatusTooManyRequests, "The limit of "+strconv.Itoa(limit)+" test sends per minute was exceeded.")
	return false
}
