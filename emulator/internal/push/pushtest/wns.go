package pushtest

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nhkit/notificationhubs/emulator/internal/push"
)

// Wns stands in for WNS: the token endpoint (POST /accesstoken.srf, client
// credentials with scope notify.windows.com) and channel URIs
// ({URL}/?token=…) that want a live bearer token, a known X-WNS-Type, the
// Content-Type that goes with it, well-formed XML for all but raw
// notifications, and at most 5000 bytes.
type Wns struct {
	base
	oauth clientCredentials
}

// NewWns starts a WNS stand-in.
func NewWns(tb testing.TB) *Wns {
	s := &Wns{}
	s.init()
	s.oauth = clientCredentials{scope: "notify.windows.com", badClient: http.StatusBadRequest,
		prefix: "EgAcAQMAAAAALYAAY/c+Huwi3Fv4Ck10UrKNmtxRO6Njk2MgA=", now: s.clock, lifetime: 24 * time.Hour}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /accesstoken.srf", s.oauth.serve)
	mux.HandleFunc("/", s.serveSend)
	s.start(tb, mux, nil)
	return s
}

// TokenURL is the token endpoint's URL.
func (s *Wns) TokenURL() string { return s.URL() + "/accesstoken.srf" }

// TokenRequests counts the token requests.
func (s *Wns) TokenRequests() int { return int(s.oauth.count.Load()) }

// ChannelURI returns a channel URI of the stand-in; its handle for SetFault
// is the URI itself.
func (s *Wns) ChannelURI() string { return s.URL() + "/?token=" + randomHex(12) }

// NewApp makes an app the stand-in trusts and returns its package SID and
// client secret.
func (s *Wns) NewApp() (packageSID, secret string) {
	packageSID, secret = "ms-app://s-1-15-2-"+randomHex(8), randomHex(16)
	s.oauth.register(packageSID, secret)
	return packageSID, secret
}

// NewCredential makes an app the stand-in trusts.
func (s *Wns) NewCredential(tb testing.TB) *push.WnsCredential {
	sid, secret := s.NewApp()
	c, err := push.NewWnsCredential(sid, secret)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

var wnsTypes = map[string]bool{"wns/toast": true, "wns/tile": true, "wns/badge": true, "wns/raw": true}

func (s *Wns) serveSend(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	handle := s.URL() + r.URL.RequestURI()
	status, desc := s.check(r, handle, body)
	s.record(Received{Handle: handle, Header: r.Header.Clone(), Body: body, Status: status, Proto: r.Proto})
	w.Header().Set("X-WNS-Msg-ID", strings.ToUpper(randomHex(8)))
	w.Header().Set("X-WNS-Debug-Trace", "PUSHTEST")
	if status == http.StatusOK {
		w.Header().Set("X-WNS-Status", "received")
		w.Header().Set("X-WNS-DeviceConnectionStatus", "connected")
	} else if desc != "" {
		w.Header().Set("X-WNS-Error-Description", desc)
	}
	if status == http.StatusNotAcceptable {
		w.Header().Set("Retry-After", s.RetryAfter)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token",error_description="Invalid token"`)
	}
	w.WriteHeader(status)
}

func (s *Wns) check(r *http.Request, handle string, body []byte) (int, string) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, "POST only"
	}
	if r.URL.Query().Get("token") == "" {
		return http.StatusNotFound, "channel URI not recognised"
	}
	if tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); !s.oauth.live(tok) {
		return http.StatusUnauthorized, "Invalid token"
	}
	typ := r.Header.Get("X-WNS-Type")
	if !wnsTypes[typ] {
		return http.StatusBadRequest, "X-WNS-Type missing or unknown"
	}
	ct := r.Header.Get("Content-Type")
	if (typ == "wns/raw") != (ct == "application/octet-stream") || (typ != "wns/raw" && ct != "text/xml") {
		return http.StatusBadRequest, "Content-Type does not match X-WNS-Type"
	}
	if v := r.Header.Get("X-WNS-Cache-Policy"); v != "" && v != "cache" && v != "no-cache" {
		return http.StatusBadRequest, "bad X-WNS-Cache-Policy"
	}
	if v := r.Header.Get("X-WNS-RequestForStatus"); v != "" && v != "true" && v != "false" {
		return http.StatusBadRequest, "bad X-WNS-RequestForStatus"
	}
	if v := r.Header.Get("X-WNS-TTL"); v != "" {
		if _, err := strconv.ParseUint(v, 10, 32); err != nil {
			return http.StatusBadRequest, "bad X-WNS-TTL"
		}
	}
	if len(body) > 5000 {
		return http.StatusRequestEntityTooLarge, "payload exceeds 5000 bytes"
	}
	if typ != "wns/raw" && !wellFormedXML(body) {
		return http.StatusBadRequest, "payload is not well-formed XML"
	}
	switch s.fault(handle) {
	case FaultGone:
		return http.StatusGone, "channel expired"
	case FaultThrottled:
		return http.StatusNotAcceptable, "throttle limit exceeded"
	case FaultServerError:
		return http.StatusServiceUnavailable, "service unavailable"
	case FaultBadCredential:
		return http.StatusUnauthorized, "Invalid token"
	}
	return http.StatusOK, ""
}

func wellFormedXML(b []byte) bool {
	if len(bytes.TrimSpace(b)) == 0 {
		return false
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		if _, err := d.Token(); err != nil {
			return err == io.EOF
		}
	}
}
