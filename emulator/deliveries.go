package emulator

import (
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Delivery is one notification as the push service would have received it.
type Delivery struct {
	// NotificationID is the id of the send (the last segment of its
	// Location header).
	NotificationID string `json:"notificationId"`
	// Hub is the hub name as the sender spelled it.
	Hub string `json:"hub"`
	// Platform is apple, gcm, fcmv1, windows, windowsphone, adm, baidu,
	// browser or xiaomi.
	Platform string `json:"platform"`
	// Handle is the PNS handle (device token, channel URI, endpoint…).
	Handle string `json:"handle"`
	// RegistrationID is the target registration (also set for
	// installation-backed targets); empty for direct sends.
	RegistrationID string `json:"registrationId,omitempty"`
	// InstallationID is set when the target came from an installation.
	InstallationID string `json:"installationId,omitempty"`
	// Format is the ServiceBusNotification-Format of the send.
	Format string `json:"format"`
	// Audience is the send's tag expression (its
	// ServiceBusNotification-Tags header); "" for broadcast and direct
	// sends.
	Audience string `json:"audience,omitempty"`
	// Tags are the target's tags, system tags included.
	Tags []string `json:"tags,omitempty"`
	// Headers are the headers the push service would receive.
	Headers map[string]string `json:"headers,omitempty"`
	// Payload is the body the push service would receive.
	Payload string `json:"payload"`
	// Test is set for test (debug) sends.
	Test bool `json:"test,omitempty"`
	// Direct is set for direct and batch direct sends.
	Direct bool `json:"direct,omitempty"`
	// Outcome is Success, Skipped (a duplicate handle) or
	// InvalidNotificationFormat (a template that did not render); with
	// Options.Deliver, Pending until the push service has answered, then
	// the outcome of its answer (deliver.go).
	Outcome string `json:"outcome"`
	// Time is when the emulator handed the notification over.
	Time time.Time `json:"time"`
	// Attempts are the push service's answers, one per attempt, when the
	// emulator delivers to it (Options.Deliver).
	Attempts []DeliveryAttempt `json:"attempts,omitempty"`
}

// DeliveryFilter selects deliveries; empty fields match everything. Hub is
// compared case-insensitively.
type DeliveryFilter struct {
	Hub, NotificationID, Handle, Tag string
}

func (f DeliveryFilter) match(d *Delivery) bool {
	if f.Hub != "" && !strings.EqualFold(f.Hub, d.Hub) {
		return false
	}
	if f.NotificationID != "" && f.NotificationID != d.NotificationID {
		return false
	}
	if f.Handle != "" && !strings.EqualFold(f.Handle, d.Handle) {
		return false
	}
	if f.Tag != "" && !slices.Contains(d.Tags, f.Tag) {
		return false
	}
	return true
}

// SendRecord summarises one send request (for telemetry and inspection).
type SendRecord struct {
	NotificationID string `json:"notificationId"`
	Hub            string `json:"hub"`
	Format         string `json:"format"`
	Audience       string `json:"audience"` // tag expression, "" for broadcast
	Broadcast      bool   `json:"broadcast,omitempty"`
	Direct         bool   `json:"direct,omitempty"`
	Test           bool   `json:"test,omitempty"`
	Scheduled      bool   `json:"scheduled,omitempty"`
	Targets        int    `json:"targets"`
	Success        int    `json:"success"`
	Skipped        int    `json:"skipped"`
	Failed         int    `json:"failed"`
	Body           string `json:"-"`
	// Platforms are telemetry's TargetPlatforms: the platforms reached,
	// as their template variants (appletemplate, …) for a template send.
	Platforms   []string  `json:"platforms,omitempty"`
	EnqueueTime time.Time `json:"enqueueTime"`
	// SentTime is when the notification was handed to the push services
	// (for a scheduled one, when it fired or was cancelled).
	SentTime time.Time `json:"sentTime"`
	// State is the telemetry state: Completed, NoTargetFound or Canceled,
	// or Processing while Pending is not 0.
	State string `json:"state,omitempty"`
	// Pending counts the targets handed to a push service that has not
	// answered yet (Options.Deliver).
	Pending int `json:"pending,omitempty"`
	// Outcomes counts the outcomes per platform (apple, fcmv1, …), e.g.
	// {"apple":{"Success":3,"ExpiredChannel":1}}.
	Outcomes map[string]map[string]int `json:"outcomes,omitempty"`
	// ErrorBlob names the emulator blob (container/name) listing the push
	// services' failures, linked from the telemetry's PnsErrorDetailsUri.
	ErrorBlob string `json:"errorBlob,omitempty"`
}

// Deliveries returns the retained deliveries that match f, oldest first
// (newest last).
func (s *Server) Deliveries(f DeliveryFilter) []Delivery {
	var out []Delivery
	s.deliveries.each(func(d *Delivery) {
		if f.match(d) {
			dd := *d
			dd.Tags = slices.Clone(d.Tags)
			if d.Headers != nil {
				dd.Headers = make(map[string]string, len(d.Headers))
				for k, v := range d.Headers {
					dd.Headers[k] = v
				}
			}
			out = append(out, dd)
		}
	})
	return out
}

// Sends returns the retained send records of hub ("" = all), oldest first.
func (s *Server) Sends(hub string) []SendRecord {
	var out []SendRecord
	s.sends.each(func(r *SendRecord) {
		if hub == "" || strings.EqualFold(hub, r.Hub) {
			c := *r
			c.Platforms = slices.Clone(r.Platforms)
			if r.Outcomes != nil {
				c.Outcomes = make(map[string]map[string]int, len(r.Outcomes))
				for p, m := range r.Outcomes {
					c.Outcomes[p] = maps.Clone(m)
				}
			}
			out = append(out, c)
		}
	})
	return out
}

// ring is a bounded FIFO: pushing beyond its capacity, in values or in
// bytes (as cost counts them), drops the oldest. It numbers the values
// pushed 1, 2, 3, … (never reset), so a value keeps its number, its
// sequence, while it is retained.
type ring[T any] struct {
	mu       sync.Mutex
	buf      []T // circular; grows up to n slots
	head     int // slot of the oldest value
	count    int
	n        int
	bytes    int64 // cost of the retained values
	maxBytes int64
	cost     func(*T) int64
	pushed   uint64 // values ever pushed: the newest has this sequence
}

func newRing[T any](capacity int, maxBytes int64, cost func(*T) int64) *ring[T] {
	return &ring[T]{n: capacity, maxBytes: maxBytes, cost: cost}
}

// push appends v and returns the sequence of its last value (that of
// v[i] is last-len(v)+1+i, retained or not).
func (r *ring[T]) push(v ...T) (last uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pushed += uint64(len(v))
	last = r.pushed
	if len(v) > r.n {
		v = v[len(v)-r.n:]
	}
	for i := range v {
		if r.count == r.n {
			r.dropOldest()
		}
		if r.count == len(r.buf) {
			r.grow()
		}
		r.buf[(r.head+r.count)%len(r.buf)] = v[i]
		r.count++
		if r.cost != nil {
			r.bytes += r.cost(&v[i])
		}
	}
	for r.count > 0 && r.bytes > r.maxBytes && r.maxBytes > 0 {
		r.dropOldest()
	}
	return last
}

// dropOldest forgets the oldest value, releasing what it refers to.
func (r *ring[T]) dropOldest() {
	var zero T
	old := &r.buf[r.head]
	if r.cost != nil {
		r.bytes -= r.cost(old)
	}
	*old = zero
	r.head = (r.head + 1) % len(r.buf)
	r.count--
}

// grow makes room for more values, in order from slot 0.
func (r *ring[T]) grow() {
	nb := make([]T, min(max(2*len(r.buf), 64), r.n))
	for i := range r.count {
		nb[i] = r.buf[(r.head+i)%len(r.buf)]
	}
	r.buf, r.head = nb, 0
}

func (r *ring[T]) each(f func(*T)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.count {
		f(&r.buf[(r.head+i)%len(r.buf)])
	}
}

// eachNewest calls f with the retained values and their sequences,
// newest first, until f returns false.
func (r *ring[T]) eachNewest(f func(seq uint64, v *T) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := r.count - 1; i >= 0; i-- {
		if !f(r.pushed-uint64(r.count-1-i), &r.buf[(r.head+i)%len(r.buf)]) {
			return
		}
	}
}

// usage returns the number and the cost of the retained values.
func (r *ring[T]) usage() (int, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count, r.bytes
}

// reset forgets the values; sequences continue where they were.
func (r *ring[T]) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf, r.head, r.count, r.bytes = nil, 0, 0, 0
}

// recordOverhead is what a record costs beside its strings: the struct,
// slice and map headers, roughly.
const recordOverhead = 256

// size is what a delivery record costs in memory, roughly: its strings,
// each counted as its own copy, and a fixed overhead.
func (d *Delivery) size() int64 {
	n := len(d.NotificationID) + len(d.Hub) + len(d.Platform) + len(d.Handle) + len(d.RegistrationID) +
		len(d.InstallationID) + len(d.Format) + len(d.Audience) + len(d.Payload) + len(d.Outcome)
	for _, t := range d.Tags {
		n += len(t) + 16
	}
	for k, v := range d.Headers {
		n += len(k) + len(v) + 32
	}
	for _, a := range d.Attempts {
		n += len(a.Status) + len(a.Outcome) + len(a.PnsID) + len(a.Reason) + 96
	}
	return int64(n + recordOverhead)
}

// size is what a send record costs in memory, roughly (see
// Delivery.size).
func (r *SendRecord) size() int64 {
	n := len(r.NotificationID) + len(r.Hub) + len(r.Format) + len(r.Audience) + len(r.Body) + len(r.State) + len(r.ErrorBlob)
	for _, p := range r.Platforms {
		n += len(p) + 16
	}
	for p, m := range r.Outcomes {
		n += len(p) + 48
		for k := range m {
			n += len(k) + 24
		}
	}
	return int64(n + recordOverhead)
}

// HubState is the summary GET /_emulator/hubs returns per hub.
type HubState struct {
	Name             string `json:"name"`
	Registrations    int    `json:"registrations"` // targets, installation projections included
	Installations    int    `json:"installations"`
	Tags             int    `json:"tags"`
	ScheduledPending int    `json:"scheduledPending"`
	// CreatedBy is "api" for a hub created through hub management (its own
	// rules; sends need credentials) and "first use" otherwise.
	CreatedBy string `json:"createdBy"`
	// Credentials are the push services the hub has credentials for
	// (apns (token), apns (certificate), fcmv1, gcm, wns, mpns, adm, baidu,
	// browser, xiaomi); never their secrets.
	Credentials []string `json:"credentials"`
	// Disabled is set when the hub refuses registrations and sends.
	Disabled bool `json:"disabled,omitempty"`
}

// Hubs returns the state of every hub, sorted by name.
func (s *Server) Hubs() []HubState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]HubState, 0, len(s.hubs))
	for _, h := range s.hubs {
		out = append(out, HubState{
			Name:             h.name,
			Registrations:    h.registrationCount(),
			Installations:    len(h.installations),
			Tags:             len(h.postings),
			ScheduledPending: len(h.scheduled),
			CreatedBy:        h.createdBy(),
			Credentials:      h.credentialNames(),
			Disabled:         h.meta.disabled,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// handleDeliveries serves GET /_emulator/deliveries?hub=&notificationId=&handle=&tag=.
func (s *Server) handleDeliveries(q *request) {
	d := s.Deliveries(DeliveryFilter{
		Hub:            q.query["hub"],
		NotificationID: q.query["notificationid"],
		Handle:         q.query["handle"],
		Tag:            q.query["tag"],
	})
	if d == nil {
		d = []Delivery{}
	}
	q.writeJSON(d)
}

// handleSends serves GET /_emulator/sends?hub=.
func (s *Server) handleSends(q *request) {
	r := s.Sends(q.query["hub"])
	if r == nil {
		r = []SendRecord{}
	}
	q.writeJSON(r)
}

// handleHubs serves GET /_emulator/hubs.
func (s *Server) handleHubs(q *request) { q.writeJSON(s.Hubs()) }

// handleReset serves POST /_emulator/reset.
func (s *Server) handleReset(q *request) {
	s.Reset()
	q.empty(http.StatusNoContent, "")
}
