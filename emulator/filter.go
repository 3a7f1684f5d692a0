package emulator

// The $filter of registration listings: the few clauses the service
// accepts (ChannelUri eq '…', DeviceToken eq '…', …), parsed and matched.

import (
	"net/url"
	"strings"
)

type clause struct{ prop, value string }

type filter []clause

// parseFilter parses `Prop eq 'value' [and Prop eq 'value']…`, tolerating
// the JS Baidu missing-quote bug. Empty means no filter (nil).
func parseFilter(s string) (filter, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	unsupported := badRequest("Notification hubs do not support this query: " + s)
	var f filter
	for {
		s = strings.TrimSpace(s)
		i := strings.IndexAny(s, " \t")
		if i <= 0 {
			return nil, unsupported
		}
		prop := strings.ToLower(s[:i])
		s = strings.TrimSpace(s[i:])
		if len(s) < 3 || !strings.EqualFold(s[:2], "eq") || (s[2] != ' ' && s[2] != '\t') {
			return nil, unsupported
		}
		s = strings.TrimSpace(s[2:])
		var val strings.Builder
		if strings.HasPrefix(s, "'") {
			s = s[1:]
			closed := false
			for len(s) > 0 {
				if s[0] == '\'' {
					if len(s) > 1 && s[1] == '\'' {
						val.WriteByte('\'')
						s = s[2:]
						continue
					}
					s = s[1:]
					closed = true
					break
				}
				val.WriteByte(s[0])
				s = s[1:]
			}
			if !closed {
				return nil, unsupported
			}
		} else {
			// Missing opening quote: read up to a quote, " and " or the end.
			end := len(s)
			if j := strings.IndexByte(s, '\''); j >= 0 {
				end = j
			}
			if j := strings.Index(asciiLower(s), " and "); j >= 0 && j < end {
				end = j
			}
			val.WriteString(s[:end])
			s = s[end:]
			s = strings.TrimPrefix(s, "'")
		}
		switch prop {
		case "channeluri", "devicetoken", "gcmregistrationid", "fcmv1registrationid", "fcmregistrationid",
			"admregistrationid", "xiaomiregistrationid", "baiduchannelid", "baiduuserid", "endpoint", "p256dh", "auth":
		default:
			return nil, unsupported
		}
		f = append(f, clause{prop, val.String()})
		s = strings.TrimSpace(s)
		if s == "" {
			return f, nil
		}
		if len(s) < 4 || !strings.EqualFold(s[:3], "and") || (s[3] != ' ' && s[3] != '\t') {
			return nil, unsupported
		}
		s = s[3:]
	}
}

func (f filter) match(t *target) bool {
	for _, c := range f {
		if !c.match(t) {
			return false
		}
	}
	return true
}

// eqValue compares a stored value with a literal, and with the literal
// percent-decoded once more (JS encodes channel URIs inside the literal).
func eqValue(stored, lit string) bool {
	if stored == lit {
		return true
	}
	if dec, err := url.QueryUnescape(lit); err == nil && dec != lit {
		return stored == dec
	}
	return false
}

func (c clause) match(t *target) bool {
	plat := func(ps ...platform) bool {
		for _, p := range ps {
			if t.platform == p {
				return true
			}
		}
		return false
	}
	// Handles compare exactly as stored. APNs device tokens are stored
	// upper-case, and the service's reference says the filter must be
	// upper-case hex too: a lower-case token finds nothing (docs/wire.md).
	switch c.prop {
	case "channeluri":
		return eqValue(t.handle, c.value)
	case "devicetoken":
		return plat(pApple) && eqValue(t.handle, c.value)
	case "gcmregistrationid", "fcmregistrationid":
		return plat(pGcm) && eqValue(t.handle, c.value)
	case "fcmv1registrationid":
		return plat(pFcmV1) && eqValue(t.handle, c.value)
	case "admregistrationid":
		return plat(pAdm) && eqValue(t.handle, c.value)
	case "xiaomiregistrationid":
		return plat(pXiaomi) && eqValue(t.handle, c.value)
	case "baiduuserid", "baiduchannelid":
		if !plat(pBaidu) {
			return false
		}
		user, channel, _ := strings.Cut(t.handle, "-")
		if t.reg != nil {
			user, channel = t.reg.desc.BaiduUserID, t.reg.desc.BaiduChannelID
		}
		if c.prop == "baiduuserid" {
			return eqValue(user, c.value)
		}
		return eqValue(channel, c.value)
	case "endpoint", "p256dh", "auth":
		if !plat(pBrowser) {
			return false
		}
		var ep, p256, auth string
		if t.reg != nil {
			ep, p256, auth = t.reg.desc.Endpoint, t.reg.desc.P256DH, t.reg.desc.Auth
		} else if t.inst.browser != nil {
			ep, p256, auth = t.inst.pushChannel, t.inst.browser.p256dh, t.inst.browser.auth
		}
		switch c.prop {
		case "endpoint":
			return eqValue(ep, c.value)
		case "p256dh":
			return eqValue(p256, c.value)
		default:
			return eqValue(auth, c.value)
		}
	}
	return false
}
