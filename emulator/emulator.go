// Package emulator is a local, in-memory Azure Notification Hubs data plane
// served as an http.Handler. It is what `nh emulator` runs and what
// emulatortest starts for tests.
//
// # Protocol
//
// The emulator follows the real service's wire behaviour as recorded by
// Microsoft's .NET SDK test suite: status codes, header names, Atom/XML and JSON
// body shapes, element order and error bodies (docs/protocol.md, "What the
// emulator must get right"). It accepts the requests of every official SDK (.NET,
// Java, JS) and of the Python REST sample: case-insensitive paths, optional
// trailing slashes, percent-encoded query keys, absolute-form request targets.
//
// # Authentication
//
// The namespace has the rule RootManageSharedAccessKey (Listen, Manage,
// Send) with Options.NamespaceKey or the documented DefaultNamespaceKey: it
// opens every hub and the hub-management routes. Hubs created on first use
// (and those of Options.Hubs) have the two default rules
// DefaultFullSharedAccessSignature (Listen, Manage, Send) and
// DefaultListenSharedAccessSignature (Listen), with the keys of Options or
// the documented development keys DefaultFullKey and DefaultListenKey.
// Hubs created through the API (PUT /{hub}) have the rules they were
// created with, or two such rules with fresh random keys: a token of one
// hub's key does not open another. Tokens are verified as the service does
// (docs/protocol.md, "SAS tokens"), with a rule's primary or secondary key.
//
// # Hub management
//
// PUT, GET and DELETE /{hub}, GET / and GET /$Resources/NotificationHubs
// create, read, update, delete and list hubs with their descriptions
// (rules, registration TTL, push-service credentials), as the service
// answers them (docs/hub-management.md). A hub created through the API
// delivers only to the push services it has a credential for: other sends
// are accepted and their targets fail with the outcome InvalidCredentials.
//
// # Deliveries
//
// Every notification a push service would receive is recorded as a
// Delivery (bounded by Options.Retention) and can be read with
// Server.Deliveries or GET /_emulator/deliveries. By default nothing
// leaves the machine. With Options.Deliver, the targets of hubs that have
// a credential for their platform are delivered to the real push services
// (or the endpoints given instead), asynchronously: each delivery record
// says Pending until the push service answers, and the answers flow back
// as the service's do, into telemetry, the feedback container and the
// registrations (docs/push-delivery.md).
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
// The control plane: the inbox web page at /_emulator/ui/ (package inbox),
// GET /_emulator/deliveries?hub=&notificationId=&handle=&tag=, GET
// /_emulator/sends?hub=, GET /_emulator/hubs, POST /_emulator/reset; GET,
// POST (a Fault as JSON, latency as "250ms") and DELETE /_emulator/faults,
// DELETE /_emulator/faults/{id}; POST /_emulator/throttle
// {"hub","rate","burst"}; GET and POST /_emulator/handles
// {"handle","state"}. The blob store at /_emulator/blob/{container}[/{blob}]
// needs the SAS query of the URLs the emulator hands out (feedback
// container, PnsErrorDetailsUri, Server.ContainerURL).
//
// # Who may use what
//
// Every request must name a Host the emulator answers (localhost, an IP
// address, the host of SetPublicEndpoint, Options.AllowedHosts), so that a
// web page cannot reach it through DNS rebinding. The data plane takes SAS
// tokens, checked against the very hub and id the request acts on: the
// router decodes each path segment once and refuses ".", "..", encoded
// slashes and control characters. The control plane takes no credential
// unless Options.ControlToken is set, but refuses state-changing requests
// from another origin, and POSTs must carry Content-Type: application/json,
// which a page of another origin cannot send without a CORS preflight the
// emulator never grants. Serve turns the control plane off on a listener
// beyond loopback unless a control token is given.
//
// # Limits
//
// Send bodies are capped at 64 KiB as the service's are, other bodies at
// 1 MiB (JSON control inputs at 64 KiB), blobs by Options.MaxBlobBytes and
// Options.MaxBlobStoreBytes, delivery and send records by
// Options.Retention and Options.RetentionBytes. Faults, throttles and
// marked handles given to the control plane are validated and bounded in
// number. Serve adds timeouts and a cap on open connections
// (ServeOptions).
package emulator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
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

// Default limits of Options.
const (
	// DefaultRetentionBytes bounds the retained delivery records, and
	// separately the send records, when Options.RetentionBytes is zero.
	DefaultRetentionBytes = 64 << 20
	// DefaultMaxBlobBytes is the largest blob the blob store takes when
	// Options.MaxBlobBytes is zero.
	DefaultMaxBlobBytes = 32 << 20
	// DefaultMaxBlobStoreBytes is what all blobs together may hold when
	// Options.MaxBlobStoreBytes is zero.
	DefaultMaxBlobStoreBytes = 256 << 20
)

// Options configures a Server.
type Options struct {
	// Hubs, if non-empty, lists the hubs that exist from the start, and
	// hubs are then not created on first use: requests to other hubs get
	// 404 until they are created through the API (PUT /{hub}). If empty,
	// hubs are created on first use. Hub names follow the service's rule:
	// 1 to 260 letters, digits, '.', '-' and '_', starting with a letter;
	// Open refuses others, and requests naming others get 400.
	Hubs []string
	// NamespaceKey is the key of RootManageSharedAccessKey, the
	// namespace's Manage rule; "" means DefaultNamespaceKey.
	NamespaceKey string
	// FullKey and ListenKey are the keys of DefaultFullSharedAccessSignature
	// and DefaultListenSharedAccessSignature; "" means DefaultFullKey and
	// DefaultListenKey.
	FullKey, ListenKey string
	// Retention is the maximum number of delivery records kept (the oldest
	// are dropped); 0 means DefaultRetention. Send records are kept by the
	// same number.
	Retention int
	// RetentionBytes bounds the size of the retained delivery records
	// (payload, headers, handle, tags and ids, each counted as its own
	// copy), and separately that of the send records: beyond it the
	// oldest are dropped, whatever Retention says. 0 means
	// DefaultRetentionBytes.
	RetentionBytes int64
	// MaxBlobBytes is the largest blob the blob store takes (an upload, a
	// job's output, or what a job reads); larger uploads get 413. 0 means
	// DefaultMaxBlobBytes.
	MaxBlobBytes int64
	// MaxBlobStoreBytes bounds all the blobs together; an upload that
	// would pass it gets 413, and feedback or job output that would pass
	// it is not written. 0 means DefaultMaxBlobStoreBytes.
	MaxBlobStoreBytes int64
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

	// AllowedHosts are the Host names the emulator answers besides
	// localhost (and names below .localhost), IP addresses and the host of
	// SetPublicEndpoint: "name" exactly, "*.example.com" any name below
	// example.com, "*" any name. Requests for other names get 403 on every
	// route, so that a web page cannot reach the emulator through DNS
	// rebinding. Names are compared ignoring case.
	AllowedHosts []string
	// ControlToken, if set, is the credential of the control plane
	// (/_emulator/… and the inbox page; not the blob store, which has its
	// own SAS): requests must carry "Authorization: Bearer <ControlToken>",
	// or the cookie the inbox page sets when opened at
	// /_emulator/ui/?token=<ControlToken>. It must have at least 16
	// characters, letters, digits and -._~+/= only. Without it, the control
	// plane takes no credential (see DisableControlPlane).
	ControlToken string
	// DisableControlPlane turns the control plane off: /_emulator/… (but
	// the blob store) and the inbox page answer 403. Serve sets it when it
	// listens beyond loopback without a ControlToken.
	DisableControlPlane bool

	// Deliver, if set, hands the sends of hubs that have a credential for
	// a platform to that platform's real push service (deliver.go). Nil
	// delivers nothing: no connection leaves the machine.
	Deliver *DeliverOptions
}

// String describes o field by field with its keys and control token
// replaced by REDACTED, so that printing Options (or ServeOptions, which
// holds them) shows no secret.
func (o Options) String() string {
	type fields Options // without methods, so that fmt prints the fields
	c := fields(o)
	for _, k := range []*string{&c.NamespaceKey, &c.FullKey, &c.ListenKey, &c.ControlToken} {
		if *k != "" {
			*k = "REDACTED"
		}
	}
	return fmt.Sprintf("emulator.Options%+v", c)
}

// GoString is String, for %#v.
func (o Options) GoString() string { return o.String() }

// LogValue is String, so that log/slog handlers (JSON included) show no
// secret either.
func (o Options) LogValue() slog.Value { return slog.StringValue(o.String()) }

// Server is an emulated Notification Hubs namespace. It implements
// http.Handler and is safe for concurrent use.
//
// Lock order. mu guards the hubs: the map and all that is in each hub
// (targets and their indexes, installations, scheduled sends, jobs);
// readers take it shared. It is the outermost lock. Holding it, code may
// take blobs.mu and then the store's queue lock (st.mu, through persist),
// the delivery and send rings' locks, watch.mu (recordDeliveries, after
// the ring's lock is released) and pnsMu (markSnapshot), never the other
// way round. schedMu guards the timers of scheduled sends and closed; it
// is never held together with mu. The locks of faults, throttle and
// testSend are leaves, taken before a handler runs. Nothing waits for a
// database batch (batch.wait) while holding mu: handlers queue their
// writes under the lock and wait after releasing it, so that one group
// commit serves many requests.
type Server struct {
	opts   Options
	now    func() time.Time
	log    *slog.Logger
	hubSet map[string]bool // Options.Hubs, lower case; nil = hubs are created on first use
	routes []route         // the routing table (http.go)

	allowedHosts []string // Options.AllowedHosts, lower case

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

	// Hub management (hubs.go): the development rules, and the listing
	// feeds' uuid and entry numbers.
	devRuleSet []authRule
	epochUUID  string
	feedSeq    atomic.Int64

	// Delivery to the push services (deliver.go); nil without
	// Options.Deliver.
	dlv *deliverer

	// The inbox page (inbox.go).
	epoch    string // random prefix of inbox delivery ids
	watch    watchSet
	endpoint atomic.Pointer[string] // SetPublicEndpoint
	uiHost   atomic.Pointer[string] // Host of the latest inbox request
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
	if err := checkOptions(opts); err != nil {
		return nil, err
	}
	s := newServer(opts)
	t, err := parseTier(opts.Tier)
	if err != nil {
		return nil, err
	}
	s.tier = t
	if opts.DataDir != "" {
		st, err := openStore(opts.DataDir, s.opts.Retention, s.opts.RetentionBytes)
		if err != nil {
			return nil, err
		}
		s.st = st
		if s.blobs.secret, err = st.blobSecret(s.blobs.secret); err != nil {
			_ = st.close()
			return nil, fmt.Errorf("read the blob store's signing secret from %s: %w", opts.DataDir, err)
		}
		if err := s.load(); err != nil {
			_ = st.close()
			if errors.Is(err, errDamaged) {
				return nil, err
			}
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
	s.closeDelivery()
	if s.st != nil {
		return s.st.close()
	}
	return nil
}

// checkOptions refuses options the emulator cannot serve.
func checkOptions(opts Options) error {
	for _, h := range opts.Hubs {
		if err := validHubName(h); err != nil {
			return fmt.Errorf("emulator: Options.Hubs: %w", err)
		}
	}
	if opts.ControlToken != "" {
		if err := checkControlToken(opts.ControlToken); err != nil {
			return fmt.Errorf("emulator: Options.ControlToken: %w", err)
		}
	}
	if opts.RetentionBytes < 0 || opts.MaxBlobBytes < 0 || opts.MaxBlobStoreBytes < 0 {
		return errors.New("emulator: Options.RetentionBytes, MaxBlobBytes and MaxBlobStoreBytes cannot be negative")
	}
	return checkDeliverOptions(opts.Deliver)
}

func newServer(opts Options) *Server {
	if opts.FullKey == "" {
		opts.FullKey = DefaultFullKey
	}
	if opts.ListenKey == "" {
		opts.ListenKey = DefaultListenKey
	}
	if opts.NamespaceKey == "" {
		opts.NamespaceKey = DefaultNamespaceKey
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.RetentionBytes <= 0 {
		opts.RetentionBytes = DefaultRetentionBytes
	}
	if opts.MaxBlobBytes <= 0 {
		opts.MaxBlobBytes = DefaultMaxBlobBytes
	}
	if opts.MaxBlobStoreBytes <= 0 {
		opts.MaxBlobStoreBytes = DefaultMaxBlobStoreBytes
	}
	s := &Server{
		opts:       opts,
		now:        opts.Now,
		log:        opts.Logger,
		hubs:       map[string]*hub{},
		deliveries: newRing(opts.Retention, opts.RetentionBytes, (*Delivery).size),
		sends:      newRing(opts.Retention, opts.RetentionBytes, (*SendRecord).size),
		timers:     map[string]*time.Timer{},
		marks:      map[string]HandleState{},
		closing:    make(chan struct{}),
		epoch:      randHex(4),
		epochUUID:  newGUID(),
		devRuleSet: devRules(opts),
	}
	s.blobs = newBlobStore(s)
	s.blobs.secret = make([]byte, blobSecretSize)
	_, _ = rand.Read(s.blobs.secret)
	s.routes = s.buildRoutes()
	for _, h := range opts.AllowedHosts {
		s.allowedHosts = append(s.allowedHosts, normHost(h))
	}
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
	s.dlv = newDeliverer(s, opts.Deliver)
	return s
}

// Reset forgets every hub, registration, installation, scheduled
// notification, delivery record, blob, job, fault and handle mark (in
// DataDir too). Hubs listed in Options.Hubs stay, as they were at the
// start; hubs created through the API go.
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

// NamespaceConnectionString returns the connection string of
// RootManageSharedAccessKey at endpoint: the namespace's Manage rule, for
// hub management (and any hub's data plane).
func (s *Server) NamespaceConnectionString(endpoint string) string {
	if !strings.HasSuffix(endpoint, "/") {
		endpoint += "/"
	}
	return "Endpoint=" + endpoint + ";SharedAccessKeyName=" + NamespaceRuleName + ";SharedAccessKey=" + s.opts.NamespaceKey
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
		return h // hubs of Options.Hubs exist from the start
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
	match      routeMatch // the routing table's row and its parameters
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

// param returns the path parameter name of the request's route ({id},
// {tag}, …), percent-decoded and validated once by the router.
func (q *request) param(name string) string { return q.match.param(name) }

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
	if s.hostAllowed(q) {
		s.route(q)
	}
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
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}
