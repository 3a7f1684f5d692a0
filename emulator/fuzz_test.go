package emulator

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode"
)

func FuzzParsePatch(f *testing.F) {
	f.Add(`[{"op":"add","path":"/tags","value":"a"}]`)
	f.Add(`[{"op":"replace","path":"/templates/t","value":"{\"body\":\"{}\",\"tags\":[\"x\"]}"}]`)
	f.Add(`[{"op":"remove","path":"/tags/a~1b"}]`)
	f.Add(`[{"op":"add","path":"/pushChannel","value":{"endpoint":"e","p256dh":"p","auth":"a"}}]`)
	f.Fuzz(func(t *testing.T, body string) {
		ops, err := parsePatch([]byte(body))
		if err != nil {
			return
		}
		in := &installation{id: "i", platform: pBrowser, pushChannel: "e", browser: &browserChannel{p256dh: "p", auth: "a"}, tags: []string{"x"}}
		for _, op := range ops {
			if len(op.Path) == 0 {
				t.Fatalf("op with empty path: %+v", op)
			}
			_ = in.apply(op)
		}
		_ = in.marshal()
	})
}

func FuzzParseBatch(f *testing.F) {
	f.Add(`multipart/mixed; boundary="b"`, "--b\r\nContent-Disposition: inline; name=notification\r\n\r\n{}\r\n--b\r\nContent-Disposition: inline; name=devices\r\n\r\n[\"a\"]\r\n--b--")
	f.Add(`multipart/mixed; boundary = "b"`, "--b\n\n{}\n--b\n\n['a','b']\n--b--")
	f.Fuzz(func(t *testing.T, ct, body string) {
		notif, handles, err := parseBatch(ct, []byte(body))
		if err != nil {
			return
		}
		if len(handles) == 0 || len(handles) > maxBatchHandles {
			t.Fatalf("accepted %d handles", len(handles))
		}
		_ = notif
	})
}

func FuzzParseFilter(f *testing.F) {
	f.Add("ChannelUri eq 'x'")
	f.Add("BaiduChannelId eq c' and BaiduUserId eq 'u'")
	f.Fuzz(func(t *testing.T, s string) {
		fl, err := parseFilter(s)
		// Only a filter of white space (as strings.TrimSpace has it:
		// unicode.IsSpace, U+2000 and the like included) means none.
		if err == nil && len(fl) == 0 && strings.TrimFunc(s, unicode.IsSpace) != "" {
			t.Fatalf("non-empty filter %q parsed to nothing", s)
		}
	})
}

// FuzzFcmV1Message checks the scanning fast path of fcmV1Message against
// decoding the body.
func FuzzFcmV1Message(f *testing.F) {
	for _, s := range []string{
		`{"message":{"notification":{"title":"t","body":"b"},"data":{"k":"v"}}}`,
		` { "message" : { } } `,
		`{"message":{"a":"}\"{"},"x":1}`,
		`{"message":{"a":1},"message":{"b":2}}`,
		`{"\u006dessage":{"a":1}}`,
		`{"message":[1,2]}`,
		`{"message":{"a":}}`,
		`{"message":{"a":"\\"}}`,
		`{"message":{"token":"old"}}`,
		`not json`,
		``,
	} {
		f.Add(s, "handle-1")
	}
	f.Fuzz(func(t *testing.T, body, handle string) {
		if got, want := fcmV1Message(body, handle), fcmV1MessageDecoded(body, handle); got != want {
			t.Fatalf("fcmV1Message(%q) = %q, decoding gives %q", body, got, want)
		}
	})
}

// FuzzWriteJSONString checks writeJSONString's plain fast path against
// encoding/json.
func FuzzWriteJSONString(f *testing.F) {
	for _, s := range []string{"", "abc", `a"b`, `a\b`, "a\nb", "<&>", "é", "\x7f", "\u2028", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want bytes.Buffer
		writeJSONString(&got, s)
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		want.Truncate(want.Len() - 1)
		if got.String() != want.String() {
			t.Fatalf("writeJSONString(%q) = %s, encoding/json gives %s", s, got.String(), want.String())
		}
	})
}
