package emulator

// One concern: sends. A send request parsed, fanned out to its targets,
// answered and recorded; direct and batch sends too. What each push
// service receives is shaped in shape.go.

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nhkit/notificationhubs/internal/atom"
	"github.com/nhkit/notificationhubs/internal/tagexpr"
)

// Request headers of sends.
const (
	hFormat       = "ServiceBusNotification-Format"
	hTags         = "ServiceBusNotification-Tags"
	hDeviceHandle = "ServiceBusNotification-DeviceHandle"
	hScheduleTime = "ServiceBusNotification-ScheduleTime"
	hApnsExpiry   = "ServiceBusNotification-Apns-Expiry"
)

const (
	maxSendBody     = 64 * 1024
	maxBatchHandles = 1000
	maxTestResults  = 10
)

// Outcomes recorded on deliveries.
const (
	OutcomeSuccess       = "Success"
	OutcomeSkipped       = "Skipped"
	OutcomeInvalidFormat = "InvalidNotificationFormat"
	// OutcomeInvalidCredentials is a target of a push service the hub has
	// no credential for (hubs created through the API only).
	OutcomeInvalidCredentials = "InvalidCredentials"
)

const outcomeSentText = "The Notification was successfully sent to the Push Notification System"

var notificationCounter atomic.Int64

// newNotificationID returns an id of the observed form
// {32 hex}-{yyyyMMddHHmmss}-{n}-{n}.
func newNotificationID(now time.Time) string {
	return randHex(16) + "-" + now.UTC().Format("20060102150405") + "-" +
		strconv.Itoa(int(now.UnixNano()%100000000)) + "-" + strconv.FormatInt(notificationCounter.Add(1), 10)
}

// notification is a parsed send request.
type notification struct {
	format   string   // lower-case format header
	platform platform // pNone for template
	headers  []kv     // pass-through headers for the PNS (native)
	body     string
	props    []kv // template properties in body order
}

// parseNotification reads the format, pass-through headers and body.
func (q *request) parseNotification() (*notification, error) {
	format := canonicalFormat(q.r.Header.Get(hFormat))
	if format == "" {
		return nil, badRequest("The 'ServiceBusNotification-Format' header is required.")
	}
	n := &notification{format: format}
	if format != "template" {
		n.platform = platformFromFormat(format)
		if n.platform == pNone {
			return nil, badRequest("The value '" + format + "' of the 'ServiceBusNotification-Format' header is not supported.")
		}
	}
	body, err := q.readBody(maxSendBody)
	if err != nil {
		return nil, err
	}
	n.body = string(body)
	if n.platform == pNone {
		keys, m, err := orderedObject(body)
		if err != nil {
			return nil, badRequest("The template notification body must be a JSON object of string properties.")
		}
		for _, k := range keys {
			v, _ := jsonText(m[k])
			n.props = append(n.props, kv{k, v})
		}
		return n, nil
	}
	n.headers, err = passThrough(n.platform, q.r.Header)
	if err != nil {
		return nil, err
	}
	return n, nil
}

// fanResult is what a fan-out produced besides its SendRecord.
type fanResult struct {
	results  []atom.RegistrationResult
	ds       []Delivery
	expired  []*target          // channels the push service reported expired
	failures []atom.PnsFeedback // every push-service failure (PnsErrorDetails)
	feedback []atom.PnsFeedback // the ones that go to the feedback container
	dlv      *deliverBatch      // targets for the real push services (deliver.go)
}

// counter accumulates per-platform outcome counts.
type counter struct {
	success [numPlatforms]int
	other   map[platform]map[string]int
}

func (c *counter) add(p platform, outcome string) {
	if outcome == OutcomePending {
		return // counted when the push service answers (deliver.go)
	}
	if outcome == OutcomeSuccess {
		c.success[p]++
		return
	}
	if c.other == nil {
		c.other = map[platform]map[string]int{}
	}
	if c.other[p] == nil {
		c.other[p] = map[string]int{}
	}
	c.other[p][outcome]++
}

func (c *counter) into(rec *SendRecord) {
	for p := pApple; p < numPlatforms; p++ {
		if c.success[p] == 0 && len(c.other[p]) == 0 {
			continue
		}
		if rec.Outcomes == nil {
			rec.Outcomes = map[string]map[string]int{}
		}
		m := map[string]int{}
		if c.success[p] > 0 {
			m[OutcomeSuccess] = c.success[p]
		}
		for k, v := range c.other[p] {
			m[k] = v
		}
		rec.Outcomes[p.String()] = m
	}
}

// fanOut delivers n to the targets ids of h. Only the newest
// Options.Retention deliveries are materialised; counts cover all. The
// caller holds s.mu (read).
func (s *Server) fanOut(h *hub, n *notification, ids []uint32, rec *SendRecord, test bool) *fanResult {
	if test && len(ids) > maxTestResults {
		ids = ids[:maxTestResults]
	}
	now := s.now()
	marks := s.markSnapshot()
	fr := &fanResult{}
	outcome := make([]string, len(ids))
	seen := make(map[string]struct{}, len(ids))
	type rendered struct {
		headers map[string]string
		payload string
	}
	var renders []rendered
	if n.platform == pNone {
		renders = make([]rendered, len(ids))
	}
	var cnt counter
	plats := map[platform]bool{}
	for i, id := range ids {
		t := h.targets[id]
		key := t.handle
		if t.template {
			key = t.platform.String() + "\x00" + key + "\x00" + templateName(t)
		}
		if _, dup := seen[key]; dup {
			outcome[i] = OutcomeSkipped
			rec.Skipped++
			cnt.add(t.platform, OutcomeSkipped)
			continue
		}
		seen[key] = struct{}{}
		plats[t.platform] = true
		if n.platform == pNone {
			hd, pl, err := renderTemplate(t, n)
			if err != nil {
				outcome[i] = OutcomeInvalidFormat
				rec.Failed++
				cnt.add(t.platform, OutcomeInvalidFormat)
				continue
			}
			renders[i] = rendered{hd, pl}
		}
		// fail records a push-service failure of target i in the send's
		// error details.
		fail := func(name string) atom.PnsFeedback {
			outcome[i] = name
			rec.Failed++
			cnt.add(t.platform, name)
			fb := atom.PnsFeedback{FeedbackTime: now.UTC().Format(time.RFC3339Nano), NotificationSystemError: name,
				Platform: t.platform.String(), PnsHandle: t.handle, NotificationID: rec.NotificationID}
			if t.inst != nil {
				fb.InstallationID = t.inst.id
			} else {
				fb.RegistrationID = t.regID
			}
			fr.failures = append(fr.failures, fb)
			return fb
		}
		if h.lacksCredential(t.platform) {
			// Not in the feedback container: the device's handle is not
			// at fault.
			fail(OutcomeInvalidCredentials)
			continue
		}
		if st := handleStateOf(marks, t.handle); st != HandleStateOK {
			fb := fail(pnsOutcome(t.platform, st))
			if st != HandleStateThrottled {
				fr.feedback = append(fr.feedback, fb)
			}
			if st == HandleStateExpired {
				fr.expired = append(fr.expired, t)
			}
			continue
		}
		if s.delivers(h, t.platform) {
			outcome[i] = OutcomePending
			rec.Pending++
			continue
		}
		outcome[i] = OutcomeSuccess
		rec.Success++
		cnt.add(t.platform, OutcomeSuccess)
	}
	cnt.into(rec)
	rec.Targets = len(ids)
	for p := pApple; p < numPlatforms; p++ {
		if plats[p] {
			rec.Platforms = append(rec.Platforms, targetPlatform(p, n.platform == pNone))
		}
	}
	start := max(0, len(ids)-s.opts.Retention)
	ds := make([]Delivery, 0, len(ids)-start)
	for i := start; i < len(ids); i++ {
		t := h.targets[ids[i]]
		d := Delivery{
			NotificationID: rec.NotificationID,
			Hub:            rec.Hub,
			Platform:       t.platform.String(),
			Handle:         t.handle,
			RegistrationID: t.regID,
			Format:         n.format,
			Audience:       rec.Audience,
			Tags:           t.tags(),
			Test:           test,
			Time:           now,
			Outcome:        outcome[i],
		}
		if t.inst != nil {
			d.InstallationID = t.inst.id
		}
		switch outcome[i] {
		case OutcomeSkipped, OutcomeInvalidFormat:
		default:
			if n.platform == pNone {
				d.Headers, d.Payload = renders[i].headers, renders[i].payload
			} else {
				d.Headers, d.Payload = pnsMessage(t.platform, t.handle, n.headers, n.body)
			}
		}
		ds = append(ds, d)
		if test {
			fr.results = append(fr.results, atom.RegistrationResult{
				ApplicationPlatform: t.platform.String(),
				PnsHandle:           t.handle,
				RegistrationID:      t.regID,
				Outcome:             outcomeText(outcome[i]),
			})
		}
	}
	last := s.recordDeliveries(ds)
	fr.ds = ds
	if rec.Pending > 0 {
		var rendered func(int) (map[string]string, string)
		if n.platform == pNone {
			rendered = func(i int) (map[string]string, string) { return renders[i].headers, renders[i].payload }
		}
		fr.dlv = s.pendingJobs(h, n, rec, ids, outcome, start, last, test, rendered)
	}
	return fr
}

// targetPlatform names p in telemetry's TargetPlatforms (docs/protocol.md,
// "Telemetry"): a template send reaches the template variant of each platform.
// appletemplate, gcmtemplate, windowstemplate, windowsphonetemplate,
// admtemplate and baidutemplate are documented; fcmv1template,
// browsertemplate and xiaomitemplate are inferred by analogy (the docs
// list only "newer: fcmv1, browser, xiaomi…" without their variants).
func targetPlatform(p platform, template bool) string {
	if template {
		return p.String() + "template"
	}
	return p.String()
}

// outcomeText is the free text of a test send's RegistrationResult.
func outcomeText(outcome string) string {
	switch outcome {
	case OutcomeSuccess:
		return outcomeSentText
	case OutcomeInvalidFormat:
		return "The Notification payload is invalid"
	case OutcomeInvalidCredentials:
		return "The notification hub has no credential for this push service"
	case OutcomeSkipped:
		return "Skipped: a notification was already sent to this device"
	case OutcomePending:
		return "The notification is still being delivered to the Push Notification System"
	}
	return "The Push Notification System rejected the notification: " + outcome
}

func templateName(t *target) string {
	if t.reg != nil {
		return t.reg.desc.TemplateName
	}
	return t.inst.templates[t.tmplIdx].name
}

// audience resolves the Tags header to target ids (sorted). ok is false
// when the expression is invalid (err set).
func (h *hub) audience(n *notification, tagHeader string, present bool) ([]uint32, error) {
	u := h.universe(n.platform)
	if !present {
		return u, nil
	}
	if strings.TrimSpace(tagHeader) == "" {
		return nil, nil
	}
	e, err := tagexpr.Parse(tagHeader)
	if err != nil {
		return nil, badRequest("The tag expression '" + tagHeader + "' is invalid: " + err.Error())
	}
	return h.eval(e.Root, u), nil
}

// send performs a tag or broadcast send, records it and waits until the
// record is durable.
func (s *Server) send(h *hub, hubName string, n *notification, tagHeader string, tagsPresent, test, scheduled bool, nid string) ([]atom.RegistrationResult, *SendRecord, error) {
	return s.sendAt(h, hubName, n, tagHeader, tagsPresent, test, scheduled, nid, time.Time{})
}

// sendAt is send with the enqueue time of a scheduled notification (zero:
// now).
func (s *Server) sendAt(h *hub, hubName string, n *notification, tagHeader string, tagsPresent, test, scheduled bool, nid string, enqueued time.Time, extra ...dbOp) ([]atom.RegistrationResult, *SendRecord, error) {
	now := s.now()
	if enqueued.IsZero() {
		enqueued = now
	}
	s.mu.RLock()
	ids, err := h.audience(n, tagHeader, tagsPresent)
	if err != nil {
		s.mu.RUnlock()
		if len(extra) > 0 {
			s.mu.Lock()
			b := s.persist(extra...)
			s.mu.Unlock()
			_ = b.wait()
		}
		return nil, nil, err
	}
	rec := &SendRecord{
		NotificationID: nid, Hub: hubName, Format: n.format, Audience: tagHeader,
		Broadcast: !tagsPresent, Test: test, Scheduled: scheduled, Body: n.body, EnqueueTime: enqueued, SentTime: now,
	}
	fr := s.fanOut(h, n, ids, rec, test)
	s.mu.RUnlock()
	b := s.recordSend(h, rec, fr, extra...)
	err = b.wait()
	s.awaitTestResults(fr.dlv, fr.results)
	return fr.results, rec, err
}

// recordSend applies a fan-out's consequences (expired channels removed,
// feedback and error blobs written), stores the send record and queues it
// all for the database.
func (s *Server) recordSend(h *hub, rec *SendRecord, fr *fanResult, extra ...dbOp) *batch {
	rec.State = "Completed"
	if rec.Targets == 0 {
		rec.State = "NoTargetFound"
	}
	if rec.Pending > 0 {
		rec.State = sendProcessing
	}
	ops := extra
	if len(fr.failures) > 0 {
		rec.ErrorBlob = s.writeErrorDetails(rec.Hub, rec.NotificationID, fr.failures)
	}
	if len(fr.feedback) > 0 {
		s.appendFeedback(rec.Hub, fr.feedback)
	}
	if len(fr.expired) > 0 && h != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, t := range fr.expired {
			ops = append(ops, s.expireTarget(h, t)...)
		}
	} else {
		s.mu.RLock()
		defer s.mu.RUnlock()
	}
	s.startDelivery(s.sends.push(*rec), fr.dlv)
	ops = append(ops, s.opAddSend(rec, fr.ds)...)
	return s.persist(ops...)
}

// direct delivers n to explicit handles.
func (s *Server) direct(h *hub, hubName string, n *notification, handles []string, browser *browserChannel, test bool, nid string) error {
	now := s.now()
	rec := &SendRecord{NotificationID: nid, Hub: hubName, Format: n.format, Direct: true, Test: test, Body: n.body, EnqueueTime: now, SentTime: now}
	rec.Platforms = []string{n.platform.String()}
	marks := s.markSnapshot()
	s.mu.RLock()
	noCredential := h.lacksCredential(n.platform)
	deliver := s.delivers(h, n.platform)
	s.mu.RUnlock()
	seen := map[string]bool{}
	fr := &fanResult{}
	var cnt counter
	ds := make([]Delivery, 0, len(handles))
	for _, hd := range handles {
		d := Delivery{NotificationID: nid, Hub: hubName, Platform: n.platform.String(), Handle: hd,
			Format: n.format, Test: test, Direct: true, Time: now}
		rec.Targets++
		if seen[hd] {
			d.Outcome = OutcomeSkipped
			rec.Skipped++
			cnt.add(n.platform, OutcomeSkipped)
			ds = append(ds, d)
			continue
		}
		seen[hd] = true
		d.Headers, d.Payload = pnsMessage(n.platform, hd, n.headers, n.body)
		if browser != nil {
			d.Headers["P256DH"], d.Headers["Auth"] = browser.p256dh, browser.auth
		}
		if noCredential {
			d.Outcome = OutcomeInvalidCredentials
			rec.Failed++
			fr.failures = append(fr.failures, atom.PnsFeedback{FeedbackTime: now.UTC().Format(time.RFC3339Nano),
				NotificationSystemError: d.Outcome, Platform: n.platform.String(), PnsHandle: hd, NotificationID: nid})
		} else if st := handleStateOf(marks, hd); st != HandleStateOK {
			d.Outcome = pnsOutcome(n.platform, st)
			rec.Failed++
			fb := atom.PnsFeedback{FeedbackTime: now.UTC().Format(time.RFC3339Nano), NotificationSystemError: d.Outcome,
				Platform: n.platform.String(), PnsHandle: hd, NotificationID: nid}
			fr.failures = append(fr.failures, fb)
			if st != HandleStateThrottled {
				fr.feedback = append(fr.feedback, fb)
			}
		} else if deliver {
			d.Outcome = OutcomePending
			rec.Pending++
		} else {
			d.Outcome = OutcomeSuccess
			rec.Success++
		}
		cnt.add(n.platform, d.Outcome)
		ds = append(ds, d)
	}
	cnt.into(rec)
	last := s.recordDeliveries(ds)
	fr.ds = ds
	if rec.Pending > 0 {
		fr.dlv = s.directJobs(h, n, ds, last, browser)
	}
	return s.recordSend(nil, rec, fr).wait()
}

func (q *request) messageLocation(nid string, direct bool) string {
	loc := q.baseURL() + "/messages/" + nid + q.versionQuery()
	if direct {
		loc += "&direct"
	}
	return loc
}

// setMessageLocation gives a send's answer its Location, which carries the
// notification id. The service sets it on the Standard tier only
// (docs/protocol.md, "Sends": the Location is "only available for Standard tier");
// on Free and Basic clients get no notification id, and telemetry answers 403
// anyway.
func (s *Server) setMessageLocation(q *request, nid string, direct bool) {
	if s.tier != tierStandard {
		return
	}
	q.w.Header().Set("Location", q.messageLocation(nid, direct))
}

// failDurability answers a write whose commit failed.
func (q *request) failDurability(err error) {
	q.fail(http.StatusInternalServerError, "The request could not be stored: "+err.Error())
}

func (s *Server) handleSend(q *request) {
	direct, test := q.flag("direct"), q.flag("test")
	n, err := q.parseNotification()
	if err != nil {
		q.failErr(err)
		return
	}
	nid := newNotificationID(s.now())
	if direct {
		if n.platform == pNone {
			q.fail(http.StatusBadRequest, "Direct sends do not support template notifications.")
			return
		}
		handle := strings.TrimSpace(q.r.Header.Get(hDeviceHandle))
		if handle == "" {
			q.fail(http.StatusBadRequest, "The 'ServiceBusNotification-DeviceHandle' header is required for direct sends.")
			return
		}
		var bc *browserChannel
		if n.platform == pBrowser {
			bc = &browserChannel{p256dh: q.r.Header.Get("P256DH"), auth: q.r.Header.Get("Auth")}
			if bc.p256dh == "" || bc.auth == "" {
				q.fail(http.StatusBadRequest, "The 'P256DH' and 'Auth' headers are required for direct browser sends.")
				return
			}
		}
		if n.platform == pApple {
			handle = strings.ToUpper(handle)
		}
		if err := s.direct(q.hub, q.hubName, n, []string{handle}, bc, test, nid); err != nil {
			q.failDurability(err)
			return
		}
		s.setMessageLocation(q, nid, true)
		q.empty(http.StatusCreated, ctXML)
		return
	}
	if test && !s.allowTestSend(q) {
		return
	}
	tagVals, present := q.r.Header[textproto.CanonicalMIMEHeaderKey(hTags)]
	tagHeader := ""
	if present {
		tagHeader = tagVals[0]
	}
	results, _, err := s.send(q.hub, q.hubName, n, tagHeader, present, test, false, nid)
	if err != nil {
		var he *httpError
		if errors.As(err, &he) {
			q.failErr(err)
		} else {
			q.failDurability(err)
		}
		return
	}
	s.setMessageLocation(q, nid, false)
	if !test {
		q.empty(http.StatusCreated, ctXML)
		return
	}
	out := atom.Outcome{Success: 0, Failure: 0, Results: results}
	for _, r := range results {
		if r.Outcome == outcomeSentText {
			out.Success++
		} else {
			out.Failure++
		}
	}
	q.write(http.StatusCreated, ctXML, atom.MarshalOutcome(out))
}

func (s *Server) handleBatchSend(q *request) {
	test := q.flag("test")
	format := canonicalFormat(q.r.Header.Get(hFormat))
	if format == "" {
		q.fail(http.StatusBadRequest, "The 'ServiceBusNotification-Format' header is required.")
		return
	}
	p := platformFromFormat(format)
	if p == pNone {
		q.fail(http.StatusBadRequest, "The value '"+format+"' of the 'ServiceBusNotification-Format' header is not supported for batch sends.")
		return
	}
	body, err := q.readBody(maxSendBody)
	if err != nil {
		q.failErr(err)
		return
	}
	notif, handles, err := parseBatch(q.r.Header.Get("Content-Type"), body)
	if err != nil {
		q.failErr(err)
		return
	}
	hs, err := passThrough(p, q.r.Header)
	if err != nil {
		q.failErr(err)
		return
	}
	if p == pApple {
		for i := range handles {
			handles[i] = strings.ToUpper(handles[i])
		}
	}
	n := &notification{format: format, platform: p, headers: hs, body: notif}
	nid := newNotificationID(s.now())
	if err := s.direct(q.hub, q.hubName, n, handles, nil, test, nid); err != nil {
		q.failDurability(err)
		return
	}
	s.setMessageLocation(q, nid, true)
	q.empty(http.StatusCreated, ctXML)
}

// onlyObjectMember reports whether body is valid JSON holding an object
// with exactly one member, named key (written without escapes), whose
// value is an object; it returns that value's text.
func onlyObjectMember(body, key string) (string, bool) {
	i := skipJSONSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return "", false
	}
	i = skipJSONSpace(body, i+1)
	if len(body)-i < len(key)+2 || body[i] != '"' || body[i+1:i+1+len(key)] != key || body[i+1+len(key)] != '"' {
		return "", false
	}
	i = skipJSONSpace(body, i+len(key)+2)
	if i >= len(body) || body[i] != ':' {
		return "", false
	}
	start := skipJSONSpace(body, i+1)
	if start >= len(body) || body[start] != '{' {
		return "", false
	}
	end := objectEnd(body, start)
	if end < 0 {
		return "", false
	}
	j := skipJSONSpace(body, end)
	if j >= len(body) || body[j] != '}' || skipJSONSpace(body, j+1) != len(body) {
		return "", false
	}
	// The scan above matches brackets and strings only; the grammar is
	// json.Valid's to check.
	if !json.Valid([]byte(body)) {
		return "", false
	}
	return body[start:end], true
}

// skipJSONSpace returns the index of the first byte at or after i that is
// not JSON white space.
func skipJSONSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// objectEnd returns the index just after the object or array that opens
// at s[i], matching brackets outside strings, or -1 if it does not close.
func objectEnd(s string, i int) int {
	depth := 0
	for ; i < len(s); i++ {
		switch s[i] {
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
		case '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		}
	}
	return -1
}
