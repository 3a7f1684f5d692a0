package notificationhubs

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Pacing of bulk sends (BulkSender).
//
// A hub throttles sends beyond a rate it does not publish, answering 429
// with a Retry-After in whole seconds (docs/throttling.md). The pacer is a
// token bucket shared by every send of a BulkSender whose rate follows
// the hub's answers:
//
//   - Until the first throttled answer nothing is paced (unless the caller
//     gave a MaxRate): the concurrency cap alone bounds the sends.
//   - A throttled answer (429, or 503 with Retry-After) holds every send
//     until its Retry-After has passed, counted from when the answer
//     arrived. Sends already in flight are not recalled; their answers
//     may extend the hold. After a hold the sends resume at the paced
//     rate, one slot after the other, instead of all at once. Answers to
//     sends started before the rate was last cut belong to the episode
//     that cut it: they hold, but do not cut again.
//   - The first throttled answer ends the hub's initial burst: what it
//     accepted until then is about the size of its bucket (burst). After
//     the hold the rate starts at that many sends a second and doubles
//     every slowStartStep (slow start) until the next throttled answer,
//     which came once the bucket, full at the step's start, drained at the
//     step's rate minus the hub's: rate ≈ step rate − burst ÷ time into
//     the step, and at least the previous step's. The rate starts just
//     below that estimate. If the estimate is that lower bound (the hub
//     throttled at once: its bucket is too small to tell), the rate
//     climbs back towards the step's and probes upwards until the next
//     throttled answer, at probePerSecond at first and twice as fast
//     every probeDoubling.
//   - A later throttled answer says the pace was too fast. The hub's
//     bucket is empty now; over any span T ending now it let through at
//     most what it held at the span's start (at most its size b, and b is
//     at most the first burst) plus r·T, so r ≥ (sends in T − burst)/T,
//     taken over the last second and over the time τ since the sends
//     resumed (n sends, the bucket full at the start); if the bucket holds
//     at most a second's worth (b ≤ r), also r ≥ n/(τ+1). The pace of the
//     last second, R, bounds r from above. The rate is cut to the
//     geometric mean of the best lower bound and R, or to cutFactor·R if
//     that is lower, but by half at most, and climbs back half-way (in
//     ratio) towards R with a time constant of recovery: the bounds need
//     not hold for a hub that counts in windows.
//   - From there the rate creeps up by creepPerSecond a second while the
//     pace is what holds the sends back, so that a hub that allows more
//     is found again. The creep is slow because a throttled answer costs
//     a whole Retry-After of sending nothing: in the simulations of
//     pacing_test.go a throttled episode comes every 20 to 60 seconds
//     once the rate is found.
//   - A throttled answer with fewer than informative sends accepted since
//     the last hold tells little: it halves the rate and starts the slow
//     start again. One before anything was accepted at all starts
//     unpaced again (twice at most).
//
// The pacer never exceeds MaxRate.
const (
	cutFactor      = 0.97
	creepPerSecond = 0.001
	probePerSecond = 0.02
	probeDoubling  = 5 * time.Second
	probeMax       = 0.5
	slowStartStep  = 250 * time.Millisecond
	// slowStartFactor is how much the rate grows each step of the slow
	// start.
	slowStartFactor = 2
	// slowStartCut is the fraction of the slow start's estimate the rate
	// starts from.
	slowStartCut = 0.99
)

const (
	minRate = 0.5 // sends per second
	// rateWindow is the span over which the accepted rate is measured.
	rateWindow = time.Second
	// noRetryAfterBase is the first hold after a throttled answer without
	// Retry-After; it doubles with each such answer in a row, up to
	// noRetryAfterMax, with a quarter of jitter.
	noRetryAfterBase = 100 * time.Millisecond
	noRetryAfterMax  = 30 * time.Second
	// recovery is the time constant of the climb back after a deep cut.
	recovery = 2 * time.Second
	// informative is the fewest sends accepted since a hold for a
	// throttled answer to say something about the hub's rate.
	informative = 4
	// catchUp and lateCatchUp are how much of a late start the following
	// slots make up for (issue).
	catchUp     = 2 * time.Millisecond
	lateCatchUp = 50 * time.Millisecond
)

// pacer paces sends; every method takes the time so that tests can run it
// on a clock of their own. It is safe for concurrent use. A dispatcher
// (BulkSender's, or a test's) asks it when the next send may start (slot)
// and tells it when one did (issue), so that sends start one at a time in
// the order they asked.
type pacer struct {
	mu sync.Mutex

	maxRate float64 // 0: none
	// rate is the current pace in sends per second; 0: unpaced.
	rate float64
	// next is the earliest time of the next send when paced.
	next time.Time
	// hold is the end of the Retry-After: no send before it.
	hold time.Time
	// holds are the recent holds, to leave them out of the accepted rate.
	holds [8]span
	nhold int
	// changed is signalled (without blocking) when hold or rate move, so
	// that a dispatcher waiting for a slot looks again.
	changed chan struct{}
	// cut is when the rate was last cut; answers to sends started before
	// it do not cut it again.
	cut time.Time
	// Slow start: the rate doubles at the end of each step, which began
	// at stepStart; burst is what the hub accepted before its first
	// throttled answer.
	slow bool
	// probe is the creep per second right after the slow start, which
	// doubles every probeDoubling until the next cut; 0: none.
	probe    float64
	starting bool // the first throttled answer's hold runs; slow start begins after it
	restarts int  // unpaced starts again after throttled answers that let nothing through
	// ceiling is the rate the hub last throttled (0: none known): after
	// a cut the rate climbs back to cutFactor of it (recovery), and
	// creeps only from there.
	ceiling   float64
	stepStart time.Time
	stepSends int // sends started in the step
	// prevStepRate is the sends per second of the previous step.
	prevStepRate float64
	burst        float64
	// resumed says whether a send started since the hold ended, and
	// resumeTotal is total when the first did.
	resumed     bool
	resumeTotal int64
	resumeAt    time.Time
	// startedSinceResume counts the sends started since then.
	startedSinceResume int64
	// grown is when growth was last applied.
	grown time.Time
	first time.Time // first send
	total int64     // accepted sends
	// started counts the sends started in slots of rateWindow/10.
	started [10]int
	accSlot int64 // index (in tenths of rateWindow since the Unix epoch) of started's newest slot
	// backoff counts throttled answers without Retry-After in a row.
	backoff int
	// throttled counts throttled answers.
	throttled int64
	// trace, if set (by tests), is told of each send started and each
	// throttled answer, in the order the pacer saw them; p.mu is held.
	trace func(pacerEvent)
}

// pacerEvent is what a pacer's trace is told.
type pacerEvent struct {
	// Throttled is true for a throttled answer, false for a send started.
	Throttled bool
	// At is the time the pacer was given: when the send started, or when
	// the answer arrived.
	At time.Time
	// RetryAfter is the throttled answer's (0: none given).
	RetryAfter time.Duration
	// Rate is the pace after the event (0: unpaced).
	Rate float64
}

type span struct{ from, to time.Time }

func newPacer(maxRate float64) *pacer {
	p := &pacer{maxRate: maxRate, changed: make(chan struct{}, 1)}
	if maxRate > 0 {
		p.rate = maxRate
	}
	return p
}

// slot returns the earliest time the next send may start.
func (p *pacer) slot(now time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.slotLocked(now)
}

// take starts a send at now if its slot has come (slot and issue under
// one lock, so that a throttled answer recorded between the two cannot
// let a send start during its hold) and otherwise returns the slot.
func (p *pacer) take(now time.Time, limited bool) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if at := p.slotLocked(now); at.After(now) {
		return at, false
	}
	p.issueLocked(now, limited)
	return now, true
}

func (p *pacer) slotLocked(now time.Time) time.Time {
	t := now
	if t.Before(p.hold) {
		t = p.hold
	}
	if p.rate > 0 && t.Before(p.next) {
		t = p.next
	}
	return t
}

// issue records that a send started at now, at or after its slot.
// limited says whether it had been waiting for the slot, that is whether
// the pace held it back (the rate grows only then).
func (p *pacer) issue(now time.Time, limited bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.issueLocked(now, limited)
}

func (p *pacer) issueLocked(now time.Time, limited bool) {
	if p.first.IsZero() {
		p.first = now
	}
	if !p.resumed && !now.Before(p.hold) {
		p.resumed = true
		p.resumeTotal = p.total
		p.resumeAt = now
		p.startedSinceResume = 0
	}
	if p.starting && !now.Before(p.hold) {
		// The hub's initial burst is over, and so are the sends that
		// were in flight when it ended: start from about that a second
		// and find the rate from below.
		p.starting = false
		p.burst = float64(p.total)
		if p.burst == 0 && p.restarts < 2 {
			// Throttled before anything got through: that says nothing
			// about the hub's rate; start again unpaced, twice at most.
			p.restarts++
		} else {
			p.rate = max(informative, p.burst) / rateWindow.Seconds()
			if p.maxRate > 0 && p.rate > p.maxRate {
				p.rate = p.maxRate
			}
			p.slow = true
			p.stepStart = now
			p.grown = now
			limited = false
		}
	}
	p.advance(now)
	p.started[p.accSlot%int64(len(p.started))]++
	p.startedSinceResume++
	p.grow(now, limited)
	if p.rate > 0 {
		// The next slot follows this one's, not the moment the send
		// started: waking up takes a while (milliseconds on a busy
		// machine), and at hundreds of sends a second that would slow the
		// pace. A send that waited for its slot and started late is made
		// up for, by the next ones starting sooner, up to lateCatchUp; one
		// that came after its slot had passed (the senders were busy)
		// starts the pace afresh, give or take catchUp, so that sends do
		// not bunch up after a pause.
		interval := time.Duration(float64(time.Second) / p.rate)
		base := p.next
		if base.Before(p.hold) {
			base = p.hold
		}
		tol := catchUp
		if limited {
			tol = lateCatchUp
		}
		if lo := now.Add(-tol); base.Before(lo) {
			if limited {
				base = lo
			} else {
				base = now
			}
		}
		p.next = base.Add(interval)
	}
	if p.trace != nil {
		p.trace(pacerEvent{At: now, Rate: p.rate})
	}
}

// grow raises the rate for the time since it last grew, if the pace is
// what holds the sends back. p.mu is held.
func (p *pacer) grow(now time.Time, limited bool) {
	if p.rate <= 0 || now.Before(p.hold) {
		return
	}
	if p.slow {
		if p.stepStart.Before(p.hold) {
			p.stepStart = p.hold
			p.stepSends, p.prevStepRate = 0, 0
		}
		// The rate doubles at the end of each step in which the senders
		// kept up with it (most of its slots were taken); otherwise
		// something else holds them back and a faster pace says nothing.
		if steps := int(now.Sub(p.stepStart) / slowStartStep); steps > 0 {
			p.prevStepRate = float64(p.stepSends) / slowStartStep.Seconds()
			if steps == 1 && p.prevStepRate >= 0.8*p.rate {
				p.rate *= slowStartFactor
			}
			p.stepStart = p.stepStart.Add(time.Duration(steps) * slowStartStep)
			p.stepSends = 0
		}
		p.stepSends++
	} else {
		from := p.grown
		if from.Before(p.hold) {
			from = p.hold
		}
		// A long pause of the caller's own (a slow input) is not
		// evidence that the hub allows more.
		if dt := min(now.Sub(from), 100*time.Millisecond); dt > 0 && limited {
			// The recovery approaches its target and hands over to the
			// creep close to it.
			if target := cutFactor * p.ceiling; p.rate < 0.99*target {
				p.rate += (target - p.rate) * -math.Expm1(-dt.Seconds()/recovery.Seconds())
			} else {
				c := creepPerSecond
				if p.probe > 0 {
					// The slow start's estimate may be off, even far off
					// (a throttled answer not of the hub's rate): the
					// probe speeds up, doubling every probeDoubling.
					c = min(probeMax, p.probe*math.Exp2(now.Sub(p.cut).Seconds()/probeDoubling.Seconds()))
				}
				p.rate *= 1 + c*dt.Seconds()
			}
		}
	}
	p.grown = now
	if p.maxRate > 0 && p.rate > p.maxRate {
		p.rate = p.maxRate
	}
}

// success records a send the hub accepted at now.
func (p *pacer) success(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.backoff = 0
	p.total++
}

// advance moves the slots of started to now. p.mu is held.
func (p *pacer) advance(now time.Time) {
	slot := now.UnixNano() / int64(rateWindow/time.Duration(len(p.started)))
	if slot <= p.accSlot && p.accSlot != 0 {
		return
	}
	n := int64(len(p.started))
	for i := max(p.accSlot+1, slot-n+1); i <= slot; i++ {
		p.started[i%n] = 0
	}
	p.accSlot = slot
}

// sendRate returns the sends per second started over the last
// rateWindow, leaving out the time sends were held (or not yet started).
// floor is the least span it divides by. p.mu is held.
func (p *pacer) sendRate(now time.Time, floor time.Duration) float64 {
	p.advance(now)
	n := 0
	for _, c := range p.started {
		n += c
	}
	// The slots span from the start of the oldest to now.
	bin := int64(rateWindow / time.Duration(len(p.started)))
	from := time.Unix(0, (p.accSlot-int64(len(p.started))+1)*bin)
	if from.Before(p.first) {
		from = p.first
	}
	active := now.Sub(from)
	for _, h := range p.holds[:p.nhold] {
		a, b := h.from, h.to
		if a.Before(from) {
			a = from
		}
		if b.After(now) {
			b = now
		}
		if b.After(a) {
			active -= b.Sub(a)
		}
	}
	return float64(n) / max(active, floor).Seconds()
}

// throttledAnswer records a throttled answer at now to a send admitted at
// sent, with the hub's Retry-After (0: none given).
func (p *pacer) throttledAnswer(sent, now time.Time, retryAfter time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.throttled++
	// Answers to sends started before the last cut belong to the
	// episode that cut already.
	episode := !sent.Before(p.cut)
	d := retryAfter
	if d <= 0 {
		if episode {
			p.backoff++
		}
		d = noRetryAfterBase << min(max(p.backoff-1, 0), 16)
		d = min(d, noRetryAfterMax)
		d += rand.N(d/4 + 1)
	}
	if end := now.Add(d); end.After(p.hold) {
		from := now
		if p.hold.After(from) {
			from = p.hold
		}
		copy(p.holds[1:], p.holds[:len(p.holds)-1])
		p.holds[0] = span{from, end}
		p.nhold = min(p.nhold+1, len(p.holds))
		p.hold = end
	}
	accepted := int64(0)
	if p.resumed {
		accepted = p.total - p.resumeTotal
	}
	if now.Before(p.hold) {
		p.resumed = false
	}
	p.next = p.hold
	defer p.signal()
	if p.trace != nil {
		defer func() { p.trace(pacerEvent{Throttled: true, At: now, RetryAfter: retryAfter, Rate: p.rate}) }()
	}
	if !episode {
		return
	}
	switch {
	case p.rate <= 0:
		// The end of the hub's initial burst; issue sets the rate once
		// the hold is over.
		p.starting = true
	case accepted < informative:
		// Throttled again right after a hold, which says little about
		// the hub's rate: halve the pace and find the rate from there
		// (slow start).
		p.rate = max(minRate, p.rate/2)
		p.slow = true
		p.stepStart = p.hold
	case p.slow:
		// The hub's bucket, full at the step's start, drained during the
		// step at its rate (the pace, or less if the senders could not
		// keep up) minus the hub's: r = step rate − burst ÷ time into the
		// step. The hub's rate is at least the previous step's, which it
		// did not throttle, and below this one's.
		in := max(now.Sub(p.stepStart).Seconds(), 1e-3)
		step := min(p.rate, float64(p.stepSends)/in)
		lo := min(step, max(p.prevStepRate, p.rate/2))
		est := step - p.burst/in
		p.ceiling = est
		// Throttled at once (the estimate at or near the lower bound):
		// the hub's rate lies between the two steps, and its bucket is
		// too small to tell where. Start at the lower, climb back
		// towards the upper quickly and probe on from there.
		p.probe = 0
		if est < 1.1*lo {
			p.probe = probePerSecond
		}
		if est < lo {
			est, p.ceiling = lo, step
		}
		p.rate = max(minRate, slowStartCut*est)
		p.slow = false
	default:
		// See the top of the file.
		tau := max(now.Sub(p.resumeAt).Seconds(), 1e-3)
		n := float64(p.startedSinceResume)
		hi := p.sendRate(now, 10*time.Millisecond)
		lo := n / (tau + 1)
		if p.burst > 0 {
			lo = max(lo, (n-p.burst)/tau, hi-p.burst/min(tau, rateWindow.Seconds()))
		}
		est := math.Sqrt(max(lo, 0) * hi)
		p.rate = max(minRate, max(hi/2, min(cutFactor*hi, est)))
		// The rate climbs back half-way (in ratio) to the recent pace:
		// the bounds may not hold (a hub that counts in windows lets a
		// window's worth through at once).
		p.ceiling = math.Sqrt(p.rate * hi)
		p.probe = 0
	}
	p.cut = now
	if p.maxRate > 0 && p.rate > p.maxRate {
		p.rate = p.maxRate
	}
	p.grown = p.hold
}

// signal tells a waiting dispatcher that the slots moved. p.mu is held.
func (p *pacer) signal() {
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// pacerStats is a snapshot for BulkSender.Stats.
type pacerStats struct {
	rate      float64
	hold      time.Time
	throttled int64
}

func (p *pacer) stats() pacerStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return pacerStats{rate: p.rate, hold: p.hold, throttled: p.throttled}
}
