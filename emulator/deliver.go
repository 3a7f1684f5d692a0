package emulator

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nhkit/notificationhubs/emulator/internal/push"
	"github.com/nhkit/notificationhubs/internal/atom"
	"github.com/nhkit/notificationhubs/internal/pnscred"
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
	// host of every subscription endpoint). Without wns, only channel URIs
	// on notify.windows.com are posted to; without browser, no
	// subscription endpoint at a loopback, private or link-local address
	// is. Other targets end as BadChannel (docs/push-delivery.md).
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
// that time (tests set d.clock before sending); after close it is nil if
// none had started.
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
		prod := pnscred.ApnsProduction(get("Endpoint"))
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
