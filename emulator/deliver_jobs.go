// Delivery: turning a send's targets into push jobs for the dispatcher.

package emulator

import (
	"strings"
	"time"

	"github.com/nhkit/notificationhubs/emulator/internal/push"
	"github.com/nhkit/notificationhubs/internal/atom"
)

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
		if disp == nil { // closed before any delivery started
			s.dlv.post(deliverResult{j.Ref.(*deliverRef), push.Result{Service: j.Sender.Service(), Handle: j.Notification.Handle,
				Status: push.StatusCanceled, Outcome: push.OutcomeDropped, Reason: "emulator closed", Final: true, Time: s.now()}})
			continue
		}
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
