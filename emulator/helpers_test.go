package emulator

// Test helpers shared by this package's test files: requests to the
// handler, fixtures, clocks, jobs, the recordings' call format and child
// processes. Helpers used by one file stay in that file; raceEnabled lives
// in race_test.go and norace_test.go for their build tags.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhkit/notificationhubs/internal/atom"
	"github.com/nhkit/notificationhubs/internal/sas"
)

const (
	testHost = "ns.servicebus.windows.net"
	testHub  = "myhub"
)

// newTest is New with testHost among the allowed hosts, since the
// tests speak to the emulator as the service's host name.
func newTest(opts Options) *Server {
	opts.AllowedHosts = append(opts.AllowedHosts, testHost)
	return New(opts)
}

// call is one request to the handler.
type call struct {
	method, path, body string
	key, keyName       string // default: full rule
	auth               *string
	headers            map[string]string
}

func fullAuth() string {
	return sas.Sign("https://"+testHost+"/", FullRuleName, DefaultFullKey, time.Now().Add(time.Hour))
}

func (c call) do(t testing.TB, s *Server) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(c.method, "https://"+testHost+c.path, strings.NewReader(c.body))
	req.Host = testHost
	switch {
	case c.auth != nil:
		if *c.auth != "" {
			req.Header.Set("Authorization", *c.auth)
		}
	default:
		name, key := c.keyName, c.key
		if name == "" {
			name, key = FullRuleName, DefaultFullKey
		}
		req.Header.Set("Authorization", sas.Sign("https://"+testHost+"/"+testHub, name, key, time.Now().Add(time.Hour)))
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

// control sends a control-plane request as a local tool would: to
// 127.0.0.1, with Content-Type: application/json.
func control(s *Server, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://127.0.0.1:8443"+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

func mustStatus(t testing.TB, w *httptest.ResponseRecorder, want int) string {
	t.Helper()
	body, _ := io.ReadAll(w.Result().Body)
	if w.Code != want {
		t.Fatalf("status = %d, want %d; body: %s", w.Code, want, body)
	}
	return string(body)
}

func entry(desc string) string {
	return `<?xml version="1.0" encoding="utf-8"?><entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml">` +
		desc + `</content></entry>`
}

const (
	nsConnect = `xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect"`
	appleTok  = "62bcd3484834b7e2dc56733ac5509259230cc1ba82ba1ae7d06e91908a05a8fa"
)

func appleNative(tags, token string) string {
	return entry(`<AppleRegistrationDescription ` + nsConnect + `><Tags>` + tags + `</Tags><DeviceToken>` + token + `</DeviceToken></AppleRegistrationDescription>`)
}

func gcmNative(tags, id string) string {
	return entry(`<GcmRegistrationDescription ` + nsConnect + `><Tags>` + tags + `</Tags><GcmRegistrationId>` + id + `</GcmRegistrationId></GcmRegistrationDescription>`)
}

func regPath(rest string) string { return "/" + testHub + rest }

// createReg creates a registration and returns its id.
func createReg(t testing.TB, s *Server, body string) string {
	t.Helper()
	w := call{method: "POST", path: regPath("/registrations?api-version=2020-06"), body: body}.do(t, s)
	mustStatus(t, w, 200)
	loc := w.Header().Get("Content-Location")
	i := strings.Index(loc, "/registrations/")
	if i < 0 {
		t.Fatalf("Content-Location = %q", loc)
	}
	id, _, _ := strings.Cut(loc[i+len("/registrations/"):], "?")
	return id
}

func putInstallation(t testing.TB, s *Server, id, body string) {
	t.Helper()
	w := call{method: "PUT", path: regPath("/installations/" + id + "?api-version=2020-06"), body: body,
		headers: map[string]string{"Content-Type": "application/json"}}.do(t, s)
	mustStatus(t, w, 200)
}

func sendReq(format, tags, body string, extra map[string]string) call {
	h := map[string]string{"ServiceBusNotification-Format": format, "Content-Type": "application/json;charset=utf-8"}
	if tags != "\x00" {
		h["ServiceBusNotification-Tags"] = tags
	}
	for k, v := range extra {
		h[k] = v
	}
	return call{method: "POST", path: regPath("/messages/?api-version=2020-06"), body: body, headers: h}
}

const broadcast = "\x00"

func strp(s string) *string { return &s }

// fillHub stores n apple installations with 5 tags each directly (not
// through HTTP, which would dominate): tag g{i%1000} is shared by n/1000
// installations, and r{i%5} and c{i%97} are broad.
func fillHub(tb testing.TB, n int) *hub {
	tb.Helper()
	h := newHub("bench")
	tags := make([]string, 0, 1000+5+97+2)
	for i := range 1000 {
		tags = append(tags, "g"+strconv.Itoa(i))
	}
	for i := range 5 {
		tags = append(tags, "r"+strconv.Itoa(i))
	}
	for i := range 97 {
		tags = append(tags, "c"+strconv.Itoa(i))
	}
	tags = append(tags, "all", "even", "odd")
	for i := range n {
		in := &installation{
			id:          fmt.Sprintf("inst-%08d", i),
			platform:    pApple,
			pushChannel: fmt.Sprintf("%064X", i),
			tags:        []string{tags[i%1000], tags[1000+i%5], tags[1005+i%97], tags[1102], tags[1103+i%2]},
		}
		h.project(in, nil)
	}
	return h
}

// startChildProcess starts cmd, the test binary in a child mode of
// TestMain (env), and returns the address the emulator printed. The
// caller kills it.
func startChildProcess(t testing.TB, cmd *exec.Cmd, env string) string {
	t.Helper()
	cmd.Env = append(os.Environ(), env)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listenRe.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
				break
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case a := <-addrc:
		return a
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("emulator child did not report its port")
	}
	return ""
}

// serveBanner runs Serve with o until the test ends and returns what it
// printed up to the listen-only connection string.
func serveBanner(t *testing.T, o ServeOptions) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := Serve(ctx, o, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		go func() { _, _ = io.Copy(io.Discard, pr) }()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	var out strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "Connection string (listen)") {
			return out.String()
		}
	}
	t.Fatalf("Serve printed no connection strings: %v\n%s", sc.Err(), out.String())
	return ""
}

func listIDs(t *testing.T, body string) []string {
	t.Helper()
	var ids []string
	for _, m := range regexp.MustCompile(`<RegistrationId>([^<]+)</RegistrationId>`).FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

const instApple = `{"installationId":"inst-1","platform":"APNS","pushChannel":"` + appleTok + `","userId":null,"pushChannelExpired":null,"expirationTime":null,
"tags":["tag1"],"pushVariables":{"var1":"value1"},
"templates":{"Template Name":{"body":"{\"aps\":{\"alert\":\"$(message)\"}}","expiry":"2018-11-07T16:18:32.6641371-08:00","tags":["tt"]}}}`

// fakeClock is a settable Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func details(t *testing.T, s *Server, id string) (int, atom.NotificationDetails) {
	t.Helper()
	w := call{method: "GET", path: regPath("/messages/" + id + "?api-version=2020-06")}.do(t, s)
	if w.Code != 200 {
		return w.Code, atom.NotificationDetails{}
	}
	d, err := atom.ParseNotificationDetails(w.Body.Bytes())
	if err != nil {
		t.Fatalf("telemetry of %s: %v", id, err)
	}
	return 200, d
}

// get fetches a URL the emulator handed out (blob SAS URLs) through s.
func get(t *testing.T, s *Server, rawURL string) (int, string) {
	t.Helper()
	req := httptest.NewRequest("GET", rawURL, nil)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w.Code, w.Body.String()
}

func submitJob(t *testing.T, s *Server, typ, out, in string) string {
	t.Helper()
	job := `<NotificationHubJob xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect"><Type>` + typ +
		`</Type><OutputContainerUri><![CDATA[` + out + `]]></OutputContainerUri>`
	if in != "" {
		job += `<ImportFileUri><![CDATA[` + in + `]]></ImportFileUri>`
	}
	job += `</NotificationHubJob>`
	w := call{method: "POST", path: regPath("/jobs?api-version=2020-06"), body: entry(job)}.do(t, s)
	body := mustStatus(t, w, 201)
	e, err := atom.ParseEntry([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	j, err := atom.ParseJob(e.Content)
	if err != nil || j.Status != "Started" || j.Type != typ {
		t.Fatalf("submitted job = %+v, %v", j, err)
	}
	return j.JobID
}

// finishedJob waits until job id is Completed or Failed and returns it.
func finishedJob(t *testing.T, s *Server, id string) atom.Job {
	t.Helper()
	var j atom.Job
	seen := map[string]bool{}
	eventually(t, "job "+id, func() bool {
		body := mustStatus(t, call{method: "GET", path: regPath("/jobs/" + id + "?api-version=2020-06")}.do(t, s), 200)
		e, err := atom.ParseEntry([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if j, err = atom.ParseJob(e.Content); err != nil {
			t.Fatal(err)
		}
		seen[j.Status] = true
		return j.Status == "Completed" || j.Status == "Failed"
	})
	return j
}

func openAt(t testing.TB, dir string, opts Options) *Server {
	t.Helper()
	opts.DataDir = dir
	opts.AllowedHosts = append(opts.AllowedHosts, testHost)
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func lastSegment(loc string) string {
	loc, _, _ = strings.Cut(loc, "?")
	return loc[strings.LastIndex(loc, "/")+1:]
}

// recordedCall is one call of a recording (the module's
// testdata/recordings, shared with the SDK's tests and copied from the .NET
// SDK's MockData; see README.md there).
type recordedCall struct {
	RequestURIPath string            `json:"RequestUriPath"`
	StatusCode     int               `json:"StatusCode"`
	Headers        map[string]string `json:"Headers"`
	ContentHeaders map[string]string `json:"ContentHeaders"`
	Content        *string           `json:"Content"`
}

// ours are headers the emulator always adds.
var ours = map[string]bool{"trackingid": true, "x-ms-correlation-request-id": true, "content-length": true}

func headerNames(m map[string]string) []string {
	out := []string{}
	for k := range m {
		if !cosmetic[strings.ToLower(k)] {
			out = append(out, strings.ToLower(k))
		}
	}
	slices.Sort(out)
	return out
}

// serveChildEnv makes the test binary run an in-memory emulator with
// Serve's defaults, in plain HTTP on 127.0.0.1:0, instead of the tests
// (see TestMain).
const serveChildEnv = "NH_EMULATOR_SERVE_CHILD"

// startServeChild runs cmd, the test binary in serveChildEnv's mode, until
// the test ends and returns it with the emulator's address.
func startServeChild(t *testing.T, cmd *exec.Cmd) (*exec.Cmd, string) {
	t.Helper()
	addr := startChildProcess(t, cmd, serveChildEnv+"=1")
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, addr
}

var listenRe = regexp.MustCompile(`listening on http://(127\.0\.0\.1:\d+)`)

// eventually polls f every 10 ms for up to 20 s.
func eventually(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// cosmetic headers the emulator does not reproduce.
var cosmetic = map[string]bool{"date": true, "server": true, "transfer-encoding": true, "strict-transport-security": true, "content-length": true}
