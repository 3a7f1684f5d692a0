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

	"github.com/nhkit/notificationhubs/internal/sas"
)

// Content types the service answers with.
const (
	ctEntry = "application/atom+xml; type=entry; charset=utf-8"
	ctFeed  = "application/atom+xml; type=feed; charset=utf-8"
	ctXML   = "application/xml; charset=utf-8"
	ctJSON  = "application/json; charset=utf-8"
)

var (
	queryUnescape = url.QueryUnescape
	pathUnescape  = url.PathUnescape
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

// handlerFunc handles one route. It writes through q.
type handlerFunc func(s *Server, q *request)

// route is one row of the routing table: method and lower-case segment
// pattern after the hub, where "*" matches any one segment.
type route struct {
	method  string
	pattern []string
	right   rights
	handle  handlerFunc
}

// routes is the whole data plane, matched in order.
var routes = []route{
	{"POST", []string{"messages"}, rightSend, (*Server).handleSend},
	{"POST", []string{"messages", "$batch"}, rightSend, (*Server).handleBatchSend},
	{"GET", []string{"messages", "*"}, rightSend, (*Server).handleNotificationDetails},
	{"POST", []string{"schedulednotifications"}, rightSend, (*Server).handleSchedule},
	{"DELETE", []string{"schedulednotifications", "*"}, rightSend, (*Server).handleCancelScheduled},
	{"POST", []string{"registrationids"}, rightListen, (*Server).handleCreateRegistrationID},
	{"POST", []string{"registrations"}, rightListen, (*Server).handleCreateRegistration},
	{"GET", []string{"registrations"}, rightListen, (*Server).handleListRegistrations},
	{"GET", []string{"registrations", "*"}, rightListen, (*Server).handleGetRegistration},
	{"PUT", []string{"registrations", "*"}, rightListen, (*Server).handlePutRegistration},
	{"DELETE", []string{"registrations", "*"}, rightListen, (*Server).handleDeleteRegistration},
	{"GET", []string{"tags", "*", "registrations"}, rightManage, (*Server).handleListByTag},
	{"GET", []string{"installations", "*"}, rightListen, (*Server).handleGetInstallation},
	{"PUT", []string{"installations", "*"}, rightListen, (*Server).handlePutInstallation},
	{"PATCH", []string{"installations", "*"}, rightListen, (*Server).handlePatchInstallation},
	{"DELETE", []string{"installations", "*"}, rightListen, (*Server).handleDeleteInstallation},
	{"GET", []string{"feedbackcontainer"}, rightManage, (*Server).handleFeedbackContainer},
	{"POST", []string{"jobs"}, rightManage, (*Server).handleSubmitJob},
	{"GET", []string{"jobs"}, rightManage, (*Server).handleListJobs},
	{"GET", []string{"jobs", "*"}, rightManage, (*Server).handleGetJob},
}

func (rt route) match(lsegs []string) bool {
	if len(lsegs) != len(rt.pattern) {
		return false
	}
	for i, p := range rt.pattern {
		if p != "*" && p != lsegs[i] {
			return false
		}
	}
	return true
}

func (s *Server) route(q *request) {
	segs := splitPath(q.r.URL.EscapedPath())
	if len(segs) > 0 && strings.EqualFold(segs[0], "_emulator") {
		if len(segs) > 1 && strings.EqualFold(segs[1], "blob") {
			p := q.r.URL.EscapedPath()
			i := strings.Index(strings.ToLower(p), "/blob/")
			if i < 0 {
				q.fail(http.StatusNotFound, "No such emulator endpoint.")
				return
			}
			s.handleBlob(q, p[i+len("/blob"):])
			return
		}
		s.handleInspect(q, segs[1:])
		return
	}
	if len(segs) == 0 {
		q.fail(http.StatusNotFound, "No service is hosted at the specified address.")
		return
	}
	q.hubName = segs[0]
	q.segs = segs[1:]
	q.lsegs = make([]string, len(q.segs))
	for i, sg := range q.segs {
		q.lsegs[i] = strings.ToLower(sg)
	}
	var found *route
	methodMismatch := false
	for i := range routes {
		if routes[i].match(q.lsegs) {
			if routes[i].method == q.r.Method {
				found = &routes[i]
				break
			}
			methodMismatch = true
		}
	}
	if found == nil {
		if methodMismatch {
			q.fail(http.StatusMethodNotAllowed, "The requested HTTP method is not supported on this resource.")
			return
		}
		q.fail(http.StatusNotFound, "No service is hosted at the specified address.")
		return
	}
	if s.hubSet != nil && !s.hubSet[strings.ToLower(q.hubName)] {
		q.fail(http.StatusNotFound, "No service is hosted at the specified address.")
		return
	}
	if !s.authorize(q, found.right) {
		return
	}
	if s.applyFaults(q) {
		return
	}
	q.hub = s.lookupHub(q.hubName, true)
	if q.hub == nil {
		q.fail(http.StatusNotFound, "No service is hosted at the specified address.")
		return
	}
	found.handle(s, q)
}

// authorize checks the SAS token and the rule's rights, writing the
// failure itself.
func (s *Server) authorize(q *request, need rights) bool {
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
	var key string
	var have rights
	switch tok.KeyName {
	case FullRuleName:
		key, have = s.opts.FullKey, rightListen|rightSend|rightManage
	case ListenRuleName:
		key, have = s.opts.ListenKey, rightListen
	default:
		q.fail(http.StatusUnauthorized, "InvalidSignature: The token has an invalid signature.")
		return false
	}
	if tok.Expired(s.now()) {
		q.fail(http.StatusUnauthorized, "ExpiredToken: The token is expired.")
		return false
	}
	if !tok.ValidSignature(key) {
		q.fail(http.StatusUnauthorized, "InvalidSignature: The token has an invalid signature.")
		return false
	}
	if !tok.Covers(q.r.Host, q.r.URL.Path) {
		q.fail(http.StatusUnauthorized, "InvalidAudience: The authorization header contains a token with a wrong audience.")
		return false
	}
	if have&need == 0 {
		if q.oldAPI() {
			q.fail(http.StatusUnauthorized, need.String()+" claim is required for this operation.")
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

// fail sends the service's XML error body (rest-api.md §9.1).
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

// readBody reads at most limit bytes; more gives 413.
func (q *request) readBody(limit int64) ([]byte, error) {
	buf, err := io.ReadAll(io.LimitReader(q.r.Body, limit+1))
	if err != nil {
		return nil, badRequest("the request body could not be read")
	}
	if int64(len(buf)) > limit {
		return nil, &httpError{http.StatusRequestEntityTooLarge, "Requested entity too large. The message size cannot be over 64 Kb."}
	}
	return buf, nil
}
