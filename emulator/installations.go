package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/nhkit/notificationhubs/internal/atom"
)

// installation is a stored installation (docs/protocol.md, "Installations").
type installation struct {
	id                 string
	userID             string
	platform           platform
	pushChannel        string // browser: the endpoint
	browser            *browserChannel
	pushChannelExpired bool
	tags               []string
	pushVariables      map[string]string
	templates          []instTemplate
	secondaryTiles     json.RawMessage
	updated            time.Time
	targets            []uint32 // [0] native, then one per template

	// delayed is set under Options.ReadDelay: until its visibleAt, GET
	// answers what readers saw before the last write.
	delayed *delayedRead
}

type delayedRead struct {
	visibleAt   time.Time
	prev        []byte
	prevExisted bool // false: GET answers 404
}

// browserChannel is a browser installation's Web Push subscription keys.
// asString records that the pushChannel was written as a string holding
// the subscription's JSON (the .NET and Java SDKs' form) rather than as
// an object (the JS SDK's): it is answered in the form it was written
// with, since each SDK reads back only its own.
type browserChannel struct {
	p256dh, auth string
	asString     bool
}

type kv struct{ name, value string }

type instTemplate struct {
	name    string
	body    string
	headers []kv
	expiry  string
	tags    []string
}

func (t *instTemplate) atomHeaders() []atom.Header {
	hs := make([]atom.Header, len(t.headers))
	for i, h := range t.headers {
		hs[i] = atom.Header{Name: h.name, Value: h.value}
	}
	return hs
}

// orderedObject decodes a JSON object keeping its key order.
func orderedObject(raw json.RawMessage) ([]string, map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, nil, fmt.Errorf("not a JSON object")
	}
	var keys []string
	m := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		if _, dup := m[k]; !dup {
			keys = append(keys, k)
		}
		m[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, err
	}
	return keys, m, nil
}

func isNull(raw json.RawMessage) bool {
	return len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

// jsonText returns raw as a string: the string itself for a JSON string,
// else the raw text.
func jsonText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	var s string
	if len(raw) > 0 && raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err == nil {
			return s, true
		}
	}
	return string(raw), false
}

// jsonValue returns the JSON a value means: for a JSON string whose text
// is itself a JSON object or array, that text; else raw.
func jsonValue(raw json.RawMessage) json.RawMessage {
	if s, isStr := jsonText(raw); isStr {
		t := strings.TrimSpace(s)
		if (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && json.Valid([]byte(t)) {
			return json.RawMessage(t)
		}
	}
	return raw
}

func parseStringList(raw json.RawMessage) ([]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	raw = jsonValue(raw)
	var l []string
	if err := json.Unmarshal(raw, &l); err == nil {
		return l, nil
	}
	if s, ok := jsonText(raw); ok {
		return []string{s}, nil
	}
	return nil, fmt.Errorf("expected an array of strings")
}

func parseStringMap(raw json.RawMessage) ([]kv, error) {
	if isNull(raw) {
		return nil, nil
	}
	keys, m, err := orderedObject(jsonValue(raw))
	if err != nil {
		return nil, fmt.Errorf("expected an object of strings")
	}
	out := make([]kv, 0, len(keys))
	for _, k := range keys {
		if isNull(m[k]) {
			continue
		}
		v, _ := jsonText(m[k])
		out = append(out, kv{k, v})
	}
	return out, nil
}

func parseTemplate(name string, raw json.RawMessage) (instTemplate, error) {
	t := instTemplate{name: name}
	_, m, err := orderedObject(jsonValue(raw))
	if err != nil {
		return t, badRequest("The template '" + name + "' is not a JSON object.")
	}
	for k, v := range m {
		if isNull(v) {
			continue
		}
		switch strings.ToLower(k) {
		case "body":
			t.body, _ = jsonText(v)
		case "expiry":
			t.expiry, _ = jsonText(v)
		case "headers":
			if t.headers, err = parseStringMap(v); err != nil {
				return t, badRequest("The headers of template '" + name + "' are invalid: " + err.Error())
			}
		case "tags":
			if t.tags, err = parseStringList(v); err != nil {
				return t, badRequest("The tags of template '" + name + "' are invalid: " + err.Error())
			}
		}
	}
	return t, nil
}

func parseTemplates(raw json.RawMessage) ([]instTemplate, error) {
	if isNull(raw) {
		return nil, nil
	}
	keys, m, err := orderedObject(jsonValue(raw))
	if err != nil {
		return nil, badRequest("The templates of the installation are not a JSON object.")
	}
	var out []instTemplate
	for _, k := range keys {
		if isNull(m[k]) {
			continue
		}
		t, err := parseTemplate(k, m[k])
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// setPushChannel sets the channel from a JSON value (string, or for
// browser an object or a string holding one). A PATCH (keepForm) keeps
// the form a browser channel was first written in: the .NET and Java
// SDKs patch with strings whatever the installation's form.
func (in *installation) setPushChannel(raw json.RawMessage, keepForm bool) error {
	prev := in.browser
	in.browser = nil
	in.pushChannelExpired = false
	if in.platform == pBrowser {
		var bc struct{ Endpoint, P256DH, Auth string }
		if err := json.Unmarshal(jsonValue(raw), &bc); err == nil {
			_, asString := jsonText(raw)
			if keepForm && prev != nil {
				asString = prev.asString
			}
			in.pushChannel = bc.Endpoint
			in.browser = &browserChannel{p256dh: bc.P256DH, auth: bc.Auth, asString: asString}
			return nil
		}
	}
	s, ok := jsonText(raw)
	if !ok {
		return badRequest("The pushChannel of the installation must be a string.")
	}
	in.pushChannel = s
	return nil
}

// parseInstallation decodes an installation body.
func parseInstallation(body []byte) (*installation, error) {
	keys, m, err := orderedObject(body)
	if err != nil {
		return nil, badRequest("The installation is not valid JSON: " + err.Error())
	}
	in := &installation{}
	fields := map[string]json.RawMessage{}
	for _, k := range keys {
		fields[strings.ToLower(k)] = m[k]
	}
	str := func(k string) string {
		if v, ok := fields[k]; ok && !isNull(v) {
			s, _ := jsonText(v)
			return s
		}
		return ""
	}
	in.id = str("installationid")
	in.userID = str("userid")
	if p := str("platform"); p != "" {
		in.platform = platformFromInstallation(p)
		if in.platform == pNone {
			return nil, badRequest("The platform '" + p + "' of the installation is not supported.")
		}
	}
	if v, ok := fields["pushchannel"]; ok && !isNull(v) {
		if err := in.setPushChannel(v, false); err != nil {
			return nil, err
		}
	}
	if in.tags, err = parseStringList(fields["tags"]); err != nil {
		return nil, badRequest("The tags of the installation are invalid: " + err.Error())
	}
	pv, err := parseStringMap(fields["pushvariables"])
	if err != nil {
		return nil, badRequest("The pushVariables of the installation are invalid: " + err.Error())
	}
	if len(pv) > 0 {
		in.pushVariables = map[string]string{}
		for _, p := range pv {
			in.pushVariables[p.name] = p.value
		}
	}
	if in.templates, err = parseTemplates(fields["templates"]); err != nil {
		return nil, err
	}
	if v := fields["secondarytiles"]; !isNull(v) {
		in.secondaryTiles = append(json.RawMessage(nil), bytes.TrimSpace(v)...)
	}
	return in, nil
}

// validate checks and normalises a whole installation.
func (in *installation) validate() error {
	if strings.TrimSpace(in.id) == "" {
		return badRequest("The installationId of the installation is required.")
	}
	if in.platform == pNone {
		return badRequest("The platform of the installation is required.")
	}
	if in.pushChannel == "" {
		return badRequest("The pushChannel of the installation is required.")
	}
	if in.platform == pBrowser && (in.browser == nil || in.browser.p256dh == "" || in.browser.auth == "") {
		return badRequest("The pushChannel of a browser installation needs endpoint, p256dh and auth.")
	}
	if in.platform != pBrowser && in.platform != pBaidu {
		h, err := validateHandle(in.platform, in.pushChannel)
		if err != nil {
			return err
		}
		in.pushChannel = h
	}
	var err error
	if in.tags, err = validateTags(in.tags); err != nil {
		return err
	}
	for i := range in.templates {
		t := &in.templates[i]
		// The service adds the template name to the template's tags; a
		// client that echoes a GET back sends it, spaces and all.
		t.tags = slices.DeleteFunc(t.tags, func(tag string) bool { return tag == t.name })
		if t.tags, err = validateTags(t.tags); err != nil {
			return err
		}
		if err := validateTemplate(in.platform, t.body, t.name, t.atomHeaders(), false); err != nil {
			return err
		}
	}
	return nil
}

// project stores the installation's targets in h, reusing the
// registration ids of old (the installation it replaces), if any.
func (h *hub) project(in, old *installation) {
	oldIDs := map[string]string{}
	if old != nil {
		for i, id := range old.targets {
			t := h.targets[id]
			key := ""
			if i > 0 {
				key = "t:" + old.templates[i-1].name
			}
			oldIDs[key] = t.regID
		}
	}
	h.projectIDs(in, old, oldIDs)
}

// projectIDs stores the installation's targets in h, removing old's and
// taking registration ids from oldIDs (key "" for the native target,
// "t:"+name for templates) where given.
func (h *hub) projectIDs(in, old *installation, oldIDs map[string]string) {
	if old != nil {
		for _, id := range old.targets {
			h.remove(h.targets[id])
		}
	}
	regID := func(key string) string {
		if id, ok := oldIDs[key]; ok {
			return id
		}
		return h.freshRegistrationID()
	}
	in.targets = make([]uint32, 0, 1+len(in.templates))
	nt := &target{platform: in.platform, regID: regID(""), handle: in.pushChannel, inst: in}
	h.add(nt)
	in.targets = append(in.targets, nt.id)
	for i := range in.templates {
		tt := &target{platform: in.platform, template: true, regID: regID("t:" + in.templates[i].name), handle: in.pushChannel, inst: in, tmplIdx: i}
		h.add(tt)
		in.targets = append(in.targets, tt.id)
	}
	h.installations[in.id] = in
}

// unproject removes an installation and its targets.
func (h *hub) unproject(in *installation) {
	for _, id := range in.targets {
		h.remove(h.targets[id])
	}
	delete(h.installations, in.id)
}

func (q *request) installationURL(id string) string {
	return q.baseURL() + "/installations/" + url.PathEscape(id) + q.versionQuery()
}

func (s *Server) handlePutInstallation(q *request) {
	id := q.param("id")
	body, err := q.readBody(1 << 20)
	if err != nil {
		q.failErr(err)
		return
	}
	in, err := parseInstallation(body)
	if err != nil {
		q.failErr(err)
		return
	}
	if in.id == "" {
		in.id = id
	}
	if in.id != id {
		q.fail(http.StatusBadRequest, "The installationId in the body does not match the one in the URL.")
		return
	}
	if err := in.validate(); err != nil {
		q.failErr(err)
		return
	}
	in.updated = s.now()
	s.mu.Lock()
	old := q.hub.installations[id]
	if old == nil {
		if err := s.checkDeviceCap(q.hub); err != nil {
			s.mu.Unlock()
			q.failErr(err)
			return
		}
	}
	s.delayRead(q.hub, in, old)
	q.hub.project(in, old)
	b := s.persist(s.opPutInst(q.hub, in))
	s.mu.Unlock()
	if err := b.wait(); err != nil {
		q.failDurability(err)
		return
	}
	q.w.Header().Set("Content-Location", q.installationURL(id))
	q.empty(http.StatusOK, ctXML)
}

// delayRead sets up Options.ReadDelay for in, which replaces old (nil if
// new) in h: readers keep seeing what they saw before the write. The
// caller holds s.mu.
func (s *Server) delayRead(h *hub, in, old *installation) {
	if s.opts.ReadDelay <= 0 {
		return
	}
	now := s.now()
	d := &delayedRead{visibleAt: now.Add(s.opts.ReadDelay)}
	d.prev, d.prevExisted = seenBefore(h, in.id, old, now)
	delete(h.deleted, in.id)
	in.delayed = d
}

// seenBefore returns what a GET of installation id in h answers at now,
// before a write takes effect: old (nil if absent) unless an earlier
// write or delete is still within Options.ReadDelay. The caller holds s.mu.
func seenBefore(h *hub, id string, old *installation, now time.Time) ([]byte, bool) {
	switch {
	case old == nil:
		if d := h.deleted[id]; d != nil && now.Before(d.visibleAt) {
			return d.prev, d.prevExisted
		}
		return nil, false
	case old.delayed != nil && now.Before(old.delayed.visibleAt):
		return old.delayed.prev, old.delayed.prevExisted
	}
	return old.marshal(), true
}

// delayDelete sets up Options.ReadDelay for the delete of in from h: the service
// queues deletes like writes (docs/protocol.md, "Installation operations"), so GET
// answers the deleted installation until the delay has passed. Expired entries are
// swept here. The caller holds s.mu.
func (s *Server) delayDelete(h *hub, in *installation) {
	if s.opts.ReadDelay <= 0 {
		return
	}
	now := s.now()
	for id, d := range h.deleted {
		if !now.Before(d.visibleAt) {
			delete(h.deleted, id)
		}
	}
	d := &delayedRead{visibleAt: now.Add(s.opts.ReadDelay)}
	d.prev, d.prevExisted = seenBefore(h, in.id, in, now)
	if h.deleted == nil {
		h.deleted = map[string]*delayedRead{}
	}
	h.deleted[in.id] = d
}

func (s *Server) handleGetInstallation(q *request) {
	s.mu.RLock()
	in := q.hub.installations[q.param("id")]
	var body []byte
	if in != nil {
		body = in.marshal()
	}
	d := q.hub.deleted[q.param("id")]
	if in != nil {
		d = in.delayed
	}
	found := in != nil
	if d != nil && s.now().Before(d.visibleAt) {
		body, found = d.prev, d.prevExisted
	}
	s.mu.RUnlock()
	if !found {
		q.fail(http.StatusNotFound, "Installation not found.")
		return
	}
	q.write(http.StatusOK, ctXML, body)
}

func (s *Server) handleDeleteInstallation(q *request) {
	s.mu.Lock()
	var b *batch
	if in := q.hub.installations[q.param("id")]; in != nil {
		s.delayDelete(q.hub, in)
		q.hub.unproject(in)
		b = s.persist(s.opDelInst(q.hub, in.id))
	}
	s.mu.Unlock()
	if err := b.wait(); err != nil {
		q.failDurability(err)
		return
	}
	q.empty(http.StatusNoContent, ctXML)
}

func (s *Server) handlePatchInstallation(q *request) {
	id := q.param("id")
	body, err := q.readBody(1 << 20)
	if err != nil {
		q.failErr(err)
		return
	}
	ops, err := parsePatch(body)
	if err != nil {
		q.failErr(err)
		return
	}
	s.mu.Lock()
	old := q.hub.installations[id]
	if old == nil {
		s.mu.Unlock()
		q.fail(http.StatusNotFound, "Installation not found.")
		return
	}
	in := old.clone()
	for _, op := range ops {
		if err := in.apply(op); err != nil {
			s.mu.Unlock()
			q.failErr(err)
			return
		}
	}
	if err := in.validate(); err != nil {
		s.mu.Unlock()
		q.failErr(err)
		return
	}
	in.updated = s.now()
	s.delayRead(q.hub, in, old)
	q.hub.project(in, old)
	b := s.persist(s.opPutInst(q.hub, in))
	s.mu.Unlock()
	if err := b.wait(); err != nil {
		q.failDurability(err)
		return
	}
	q.empty(http.StatusOK, ctXML)
}

func (in *installation) clone() *installation {
	c := *in
	c.tags = append([]string(nil), in.tags...)
	if in.pushVariables != nil {
		c.pushVariables = make(map[string]string, len(in.pushVariables))
		for k, v := range in.pushVariables {
			c.pushVariables[k] = v
		}
	}
	c.templates = make([]instTemplate, len(in.templates))
	for i, t := range in.templates {
		t.headers = append([]kv(nil), t.headers...)
		t.tags = append([]string(nil), t.tags...)
		c.templates[i] = t
	}
	if in.browser != nil {
		b := *in.browser
		c.browser = &b
	}
	c.targets = append([]uint32(nil), in.targets...)
	return &c
}
