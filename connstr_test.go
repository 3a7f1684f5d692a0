package notificationhubs

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseConnectionString(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want ConnectionString
	}{
		{
			name: "portal form",
			in:   "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=DefaultFullSharedAccessSignature;SharedAccessKey=" + testKey,
			want: ConnectionString{Endpoint: "https://ns.servicebus.windows.net/", SharedAccessKeyName: "DefaultFullSharedAccessSignature", SharedAccessKey: testKey},
		},
		{
			name: "keys in any order and case, spaces, trailing semicolon",
			in:   "  sharedaccesskey = " + testKey + " ; ENDPOINT=sb://NS.servicebus.windows.net ;SharedAccessKeyName=rule;  ",
			want: ConnectionString{Endpoint: "https://ns.servicebus.windows.net/", SharedAccessKeyName: "rule", SharedAccessKey: testKey},
		},
		{
			name: "entity path and unknown keys",
			in:   "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=r;SharedAccessKey=k==;EntityPath=myhub;UseDevelopmentEmulator=true",
			want: ConnectionString{Endpoint: "https://ns.servicebus.windows.net/", SharedAccessKeyName: "r", SharedAccessKey: "k==", EntityPath: "myhub"},
		},
		{
			name: "https endpoint with port",
			in:   "Endpoint=https://localhost:8443/;SharedAccessKeyName=r;SharedAccessKey=k",
			want: ConnectionString{Endpoint: "https://localhost:8443/", SharedAccessKeyName: "r", SharedAccessKey: "k"},
		},
		{
			name: "http endpoint for emulators",
			in:   "Endpoint=http://127.0.0.1:8080;SharedAccessKeyName=r;SharedAccessKey=k",
			want: ConnectionString{Endpoint: "http://127.0.0.1:8080/", SharedAccessKeyName: "r", SharedAccessKey: "k"},
		},
		{
			name: "sb with port keeps the port",
			in:   "Endpoint=SB://ns.example.com:5671/;SharedAccessKeyName=r;SharedAccessKey=k",
			want: ConnectionString{Endpoint: "https://ns.example.com:5671/", SharedAccessKeyName: "r", SharedAccessKey: "k"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConnectionString(tt.in)
			if err != nil {
				t.Fatalf("ParseConnectionString: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseConnectionString (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseConnectionStringErrors(t *testing.T) {
	const key = "SuperSecretKeyValue1234567890="
	tests := []struct {
		in      string
		wantErr string
	}{
		{"", "Endpoint is missing"},
		{"SharedAccessKeyName=r;SharedAccessKey=" + key, "Endpoint is missing"},
		{"Endpoint=sb://ns/;SharedAccessKey=" + key, "SharedAccessKeyName is missing"},
		{"Endpoint=sb://ns/;SharedAccessKeyName=r", "SharedAccessKey is missing"},
		{"Endpoint=;SharedAccessKeyName=r;SharedAccessKey=" + key, "Endpoint is empty"},
		{"Endpoint=sb://ns/;SharedAccessKeyName= ;SharedAccessKey=" + key, "SharedAccessKeyName is empty"},
		{"Endpoint=sb://ns/;SharedAccessKeyName=r;SharedAccessKey=", "SharedAccessKey is empty"},
		{"Endpoint=sb://ns/;SharedAccessKeyName=r;" + strings.TrimSuffix(key, "="), "part 3 has no '='"},
		{"Endpoint=sb://ns/;endpoint=sb://x/;SharedAccessKeyName=r;SharedAccessKey=" + key, "Endpoint appears more than once"},
		{"Endpoint=ftp://ns/;SharedAccessKeyName=r;SharedAccessKey=" + key, `scheme "ftp" is not sb, https or http`},
		{"Endpoint=ns.servicebus.windows.net;SharedAccessKeyName=r;SharedAccessKey=" + key, "no scheme"},
		{"Endpoint=sb:///;SharedAccessKeyName=r;SharedAccessKey=" + key, "no host"},
		{"Endpoint=sb://ns/hub;SharedAccessKeyName=r;SharedAccessKey=" + key, "a path is not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.wantErr, func(t *testing.T) {
			_, err := ParseConnectionString(tt.in)
			if err == nil {
				t.Fatalf("ParseConnectionString(%q) succeeded, want error %q", tt.in, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), key) {
				t.Errorf("error %q contains the key", err)
			}
		})
	}
}

func TestConnectionStringRedacts(t *testing.T) {
	cs, err := ParseConnectionString("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=r;SharedAccessKey=" + testKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		s := fmt.Sprintf(verb, cs)
		if strings.Contains(s, testKey) {
			t.Errorf("Sprintf(%q) = %q contains the key", verb, s)
		}
		if !strings.Contains(s, "REDACTED") {
			t.Errorf("Sprintf(%q) = %q does not say REDACTED", verb, s)
		}
	}
	// log/slog's JSON handler marshals exported fields unless the value
	// says how to log it.
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("connecting", "cs", cs, "ptr", &cs)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("connecting", "cs", cs)
	if strings.Contains(logged.String(), testKey) || !strings.Contains(logged.String(), "REDACTED") {
		t.Errorf("slog shows the connection string as:\n%s", logged.String())
	}
	cred, err := NewSharedAccessKeyCredential("r", testKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, cred); strings.Contains(s, testKey) {
			t.Errorf("Sprintf(%q, credential) = %q contains the key", verb, s)
		}
	}
}

func FuzzParseConnectionString(f *testing.F) {
	f.Add("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=r;SharedAccessKey=" + testKey)
	f.Add("endpoint=http://127.0.0.1:8080;sharedaccesskeyname=r;sharedaccesskey=k=;EntityPath=h;")
	f.Add("Endpoint=sb://ns/;SharedAccessKeyName=r;SharedAccessKey=0123456789abcdefXYZ")
	f.Add(";;;=;")
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := ParseConnectionString(s)
		if err != nil {
			// No error may contain the key.
			for part := range strings.SplitSeq(s, ";") {
				k, v, ok := strings.Cut(part, "=")
				v = strings.TrimSpace(v)
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "SharedAccessKey") || len(v) < 16 {
					continue
				}
				if strings.Contains(err.Error(), v) && !strings.Contains(strings.SplitN(s, v, 2)[0], "ndpoint") {
					t.Fatalf("error %q contains the key %q", err, v)
				}
			}
			return
		}
		if !strings.HasPrefix(cs.Endpoint, "https://") && !strings.HasPrefix(cs.Endpoint, "http://") {
			t.Fatalf("Endpoint %q has neither https nor http", cs.Endpoint)
		}
		if !strings.HasSuffix(cs.Endpoint, "/") {
			t.Fatalf("Endpoint %q has no trailing slash", cs.Endpoint)
		}
		if cs.SharedAccessKey == "" || cs.SharedAccessKeyName == "" {
			t.Fatalf("parsed %#v with an empty part", cs)
		}
		// The key may appear in String() only as part of another field's
		// value (a key "=0" is in "SharedAccessKeyName=0").
		rest := cs.String()
		for _, v := range []string{cs.Endpoint, cs.SharedAccessKeyName, cs.EntityPath} {
			if v != "" {
				rest = strings.ReplaceAll(rest, v, "")
			}
		}
		if !strings.Contains(cs.String(), "SharedAccessKey=REDACTED") || strings.Contains(rest, cs.SharedAccessKey) && !strings.Contains("Endpoint=;SharedAccessKeyName=;SharedAccessKey=REDACTED;EntityPath=", cs.SharedAccessKey) {
			t.Fatalf("String() %q shows the key", cs.String())
		}
		// A parsed connection string, written back with its key, parses to itself.
		again, err := ParseConnectionString(strings.Replace(cs.String(), "SharedAccessKey=REDACTED", "SharedAccessKey="+cs.SharedAccessKey, 1))
		if err == nil && again != cs {
			t.Fatalf("round trip: got %#v, want %#v", again, cs)
		}
	})
}
