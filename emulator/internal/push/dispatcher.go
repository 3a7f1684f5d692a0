package push

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrQueueFull is Enqueue's answer when the service's queue is full.
var ErrQueueFull = errors.New("push: delivery queue full")

// ErrClosed is Enqueue's answer after Close.
var ErrClosed = errors.New("push: dispatcher closed")

// Job is one notification for one device, to deliver with Sender.
type Job struct {
	Sender       Sender
	Notification *Notification
	// Ref is the caller's, handed back with every result (for example the
	// notification and registration ids).
	Ref any
}

// DispatcherOptions configure a Dispatcher; zero fields take the defaults.
type DispatcherOptions struct {
	// QueueSize bounds the jobs per push service that are accepted and
	// not in flight: queued, or waiting to be retried (default 1024).
	QueueSize int
	// Concurrency bounds the sends in flight per push service (default 8).
	Concurrency int
	// MaxAttempts bounds the attempts per job, retries included (default 5).
	MaxAttempts int
	// Backoff is the wait before the first retry, doubled for each further
	// one (default 1s); a longer Retry-After wins.
	Backoff time.Duration
	// MaxBackoff caps the doubling (default 5m); Retry-After is honoured
	// beyond it.
	MaxBackoff time.Duration
	// Clock times the backoff; nil means the real clock.
	Clock Clock
	// OnResult receives every attempt's result, and Final is set on the
	// last one of a job. It is called from several goroutines at once.
	OnResult func(Job, Result)
}

// Dispatcher delivers jobs with bounded queues and concurrency per push
// service and retries throttled and unavailable answers.
type Dispatcher struct {
	opt    DispatcherOptions
	clock  Clock
	ctx    context.Context
	cancel context.CancelFunc
	quit   chan struct{}

	mu      sync.Mutex
	closed  bool
	lanes   map[Service]*lane
	pending sync.WaitGroup // accepted jobs without a final result
	workers sync.WaitGroup
}

// lane is one push service's queue. outstanding counts its jobs accepted
// and not yet ended (queued, in flight or waiting to retry), at most
// QueueSize + Concurrency, so ch, that large, always has room for them.
type lane struct {
	ch          chan *task
	outstanding int // guarded by Dispatcher.mu
}

type task struct {
	job     Job
	lane    *lane
	attempt int
}

// NewDispatcher returns a running dispatcher.
func NewDispatcher(opt DispatcherOptions) *Dispatcher {
	if opt.QueueSize <= 0 {
		opt.QueueSize = 1024
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 8
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 5
	}
	if opt.Backoff <= 0 {
		opt.Backoff = time.Second
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 5 * time.Minute
	}
	if opt.OnResult == nil {
		opt.OnResult = func(Job, Result) {}
	}
	d := &Dispatcher{opt: opt, clock: opt.Clock, lanes: map[Service]*lane{}, quit: make(chan struct{})}
	if d.clock == nil {
		d.clock = realClock{}
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	return d
}

// Enqueue queues job without blocking. A full queue answers ErrQueueFull
// and a closed dispatcher ErrClosed; either way OnResult also receives a
// final result (StatusQueueFull with outcome Dropped, or StatusCanceled),
// so that result consumers see every job end.
func (d *Dispatcher) Enqueue(job Job) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		d.final(job, Result{Status: StatusCanceled, Outcome: OutcomeDropped, Reason: "dispatcher closed"}, 0)
		return ErrClosed
	}
	s := job.Sender.Service()
	l := d.lanes[s]
	if l == nil {
		l = &lane{ch: make(chan *task, d.opt.QueueSize+d.opt.Concurrency)}
		d.lanes[s] = l
		for i := 0; i < d.opt.Concurrency; i++ {
			d.workers.Add(1)
			go d.work(l)
		}
	}
	if l.outstanding < d.opt.QueueSize+d.opt.Concurrency {
		l.outstanding++
		d.pending.Add(1)
		l.ch <- &task{job: job, lane: l} // never blocks: ch holds every outstanding job
		d.mu.Unlock()
		return nil
	}
	d.mu.Unlock()
	d.final(job, Result{Status: StatusQueueFull, Outcome: OutcomeDropped, Reason: "delivery queue for " + string(s) + " is full"}, 0)
	return ErrQueueFull
}

// final reports r as the last result of job.
func (d *Dispatcher) final(job Job, r Result, attempt int) {
	r.Service, r.Handle, r.Attempt, r.Final = job.Sender.Service(), job.Notification.Handle, attempt, true
	if r.Time.IsZero() {
		r.Time = d.clock.Now()
	}
	d.opt.OnResult(job, r)
}

func (d *Dispatcher) work(l *lane) {
	defer d.workers.Done()
	for t := range l.ch {
		select {
		case <-d.quit:
			d.final(t.job, Result{Status: StatusCanceled, Outcome: OutcomeDropped, Reason: "dispatcher closed"}, t.attempt)
			d.ended(t)
			continue
		default:
		}
		t.attempt++
		r := t.job.Sender.Send(d.ctx, t.job.Notification)
		r.Service, r.Handle, r.Attempt = t.job.Sender.Service(), t.job.Notification.Handle, t.attempt
		if !r.Status.Retryable() || t.attempt >= d.opt.MaxAttempts {
			r.Final = true
			d.opt.OnResult(t.job, r)
			d.ended(t)
			continue
		}
		d.opt.OnResult(t.job, r)
		go d.retry(t, d.delay(t.attempt, r.RetryAfter))
	}
}

// delay is the wait before retry number attempt.
func (d *Dispatcher) delay(attempt int, retryAfter time.Duration) time.Duration {
	b := d.opt.Backoff
	for i := 1; i < attempt && b < d.opt.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, d.opt.MaxBackoff)
	return max(b, retryAfter)
}

// retry puts t back in its queue after wait; the queue has room for it, as
// for every outstanding job.
func (d *Dispatcher) retry(t *task, wait time.Duration) {
	select {
	case <-d.clock.After(wait):
		select {
		case t.lane.ch <- t:
			return
		case <-d.quit:
		}
	case <-d.quit:
	}
	d.final(t.job, Result{Status: StatusCanceled, Outcome: OutcomeDropped, Reason: "dispatcher closed before retry"}, t.attempt)
	d.ended(t)
}

// ended accounts for t's final result.
func (d *Dispatcher) ended(t *task) {
	d.mu.Lock()
	t.lane.outstanding--
	d.mu.Unlock()
	d.pending.Done()
}

// Close stops accepting jobs and waits until every accepted job has its
// final result. When ctx ends first, waiting retries and queued jobs end
// as StatusCanceled, sends in flight are canceled, and Close returns
// ctx's error once all of them have reported.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	done := make(chan struct{})
	go func() { d.pending.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		close(d.quit)
		d.cancel()
		<-done
	}
	d.cancel()
	d.mu.Lock()
	for _, l := range d.lanes {
		close(l.ch)
	}
	d.mu.Unlock()
	d.workers.Wait()
	return err
}
