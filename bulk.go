package notificationhubs

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// BulkNotification is one notification of a bulk send, with its audience
// as in SendNotificationOptions (no Tags and no TagExpression: broadcast)
// and a key of the caller's that comes back with its result.
type BulkNotification struct {
	// Key identifies the notification in its result; the sender does not
	// interpret it.
	Key           string
	Notification  Notification
	Tags          []string
	TagExpression string
}

// BulkSendResult is the outcome of one BulkNotification.
type BulkSendResult struct {
	// Key is the BulkNotification's.
	Key string
	// Response is the service's answer when Err is nil.
	Response SendNotificationResponse
	// Err is nil when the hub accepted the notification. It wraps
	// ErrNotSent when the hub cannot have acted on it: the sender stopped
	// before sending it (the context was done, or the hub answered 401,
	// 403 or 404 to another send), or every attempt was throttled or
	// refused the connection. Any other error is the last attempt's, as
	// SendNotification returns it; after a transport error or a 5xx other
	// than throttling the hub may have acted.
	Err error
	// Attempts is the number of requests made for the notification: 0 when
	// none was (invalid, or not reached), more than 1 when it was retried.
	Attempts int
}

// ErrNotSent is wrapped by the error of a BulkSendResult whose
// notification the hub cannot have acted on.
var ErrNotSent = errors.New("notificationhubs: not sent")

// BulkSenderOptions are the options of NewBulkSender.
type BulkSenderOptions struct {
	// Concurrency caps the sends in flight at once, over every Send of the
	// BulkSender; the pace is the hub's (see BulkSender). The default is
	// DefaultBulkConcurrency; at most MaxBulkConcurrency.
	Concurrency int
	// MaxRate, if positive, caps the sends per second, and the sender
	// starts at that rate instead of finding the hub's: set it to a rate
	// the hub is known to allow (a previous run's BulkSenderStats.Rate)
	// to spend no throttled answers on finding it, or below it to leave
	// room for other senders of the namespace.
	MaxRate float64
	// MaxAttempts is the most requests made for one notification; only
	// throttled answers, connections refused and, with RetryUnsafe, the
	// failures it allows are retried. The default is
	// DefaultBulkMaxAttempts.
	MaxAttempts int
	// RetryUnsafe allows retrying after failures where the hub may have
	// acted (transport errors after the request was sent, 408, 500, 502,
	// 503 without Retry-After, 504), at the risk of duplicate
	// notifications.
	RetryUnsafe bool
}

// Defaults and limits of BulkSenderOptions.
const (
	DefaultBulkConcurrency = 16
	MaxBulkConcurrency     = 1024
	DefaultBulkMaxAttempts = 10
)

// inFlightGrace is how long sends in flight may run on after a bulk
// send's context is done, so that their results say whether they were
// sent.
const inFlightGrace = 10 * time.Second

// BulkSender sends many notifications at the rate the hub allows. Its
// sends share one pace, adapted to the hub's answers: a throttled answer
// (429, or 503 with Retry-After) holds every send until its Retry-After
// has passed, and the sends then resume one after the other at a rate
// below the one that was throttled, which creeps up again while the hub
// accepts them (docs/throttling.md says how the service throttles and how
// the pace follows it). A 401, 403 or 404 stops the bulk send: the
// namespace's quota, the rule's rights and a missing hub do not pass by
// waiting.
//
// A notification is sent again only where the hub cannot have acted on it
// (a throttled answer, a refused connection) unless
// BulkSenderOptions.RetryUnsafe says otherwise, so each is delivered at
// most once.
//
// A BulkSender is safe for concurrent use; it keeps the pace it found
// between its Sends, so a program that sends in bulk again and again does
// best with one BulkSender per hub.
type BulkSender struct {
	c       *Client
	opts    BulkSenderOptions
	pacer   *pacer
	slots   chan struct{} // the in-flight cap
	noRetry policy.RetryOptions

	mu     sync.Mutex
	disp   *dispatcher
	active int // Sends running

	sent, failed atomic.Int64
	inFlight     atomic.Int64
}

// NewBulkSender returns a BulkSender for the client's hub.
func (c *Client) NewBulkSender(options *BulkSenderOptions) *BulkSender {
	var o BulkSenderOptions
	if options != nil {
		o = *options
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultBulkConcurrency
	}
	o.Concurrency = min(o.Concurrency, MaxBulkConcurrency)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultBulkMaxAttempts
	}
	o.MaxRate = max(o.MaxRate, 0)
	// The sender retries itself, so that a throttled answer holds every
	// send rather than the one that got it: no retry in the pipeline.
	noRetry := c.retryUnsafe
	noRetry.MaxRetries = -1
	return &BulkSender{
		c:       c,
		opts:    o,
		pacer:   newPacer(o.MaxRate),
		slots:   make(chan struct{}, o.Concurrency),
		noRetry: noRetry,
	}
}

// BulkSenderStats is a snapshot of a BulkSender's progress, over all its
// Sends.
type BulkSenderStats struct {
	// Sent and Failed count the results so far: accepted, and not
	// (whether or not the hub may have acted).
	Sent, Failed int64
	// Throttled counts the throttled answers: 429, and 503 (busy).
	Throttled int64
	// InFlight is the number of requests under way.
	InFlight int
	// Rate is the current pace in sends per second; 0 until the hub first
	// throttled a send (unless BulkSenderOptions.MaxRate is set).
	Rate float64
	// HeldUntil is when the current Retry-After ends; no send starts
	// before. It is in the past when none is running.
	HeldUntil time.Time
}

// Stats returns the sender's progress.
func (s *BulkSender) Stats() BulkSenderStats {
	ps := s.pacer.stats()
	return BulkSenderStats{
		Sent:      s.sent.Load(),
		Failed:    s.failed.Load(),
		Throttled: ps.throttled,
		InFlight:  int(s.inFlight.Load()),
		Rate:      ps.rate,
		HeldUntil: ps.hold,
	}
}

// Send sends every notification of notifications and yields one result
// for each, in the order they complete. It takes notifications from the
// sequence only as the sends in flight make room, so memory stays bounded
// however long the sequence is.
//
// When ctx is done Send stops: no send starts after that, the
// notifications it has taken but not sent yield results wrapping
// ErrNotSent, and sends already in flight are given up to 10 seconds to
// finish so that their results say whether they were sent (a request
// cancelled mid-flight may or may not have reached the hub). The same
// happens when the hub answers 401, 403 or 404. Notifications left in the
// sequence are not taken; the caller can tell which those are from the
// keys that came back.
//
// If the loop over the results stops early, Send stops as when ctx is
// done, waits for the sends in flight and discards their results.
func (s *BulkSender) Send(ctx context.Context, notifications iter.Seq[BulkNotification]) iter.Seq[BulkSendResult] {
	return func(yield func(BulkSendResult) bool) {
		ctx, stop := context.WithCancelCause(ctx)
		defer stop(nil)
		d := s.startDispatcher()
		defer s.stopDispatcher()
		sendCtx, endSends := inFlightContext(ctx, inFlightGrace)
		defer endSends()
		sendCtx = policy.WithRetryOptions(sendCtx, s.noRetry)

		items := make(chan BulkNotification)
		results := make(chan BulkSendResult, s.opts.Concurrency)
		var wg sync.WaitGroup
		wg.Go(func() {
			defer close(items)
			for n := range notifications {
				select {
				case items <- n:
				case <-ctx.Done():
					results <- s.notSent(n.Key, 0, ctx)
					return
				}
			}
		})
		w := &bulkWork{s: s, d: d, ctx: ctx, stop: stop, sendCtx: sendCtx}
		for range s.opts.Concurrency {
			wg.Go(func() {
				grant := make(chan time.Time, 1)
				for n := range items {
					results <- w.send(n, grant)
				}
			})
		}
		go func() {
			wg.Wait()
			close(results)
		}()
		done := false
		for r := range results {
			if !done && !yield(r) {
				done = true
				stop(errors.New("the caller stopped reading the results"))
			}
		}
	}
}

// inFlightContext returns a context for requests that ctx being done does
// not cancel at once but grace later.
func inFlightContext(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	sc, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var mu sync.Mutex
	var t *time.Timer
	stopAfter := context.AfterFunc(ctx, func() {
		mu.Lock()
		t = time.AfterFunc(grace, cancel)
		mu.Unlock()
	})
	return sc, func() {
		stopAfter()
		mu.Lock()
		if t != nil {
			t.Stop()
		}
		mu.Unlock()
		cancel()
	}
}

// notSent is the result of a notification the sender did not send
// because ctx is done.
func (s *BulkSender) notSent(key string, attempts int, ctx context.Context) BulkSendResult {
	s.failed.Add(1)
	return BulkSendResult{Key: key, Attempts: attempts, Err: fmt.Errorf("%w: %w", ErrNotSent, context.Cause(ctx))}
}

// bulkWork is what the workers of one Send share.
type bulkWork struct {
	s       *BulkSender
	d       *dispatcher
	ctx     context.Context // done: start no more sends
	stop    context.CancelCauseFunc
	sendCtx context.Context // of requests
}

// send sends one notification, retrying where it may; grant is the
// worker's channel for slots.
func (w *bulkWork) send(n BulkNotification, grant chan time.Time) BulkSendResult {
	s := w.s
	if w.ctx.Err() != nil {
		return s.notSent(n.Key, 0, w.ctx)
	}
	// What SendNotification would refuse is refused before it takes a
	// slot.
	if err := n.Notification.Validate(); err != nil {
		return s.fail(n.Key, 0, err)
	}
	if _, err := s.c.audience(n.Tags, n.TagExpression); err != nil {
		return s.fail(n.Key, 0, err)
	}
	opts := &SendNotificationOptions{Tags: n.Tags, TagExpression: n.TagExpression}
	attempts := 0
	for {
		if !w.acquire() {
			return s.notSent(n.Key, attempts, w.ctx)
		}
		started, ok := w.d.slot(w.ctx, grant)
		if !ok {
			<-s.slots
			return s.notSent(n.Key, attempts, w.ctx)
		}
		attempts++
		s.inFlight.Add(1)
		resp, err := s.c.SendNotification(w.sendCtx, n.Notification, opts)
		s.inFlight.Add(-1)
		<-s.slots
		now := time.Now()
		if err == nil {
			s.pacer.success(now)
			s.sent.Add(1)
			return BulkSendResult{Key: n.Key, Response: resp, Attempts: attempts}
		}
		retry, wait := w.classify(err, started, now)
		if !retry || attempts >= s.opts.MaxAttempts {
			switch {
			case retry && isThrottled(err):
				// The hub did not act on any attempt.
				err = fmt.Errorf("%w: throttled %d times: %w", ErrNotSent, attempts, err)
			case retry && neverSent(err):
				err = fmt.Errorf("%w: %d attempts: %w", ErrNotSent, attempts, err)
			}
			return s.fail(n.Key, attempts, err)
		}
		if wait > 0 && !sleepCtx(w.ctx, wait) {
			return s.notSent(n.Key, attempts, w.ctx)
		}
	}
}

// acquire takes a place among the sends in flight; false when ctx is done.
func (w *bulkWork) acquire() bool {
	select {
	case w.s.slots <- struct{}{}:
		if w.ctx.Err() != nil {
			<-w.s.slots
			return false
		}
		return true
	case <-w.ctx.Done():
		return false
	}
}

func (s *BulkSender) fail(key string, attempts int, err error) BulkSendResult {
	s.failed.Add(1)
	return BulkSendResult{Key: key, Attempts: attempts, Err: err}
}

// classify tells the pacer about a failed send started at started and
// answered at now, and says whether to send it again and after what wait
// of its own (a throttled answer's wait is the pacer's, for every send).
func (w *bulkWork) classify(err error, started, now time.Time) (retry bool, wait time.Duration) {
	s := w.s
	var re *ResponseError
	if !errors.As(err, &re) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return false, 0 // the grace after ctx was done ran out
		}
		// A transport error: safe to retry only if the request never left.
		return neverSent(err) || s.opts.RetryUnsafe, 100 * time.Millisecond
	}
	switch {
	case re.StatusCode == http.StatusTooManyRequests,
		re.StatusCode == http.StatusServiceUnavailable && re.RetryAfter > 0:
		s.pacer.throttledAnswer(started, now, re.RetryAfter)
		return true, 0
	case re.StatusCode == http.StatusUnauthorized, re.StatusCode == http.StatusForbidden, re.StatusCode == http.StatusNotFound:
		w.stop(fmt.Errorf("bulk send stopped after %w", err))
		return false, 0
	case re.StatusCode == http.StatusServiceUnavailable:
		// Busy, without saying for how long: slow down, and retry only
		// if allowed, as the hub may have acted.
		s.pacer.throttledAnswer(started, now, 0)
		return s.opts.RetryUnsafe, 0
	case re.StatusCode == http.StatusRequestTimeout, re.StatusCode == http.StatusInternalServerError,
		re.StatusCode == http.StatusBadGateway, re.StatusCode == http.StatusGatewayTimeout:
		return s.opts.RetryUnsafe, 500 * time.Millisecond
	}
	return false, 0
}

// isThrottled reports whether err is a throttled answer.
func isThrottled(err error) bool {
	var re *ResponseError
	return errors.As(err, &re) && (re.StatusCode == http.StatusTooManyRequests || re.StatusCode == http.StatusServiceUnavailable && re.RetryAfter > 0)
}

// sleepCtx waits d; false when ctx is done first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// dispatcher hands out the pacer's slots, one send at a time, in the
// order the sends asked for them. One runs while any Send of its
// BulkSender does.
type dispatcher struct {
	p     *pacer
	wants chan chan time.Time
	done  chan struct{}
}

func (s *BulkSender) startDispatcher() *dispatcher {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active == 0 {
		s.disp = &dispatcher{p: s.pacer, wants: make(chan chan time.Time), done: make(chan struct{})}
		go s.disp.run()
	}
	s.active++
	return s.disp
}

func (s *BulkSender) stopDispatcher() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
	if s.active == 0 {
		close(s.disp.done)
		s.disp = nil
	}
}

// slot waits for the next slot and returns when it started; false when
// ctx is done first. grant is the caller's own channel, with room for
// one value.
func (d *dispatcher) slot(ctx context.Context, grant chan time.Time) (time.Time, bool) {
	select {
	case <-grant: // a slot granted after its asker gave up
	default:
	}
	select {
	case d.wants <- grant:
	case <-ctx.Done():
		return time.Time{}, false
	}
	select {
	case t := <-grant:
		if ctx.Err() != nil {
			return time.Time{}, false
		}
		return t, true
	case <-ctx.Done():
		// The dispatcher may still grant the slot; the worker does not
		// ask again (its Send is ending), so the value is never read.
		return time.Time{}, false
	}
}

func (d *dispatcher) run() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var grant chan time.Time
		select {
		case grant = <-d.wants:
		case <-d.done:
			return
		}
		waited := false
		for {
			now := time.Now()
			at, ok := d.p.take(now, waited)
			if ok {
				grant <- now // never blocks: room for one, one asked
				break
			}
			waited = true
			timer.Reset(at.Sub(now))
			select {
			case <-timer.C:
			case <-d.p.changed:
				timer.Stop()
			case <-d.done:
				timer.Stop()
				return
			}
		}
	}
}
