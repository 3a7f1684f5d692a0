package emulator

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nhkit/notificationhubs/emulator/inbox"
	"github.com/nhkit/notificationhubs/internal/names"
	"github.com/nhkit/notificationhubs/internal/sas"
)

// Content types the service answers with.
const (
	ctEntry = "application/atom+xml; type=entry; charset=utf-8"
	ctFeed  = "application/atom+xml; type=feed; charset=utf-8"
	ctXML   = "application/xml; charset=utf-8"
	ctJSON  = "application/json; charset=utf-8"
)

// rights a rule grants.
type rights uint8

const (
	rightListen rights = 1 << iota
	rightSend
	rightManage
)

func (r rights) String() string {
	switch {
	case r&rightManage != 0:
		return "Manage"
	case r&rightSend != 0:
		return "Send"
	default:
		return "Listen"
	}
}

// ---- routing ---------------------------------------------------------------
//
// One table routes every request. A pattern is a sequence of segments:
// literals, matched ignoring case as the service does, and named
// parameters, {name} for one segment and {name...} for the rest of the
// path. The path is split and each segment percent-decoded and checked
// once (validPathSegment); the route's parameters are those decoded
// segments, read with request.param (the inbox page's handlers get them
// as the request's path values). Authorisation (the SAS token's audience,
// resourcePath), the handler and the fault and throttle keys all read
// these same values, so that what a token was checked against is what the
// request acts on.

// plane says which part of the emulator a route belongs to and so how it
// is authorised.
type plane uint8

const (
	planeData      plane = iota // /{hub}/…: a SAS token of the hub's rules
	planeControl                // /_emulator/…: the control plane's checks (control.go)
	planeBlob                   // /_emulator/blob/…: the blob SAS the emulator signs
	planeInbox                  // /_emulator/ui/…: the inbox page, control plane too
	planeNamespace              // /, /{hub}, /$Resources/…: hub management (hubs.go)
)

// service reports whether routes of p are the service's (data plane and
// hub management) rather than the emulator's own.
func (p plane) service() bool { return p == planeData || p == planeNamespace }

// handlerFunc handles one route. It writes through q.
type handlerFunc func(s *Server, q *request)

// route is one row of the routing table.
type route struct {
	method  string // "" matches every method (the handler checks)
	pattern string
	plane   plane
	right   rights // planeData: the right the token's rule needs
	op      string // planeData: what faults call the operation (Op…)
	handle  handlerFunc
	inbox   http.Handler // planeInbox: the page's handler
	segs    []patternSeg
}

// patternSeg is one segment of a pattern: a literal (lower case) or a
// parameter.
type patternSeg struct {
	lit   string
	param string
	rest  bool // {param...}: zero or more segments
}

func parsePattern(p string) []patternSeg {
	var out []patternSeg
	for seg := range strings.SplitSeq(strings.Trim(p, "/"), "/") {
		if seg == "" {
			continue
		}
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			name = strings.TrimSuffix(name, "}")
			rest := strings.HasSuffix(name, "...")
			out = append(out, patternSeg{param: strings.TrimSuffix(name, "..."), rest: rest})
			continue
		}
		out = append(out, patternSeg{lit: strings.ToLower(seg)})
	}
	return out
}

// dataRoutes is the data plane: the service's REST API below a hub.
var dataRoutes = []route{
	{method: "POST", pattern: "/{hub}/messages", right: rightSend, op: OpSend, handle: (*Server).handleSend},
	{method: "POST", pattern: "/{hub}/messages/$batch", right: rightSend, op: OpSend, handle: (*Server).handleBatchSend},
	{method: "GET", pattern: "/{hub}/messages/{id}", right: rightSend, op: OpTelemetry, handle: (*Server).handleNotificationDetails},
	{method: "POST", pattern: "/{hub}/schedulednotifications", right: rightSend, op: OpSchedule, handle: (*Server).handleSchedule},
	{method: "DELETE", pattern: "/{hub}/schedulednotifications/{id}", right: rightSend, op: OpSchedule, handle: (*Server).handleCancelScheduled},
	{method: "POST", pattern: "/{hub}/registrationids", right: rightListen, op: OpRegistration, handle: (*Server).handleCreateRegistrationID},
	{method: "POST", pattern: "/{hub}/registrations", right: rightListen, op: OpRegistration, handle: (*Server).handleCreateRegistration},
	{method: "GET", pattern: "/{hub}/registrations", right: rightListen, op: OpRegistration, handle: (*Server).handleListRegistrations},
	{method: "GET", pattern: "/{hub}/registrations/{id}", right: rightListen, op: OpRegistration, handle: (*Server).handleGetRegistration},
	{method: "PUT", pattern: "/{hub}/registrations/{id}", right: rightListen, op: OpRegistration, handle: (*Server).handlePutRegistration},
	{method: "DELETE", pattern: "/{hub}/registrations/{id}", right: rightListen, op: OpRegistration, handle: (*Server).handleDeleteRegistration},
	{method: "GET", pattern: "/{hub}/tags/{tag}/registrations", right: rightManage, op: OpRegistration, handle: (*Server).handleListByTag},
	{method: "GET", pattern: "/{hub}/installations/{id}", right: rightListen, op: OpInstallation, handle: (*Server).handleGetInstallation},
	{method: "PUT", pattern: "/{hub}/installations/{id}", right: rightListen, op: OpInstallation, handle: (*Server).handlePutInstallation},
	{method: "PATCH", pattern: "/{hub}/installations/{id}", right: rightListen, op: OpInstallation, handle: (*Server).handlePatchInstallation},
	{method: "DELETE", pattern: "/{hub}/installations/{id}", right: rightListen, op: OpInstallation, handle: (*Server).handleDeleteInstallation},
	{method: "GET", pattern: "/{hub}/feedbackcontainer", right: rightManage, op: OpFeedback, handle: (*Server).handleFeedbackContainer},
	{method: "POST", pattern: "/{hub}/jobs", right: rightManage, op: OpJob, handle: (*Server).handleSubmitJob},
	{method: "GET", pattern: "/{hub}/jobs", right: rightManage, op: OpJob, handle: (*Server).handleListJobs},
	{method: "GET", pattern: "/{hub}/jobs/{id}", right: rightManage, op: OpJob, handle: (*Server).handleGetJob},
}

// namespaceRoutes is hub management, below the namespace.
var namespaceRoutes = []route{
	{method: "GET", pattern: "/", plane: planeNamespace, right: rightManage, op: OpHub, handle: (*Server).handleListHubNames},
	{method: "GET", pattern: "/$Resources/NotificationHubs", plane: planeNamespace, right: rightManage, op: OpHub, handle: (*Server).handleListHubs},
	{method: "GET", pattern: "/{hub}", plane: planeNamespace, right: rightManage, op: OpHub, handle: (*Server).handleGetHub},
	{method: "PUT", pattern: "/{hub}", plane: planeNamespace, right: rightManage, op: OpHub, handle: (*Server).handlePutHub},
	{method: "DELETE", pattern: "/{hub}", plane: planeNamespace, right: rightManage, op: OpHub, handle: (*Server).handleDeleteHub},
}

// controlRoutes is the control plane's JSON API and the blob store.
var controlRoutes = []route{
	{method: "GET", pattern: "/_emulator/deliveries", handle: (*Server).handleDeliveries},
	{method: "GET", pattern: "/_emulator/sends", handle: (*Server).handleSends},
	{method: "GET", pattern: "/_emulator/hubs", handle: (*Server).handleHubs},
	{method: "POST", pattern: "/_emulator/reset", handle: (*Server).handleReset},
	{method: "GET", pattern: "/_emulator/faults", handle: (*Server).handleListFaults},
	{method: "POST", pattern: "/_emulator/faults", handle: (*Server).handleAddFault},
	{method: "DELETE", pattern: "/_emulator/faults", handle: (*Server).handleClearFaults},
	{method: "DELETE", pattern: "/_emulator/faults/{id}", handle: (*Server).handleRemoveFault},
	{method: "POST", pattern: "/_emulator/throttle", handle: (*Server).handleThrottle},
	{method: "GET", pattern: "/_emulator/handles", handle: (*Server).handleListMarks},
	{method: "POST", pattern: "/_emulator/handles", handle: (*Server).handleMark},
	{pattern: "/_emulator/blob/{container}", plane: planeBlob, handle: (*Server).handleBlob},
	{pattern: "/_emulator/blob/{container}/{blob...}", plane: planeBlob, handle: (*Server).handleBlob},
}

// uiPath is where the inbox page is mounted.
const uiPath = "/_emulator/ui"

// buildRoutes returns the server's routing table: the control plane, the
// inbox page's endpoints below uiPath, then the data plane and hub
// management.
func (s *Server) buildRoutes() []route {
	var rs []route
	for _, rt := range controlRoutes {
		if rt.plane == planeData {
			rt.plane = planeControl
		}
		rs = append(rs, rt)
	}
	for _, ir := range inbox.Routes(s.Inbox()) {
		rs = append(rs, route{method: ir.Method, pattern: uiPath + ir.Pattern, plane: planeInbox, inbox: ir.Handler})
	}
	rs = append(rs, dataRoutes...)
	rs = append(rs, namespaceRoutes...)
	for i := range rs {
		rs[i].segs = parsePattern(rs[i].pattern)
		n := 0
		for _, p := range rs[i].segs {
			if p.param != "" {
				n++
			}
		}
		if n > maxParams {
			panic("emulator: route " + rs[i].pattern + " has more than maxParams parameters")
		}
	}
	return rs
}

// pathError is a path that names nothing the emulator could act on.
type pathError struct{ msg string }

func (e *pathError) Error() string { return e.msg }

// splitPath returns the percent-decoded segments of an escaped path,
// ignoring empty segments (so that trailing and doubled slashes do not
// matter), and refuses a segment that is not a plain name: see
// validPathSegment.
func splitPath(escaped string) ([]string, error) {
	segs := make([]string, 0, 4)
	for raw := range strings.SplitSeq(escaped, "/") {
		if raw == "" {
			continue
		}
		seg := raw
		if strings.IndexByte(raw, '%') >= 0 {
			u, err := url.PathUnescape(raw)
			if err != nil {
				return nil, &pathError{"The path segment " + strconv.Quote(raw) + " is not validly percent-encoded."}
			}
			seg = u
		}
		if err := validPathSegment(seg); err != nil {
			return nil, err
		}
		segs = append(segs, seg)
	}
	return segs, nil
}

// validPathSegment refuses the decoded segments that would name something
// else once a path is normalised or stored: "." and "..", a slash or
// backslash (encoded as %2F or %5C), and control characters (such as
// %00, which also separates keys in the data directory).
func validPathSegment(seg string) error {
	if seg == "." || seg == ".." {
		return &pathError{"The path segment " + strconv.Quote(seg) + " is not allowed: hub names and ids cannot be . or .."}
	}
	for i := 0; i < len(seg); i++ {
		switch c := seg[i]; {
		case c == '/' || c == '\\':
			return &pathError{"The path segment " + strconv.Quote(seg) + " contains a slash or backslash: hub names and ids cannot."}
		case c < 0x20 || c == 0x7f:
			return &pathError{"The path segment " + strconv.Quote(seg) + " contains a control character: hub names and ids cannot."}
		}
	}
	return nil
}

// validHubName checks a hub name against the service's rule for
// notification hub names (names.CheckHub).
func validHubName(name string) error {
	if err := names.CheckHub(name); err != nil {
		return &pathError{"The hub name " + strconv.Quote(name) + " is invalid: " + err.Error() + "."}
	}
	return nil
}

// maxParams is the most parameters a pattern has.
const maxParams = 3

// routeMatch is a matched route and its parameters' values, in pattern
// order. It is a value, so that matching allocates nothing.
type routeMatch struct {
	rt     *route
	values [maxParams]string
}

// param returns the value of the parameter name, "" if the route has none.
func (m *routeMatch) param(name string) string {
	if m.rt == nil {
		return ""
	}
	i := 0
	for _, p := range m.rt.segs {
		if p.param == "" {
			continue
		}
		if p.param == name {
			return m.values[i]
		}
		i++
	}
	return ""
}

// match finds the route for method and the decoded segments. With no
// route it returns the methods that would have matched the path (405
// rather than 404).
func (s *Server) match(method string, segs []string) (m routeMatch, allowed []string) {
	control := len(segs) > 0 && strings.EqualFold(segs[0], "_emulator")
	for i := range s.routes {
		rt := &s.routes[i]
		if rt.plane.service() == control || !rt.matchSegs(segs, &m.values) {
			continue
		}
		if rt.method == "" || rt.method == method || method == http.MethodHead && rt.method == http.MethodGet && !rt.plane.service() {
			m.rt = rt
			return m, nil
		}
		allowed = append(allowed, rt.method)
	}
	return routeMatch{}, allowed
}

// matchSegs matches the decoded segments against the pattern, storing the
// parameters' values in values.
func (rt *route) matchSegs(segs []string, values *[maxParams]string) bool {
	i, v := 0, 0
	for _, p := range rt.segs {
		switch {
		case p.rest:
			values[v] = strings.Join(segs[i:], "/")
			return true
		case i >= len(segs):
			return false
		case p.param != "":
			values[v] = segs[i]
			v++
		case !strings.EqualFold(p.lit, segs[i]):
			return false
		}
		i++
	}
	return i == len(segs)
}

// route dispatches q through the routing table.
func (s *Server) route(q *request) {
	segs, err := splitPath(q.r.URL.EscapedPath())
	if err != nil {
		q.fail(http.StatusBadRequest, err.Error())
		return
	}
	m, allowed := s.match(q.r.Method, segs)
	if m.rt == nil {
		control := len(segs) > 0 && strings.EqualFold(segs[0], "_emulator")
		switch {
		case len(allowed) > 0:
			q.w.Header().Set("Allow", strings.Join(allowed, ", "))
			q.fail(http.StatusMethodNotAllowed, "The requested HTTP method is not supported on this resource.")
		case control:
			q.fail(http.StatusNotFound, "No such emulator endpoint.")
		default:
			q.fail(http.StatusNotFound, msgNoService)
		}
		return
	}
	q.match = m
	switch m.rt.plane {
	case planeControl:
		if s.controlAllowed(q) {
			m.rt.handle(s, q)
		}
	case planeInbox:
		if s.controlAllowed(q) {
			// The page's handlers read their parameters as path values.
			i := 0
			for _, p := range m.rt.segs {
				if p.param != "" {
					q.r.SetPathValue(p.param, m.values[i])
					i++
				}
			}
			s.serveInbox(q, segs)
		}
	case planeBlob:
		m.rt.handle(s, q)
	case planeNamespace:
		s.serveNamespace(q, m)
	default:
		s.serveData(q, m)
	}
}

// serveData authorises a data-plane request and runs its handler.
func (s *Server) serveData(q *request, m routeMatch) {
	q.hubName = m.param("hub")
	if err := validHubName(q.hubName); err != nil {
		q.fail(http.StatusBadRequest, err.Error())
		return
	}
	// The hub's own rules, or the development rules of a hub created on
	// first use; its existence is checked before its rules are.
	h := s.lookupHub(q.hubName, false)
	if h == nil && s.hubSet != nil {
		q.fail(http.StatusNotFound, msgNoService)
		return
	}
	s.mu.RLock()
	rules := s.rulesOf(h)
	disabled := h != nil && h.meta.disabled
	s.mu.RUnlock()
	if !s.authorizeWith(q, m.rt.right, resourcePath(m.rt, m.values[:]), rules, false) {
		return
	}
	if disabled {
		q.fail(http.StatusForbidden, msgHubDisabled)
		return
	}
	if s.applyFaults(q) {
		return
	}
	if h == nil {
		h = s.lookupHub(q.hubName, true)
	}
	if h == nil {
		q.fail(http.StatusNotFound, msgNoService)
		return
	}
	h.calls.add(s.now())
	q.hub = h
	m.rt.handle(s, q)
}

// resourcePath returns the path of the entity a data-plane request acts
// on, made of the route's literals and the decoded, validated
// parameters: the SAS token must cover exactly this.
func resourcePath(rt *route, values []string) string {
	var b strings.Builder
	n, v := 0, 0
	for _, p := range rt.segs {
		n += 1 + len(p.lit)
		if p.param != "" {
			n += len(values[v])
			v++
		}
	}
	b.Grow(n)
	v = 0
	for _, p := range rt.segs {
		b.WriteByte('/')
		if p.param != "" {
			b.WriteString(values[v])
			v++
			continue
		}
		b.WriteString(p.lit)
	}
	return b.String()
}

// authorizeWith checks the SAS token against the namespace rule and rules,
// and the rule's rights, writing the failure itself. On hub management
// (mgmt) a rule without the right is always 401 "Manage claim is
// required", and so is a GET whose token's signature does not verify: the
// service answers that, where PUT and DELETE get InvalidSignature.
func (s *Server) authorizeWith(q *request, need rights, resource string, rules []authRule, mgmt bool) bool {
	h := q.r.Header.Get("Authorization")
	if strings.TrimSpace(h) == "" {
		q.fail(http.StatusUnauthorized, "MissingToken: The authorization header was not found.")
		return false
	}
	tok, err := sas.Parse(h)
	if err != nil {
		q.fail(http.StatusUnauthorized, "MalformedToken: The credentials contained in the authorization header are not in the WRAP format.")
		return false
	}
	badSignature := func() bool {
		if mgmt && q.r.Method == http.MethodGet {
			q.fail(http.StatusUnauthorized, need.String()+" claim is required for this operation..")
		} else {
			q.fail(http.StatusUnauthorized, msgInvalidSignature)
		}
		return false
	}
	var keys [2]string
	var have rights
	found := false
	if tok.KeyName == NamespaceRuleName {
		keys, have, found = [2]string{s.opts.NamespaceKey, s.opts.NamespaceKey}, rightListen|rightSend|rightManage, true
	} else {
		for _, r := range rules {
			if r.name == tok.KeyName {
				keys, have, found = [2]string{r.primary, r.secondary}, r.rights, true
				break
			}
		}
	}
	if !found {
		return badSignature()
	}
	if tok.Expired(s.now()) {
		q.fail(http.StatusUnauthorized, "ExpiredToken: The token is expired.")
		return false
	}
	if !tok.ValidSignature(keys[0]) && (keys[1] == keys[0] || !tok.ValidSignature(keys[1])) {
		return badSignature()
	}
	if !tok.Covers(q.r.Host, resource) {
		q.fail(http.StatusUnauthorized, "InvalidAudience: The authorization header contains a token with a wrong audience.")
		return false
	}
	if have&need == 0 {
		if mgmt || q.oldAPI() {
			q.fail(http.StatusUnauthorized, need.String()+" claim is required for this operation..")
		} else {
			q.empty(http.StatusForbidden, "")
		}
		return false
	}
	q.rights = have
	return true
}

// ---- response writing -------------------------------------------------

// write sends a body with a content type and status.
func (q *request) write(status int, contentType string, body []byte) {
	if contentType != "" {
		q.w.Header().Set("Content-Type", contentType)
	}
	q.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	q.status = status
	q.w.WriteHeader(status)
	if q.r.Method != http.MethodHead {
		_, _ = q.w.Write(body)
	}
}

// writeJSON answers 200 with v as indented JSON.
func (q *request) writeJSON(v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		q.fail(http.StatusInternalServerError, "encoding failed")
		return
	}
	q.write(http.StatusOK, ctJSON, append(b, '\n'))
}

// empty sends an empty body, with a content type if given.
func (q *request) empty(status int, contentType string) {
	q.write(status, contentType, nil)
}

// fail sends the service's XML error body (docs/protocol.md, "Errors").
func (q *request) fail(status int, msg string) {
	q.write(status, ctXML, errorBody(status, msg, q.trackingID, time.Now()))
}

// errorBody renders <Error><Code/><Detail/></Error>; Detail is msg, a '.'
// unless msg already ends with one, then TrackingId and TimeStamp.
func errorBody(status int, msg, trackingID string, now time.Time) []byte {
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	detail := msg + "TrackingId:" + trackingID + "_G0,TimeStamp:" + now.UTC().Format("1/2/2006 3:04:05 PM")
	var b strings.Builder
	b.WriteString("<Error><Code>")
	b.WriteString(strconv.Itoa(status))
	b.WriteString("</Code><Detail>")
	xmlEscape(&b, detail)
	b.WriteString("</Detail></Error>")
	return []byte(b.String())
}

func xmlEscape(b *strings.Builder, s string) {
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
}

// httpError is an error that carries a status; handlers return it from
// helpers and write it with failErr.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(msg string) error { return &httpError{http.StatusBadRequest, msg} }

// failErr writes err: its status if it is an *httpError, else 400.
func (q *request) failErr(err error) {
	var he *httpError
	if errors.As(err, &he) {
		q.fail(he.status, he.msg)
		return
	}
	q.fail(http.StatusBadRequest, err.Error())
}

// readBody reads at most limit bytes; more gives 413, with the service's
// words for a send's 64 KiB and the limit that applied for other bodies.
func (q *request) readBody(limit int64) ([]byte, error) {
	buf, err := io.ReadAll(io.LimitReader(q.r.Body, limit+1))
	if err != nil {
		return nil, badRequest("the request body could not be read")
	}
	if int64(len(buf)) > limit {
		msg := "Requested entity too large. The message size cannot be over 64 Kb."
		if limit != maxSendBody {
			msg = "Requested entity too large. The request body cannot be over " + sizeText(limit) + "."
		}
		return nil, &httpError{http.StatusRequestEntityTooLarge, msg}
	}
	return buf, nil
}

// sizeText says n bytes in MiB or KiB when it is a whole number of them.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
