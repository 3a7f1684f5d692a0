package admin

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/nhkit/notificationhubs/internal/atom"
)

// HubProperties is a hub's description: how long registrations live, its
// shared access rules, whether it is disabled, and one credential per push
// service. A zero HubProperties asks for the service's defaults.
//
// A credential that is nil is not set: the hub cannot reach that push
// service. Credentials built with the New… functions are checked when
// built and again before they are sent; credentials read from a hub are
// written back as the hub holds them, with the changes made to their
// exported fields (their secrets are kept; to replace a secret, build a
// new credential).
type HubProperties struct {
	// RegistrationTTL is how long a registration lives without being
	// updated, at least a day. Nil is the service's default: registrations
	// do not expire.
	RegistrationTTL *time.Duration
	// AuthorizationRules are the hub's shared access rules. On create, nil
	// asks the service for its two default rules
	// (DefaultListenSharedAccessSignature and
	// DefaultFullSharedAccessSignature) with fresh keys; on update, nil
	// keeps the hub's rules.
	AuthorizationRules []SharedAccessAuthorizationRule
	// IsDisabled, when set, makes the hub refuse registrations and sends
	// with 403.
	IsDisabled bool
	// UserMetadata is free text kept with the hub (at most 1024
	// characters).
	UserMetadata string

	// ApnsCredential is an *ApnsTokenCredential or an
	// *ApnsCertificateCredential.
	ApnsCredential    ApnsCredential
	FcmV1Credential   *FcmV1Credential
	GcmCredential     *GcmCredential // FCM legacy
	WnsCredential     *WnsCredential
	MpnsCredential    *MpnsCredential
	AdmCredential     *AdmCredential
	BaiduCredential   *BaiduCredential
	BrowserCredential *BrowserCredential
	XiaomiCredential  *XiaomiCredential

	// Daily usage the service reports when a hub is read; they are not
	// sent.
	DailyMaxActiveDevices       int64
	DailyMaxActiveRegistrations int64
	DailyAPICalls               int64

	// servedTTL is the RegistrationTtl a hub was read with when
	// RegistrationTTL cannot hold it (the default, TimeSpan.MaxValue): an
	// update writes it back unchanged while RegistrationTTL stays nil.
	servedTTL string
}

// CredentialPlatforms lists the push services the hub has a credential
// for, by their wire names (apns, fcmv1, gcm, wns, mpns, adm, baidu,
// browser, xiaomi), in that order.
func (p HubProperties) CredentialPlatforms() []string {
	var out []string
	for _, c := range []struct {
		name string
		set  bool
	}{
		{"apns", p.ApnsCredential != nil}, {"fcmv1", p.FcmV1Credential != nil}, {"gcm", p.GcmCredential != nil},
		{"wns", p.WnsCredential != nil}, {"mpns", p.MpnsCredential != nil}, {"adm", p.AdmCredential != nil},
		{"baidu", p.BaiduCredential != nil}, {"browser", p.BrowserCredential != nil}, {"xiaomi", p.XiaomiCredential != nil},
	} {
		if c.set {
			out = append(out, c.name)
		}
	}
	return out
}

// AuthorizationRule returns the rule named keyName (compared ignoring
// case) and whether there is one.
func (p HubProperties) AuthorizationRule(keyName string) (SharedAccessAuthorizationRule, bool) {
	for _, r := range p.AuthorizationRules {
		if strings.EqualFold(r.KeyName, keyName) {
			return r, true
		}
	}
	return SharedAccessAuthorizationRule{}, false
}

// SetAuthorizationRule adds rule, or replaces the rule of the same name.
// When the hub has no rules listed yet (nil), the change would replace
// them all: read the hub first so that its rules are kept.
func (p *HubProperties) SetAuthorizationRule(rule SharedAccessAuthorizationRule) {
	for i, r := range p.AuthorizationRules {
		if strings.EqualFold(r.KeyName, rule.KeyName) {
			p.AuthorizationRules[i] = rule
			return
		}
	}
	p.AuthorizationRules = append(p.AuthorizationRules, rule)
}

// String lists the hub's settings and which credentials it has, without
// any key or secret.
func (p HubProperties) String() string {
	var b strings.Builder
	b.WriteString("HubProperties{")
	if p.RegistrationTTL != nil {
		fmt.Fprintf(&b, "RegistrationTTL: %s, ", *p.RegistrationTTL)
	}
	b.WriteString("AuthorizationRules: [")
	for i, r := range p.AuthorizationRules {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.String())
	}
	fmt.Fprintf(&b, "], IsDisabled: %t, Credentials: %v}", p.IsDisabled, p.CredentialPlatforms())
	return b.String()
}

// GoString is String, so %#v shows no secret either.
func (p HubProperties) GoString() string { return p.String() }

// LogValue implements slog.LogValuer: what String shows, as a group, so
// that log/slog's JSON handler does not marshal the rules' keys. The
// responses that embed HubProperties log the same way.
func (p HubProperties) LogValue() slog.Value {
	var attrs []slog.Attr
	if p.RegistrationTTL != nil {
		attrs = append(attrs, slog.Duration("RegistrationTTL", *p.RegistrationTTL))
	}
	rules := make([]slog.Attr, len(p.AuthorizationRules))
	for i, r := range p.AuthorizationRules {
		rules[i] = slog.Attr{Key: r.KeyName, Value: r.LogValue()}
	}
	attrs = append(attrs, slog.Attr{Key: "AuthorizationRules", Value: slog.GroupValue(rules...)},
		slog.Bool("IsDisabled", p.IsDisabled), slog.Any("Credentials", p.CredentialPlatforms()))
	return slog.GroupValue(attrs...)
}

// AccessRights is a right a shared access rule grants.
type AccessRights string

// Rights of shared access rules.
const (
	AccessRightsListen AccessRights = "Listen" // register devices
	AccessRightsSend   AccessRights = "Send"   // send notifications
	AccessRightsManage AccessRights = "Manage" // everything, hub management included
)

// SharedAccessAuthorizationRule is a named key pair and the rights it
// grants. Clients sign their requests with either key; rotate them by
// replacing one at a time.
type SharedAccessAuthorizationRule struct {
	KeyName      string
	PrimaryKey   string
	SecondaryKey string
	Rights       []AccessRights
	// CreatedTime and ModifiedTime are set by the service.
	CreatedTime, ModifiedTime time.Time
}

// NewSharedAccessAuthorizationRule returns a rule named keyName granting
// rights, with two fresh random keys (32 bytes each, base64, as the
// service makes them).
func NewSharedAccessAuthorizationRule(keyName string, rights ...AccessRights) (SharedAccessAuthorizationRule, error) {
	r := SharedAccessAuthorizationRule{KeyName: keyName, Rights: rights, PrimaryKey: newKey(), SecondaryKey: newKey()}
	if err := r.check(); err != nil {
		return SharedAccessAuthorizationRule{}, err
	}
	return r, nil
}

// RotateKeys makes the primary key the secondary one and sets a fresh
// primary key. Clients still signing with the old primary key keep working
// until the next rotation; update the hub to apply it.
func (r *SharedAccessAuthorizationRule) RotateKeys() {
	r.SecondaryKey = r.PrimaryKey
	r.PrimaryKey = newKey()
}

// String shows the rule without its keys.
func (r SharedAccessAuthorizationRule) String() string {
	rs := make([]string, len(r.Rights))
	for i, x := range r.Rights {
		rs[i] = string(x)
	}
	return "SharedAccessAuthorizationRule{KeyName: " + r.KeyName + ", Rights: [" + strings.Join(rs, " ") + "], Keys: " + redacted + "}"
}

// GoString is String, so %#v shows no key either.
func (r SharedAccessAuthorizationRule) GoString() string { return r.String() }

// LogValue implements slog.LogValuer: the rule without its keys, so that
// log/slog's JSON handler does not marshal them.
func (r SharedAccessAuthorizationRule) LogValue() slog.Value {
	return slog.GroupValue(slog.String("KeyName", r.KeyName), slog.Any("Rights", r.Rights), slog.String("Keys", redacted))
}

func newKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// maxKeyLen is the longest key .NET's SharedAccessAuthorizationRule takes.
const maxKeyLen = 256

func (r SharedAccessAuthorizationRule) check() error {
	if strings.TrimSpace(r.KeyName) == "" {
		return errors.New("admin: authorization rule: KeyName is empty")
	}
	if len(r.KeyName) > 256 || strings.ContainsAny(r.KeyName, " \t\r\n/\\?#;=") {
		return fmt.Errorf("admin: authorization rule %q: KeyName has more than 256 characters, white space or one of / \\ ? # ; =", clip(r.KeyName))
	}
	if len(r.Rights) == 0 {
		return fmt.Errorf("admin: authorization rule %s: no rights", r.KeyName)
	}
	seen := map[AccessRights]bool{}
	for _, x := range r.Rights {
		switch x {
		case AccessRightsListen, AccessRightsSend, AccessRightsManage:
		default:
			return fmt.Errorf("admin: authorization rule %s: unknown right %q (want Listen, Send or Manage)", r.KeyName, clip(string(x)))
		}
		if seen[x] {
			return fmt.Errorf("admin: authorization rule %s: right %s given twice", r.KeyName, x)
		}
		seen[x] = true
	}
	if seen[AccessRightsManage] && !(seen[AccessRightsListen] && seen[AccessRightsSend]) {
		return fmt.Errorf("admin: authorization rule %s: Manage needs Listen and Send too, as the service requires", r.KeyName)
	}
	for name, k := range map[string]string{"PrimaryKey": r.PrimaryKey, "SecondaryKey": r.SecondaryKey} {
		if k == "" {
			return fmt.Errorf("admin: authorization rule %s: %s is empty (NewSharedAccessAuthorizationRule makes keys)", r.KeyName, name)
		}
		if len(k) > maxKeyLen || strings.ContainsAny(k, " \t\r\n") {
			return fmt.Errorf("admin: authorization rule %s: %s has more than %d characters or white space", r.KeyName, name, maxKeyLen)
		}
	}
	return nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// ---- wire form ----------------------------------------------------------------

// rightsOrder is the order the service writes rights in.
var rightsOrder = []AccessRights{AccessRightsListen, AccessRightsManage, AccessRightsSend}

// minRegistrationTTL is the shortest registration lifetime the service
// takes.
const minRegistrationTTL = 24 * time.Hour

// maxUserMetadata is the longest UserMetadata the .NET SDK allows.
const maxUserMetadata = 1024

// toWire checks p and builds its description.
func (p HubProperties) toWire() (atom.HubDescription, error) {
	var d atom.HubDescription
	if p.RegistrationTTL != nil {
		if *p.RegistrationTTL < minRegistrationTTL {
			return d, fmt.Errorf("admin: RegistrationTTL %s is shorter than the service's minimum of a day", *p.RegistrationTTL)
		}
		d.RegistrationTTL = formatDuration(*p.RegistrationTTL)
	} else {
		d.RegistrationTTL = p.servedTTL
	}
	if p.AuthorizationRules != nil {
		d.AuthorizationRules = []atom.AuthorizationRule{}
		names := map[string]bool{}
		for _, r := range p.AuthorizationRules {
			if err := r.check(); err != nil {
				return d, err
			}
			if names[strings.ToLower(r.KeyName)] {
				return d, fmt.Errorf("admin: authorization rule %s appears twice", r.KeyName)
			}
			names[strings.ToLower(r.KeyName)] = true
			w := atom.AuthorizationRule{Type: "SharedAccessAuthorizationRule", ClaimType: "SharedAccessKey", ClaimValue: "None",
				KeyName: r.KeyName, PrimaryKey: r.PrimaryKey, SecondaryKey: r.SecondaryKey}
			for _, x := range rightsOrder {
				for _, y := range r.Rights {
					if x == y {
						w.Rights = append(w.Rights, string(x))
					}
				}
			}
			if !r.CreatedTime.IsZero() {
				w.CreatedTime = r.CreatedTime.UTC().Format(time.RFC3339Nano)
			}
			if !r.ModifiedTime.IsZero() {
				w.ModifiedTime = r.ModifiedTime.UTC().Format(time.RFC3339Nano)
			}
			d.AuthorizationRules = append(d.AuthorizationRules, w)
		}
	}
	if p.IsDisabled {
		d.Status = "true"
	}
	if len(p.UserMetadata) > maxUserMetadata {
		return d, fmt.Errorf("admin: UserMetadata has %d characters, at most %d are allowed", len(p.UserMetadata), maxUserMetadata)
	}
	d.UserMetadata = p.UserMetadata
	type wirer interface {
		wire() (atom.PnsCredential, error)
	}
	for _, c := range []struct {
		w   wirer
		set bool
	}{
		{p.ApnsCredential, p.ApnsCredential != nil}, {p.WnsCredential, p.WnsCredential != nil},
		{p.GcmCredential, p.GcmCredential != nil}, {p.MpnsCredential, p.MpnsCredential != nil},
		{p.AdmCredential, p.AdmCredential != nil}, {p.BaiduCredential, p.BaiduCredential != nil},
		{p.FcmV1Credential, p.FcmV1Credential != nil}, {p.BrowserCredential, p.BrowserCredential != nil},
		{p.XiaomiCredential, p.XiaomiCredential != nil},
	} {
		if !c.set {
			continue
		}
		w, err := c.w.wire()
		if err != nil {
			return d, err
		}
		d.Credentials = append(d.Credentials, w)
	}
	return d, nil
}

// propertiesFromWire reads a served description.
func propertiesFromWire(d atom.HubDescription) HubProperties {
	var p HubProperties
	if d.RegistrationTTL != "" {
		if ttl, ok := parseDuration(d.RegistrationTTL); ok {
			p.RegistrationTTL = &ttl
		} else {
			p.servedTTL = d.RegistrationTTL
		}
	}
	for _, r := range d.AuthorizationRules {
		rule := SharedAccessAuthorizationRule{KeyName: r.KeyName, PrimaryKey: r.PrimaryKey, SecondaryKey: r.SecondaryKey}
		for _, x := range r.Rights {
			rule.Rights = append(rule.Rights, AccessRights(x))
		}
		rule.CreatedTime, _ = time.Parse(time.RFC3339Nano, r.CreatedTime)
		rule.ModifiedTime, _ = time.Parse(time.RFC3339Nano, r.ModifiedTime)
		p.AuthorizationRules = append(p.AuthorizationRules, rule)
	}
	p.IsDisabled = strings.EqualFold(d.Status, "true")
	p.UserMetadata = d.UserMetadata
	p.DailyMaxActiveDevices, _ = strconv.ParseInt(d.DailyMaxActiveDevices, 10, 64)
	p.DailyMaxActiveRegistrations, _ = strconv.ParseInt(d.DailyMaxActiveRegistrations, 10, 64)
	p.DailyAPICalls, _ = strconv.ParseInt(d.DailyAPICalls, 10, 64)
	for _, c := range d.Credentials {
		switch v := credentialFromWire(c).(type) {
		case ApnsCredential:
			p.ApnsCredential = v
		case *FcmV1Credential:
			p.FcmV1Credential = v
		case *GcmCredential:
			p.GcmCredential = v
		case *WnsCredential:
			p.WnsCredential = v
		case *MpnsCredential:
			p.MpnsCredential = v
		case *AdmCredential:
			p.AdmCredential = v
		case *BaiduCredential:
			p.BaiduCredential = v
		case *BrowserCredential:
			p.BrowserCredential = v
		case *XiaomiCredential:
			p.XiaomiCredential = v
		}
	}
	return p
}

// formatDuration writes d as an xs:duration the way .NET's XmlConvert
// writes a TimeSpan: P{days}DT{h}H{m}M{s.fffffff}S with zero parts left
// out, e.g. P39D or P1DT12H.
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "PT0S"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	b.WriteByte('P')
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	if days > 0 {
		fmt.Fprintf(&b, "%dD", days)
	}
	if d == 0 {
		return b.String()
	}
	b.WriteByte('T')
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	d -= m * time.Minute
	if h > 0 {
		fmt.Fprintf(&b, "%dH", h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%dM", m)
	}
	if d > 0 {
		s := d / time.Second
		frac := (d - s*time.Second) / 100 // ticks of 100 ns
		if frac > 0 {
			f := strings.TrimRight(fmt.Sprintf("%07d", frac), "0")
			fmt.Fprintf(&b, "%d.%sS", s, f)
		} else {
			fmt.Fprintf(&b, "%dS", s)
		}
	}
	return b.String()
}

// parseDuration reads an xs:duration of days, hours, minutes and seconds
// (no years or months, which a TimeSpan never has), exactly to the
// nanosecond. It reports false for what it cannot read and for durations
// past time.Duration's range, such as the service's default,
// TimeSpan.MaxValue (about 29,000 years): either way the caller treats the
// TTL as "never expires".
func parseDuration(s string) (time.Duration, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	rest, ok := strings.CutPrefix(s, "P")
	if !ok || rest == "" {
		return 0, false
	}
	total := new(big.Int)
	inTime, units := false, 0
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return 0, false
			}
			inTime = true
			rest = rest[1:]
			continue
		}
		i := strings.IndexAny(rest, "DHMSYW")
		if i <= 0 {
			return 0, false
		}
		var unit int64
		switch rest[i] {
		case 'D':
			unit = int64(24 * time.Hour)
		case 'H':
			if !inTime {
				return 0, false // hours come after T
			}
			unit = int64(time.Hour)
		case 'M':
			if !inTime {
				return 0, false // months
			}
			unit = int64(time.Minute)
		case 'S':
			if !inTime {
				return 0, false
			}
			unit = int64(time.Second)
		default:
			return 0, false
		}
		whole, frac, _ := strings.Cut(rest[:i], ".")
		if whole == "" && frac == "" || strings.Trim(whole+frac, "0123456789") != "" {
			return 0, false
		}
		if whole == "" {
			whole = "0"
		}
		w, _ := new(big.Int).SetString(whole, 10)
		total.Add(total, w.Mul(w, big.NewInt(unit)))
		if frac != "" {
			f, _ := new(big.Int).SetString(frac, 10)
			f.Mul(f, big.NewInt(unit))
			total.Add(total, f.Quo(f, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil)))
		}
		rest = rest[i+1:]
		units++
	}
	if units == 0 || !total.IsInt64() {
		return 0, false
	}
	d := time.Duration(total.Int64())
	if neg {
		d = -d
	}
	return d, true
}
