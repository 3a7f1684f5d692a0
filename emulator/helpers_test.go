package emulator

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
