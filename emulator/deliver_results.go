// Delivery: collecting the push services' answers into delivery records,
// send records, telemetry, feedback and handle expiry.

package emulator

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/nhkit/notificationhubs/emulator/inbox"
	"github.com/nhkit/notificationhubs/emulator/internal/push"
	"github.com/nhkit/notificationhubs/internal/atom"
)

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
// rest, and stops the collector once it has written every result. It
// takes the dispatcher's once first, so that none starts afterwards (its
// workers would never stop) and d.disp is read after it was written.
func (d *deliverer) close() {
	d.once.Do(func() {})
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
	c.Logger = warnLogger(out)
	return &c
}

// warnLogger writes warnings and errors to out as text lines.
func warnLogger(out io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelWarn}))
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
