package emulator

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nhkit/notificationhubs/internal/atom"
	"github.com/nhkit/notificationhubs/internal/sas"
)

// The hub-management recordings, replayed: each call's request is rebuilt
// from the .NET SDK's test of the same name (ManagementApiE2ETests) and
// its NamespaceManager, which sends the entry below for a new hub,
// If-Match: * on updates, and lists hubs with GET of the namespace root.

// dotnetHubBody is the body NamespaceManager sends for a description: its
// fixed Atom header (with the spaces around '=' it writes) and the
// DataContract serialisation.
func dotnetHubBody(desc string) string {
	return `<?xml version="1.0" encoding="utf-8"?><entry xmlns = "http://www.w3.org/2005/Atom"><content type = "application/xml">` + desc + `</content></entry>`
}

const dotnetNewHub = `<NotificationHubDescription xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect"/>`

// nsAuth signs for the request URI with rule keyName.
func nsAuth(path, keyName, key string) *string {
	return strp(sas.Sign("https://"+testHost+path, keyName, key, time.Now().Add(time.Hour)))
}

func loadRecording(t *testing.T, name string) []recordedCall {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "recordings", name+".http"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct{ HttpCalls []recordedCall }
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	return rec.HttpCalls
}

// checkRecorded compares an answer with the recorded one: status, header
// names, Content-Type, and the body's shape (element names in order, or
// the error detail before its tracking id).
func checkRecorded(t *testing.T, i int, req call, c recordedCall, status int, header map[string]string, body string) {
	t.Helper()
	if status != c.StatusCode {
		t.Fatalf("call %d %s %s: status %d, recorded %d; body %s", i, req.method, req.path, status, c.StatusCode, body)
	}
	recorded := map[string]string{}
	for k, v := range c.Headers {
		recorded[k] = v
	}
	for k, v := range c.ContentHeaders {
		recorded[k] = v
	}
	want := slices.DeleteFunc(headerNames(recorded), func(h string) bool { return ours[h] })
	if diff := cmp.Diff(want, headerNames(header)); diff != "" {
		t.Errorf("call %d %s: header names (-recorded +emulator):\n%s", i, req.method, diff)
	}
	if ct := recorded["Content-Type"]; ct != header["Content-Type"] {
		t.Errorf("call %d: Content-Type %q, recorded %q", i, header["Content-Type"], ct)
	}
	rc := ""
	if c.Content != nil {
		rc = *c.Content
	}
	switch {
	case rc == "":
		if body != "" {
			t.Errorf("call %d: body %q, recorded empty", i, body)
		}
	case strings.HasPrefix(rc, "<Error>"):
		detail := func(s string) string {
			if i := strings.Index(s, "TrackingId:"); i >= 0 {
				return s[:i]
			}
			return s
		}
		if diff := cmp.Diff(detail(rc), detail(body)); diff != "" {
			t.Errorf("call %d: error detail (-recorded +emulator):\n%s", i, diff)
		}
	default:
		if diff := cmp.Diff(elementNames(t, rc), elementNames(t, body)); diff != "" {
			t.Errorf("call %d %s %s: element names (-recorded +emulator):\n%s", i, req.method, req.path, diff)
		}
	}
}

func replay(t *testing.T, s *Server, calls []recordedCall, reqs []call) {
	t.Helper()
	if len(reqs) != len(calls) {
		t.Fatalf("%d requests rebuilt for %d recorded calls", len(reqs), len(calls))
	}
	for i, req := range reqs {
		if req.path != calls[i].RequestURIPath {
			t.Fatalf("call %d: rebuilt path %s, recorded %s", i, req.path, calls[i].RequestURIPath)
		}
		w := req.do(t, s)
		body, _ := io.ReadAll(w.Result().Body)
		got := map[string]string{}
		for k := range w.Header() {
			if !ours[strings.ToLower(k)] {
				got[k] = w.Header().Get(k)
			}
		}
		checkRecorded(t, i, req, calls[i], w.Code, got, string(body))
	}
}

const recHub = "am3verify20200623"

func TestReplayHubRecordingCreateGetDelete(t *testing.T) {
	calls := loadRecording(t, "ManagementApi_ShouldCreateGetOrDeleteHubOrRecieveConflictException")
	s := newTest(Options{})
	hubPath := "/" + recHub + "?api-version=2017-04"
	ns := func(method, path, body string, h map[string]string) call {
		return call{method: method, path: path, body: body, headers: h, auth: nsAuth(path, NamespaceRuleName, DefaultNamespaceKey)}
	}
	get := ns("GET", hubPath, "", nil)
	list := ns("GET", "/", "", nil)
	create := ns("PUT", hubPath, dotnetHubBody(dotnetNewHub), map[string]string{"Content-Type": "application/xml;type=entry;charset=utf-8"})
	// The update sends back the description the create answered, with
	// IsDisabled set.
	_, created, _, err := atom.ParseHubEntry([]byte(*calls[3].Content))
	if err != nil {
		t.Fatal(err)
	}
	created.Status = "true"
	desc, _ := atom.MarshalHubDescription(created)
	update := ns("PUT", hubPath, dotnetHubBody(string(desc)), map[string]string{"If-Match": "*"})
	del := ns("DELETE", hubPath, "", nil)
	replay(t, s, calls, []call{
		get,    // GetNotificationHub: missing, an empty feed
		get,    // NotificationHubExists: false
		list,   // GetNotificationHubs: none
		create, // 201
		get,    // NotificationHubExists: true
		list,   // GetNotificationHubs: one…
		get,    // …then GetNotificationHub of it
		create, // 409
		get,    // GetNotificationHub
		update, // IsDisabled
		del,    // 200
		get,    // NotificationHubExists: false
		list,   // none
		del,    // 404
	})
}

func TestReplayHubRecordingAuthorization(t *testing.T) {
	calls := loadRecording(t, "ManagementApi_FailsWithAuthorizationException")
	s := newTest(Options{})
	hubPath := "/" + recHub + "?api-version=2017-04"
	// The test's IncorrectConnectionString: the namespace rule's name with
	// a wrong key.
	wrong := func(method, body string, h map[string]string) call {
		return call{method: method, path: hubPath, body: body, headers: h, auth: nsAuth(hubPath, NamespaceRuleName, "U2hhcmVkQWNjZXNzS2V5")}
	}
	newHub := dotnetHubBody(dotnetNewHub)
	_, created, _, err := atom.ParseHubEntry([]byte(*calls[1].Content))
	if err != nil {
		t.Fatal(err)
	}
	desc, _ := atom.MarshalHubDescription(created)
	replay(t, s, calls, []call{
		wrong("PUT", newHub, nil), // CreateNotificationHub: InvalidSignature
		{method: "PUT", path: hubPath, body: newHub, auth: nsAuth(hubPath, NamespaceRuleName, DefaultNamespaceKey)},
		wrong("GET", "", nil), // GetNotificationHub: Manage claim is required
		wrong("GET", "", nil), // NotificationHubExists: the same
		wrong("PUT", dotnetHubBody(string(desc)), map[string]string{"If-Match": "*"}), // UpdateNotificationHub
		wrong("DELETE", "", nil), // DeleteNotificationHub
	})
}

// TestHubRecordingsCovered fails when a hub-management recording is added
// without a replay here.
func TestHubRecordingsCovered(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "recordings", "ManagementApi_*.http"))
	re := regexp.MustCompile(`ManagementApi_(ShouldCreateGetOrDeleteHubOrRecieveConflictException|FailsWithAuthorizationException|ShouldReceiveCorrectJobs)\.http$`)
	for _, f := range files {
		if !re.MatchString(f) {
			t.Errorf("%s is not replayed", filepath.Base(f))
		}
	}
}
