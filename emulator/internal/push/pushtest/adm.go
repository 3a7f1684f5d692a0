package pushtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nhkit/notificationhubs/emulator/internal/push"
)

// Adm stands in for Amazon Device Messaging: the token endpoint (POST
// /auth/o2/token, client credentials with scope messaging:push) and POST
// /messaging/registrations/{id}/messages, which wants a live bearer token,
// the ADM type headers and a JSON body with a data object.
type Adm struct {
	base
	oauth clientCredentials
}

// NewAdm starts an ADM stand-in.
func NewAdm(tb testing.TB) *Adm {
	s := &Adm{}
	s.init()
	s.oauth = clientCredentials{scope: "messaging:push", badClient: http.StatusUnauthorized,
		prefix: "Atc|pushtest-", now: s.clock, lifetime: time.Hour}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/o2/token", s.oauth.serve)
	mux.HandleFunc("POST /messaging/registrations/{id}/messages", s.serveSend)
	s.start(tb, mux, nil)
	return s
}

// TokenURL is the token endpoint's URL.
func (s *Adm) TokenURL() string { return s.URL() + "/auth/o2/token" }

// TokenRequests counts the token requests.
func (s *Adm) TokenRequests() int { return int(s.oauth.count.Load()) }

// NewSecurityProfile makes a security profile the stand-in trusts and
// returns its client id and secret.
func (s *Adm) NewSecurityProfile() (clientID, secret string) {
	clientID, secret = "amzn1.application-oa2-client."+randomHex(16), randomHex(32)
	s.oauth.register(clientID, secret)
	return clientID, secret
}

// NewCredential makes a security profile the stand-in trusts.
func (s *Adm) NewCredential(tb testing.TB) *push.AdmCredential {
	id, secret := s.NewSecurityProfile()
	c, err := push.NewAdmCredential(id, secret)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func (s *Adm) serveSend(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	id := r.PathValue("id")
	status, reason := s.check(r, id, body)
	s.record(Received{Handle: id, Header: r.Header.Clone(), Body: body, Status: status, Proto: r.Proto})
	w.Header().Set("X-Amzn-RequestId", newUUID())
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", s.RetryAfter)
	}
	w.WriteHeader(status)
	if status == http.StatusOK {
		fmt.Fprintf(w, `{"registrationID":%q}`, id)
	} else {
		fmt.Fprintf(w, `{"reason":%q}`, reason)
	}
}

func (s *Adm) check(r *http.Request, id string, body []byte) (int, string) {
	if tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); !s.oauth.live(tok) {
		return http.StatusUnauthorized, "AccessTokenExpired"
	}
	if r.Header.Get("X-Amzn-Type-Version") != "com.amazon.device.messaging.ADMMessage@1.0" ||
		r.Header.Get("X-Amzn-Accept-Type") != "com.amazon.device.messaging.ADMSendResult@1.0" {
		return http.StatusBadRequest, "InvalidType"
	}
	if len(body) > 6144 {
		return http.StatusRequestEntityTooLarge, "MessageTooLarge"
	}
	var msg struct {
		Data map[string]any `json:"data"`
	}
	if json.Unmarshal(body, &msg) != nil || msg.Data == nil {
		return http.StatusBadRequest, "InvalidData"
	}
	switch s.fault(id) {
	case FaultGone:
		return http.StatusGone, "Unregistered"
	case FaultThrottled:
		return http.StatusTooManyRequests, "MaxRateExceeded"
	case FaultServerError:
		return http.StatusServiceUnavailable, "ServiceUnavailable"
	case FaultBadCredential:
		return http.StatusUnauthorized, "AccessTokenExpired"
	}
	return http.StatusOK, ""
}
