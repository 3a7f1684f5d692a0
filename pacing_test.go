package notificationhubs

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// The pacer's tests run it on a simulated clock against models of the
// hub's throttle, so that minutes of sending take milliseconds and every
// run is the same. The bulk sender's tests (bulk_test.go) check the real
// thing against the emulator.

// simHub is a model of a hub's throttle: it admits a send arriving at now,
// or answers 429 with a Retry-After in whole seconds as the service does.
type simHub interface {
	take(now time.Time) (ok bool, retryAfter time.Duration)
}

// simBucket is a token bucket (the emulator's --throttle-rate and
// --throttle-burst).
type simBucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func newSimBucket(rate, burst float64, start time.Time) *simBucket {
	return &simBucket{rate: rate, burst: burst, tokens: burst, last: start}
}

func (b *simBucket) take(now time.Time) (bool, time.Duration) {
	b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, wholeSeconds((1 - b.tokens) / b.rate)
}

// simWindow admits rate×window sends in each fixed window (the
// emulator's --throttle-window).
type simWindow struct {
	limit  int
	window time.Duration
	start  time.Time
	count  int
}

func (w *simWindow) take(now time.Time) (bool, time.Duration) {
	if s := now.Truncate(w.window); !s.Equal(w.start) {
		w.start, w.count = s, 0
	}
	if w.count < w.limit {
		w.count++
		return true, 0
	}
	return false, wholeSeconds(w.start.Add(w.window).Sub(now).Seconds())
}

func wholeSeconds(s float64) time.Duration {
	return time.Duration(max(1, math.Ceil(s))) * time.Second
}

// simRun is one simulated bulk send: n sends by conc workers, each
// request taking latency from admission to answer (the hub sees it
// half-way).
type simRun struct {
	hub     simHub
	n, conc int
	latency time.Duration
	// jitter, if positive, adds up to that much (uniformly, from a fixed
	// seed) to the way to the hub of each request, as a busy machine
	// does.
	jitter  time.Duration
	maxRate float64
	start   time.Time
	// failAfter, if positive, stops the run at that time (for long runs
	// measured over a span).
	until time.Duration
}

type simResult struct {
	elapsed   time.Duration
	sent      int
	throttled int
	// throttledAfter counts throttled answers after the first 10 s.
	throttledAfter int
	// early counts sends admitted while a Retry-After received earlier
	// had not yet passed.
	early int
	// rate is the pacer's rate at the end.
	rate float64
}

type simEvent struct {
	at     time.Time
	seq    int
	worker int
	kind   int // simWant, simDispatch, simArrive, simAnswer
	gen    int // simDispatch: the dispatcher's generation it belongs to
	sent   time.Time
	ok     bool
	ra     time.Duration
}

const (
	simWant     = iota // a worker asks for a slot
	simDispatch        // the dispatcher's wait for a slot ends
	simArrive          // a request reaches the hub
	simAnswer          // its answer reaches the worker
)

type simQueue []simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(simEvent)) }
func (q *simQueue) Pop() any     { e := (*q)[len(*q)-1]; *q = (*q)[:len(*q)-1]; return e }

func (r simRun) run() simResult { return r.runTrace(nil) }

// runTrace runs r, logging each throttled answer to tb if not nil. The
// dispatcher is BulkSender's: it waits for the pacer's slot while a worker
// waits, and hands the slot to the worker that asked first.
func (r simRun) runTrace(tb testing.TB) simResult {
	p := newPacer(r.maxRate)
	rng := rand.New(rand.NewPCG(1, 2))
	var q simQueue
	seq := 0
	push := func(e simEvent) {
		seq++
		e.seq = seq
		heap.Push(&q, e)
	}
	var res simResult
	started := 0
	var holdUntil time.Time // the latest Retry-After end the workers know of
	end := r.start
	var waiting []int // workers waiting for a slot, in order
	asked := make([]time.Time, r.conc)
	gen := 0 // the dispatcher's current wait; older dispatch events are void
	armed := false
	arm := func(now time.Time) {
		gen++
		armed = true
		push(simEvent{at: p.slot(now), kind: simDispatch, gen: gen})
	}
	for w := range min(r.conc, r.n) {
		started++
		push(simEvent{at: r.start, worker: w, kind: simWant})
	}
	for q.Len() > 0 {
		e := heap.Pop(&q).(simEvent)
		if r.until > 0 && e.at.Sub(r.start) > r.until {
			break
		}
		switch e.kind {
		case simWant:
			asked[e.worker] = e.at
			waiting = append(waiting, e.worker)
			if !armed {
				arm(e.at)
			}
		case simDispatch:
			if e.gen != gen {
				continue
			}
			if s := p.slot(e.at); s.After(e.at) {
				arm(e.at) // the slot moved
				continue
			}
			armed = false
			w := waiting[0]
			waiting = waiting[1:]
			// The worker was held back by the pace unless it asked when
			// the slot was already free.
			p.issue(e.at, e.at.After(asked[w]))
			if e.at.Before(holdUntil) {
				res.early++
			}
			way := r.latency / 2
			if r.jitter > 0 {
				way += time.Duration(rng.Int64N(int64(r.jitter)))
			}
			push(simEvent{at: e.at.Add(way), worker: w, kind: simArrive, sent: e.at})
			if len(waiting) > 0 {
				arm(e.at)
			}
		case simArrive:
			ok, ra := r.hub.take(e.at)
			push(simEvent{at: e.at.Add(r.latency / 2), worker: e.worker, kind: simAnswer, sent: e.sent, ok: ok, ra: ra})
		case simAnswer:
			if e.ok {
				p.success(e.at)
				res.sent++
				end = e.at
				if started < r.n {
					started++
					push(simEvent{at: e.at, worker: e.worker, kind: simWant})
				}
				continue
			}
			res.throttled++
			if e.at.Sub(r.start) > 10*time.Second {
				res.throttledAfter++
			}
			if h := e.at.Add(e.ra); h.After(holdUntil) {
				holdUntil = h
			}
			p.throttledAnswer(e.sent, e.at, e.ra)
			if tb != nil {
				st := p.stats()
				tb.Logf("%8.3fs 429 (sent %.3fs) ra %v sent so far %d -> rate %.1f slow %v hold %.3f", e.at.Sub(r.start).Seconds(), e.sent.Sub(r.start).Seconds(), e.ra, res.sent, st.rate, p.slow, st.hold.Sub(r.start).Seconds())
			}
			push(simEvent{at: e.at, worker: e.worker, kind: simWant})
			if armed {
				arm(e.at) // the hold moved the slot
			}
		}
	}
	res.elapsed = end.Sub(r.start)
	res.rate = p.stats().rate
	return res
}

func (s simResult) ratio(rate float64) float64 {
	return float64(s.sent) / s.elapsed.Seconds() / rate
}

var simStart = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// TestPacerSimulated runs five minutes of bulk sending against models of
// the hub's throttle (token buckets holding a tenth of a second's worth
// and a single token, fixed one-second windows) and checks what the
// pacing promises: nothing sent while a Retry-After runs, throttled
// answers rare once the rate is found, and 0.9× the hub's rate or
// better over the run.
func TestPacerSimulated(t *testing.T) {
	models := []struct {
		name string
		hub  func(rate float64) simHub
	}{
		{"bucket of 0.1s", func(rate float64) simHub { return newSimBucket(rate, rate/10, simStart) }},
		{"bucket of 1", func(rate float64) simHub { return newSimBucket(rate, 1, simStart) }},
		{"windows of 1s", func(rate float64) simHub { return &simWindow{limit: int(rate), window: time.Second} }},
	}
	for _, m := range models {
		for _, rate := range []float64{100, 1000} {
			for _, conc := range []int{4, 64} {
				t.Run(fmt.Sprintf("%s/rate=%v/conc=%d", m.name, rate, conc), func(t *testing.T) {
					// The latency lets conc senders go well beyond the rate.
					const minutes = 5
					res := simRun{hub: m.hub(rate), n: int(rate * 60 * minutes), conc: conc, latency: time.Millisecond, start: simStart}.run()
					if res.early != 0 {
						t.Errorf("%d sends started before a Retry-After had passed", res.early)
					}
					if r := res.ratio(rate); r < 0.9 {
						t.Errorf("sent %d in %v: %.2f× the hub's rate, want ≥ 0.9×", res.sent, res.elapsed, r)
					}
					// After the first ten seconds, at most one throttled
					// episode (up to conc answers) every 20 s.
					if limit := conc * 60 * minutes / 20; res.throttledAfter > limit {
						t.Errorf("%d throttled answers after the first 10 s, want at most %d", res.throttledAfter, limit)
					}
					t.Logf("%.3f× in %v, %d throttled (%d after 10 s), rate at the end %.0f/s", res.ratio(rate), res.elapsed.Round(time.Millisecond), res.throttled, res.throttledAfter, res.rate)
				})
			}
		}
	}
}

// TestPacerMaxRate starts at MaxRate, the hub's own rate: nothing is
// throttled and the pace never exceeds it.
func TestPacerMaxRate(t *testing.T) {
	res := simRun{hub: newSimBucket(500, 5, simStart), n: 30000, conc: 16, latency: time.Millisecond, maxRate: 500, start: simStart}.run()
	if res.throttled != 0 || res.rate != 500 {
		t.Errorf("%d throttled, rate %v at the end", res.throttled, res.rate)
	}
	if r := res.ratio(500); r < 0.99 || r > 1.001 {
		t.Errorf("%.3f× MaxRate", r)
	}
}

// TestPacerGrowsOnlyWhenLimiting checks that the rate grows only while
// the pace holds the sends back: a sender limited by its concurrency or
// its input must not build up a rate the hub never saw.
func TestPacerGrowsOnlyWhenLimiting(t *testing.T) {
	for _, slow := range []bool{true, false} {
		p := newPacer(0)
		now := simStart
		for range 100 {
			p.issue(now, false)
			p.success(now.Add(time.Millisecond))
		}
		p.throttledAnswer(now, now.Add(time.Millisecond), time.Second)
		now = now.Add(time.Second + time.Millisecond)
		p.issue(now, false)
		if !slow {
			// End the slow start with a throttled answer 100 ms into a
			// step: the rate is found.
			for range 10 {
				now = now.Add(10 * time.Millisecond)
				p.issue(now, true)
				p.success(now)
			}
			p.throttledAnswer(now, now, time.Second)
			now = now.Add(time.Second)
		}
		start := p.stats().rate
		// Sends at a tenth of the pace, not held back by it.
		for range 40 {
			now = now.Add(time.Duration(float64(time.Second) / p.stats().rate * 10))
			p.issue(now, false)
			p.success(now)
		}
		if r := p.stats().rate; r != start {
			t.Errorf("slow start %v: rate %v → %v over 40 sends at a tenth of it", slow, start, r)
		}
		// Sends at the pace, held back by it, for 2 s.
		for end := now.Add(2 * time.Second); now.Before(end); {
			now = p.slot(now)
			p.issue(now, true)
			p.success(now)
		}
		want := 1.002 * start // the creep
		if slow {
			want = 8 * start // doubling every 250 ms
		}
		if r := p.stats().rate; r < want {
			t.Errorf("slow start %v: rate %v → %v over 2 s held back by the pace, want ≥ %v", slow, start, r, want)
		}
	}
}

// TestPacerHold checks the hold itself: no slot before the Retry-After
// has passed, counted from the answer, whether paced or not; and after
// it, one slot after another at the rate.
func TestPacerHold(t *testing.T) {
	for _, maxRate := range []float64{0, 100} {
		p := newPacer(maxRate)
		now := simStart
		for range 10 {
			p.issue(now, false)
			p.success(now.Add(time.Millisecond))
		}
		p.throttledAnswer(now, now.Add(5*time.Millisecond), 3*time.Second)
		if s := p.slot(now.Add(10 * time.Millisecond)); s.Before(now.Add(3005 * time.Millisecond)) {
			t.Fatalf("MaxRate %v: slot %v after a Retry-After of 3s at 5ms", maxRate, s.Sub(now))
		}
		// A throttled answer without Retry-After holds too, and longer
		// each episode in a row.
		var holds []time.Duration
		for i := range 4 {
			at := now.Add(time.Duration(10+i) * time.Second)
			p.throttledAnswer(at, at, 0)
			holds = append(holds, p.slot(at).Sub(at))
		}
		for i := 1; i < len(holds); i++ {
			if holds[i] <= holds[i-1] || holds[0] < noRetryAfterBase {
				t.Errorf("MaxRate %v: holds without Retry-After %v, want growing from %v", maxRate, holds, noRetryAfterBase)
			}
		}
	}
	p := newPacer(100)
	at := p.slot(simStart)
	p.issue(at, false)
	for range 5 {
		next := p.slot(at)
		if d := next.Sub(at); d != 10*time.Millisecond {
			t.Errorf("next slot %v after the last, at 100/s", d)
		}
		at = next
		p.issue(at, true)
	}
}
