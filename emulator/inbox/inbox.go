// Package inbox is the emulator's inbox web page: it shows what every device
// received, rendered roughly as the platform would show it.
//
// # Serving
//
// Handler serves a self-contained page (HTML, CSS and JavaScript modules
// embedded with go:embed; nothing is fetched from the internet) at its root
// and a JSON API below it. The emulator mounts the page's endpoints
// (Routes) at /_emulator/ui/ in its own routing table, with
// emulator.Server.Inbox as the Source; to serve it elsewhere, mount it with
//
//	mux.Handle("/_emulator/ui/", http.StripPrefix("/_emulator/ui", inbox.Handler(src)))
//
// The page uses relative URLs only, so any mount point ending in "/" works.
//
// # API
//
//	GET  api/hubs                              []Hub
//	GET  api/hubs/{hub}/devices?q=&offset=&limit=   DevicePage
//	GET  api/hubs/{hub}/match?expr=&offset=&limit=  DevicePage, or 400 {"error","position"}
//	GET  api/hubs/{hub}/telemetry?offset=&limit=   {"rows": []TelemetryRow, "total", "offset"}
//	GET  api/hubs/{hub}/scheduled?offset=&limit=   {"rows": []ScheduledRow, "total", "offset"}
//	GET  api/deliveries?hub=&handle=&notification=&offset=&limit=   DeliveryPage
//	GET  api/events                            server-sent events: "ready", then one "delivery" per Delivery
//	GET  api/connection-strings                []NamedString
//	POST api/reset                             204 (needs the header X-Inbox: 1; the page also
//	                                           sends Content-Type: application/json, which the emulator requires)
//
// Lists are always paged (limit 1 to 500, default 50), so the page stays
// fast with hundreds of thousands of devices.
//
// # Safety
//
// Payloads are untrusted text. The page renders every datum with
// textContent (never innerHTML), and every response carries a
// Content-Security-Policy that allows scripts from the page's own origin
// only. Served by Handler, the API answers only requests whose Host is a
// loopback name or an IP literal (a defence against DNS rebinding, since
// it hands out connection strings), and state-changing requests need a
// custom header that a cross-site form cannot send. Mounted in the
// emulator, the emulator's own checks of Host, origin and control token
// apply (see package emulator).
package inbox

import (
	"bufio"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/nhkit/notificationhubs/internal/tagexpr"
)

// Source is what the page needs from an emulator. All methods must be safe
// for concurrent use.
type Source interface {
	// Hubs returns every hub with its counts, sorted by name.
	Hubs() []Hub
	// Devices returns one page of the hub's registrations and installations
	// (an installation is one Device, not one per projected registration),
	// in a stable order, filtered by q.Search, with the total count after
	// filtering.
	Devices(hub string, q DeviceQuery) DevicePage
	// Match returns one page (q.Offset, q.Limit; q.Search is unused) of
	// the devices that tagExpression reaches, with the total count. A
	// syntax error should be (or wrap) a *tagexpr.SyntaxError so that the
	// page can point at the position.
	Match(hub, tagExpression string, q DeviceQuery) (DevicePage, error)
	// Deliveries returns one page of deliveries, newest first, filtered by
	// q, with the total count after filtering.
	Deliveries(q DeliveryQuery) DeliveryPage
	// Subscribe returns a channel that receives every delivery from now on
	// and a function that ends the subscription (after which the channel
	// may be closed). The source must not block on a slow subscriber; it may
	// drop deliveries for it.
	Subscribe() (ch <-chan Delivery, cancel func())
	// Telemetry returns one row per notification sent to hub, newest first.
	Telemetry(hub string) []TelemetryRow
	// Scheduled returns the hub's pending scheduled notifications.
	Scheduled(hub string) []ScheduledRow
	// Reset forgets every registration, installation, scheduled
	// notification and delivery.
	Reset()
	// ConnectionStrings returns the connection strings a developer may copy
	// (for example the full and the listen-only one).
	ConnectionStrings() []NamedString
}

// Hub is one hub with its counts.
type Hub struct {
	Name          string `json:"name"`
	Registrations int    `json:"registrations"`
	Installations int    `json:"installations"`
	Deliveries    int    `json:"deliveries"`
	// CreatedBy is "api" (hub management) or "first use".
	CreatedBy string `json:"createdBy"`
	// Credentials names the push services the hub has credentials for,
	// never their secrets.
	Credentials []string `json:"credentials"`
}

// Device is one registration or installation.
type Device struct {
	// Kind is "registration" or "installation".
	Kind string `json:"kind"`
	// RegistrationID is set for registrations.
	RegistrationID string `json:"registrationId,omitempty"`
	// InstallationID is set for installations.
	InstallationID string `json:"installationId,omitempty"`
	// UserID is the installation's user id, if any.
	UserID string `json:"userId,omitempty"`
	// Platform is apple, gcm, fcmv1, windows, windowsphone, adm, baidu,
	// browser or xiaomi.
	Platform string `json:"platform"`
	// Handle is the PNS handle (device token, channel URI, endpoint…).
	Handle string `json:"handle"`
	// Tags are the device's tags (without system tags).
	Tags []string `json:"tags,omitempty"`
	// Templates are the device's templates; for a template registration,
	// the one template.
	Templates []Template `json:"templates,omitempty"`
	// ExpiresAt is the expiry, if any.
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

// Template is one template of a device.
type Template struct {
	// Name is the template's name: an installation's template name, or a
	// template registration's TemplateName ("" if it has none).
	Name string `json:"name,omitempty"`
	// Body is the template body.
	Body string `json:"body"`
	// Headers are the template's headers (WNS, MPNS, APNs).
	Headers map[string]string `json:"headers,omitempty"`
	// Tags are the template's own tags (installations only).
	Tags []string `json:"tags,omitempty"`
}

// DeviceQuery selects a page of devices.
type DeviceQuery struct {
	// Search, if not empty, keeps the devices one of whose tags, handle,
	// registration id, installation id or user id contains it, ignoring
	// case.
	Search string
	// Offset is the number of devices to skip; Limit the page size (> 0).
	Offset, Limit int
}

// DevicePage is one page of devices.
type DevicePage struct {
	Devices []Device `json:"devices"`
	// Total is the number of devices matched, on all pages.
	Total int `json:"total"`
	// Offset is the offset of Devices[0].
	Offset int `json:"offset"`
}

// Delivery is one notification as a push service would have received it.
type Delivery struct {
	// ID identifies the delivery uniquely and stably (the page uses it to
	// merge the live feed with pages it fetched).
	ID string `json:"id"`
	// NotificationID is the id of the send.
	NotificationID string `json:"notificationId"`
	// Hub is the hub name.
	Hub string `json:"hub"`
	// Platform is the target's platform (see Device.Platform).
	Platform string `json:"platform"`
	// Handle is the target's PNS handle.
	Handle string `json:"handle"`
	// RegistrationID and InstallationID identify the target, if any.
	RegistrationID string `json:"registrationId,omitempty"`
	InstallationID string `json:"installationId,omitempty"`
	// Format is the ServiceBusNotification-Format of the send (template,
	// apple, fcmv1, windows, …).
	Format string `json:"format"`
	// Audience is the send's tag expression; "" for a broadcast or a direct
	// send.
	Audience string `json:"audience,omitempty"`
	// Test is set for test (debug) sends; Direct for direct sends.
	Test   bool `json:"test,omitempty"`
	Direct bool `json:"direct,omitempty"`
	// Headers are the headers the push service would receive.
	Headers map[string]string `json:"headers,omitempty"`
	// Payload is the exact body the push service would receive.
	Payload string `json:"payload"`
	// Outcome is Success or the failure (e.g. InvalidNotificationFormat);
	// Pending while a real push service has not answered.
	Outcome string `json:"outcome"`
	// Time is when the emulator handed the notification over.
	Time time.Time `json:"time"`
	// Attempts are a real push service's answers, one per attempt, when
	// the emulator delivers to it; a delivery that changes is sent again
	// on the live feed with the same ID.
	Attempts []Attempt `json:"attempts,omitempty"`
}

// Attempt is one attempt to hand a delivery to its push service.
type Attempt struct {
	// Attempt counts from 1.
	Attempt int `json:"attempt"`
	// Status is delivered, handle-gone, throttled, unavailable,
	// bad-credential, bad-request, queue-full, canceled or unsupported.
	Status string `json:"status"`
	// Outcome is the Notification Hubs outcome name of the attempt.
	Outcome string `json:"outcome"`
	// HTTPStatus is the push service's status code; 0 when none came.
	HTTPStatus int `json:"httpStatus,omitempty"`
	// PnsID is the push service's id of the notification (apns-id, the
	// FCM message name, …).
	PnsID string `json:"pnsId,omitempty"`
	// Reason is the push service's reason for a failure.
	Reason string `json:"reason,omitempty"`
	// RetryAfter is the push service's Retry-After in seconds.
	RetryAfter int `json:"retryAfter,omitempty"`
	// Time is when the attempt ended.
	Time time.Time `json:"time"`
}

// DeliveryQuery selects a page of deliveries; empty fields match all.
type DeliveryQuery struct {
	// Hub is compared ignoring case; Handle and NotificationID exactly.
	Hub, Handle, NotificationID string
	// Offset is the number of (newest) deliveries to skip; Limit the page
	// size (> 0).
	Offset, Limit int
}

// DeliveryPage is one page of deliveries, newest first.
type DeliveryPage struct {
	Deliveries []Delivery `json:"deliveries"`
	Total      int        `json:"total"`
	Offset     int        `json:"offset"`
}

// TelemetryRow is the telemetry of one notification.
type TelemetryRow struct {
	NotificationID string         `json:"notificationId"`
	State          string         `json:"state"`
	Format         string         `json:"format,omitempty"`
	Audience       string         `json:"audience,omitempty"`
	Enqueued       time.Time      `json:"enqueued,omitzero"`
	Targets        int            `json:"targets"`
	Successes      int            `json:"successes"`
	Failures       int            `json:"failures"`
	Outcomes       []OutcomeCount `json:"outcomes,omitempty"`
}

// OutcomeCount counts one outcome on one platform.
type OutcomeCount struct {
	Platform string `json:"platform"`
	Outcome  string `json:"outcome"`
	Count    int    `json:"count"`
}

// ScheduledRow is one pending scheduled notification.
type ScheduledRow struct {
	ID            string    `json:"id"`
	ScheduledTime time.Time `json:"scheduledTime"`
	Audience      string    `json:"audience,omitempty"`
	Format        string    `json:"format"`
	Payload       string    `json:"payload"`
}

// NamedString is a named value the page offers to copy.
type NamedString struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Page sizes of the API.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

//go:embed ui
var uiFS embed.FS

// contentSecurityPolicy allows nothing from outside the page's origin and
// no inline script, so a payload can never run as code.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Route is one endpoint of the page: its method, its path below the
// mount point as an http.ServeMux pattern, and its handler. Handlers read
// path parameters with http.Request.PathValue and expect the mount point
// stripped from URL.Path, as http.StripPrefix leaves it.
type Route struct {
	Method  string
	Pattern string
	Handler http.Handler
}

// Routes returns the page's endpoints for src, each setting the page's
// security headers (Content-Security-Policy, nosniff, no referrer). The
// last, GET /{path...}, serves the page's files. Handler serves them on an
// http.ServeMux; an emulator with a routing table of its own mounts them
// there instead, behind its own checks of Host and origin.
func Routes(src Source) []Route {
	static, err := fs.Sub(uiFS, "ui")
	if err != nil {
		panic("inbox: embedded ui missing: " + err.Error())
	}
	a := &api{src: src}
	files := http.FileServerFS(static)
	routes := []Route{
		{"GET", "/api/hubs", http.HandlerFunc(a.hubs)},
		{"GET", "/api/hubs/{hub}/devices", http.HandlerFunc(a.devices)},
		{"GET", "/api/hubs/{hub}/match", http.HandlerFunc(a.match)},
		{"GET", "/api/hubs/{hub}/telemetry", http.HandlerFunc(a.telemetry)},
		{"GET", "/api/hubs/{hub}/scheduled", http.HandlerFunc(a.scheduled)},
		{"GET", "/api/deliveries", http.HandlerFunc(a.deliveries)},
		{"GET", "/api/events", http.HandlerFunc(a.events)},
		{"GET", "/api/connection-strings", http.HandlerFunc(a.connectionStrings)},
		{"POST", "/api/reset", http.HandlerFunc(a.reset)},
		{"GET", "/{path...}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/api/") {
				writeError(w, http.StatusNotFound, "no such inbox api endpoint: "+strconv.Quote(r.URL.Path), -1)
				return
			}
			w.Header().Set("Cache-Control", "no-cache")
			files.ServeHTTP(w, r)
		})},
	}
	for i := range routes {
		routes[i].Handler = withSecurityHeaders(routes[i].Handler)
	}
	return routes
}

// withSecurityHeaders sets the headers every answer of the page carries.
func withSecurityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header())
		h.ServeHTTP(w, r)
	})
}

func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

// Handler returns the page (at its root) and its API (below api/) for src.
// Its API answers loopback hosts only (see Safety).
func Handler(src Source) http.Handler {
	mux := http.NewServeMux()
	for _, rt := range Routes(src) {
		mux.Handle(rt.Method+" "+rt.Pattern, rt.Handler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header()) // also on the mux's own 404 and 405
		if r.URL.Path == "" {
			// Mounted with StripPrefix and asked for the mount point without
			// its slash: send the browser to the directory, so that relative
			// URLs resolve below it.
			p := r.URL.EscapedPath()
			if u := r.RequestURI; u != "" {
				p, _, _ = strings.Cut(u, "?")
			}
			// Set Location directly: http.Redirect would resolve the
			// relative URL against the stripped (empty) path.
			w.Header().Set("Location", path.Base(p)+"/")
			w.WriteHeader(http.StatusMovedPermanently)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/") && !loopbackHost(r.Host) {
			writeError(w, http.StatusForbidden, "inbox api answers loopback hosts only, not "+strconv.Quote(r.Host), -1)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether host (a Host header, with or without port)
// is localhost, a name below .localhost, or an IP literal. A DNS name that
// a page on the internet controls is refused.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(host, "]"), "["), ".")
	host = strings.ToLower(host)
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	return net.ParseIP(host) != nil
}

type api struct{ src Source }

func (a *api) hubs(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, orEmpty(a.src.Hubs()))
}

// paging reads offset and limit from the query, clamped to valid values.
func paging(r *http.Request) (offset, limit int) {
	q := r.URL.Query()
	offset, _ = strconv.Atoi(q.Get("offset"))
	limit, _ = strconv.Atoi(q.Get("limit"))
	if offset < 0 {
		offset = 0
	}
	if limit <= 0 {
		limit = DefaultLimit
	}
	return offset, min(limit, MaxLimit)
}

func (a *api) devices(w http.ResponseWriter, r *http.Request) {
	off, lim := paging(r)
	p := a.src.Devices(r.PathValue("hub"), DeviceQuery{Search: strings.TrimSpace(r.URL.Query().Get("q")), Offset: off, Limit: lim})
	writeJSON(w, clipDevices(p, lim))
}

func (a *api) match(w http.ResponseWriter, r *http.Request) {
	expr := r.URL.Query().Get("expr")
	if strings.TrimSpace(expr) == "" {
		writeError(w, http.StatusBadRequest, "tag expression is empty", 0)
		return
	}
	off, lim := paging(r)
	p, err := a.src.Match(r.PathValue("hub"), expr, DeviceQuery{Offset: off, Limit: lim})
	if err != nil {
		pos := -1
		if se, ok := errors.AsType[*tagexpr.SyntaxError](err); ok {
			pos = se.Pos
		}
		writeError(w, http.StatusBadRequest, err.Error(), pos)
		return
	}
	writeJSON(w, clipDevices(p, lim))
}

// clipDevices guards the page against a source that ignores the limit.
func clipDevices(p DevicePage, limit int) DevicePage {
	if len(p.Devices) > limit {
		p.Devices = p.Devices[:limit]
	}
	if p.Devices == nil {
		p.Devices = []Device{}
	}
	return p
}

func (a *api) telemetry(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, pageOf(r, a.src.Telemetry(r.PathValue("hub"))))
}

func (a *api) scheduled(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, pageOf(r, a.src.Scheduled(r.PathValue("hub"))))
}

// rowPage is one page of a list the source returns whole.
type rowPage[T any] struct {
	Rows   []T `json:"rows"`
	Total  int `json:"total"`
	Offset int `json:"offset"`
}

func pageOf[T any](r *http.Request, all []T) rowPage[T] {
	off, lim := paging(r)
	off = min(off, len(all))
	return rowPage[T]{Rows: orEmpty(all[off:min(off+lim, len(all))]), Total: len(all), Offset: off}
}

func (a *api) deliveries(w http.ResponseWriter, r *http.Request) {
	off, lim := paging(r)
	q := r.URL.Query()
	p := a.src.Deliveries(DeliveryQuery{
		Hub:            q.Get("hub"),
		Handle:         q.Get("handle"),
		NotificationID: q.Get("notification"),
		Offset:         off,
		Limit:          lim,
	})
	if len(p.Deliveries) > lim {
		p.Deliveries = p.Deliveries[:lim]
	}
	if p.Deliveries == nil {
		p.Deliveries = []Delivery{}
	}
	writeJSON(w, p)
}

func (a *api) connectionStrings(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, orEmpty(a.src.ConnectionStrings()))
}

func (a *api) reset(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Inbox") != "1" {
		writeError(w, http.StatusForbidden, "reset needs the header X-Inbox: 1", -1)
		return
	}
	a.src.Reset()
	w.WriteHeader(http.StatusNoContent)
}

// heartbeat is how often an idle event stream sends a comment, so that
// proxies and the browser keep it open.
var heartbeat = 15 * time.Second

// writeGrace is how long one write of the event stream may take.
const writeGrace = time.Minute

// maxBatch is the number of events written before a flush when deliveries
// arrive faster than the client reads.
const maxBatch = 256

func (a *api) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	ch, cancel := a.src.Subscribe()
	defer cancel()
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	flush := func() bool {
		// A server may bound how long a response takes to write; the
		// stream never ends, so each write gets its own time. A client
		// that stops reading ends the stream.
		_ = rc.SetWriteDeadline(time.Now().Add(writeGrace))
		return bw.Flush() == nil && rc.Flush() == nil
	}
	bw.WriteString("retry: 2000\nevent: ready\ndata: {}\n\n")
	if !flush() {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			bw.WriteString(": ping\n\n")
			if !flush() {
				return
			}
		case d, ok := <-ch:
			if !ok {
				return
			}
			writeEvent(bw, d)
			// Coalesce a burst into one flush.
		drain:
			for range maxBatch - 1 {
				select {
				case d, ok = <-ch:
					if !ok {
						flush()
						return
					}
					writeEvent(bw, d)
				default:
					break drain
				}
			}
			if !flush() {
				return
			}
		}
	}
}

// writeEvent writes d as one server-sent event. The JSON has no newlines,
// so it is one data line; the id has any line breaks removed.
func writeEvent(bw *bufio.Writer, d Delivery) {
	b, err := json.Marshal(d)
	if err != nil {
		return
	}
	bw.WriteString("id: ")
	bw.WriteString(strings.NewReplacer("\r", "", "\n", "").Replace(d.ID))
	bw.WriteString("\nevent: delivery\ndata: ")
	bw.Write(b)
	bw.WriteString("\n\n")
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encoding the response failed", -1)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(append(b, '\n'))
}

// apiError is the body of every error response; Position is the byte
// offset of a tag-expression error, or -1.
type apiError struct {
	Error    string `json:"error"`
	Position int    `json:"position"`
}

func writeError(w http.ResponseWriter, status int, msg string, pos int) {
	b, _ := json.Marshal(apiError{Error: msg, Position: pos})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
