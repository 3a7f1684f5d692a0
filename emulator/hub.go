package emulator

// A hub in memory: the platforms, the targets that registrations and
// installations become, and the indexes sends look them up by. Its
// persistent form is in persist.go.

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/nhkit/notificationhubs/internal/atom"
)

// platform is a push service.
type platform uint8

const (
	pNone platform = iota
	pApple
	pGcm
	pFcmV1
	pWindows
	pMpns
	pAdm
	pBaidu
	pBrowser
	pXiaomi
	numPlatforms
)

// platformNames: format header value (also Delivery.Platform), atom
// element prefix, installation platform value.
var platformNames = [numPlatforms]struct {
	format string
	atom   atom.Platform
	inst   string
}{
	pApple:   {"apple", atom.Apple, "apns"},
	pGcm:     {"gcm", atom.Gcm, "gcm"},
	pFcmV1:   {"fcmv1", atom.FcmV1, "fcmv1"},
	pWindows: {"windows", atom.Windows, "wns"},
	pMpns:    {"windowsphone", atom.Mpns, "mpns"},
	pAdm:     {"adm", atom.Adm, "adm"},
	pBaidu:   {"baidu", atom.Baidu, "baidu"},
	pBrowser: {"browser", atom.Browser, "browser"},
	pXiaomi:  {"xiaomi", atom.Xiaomi, "xiaomi"},
}

func (p platform) String() string { return platformNames[p].format }

// platformFromFormat maps a ServiceBusNotification-Format value to its
// platform, ignoring case.
//
// "fcm" is accepted as an alias of "gcm" (FCM legacy): Microsoft's
// current Python REST article sends it for FCM. Whether the service
// accepts it is unconfirmed (docs/protocol.md, "Open questions"; the .NET
// SDK sends "gcm" for its FcmNotification). The emulator is lenient here
// rather than strict, so that code written from the article works
// locally; the send is then recorded with the format "gcm" (see
// canonicalFormat).
func platformFromFormat(f string) platform {
	f = canonicalFormat(f)
	for p := pApple; p < numPlatforms; p++ {
		if platformNames[p].format == f {
			return p
		}
	}
	return pNone
}

// canonicalFormat lower-cases and trims a format value and resolves the
// alias "fcm" to "gcm".
func canonicalFormat(f string) string {
	f = strings.ToLower(strings.TrimSpace(f))
	if f == "fcm" {
		return "gcm"
	}
	return f
}

func platformFromAtom(a atom.Platform) platform {
	for p := pApple; p < numPlatforms; p++ {
		if strings.EqualFold(string(platformNames[p].atom), string(a)) {
			return p
		}
	}
	return pNone
}

func platformFromInstallation(v string) platform {
	v = strings.ToLower(strings.TrimSpace(v))
	for p := pApple; p < numPlatforms; p++ {
		if platformNames[p].inst == v {
			return p
		}
	}
	return pNone
}

// target is one thing a notification can reach: a registration (native or
// template) or one projection of an installation (its native target or one
// of its templates). Targets are numbered compactly for the tag index.
type target struct {
	id       uint32
	platform platform
	template bool
	regID    string
	handle   string
	// Registration-backed.
	reg *regRecord
	// Installation-backed.
	inst    *installation
	tmplIdx int // index into inst.templates for template targets
}

// regRecord is a stored registration.
type regRecord struct {
	desc             atom.Registration
	etag             int64
	created, updated time.Time
}

// tags returns every tag of the target, system tags included, in the
// order the service shows them.
func (t *target) tags() []string {
	if t.reg != nil {
		return t.reg.desc.Tags
	}
	in := t.inst
	out := make([]string, 0, len(in.tags)+4)
	out = append(out, installationTag(in.id))
	if in.userID != "" {
		out = append(out, userTag(in.userID))
	}
	out = append(out, in.tags...)
	if t.template {
		tp := &in.templates[t.tmplIdx]
		out = appendUnique(out, tp.tags...)
		out = appendUnique(out, tp.name)
	}
	return out
}

// indexTags returns the tags posted in the index for the target; the
// $InstallationId tag of installation-backed targets is resolved through
// the installation map instead, to save memory.
func (t *target) indexTags() []string {
	if t.reg != nil {
		return t.reg.desc.Tags
	}
	tags := t.tags()
	return tags[1:]
}

func installationTag(id string) string { return "$InstallationId:{" + id + "}" }
func userTag(id string) string         { return "$UserId:{" + id + "}" }

func appendUnique(dst []string, add ...string) []string {
outer:
	for _, a := range add {
		for _, d := range dst {
			if d == a {
				continue outer
			}
		}
		dst = append(dst, a)
	}
	return dst
}

// hub is one notification hub's state. All access is under Server.mu.
type hub struct {
	name          string
	targets       []*target // by id; nil = free slot
	free          []uint32
	byRegID       map[string]uint32
	postings      map[string][]uint32 // tag → sorted target ids
	native        [numPlatforms][]uint32
	templates     []uint32
	installations map[string]*installation
	reservedIDs   map[string]bool
	scheduled     map[string]*scheduledSend
	jobs          map[string]*jobRec
	regCount      int // registration-backed targets
	// deleted holds, under Options.ReadDelay, what GET still answers for
	// installations deleted within the delay; nil until the first one.
	deleted map[string]*delayedRead
	// meta is the hub's description: rules, credentials (hubs.go).
	meta hubMeta
	// calls counts the day's API calls, for the description's usage.
	calls hubCalls
}

func newHub(name string) *hub {
	return &hub{
		name:          name,
		byRegID:       map[string]uint32{},
		postings:      map[string][]uint32{},
		installations: map[string]*installation{},
		reservedIDs:   map[string]bool{},
		scheduled:     map[string]*scheduledSend{},
		jobs:          map[string]*jobRec{},
	}
}

// add stores t under a fresh id and indexes it.
func (h *hub) add(t *target) {
	if n := len(h.free); n > 0 {
		t.id = h.free[n-1]
		h.free = h.free[:n-1]
		h.targets[t.id] = t
	} else {
		t.id = uint32(len(h.targets))
		h.targets = append(h.targets, t)
	}
	h.byRegID[t.regID] = t.id
	if t.reg != nil {
		h.regCount++
	}
	h.index(t)
}

// remove unindexes t and frees its id.
func (h *hub) remove(t *target) {
	h.unindex(t)
	delete(h.byRegID, t.regID)
	if t.reg != nil {
		h.regCount--
	}
	h.targets[t.id] = nil
	h.free = append(h.free, t.id)
}

func (h *hub) index(t *target) {
	for _, tag := range t.indexTags() {
		h.postings[tag] = insertSorted(h.postings[tag], t.id)
	}
	if t.template {
		h.templates = insertSorted(h.templates, t.id)
	} else {
		h.native[t.platform] = insertSorted(h.native[t.platform], t.id)
	}
}

func (h *hub) unindex(t *target) {
	for _, tag := range t.indexTags() {
		l := removeSorted(h.postings[tag], t.id)
		if len(l) == 0 {
			delete(h.postings, tag)
		} else {
			h.postings[tag] = l
		}
	}
	if t.template {
		h.templates = removeSorted(h.templates, t.id)
	} else {
		h.native[t.platform] = removeSorted(h.native[t.platform], t.id)
	}
}

func (h *hub) target(regID string) *target {
	id, ok := h.byRegID[regID]
	if !ok {
		return nil
	}
	return h.targets[id]
}

// registrationCount counts live targets.
func (h *hub) registrationCount() int { return len(h.byRegID) }

// newRegistrationID mints an id of the service's form int64-int64-digit.
func newRegistrationID() string {
	return fmt.Sprintf("%d-%d-%d", rand.Int64N(1<<63-1), rand.Int64N(1<<63-1), 1+rand.IntN(3))
}

// freshRegistrationID mints an id not in use in h.
func (h *hub) freshRegistrationID() string {
	for {
		id := newRegistrationID()
		if _, used := h.byRegID[id]; !used && !h.reservedIDs[id] {
			return id
		}
	}
}
