package emulator

import (
	"bytes"
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
	"github.com/nhkit/notificationhubs/internal/template"
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

// canonicalNames spells well-known PNS headers as their services do.
var canonicalNames = map[string]string{}

func init() {
	for _, n := range []string{"X-WNS-Type", "X-WNS-Cache-Policy", "X-WNS-Priority", "X-WNS-RequestForStatus",
		"X-WNS-Tag", "X-WNS-TTL", "X-WNS-Group", "X-WNS-Match", "X-WNS-SuppressPopup",
		"X-WindowsPhone-Target", "X-NotificationClass", "X-Baidu-Message-Type"} {
		canonicalNames[strings.ToLower(n)] = n
	}
}

func canonicalName(name string) string {
	if c, ok := canonicalNames[strings.ToLower(name)]; ok {
		return c
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}

// passThrough picks the request headers the PNS would receive.
func passThrough(p platform, h http.Header) ([]kv, error) {
	var out []kv
	for name, vals := range h {
		l := strings.ToLower(name)
		v := vals[0]
		switch p {
		case pApple:
			switch {
			case strings.HasPrefix(l, "apns-"):
				out = append(out, kv{l, v})
			case l == "x-apns-priority":
				out = append(out, kv{"apns-priority", v})
			case l == strings.ToLower(hApnsExpiry):
				t, ok := parseTimeLoose(v)
				if !ok {
					return nil, badRequest("The value of the 'ServiceBusNotification-Apns-Expiry' header is not a valid date.")
				}
				out = append(out, kv{"apns-expiration", strconv.FormatInt(t.Unix(), 10)})
			}
		case pWindows:
			if strings.HasPrefix(l, "x-wns-") {
				out = append(out, kv{canonicalName(name), v})
			}
		case pMpns:
			if strings.HasPrefix(l, "x-windowsphone-") || l == "x-notificationclass" {
				out = append(out, kv{canonicalName(name), v})
			}
		case pBaidu:
			if l == "x-baidu-message-type" {
				out = append(out, kv{canonicalName(name), v})
			}
		}
	}
	if p == pApple {
		for _, x := range out {
			if x.name == "apns-expiration" {
				if _, err := strconv.ParseInt(strings.TrimSpace(x.value), 10, 64); err != nil {
					return nil, badRequest("The value of the 'apns-expiration' header must be an integer.")
				}
			}
		}
	}
	if p == pWindows && !hasKV(out, "X-WNS-Type") {
		return nil, badRequest("The 'X-WNS-Type' header is required for Windows notifications.")
	}
	return out, nil
}

func hasKV(l []kv, name string) bool {
	for _, x := range l {
		if strings.EqualFold(x.name, name) {
			return true
		}
	}
	return false
}

// parseTimeLoose accepts RFC 3339 (with or without zone, zone-less = UTC),
// the Python sample's 'T' quoting and MM/dd/yyyy HH:mm:ss.
func parseTimeLoose(v string) (time.Time, bool) {
	v = strings.TrimSpace(strings.ReplaceAll(v, "'T'", "T"))
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02T15:04Z07:00",
		"01/02/2006 15:04:05", "1/2/2006 15:04:05", "01/02/2006 03:04:05 PM", "1/2/2006 3:04:05 PM", time.RFC1123} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// ---- delivery shaping ----------------------------------------------------

// pnsMessage returns the headers and payload a PNS receives for handle.
func pnsMessage(p platform, handle string, hs []kv, body string) (map[string]string, string) {
	headers := make(map[string]string, len(hs)+2)
	for _, h := range hs {
		headers[h.name] = h.value
	}
	switch p {
	case pApple:
		if _, ok := headers["apns-push-type"]; !ok {
			headers["apns-push-type"] = "alert"
		}
		headers["content-type"] = "application/json"
	case pGcm:
		headers["Content-Type"] = "application/json"
		body = injectJSON(body, "to", handle, true)
	case pFcmV1:
		headers["Content-Type"] = "application/json"
		body = fcmV1Message(body, handle)
	case pWindows:
		if strings.EqualFold(headers["X-WNS-Type"], "wns/raw") {
			headers["Content-Type"] = "application/octet-stream"
		} else {
			headers["Content-Type"] = "text/xml"
		}
	case pMpns:
		headers["Content-Type"] = "text/xml"
	default:
		headers["Content-Type"] = "application/json"
	}
	return headers, body
}

// injectJSON adds "key":value to a JSON object text, first or last.
func injectJSON(obj, key, value string, first bool) string {
	return wrapInjectJSON("", obj, key, value, first, "")
}

// wrapInjectJSON is prefix + injectJSON(obj, key, value, first) + suffix,
// built in one buffer.
func wrapInjectJSON(prefix, obj, key, value string, first bool, suffix string) string {
	t := strings.TrimSpace(obj)
	if !strings.HasPrefix(t, "{") || !strings.HasSuffix(t, "}") {
		return prefix + t + suffix
	}
	inner := strings.TrimSpace(t[1 : len(t)-1])
	var b bytes.Buffer
	b.Grow(len(prefix) + len(inner) + len(key) + len(value) + len(suffix) + 8)
	b.WriteString(prefix)
	b.WriteByte('{')
	if inner != "" && !first {
		b.WriteString(inner)
		b.WriteByte(',')
	}
	writeJSONString(&b, key)
	b.WriteByte(':')
	writeJSONString(&b, value)
	if inner != "" && first {
		b.WriteByte(',')
		b.WriteString(inner)
	}
	b.WriteByte('}')
	b.WriteString(suffix)
	return b.String()
}

// fcmV1Message wraps an FCM v1 body as {"message":{…,"token":handle}}.
func fcmV1Message(body, handle string) string {
	// The usual body, {"message":{…}} and nothing else, is recognised by
	// a scan instead of decoding it; anything else takes the general path
	// below, which gives the same result for these bodies
	// (FuzzFcmV1Message checks it against fcmV1MessageDecoded).
	if msg, ok := onlyObjectMember(body, "message"); ok {
		return wrapInjectJSON(`{"message":`, msg, "token", handle, false, `}`)
	}
	return fcmV1MessageDecoded(body, handle)
}

// fcmV1MessageDecoded is fcmV1Message by decoding the body.
func fcmV1MessageDecoded(body, handle string) string {
	keys, m, err := orderedObject(json.RawMessage(body))
	if err == nil {
		if msg, ok := m["message"]; ok && len(keys) == 1 {
			return `{"message":` + injectJSON(string(msg), "token", handle, false) + `}`
		}
	}
	return `{"message":` + injectJSON(body, "token", handle, false) + `}`
}

// propsFor returns the template properties for a target: the
// notification's, with the target's push variables as defaults.
func propsFor(n *notification, pushVars map[string]string) template.Props {
	p := make(template.Props, len(n.props)+len(pushVars))
	for k, v := range pushVars {
		p[k] = v
	}
	for _, x := range n.props {
		for k := range p {
			if strings.EqualFold(k, x.name) {
				delete(p, k)
			}
		}
		p[x.name] = x.value
	}
	return p
}

// renderTemplate expands a template target for n.
func renderTemplate(t *target, n *notification) (map[string]string, string, error) {
	var (
		body, expiry string
		hs           []atom.Header
		pushVars     map[string]string
	)
	if t.reg != nil {
		d := &t.reg.desc
		body, expiry, pushVars = d.BodyTemplate, d.Expiry, d.PushVariables
		switch t.platform {
		case pApple:
			hs = d.ApnsHeaders
		case pWindows:
			hs = d.WnsHeaders
		case pMpns:
			hs = d.MpnsHeaders
		}
	} else {
		tp := &t.inst.templates[t.tmplIdx]
		body, expiry, pushVars = tp.body, tp.expiry, t.inst.pushVariables
		hs = tp.atomHeaders()
	}
	props := propsFor(n, pushVars)
	payload, err := template.Render(body, templateKind(t.platform, hs), props)
	if err != nil {
		return nil, "", err
	}
	var out []kv
	for _, h := range hs {
		v := h.Value
		if template.IsExpression(v) {
			if v, _, err = template.Eval(v, props); err != nil {
				return nil, "", err
			}
		}
		name := canonicalName(h.Name)
		if t.platform == pApple {
			name = strings.ToLower(h.Name)
		}
		out = append(out, kv{name, v})
	}
	if t.platform == pApple && expiry != "" {
		v := expiry
		if template.IsExpression(v) {
			if v, _, err = template.Eval(v, props); err != nil {
				return nil, "", err
			}
		}
		if ts, ok := parseTimeLoose(v); ok {
			out = append(out, kv{"apns-expiration", strconv.FormatInt(ts.Unix(), 10)})
		} else if _, err := strconv.ParseInt(v, 10, 64); err == nil {
			out = append(out, kv{"apns-expiration", v})
		}
	}
	headers, payload := pnsMessage(t.platform, t.handle, out, payload)
	return headers, payload, nil
}

// ---- fan-out ----------------------------------------------------------

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
		if st := handleStateOf(marks, t.handle); st != HandleOK {
			fb := fail(pnsOutcome(t.platform, st))
			if st != HandleThrottled {
				fr.feedback = append(fr.feedback, fb)
			}
			if st == HandleExpired {
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

// targetPlatform names p in telemetry's TargetPlatforms (rest-api.md
// §8.1): a template send reaches the template variant of each platform.
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
		} else if st := handleStateOf(marks, hd); st != HandleOK {
			d.Outcome = pnsOutcome(n.platform, st)
			rec.Failed++
			fb := atom.PnsFeedback{FeedbackTime: now.UTC().Format(time.RFC3339Nano), NotificationSystemError: d.Outcome,
				Platform: n.platform.String(), PnsHandle: hd, NotificationID: nid}
			fr.failures = append(fr.failures, fb)
			if st != HandleThrottled {
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
// (rest-api.md §3.1: "only available for Standard tier"); on Free and
// Basic clients get no notification id, and telemetry answers 403 anyway.
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
