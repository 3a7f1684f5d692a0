package push_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nhkit/notificationhubs/emulator/internal/push"
	"github.com/nhkit/notificationhubs/emulator/internal/push/pushtest"
)

// script is a Sender that answers from a list, then delivers.
type script struct {
	service push.Service
	mu      sync.Mutex
	answers []push.Result
	calls   int
	block   chan struct{} // when set, Send waits on it (or ctx)
	active  atomic.Int32
	peak    atomic.Int32
	entered atomic.Int32
}

func (s *script) Service() push.Service { return s.service }
func (s *script) Close()                {}
func (s *script) Send(ctx context.Context, n *push.Notification) push.Result {
	s.entered.Add(1)
	a := s.active.Add(1)
	defer s.active.Add(-1)
	for {
		p := s.peak.Load()
		if a <= p || s.peak.CompareAndSwap(p, a) {
			break
		}
	}
	if s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return push.Result{Status: push.StatusCanceled, Outcome: push.OutcomeDropped, Reason: "canceled"}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if len(s.answers) > 0 {
		r := s.answers[0]
		s.answers = s.answers[1:]
		return r
	}
	return push.Result{Status: push.StatusDelivered, Outcome: push.OutcomeSuccess}
}

type collected struct {
	mu  sync.Mutex
	all []push.Result
}

func (c *collected) add(_ push.Job, r push.Result) {
	c.mu.Lock()
	c.all = append(c.all, r)
	c.mu.Unlock()
}

func (c *collected) results() []push.Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]push.Result(nil), c.all...)
}

func TestDispatcherRetriesHonouringRetryAfter(t *testing.T) {
	clock := pushtest.NewClock(epoch)
	var got collected
	d := push.NewDispatcher(push.DispatcherOptions{Clock: clock, OnResult: got.add, Backoff: time.Second})
	s := &script{service: push.ServiceApns, answers: []push.Result{
		{Status: push.StatusThrottled, RetryAfter: 30 * time.Second},
		{Status: push.StatusUnavailable},
	}}
	if err := d.Enqueue(push.Job{Sender: s, Notification: &push.Notification{Handle: "h"}}); err != nil {
		t.Fatal(err)
	}
	// First retry waits for Retry-After (30s), not the 1s backoff.
	if !clock.WaitForWaiters(1) {
		t.Fatal("no retry scheduled")
	}
	clock.Advance(29 * time.Second)
	if n := len(got.results()); n != 1 || clock.Waiters() != 1 {
		t.Fatalf("retried before Retry-After: %d results", n)
	}
	clock.Advance(time.Second)
	// Second retry: no Retry-After, the doubled backoff (2s).
	if !clock.WaitForWaiters(1) {
		t.Fatal("no second retry scheduled")
	}
	clock.Advance(2 * time.Second)
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	rs := got.results()
	want := []push.Status{push.StatusThrottled, push.StatusUnavailable, push.StatusDelivered}
	if len(rs) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(rs), len(want), rs)
	}
	for i, r := range rs {
		if r.Status != want[i] || r.Attempt != i+1 || r.Final != (i == len(want)-1) {
			t.Errorf("result %d: %+v, want %v attempt %d", i, r, want[i], i+1)
		}
	}
}

func TestDispatcherGivesUpAfterMaxAttempts(t *testing.T) {
	var got collected
	d := push.NewDispatcher(push.DispatcherOptions{OnResult: got.add, MaxAttempts: 2, Backoff: time.Millisecond})
	s := &script{service: push.ServiceWns, answers: []push.Result{{Status: push.StatusUnavailable}, {Status: push.StatusUnavailable}, {Status: push.StatusUnavailable}}}
	d.Enqueue(push.Job{Sender: s, Notification: &push.Notification{Handle: "h"}})
	d.Close(context.Background())
	rs := got.results()
	if len(rs) != 2 || !rs[1].Final || rs[1].Status != push.StatusUnavailable || rs[0].Final {
		t.Fatalf("results %+v", rs)
	}
}

func TestDispatcherQueueFullIsReported(t *testing.T) {
	var got collected
	d := push.NewDispatcher(push.DispatcherOptions{OnResult: got.add, QueueSize: 2, Concurrency: 1})
	s := &script{service: push.ServiceFcmV1, block: make(chan struct{})}
	other := &script{service: push.ServiceApns}
	var full int
	for i := 0; i < 10; i++ {
		err := d.Enqueue(push.Job{Sender: s, Notification: &push.Notification{Handle: "h"}, Ref: i})
		if errors.Is(err, push.ErrQueueFull) {
			full++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	// Another service's queue is its own.
	if err := d.Enqueue(push.Job{Sender: other, Notification: &push.Notification{Handle: "a"}}); err != nil {
		t.Fatalf("apns queue: %v", err)
	}
	close(s.block)
	d.Close(context.Background())
	// One in flight and two queued (QueueSize + Concurrency): seven refused.
	if full != 7 {
		t.Fatalf("%d refused, want 7", full)
	}
	var dropped, delivered int
	for _, r := range got.results() {
		switch r.Status {
		case push.StatusQueueFull:
			if !r.Final || r.Outcome != push.OutcomeDropped || r.Service != push.ServiceFcmV1 {
				t.Errorf("queue-full result %+v", r)
			}
			dropped++
		case push.StatusDelivered:
			delivered++
		}
	}
	if dropped != full || dropped+delivered != 11 {
		t.Fatalf("%d dropped, %d delivered: every job must end once", dropped, delivered)
	}
	if err := d.Enqueue(push.Job{Sender: s, Notification: &push.Notification{Handle: "late"}}); !errors.Is(err, push.ErrClosed) {
		t.Fatalf("enqueue after close: %v", err)
	}
}

func TestDispatcherBoundsConcurrency(t *testing.T) {
	d := push.NewDispatcher(push.DispatcherOptions{Concurrency: 3})
	s := &script{service: push.ServiceBrowser, block: make(chan struct{})}
	for i := 0; i < 20; i++ {
		d.Enqueue(push.Job{Sender: s, Notification: &push.Notification{Handle: "h"}})
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.active.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // room for a fourth, were there one
	close(s.block)
	d.Close(context.Background())
	if p := s.peak.Load(); p != 3 {
		t.Fatalf("peak concurrency %d, want 3", p)
	}
	if s.calls != 20 {
		t.Fatalf("%d sends, want 20", s.calls)
	}
}

func TestDispatcherCloseCancelsWhenContextEnds(t *testing.T) {
	clock := pushtest.NewClock(epoch)
	var got collected
	d := push.NewDispatcher(push.DispatcherOptions{Clock: clock, OnResult: got.add, Concurrency: 1})
	retrying := &script{service: push.ServiceAdm, answers: []push.Result{{Status: push.StatusThrottled, RetryAfter: time.Hour}}}
	stuck := &script{service: push.ServiceWns, block: make(chan struct{})}
	d.Enqueue(push.Job{Sender: retrying, Notification: &push.Notification{Handle: "r"}})
	d.Enqueue(push.Job{Sender: stuck, Notification: &push.Notification{Handle: "s1"}})
	d.Enqueue(push.Job{Sender: stuck, Notification: &push.Notification{Handle: "s2"}})
	clock.WaitForWaiters(1)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := d.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close: %v", err)
	}
	final := map[string]push.Status{}
	for _, r := range got.results() {
		if r.Final {
			if _, dup := final[r.Handle]; dup {
				t.Errorf("two final results for %s", r.Handle)
			}
			final[r.Handle] = r.Status
		}
	}
	for _, h := range []string{"r", "s1", "s2"} {
		if final[h] != push.StatusCanceled {
			t.Errorf("%s ended %v, want canceled", h, final[h])
		}
	}
	// s2 was still queued: it must end without being sent.
	if n := stuck.entered.Load(); n != 1 {
		t.Errorf("%d sends after shutdown began, want only the one in flight", n)
	}
}

// TestDispatcherRetriesCountAgainstTheBound: jobs waiting for their retry
// still take room, so a throttling service cannot make the dispatcher hold
// an unbounded number of jobs.
func TestDispatcherRetriesCountAgainstTheBound(t *testing.T) {
	clock := pushtest.NewClock(epoch)
	var got collected
	d := push.NewDispatcher(push.DispatcherOptions{Clock: clock, OnResult: got.add, QueueSize: 2, Concurrency: 1})
	throttled := push.Result{Status: push.StatusThrottled, RetryAfter: time.Hour}
	s := &script{service: push.ServiceApns, answers: []push.Result{throttled, throttled, throttled}}
	for i := 0; i < 3; i++ {
		if err := d.Enqueue(push.Job{Sender: s, Notification: &push.Notification{Handle: "h"}}); err != nil {
			t.Fatal(err)
		}
	}
	if !clock.WaitForWaiters(3) {
		t.Fatal("three retries not scheduled")
	}
	if err := d.Enqueue(push.Job{Sender: s, Notification: &push.Notification{Handle: "h"}}); !errors.Is(err, push.ErrQueueFull) {
		t.Fatalf("fourth job while three wait to retry: %v, want ErrQueueFull", err)
	}
	clock.Advance(time.Hour)
	if err := d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var delivered int
	for _, r := range got.results() {
		if r.Final && r.Status == push.StatusDelivered {
			delivered++
		}
	}
	if delivered != 3 {
		t.Fatalf("%d delivered after the hour, want 3", delivered)
	}
}
