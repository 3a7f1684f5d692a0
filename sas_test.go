package notificationhubs_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	nh "github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/emulator"
	"github.com/nhkit/notificationhubs/emulator/emulatortest"
)

// sasTestKey looks like a portal key; it is used as written.
const sasTestKey = "xK3Hqw5d1Ws8gYm3ZcT9+eJb2nZQvYlR0aS0XkP5qTk="

// TestNewSASTokenKnownAnswer: the token of the article's resource (the
// endpoint and the hub, lower-cased), pinned by a signature computed
// independently with
//
//	printf '%s\n%s' https%3A%2F%2Fns.servicebus.windows.net%2Fhub 1700000000 |
//	  openssl dgst -sha256 -hmac "$key" -binary | base64
func TestNewSASTokenKnownAnswer(t *testing.T) {
	want := "SharedAccessSignature sr=https%3A%2F%2Fns.servicebus.windows.net%2Fhub" +
		"&sig=mA1zCPerRfWiyFN0HQUEPHpkiCn6HEb4CkMFwqbqzCg%3D&se=1700000000&skn=DefaultFullSharedAccessSignature"
	for _, uri := range []string{"https://NS.servicebus.windows.net/Hub", "sb://ns.servicebus.windows.net/hub"} {
		got, err := nh.NewSASToken(uri, "DefaultFullSharedAccessSignature", sasTestKey, time.Unix(1700000000, 0))
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("NewSASToken(%q) =\n%s\nwant\n%s", uri, got, want)
		}
	}
}

// TestSASTokenAgainstTheEmulator: a token made with NewSASToken
// authenticates a plain HTTP request (as curl would send it) for the hub
// it names, and not for another hub; ParseSASToken reads it back.
func TestSASTokenAgainstTheEmulator(t *testing.T) {
	srv := emulatortest.NewServer(t)
	cs, err := nh.ParseConnectionString(srv.ConnectionString)
	if err != nil {
		t.Fatal(err)
	}
	expiry := time.Now().Add(time.Hour)
	token, err := nh.NewSASToken(cs.Endpoint+"hub1", cs.SharedAccessKeyName, cs.SharedAccessKey, expiry)
	if err != nil {
		t.Fatal(err)
	}
	get := func(hub string) int {
		req, err := http.NewRequest("GET", srv.URL+"/"+hub+"/registrations?api-version=2020-06", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", token)
		resp, err := srv.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("hub1"); code != 200 {
		t.Errorf("GET with the token: %d, want 200", code)
	}
	if code := get("hub2"); code != 401 {
		t.Errorf("GET on another hub: %d, want 401", code)
	}

	p, err := nh.ParseSASToken(token)
	if err != nil {
		t.Fatal(err)
	}
	if p.ResourceURI != strings.ToLower(cs.Endpoint+"hub1") || p.KeyName != emulator.FullRuleName || !p.Expiry.Equal(expiry.Truncate(time.Second)) {
		t.Errorf("ParseSASToken = %q %q %v", p.ResourceURI, p.KeyName, p.Expiry)
	}
	if !p.ValidSignature(cs.SharedAccessKey) || p.ValidSignature(emulator.DefaultListenKey) {
		t.Error("ValidSignature: want true for the rule's key only")
	}
	if p.Expired(time.Now()) || !p.Expired(expiry.Add(time.Second)) {
		t.Error("Expired: wrong before or after the expiry")
	}
	if !p.Covers(cs.Endpoint+"hub1/messages") || !p.Covers(cs.Endpoint+"HUB1") || p.Covers(cs.Endpoint+"hub10") {
		t.Error("Covers: want the hub and its paths only")
	}
	// Without the scheme word, as some tools print it.
	if q, err := nh.ParseSASToken(strings.TrimPrefix(token, "SharedAccessSignature ")); err != nil || !q.ValidSignature(cs.SharedAccessKey) {
		t.Errorf("ParseSASToken without the prefix: %v", err)
	}
}

// TestSASTokenNeverShowsSecrets: String leaves the signature out and no
// error carries the key.
func TestSASTokenNeverShowsSecrets(t *testing.T) {
	token, err := nh.NewSASToken("https://ns.servicebus.windows.net/hub", "rule", sasTestKey, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	p, err := nh.ParseSASToken(token)
	if err != nil {
		t.Fatal(err)
	}
	sig := "mA1zCPerRfWiyFN0HQUEPHpkiCn6HEb4CkMFwqbqzCg"
	for _, s := range []string{p.String(), fmt.Sprintf("%v %+v %#v", p, p, p)} {
		if strings.Contains(s, sig) || !strings.Contains(s, "sig=REDACTED") {
			t.Errorf("printed token shows the signature or no REDACTED: %s", s)
		}
	}
	bad := []struct{ uri, name, key string }{
		{"", "rule", sasTestKey},
		{"ns.servicebus.windows.net/hub", "rule", sasTestKey},
		{"ftp://ns/hub", "rule", sasTestKey},
		{"https://ns/hub", "", sasTestKey},
		{"https://ns/hub", "a&b", sasTestKey},
		{"https://ns/hub", "rule", ""},
	}
	for _, b := range bad {
		_, err := nh.NewSASToken(b.uri, b.name, b.key, time.Unix(1700000000, 0))
		if err == nil {
			t.Errorf("NewSASToken(%q, %q) succeeded", b.uri, b.name)
			continue
		}
		if strings.Contains(err.Error(), sasTestKey) {
			t.Errorf("error shows the key: %v", err)
		}
	}
	if _, err := nh.ParseSASToken("SharedAccessSignature sr=x&sig=" + sig); err == nil || strings.Contains(err.Error(), sig) {
		t.Errorf("ParseSASToken of a token without se and skn: %v", err)
	}
}

// The first step of the article: a SAS token for the hub, for a device to
// register with or for curl. ParseSASToken reads one back.
func ExampleNewSASToken() {
	token, err := nh.NewSASToken("https://mynamespace.servicebus.windows.net/myhub",
		"DefaultListenSharedAccessSignature", "the rule's key", time.Now().Add(time.Hour))
	if err != nil {
		fmt.Println(err)
		return
	}
	// curl -H "Authorization: $token" 'https://mynamespace.servicebus.windows.net/myhub/registrations?api-version=2020-06'
	p, err := nh.ParseSASToken(token)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.ResourceURI)
	fmt.Println(p.KeyName)
	fmt.Println(p.ValidSignature("the rule's key"), p.Expired(time.Now()))
	fmt.Println(p.Covers("https://mynamespace.servicebus.windows.net/myhub/messages"))
	// Output:
	// https://mynamespace.servicebus.windows.net/myhub
	// DefaultListenSharedAccessSignature
	// true false
	// true
}
