package sas

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testKey looks like a portal key; it is used as raw UTF-8 bytes, never
// base64-decoded.
const testKey = "xK3Hqw5d1Ws8gYm3ZcT9+eJb2nZQvYlR0aS0XkP5qTk="

var testExpiry = time.Unix(1700000000, 0)

// The expected signatures below were computed independently of this
// package with
//
//	printf '%s\n%s' "<sr>" 1700000000 | openssl dgst -sha256 -hmac "$testKey" -binary | base64
//
// where <sr> is the string to sign shown in each case.
func TestSignKnownAnswers(t *testing.T) {
	tests := []struct {
		name     string
		audience string
		want     string
	}{
		{
			name:     ".NET full request URI, http, no port",
			audience: "http://ns.servicebus.windows.net/hub/messages/",
			// sr: http%3A%2F%2Fns.servicebus.windows.net%2Fhub%2Fmessages%2F
			want: "SharedAccessSignature sr=http%3A%2F%2Fns.servicebus.windows.net%2Fhub%2Fmessages%2F" +
				"&sig=P1tybQAQeL5wUXT9INFSB%2B%2BXH%2FpLJCBgv8oNIxMsQCM%3D&se=1700000000&skn=DefaultFullSharedAccessSignature",
		},
		{
			name:     "JS namespace root with port",
			audience: "https://127.0.0.1:18443/",
			// sr: https%3A%2F%2F127.0.0.1%3A18443%2F
			want: "SharedAccessSignature sr=https%3A%2F%2F127.0.0.1%3A18443%2F" +
				"&sig=sthS5YsVVzmOvrfO%2BsPYzEdK1Is%2BZd6jtlhGBtAJ4NQ%3D&se=1700000000&skn=DefaultFullSharedAccessSignature",
		},
		{
			name:     "Java full URI with query",
			audience: "https://ns.servicebus.windows.net/hub/registrations?api-version=2020-06",
			// sr: https%3A%2F%2Fns.servicebus.windows.net%2Fhub%2Fregistrations%3Fapi-version%3D2020-06
			want: "SharedAccessSignature sr=https%3A%2F%2Fns.servicebus.windows.net%2Fhub%2Fregistrations%3Fapi-version%3D2020-06" +
				"&sig=cPlXVQdfvX5L0FBcTW4vLKvC%2B1fUtTm6H4%2BQ23rX4Ck%3D&se=1700000000&skn=DefaultFullSharedAccessSignature",
		},
		{
			name: "Python sample / docs: endpoint + hub, lower-cased",
			// Upper case in the input must be lower-cased before signing.
			audience: "https://NS.servicebus.windows.net/Hub",
			// sr: https%3A%2F%2Fns.servicebus.windows.net%2Fhub
			want: "SharedAccessSignature sr=https%3A%2F%2Fns.servicebus.windows.net%2Fhub" +
				"&sig=mA1zCPerRfWiyFN0HQUEPHpkiCn6HEb4CkMFwqbqzCg%3D&se=1700000000&skn=DefaultFullSharedAccessSignature",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sign(tt.audience, "DefaultFullSharedAccessSignature", testKey, testExpiry)
			if got != tt.want {
				t.Errorf("Sign() =\n%s\nwant\n%s", got, tt.want)
			}
			tok, err := Parse(got)
			if err != nil {
				t.Fatalf("Parse(Sign()) error: %v", err)
			}
			if !tok.ValidSignature(testKey) {
				t.Errorf("ValidSignature(key) = false for own token")
			}
			if tok.ValidSignature(testKey + "x") {
				t.Errorf("ValidSignature(wrong key) = true")
			}
		})
	}
}

// TestValidSignatureClientEncodings checks tokens as each client writes
// them on the wire. Signatures computed with openssl over the raw sr shown.
func TestValidSignatureClientEncodings(t *testing.T) {
	tests := []struct {
		name   string
		header string
		wantOK bool
	}{
		{
			// HttpUtility.UrlEncode: lowercase hex in sr and sig.
			// sr: http%3a%2f%2fns.servicebus.windows.net%2fhub%2fmessages%2f
			name:   ".NET lowercase hex",
			header: "SharedAccessSignature sr=http%3a%2f%2fns.servicebus.windows.net%2fhub%2fmessages%2f&sig=xYYWE1RkUgDRgZ8TC6JSr%2ft5Xb%2burPo9eZk3IL8GhOk%3d&se=1700000000&skn=DefaultFullSharedAccessSignature",
			wantOK: true,
		},
		{
			// encodeURIComponent: uppercase hex.
			name:   "JS uppercase hex",
			header: "SharedAccessSignature sr=https%3A%2F%2F127.0.0.1%3A18443%2F&sig=sthS5YsVVzmOvrfO%2BsPYzEdK1Is%2BZd6jtlhGBtAJ4NQ%3D&se=1700000000&skn=DefaultFullSharedAccessSignature",
			wantOK: true,
		},
		{
			// URLEncoder.encode(uri).toLowerCase(); sig uppercase.
			// sr: https%3a%2f%2fns.servicebus.windows.net%2fhub%2fregistrations%3fapi-version%3d2020-06
			name:   "Java lowercased URI with query",
			header: "SharedAccessSignature sr=https%3a%2f%2fns.servicebus.windows.net%2fhub%2fregistrations%3fapi-version%3d2020-06&sig=XiskMBJpPYlRtz6950GaFWrNgXzjTk4huT22z9O6SGs%3D&se=1700000000&skn=DefaultFullSharedAccessSignature",
			wantOK: true,
		},
		{
			// quote(uri,'').lower() for sr, quote(sig) leaves '/' alone;
			// docs order: sig first.
			// sr: https%3a%2f%2fns.servicebus.windows.net%2fhub
			name:   "Python sample, sig first, '/' unescaped in sig",
			header: "SharedAccessSignature sig=FqWwX0TczVbMG/e5ePGbXV3w/t1%2BLLjgvx%2BcGh2qlJw%3D&se=1700000000&skn=DefaultFullSharedAccessSignature&sr=https%3a%2f%2fns.servicebus.windows.net%2fhub",
			wantOK: true,
		},
		{
			name:   "sig with raw '+' and '=' is accepted",
			header: "SharedAccessSignature sr=https%3a%2f%2fns.servicebus.windows.net%2fhub&sig=FqWwX0TczVbMG/e5ePGbXV3w/t1+LLjgvx+cGh2qlJw=&se=1700000000&skn=DefaultFullSharedAccessSignature",
			wantOK: true,
		},
		{
			// The .NET signature (over lowercase hex) must not verify once
			// sr is re-encoded with uppercase hex: the raw text is signed.
			name:   "re-encoded sr does not verify",
			header: "SharedAccessSignature sr=http%3A%2F%2Fns.servicebus.windows.net%2Fhub%2Fmessages%2F&sig=xYYWE1RkUgDRgZ8TC6JSr%2ft5Xb%2burPo9eZk3IL8GhOk%3d&se=1700000000&skn=DefaultFullSharedAccessSignature",
			wantOK: false,
		},
		{
			name:   "other expiry does not verify",
			header: "SharedAccessSignature sr=https%3A%2F%2F127.0.0.1%3A18443%2F&sig=sthS5YsVVzmOvrfO%2BsPYzEdK1Is%2BZd6jtlhGBtAJ4NQ%3D&se=1700000001&skn=DefaultFullSharedAccessSignature",
			wantOK: false,
		},
		{
			name:   "signature not base64",
			header: "SharedAccessSignature sr=https%3A%2F%2F127.0.0.1%3A18443%2F&sig=not*base64&se=1700000000&skn=k",
			wantOK: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Parse(tt.header)
			if err != nil {
				t.Fatalf("Parse() error: %v", err)
			}
			if got := tok.ValidSignature(testKey); got != tt.wantOK {
				t.Errorf("ValidSignature() = %v, want %v", got, tt.wantOK)
			}
		})
	}
}

func TestParse(t *testing.T) {
	want := Token{
		RawAudience: "http%3a%2f%2fns.servicebus.windows.net%2fhub",
		Audience:    "http://ns.servicebus.windows.net/hub",
		RawExpiry:   "1700000000",
		Expiry:      time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC),
		Signature:   "ab+c/d==",
		KeyName:     "RootManageSharedAccessKey",
	}
	inputs := []string{
		"SharedAccessSignature sr=http%3a%2f%2fns.servicebus.windows.net%2fhub&sig=ab%2Bc%2Fd%3D%3D&se=1700000000&skn=RootManageSharedAccessKey",
		"sharedaccesssignature skn=RootManageSharedAccessKey&se=1700000000&sig=ab%2Bc%2Fd%3D%3D&sr=http%3a%2f%2fns.servicebus.windows.net%2fhub",
		"  SHAREDACCESSSIGNATURE   sr = http%3a%2f%2fns.servicebus.windows.net%2fhub & sig=ab+c/d== &se=1700000000&&skn=RootManageSharedAccessKey&extra=1  ",
		"SharedAccessSignature\tSR=http%3a%2f%2fns.servicebus.windows.net%2fhub&SIG=ab%2bc%2fd%3d%3d&SE=1700000000&SKN=RootManageSharedAccessKey",
	}
	for _, in := range inputs {
		got, err := Parse(in)
		if err != nil {
			t.Errorf("Parse(%q) error: %v", in, err)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Parse(%q) mismatch (-want +got):\n%s", in, diff)
		}
	}
}

func TestParseErrors(t *testing.T) {
	const secretSig = "SECRETSIGNATUREVALUE"
	tests := []struct {
		in      string
		wantMsg string
	}{
		{"", "does not start with"},
		{"Bearer abc", "does not start with"},
		{"SharedAccessSignaturesr=a&sig=" + secretSig + "&se=1&skn=k", "no space"},
		{"SharedAccessSignature", "no space"},
		{"SharedAccessSignature sig=" + secretSig + "&se=1&skn=k", `"sr" is missing`},
		{"SharedAccessSignature sr=a&se=1&skn=k", `"sig" is missing`},
		{"SharedAccessSignature sr=a&sig=" + secretSig + "&skn=k", `"se" is missing`},
		{"SharedAccessSignature sr=a&sig=" + secretSig + "&se=1", `"skn" is missing`},
		{"SharedAccessSignature sr=a&sig=" + secretSig + "&se=soon&skn=k", `"se" is not a whole number`},
		{"SharedAccessSignature sr=a&sig=" + secretSig + "&se=-5&skn=k", `"se" is not a whole number`},
		{"SharedAccessSignature sr=a&sig=" + secretSig + "&se=1.5&skn=k", `"se" is not a whole number`},
		{"SharedAccessSignature sr=a&sig=" + secretSig + "&se=1&skn=k&sig=" + secretSig, `duplicate field "sig"`},
		{"SharedAccessSignature sr=a&" + secretSig + "&se=1&skn=k", "field without '='"},
		{"SharedAccessSignature sr=%zz&sig=" + secretSig + "&se=1&skn=k", `"sr" is not percent-encoded`},
		{"SharedAccessSignature sr=a&sig=" + secretSig + "%zz&se=1&skn=k", `"sig" is not percent-encoded`},
		{"SharedAccessSignature sr=&sig=" + secretSig + "&se=1&skn=k", `"sr" is empty`},
		{"SharedAccessSignature sr=a&sig=&se=1&skn=k", `"sig" is empty`},
		{"SharedAccessSignature sr=a&sig=" + secretSig + "&se=1&skn=", `"skn" is empty`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = nil error, want %q", tt.in, tt.wantMsg)
			continue
		}
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) error %v does not wrap ErrMalformed", tt.in, err)
		}
		if !strings.Contains(err.Error(), tt.wantMsg) {
			t.Errorf("Parse(%q) error = %q, want it to contain %q", tt.in, err, tt.wantMsg)
		}
		if strings.Contains(err.Error(), secretSig) {
			t.Errorf("Parse(%q) error leaks the signature: %q", tt.in, err)
		}
	}
}

func TestExpiry(t *testing.T) {
	tok, err := Parse(Sign("https://ns/hub", "k", "key", time.Unix(1700000000, 0)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.RawExpiry, "1700000000"; got != want {
		t.Errorf("RawExpiry = %q, want %q", got, want)
	}
	if !tok.Expiry.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("Expiry = %v", tok.Expiry)
	}
	if tok.Expired(time.Unix(1700000000, 0)) {
		t.Errorf("Expired(at expiry) = true, want false")
	}
	if !tok.Expired(time.Unix(1700000001, 0)) {
		t.Errorf("Expired(after expiry) = false, want true")
	}
	if tok.Expired(time.Unix(1699999999, 0)) {
		t.Errorf("Expired(before expiry) = true, want false")
	}
}

func TestCovers(t *testing.T) {
	tests := []struct {
		audience   string
		host, path string
		want       bool
	}{
		// .NET: scheme http, no port, full path with trailing slash.
		{"http://ns.servicebus.windows.net/hub/messages/", "ns.servicebus.windows.net", "/hub/messages", true},
		{"http://ns.servicebus.windows.net/hub/messages/", "ns.servicebus.windows.net", "/hub/messages/", true},
		{"http://ns.servicebus.windows.net/hub/messages/", "ns.servicebus.windows.net", "/hub/registrations", false},
		{"http://ns.servicebus.windows.net/hub/registrations/abc/", "ns.servicebus.windows.net", "/hub/registrations/abc", true},
		// JS: namespace root with port; the request host has none.
		{"https://127.0.0.1:18443/", "127.0.0.1", "/hub/messages", true},
		{"https://127.0.0.1:18443/", "127.0.0.1:18443", "/hub/installations/x", true},
		{"https://127.0.0.1:18443/", "127.0.0.2", "/hub/messages", false},
		{"https://localhost:18443/", "LOCALHOST", "/Hub/Messages", true},
		// Java: full URI with query; the query is ignored.
		{"https://ns.servicebus.windows.net/hub/registrations?api-version=2020-06", "ns.servicebus.windows.net", "/hub/registrations", true},
		{"https://ns.servicebus.windows.net/hub/registrations?api-version=2020-06", "ns.servicebus.windows.net", "/hub/registrations/123", true},
		{"https://ns.servicebus.windows.net/hub/registrations?api-version=2020-06", "ns.servicebus.windows.net", "/hub/messages", false},
		// Python sample / docs: endpoint + hub.
		{"https://ns.servicebus.windows.net/hub", "ns.servicebus.windows.net", "/hub/messages", true},
		{"https://ns.servicebus.windows.net/hub", "ns.servicebus.windows.net", "/hub", true},
		{"https://ns.servicebus.windows.net/hub", "ns.servicebus.windows.net", "/HUB/Messages", true},
		{"https://NS.servicebus.windows.net/HUB", "ns.servicebus.windows.net", "/hub/messages", true},
		// Prefix only on a '/' boundary.
		{"https://ns.servicebus.windows.net/hub", "ns.servicebus.windows.net", "/hub2/messages", false},
		{"https://ns.servicebus.windows.net/hub", "ns.servicebus.windows.net", "/hub2", false},
		{"https://ns.servicebus.windows.net/hub/messages", "ns.servicebus.windows.net", "/hub", false},
		{"https://ns.servicebus.windows.net", "ns.servicebus.windows.net.evil", "/hub", false},
		{"https://ns.servicebus.windows", "ns.servicebus.windows.net", "/hub", false},
		// Another namespace.
		{"https://other.servicebus.windows.net/hub", "ns.servicebus.windows.net", "/hub/messages", false},
		// Without a scheme.
		{"ns.servicebus.windows.net/hub", "ns.servicebus.windows.net", "/hub/messages", true},
		// Path tricks are cleaned.
		{"https://ns/hub", "ns", "/hub/../other", false},
		// No host.
		{"https:///hub", "ns", "/hub", false},
		{"", "ns", "/hub", false},
	}
	for _, tt := range tests {
		tok := Token{Audience: tt.audience}
		if got := tok.Covers(tt.host, tt.path); got != tt.want {
			t.Errorf("Token{Audience: %q}.Covers(%q, %q) = %v, want %v", tt.audience, tt.host, tt.path, got, tt.want)
		}
	}
}

// TestCoversParsedTokens runs Covers on tokens as the clients send them.
func TestCoversParsedTokens(t *testing.T) {
	tok, err := Parse("SharedAccessSignature sr=http%3a%2f%2fns.servicebus.windows.net%2fhub%2fmessages%2f&sig=x&se=1&skn=k")
	if err != nil {
		t.Fatal(err)
	}
	if !tok.Covers("ns.servicebus.windows.net", "/hub/messages") {
		t.Errorf(".NET token does not cover its request")
	}
	tok, err = Parse("SharedAccessSignature sr=https%3A%2F%2F127.0.0.1%3A18443%2F&sig=x&se=1&skn=k")
	if err != nil {
		t.Fatal(err)
	}
	if !tok.Covers("127.0.0.1", "/myhub/registrations") {
		t.Errorf("JS token does not cover its request")
	}
}

func FuzzParse(f *testing.F) {
	f.Add("SharedAccessSignature sr=https%3A%2F%2F127.0.0.1%3A18443%2F&sig=sthS5YsVVzmOvrfO%2BsPYzEdK1Is%2BZd6jtlhGBtAJ4NQ%3D&se=1700000000&skn=DefaultFullSharedAccessSignature")
	f.Add("sharedaccesssignature sig=a/b+c=&se=1&skn=k&sr=ns%2fhub")
	f.Add("SharedAccessSignature sr=%zz&sig=&se=&skn=")
	f.Add("SharedAccessSignature  &&&=&")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Parse(s)
		if err != nil {
			if tok != (Token{}) {
				t.Errorf("Parse returned a token with an error")
			}
			return
		}
		if tok.RawAudience == "" || tok.Signature == "" || tok.KeyName == "" || tok.RawExpiry == "" {
			t.Errorf("Parse accepted a token with an empty field: %+v", tok)
		}
		_ = tok.ValidSignature("key")
		_ = tok.Covers("ns", "/hub")
		// A token signed for its own audience verifies.
		again, err := Parse(Sign(tok.Audience, tok.KeyName, "key", tok.Expiry))
		if err != nil {
			t.Fatalf("Parse(Sign()) error: %v", err)
		}
		if !again.ValidSignature("key") {
			t.Errorf("own signature does not verify")
		}
	})
}

func BenchmarkSign(b *testing.B) {
	for b.Loop() {
		Sign("https://ns.servicebus.windows.net/hub", "DefaultFullSharedAccessSignature", testKey, testExpiry)
	}
}

func BenchmarkVerify(b *testing.B) {
	h := Sign("https://ns.servicebus.windows.net/hub", "DefaultFullSharedAccessSignature", testKey, testExpiry)
	for b.Loop() {
		tok, err := Parse(h)
		if err != nil || !tok.ValidSignature(testKey) || !tok.Covers("ns.servicebus.windows.net", "/hub/messages") {
			b.Fatal("verify failed")
		}
	}
}
