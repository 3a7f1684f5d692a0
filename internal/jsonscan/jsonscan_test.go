package jsonscan

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// cases are inputs for Valid: the grammar's corners, as json.Valid judges
// them.
var cases = []string{
	``, ` `, `{`, `}`, `[`, `]`, `{}`, `[]`, `[[]]`, `[{}]`, `{"a":[]}`, `{"a":{}}`, ` { } `, "\t[\r\n]\n",
	`{"a"}`, `{"a":}`, `{:1}`, `{1:1}`, `{"a":1,}`, `[1,]`, `[,1]`, `{"a":1 "b":2}`, `[1 2]`, `{"a":1}}`, `[1]]`, `[1}`, `{"a":1]`,
	`""`, `"a`, `"\"`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\u00e9"`, `"\u00E9"`, `"\u00g9"`, `"\u00e"`, `"\x"`, `"\'"`, "\"\x01\"", "\"\x7f\"", "\"\xff\"",
	`0`, `-0`, `01`, `-01`, `1.`, `.1`, `1.5`, `1e5`, `1E+5`, `1e-5`, `1e`, `1e+`, `-`, `+1`, `1.5e3`, `0.0`, `-0.0e0`, `1x`, `0x1`, `2 3`,
	`true`, `false`, `null`, `tru`, `truex`, `nul`, `nulll`, `True`, `[true,false,null]`, `{"a":true}`,
	`{} {}`, `{}x`, `{"a":"b"}` + "\x00",
}

// payloads are notification bodies of the kind the SDK checks.
var payloads = []string{
	`{"aps":{"alert":"Hello","badge":1,"content-available":1}}`,
	`{"message":{"notification":{"title":"t","body":"b"},"data":{"k":"v","n":"1"},"android":{"data":{"x":"y"}}}}`,
	`{"data":{"msg":"hi"},"notification":{"title":"t"}}`,
	`{"greeting_en":"Hello","greeting_fr":"Salut","a\u0062":"esc","a":"1","a":"2"}`,
	`{"title":"t","description":"d"}`,
}

func TestValidMatchesEncodingJSON(t *testing.T) {
	all := slices.Concat(cases, payloads)
	for _, d := range []int{MaxDepth - 1, MaxDepth, MaxDepth + 1, 10000, 10001} {
		all = append(all, strings.Repeat("[", d)+strings.Repeat("]", d), strings.Repeat(`{"a":`, d)+"1"+strings.Repeat("}", d),
			strings.Repeat("[", d)+strings.Repeat("]", d-1))
	}
	for _, c := range all {
		if got, want := Valid([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("Valid(%.40q) = %v, json.Valid says %v", c, got, want)
		}
	}
}

func TestValidAllocatesNothing(t *testing.T) {
	b := []byte(payloads[1])
	if n := testing.AllocsPerRun(100, func() { Valid(b) }); n != 0 {
		t.Errorf("Valid allocates %v times, want 0", n)
	}
}

// FuzzValid checks Valid against json.Valid.
func FuzzValid(f *testing.F) {
	for _, c := range slices.Concat(cases, payloads) {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

// TestWalkers: the members of an object, found by offset, are what
// encoding/json decodes, duplicates resolved the same way.
func TestWalkers(t *testing.T) {
	for _, c := range payloads {
		checkWalk(t, []byte(c))
	}
	b := []byte(` {"k" : [1, {"x":"}"}] , "s":"a\"b", "n":null, "t":true, "o":{}, "f":-1.5e3} `)
	checkWalk(t, b)
	i := SkipSpace(b, 0)
	for name, want := range map[string]string{"k": "an array", "s": "a string", "n": "null", "t": "a boolean", "o": "an object", "f": "a number"} {
		v := Lookup(b, i, name)
		if v < 0 {
			t.Fatalf("Lookup(%q) = -1", name)
		}
		if got := Kind(b, v); got != want {
			t.Errorf("Kind of %q = %q, want %q", name, got, want)
		}
	}
	if v := Lookup(b, i, "missing"); v != -1 {
		t.Errorf("Lookup(missing) = %d, want -1", v)
	}
}

// checkWalk compares LastValues (and so Members, SkipValue, Key) of the
// object b with encoding/json's decoding of it.
func checkWalk(t *testing.T, b []byte) {
	t.Helper()
	var want map[string]json.RawMessage
	if err := json.Unmarshal(b, &want); err != nil {
		return // not an object
	}
	i := SkipSpace(b, 0)
	vals, keys := LastValues(b, i)
	got := map[string]json.RawMessage{}
	for _, k := range keys {
		v := vals[k]
		got[k] = json.RawMessage(bytes.TrimSpace(b[v:SkipValue(b, v)]))
	}
	for k, raw := range want {
		want[k] = json.RawMessage(bytes.TrimSpace(raw))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("walking %q (-encoding/json +walkers):\n%s", b, d)
	}
	if !slices.IsSorted(keys) {
		t.Errorf("LastValues keys %q are not sorted", keys)
	}
	for it := Members(b, i); ; {
		m, ok := it.Next()
		if !ok {
			break
		}
		if !m.Is(m.Key()) {
			t.Errorf("member %s: Is(Key()) = false", m.RawKey)
		}
	}
}

// FuzzWalkers checks the walkers against encoding/json on every valid
// object in UTF-8 the fuzzer finds (the SDK checks UTF-8 before walking;
// encoding/json replaces invalid bytes in keys, the walkers keep them).
func FuzzWalkers(f *testing.F) {
	for _, c := range slices.Concat(cases, payloads) {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !Valid(b) || !utf8.Valid(b) {
			return
		}
		if i := SkipSpace(b, 0); i >= len(b) || b[i] != '{' {
			return
		}
		checkWalk(t, b)
	})
}
