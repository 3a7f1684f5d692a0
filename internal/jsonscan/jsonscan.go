// Package jsonscan checks and walks JSON without decoding it and, in the
// common case, without allocating: the SDK validates every notification
// payload before a send with it (issue 7's budget for a send leaves no
// room for encoding/json's decode of a body the SDK only inspects).
//
// Valid is a one-pass syntax check equal to json.Valid (UTF-8 aside;
// FuzzValid holds it to that). The walkers (SkipSpace, SkipValue, Members,
// Lookup, LastValues, Kind) read a body Valid accepted, by byte offsets:
// duplicate keys count as encoding/json counts them, the last one wins.
//
// The package is one concern, a JSON scanner, and imports neither the SDK
// nor the emulator.
package jsonscan

import (
	"encoding/json"
	"maps"
	"slices"
)

// Valid reports whether b is one JSON value with optional whitespace
// around it, as json.Valid does (UTF-8 aside), in one pass without
// allocating. Bodies nested deeper than MaxDepth are left to
// json.Valid, which also enforces encoding/json's own depth limit.
func Valid(b []byte) bool {
	ok, sure := scan(b)
	if !sure {
		return json.Valid(b)
	}
	return ok
}

// MaxDepth is the nesting scan follows: one bit a level.
const MaxDepth = 64

// scan checks b; sure is false when b nests deeper than MaxDepth.
func scan(b []byte) (ok, sure bool) {
	const (
		wantValue  = iota // a value
		wantKey           // an object key (after '{' or ',')
		afterValue        // ',', a closing bracket, or the end
	)
	var objects uint64 // bit d set: level d+1 is an object
	depth := 0
	state := wantValue
	i := SkipSpace(b, 0)
	for {
		switch state {
		case wantValue:
			if i >= len(b) {
				return false, true
			}
			switch c := b[i]; {
			case c == '{' || c == '[':
				if depth == MaxDepth {
					return false, false
				}
				objects <<= 1
				depth++
				i = SkipSpace(b, i+1)
				if c == '{' {
					objects |= 1
					if i < len(b) && b[i] == '}' {
						i, state = i+1, afterValue
						objects >>= 1
						depth--
					} else {
						state = wantKey
					}
					continue
				}
				if i < len(b) && b[i] == ']' {
					i, state = i+1, afterValue
					objects >>= 1
					depth--
				}
				continue // a value, or ']'
			case c == '"':
				i = scanString(b, i)
			case c == '-' || '0' <= c && c <= '9':
				i = scanNumber(b, i)
			case c == 't':
				i = scanLiteral(b, i, "true")
			case c == 'f':
				i = scanLiteral(b, i, "false")
			case c == 'n':
				i = scanLiteral(b, i, "null")
			default:
				return false, true
			}
			if i < 0 {
				return false, true
			}
			state = afterValue
		case wantKey:
			if i >= len(b) || b[i] != '"' {
				return false, true
			}
			if i = scanString(b, i); i < 0 {
				return false, true
			}
			i = SkipSpace(b, i)
			if i >= len(b) || b[i] != ':' {
				return false, true
			}
			i, state = SkipSpace(b, i+1), wantValue
		case afterValue:
			i = SkipSpace(b, i)
			if depth == 0 {
				return i == len(b), true
			}
			if i >= len(b) {
				return false, true
			}
			closer := byte(']')
			if objects&1 == 1 {
				closer = '}'
			}
			switch b[i] {
			case ',':
				i = SkipSpace(b, i+1)
				if objects&1 == 1 {
					state = wantKey
				} else {
					state = wantValue
				}
			case closer:
				i++
				objects >>= 1
				depth--
			default:
				return false, true
			}
		}
	}
}

// scanString returns the offset just past the JSON string at b[i] == '"',
// or -1 if it is not one (a control character, a bad escape, no end).
func scanString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		for i < len(b) && plainStringByte[b[i]] {
			i++
		}
		if i >= len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			if i++; i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
					return -1
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

// plainStringByte marks the bytes that stand for themselves in a JSON
// string: not a quote, a backslash or a control character.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// scanNumber returns the offset just past the JSON number at b[i], or -1.
func scanNumber(b []byte, i int) int {
	digits := func(i int) int { // one or more
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return -1
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		return i
	}
	if b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if i = digits(i); i < 0 {
		return -1
	}
	if i < len(b) && b[i] == '.' {
		if i = digits(i + 1); i < 0 {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i = digits(i); i < 0 {
			return -1
		}
	}
	return i
}

// scanLiteral returns the offset just past lit at b[i], or -1.
func scanLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// The functions below walk a body that Valid accepted: they index it
// without bounds checks of their own, because valid JSON always closes
// what it opens. On anything else they may panic.

// SkipSpace returns the offset of the first byte at or after i that is
// not JSON whitespace.
func SkipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the offset just past the string that starts at
// b[i] == '"', and whether it holds an escape.
func skipString(b []byte, i int) (end int, escaped bool) {
	for i++; ; i++ {
		for plainStringByte[b[i]] {
			i++
		}
		switch b[i] {
		case '"':
			return i + 1, escaped
		case '\\':
			escaped = true
			i++
		}
	}
}

// SkipValue returns the offset just past the value that starts at b[i].
func SkipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		end, _ := skipString(b, i)
		return end
	case '{', '[':
		depth := 0
		for {
			switch b[i] {
			case '"':
				i, _ = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return i
		}
		i++
	}
	return i
}

// Member is one member of an object: its key as written (quotes
// included) and the offset of its value.
type Member struct {
	// RawKey is the key as written, quotes included.
	RawKey []byte
	// Escaped is set when the key holds an escape.
	Escaped bool
	// Value is the offset of the member's value.
	Value int
}

// Is reports whether the member's key, decoded, is name.
func (m Member) Is(name string) bool {
	if !m.Escaped {
		return string(m.RawKey[1:len(m.RawKey)-1]) == name
	}
	return m.Key() == name
}

// Key returns the member's key, decoded as encoding/json decodes it.
func (m Member) Key() string {
	if !m.Escaped {
		return string(m.RawKey[1 : len(m.RawKey)-1])
	}
	var s string
	_ = json.Unmarshal(m.RawKey, &s) // a valid JSON string
	return s
}

// MemberIter iterates the members of an object, in order, duplicates
// included.
type MemberIter struct {
	b []byte
	i int
}

// Members returns an iterator over the members of the object that starts
// at b[i] == '{'.
func Members(b []byte, i int) MemberIter { return MemberIter{b: b, i: i + 1} }

// Next returns the next member, or false after the last.
func (it *MemberIter) Next() (Member, bool) {
	b := it.b
	i := SkipSpace(b, it.i)
	if b[i] == ',' {
		i = SkipSpace(b, i+1)
	}
	if b[i] != '"' {
		return Member{}, false // '}'
	}
	end, esc := skipString(b, i)
	m := Member{RawKey: b[i:end], Escaped: esc}
	m.Value = SkipSpace(b, SkipSpace(b, end)+1) // past ':'
	it.i = SkipValue(b, m.Value)
	return m, true
}

// Lookup returns the offset of the value of the last member named name
// of the object at b[i], or -1.
func Lookup(b []byte, i int, name string) int {
	v := -1
	for it := Members(b, i); ; {
		m, ok := it.Next()
		if !ok {
			return v
		}
		if m.Is(name) {
			v = m.Value
		}
	}
}

// LastValues returns each key of the object at b[i] with the offset of
// its last value, and the keys sorted: the object as encoding/json
// decodes it into a map. Only error paths use it.
func LastValues(b []byte, i int) (map[string]int, []string) {
	vals := map[string]int{}
	for it := Members(b, i); ; {
		m, ok := it.Next()
		if !ok {
			break
		}
		vals[m.Key()] = m.Value
	}
	return vals, slices.Sorted(maps.Keys(vals))
}

// Kind names the type of the value at b[i], for error messages.
func Kind(b []byte, i int) string {
	switch b[i] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
