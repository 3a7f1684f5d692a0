package emulator

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/nhkit/notificationhubs/emulator/inbox"
	"github.com/nhkit/notificationhubs/internal/atom"
	"github.com/nhkit/notificationhubs/internal/tagexpr"
)

// The inbox page (package inbox) is served at /_emulator/ui/ through the
// emulator's routing table: its endpoints (inbox.Routes) are rows of the
// table, behind the control plane's checks (control.go).

// watchBuffer is the channel capacity of each inbox subscription. A
// subscriber that falls further behind misses deliveries (the page
// fetches pages of them anyway).
const watchBuffer = 512

// uiSegments is the number of path segments of the mount point uiPath.
var uiSegments = len(parsePattern(uiPath))

// serveInbox serves one of the inbox page's endpoints. segs are the
// request's decoded path segments, the first uiSegments of them those of
// the mount point.
func (s *Server) serveInbox(q *request, segs []string) {
	r := q.r
	if s.endpoint.Load() == nil && r.Host != "" {
		host := r.Host
		s.uiHost.Store(&host)
	}
	trailing := strings.HasSuffix(r.URL.EscapedPath(), "/")
	if len(segs) == uiSegments && !trailing {
		// The mount point without its slash: send the browser to the
		// directory, so that the page's relative URLs resolve below it.
		q.w.Header().Set("Location", "ui/")
		q.empty(http.StatusMovedPermanently, "")
		return
	}
	// The page's handlers see the path below the mount point, as
	// http.StripPrefix would leave it, made of the decoded segments.
	rest := "/" + strings.Join(segs[uiSegments:], "/")
	if trailing && len(segs) > uiSegments {
		rest += "/"
	}
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path, u.RawPath = rest, ""
	r2.URL = &u
	sw := &statusWriter{ResponseWriter: q.w, status: http.StatusOK}
	q.match.rt.inbox.ServeHTTP(sw, r2)
	q.status = sw.status
}

// statusWriter remembers the status a handler wrote, for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (the event
// stream flushes through it).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// SetPublicEndpoint tells the server the endpoint clients reach it at, such
// as "sb://127.0.0.1:8443/", for the connection strings the inbox page
// offers. Serve and emulatortest call it; without it the page uses the
// host it was loaded from.
func (s *Server) SetPublicEndpoint(endpoint string) {
	if !strings.HasSuffix(endpoint, "/") {
		endpoint += "/"
	}
	s.endpoint.Store(&endpoint)
}

// publicEndpoint returns the endpoint set with SetPublicEndpoint, else one
// made of the inbox page's host, else sb://localhost/.
func (s *Server) publicEndpoint() string {
	if e := s.endpoint.Load(); e != nil {
		return *e
	}
	if h := s.uiHost.Load(); h != nil {
		return "sb://" + *h + "/"
	}
	return "sb://localhost/"
}

// Inbox returns the server as the inbox page's data source. The page is
// already served at /_emulator/ui/; use this to serve it elsewhere.
func (s *Server) Inbox() inbox.Source { return inboxSource{s} }

// inboxSource adapts a Server to inbox.Source.
type inboxSource struct{ s *Server }

// Hubs implements inbox.Source.
func (a inboxSource) Hubs() []inbox.Hub {
	s := a.s
	s.mu.RLock()
	out := make([]inbox.Hub, 0, len(s.hubs))
	for _, h := range s.hubs {
		out = append(out, inbox.Hub{Name: h.name, Registrations: h.regCount, Installations: len(h.installations),
			CreatedBy: h.createdBy(), Credentials: h.credentialNames()})
	}
	s.mu.RUnlock()
	counts := map[string]int{}
	s.deliveries.eachNewest(func(_ uint64, d *Delivery) bool {
		counts[strings.ToLower(d.Hub)]++
		return true
	})
	for i := range out {
		out[i].Deliveries = counts[strings.ToLower(out[i].Name)]
	}
	slices.SortFunc(out, func(x, y inbox.Hub) int {
		return cmp.Or(cmp.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name)), cmp.Compare(x.Name, y.Name))
	})
	return out
}

// Devices implements inbox.Source: registrations and installations in
// the order of their target ids (an installation at its native target),
// which is stable while the hub does not change. It walks the targets
// once and builds only the page.
func (a inboxSource) Devices(hubName string, q inbox.DeviceQuery) inbox.DevicePage {
	s := a.s
	page := inbox.DevicePage{Offset: q.Offset}
	h := s.lookupHub(hubName, false)
	if h == nil {
		return page
	}
	search := strings.ToLower(q.Search)
	s.mu.RLock()
	defer s.mu.RUnlock()
	if search == "" {
		page.Total = h.devices()
	}
	n := 0
	for _, t := range h.targets {
		if t == nil || t.template && t.inst != nil {
			continue // a free slot, or an installation's template
		}
		if search != "" && !t.deviceContains(search) {
			continue
		}
		if n >= q.Offset && n < q.Offset+q.Limit {
			page.Devices = append(page.Devices, t.device())
		}
		n++
		if search == "" && n >= q.Offset+q.Limit {
			break
		}
	}
	if search != "" {
		page.Total = n
	}
	return page
}

// Match implements inbox.Source: the devices one of whose targets
// (native or template) the expression reaches, as a send would.
func (a inboxSource) Match(hubName, expression string, q inbox.DeviceQuery) (inbox.DevicePage, error) {
	s := a.s
	page := inbox.DevicePage{Offset: q.Offset}
	e, err := tagexpr.Parse(expression)
	if err != nil {
		return page, fmt.Errorf("invalid tag expression: %w", err)
	}
	h := s.lookupHub(hubName, false)
	if h == nil {
		return page, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	universe := make([]uint32, 0, len(h.byRegID))
	for id, t := range h.targets {
		if t != nil {
			universe = append(universe, uint32(id))
		}
	}
	seen := map[*installation]bool{}
	n := 0
	for _, id := range h.eval(e.Root, universe) {
		t := h.targets[id]
		if t.inst != nil {
			if seen[t.inst] {
				continue
			}
			seen[t.inst] = true
			t = h.targets[t.inst.targets[0]]
		}
		if n >= q.Offset && n < q.Offset+q.Limit {
			page.Devices = append(page.Devices, t.device())
		}
		n++
	}
	page.Total = n
	return page, nil
}

// device returns the inbox view of a registration target or of an
// installation's native target. The caller holds Server.mu.
func (t *target) device() inbox.Device {
	d := inbox.Device{Platform: t.platform.String(), Handle: t.handle}
	if t.reg != nil {
		r := &t.reg.desc
		d.Kind = "registration"
		d.RegistrationID = t.regID
		d.Tags = userTags(r.Tags)
		if r.Template {
			hs := r.ApnsHeaders
			switch t.platform {
			case pWindows:
				hs = r.WnsHeaders
			case pMpns:
				hs = r.MpnsHeaders
			}
			d.Templates = []inbox.Template{{Name: r.TemplateName, Body: r.BodyTemplate, Headers: headerMap(hs)}}
		}
		return d
	}
	in := t.inst
	d.Kind = "installation"
	d.InstallationID = in.id
	d.UserID = in.userID
	d.Tags = slices.Clone(in.tags)
	for i := range in.templates {
		tp := &in.templates[i]
		d.Templates = append(d.Templates, inbox.Template{Name: tp.name, Body: tp.body, Headers: headerMap(tp.atomHeaders()), Tags: slices.Clone(tp.tags)})
	}
	return d
}

// userTags returns tags without system tags ($InstallationId:{…},
// $UserId:{…}).
func userTags(tags []string) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if !strings.HasPrefix(t, "$") {
			out = append(out, t)
		}
	}
	return out
}

func headerMap(hs []atom.Header) map[string]string {
	if len(hs) == 0 {
		return nil
	}
	m := make(map[string]string, len(hs))
	for _, h := range hs {
		m[h.Name] = h.Value
	}
	return m
}

// deviceContains reports whether one of the device's tags, its handle,
// registration id, installation id or user id contains the lower-case
// text search, ignoring case. It allocates nothing for ASCII text.
func (t *target) deviceContains(search string) bool {
	if containsFold(t.handle, search) {
		return true
	}
	if t.reg != nil {
		return containsFold(t.regID, search) || anyContainsFold(t.reg.desc.Tags, search)
	}
	in := t.inst
	if containsFold(in.id, search) || containsFold(in.userID, search) || anyContainsFold(in.tags, search) {
		return true
	}
	for i := range in.templates {
		if anyContainsFold(in.templates[i].tags, search) {
			return true
		}
	}
	return false
}

func anyContainsFold(l []string, search string) bool {
	for _, s := range l {
		if containsFold(s, search) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains the lower-case text sub,
// ignoring case.
func containsFold(s, sub string) bool {
	if len(sub) > len(s) {
		return false
	}
	if !isASCII(s) || !isASCII(sub) {
		return strings.Contains(strings.ToLower(s), sub)
	}
outer:
	for i := 0; i+len(sub) <= len(s); i++ {
		for j := 0; j < len(sub); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				continue outer
			}
		}
		return true
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Deliveries implements inbox.Source, newest first.
func (a inboxSource) Deliveries(q inbox.DeliveryQuery) inbox.DeliveryPage {
	s := a.s
	type seqDelivery struct {
		seq uint64
		d   Delivery
	}
	var rows []seqDelivery
	n := 0
	s.deliveries.eachNewest(func(seq uint64, d *Delivery) bool {
		if q.Hub != "" && !strings.EqualFold(q.Hub, d.Hub) ||
			q.Handle != "" && !strings.EqualFold(q.Handle, d.Handle) ||
			q.NotificationID != "" && q.NotificationID != d.NotificationID {
			return true
		}
		if n >= q.Offset && n < q.Offset+q.Limit {
			rows = append(rows, seqDelivery{seq, *d})
		}
		n++
		return true
	})
	page := inbox.DeliveryPage{Total: n, Offset: q.Offset, Deliveries: make([]inbox.Delivery, len(rows))}
	for i := range rows {
		page.Deliveries[i] = s.inboxDelivery(rows[i].seq, &rows[i].d)
	}
	return page
}

// inboxDelivery converts d, whose ring sequence is seq. Its ID starts with
// a per-server random epoch, so that a page that outlives an emulator
// restart does not confuse old deliveries with new ones.
func (s *Server) inboxDelivery(seq uint64, d *Delivery) inbox.Delivery {
	out := inbox.Delivery{
		ID:             s.epoch + "-" + strconv.FormatUint(seq, 10),
		NotificationID: d.NotificationID,
		Hub:            d.Hub,
		Platform:       d.Platform,
		Handle:         d.Handle,
		RegistrationID: d.RegistrationID,
		InstallationID: d.InstallationID,
		Format:         d.Format,
		Audience:       d.Audience,
		Test:           d.Test,
		Direct:         d.Direct,
		Payload:        d.Payload,
		Outcome:        d.Outcome,
		Time:           d.Time,
	}
	if d.Headers != nil {
		out.Headers = make(map[string]string, len(d.Headers))
		for k, v := range d.Headers {
			out.Headers[k] = v
		}
	}
	out.Attempts = inboxAttempts(d.Attempts)
	return out
}

// watchSet is the set of inbox subscriptions. n lets the send path skip it
// with one atomic load when nobody watches.
type watchSet struct {
	n    atomic.Int32
	mu   sync.Mutex
	subs map[chan inbox.Delivery]struct{}
}

// recordDeliveries retains ds and hands them to the inbox subscriptions,
// and returns the ring sequence of the last. It never blocks: a
// subscription whose buffer is full misses them.
func (s *Server) recordDeliveries(ds []Delivery) (last uint64) {
	if len(ds) == 0 {
		return 0
	}
	last = s.deliveries.push(ds...)
	if s.watch.n.Load() == 0 {
		return last
	}
	first := last - uint64(len(ds)) + 1
	s.watch.mu.Lock()
	defer s.watch.mu.Unlock()
	for i := range ds {
		room := false
		for ch := range s.watch.subs {
			if len(ch) < cap(ch) {
				room = true
				break
			}
		}
		if !room {
			return last // every subscriber is full: skip converting the rest
		}
		d := s.inboxDelivery(first+uint64(i), &ds[i])
		for ch := range s.watch.subs {
			select {
			case ch <- d:
			default:
			}
		}
	}
	return last
}

// Subscribe implements inbox.Source.
func (a inboxSource) Subscribe() (<-chan inbox.Delivery, func()) {
	w := &a.s.watch
	ch := make(chan inbox.Delivery, watchBuffer)
	w.mu.Lock()
	if w.subs == nil {
		w.subs = map[chan inbox.Delivery]struct{}{}
	}
	w.subs[ch] = struct{}{}
	w.n.Add(1)
	w.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			w.mu.Lock()
			delete(w.subs, ch)
			w.n.Add(-1)
			close(ch) // under mu: no send can follow
			w.mu.Unlock()
		})
	}
}

// Telemetry implements inbox.Source: the hub's retained send records,
// newest first.
func (a inboxSource) Telemetry(hubName string) []inbox.TelemetryRow {
	var out []inbox.TelemetryRow
	a.s.sends.eachNewest(func(_ uint64, r *SendRecord) bool {
		if !strings.EqualFold(hubName, r.Hub) {
			return true
		}
		state := r.State
		if state == "" {
			state = "Completed"
		}
		row := inbox.TelemetryRow{
			NotificationID: r.NotificationID,
			State:          state,
			Format:         r.Format,
			Audience:       r.Audience,
			Enqueued:       r.EnqueueTime,
			Targets:        r.Targets,
			Successes:      r.Success,
			Failures:       r.Failed,
		}
		for p := pApple; p < numPlatforms; p++ {
			m := r.Outcomes[p.String()]
			if len(m) == 0 {
				continue
			}
			names := make([]string, 0, len(m))
			for name := range m {
				names = append(names, name)
			}
			slices.SortFunc(names, func(x, y string) int {
				return cmp.Or(cmp.Compare(outcomeRank(x), outcomeRank(y)), cmp.Compare(x, y))
			})
			for _, name := range names {
				row.Outcomes = append(row.Outcomes, inbox.OutcomeCount{Platform: p.String(), Outcome: name, Count: m[name]})
			}
		}
		out = append(out, row)
		return true
	})
	return out
}

// outcomeRank orders outcome names as telemetry does (Success first).
func outcomeRank(name string) int {
	if i := slices.Index(outcomeOrder, name); i >= 0 {
		return i
	}
	return len(outcomeOrder)
}

// Scheduled implements inbox.Source: the pending scheduled notifications,
// soonest first.
func (a inboxSource) Scheduled(hubName string) []inbox.ScheduledRow {
	s := a.s
	h := s.lookupHub(hubName, false)
	if h == nil {
		return nil
	}
	s.mu.RLock()
	out := make([]inbox.ScheduledRow, 0, len(h.scheduled))
	for _, sc := range h.scheduled {
		out = append(out, inbox.ScheduledRow{ID: sc.id, ScheduledTime: sc.due, Audience: sc.tagHeader, Format: sc.n.format, Payload: sc.n.body})
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(x, y inbox.ScheduledRow) int {
		return cmp.Or(x.ScheduledTime.Compare(y.ScheduledTime), cmp.Compare(x.ID, y.ID))
	})
	return out
}

// Reset implements inbox.Source.
func (a inboxSource) Reset() { a.s.Reset() }

// ConnectionStrings implements inbox.Source: the full and the listen-only
// connection string at the public endpoint.
func (a inboxSource) ConnectionStrings() []inbox.NamedString {
	e := a.s.publicEndpoint()
	return []inbox.NamedString{
		{Name: "Full access (" + FullRuleName + ")", Value: a.s.ConnectionString(e, false)},
		{Name: "Listen only (" + ListenRuleName + ")", Value: a.s.ConnectionString(e, true)},
		{Name: "Namespace, hub management (" + NamespaceRuleName + ")", Value: a.s.NamespaceConnectionString(e)},
	}
}
