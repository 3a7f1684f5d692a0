package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/nhkit/notificationhubs/emulator/internal/push"
	"github.com/nhkit/notificationhubs/internal/atom"
	"github.com/nhkit/notificationhubs/internal/pnscred"
)

// Hub management: PUT, GET and DELETE /{hub}, the namespace root listing
// (GET /) and GET /$Resources/NotificationHubs, as the service answers
// them (docs/hub-management.md).

// NamespaceRuleName is the namespace's Manage rule. Its key opens every
// hub and every hub-management route.
const NamespaceRuleName = "RootManageSharedAccessKey"

// DefaultNamespaceKey is the key of RootManageSharedAccessKey when
// Options.NamespaceKey is empty. Like the hubs' development keys it is
// fixed and published, and protects nothing.
const DefaultNamespaceKey = "bm90aHViLWVtdWxhdG9yLW5hbWVzcGFjZS1rZXktZGV2"

// defaultRegistrationTTL is what the service reports for a hub created
// without a RegistrationTtl: .NET's TimeSpan.MaxValue.
const defaultRegistrationTTL = "P10675199DT2H48M5.4775807S"

// Messages whose full stop the service follows with its own (the
// recordings show "..TrackingId").
const (
	msgNoService        = "No service is hosted at the specified address.."
	msgInvalidSignature = "InvalidSignature: The token has an invalid signature.."
	msgConflict         = "SubCode=40900. Conflict"
	msgHubDisabled      = "The notification hub is disabled."
)

// authRule is one shared access rule of a hub.
type authRule struct {
	name               string
	primary, secondary string
	rights             rights
	created, modified  time.Time
}

// hubMeta is a hub's description. Hubs created through the API are
// managed: they use their own rules, and sends reach only the push
// services they have credentials for. Hubs created on first use (or
// listed in Options.Hubs) keep the development rules until an update
// gives them rules of their own.
type hubMeta struct {
	managed      bool
	ownRules     bool // rules replace the development rules
	rules        []authRule
	ttl          string
	disabled     bool
	userMetadata string
	creds        []atom.PnsCredential // canonical order
	created      time.Time
	updated      time.Time
}

// hubCalls counts a hub's API calls of the current UTC day.
type hubCalls struct {
	day   atomic.Int64 // days since the epoch
	count atomic.Int64
}

func (c *hubCalls) add(now time.Time) {
	d := now.UTC().Unix() / 86400
	if c.day.Swap(d) != d {
		c.count.Store(0)
	}
	c.count.Add(1)
}

func (c *hubCalls) today(now time.Time) int64 {
	if c.day.Load() != now.UTC().Unix()/86400 {
		return 0
	}
	return c.count.Load()
}

// devRules are the development rules of hubs without rules of their own,
// with the keys of Options.
func devRules(opts Options) []authRule {
	return []authRule{
		{name: ListenRuleName, primary: opts.ListenKey, secondary: opts.ListenKey, rights: rightListen},
		{name: FullRuleName, primary: opts.FullKey, secondary: opts.FullKey, rights: rightListen | rightManage | rightSend},
	}
}

// rulesOf returns h's rules (nil h: a hub yet to be created on first use),
// read-only. The caller holds s.mu.
func (s *Server) rulesOf(h *hub) []authRule {
	if h == nil || !h.meta.ownRules {
		return s.devRuleSet
	}
	return h.meta.rules
}

// platformCredential is the credential element each platform's sends need.
var platformCredential = [numPlatforms]string{
	pApple: atom.CredentialApns, pGcm: atom.CredentialGcm, pFcmV1: atom.CredentialFcmV1,
	pWindows: atom.CredentialWns, pMpns: atom.CredentialMpns, pAdm: atom.CredentialAdm,
	pBaidu: atom.CredentialBaidu, pBrowser: atom.CredentialBrowser, pXiaomi: atom.CredentialXiaomi,
}

// lacksCredential reports whether a send to platform p drops for want of
// a credential: only managed hubs need them. The caller holds s.mu.
func (h *hub) lacksCredential(p platform) bool {
	if !h.meta.managed {
		return false
	}
	for _, c := range h.meta.creds {
		if c.Element == platformCredential[p] {
			return false
		}
	}
	return true
}

// createdBy says how h came to be: "api" or "first use". The caller
// holds s.mu.
func (h *hub) createdBy() string {
	if h.meta.managed {
		return "api"
	}
	return "first use"
}

// credentialNames lists the push services h has credentials for, by their
// installation platform names, with the APNs mode. The caller holds s.mu.
func (h *hub) credentialNames() []string {
	out := []string{}
	for _, c := range h.meta.creds {
		for p := pApple; p < numPlatforms; p++ {
			if platformCredential[p] != c.Element {
				continue
			}
			name := platformNames[p].inst
			if p == pApple {
				if tok, _ := c.Get("Token"); tok != "" {
					name += " (token)"
				} else {
					name += " (certificate)"
				}
			}
			out = append(out, name)
		}
	}
	return out
}

// ---- serving ----------------------------------------------------------------

// serveNamespace authorises a hub-management request and runs its handler.
// Creating and listing hubs take the namespace rule; a hub's own Manage
// rule may also read, update and delete that hub.
func (s *Server) serveNamespace(q *request, m routeMatch) {
	var rules []authRule
	if name := m.param("hub"); name != "" {
		if err := validHubName(name); err != nil {
			q.fail(http.StatusBadRequest, err.Error())
			return
		}
		q.hubName = name
		q.hub = s.lookupHub(name, false)
		if q.hub != nil {
			s.mu.RLock()
			rules = s.rulesOf(q.hub)
			s.mu.RUnlock()
		}
	}
	if !s.authorizeWith(q, rightManage, resourcePath(m.rt, m.values[:]), rules, true) {
		return
	}
	if s.applyFaults(q) {
		return
	}
	m.rt.handle(s, q)
}

// hubEntry renders h's description as the service answers it: GET answers
// carry the day's usage counters, create answers a published time, update
// answers neither.
func (s *Server) hubEntry(q *request, h *hub, published, usage bool) []byte {
	s.mu.RLock()
	d := s.describe(h)
	name, created, updated := h.name, h.meta.created, h.meta.updated
	if usage {
		now := s.now()
		d.DailyMaxActiveDevices = strconv.Itoa(len(h.installations) + h.regCount)
		d.DailyMaxActiveRegistrations = strconv.Itoa(h.registrationCount())
		d.DailyAPICalls = strconv.FormatInt(h.calls.today(now), 10)
	}
	s.mu.RUnlock()
	desc, _ := atom.MarshalHubDescription(d)
	self := "https://" + q.host() + "/" + name + q.versionQuery()
	e := atom.Entry{ID: self, Title: name, Updated: atomTime(updated), Author: namespaceName(q.host()), SelfLink: self, Content: desc}
	if published {
		e.Published = atomTime(created)
	}
	return atom.MarshalEntry(e)
}

// describe builds h's description. The caller holds s.mu.
func (s *Server) describe(h *hub) atom.HubDescription {
	d := atom.HubDescription{RegistrationTTL: h.meta.ttl, UserMetadata: h.meta.userMetadata, AuthorizationRules: []atom.AuthorizationRule{}}
	if d.RegistrationTTL == "" {
		d.RegistrationTTL = defaultRegistrationTTL
	}
	created := h.meta.created
	for _, r := range s.rulesOf(h) {
		w := atom.AuthorizationRule{Type: "SharedAccessAuthorizationRule", ClaimType: "SharedAccessKey", ClaimValue: "None",
			KeyName: r.name, PrimaryKey: r.primary, SecondaryKey: r.secondary,
			CreatedTime: ruleTime(r.created, created), ModifiedTime: ruleTime(r.modified, created)}
		for _, x := range []rights{rightListen, rightManage, rightSend} {
			if r.rights&x != 0 {
				w.Rights = append(w.Rights, x.String())
			}
		}
		d.AuthorizationRules = append(d.AuthorizationRules, w)
	}
	if h.meta.disabled {
		d.Status = "true"
	}
	d.Credentials = append(d.Credentials, h.meta.creds...)
	return d
}

func ruleTime(t, fallback time.Time) string {
	if t.IsZero() {
		t = fallback
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// host is the request's Host, or localhost.
func (q *request) host() string {
	if q.r.Host == "" {
		return "localhost"
	}
	return q.r.Host
}

// namespaceName is the first label of host (without port), as the
// service's entries name their author.
func namespaceName(host string) string {
	h := stripHostPort(host)
	if i := strings.IndexByte(h, '.'); i > 0 && !isIPv4(h) {
		return h[:i]
	}
	return h
}

func stripHostPort(host string) string {
	if strings.HasPrefix(host, "[") {
		if i := strings.IndexByte(host, ']'); i > 0 {
			return host[1:i]
		}
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 && strings.Count(host, ":") == 1 {
		return host[:i]
	}
	return host
}

func isIPv4(h string) bool {
	return strings.Count(h, ".") == 3 && strings.Trim(h, "0123456789.") == ""
}

// publicFeed is the namespace root listing the service answers for GET /,
// and for GET of a hub that does not exist (without entries).
func (s *Server) publicFeed(q *request, names []string) []byte {
	now := s.now()
	id := func() string { return "uuid:" + s.epochUUID + ";id=" + strconv.FormatInt(s.feedSeq.Add(1), 10) }
	f := atom.Feed{Title: "Publicly Listed Services", Subtitle: "This is the list of publicly-listed services currently available.",
		ID: id(), Updated: atomTime(now), Generator: "Service Bus 1.1"}
	for _, n := range names {
		f.Entries = append(f.Entries, atom.Entry{ID: id(), Title: n, Updated: atomTime(now), AlternateLink: "http://" + q.host() + "/" + n})
	}
	return atom.MarshalFeed(f)
}

// sortedHubs returns every hub, sorted by name ignoring case.
func (s *Server) sortedHubs() []*hub {
	s.mu.RLock()
	hs := make([]*hub, 0, len(s.hubs))
	for _, h := range s.hubs {
		hs = append(hs, h)
	}
	s.mu.RUnlock()
	slices.SortFunc(hs, func(a, b *hub) int { return strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name)) })
	return hs
}

// handleListHubNames serves GET /: the names of the hubs.
func (s *Server) handleListHubNames(q *request) {
	var names []string
	for _, h := range s.sortedHubs() {
		names = append(names, h.name)
	}
	q.write(http.StatusOK, ctFeed, s.publicFeed(q, names))
}

// defaultListTop is the page size of GET /$Resources/NotificationHubs
// without $top.
const defaultListTop = 100

// handleListHubs serves GET /$Resources/NotificationHubs?$skip=&$top=: a
// page of hub entries with their descriptions, by name.
func (s *Server) handleListHubs(q *request) {
	skip, top := 0, defaultListTop
	for key, dst := range map[string]*int{"$skip": &skip, "$top": &top} {
		if v, ok := q.query[key]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				q.fail(http.StatusBadRequest, "The value of "+key+" must be a non-negative integer.")
				return
			}
			*dst = n
		}
	}
	hs := s.sortedHubs()
	hs = hs[min(skip, len(hs)):]
	hs = hs[:min(top, len(hs))]
	self := "https://" + q.host() + "/$Resources/NotificationHubs" + q.versionQuery()
	f := atom.Feed{Title: "NotificationHubs", ID: self, Updated: atomTime(s.now()), SelfLink: self}
	for _, h := range hs {
		e, err := atom.ParseEntry(s.hubEntry(q, h, true, false))
		if err == nil {
			f.Entries = append(f.Entries, e)
		}
	}
	q.write(http.StatusOK, ctFeed, atom.MarshalFeed(f))
}

// handleGetHub serves GET /{hub}. A hub that does not exist is answered
// with the empty namespace listing and 200, as the service does.
func (s *Server) handleGetHub(q *request) {
	if q.hub == nil {
		q.write(http.StatusOK, ctFeed, s.publicFeed(q, nil))
		return
	}
	q.write(http.StatusOK, ctEntry, s.hubEntry(q, q.hub, true, true))
}

// maxHubBody bounds a hub description (certificates are its largest part).
const maxHubBody = 1 << 20

// handlePutHub serves PUT /{hub}: create (201; 409 when the hub exists),
// or with If-Match update (200; 404 when it does not exist). An update
// replaces the description; rules it leaves out are kept.
func (s *Server) handlePutHub(q *request) {
	update := q.r.Header.Get("If-Match") != ""
	body, err := q.readBody(maxHubBody)
	if err != nil {
		var he *httpError
		if errors.As(err, &he) && he.status == http.StatusRequestEntityTooLarge {
			err = &httpError{http.StatusRequestEntityTooLarge, "The hub description is larger than " + strconv.Itoa(maxHubBody) + " bytes."}
		}
		q.failErr(err)
		return
	}
	d, err := parseHubRequest(body)
	if err != nil {
		q.failErr(err)
		return
	}
	meta, err := s.metaFrom(d)
	if err != nil {
		q.failErr(err)
		return
	}
	now := s.now()
	s.mu.Lock()
	key := strings.ToLower(q.hubName)
	h := s.hubs[key]
	switch {
	case update && h == nil:
		s.mu.Unlock()
		q.fail(http.StatusNotFound, msgNoService)
		return
	case !update && h != nil:
		s.mu.Unlock()
		q.fail(http.StatusConflict, msgConflict)
		return
	case update:
		meta.managed = h.meta.managed
		meta.created = h.meta.created
		if !meta.ownRules {
			// A copy: requests read a hub's rules after unlocking.
			meta.ownRules, meta.rules = h.meta.ownRules, slices.Clone(h.meta.rules)
		}
		meta.updated = now
		stampRules(meta.rules, h.meta.rules, now)
		h.meta = meta
	default:
		meta.managed = true
		meta.created, meta.updated = now, now
		if !meta.ownRules {
			meta.ownRules = true
			meta.rules = []authRule{
				{name: ListenRuleName, primary: newKey(), secondary: newKey(), rights: rightListen},
				{name: FullRuleName, primary: newKey(), secondary: newKey(), rights: rightListen | rightManage | rightSend},
			}
		}
		stampRules(meta.rules, nil, now)
		h = newHub(q.hubName)
		h.meta = meta
		s.hubs[key] = h
	}
	b := s.persist(s.opPutHub(h))
	s.mu.Unlock()
	if err := b.wait(); err != nil {
		q.failDurability(err)
		return
	}
	if update {
		q.write(http.StatusOK, ctEntry, s.hubEntry(q, h, false, false))
		return
	}
	q.write(http.StatusCreated, ctEntry, s.hubEntry(q, h, true, false))
}

// stampRules sets the times of rules: a rule that existed keeps its
// creation time, and its modification time unless its keys or rights
// changed.
func stampRules(rules, old []authRule, now time.Time) {
	for i := range rules {
		r := &rules[i]
		r.created, r.modified = now, now
		for _, o := range old {
			if strings.EqualFold(o.name, r.name) {
				r.created = o.created
				if o.primary == r.primary && o.secondary == r.secondary && o.rights == r.rights {
					r.modified = o.modified
				}
			}
		}
	}
}

// handleDeleteHub serves DELETE /{hub}: 200 with an empty body, or 404.
// The hub's registrations, installations, scheduled notifications and
// jobs go with it.
func (s *Server) handleDeleteHub(q *request) {
	key := strings.ToLower(q.hubName)
	s.mu.Lock()
	h := s.hubs[key]
	if h == nil {
		s.mu.Unlock()
		q.fail(http.StatusNotFound, msgNoService)
		return
	}
	delete(s.hubs, key)
	var ids []string
	for id := range h.scheduled {
		ids = append(ids, id)
	}
	clear(h.scheduled)
	b := s.persist(opDeleteHub(key))
	s.mu.Unlock()
	s.stopTimers(ids...)
	if err := b.wait(); err != nil {
		q.failDurability(err)
		return
	}
	q.w.Header().Set("Content-Length", "0")
	q.empty(http.StatusOK, "")
}

// parseHubRequest reads the Atom entry of a PUT.
func parseHubRequest(body []byte) (atom.HubDescription, error) {
	e, err := atom.ParseEntry(body)
	if err != nil {
		return atom.HubDescription{}, badRequest("The request body is not an Atom entry: " + err.Error())
	}
	if len(e.Content) == 0 {
		return atom.HubDescription{}, badRequest("The entry has no NotificationHubDescription in its content.")
	}
	d, err := atom.ParseHubDescription(e.Content)
	if err != nil {
		return atom.HubDescription{}, badRequest("The NotificationHubDescription is invalid: " + err.Error())
	}
	return d, nil
}

// metaFrom checks a requested description and builds the hub's.
func (s *Server) metaFrom(d atom.HubDescription) (hubMeta, error) {
	var m hubMeta
	if d.RegistrationTTL != "" {
		if !validDuration(d.RegistrationTTL) {
			return m, badRequest("The RegistrationTtl '" + d.RegistrationTTL + "' is not an xs:duration.")
		}
		m.ttl = d.RegistrationTTL
	}
	m.disabled = strings.EqualFold(d.Status, "true")
	if len(d.UserMetadata) > 1024 {
		return m, badRequest("The UserMetadata is longer than 1024 characters.")
	}
	m.userMetadata = d.UserMetadata
	if d.AuthorizationRules != nil {
		m.ownRules = true
		m.rules = []authRule{}
		for _, r := range d.AuthorizationRules {
			rule, err := ruleFrom(r)
			if err != nil {
				return m, err
			}
			for _, o := range m.rules {
				if strings.EqualFold(o.name, rule.name) {
					return m, badRequest("The authorization rule " + rule.name + " appears twice.")
				}
			}
			m.rules = append(m.rules, rule)
		}
	}
	for _, c := range d.Credentials {
		if err := checkCredential(c); err != nil {
			return m, err
		}
	}
	// Canonical order, as the description is written back.
	for _, name := range atom.CredentialElements {
		for _, c := range d.Credentials {
			if c.Element == name {
				m.creds = append(m.creds, c)
			}
		}
	}
	return m, nil
}

func validDuration(s string) bool {
	rest, ok := strings.CutPrefix(strings.TrimPrefix(s, "-"), "P")
	return ok && rest != "" && strings.Trim(rest, "0123456789.DTHMSYW") == ""
}

// ruleFrom checks one requested rule; missing keys are generated.
func ruleFrom(r atom.AuthorizationRule) (authRule, error) {
	name := strings.TrimSpace(r.KeyName)
	if name == "" || len(name) > 256 || strings.ContainsAny(name, " \t\r\n/\\?#;=") {
		return authRule{}, badRequest("The authorization rule's KeyName '" + r.KeyName + "' is invalid.")
	}
	rule := authRule{name: name, primary: r.PrimaryKey, secondary: r.SecondaryKey}
	for _, x := range r.Rights {
		switch x {
		case "Listen":
			rule.rights |= rightListen
		case "Send":
			rule.rights |= rightSend
		case "Manage":
			rule.rights |= rightManage
		default:
			return authRule{}, badRequest("The authorization rule " + name + " has the unknown right '" + x + "'.")
		}
	}
	if rule.rights == 0 {
		return authRule{}, badRequest("The authorization rule " + name + " grants no rights.")
	}
	if rule.rights&rightManage != 0 && rule.rights&(rightListen|rightSend) != rightListen|rightSend {
		return authRule{}, badRequest("The authorization rule " + name + " has Manage without Listen and Send.")
	}
	if rule.primary == "" {
		rule.primary = newKey()
	}
	if rule.secondary == "" {
		rule.secondary = newKey()
	}
	return rule, nil
}

func newKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// checkCredential checks a push-service credential's properties as the
// push clients would read them. Its errors name the property, never its
// value.
func checkCredential(c atom.PnsCredential) error {
	get := func(n string) string { v, _ := c.Get(n); return v }
	var err error
	switch c.Element {
	case atom.CredentialApns:
		prod := pnscred.ApnsProduction(get("Endpoint"))
		switch {
		case get("Endpoint") == "":
			err = errors.New("the Endpoint is empty")
		case get("Token") != "" && get("ApnsCertificate") != "":
			err = errors.New("give a Token or an ApnsCertificate, not both")
		case get("Token") != "":
			_, err = push.NewApnsTokenCredential(get("KeyId"), get("AppId"), get("AppName"), []byte(get("Token")), prod)
		case get("ApnsCertificate") != "":
			_, err = push.NewApnsCertificateCredential([]byte(get("ApnsCertificate")), get("CertificateKey"), prod)
		default:
			err = errors.New("neither a Token nor an ApnsCertificate")
		}
	case atom.CredentialFcmV1:
		_, err = push.NewFcmV1Credential(get("ClientEmail"), get("PrivateKey"), get("ProjectId"))
	case atom.CredentialGcm:
		if strings.TrimSpace(get("GoogleApiKey")) == "" {
			err = errors.New("the GoogleApiKey is empty")
		}
	case atom.CredentialWns:
		_, err = push.NewWnsCredential(get("PackageSid"), get("SecretKey"))
	case atom.CredentialMpns:
		if get("MpnsCertificate") != "" {
			_, err = push.NewApnsCertificateCredential([]byte(get("MpnsCertificate")), get("CertificateKey"), true)
			var ce *push.CredentialError
			if errors.As(err, &ce) && strings.Contains(ce.Reason, "UID") {
				err = nil // any certificate with its key will do for MPNS
			}
		}
	case atom.CredentialAdm:
		_, err = push.NewAdmCredential(get("ClientId"), get("ClientSecret"))
	case atom.CredentialBaidu:
		_, err = push.NewBaiduCredential(get("BaiduApiKey"), get("BaiduSecretKey"))
	case atom.CredentialBrowser:
		_, err = push.NewBrowserCredential(get("Subject"), get("VapidPublicKey"), get("VapidPrivateKey"))
	case atom.CredentialXiaomi:
		_, err = push.NewXiaomiCredential(get("AppSecret"), get("Endpoint"))
	}
	if err != nil {
		return badRequest("Invalid " + c.Element + ": " + strings.TrimPrefix(err.Error(), "push: ") + ".")
	}
	return nil
}

// ---- persistence ----------------------------------------------------------------

// ruleRec is an authRule in the database.
type ruleRec struct {
	Name      string    `json:"name"`
	Primary   string    `json:"primary"`
	Secondary string    `json:"secondary"`
	Rights    rights    `json:"rights"`
	Created   time.Time `json:"created,omitzero"`
	Modified  time.Time `json:"modified,omitzero"`
}

func (r hubRec) meta() hubMeta {
	m := hubMeta{managed: r.Managed, ownRules: r.OwnRules, ttl: r.TTL, disabled: r.Disabled, userMetadata: r.UserMetadata,
		creds: r.Credentials, created: r.Created, updated: r.Updated}
	for _, x := range r.Rules {
		m.rules = append(m.rules, authRule{name: x.Name, primary: x.Primary, secondary: x.Secondary, rights: x.Rights, created: x.Created, modified: x.Modified})
	}
	return m
}

func hubRecOf(h *hub) hubRec {
	m := h.meta
	r := hubRec{Name: h.name, Managed: m.managed, OwnRules: m.ownRules, TTL: m.ttl, Disabled: m.disabled,
		UserMetadata: m.userMetadata, Credentials: m.creds, Created: m.created, Updated: m.updated}
	for _, x := range m.rules {
		r.Rules = append(r.Rules, ruleRec{Name: x.name, Primary: x.primary, Secondary: x.secondary, Rights: x.rights, Created: x.created, Modified: x.modified})
	}
	return r
}

// opDeleteHub deletes a hub's record and every record of its data.
func opDeleteHub(key string) dbOp {
	return func(tx *bolt.Tx) error {
		if err := tx.Bucket(bHubs).Delete([]byte(key)); err != nil {
			return err
		}
		prefix := []byte(key + "\x00")
		for _, b := range [][]byte{bRegs, bInsts, bSched, bJobs} {
			c := tx.Bucket(b).Cursor()
			for k, _ := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, _ = c.Seek(prefix) {
				if err := c.Delete(); err != nil {
					return err
				}
			}
		}
		return nil
	}
}
