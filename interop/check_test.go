package interop_test

import (
	"strings"
	"testing"

	"github.com/nhkit/notificationhubs/emulator"
)

func ptr[T any](v T) *T { return &v }

// TestCheckExpectation tests the checker that judges the clients' sends, so
// that a checker which accepts everything cannot hide an emulator bug.
func TestCheckExpectation(t *testing.T) {
	d := func(handle, payload string) emulator.Delivery {
		return emulator.Delivery{Handle: handle, Payload: payload, Format: "apple", Outcome: "Success",
			Headers: map[string]string{"x-wns-type": "wns/toast"}}
	}
	tests := []struct {
		name string
		e    expectation
		ds   []emulator.Delivery
		bad  int // number of problems reported
	}{
		{"exact match", expectation{Handles: []string{"A", "B"}, Exact: true}, []emulator.Delivery{d("B", ""), d("A", "")}, 0},
		{"exact missing", expectation{Handles: []string{"A", "B"}, Exact: true}, []emulator.Delivery{d("A", "")}, 1},
		{"exact extra", expectation{Handles: []string{"A"}, Exact: true}, []emulator.Delivery{d("A", ""), d("C", "")}, 1},
		{"exact duplicate", expectation{Handles: []string{"A"}, Exact: true}, []emulator.Delivery{d("A", ""), d("A", "")}, 1},
		{"exact none wanted", expectation{Handles: []string{}, Exact: true}, []emulator.Delivery{d("A", "")}, 1},
		{"skipped ignored", expectation{Handles: []string{"A"}, Exact: true},
			[]emulator.Delivery{d("A", ""), {Handle: "A", Outcome: "Skipped"}}, 0},
		{"subset ok", expectation{Handles: []string{"a"}}, []emulator.Delivery{d("A", ""), d("C", "")}, 0},
		{"subset missing", expectation{Handles: []string{"B"}}, []emulator.Delivery{d("A", "")}, 1},
		{"excluded", expectation{Excludes: []string{"C"}}, []emulator.Delivery{d("A", ""), d("C", "")}, 1},
		{"none ok", expectation{None: true}, nil, 0},
		{"none violated", expectation{None: true}, []emulator.Delivery{d("A", "")}, 1},
		{"count and oneOf ok", expectation{OneOf: []string{"u-c", "c"}, Count: ptr(1)}, []emulator.Delivery{d("c", "")}, 0},
		{"oneOf wrong handle", expectation{OneOf: []string{"u-c"}, Count: ptr(1)}, []emulator.Delivery{d("x", "")}, 1},
		{"count wrong", expectation{Count: ptr(1)}, nil, 1},
		{"json payload equal", expectation{Payloads: map[string]string{"A": `{"a":1,"b":"x"}`}},
			[]emulator.Delivery{d("A", `{"b":"x", "a":1}`)}, 0},
		{"json payload differs", expectation{Payloads: map[string]string{"A": `{"a":1}`}},
			[]emulator.Delivery{d("A", `{"a":"1"}`)}, 1},
		{"fcm legacy target filled in", expectation{Payloads: map[string]string{"A": `{"data":{"m":"x"}}`}},
			[]emulator.Delivery{d("A", `{"to":"A","data":{"m":"x"}}`)}, 0},
		{"fcm v1 target filled in", expectation{Payloads: map[string]string{"A": `{"message":{"data":{"m":"x"}}}`}},
			[]emulator.Delivery{d("A", `{"message":{"data":{"m":"x"},"token":"A"}}`)}, 0},
		{"fcm v1 wrong target", expectation{Payloads: map[string]string{"A": `{"message":{"data":{"m":"x"}}}`}},
			[]emulator.Delivery{d("A", `{"message":{"data":{"m":"x"},"token":"B"}}`)}, 1},
		{"text payload differs", expectation{Payloads: map[string]string{"A": `<toast/>`}},
			[]emulator.Delivery{d("A", `<tile/>`)}, 1},
		{"contains", expectation{Contains: map[string]string{"A": ">Hi<"}}, []emulator.Delivery{d("A", "<t>Hi</t>")}, 0},
		{"contains missing", expectation{Contains: map[string]string{"A": ">Hi<"}}, []emulator.Delivery{d("A", "<t>Ho</t>")}, 1},
		{"format", expectation{Format: "gcm"}, []emulator.Delivery{d("A", "")}, 1},
		{"header case-insensitive", expectation{Headers: map[string]string{"X-WNS-Type": "wns/toast"}}, []emulator.Delivery{d("A", "")}, 0},
		{"header value", expectation{Headers: map[string]string{"X-WNS-Type": "wns/tile"}}, []emulator.Delivery{d("A", "")}, 1},
		{"header missing", expectation{Headers: map[string]string{"P256DH": "k"}}, []emulator.Delivery{d("A", "")}, 1},
		{"test flag", expectation{Test: ptr(true)}, []emulator.Delivery{d("A", "")}, 1},
		{"direct flag", expectation{Direct: ptr(false)}, []emulator.Delivery{d("A", "")}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkExpectation(tt.e, tt.ds)
			if len(got) != tt.bad {
				t.Errorf("checkExpectation reported %d problems, want %d: %q", len(got), tt.bad, got)
			}
		})
	}
}

// TestLogRedaction checks that client output cannot carry a key or a SAS
// signature into the test log.
func TestLogRedaction(t *testing.T) {
	w := &logWriter{secrets: []string{"s3cr3tKey="}}
	tests := []struct{ in, leak string }{
		{"connection SharedAccessKey=s3cr3tKey=;x", "s3cr3tKey"},
		{`"Authorization": "SharedAccessSignature sig=abc%2B&se=1&skn=r&sr=x"`, "abc%2B"},
		{"send: b'POST /h/messages HTTP/1.1\\r\\nAuthorization: SharedAccessSignature sr=a&sig=zzz&se=1'", "zzz"},
		{"url?sig=qqq&se=2", "qqq"},
	}
	for _, tt := range tests {
		got := w.redact(tt.in)
		if strings.Contains(got, tt.leak) {
			t.Errorf("redact(%q) = %q, still contains %q", tt.in, got, tt.leak)
		}
		if !strings.Contains(got, "REDACTED") {
			t.Errorf("redact(%q) = %q, want a REDACTED marker", tt.in, got)
		}
	}
	if got := w.redact("plain line"); got != "plain line" {
		t.Errorf("redact changed a line without secrets: %q", got)
	}
}

func TestWrongKey(t *testing.T) {
	cs := "Endpoint=sb://127.0.0.1:1/;SharedAccessKeyName=DefaultFullSharedAccessSignature;SharedAccessKey=abc="
	got := wrongKey(t, cs)
	if sharedAccessKey(got) == "abc=" || sharedAccessKey(got) == "" {
		t.Errorf("wrongKey kept or dropped the key")
	}
	if want := "Endpoint=sb://127.0.0.1:1/;SharedAccessKeyName=DefaultFullSharedAccessSignature;"; !strings.HasPrefix(got, want) {
		t.Errorf("wrongKey changed the rest of the connection string")
	}
}
