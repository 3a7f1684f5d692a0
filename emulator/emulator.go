// Package emulator is a local, in-memory Azure Notification Hubs data plane
// served as an http.Handler. It is what `nh emulator` runs and what
// emulatortest starts for tests.
//
// # Protocol
//
// The emulator follows the real service's wire behaviour as recorded by
// Microsoft's .NET SDK test suite: status codes, header names, Atom/XML and
// JSON body shapes, element order and error bodies (rest-api.md §11). It
// accepts the requests of every official SDK (.NET, Java, JS) and of the
// Python REST sample: case-insensitive paths, optional trailing slashes,
// percent-encoded query keys, absolute-form request targets.
//
// # Authentication
//
// Every hub has the two default rules DefaultFullSharedAccessSignature
// (Listen, Manage, Send) and DefaultListenSharedAccessSignature (Listen),
// with the keys of Options or the documented development keys
// DefaultFullKey and DefaultListenKey. Tokens are verified as the service
// does (rest-api.md §2.2).
//
// # Deliveries
//
// Nothing leaves the machine. Every notification a push service would
// receive is recorded as a Delivery (bounded by Options.Retention) and can
// be read with Server.Deliveries or GET /_emulator/deliveries.
//
// # Inspection endpoints
//
// GET /_emulator/deliveries?hub=&notificationId=&handle=&tag=, GET
// /_emulator/hubs and POST /_emulator/reset answer JSON without
// authentication.
package emulator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Development keys of the two default rules. They are fixed and published
// so that every local client can use the same connection strings; they
// protect nothing.
const (
	// DefaultFullKey is the key of DefaultFullSharedAccessSignature.
	DefaultFullKey = "bm90aHViLWVtdWxhdG9yLWZ1bGwta2V5LWRldm9ubHk="
	// DefaultListenKey is the key of DefaultListenSharedAccessSignature.
	DefaultListenKey = "bm90aHViLWVtdWxhdG9yLWxpc3Rlbi1rZXktZGV2b25s"
)

// Names of the two rules every hub has.
const (
	FullRuleName   = "DefaultFullSharedAccessSignature"
	ListenRuleName = "DefaultListenSharedAccessSignature"
)

// DefaultRetention is the number of delivery records kept when
// Options.Retention is zero.
const DefaultRetention = 10000

// Options configures a Server.
type Options struct {
	// Hubs, if non-empty, lists the only hubs that exist; requests to other
	// hubs get 404. If empty, hubs are created on first use.
	Hubs []string
	// FullKey and ListenKey are the keys of DefaultFullSharedAccessSignature
	// and DefaultListenSharedAccessSignature; "" means DefaultFullKey and
	// DefaultListenKey.
	FullKey, ListenKey string
	// Retention is the maximum number of delivery records kept (the oldest
	// are dropped); 0 means DefaultRetention.
	Retention int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives one line per request; nil discards. Keys and
	// Authorization headers are never logged.
	Logger *slog.Logger
}

// Server is an emulated Notification Hubs namespace. It implements
// http.Handler and is safe for concurrent use.
type Server struct {
	opts   Options
	now    func() time.Time
	log    *slog.Logger
	hubSet map[string]bool // lower-case names allowed; nil = any

	mu   sync.RWMutex
	hubs map[string]*hub // by lower-case name

	deliveries *ring[Delivery]
	sends      *ring[SendRecord]

	schedMu sync.Mutex
	timers  map[string]*time.Timer
}

// New returns a Server with the given options.
func New(opts Options) *Server {
	if opts.FullKey == "" {
		opts.FullKey = DefaultFullKey
	}
	if opts.ListenKey == "" {
		opts.ListenKey = DefaultListenKey
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	s := &Server{
		opts:       opts,
		now:        opts.Now,
		log:        opts.Logger,
		hubs:       map[string]*hub{},
		deliveries: newRing[Delivery](opts.Retention),
		sends:      newRing[SendRecord](opts.Retention),
		timers:     map[string]*time.Timer{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if len(opts.Hubs) > 0 {
		s.hubSet = map[string]bool{}
		for _, h := range opts.Hubs {
			s.hubSet[strings.ToLower(h)] = true
			s.hubs[strings.ToLower(h)] = newHub(h)
		}
	}
	return s
}

// Reset forgets every registration, installation, scheduled notification
// and delivery record. Hubs listed in Options.Hubs stay.
func (s *Server) Reset() {
	s.schedMu.Lock()
	for id, t := range s.timers {
		t.Stop()
		delete(s.timers, id)
	}
	s.schedMu.Unlock()
	s.mu.Lock()
	s.hubs = map[string]*hub{}
	for _, h := range s.opts.Hubs {
		s.hubs[strings.ToLower(h)] = newHub(h)
	}
	s.mu.Unlock()
	s.deliveries.reset()
	s.sends.reset()
}

// ConnectionString returns a connection string for this emulator at
// endpoint (e.g. "sb://127.0.0.1:8443/"), with the full or the listen-only
// rule.
func (s *Server) ConnectionString(endpoint string, listenOnly bool) string {
	if !strings.HasSuffix(endpoint, "/") {
		endpoint += "/"
	}
	name, key := FullRuleName, s.opts.FullKey
	if listenOnly {
		name, key = ListenRuleName, s.opts.ListenKey
	}
	return "Endpoint=" + endpoint + ";SharedAccessKeyName=" + name + ";SharedAccessKey=" + key
}

// lookupHub returns the hub named name (case-insensitively), creating it
// when create is set and hubs are created on first use; nil if it does not
// exist.
func (s *Server) lookupHub(name string, create bool) *hub {
	key := strings.ToLower(name)
	s.mu.RLock()
	h := s.hubs[key]
	s.mu.RUnlock()
	if h != nil || !create || s.hubSet != nil {
		return h
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if h = s.hubs[key]; h == nil {
		h = newHub(name)
		s.hubs[key] = h
	}
	return h
}

// request is the parsed form of one call.
type request struct {
	r          *http.Request
	w          http.ResponseWriter
	trackingID string
	hubName    string
	hub        *hub
	segs       []string // decoded path segments after the hub, original case
	lsegs      []string // lower-cased segs
	query      map[string]string
	rawQuery   string
	apiVersion string
	rights     rights
	status     int
}

func (q *request) has(key string) bool {
	_, ok := q.query[key]
	return ok
}

// flag reports a query flag such as test or direct: present with no value,
// or a value other than "false".
func (q *request) flag(key string) bool {
	v, ok := q.query[key]
	return ok && !strings.EqualFold(v, "false")
}

// baseURL returns https://{host}/{hub}.
func (q *request) baseURL() string {
	host := q.r.Host
	if host == "" {
		host = "localhost"
	}
	return "https://" + host + "/" + q.hubName
}

// versionQuery returns "?api-version=…" with the request's version.
func (q *request) versionQuery() string {
	v := q.apiVersion
	if v == "" {
		v = "2020-06"
	}
	return "?api-version=" + v
}

// oldAPI reports whether the request asked for an api-version before
// 2020-06 (rights failures are then 401 rather than 403).
func (q *request) oldAPI() bool {
	return q.apiVersion != "" && q.apiVersion < "2020-06"
}

func newGUID() string { return uuid.NewString() }

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	q := &request{r: r, w: w}
	q.trackingID = r.Header.Get("TrackingId")
	if q.trackingID == "" {
		q.trackingID = newGUID()
	}
	w.Header().Set("TrackingId", q.trackingID)
	w.Header().Set("x-ms-correlation-request-id", newGUID())
	if cid := r.Header.Get("x-ms-client-request-id"); cid != "" {
		w.Header().Set("x-ms-client-request-id", cid)
	}
	q.query, q.rawQuery = parseQuery(r.URL.RawQuery)
	q.apiVersion = q.query["api-version"]
	s.route(q)
	s.log.LogAttrs(context.Background(), slog.LevelInfo, "request",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", q.status),
		slog.String("trackingId", q.trackingID),
		slog.Duration("elapsed", time.Since(start)))
}

// parseQuery splits a raw query, percent-decoding keys and values and
// lower-casing keys. The first occurrence of a key wins.
func parseQuery(raw string) (map[string]string, string) {
	m := map[string]string{}
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k = strings.ToLower(unescapeQuery(k))
		if _, dup := m[k]; dup {
			continue
		}
		m[k] = unescapeQuery(v)
	}
	return m, raw
}

func unescapeQuery(s string) string {
	if u, err := queryUnescape(s); err == nil {
		return u
	}
	return s
}

// splitPath returns the decoded segments of an escaped path, ignoring
// empty segments (so trailing and doubled slashes do not matter).
func splitPath(escaped string) []string {
	var segs []string
	for seg := range strings.SplitSeq(escaped, "/") {
		if seg == "" {
			continue
		}
		if u, err := pathUnescape(seg); err == nil {
			seg = u
		}
		segs = append(segs, seg)
	}
	return segs
}
