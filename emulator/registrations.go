package emulator

import (
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nhkit/notificationhubs/internal/atom"
	"github.com/nhkit/notificationhubs/internal/tagexpr"
	"github.com/nhkit/notificationhubs/internal/template"
)

// Expiration times as the service writes them (docs/protocol.md, "Registrations").
const (
	expiryWrite        = "9999-12-31T23:59:59.999"
	expiryRead         = "9999-12-31T23:59:59.999Z"
	expiryInstallation = "9999-12-31T23:59:59.9999999Z"
)

const (
	maxTags         = 60
	maxTemplateName = 200
	maxPageSize     = 100
)

func invalidTagMsg(tag string) string {
	return "An invalid tag(s) '" + tag + "' was supplied. Valid tag characters are alphanumeric, _, @, -, ., : and #."
}

// validateTags checks and normalises a tag list (trimmed, no empties, no
// duplicates).
func validateTags(tags []string) ([]string, error) {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if err := tagexpr.ValidateTag(t); err != nil {
			return nil, badRequest(invalidTagMsg(t))
		}
		out = appendUnique(out, t)
	}
	if len(out) > maxTags {
		return nil, badRequest("The number of tags exceeds the maximum of " + strconv.Itoa(maxTags) + ".")
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// templateKind returns the body kind of a template for platform p with
// the given headers.
func templateKind(p platform, headers []atom.Header) template.Kind {
	switch p {
	case pWindows:
		for _, h := range headers {
			if strings.EqualFold(h.Name, "X-WNS-Type") && strings.EqualFold(strings.TrimSpace(h.Value), "wns/raw") {
				return template.Raw
			}
		}
		return template.XML
	case pMpns:
		return template.XML
	}
	return template.JSON
}

func headerValue(hs []atom.Header, name string) (string, bool) {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// validateHandle checks and normalises a platform handle.
func validateHandle(p platform, handle string) (string, error) {
	handle = strings.TrimSpace(handle)
	if handle == "" {
		return "", badRequest("The registration is missing its PNS handle.")
	}
	switch p {
	case pApple:
		if len(handle)%2 != 0 {
			return "", badRequest("The device token is invalid: it must be hexadecimal with an even number of digits.")
		}
		if _, err := hex.DecodeString(handle); err != nil {
			return "", badRequest("The device token is invalid: it must be hexadecimal with an even number of digits.")
		}
		return strings.ToUpper(handle), nil
	case pWindows, pMpns:
		u, err := url.Parse(handle)
		if err != nil || !u.IsAbs() || u.Host == "" {
			return "", badRequest("The channel URI '" + handle + "' is not a valid absolute URI.")
		}
	}
	return handle, nil
}

// validateTemplate checks a template body, name and headers.
// checkBody is false for installations, whose PUT the service queues and
// accepts whatever the body (a recording shows a JSON body on a WNS
// template); a bad body then fails at send time.
func validateTemplate(p platform, body, name string, headers []atom.Header, checkBody bool) error {
	if strings.TrimSpace(body) == "" {
		return badRequest("The template body is required.")
	}
	if len(name) > maxTemplateName {
		return badRequest("The template name exceeds the maximum length of 200 characters.")
	}
	switch p {
	case pWindows:
		if _, ok := headerValue(headers, "X-WNS-Type"); !ok {
			return badRequest("The X-WNS-Type header is required for Windows templates.")
		}
	case pApple:
		for _, h := range headers {
			if !strings.HasPrefix(strings.ToLower(h.Name), "apns-") {
				return badRequest("The APNs header '" + h.Name + "' is not supported: APNs headers must start with 'apns-'.")
			}
		}
	}
	if !checkBody {
		return nil
	}
	if err := template.Validate(body, templateKind(p, headers)); err != nil {
		return badRequest("The template body is invalid: " + err.Error())
	}
	for _, h := range headers {
		if template.IsExpression(h.Value) {
			if err := template.ValidateExpression(h.Value); err != nil {
				return badRequest("The template header '" + h.Name + "' is invalid: " + err.Error())
			}
		}
	}
	return nil
}

// handleOf returns the PNS handle of a description.
func handleOf(d *atom.Registration) string {
	switch platformFromAtom(d.Platform) {
	case pApple:
		return d.DeviceToken
	case pGcm:
		return d.GcmRegistrationID
	case pFcmV1:
		return d.FcmV1RegistrationID
	case pWindows, pMpns:
		return d.ChannelURI
	case pAdm:
		return d.AdmRegistrationID
	case pBaidu:
		return d.BaiduUserID + "-" + d.BaiduChannelID
	case pBrowser:
		return d.Endpoint
	case pXiaomi:
		return d.XiaomiRegistrationID
	}
	return ""
}

// readRegistration parses and validates a registration entry body.
func (q *request) readRegistration() (atom.Registration, platform, error) {
	body, err := q.readBody(1 << 20)
	if err != nil {
		return atom.Registration{}, pNone, err
	}
	e, err := atom.ParseEntry(body)
	if err != nil {
		return atom.Registration{}, pNone, badRequest("The request body is not a valid Atom entry: " + err.Error())
	}
	d, err := atom.UnmarshalRegistration(e.Content)
	if err != nil {
		return atom.Registration{}, pNone, badRequest("The registration description is invalid: " + err.Error())
	}
	return validateRegistration(d)
}

// validateRegistration checks and normalises a registration description.
func validateRegistration(d atom.Registration) (atom.Registration, platform, error) {
	var err error
	p := platformFromAtom(d.Platform)
	if p == pNone {
		return atom.Registration{}, pNone, badRequest("The registration description type is not supported.")
	}
	d.Platform = platformNames[p].atom
	d.Tags, err = validateTags(d.Tags)
	if err != nil {
		return atom.Registration{}, pNone, err
	}
	switch p {
	case pApple:
		d.DeviceToken, err = validateHandle(p, d.DeviceToken)
	case pGcm:
		d.GcmRegistrationID, err = validateHandle(p, d.GcmRegistrationID)
	case pFcmV1:
		d.FcmV1RegistrationID, err = validateHandle(p, d.FcmV1RegistrationID)
	case pWindows, pMpns:
		d.ChannelURI, err = validateHandle(p, d.ChannelURI)
	case pAdm:
		d.AdmRegistrationID, err = validateHandle(p, d.AdmRegistrationID)
	case pXiaomi:
		d.XiaomiRegistrationID, err = validateHandle(p, d.XiaomiRegistrationID)
	case pBaidu:
		if strings.TrimSpace(d.BaiduUserID) == "" || strings.TrimSpace(d.BaiduChannelID) == "" {
			err = badRequest("The Baidu registration requires BaiduUserId and BaiduChannelId.")
		}
	case pBrowser:
		if d.Endpoint == "" || d.P256DH == "" || d.Auth == "" {
			err = badRequest("The browser registration requires Endpoint, P256DH and Auth.")
		}
	}
	if err != nil {
		return atom.Registration{}, pNone, err
	}
	if d.Template {
		hs := d.ApnsHeaders
		switch p {
		case pWindows:
			hs = d.WnsHeaders
		case pMpns:
			hs = d.MpnsHeaders
		}
		if err := validateTemplate(p, d.BodyTemplate, d.TemplateName, hs, true); err != nil {
			return atom.Registration{}, pNone, err
		}
	}
	return d, p, nil
}

// regTarget builds a registration-backed target.
func regTarget(id string, p platform, d atom.Registration, etag int64, created, updated time.Time) *target {
	d.RegistrationID = id
	return &target{
		platform: p,
		template: d.Template,
		regID:    id,
		handle:   handleOf(&d),
		reg:      &regRecord{desc: d, etag: etag, created: created, updated: updated},
	}
}

// description returns the registration view of a target with the given
// ExpirationTime text for registration-backed targets.
func (t *target) description(expiry string) (atom.Registration, int64, time.Time, time.Time) {
	if t.reg != nil {
		d := t.reg.desc
		d.ETag = strconv.FormatInt(t.reg.etag, 10)
		d.ExpirationTime = expiry
		d.RegistrationID = t.regID
		return d, t.reg.etag, t.reg.created, t.reg.updated
	}
	in := t.inst
	d := atom.Registration{
		Platform:       platformNames[t.platform].atom,
		Template:       t.template,
		ETag:           "1",
		ExpirationTime: expiryInstallation,
		RegistrationID: t.regID,
		Tags:           t.tags(),
		PushVariables:  in.pushVariables,
	}
	switch t.platform {
	case pApple:
		d.DeviceToken = in.pushChannel
	case pGcm:
		d.GcmRegistrationID = in.pushChannel
	case pFcmV1:
		d.FcmV1RegistrationID = in.pushChannel
	case pWindows, pMpns:
		d.ChannelURI = in.pushChannel
	case pAdm:
		d.AdmRegistrationID = in.pushChannel
	case pXiaomi:
		d.XiaomiRegistrationID = in.pushChannel
	case pBaidu:
		d.BaiduUserID, d.BaiduChannelID, _ = strings.Cut(in.pushChannel, "-")
	case pBrowser:
		d.Endpoint = in.pushChannel
		if in.browser != nil {
			d.P256DH, d.Auth = in.browser.p256dh, in.browser.auth
		}
	}
	if t.template {
		tp := &in.templates[t.tmplIdx]
		d.BodyTemplate = tp.body
		d.TemplateName = tp.name
		if t.platform == pApple {
			d.Expiry = tp.expiry
		}
		var hs []atom.Header
		for _, h := range tp.headers {
			hs = append(hs, atom.Header{Name: h.name, Value: h.value})
		}
		switch t.platform {
		case pApple:
			d.ApnsHeaders = hs
		case pWindows:
			d.WnsHeaders = hs
		case pMpns:
			d.MpnsHeaders = hs
		}
	}
	return d, 1, in.updated, in.updated
}

func atomTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// entryFor builds the Atom entry of a target. pathPrefix is
// "/registrations/" or "/tags/{tag}/registrations/".
func (q *request) entryFor(t *target, expiry, pathPrefix string) (atom.Entry, int64, error) {
	d, etag, created, updated := t.description(expiry)
	content, err := atom.MarshalRegistration(d)
	if err != nil {
		return atom.Entry{}, 0, err
	}
	u := q.baseURL() + pathPrefix + url.PathEscape(t.regID)
	if q.rawQuery != "" {
		u += "?" + q.rawQuery
	}
	return atom.Entry{
		ID:        u,
		Title:     t.regID,
		Published: atomTime(created),
		Updated:   atomTime(updated),
		SelfLink:  u,
		ETag:      strconv.FormatInt(etag, 10),
		Content:   content,
	}, etag, nil
}

// writeEntry answers one registration.
func (q *request) writeEntry(t *target, expiry string, contentLocation bool) {
	e, etag, err := q.entryFor(t, expiry, "/registrations/")
	if err != nil {
		q.fail(http.StatusInternalServerError, "The registration could not be encoded.")
		return
	}
	q.w.Header().Set("ETag", `W/"`+strconv.FormatInt(etag, 10)+`"`)
	if contentLocation {
		q.w.Header().Set("Content-Location", q.baseURL()+"/registrations/"+url.PathEscape(t.regID)+q.versionQuery())
	}
	q.write(http.StatusOK, ctEntry, atom.MarshalEntry(e))
}

func (s *Server) handleCreateRegistrationID(q *request) {
	s.mu.Lock()
	id := q.hub.freshRegistrationID()
	q.hub.reservedIDs[id] = true
	s.mu.Unlock()
	q.w.Header().Set("Location", q.baseURL()+"/registrationids/"+id+q.versionQuery())
	q.empty(http.StatusCreated, "")
}

func (s *Server) handleCreateRegistration(q *request) {
	d, p, err := q.readRegistration()
	if err != nil {
		q.failErr(err)
		return
	}
	now := s.now()
	s.mu.Lock()
	if err := s.checkDeviceCap(q.hub); err != nil {
		s.mu.Unlock()
		q.failErr(err)
		return
	}
	t := regTarget(q.hub.freshRegistrationID(), p, d, 1, now, now)
	q.hub.add(t)
	b := s.persist(s.opPutReg(q.hub, t))
	s.mu.Unlock()
	if err := b.wait(); err != nil {
		q.failDurability(err)
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	q.writeEntry(t, expiryWrite, true)
}

func (s *Server) handleGetRegistration(q *request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := q.hub.target(q.param("id"))
	if t == nil {
		q.fail(http.StatusNotFound, "")
		return
	}
	q.writeEntry(t, expiryRead, false)
}

// ifMatches reports whether an If-Match header matches a registration at
// ETag cur. Clients write the header in every form: "*" (JS, Java,
// .NET without an ETag), `"*"` (.NET's DeleteRegistrationAsync(id), which
// quotes whatever it is given), `"n"` (JS, .NET), `W/"n"` (Java) and a
// bare n; a comma-separated list matches if any member does (RFC 9110
// section 13.1.1, with the weak comparison the service's W/ ETags need).
// An empty header matches.
func ifMatches(header string, cur int64) bool {
	if strings.TrimSpace(header) == "" {
		return true
	}
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimSpace(v)
		v = strings.TrimPrefix(strings.TrimPrefix(v, "W/"), "w/")
		v = strings.TrimSpace(strings.Trim(v, `"`))
		if v == "*" {
			return true
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n == cur {
			return true
		}
	}
	return false
}

// checkIfMatch reports the failure status (0 = ok) for t and header v.
func checkIfMatch(t *target, v string) int {
	var cur int64 = 1
	if t.reg != nil {
		cur = t.reg.etag
	}
	if !ifMatches(v, cur) {
		return http.StatusPreconditionFailed
	}
	return 0
}

func (s *Server) handlePutRegistration(q *request) {
	id := q.param("id")
	d, p, err := q.readRegistration()
	if err != nil {
		q.failErr(err)
		return
	}
	ifMatch := q.r.Header.Get("If-Match")
	now := s.now()
	s.mu.Lock()
	h := q.hub
	old := h.target(id)
	var t *target
	switch {
	case old == nil && ifMatch != "":
		s.mu.Unlock()
		q.fail(http.StatusNotFound, "")
		return
	case old != nil && old.reg == nil:
		s.mu.Unlock()
		q.fail(http.StatusBadRequest, "The registration belongs to an installation; change the installation instead.")
		return
	case old != nil:
		if st := checkIfMatch(old, ifMatch); st != 0 {
			s.mu.Unlock()
			q.fail(st, "The ETag of the registration does not match If-Match.")
			return
		}
		t = regTarget(id, p, d, old.reg.etag+1, old.reg.created, now)
		h.remove(old)
		h.add(t)
	default:
		if err := s.checkDeviceCap(h); err != nil {
			s.mu.Unlock()
			q.failErr(err)
			return
		}
		delete(h.reservedIDs, id)
		t = regTarget(id, p, d, 1, now, now)
		h.add(t)
	}
	b := s.persist(s.opPutReg(h, t))
	s.mu.Unlock()
	if err := b.wait(); err != nil {
		q.failDurability(err)
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	q.writeEntry(t, expiryWrite, false)
}

func (s *Server) handleDeleteRegistration(q *request) {
	s.mu.Lock()
	t := q.hub.target(q.param("id"))
	if t == nil {
		s.mu.Unlock()
		q.fail(http.StatusNotFound, "")
		return
	}
	if t.reg == nil {
		s.mu.Unlock()
		q.fail(http.StatusBadRequest, "The registration belongs to an installation; delete the installation instead.")
		return
	}
	if st := checkIfMatch(t, q.r.Header.Get("If-Match")); st != 0 {
		s.mu.Unlock()
		q.fail(st, "The ETag of the registration does not match If-Match.")
		return
	}
	q.hub.remove(t)
	b := s.persist(s.opDelReg(q.hub, t.regID))
	s.mu.Unlock()
	if err := b.wait(); err != nil {
		q.failDurability(err)
		return
	}
	q.empty(http.StatusOK, "")
}

func (s *Server) handleListRegistrations(q *request) {
	f, err := parseFilter(q.query["$filter"])
	if err != nil {
		q.failErr(err)
		return
	}
	if f == nil && q.rights&rightManage == 0 {
		if q.oldAPI() {
			q.fail(http.StatusUnauthorized, "Manage claim is required for this operation.")
		} else {
			q.empty(http.StatusForbidden, "")
		}
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	h := q.hub
	q.writeFeed("/registrations/", func(yield func(*target) bool) {
		for _, t := range h.targets {
			if t != nil && (f == nil || f.match(t)) {
				if !yield(t) {
					return
				}
			}
		}
	})
}

func (s *Server) handleListByTag(q *request) {
	tag := q.param("tag")
	s.mu.RLock()
	defer s.mu.RUnlock()
	h := q.hub
	ids := h.postingFor(tag)
	q.writeFeed("/tags/"+url.PathEscape(tag)+"/registrations/", func(yield func(*target) bool) {
		for _, id := range ids {
			if t := h.targets[id]; t != nil && !yield(t) {
				return
			}
		}
	})
}

// writeFeed pages through the targets of seq (in id order) with $top and
// continuationtoken (the decimal id to resume at).
func (q *request) writeFeed(pathPrefix string, seq func(func(*target) bool)) {
	top := maxPageSize
	if v, ok := q.query["$top"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n <= 0 {
			q.fail(http.StatusBadRequest, "The value of $top must be a positive integer.")
			return
		}
		top = min(n, maxPageSize)
	}
	var from uint64
	if v := q.query["continuationtoken"]; v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			q.fail(http.StatusBadRequest, "The continuation token is invalid.")
			return
		}
		from = n
	}
	var page []*target
	next := ""
	seq(func(t *target) bool {
		if uint64(t.id) < from {
			return true
		}
		if len(page) == top {
			next = strconv.FormatUint(uint64(t.id), 10)
			return false
		}
		page = append(page, t)
		return true
	})
	self := "https://" + q.r.Host + q.r.URL.EscapedPath()
	if q.rawQuery != "" {
		self += "?" + q.rawQuery
	}
	feed := atom.Feed{Title: "Registrations", ID: self, Updated: atomTime(time.Now()), SelfLink: self}
	for _, t := range page {
		e, _, err := q.entryFor(t, expiryRead, pathPrefix)
		if err != nil {
			q.fail(http.StatusInternalServerError, "The registration could not be encoded.")
			return
		}
		feed.Entries = append(feed.Entries, e)
	}
	if next != "" {
		var kept []string
		for part := range strings.SplitSeq(q.rawQuery, "&") {
			k, _, _ := strings.Cut(part, "=")
			if part == "" || strings.EqualFold(unescapeQuery(k), "continuationtoken") {
				continue
			}
			kept = append(kept, part)
		}
		kept = append(kept, "continuationtoken="+next)
		feed.NextLink = "https://" + q.r.Host + q.r.URL.EscapedPath() + "?" + strings.Join(kept, "&")
		q.w.Header().Set("x-ms-continuationtoken", next)
	}
	q.write(http.StatusOK, ctFeed, atom.MarshalFeed(feed))
}
