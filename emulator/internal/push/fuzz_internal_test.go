package push

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzFcmBody: any accepted body comes out as an FCM v1 request whose one
// target is the device token, every other member kept.
func FuzzFcmBody(f *testing.F) {
	f.Add([]byte(`{"message":{"notification":{"title":"t"},"topic":"x"}}`), "tok")
	f.Add([]byte(`{"message":{},"validate_only":true}`), "a\"b")
	f.Add([]byte(`{"message":null}`), "")
	f.Fuzz(func(t *testing.T, payload []byte, handle string) {
		out, err := fcmBody(payload, handle)
		if err != nil {
			return
		}
		var in, got struct {
			Message map[string]json.RawMessage `json:"message"`
		}
		json.Unmarshal(payload, &in)
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("output %q is not JSON: %v", out, err)
		}
		// JSON carries invalid UTF-8 as U+FFFD: compare with the handle as
		// JSON gives it back.
		var tok, want string
		b, _ := json.Marshal(handle)
		json.Unmarshal(b, &want)
		if err := json.Unmarshal(got.Message["token"], &tok); err != nil || tok != want {
			t.Fatalf("token %s, want %q", got.Message["token"], handle)
		}
		if _, ok := got.Message["topic"]; ok {
			t.Fatal("topic kept")
		}
		if _, ok := got.Message["condition"]; ok {
			t.Fatal("condition kept")
		}
		for k := range in.Message {
			if _, ok := got.Message[k]; !ok && k != "topic" && k != "condition" {
				t.Fatalf("member %q lost", k)
			}
		}
	})
}

// FuzzCredentialSecrets: secret material of any shape is refused or taken
// without a panic, and no error repeats it.
func FuzzCredentialSecrets(f *testing.F) {
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte(`{"type":"service_account","private_key":"x","client_email":"a@b"}`))
	f.Add([]byte("BPxmK3qGCT4E4WQYXyX2M8Jbmz9nJmqU6c0pSwYyZ0R8"))
	f.Fuzz(func(t *testing.T, secret []byte) {
		s := string(secret)
		var errs []error
		_, err := NewApnsTokenCredential("KEY", "TEAM", "com.x", secret, false)
		errs = append(errs, err)
		_, err = NewApnsCertificateCredential(secret, s, false)
		errs = append(errs, err)
		_, err = NewFcmV1CredentialFromJSON(secret)
		errs = append(errs, err)
		_, err = NewFcmV1Credential("a@b.c", s, "p")
		errs = append(errs, err)
		_, err = NewBrowserCredential("mailto:a@b.c", s, s)
		errs = append(errs, err)
		_, err = NewWnsCredential("sid", s)
		errs = append(errs, err)
		for _, err := range errs {
			if err != nil && len(s) >= 8 && strings.Contains(err.Error(), s) {
				t.Fatalf("error %q repeats the secret", err)
			}
		}
	})
}
