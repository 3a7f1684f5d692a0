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
// # Persistence
//
// With Options.DataDir the state lives in a bbolt database; writes are
// answered once committed and fsynced (group commit), and Open restores
// everything, firing scheduled notifications that fell due meanwhile.
//
// # What goes wrong
//
// Device handles marked with Server.MarkHandle (or containing "expired-",
// "invalid-" or "throttled-") fail at their simulated push service; the
// failures show in telemetry, PnsErrorDetailsUri and the feedback
// container, and expired channels are removed as the service does. Faults
// (Server.InjectFault) answer 429, 403, 500 or 503, add latency or drop
// the connection; SetThrottle answers 429 beyond a token bucket (or, with
// Options.ThrottleWindow, fixed windows). Options set the tier, the
// telemetry delay and a read-after-write delay.
//
// # Inspection and control endpoints
//
// Without authentication: the inbox web page at /_emulator/ui/ (package
// inbox; its API answers loopback hosts only), GET /_emulator/deliveries?hub=&notificationId=
// &handle=&tag=, GET /_emulator/sends?hub=, GET /_emulator/hubs, POST
// /_emulator/reset; GET, POST (a Fault as JSON, latency as "250ms") and
// DELETE /_emulator/faults, DELETE /_emulator/faults/{id}; POST
// /_emulator/throttle {"hub","rate","burst"}; GET and POST
// /_emulator/handles {"handle","state"}. The blob store at
// /_emulator/blob/{container}[/{blob}] needs the SAS query of the URLs
// the emulator hands out (feedback container, PnsErrorDetailsUri,
// Server.ContainerURL).
package emulator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
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

	// DataDir, if set, makes the state durable: hubs, registrations,
	// installations, scheduled notifications, telemetry, delivery records
	// (within Retention), blobs and jobs are kept in DataDir/emulator.db
	// (bbolt) and restored by the next Open. A write is answered only once
	// it is committed and fsynced. Empty keeps everything in memory.
	DataDir string
	// Tier is free, basic or standard ("" = standard). Free and Basic
	// refuse telemetry, the feedback container, scheduled sends and jobs
	// with the service's 403, answer sends without a Location header (so
	// clients get no notification id), and cap active devices (Free 500,
	// Basic 200,000, Standard 10,000,000).
	Tier string
	// TelemetryDelay is how long after a send its details
	// (GET /{hub}/messages/{id}) answer 404 before they exist, as the
	// service's do; 0 makes them available at once.
	TelemetryDelay time.Duration
	// ReadDelay, if positive, reproduces the service's eventual
	// consistency: for ReadDelay after an installation is written (PUT,
	// PATCH) or deleted, GET answers its previous state (404 if it did not
	// exist).
	ReadDelay time.Duration
	// TestSendsPerMinute caps test (debug) sends per hub per minute; beyond
	// it they get 429 with Retry-After. 0 means the service's 10; negative
	// means no cap.
	TestSendsPerMinute int
	// JobStepDelay is how long an import/export job stays Started and then
	// Running; 0 means DefaultJobStepDelay.
	JobStepDelay time.Duration
	// ThrottleRate, if positive, throttles every hub with a token bucket of
	// ThrottleRate requests per second and ThrottleBurst tokens (0 means
	// one second's worth): beyond it requests get 429 with Retry-After.
	ThrottleRate  float64
	ThrottleBurst int
	// ThrottleWindow, if positive, makes the throttle count requests in
	// fixed windows of this length instead (starting on whole multiples of
	// it, e.g. on every second): each window admits ThrottleRate×window
	// requests, and the rest get 429 with Retry-After until the next
	// window. ThrottleBurst is then not used. docs/throttling.md compares
	// the two models.
	ThrottleWindow time.Duration
	// HTTPClient fetches and stores job blobs at container URLs outside the
	// emulator (e.g. Azurite); nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// AllowRemoteStorage lets jobs read and write blobs on other machines.
	// By default the emulator reaches only loopback hosts (127.0.0.0/8,
	// ::1, localhost) and its own blob service, so that a typo or a test
	// can never make it contact anything outside this machine: a job whose
	// OutputContainerUri or ImportFileUri (or a redirect) points elsewhere
	// fails, and its Failure says why and how to allow it.
	AllowRemoteStorage bool
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

	st       *store // nil without DataDir
	tier     tier
	blobs    *blobStore
	faults   faultSet
	throttle throttleSet
	testSend rateWindow
	pnsMu    sync.Mutex
	marks    map[string]HandleState // by lower-case handle
	jobsWG   sync.WaitGroup
	closing  chan struct{}
	closed   bool

	// The inbox page (inbox.go).
	epoch     string // random prefix of inbox delivery ids
	watch     watchSet
	uiOnce    sync.Once
	uiHandler http.Handler
	endpoint  atomic.Pointer[string] // SetPublicEndpoint
	uiHost    atomic.Pointer[string] // Host of the latest inbox request
}

// New returns a Server with the given options. It panics if
// Options.DataDir is set and its database cannot be opened or read; use
// Open to get that error instead.
func New(opts Options) *Server {
	s, err := Open(opts)
	if err != nil {
		panic(err)
	}
	return s
}

// Open returns a Server with the given options, restoring the state kept
// in Options.DataDir if set. Close it to release the database.
func Open(opts Options) (*Server, error) {
	s := newServer(opts)
	t, err := parseTier(opts.Tier)
	if err != nil {
		return nil, err
	}
	s.tier = t
	if opts.DataDir != "" {
		st, err := openStore(opts.DataDir, s.opts.Retention)
		if err != nil {
			return nil, err
		}
		s.st = st
		if err := s.load(); err != nil {
			_ = st.close()
			return nil, fmt.Errorf("restore emulator state from %s: %w", opts.DataDir, err)
		}
	}
	s.start()
	return s, nil
}

// Close stops scheduled notifications and jobs and closes the database.
// The Server must not be used afterwards.
func (s *Server) Close() error {
	s.schedMu.Lock()
	if s.closed {
		s.schedMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	for id, t := range s.timers {
		t.Stop()
		delete(s.timers, id)
	}
	s.schedMu.Unlock()
	s.jobsWG.Wait()
	if s.st != nil {
		return s.st.close()
	}
	return nil
}

func newServer(opts Options) *Server {
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
		marks:      map[string]HandleState{},
		closing:    make(chan struct{}),
		epoch:      randHex(4),
	}
	s.blobs = newBlobStore(s)
	s.throttle.init(opts.ThrottleRate, opts.ThrottleBurst, opts.ThrottleWindow)
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
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

// Reset forgets every registration, installation, scheduled notification,
// delivery record, blob, job, fault and handle mark (in DataDir too). Hubs
// listed in Options.Hubs stay.
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
	s.deliveries.reset()
	s.sends.reset()
	s.blobs.reset()
	b := s.persist(opReset)
	s.mu.Unlock()
	_ = b.wait()
	s.ClearFaults()
	s.throttle.reset()
	s.testSend.reset()
	s.pnsMu.Lock()
	s.marks = map[string]HandleState{}
	s.pnsMu.Unlock()
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
		s.persist(s.opPutHub(h))
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
	if isUIPath(r.URL.Path) {
		s.serveUI(w, r)
		return
	}
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
	if !s.log.Enabled(context.Background(), slog.LevelInfo) {
		return
	}
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
