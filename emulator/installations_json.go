package emulator

// An installation written as the service writes it: JSON in its field
// order, built by hand so that reads cost few allocations.

import (
	"bytes"
	"encoding/json"
	"fmt"
)

func writeJSONString(b *bytes.Buffer, s string) {
	if plainJSONString(s) {
		b.WriteByte('"')
		b.WriteString(s)
		b.WriteByte('"')
		return
	}
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Truncate(b.Len() - 1) // Encode's newline
}

func writeStringList(b *bytes.Buffer, l []string) {
	b.WriteByte('[')
	for i, s := range l {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(b, s)
	}
	b.WriteByte(']')
}

// marshal writes the installation in the service's key order.
func (in *installation) marshal() []byte {
	var b bytes.Buffer
	b.WriteString(`{"installationId":`)
	writeJSONString(&b, in.id)
	b.WriteString(`,"pushChannel":`)
	if in.platform == pBrowser && in.browser != nil {
		var sub bytes.Buffer
		sub.WriteString(`{"endpoint":`)
		writeJSONString(&sub, in.pushChannel)
		sub.WriteString(`,"p256dh":`)
		writeJSONString(&sub, in.browser.p256dh)
		sub.WriteString(`,"auth":`)
		writeJSONString(&sub, in.browser.auth)
		sub.WriteByte('}')
		if in.browser.asString {
			writeJSONString(&b, sub.String())
		} else {
			b.Write(sub.Bytes())
		}
	} else {
		writeJSONString(&b, in.pushChannel)
	}
	fmt.Fprintf(&b, `,"pushChannelExpired":%t,"platform":`, in.pushChannelExpired)
	writeJSONString(&b, platformNames[in.platform].inst)
	b.WriteString(`,"expirationTime":"` + expiryInstallation + `"`)
	if len(in.tags) > 0 {
		b.WriteString(`,"tags":`)
		writeStringList(&b, in.tags)
	}
	if len(in.pushVariables) > 0 {
		pv, _ := json.Marshal(in.pushVariables)
		b.WriteString(`,"pushVariables":`)
		b.Write(pv)
	}
	if len(in.templates) > 0 {
		b.WriteString(`,"templates":{`)
		for i, t := range in.templates {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(&b, t.name)
			b.WriteString(`:{"body":`)
			writeJSONString(&b, t.body)
			if len(t.headers) > 0 {
				b.WriteString(`,"headers":{`)
				for j, h := range t.headers {
					if j > 0 {
						b.WriteByte(',')
					}
					writeJSONString(&b, h.name)
					b.WriteByte(':')
					writeJSONString(&b, h.value)
				}
				b.WriteByte('}')
			}
			if t.expiry != "" {
				b.WriteString(`,"expiry":`)
				writeJSONString(&b, t.expiry)
			}
			b.WriteString(`,"tags":`)
			writeStringList(&b, appendUnique(append([]string(nil), t.tags...), t.name))
			b.WriteByte('}')
		}
		b.WriteByte('}')
	}
	if len(in.secondaryTiles) > 0 {
		b.WriteString(`,"secondaryTiles":`)
		b.Write(in.secondaryTiles)
	}
	if in.userID != "" {
		b.WriteString(`,"userId":`)
		writeJSONString(&b, in.userID)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// plainJSONString reports whether s is written in JSON as it is, between
// quotes: printable ASCII without '"' or '\\' (encoding/json with HTML
// escaping off leaves those bytes alone).
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}
