package emulator

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/nhkit/notificationhubs/emulator/inbox"
	"github.com/nhkit/notificationhubs/emulator/internal/push"
	"github.com/nhkit/notificationhubs/internal/atom"
)

// Delivery to the real push services (docs/push-delivery.md). With
// Options.Deliver set, a send's targets on a hub that has a credential for
// their platform are handed to package push instead of being recorded as
// delivered: the send is answered at once, each target's delivery record
// says Pending, and the push services' answers come back through a
// collector that writes them where the service would show them.

// DeliverOptions turn on delivery to the real push services. Only the
// targets of hubs that have a credential for their platform are
// delivered; hubs without one (those created on first use) keep the
// emulator's simulated delivery, and nothing leaves the machine for them.
type DeliverOptions struct {
	// Platforms limits delivery to these platforms, by the service's
	// installation platform names: apns, fcmv1, wns, adm, browser, and gcm,
	// mpns, baidu and xiaomi, which have no client (FCM legacy and MPNS
	// were shut down; Baidu and Xiaomi are not built) and whose sends end
	// as PnsUnavailable. Empty means all of them.
	Platforms []string
	// Endpoints point push services elsewhere, for tests and staging
	// services: a base URL such as "https://127.0.0.1:8443" for apns (both
	// APNs hosts), fcmv1 (the FCM API), fcmv1-token (Google's OAuth token
	// endpoint), wns (the scheme and host of every channel URI), wns-token,
	// adm (the ADM messaging API), adm-token, and browser (the scheme and
	// host of every subscription endpoint).
	Endpoints map[string]string
	// RootCAs are the roots trusted for the push services' certificates;
	// nil means the system's.
	RootCAs *x509.CertPool
	// DialContext makes every connection to the push services and their
	// token endpoints; nil means a net.Dialer.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// QueueSize bounds, per push service, the notifications accepted and
	// not in flight (queued, or waiting to be retried); 0 means
	// DefaultDeliverQueueSize. Beyond it a notification is not sent: its
	// delivery ends as Dropped, in telemetry, the inbox and a log line.
	QueueSize int
	// Concurrency bounds the requests in flight per push service; 0
	// means DefaultDeliverConcurrency.
	Concurrency int
	// MaxAttempts bounds the attempts per notification, retries of 429
	// and 5xx answers included; 0 means 5.
	MaxAttempts int
	// Backoff is the wait before the first retry, doubled for each
	// further one up to five minutes; a longer Retry-After wins. 0 means
	// one second.
	Backoff time.Duration
	// Timeout bounds one request to a push service or token endpoint; 0
	// means 30 s.
	Timeout time.Duration
	// Logger receives a warning when a queue is full and when a hub's
	// credential cannot be used; nil means Options.Logger.
	Logger *slog.Logger
}

// Defaults of DeliverOptions.
const (
	// DefaultDeliverQueueSize holds a broadcast to 250,000 devices of one
	// push service at once.
	DefaultDeliverQueueSize = 250000
	// DefaultDeliverConcurrency is the requests in flight per push
	// service: APNs multiplexes them on one HTTP/2 connection.
	DefaultDeliverConcurrency = 32
)

// deliverEndpointNames are the keys of DeliverOptions.Endpoints.
var deliverEndpointNames = []string{"apns", "fcmv1", "fcmv1-token", "wns", "wns-token", "adm", "adm-token", "browser"}

// DeliverEndpointNames returns the keys DeliverOptions.Endpoints takes,
// in the order nh emulator prints them.
func DeliverEndpointNames() []string { return slices.Clone(deliverEndpointNames) }

// deliverCloseGrace is how long Close lets deliveries finish before it
// cancels them (a variable for tests).
var deliverCloseGrace = 5 * time.Second

// testSendWait bounds how long a test send waits for the push services'
// answers before it answers with what it has.
const testSendWait = 10 * time.Second

// OutcomePending is the outcome of a delivery the push service has not
// answered yet.
const OutcomePending = "Pending"

// DeliveryAttempt is one attempt to hand a delivery to its push service.
type DeliveryAttempt struct {
	// Attempt counts from 1.
	Attempt int `json:"attempt"`
	// Status is delivered, handle-gone, throttled, unavailable,
	// bad-credential, bad-request, queue-full, canceled or unsupported.
	Status string `json:"status"`
	// Outcome is the Notification Hubs outcome name of the attempt.
	Outcome string `json:"outcome"`
	// HTTPStatus is the push service's status code; 0 when none came.
	HTTPStatus int `json:"httpStatus,omitempty"`
	// PnsID is the push service's id of the notification: APNs apns-id,
	// the FCM message name, WNS X-WNS-Msg-ID, ADM X-Amzn-RequestId, the
	// Web Push Location.
	PnsID string `json:"pnsId,omitempty"`
	// Reason is the push service's reason (APNs "Unregistered", FCM
	// "UNREGISTERED", an OAuth error code, a transport error).
	Reason string `json:"reason,omitempty"`
	// RetryAfter is the push service's Retry-After in seconds.
	RetryAfter int `json:"retryAfter,omitempty"`
	// Final is set on the attempt that decided the outcome.
	Final bool `json:"final,omitempty"`
	// Time is when the attempt ended.
	Time time.Time `json:"time"`
}

// checkDeliverOptions refuses options delivery cannot work with.
func checkDeliverOptions(o *DeliverOptions) error {
	if o == nil {
		return nil
	}
	for _, p := range o.Platforms {
		if platformFromInstallation(p) == pNone {
			return fmt.Errorf("emulator: Options.Deliver.Platforms: %q is no platform: want apns, fcmv1, gcm, wns, mpns, adm, baidu, browser or xiaomi", p)
		}
	}
	for k, v := range o.Endpoints {
		if !slices.Contains(deliverEndpointNames, k) {
			return fmt.Errorf("emulator: Options.Deliver.Endpoints: %q is no push service endpoint: want one of %s", k, strings.Join(deliverEndpointNames, ", "))
		}
		u, err := url.Parse(v)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" && !strings.HasSuffix(k, "-token") {
			return fmt.Errorf("emulator: Options.Deliver.Endpoints[%q]: %q is not an https URL of a host (a token endpoint may have a path)", k, v)
		}
	}
	if o.QueueSize < 0 || o.Concurrency < 0 || o.MaxAttempts < 0 || o.Backoff < 0 || o.Timeout < 0 {
		return errors.New("emulator: Options.Deliver: QueueSize, Concurrency, MaxAttempts, Backoff and Timeout cannot be negative")
	}
	return nil
}

// servicePlatforms maps each platform to its push service.
var servicePlatforms = [numPlatforms]push.Service{
	pApple: push.ServiceApns, pGcm: push.ServiceGcm, pFcmV1: push.ServiceFcmV1, pWindows: push.ServiceWns,
	pMpns: push.ServiceMpns, pAdm: push.ServiceAdm, pBaidu: push.ServiceBaidu, pBrowser: push.ServiceBrowser,
	pXiaomi: push.ServiceXiaomi,
}

// deliverer hands notifications to the push services and writes their
// answers back.
type deliverer struct {
	s         *Server
	opt       DeliverOptions
	platforms [numPlatforms]bool
	log       *slog.Logger
	pushOpts  push.Options
	clock     push.Clock // nil: the real clock; tests set it before the first send

	once sync.Once
	disp *push.Dispatcher

	mu      sync.Mutex
	clients map[string]*clientEntry // by credential identity

	resMu   sync.Mutex
	results []deliverResult
	signal  chan struct{}
	quit    chan struct{}
	done    chan struct{}
}

// clientEntry is one push client, shared by every hub with the same
// credential.
type clientEntry struct {
	sender push.Sender
	err    error // the credential cannot be used
}

// deliverRef is what a job carries back to the collector.
type deliverRef struct {
	h       *hub // nil for direct sends
	hubName string
	nid     string
	sendSeq uint64 // the send record's ring sequence
	dlvSeq  uint64 // the delivery record's, 0 when it is not retained
	p       platform
	regID   string
	instID  string
	test    *testWait
	testIdx int
}

type deliverResult struct {
	ref *deliverRef
	r   push.Result
}

// deliverBatch is a send's jobs, built under the server's read lock and
// enqueued once its send record is in place.
type deliverBatch struct {
	jobs []push.Job
	// failed are the results of jobs that need no push service (an
	// unusable credential), reported with the others.
	failed []deliverResult
	test   *testWait
}

// testWait lets a test send wait for its targets' final outcomes.
type testWait struct {
	mu       sync.Mutex
	left     int
	outcomes []string // by the send's result index
	done     chan struct{}
}

func newDeliverer(s *Server, o *DeliverOptions) *deliverer {
	if o == nil {
		return nil
	}
	d := &deliverer{s: s, opt: *o, clients: map[string]*clientEntry{}, signal: make(chan struct{}, 1),
		quit: make(chan struct{}), done: make(chan struct{})}
	if len(o.Platforms) == 0 {
		for p := pApple; p < numPlatforms; p++ {
			d.platforms[p] = true
		}
	}
	for _, name := range o.Platforms {
		d.platforms[platformFromInstallation(name)] = true
	}
	d.log = o.Logger
	if d.log == nil {
		d.log = s.log
	}
	e := o.Endpoints
	d.pushOpts = push.Options{
		Endpoints: push.Endpoints{Apns: e["apns"], Fcm: e["fcmv1"], GoogleToken: e["fcmv1-token"], Wns: e["wns"],
			WnsToken: e["wns-token"], Adm: e["adm"], AdmToken: e["adm-token"], Browser: e["browser"]},
		DialContext: o.DialContext,
		RootCAs:     o.RootCAs,
		Timeout:     o.Timeout,
	}
	if d.pushOpts.DialContext == nil {
		d.pushOpts.DialContext = netDial
	}
	go d.collect()
	return d
}

// netDial makes the connections of DeliverOptions without a DialContext.
// Tests replace it to prove that nothing dials out.
var netDial = (&net.Dialer{Timeout: 20 * time.Second, KeepAlive: 30 * time.Second}).DialContext

// dispatcher starts the dispatcher at the first job, with the clock of
// that time (tests set d.clock before sending).
func (d *deliverer) dispatcher() *push.Dispatcher {
	d.once.Do(func() {
		d.disp = push.NewDispatcher(push.DispatcherOptions{
			QueueSize:   orInt(d.opt.QueueSize, DefaultDeliverQueueSize),
			Concurrency: orInt(d.opt.Concurrency, DefaultDeliverConcurrency),
			MaxAttempts: d.opt.MaxAttempts,
			Backoff:     d.opt.Backoff,
			Clock:       d.clock,
			OnResult:    func(j push.Job, r push.Result) { d.post(deliverResult{j.Ref.(*deliverRef), r}) },
		})
	})
	return d.disp
}

// delivers reports whether a send's target of platform p on h goes to its
// push service. The caller holds s.mu.
func (s *Server) delivers(h *hub, p platform) bool {
	if s.dlv == nil || h == nil || !s.dlv.platforms[p] {
		return false
	}
	_, ok := h.credential(p)
	return ok
}

// credential returns h's credential for p. The caller holds s.mu.
func (h *hub) credential(p platform) (atom.PnsCredential, bool) {
	for _, c := range h.meta.creds {
		if c.Element == platformCredential[p] {
			return c, true
		}
	}
	return atom.PnsCredential{}, false
}

// sender returns the client for h's credential of p, and the bundle id the
// APNs topic derives from. The caller holds s.mu.
func (d *deliverer) sender(h *hub, p platform) (push.Sender, string, error) {
	c, ok := h.credential(p)
	if !ok {
		return nil, "", errors.New("no credential")
	}
	get := func(n string) string { v, _ := c.Get(n); return v }
	bundle := ""
	if p == pApple && get("Token") != "" {
		bundle = get("AppName")
	}
	id := credentialIdentity(c)
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.clients[id]
	if e == nil {
		e = &clientEntry{}
		e.sender, e.err = d.newSender(p, c)
		d.clients[id] = e
		if e.err != nil {
			d.log.Warn("push delivery: a hub's credential cannot be used", "hub", h.name, "platform", platformNames[p].inst, "error", e.err.Error())
		}
	}
	return e.sender, bundle, e.err
}

// credentialIdentity names a credential by a digest of its properties: one
// client serves every hub with the same credential. An APNs token
// credential is named without its bundle id (AppName), which each
// notification carries instead: Apple wants one provider token per key,
// and a client per app would renew it too often.
func credentialIdentity(c atom.PnsCredential) string {
	h := sha256.New()
	h.Write([]byte(c.Element))
	token, _ := c.Get("Token")
	props := slices.Clone(c.Properties)
	sort.Slice(props, func(i, j int) bool { return props[i].Name < props[j].Name })
	for _, p := range props {
		if token != "" && p.Name == "AppName" {
			continue
		}
		h.Write([]byte{0})
		h.Write([]byte(p.Name))
		h.Write([]byte{0})
		h.Write([]byte(p.Value))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// newSender builds the client of credential c for platform p. Its errors
// name the property at fault, never its value.
func (d *deliverer) newSender(p platform, c atom.PnsCredential) (push.Sender, error) {
	get := func(n string) string { v, _ := c.Get(n); return v }
	opts := d.pushOpts
	opts.Clock = d.clock
	var cred any
	var err error
	switch p {
	case pApple:
		// As the hub's description was checked: sandbox or development
		// endpoints are the sandbox, any other production.
		ep := strings.ToLower(get("Endpoint"))
		prod := !strings.Contains(ep, "sandbox") && !strings.Contains(ep, "development")
		if get("Token") != "" {
			cred, err = push.NewApnsTokenCredential(get("KeyId"), get("AppId"), get("AppName"), []byte(get("Token")), prod)
		} else {
			cred, err = push.NewApnsCertificateCredential([]byte(get("ApnsCertificate")), get("CertificateKey"), prod)
		}
	case pFcmV1:
		cred, err = push.NewFcmV1Credential(get("ClientEmail"), get("PrivateKey"), get("ProjectId"))
	case pWindows:
		cred, err = push.NewWnsCredential(get("PackageSid"), get("SecretKey"))
	case pAdm:
		cred, err = push.NewAdmCredential(get("ClientId"), get("ClientSecret"))
	case pBrowser:
		cred, err = push.NewBrowserCredential(get("Subject"), get("VapidPublicKey"), get("VapidPrivateKey"))
	default: // gcm, mpns, baidu, xiaomi: no client
		return push.UnsupportedSender(servicePlatforms[p]), nil
	}
	if err != nil {
		return nil, err
	}
	return push.NewClient(cred, &opts)
}

// pendingJobs builds the jobs of a fan-out's Pending targets: ids are the
// send's targets, outcome their outcomes, start the first whose delivery
// record was kept and last that record's ring sequence. rendered returns a
// template target's headers and payload (nil for a native send). The
// caller holds s.mu.
func (s *Server) pendingJobs(h *hub, n *notification, rec *SendRecord, ids []uint32, outcome []string, start int, last uint64,
	test bool, rendered func(i int) (map[string]string, string)) *deliverBatch {
	d := s.dlv
	b := &deliverBatch{}
	kept := len(ids) - start
	var first uint64
	if kept > 0 && last > 0 {
		first = last - uint64(kept) + 1
	}
	if test {
		b.test = &testWait{outcomes: make([]string, kept), done: make(chan struct{})}
	}
	type shared struct {
		sender  push.Sender
		bundle  string
		err     error
		headers map[string]string
		payload []byte
		made    bool
	}
	var per [numPlatforms]shared
	for i, id := range ids {
		if outcome[i] != OutcomePending {
			continue
		}
		t := h.targets[id]
		sh := &per[t.platform]
		if !sh.made {
			sh.made = true
			sh.sender, sh.bundle, sh.err = d.sender(h, t.platform)
			if rendered == nil {
				sh.headers, sh.payload = nativeMessage(t.platform, n)
			}
		}
		ref := &deliverRef{h: h, hubName: rec.Hub, nid: rec.NotificationID, p: t.platform, regID: t.regID}
		if t.inst != nil {
			ref.instID = t.inst.id
		}
		if i >= start && first > 0 {
			ref.dlvSeq = first + uint64(i-start)
		}
		if b.test != nil && i >= start {
			ref.test, ref.testIdx = b.test, i-start
			b.test.left++
		}
		if sh.err != nil {
			b.failed = append(b.failed, deliverResult{ref, credentialResult(servicePlatforms[t.platform], t.handle, sh.err, s.now())})
			continue
		}
		pn := &push.Notification{Handle: t.handle, Headers: sh.headers, Payload: sh.payload, BundleID: sh.bundle}
		if rendered != nil {
			hd, pl := rendered(i)
			pn.Headers, pn.Payload = hd, []byte(pl)
		}
		if t.platform == pBrowser {
			pn.P256DH, pn.Auth = browserKeys(t)
		}
		b.jobs = append(b.jobs, push.Job{Sender: sh.sender, Notification: pn, Ref: ref})
	}
	return b
}

// nativeMessage is the headers and payload a native send's targets of
// platform p share: FCM v1 clients set each message's token themselves.
func nativeMessage(p platform, n *notification) (map[string]string, []byte) {
	if p == pFcmV1 {
		return nil, []byte(n.body)
	}
	hd, pl := pnsMessage(p, "", n.headers, n.body)
	return hd, []byte(pl)
}

// browserKeys returns a browser target's subscription keys.
func browserKeys(t *target) (p256dh, auth string) {
	if t.reg != nil {
		return t.reg.desc.P256DH, t.reg.desc.Auth
	}
	if t.inst.browser != nil {
		return t.inst.browser.p256dh, t.inst.browser.auth
	}
	return "", ""
}

// credentialResult is the final result of a target whose hub's credential
// cannot be used.
func credentialResult(svc push.Service, handle string, err error, now time.Time) push.Result {
	return push.Result{Service: svc, Handle: handle, Status: push.StatusBadCredential, Outcome: push.OutcomeInvalidCredentials,
		Reason: "the hub's credential cannot be used: " + strings.TrimPrefix(err.Error(), "push: "), Attempt: 0, Final: true, Time: now}
}

// directJobs builds the jobs of a direct send's Pending deliveries ds,
// whose last ring sequence is last. It takes s.mu itself.
func (s *Server) directJobs(h *hub, n *notification, ds []Delivery, last uint64, browser *browserChannel) *deliverBatch {
	s.mu.RLock()
	sender, bundle, err := s.dlv.sender(h, n.platform)
	s.mu.RUnlock()
	headers, payload := nativeMessage(n.platform, n)
	b := &deliverBatch{}
	first := last - uint64(len(ds)) + 1
	for i := range ds {
		if ds[i].Outcome != OutcomePending {
			continue
		}
		ref := &deliverRef{hubName: ds[i].Hub, nid: ds[i].NotificationID, p: n.platform, dlvSeq: first + uint64(i)}
		if err != nil {
			b.failed = append(b.failed, deliverResult{ref, credentialResult(servicePlatforms[n.platform], ds[i].Handle, err, s.now())})
			continue
		}
		pn := &push.Notification{Handle: ds[i].Handle, Headers: headers, Payload: payload, BundleID: bundle}
		if browser != nil {
			pn.P256DH, pn.Auth = browser.p256dh, browser.auth
		}
		b.jobs = append(b.jobs, push.Job{Sender: sender, Notification: pn, Ref: ref})
	}
	return b
}

// startDelivery hands a send's jobs to the dispatcher once its record is
// in the ring at sequence seq. It never blocks: a full queue ends a job at
// once. The caller may hold s.mu.
func (s *Server) startDelivery(seq uint64, b *deliverBatch) {
	if b == nil || s.dlv == nil {
		return
	}
	for i := range b.failed {
		b.failed[i].ref.sendSeq = seq
		s.dlv.post(b.failed[i])
	}
	if len(b.jobs) == 0 {
		return
	}
	disp := s.dlv.dispatcher()
	for _, j := range b.jobs {
		j.Ref.(*deliverRef).sendSeq = seq
		_ = disp.Enqueue(j) // a refused job gets its final result through OnResult
	}
}

// awaitTestResults waits, for a test send, until its targets' outcomes
// are in or testSendWait has passed, and writes them into its results.
func (s *Server) awaitTestResults(b *deliverBatch, results []atom.RegistrationResult) {
	if b == nil || b.test == nil {
		return
	}
	w := b.test
	w.mu.Lock()
	none := w.left == 0
	w.mu.Unlock()
	if !none {
		select {
		case <-w.done:
		case <-time.After(testSendWait):
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range results {
		if i < len(w.outcomes) && w.outcomes[i] != "" {
			results[i].Outcome = outcomeText(w.outcomes[i])
		}
	}
}

// post queues a result for the collector. It never blocks and takes no
// lock of the server, so the dispatcher may call it from Enqueue.
func (d *deliverer) post(r deliverResult) {
	d.resMu.Lock()
	d.results = append(d.results, r)
	d.resMu.Unlock()
	select {
	case d.signal <- struct{}{}:
	default:
	}
}

// collect applies the results as they come, in batches, until close.
func (d *deliverer) collect() {
	defer close(d.done)
	for {
		select {
		case <-d.signal:
		case <-d.quit:
			d.apply(d.take())
			return
		}
		d.apply(d.take())
	}
}

func (d *deliverer) take() []deliverResult {
	d.resMu.Lock()
	defer d.resMu.Unlock()
	b := d.results
	d.results = nil
	return b
}

// close lets the deliveries in flight finish for a while, cancels the
// rest, and stops the collector once it has written every result.
func (d *deliverer) close() {
	if d.disp != nil {
		ctx, cancel := context.WithTimeout(context.Background(), deliverCloseGrace)
		_ = d.disp.Close(ctx)
		cancel()
	}
	close(d.quit)
	<-d.done
	d.mu.Lock()
	for _, e := range d.clients {
		if e.sender != nil {
			e.sender.Close()
		}
	}
	d.mu.Unlock()
}

// sendUpdate is what a batch of results changes in one send record.
type sendUpdate struct {
	ref      *deliverRef
	ended    int
	success  int
	failed   int
	outcomes map[platform]map[string]int
	failures []atom.PnsFeedback // every failed attempt: the send's PnsErrorDetails
	feedback []atom.PnsFeedback // handles gone: the feedback container
	dropped  map[push.Service]int
}

// apply writes a batch of results: each attempt into its delivery record
// (and the inbox's live feed), the final ones into their send's telemetry,
// failures into the send's error details, handles gone into the feedback
// container and the registrations and installations that carry them.
func (d *deliverer) apply(batch []deliverResult) {
	if len(batch) == 0 {
		return
	}
	s := d.s
	sends := map[uint64]*sendUpdate{}
	var order []uint64
	gone := map[*hub]map[goneHandle]bool{}
	var kept [][]byte // what the database keeps of the answers
	for _, x := range batch {
		ref, r := x.ref, x.r
		if ref.dlvSeq != 0 {
			if d := s.recordAttempt(ref.dlvSeq, r); d != nil && s.st != nil {
				kept = append(kept, resultRecord(deliveryResultRec{Kind: "delivery", NotificationID: d.NotificationID, Hub: d.Hub,
					Handle: d.Handle, RegistrationID: d.RegistrationID, InstallationID: d.InstallationID, Outcome: d.Outcome, Attempts: d.Attempts}))
			}
		}
		u := sends[ref.sendSeq]
		if u == nil {
			u = &sendUpdate{ref: ref}
			sends[ref.sendSeq] = u
			order = append(order, ref.sendSeq)
		}
		if r.Status != push.StatusDelivered {
			fb := atom.PnsFeedback{FeedbackTime: r.Time.UTC().Format(time.RFC3339Nano), NotificationSystemError: r.Outcome,
				Platform: ref.p.String(), PnsHandle: r.Handle, RegistrationID: ref.regID, InstallationID: ref.instID, NotificationID: ref.nid}
			if ref.instID != "" {
				fb.RegistrationID = ""
			}
			u.failures = append(u.failures, fb)
			if r.Final && r.Status == push.StatusHandleGone {
				u.feedback = append(u.feedback, fb)
				if ref.h != nil {
					if gone[ref.h] == nil {
						gone[ref.h] = map[goneHandle]bool{}
					}
					gone[ref.h][goneHandle{ref.p, strings.ToLower(r.Handle)}] = true
				}
			}
		}
		if !r.Final {
			continue
		}
		u.ended++
		if r.Status == push.StatusDelivered {
			u.success++
		} else {
			u.failed++
		}
		if u.outcomes == nil {
			u.outcomes = map[platform]map[string]int{}
		}
		if u.outcomes[ref.p] == nil {
			u.outcomes[ref.p] = map[string]int{}
		}
		u.outcomes[ref.p][r.Outcome]++
		if r.Status == push.StatusQueueFull {
			if u.dropped == nil {
				u.dropped = map[push.Service]int{}
			}
			u.dropped[r.Service]++
		}
		if ref.test != nil {
			ref.test.ended(ref.testIdx, r.Outcome)
		}
	}
	for _, seq := range order {
		if rec, ok := s.applySendUpdate(seq, sends[seq]); ok && s.st != nil {
			kept = append(kept, resultRecord(deliveryResultRec{Kind: "send", NotificationID: rec.NotificationID, Hub: rec.Hub,
				Send: &sendResult{Pending: rec.Pending, Success: rec.Success, Failed: rec.Failed, Outcomes: rec.Outcomes, State: rec.State, ErrorBlob: rec.ErrorBlob}}))
		}
	}
	if len(kept) > 0 {
		s.persist(appendBounded(bDeliveryResults, 2*s.opts.Retention, s.opts.RetentionBytes, kept))
	}
	s.expireGone(gone)
}

// goneHandle is a device handle a push service reported gone.
type goneHandle struct {
	p      platform
	handle string // lower case
}

func (w *testWait) ended(i int, outcome string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if i < len(w.outcomes) {
		w.outcomes[i] = outcome
	}
	w.left--
	if w.left == 0 {
		close(w.done)
	}
}

// recordAttempt adds r to the delivery record of ring sequence seq, if it
// is still kept, and shows the record to the inbox's live feed. For a
// final result it returns the record as it is now.
func (s *Server) recordAttempt(seq uint64, r push.Result) *Delivery {
	a := DeliveryAttempt{Attempt: r.Attempt, Status: r.Status.String(), Outcome: r.Outcome, HTTPStatus: r.HTTPStatus,
		PnsID: r.ID, Reason: r.Reason, Final: r.Final, Time: r.Time}
	if r.RetryAfter > 0 {
		a.RetryAfter = int((r.RetryAfter + time.Second - 1) / time.Second)
	}
	if a.Time.IsZero() {
		a.Time = s.now()
	}
	d, ok := s.deliveries.update(seq, func(d *Delivery) {
		d.Attempts = append(d.Attempts, a)
		if r.Final {
			d.Outcome = r.Outcome
		}
	})
	if ok && s.watch.n.Load() > 0 {
		s.publish(seq, &d)
	}
	if ok && r.Final {
		return &d
	}
	return nil
}

// publish hands an updated delivery to the inbox subscriptions, without
// blocking; the page replaces the delivery of the same id.
func (s *Server) publish(seq uint64, d *Delivery) {
	v := s.inboxDelivery(seq, d)
	s.watch.mu.Lock()
	defer s.watch.mu.Unlock()
	for ch := range s.watch.subs {
		select {
		case ch <- v:
		default:
		}
	}
}

// applySendUpdate writes u into the send record of ring sequence seq:
// counts, outcomes and, once no target is pending, the state Completed;
// failures into its error details, handles gone into the feedback
// container, and a log line for notifications a full queue dropped.
func (s *Server) applySendUpdate(seq uint64, u *sendUpdate) (SendRecord, bool) {
	ref := u.ref
	var blob string
	if len(u.failures) > 0 {
		blob = s.writeErrorDetails(ref.hubName, ref.nid, u.failures)
	}
	if len(u.feedback) > 0 {
		s.appendFeedback(ref.hubName, u.feedback)
	}
	rec, ok := s.sends.update(seq, func(rec *SendRecord) {
		rec.Pending -= u.ended
		rec.Success += u.success
		rec.Failed += u.failed
		if len(u.outcomes) > 0 {
			// Copy on write: readers and the database hold the old maps.
			all := make(map[string]map[string]int, len(rec.Outcomes)+len(u.outcomes))
			for k, v := range rec.Outcomes {
				all[k] = v
			}
			for p, m := range u.outcomes {
				o := cloneCounts(all[p.String()])
				for k, v := range m {
					o[k] += v
				}
				all[p.String()] = o
			}
			rec.Outcomes = all
		}
		if blob != "" {
			rec.ErrorBlob = blob
		}
		if rec.Pending <= 0 && rec.State == sendProcessing {
			rec.Pending, rec.State = 0, "Completed"
		}
	})
	for svc, n := range u.dropped {
		s.dlv.log.Warn("push delivery: queue full, notifications dropped", "hub", ref.hubName, "platform", string(svc),
			"notificationId", ref.nid, "dropped", n, "queueSize", orInt(s.dlv.opt.QueueSize, DefaultDeliverQueueSize))
	}
	return rec, ok
}

func cloneCounts(m map[string]int) map[string]int {
	c := make(map[string]int, len(m)+1)
	for k, v := range m {
		c[k] = v
	}
	return c
}

// sendProcessing is the telemetry state of a send whose targets are still
// being delivered.
const sendProcessing = "Processing"

// expireGone does what the service does with handles a push service
// reported gone: every registration of the hub with that platform and
// handle is deleted, every such installation gets pushChannelExpired.
func (s *Server) expireGone(gone map[*hub]map[goneHandle]bool) {
	if len(gone) == 0 {
		return
	}
	s.mu.Lock()
	var ops []dbOp
	for h, set := range gone {
		if s.hubs[strings.ToLower(h.name)] != h {
			continue // deleted or reset meanwhile
		}
		for _, t := range h.targets {
			if t != nil && set[goneHandle{t.platform, strings.ToLower(t.handle)}] {
				ops = append(ops, s.expireTarget(h, t)...)
			}
		}
	}
	b := s.persist(ops...)
	s.mu.Unlock()
	if err := b.wait(); err != nil {
		s.dlv.log.Error("push delivery: expiring handles the push service reported gone was not stored", "error", err.Error())
	}
}

// update calls f with the value of sequence seq, if it is still retained,
// keeps the byte count, and returns a copy of the value as f left it.
func (r *ring[T]) update(seq uint64, f func(*T)) (T, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var zero T
	oldest := r.pushed - uint64(r.count) + 1
	if r.count == 0 || seq < oldest || seq > r.pushed {
		return zero, false
	}
	v := &r.buf[(r.head+int(seq-oldest))%len(r.buf)]
	if r.cost != nil {
		r.bytes -= r.cost(v)
	}
	f(v)
	if r.cost != nil {
		r.bytes += r.cost(v)
	}
	return *v, true
}

// closeDelivery stops delivering (Close).
func (s *Server) closeDelivery() {
	if s.dlv != nil {
		s.dlv.close()
	}
}

// orInt is n, or def when n is 0.
func orInt(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

// inboxAttempts converts a delivery's attempts for the inbox page.
func inboxAttempts(as []DeliveryAttempt) []inbox.Attempt {
	if len(as) == 0 {
		return nil
	}
	out := make([]inbox.Attempt, len(as))
	for i, a := range as {
		out[i] = inbox.Attempt{Attempt: a.Attempt, Status: a.Status, Outcome: a.Outcome, HTTPStatus: a.HTTPStatus,
			PnsID: a.PnsID, Reason: a.Reason, RetryAfter: a.RetryAfter, Time: a.Time}
	}
	return out
}

// deliverLogTo returns o with its warnings written to out, as text lines,
// unless it has a logger of its own.
func deliverLogTo(o *DeliverOptions, out io.Writer) *DeliverOptions {
	if o == nil || o.Logger != nil {
		return o
	}
	c := *o
	c.Logger = slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return &c
}

// printDelivery says at start whether anything leaves the machine.
func printDelivery(out io.Writer, o *DeliverOptions) {
	if o == nil {
		fmt.Fprintf(out, "Delivery: simulated; nothing leaves this machine (--deliver sends to the real push services)\n")
		return
	}
	names := o.Platforms
	if len(names) == 0 {
		names = []string{"every platform"}
	}
	fmt.Fprintf(out, "Delivery: to the push services (%s), for hubs with a credential for the platform; other hubs simulated\n", strings.Join(names, ", "))
	for _, k := range deliverEndpointNames {
		if v := o.Endpoints[k]; v != "" {
			fmt.Fprintf(out, "Push endpoint: %s at %s\n", k, v)
		}
	}
}

// ---- persistence ----------------------------------------------------------------

// bDeliveryResults keeps, with Options.DataDir, what the push services
// answered: the final state of delivery records and send records, which
// the database stored as they were when the send was answered. Open
// applies them, by notification id and target, to what it restores.
var bDeliveryResults = []byte("deliveryresults")

// deliveryResultRec is one answer kept: a delivery's final outcome and
// attempts, or a send's counts.
type deliveryResultRec struct {
	Kind           string            `json:"kind"` // delivery or send
	NotificationID string            `json:"notificationId"`
	Hub            string            `json:"hub"`
	Handle         string            `json:"handle,omitempty"`
	RegistrationID string            `json:"registrationId,omitempty"`
	InstallationID string            `json:"installationId,omitempty"`
	Outcome        string            `json:"outcome,omitempty"`
	Attempts       []DeliveryAttempt `json:"attempts,omitempty"`
	Send           *sendResult       `json:"send,omitempty"`
}

type sendResult struct {
	Pending   int                       `json:"pending"`
	Success   int                       `json:"success"`
	Failed    int                       `json:"failed"`
	Outcomes  map[string]map[string]int `json:"outcomes,omitempty"`
	State     string                    `json:"state"`
	ErrorBlob string                    `json:"errorBlob,omitempty"`
}

func resultRecord(r deliveryResultRec) []byte {
	b, _ := json.Marshal(r)
	return b
}

// deliveryKey identifies a delivery record within its send.
func deliveryKey(nid, hub, handle, regID, instID string) string {
	return strings.ToLower(hub) + "\x00" + nid + "\x00" + handle + "\x00" + regID + "\x00" + instID
}

// abandoned is the outcome, and the telemetry state, of what was still
// being delivered when the emulator stopped without its grace period (a
// crash): the service calls notifications it could not hand over
// Abandoned.
const abandoned = "Abandoned"

// loadDeliveryResults applies the answers kept to the restored records;
// deliveries still Pending end as Abandoned.
func (s *Server) loadDeliveryResults(tx *bolt.Tx) error {
	sends := map[string]*sendResult{}
	ds := map[string]*deliveryResultRec{}
	err := tx.Bucket(bDeliveryResults).ForEach(func(k, v []byte) error {
		var r deliveryResultRec
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("delivery result %x: %w", k, err)
		}
		switch r.Kind {
		case "send":
			sends[strings.ToLower(r.Hub)+"\x00"+r.NotificationID] = r.Send
		case "delivery":
			ds[deliveryKey(r.NotificationID, r.Hub, r.Handle, r.RegistrationID, r.InstallationID)] = &r
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.sends.each(func(rec *SendRecord) {
		if u := sends[strings.ToLower(rec.Hub)+"\x00"+rec.NotificationID]; u != nil {
			rec.Pending, rec.Success, rec.Failed, rec.Outcomes, rec.State, rec.ErrorBlob = u.Pending, u.Success, u.Failed, u.Outcomes, u.State, u.ErrorBlob
		}
		if rec.Pending > 0 {
			rec.Pending, rec.State = 0, abandoned
		}
	})
	s.deliveries.each(func(d *Delivery) {
		if r := ds[deliveryKey(d.NotificationID, d.Hub, d.Handle, d.RegistrationID, d.InstallationID)]; r != nil {
			d.Outcome, d.Attempts = r.Outcome, r.Attempts
		}
		if d.Outcome == OutcomePending {
			d.Outcome = abandoned
		}
	})
	s.deliveries.recount()
	return nil
}

// recount sums the cost of the retained values again, after each changed
// them.
func (r *ring[T]) recount() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bytes = 0
	if r.cost == nil {
		return
	}
	for i := range r.count {
		r.bytes += r.cost(&r.buf[(r.head+i)%len(r.buf)])
	}
}
