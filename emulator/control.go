package emulator

import (
	"crypto/subtle"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Who may talk to the emulator.
//
// Every route first checks the request's Host (hostAllowed): the emulator
// answers loopback names (localhost, *.localhost), IP addresses, the host
// of its public endpoint (SetPublicEndpoint) and the names of
// Options.AllowedHosts. Any other name is refused with 403. A page on the
// internet whose name an attacker points at 127.0.0.1 (DNS rebinding)
// sends its own name as Host, so it never gets an answer; an IP address
// cannot be rebound, so IP addresses are accepted.
//
// The data plane is authorised by SAS tokens, as the service's is
// (authorize), and the blob store by the SAS the emulator signs
// (blobAuthorized).
//
// The control plane, /_emulator/… and the inbox page, has no accounts: on
// a loopback listener whoever can reach the port is the owner. A web page
// of another origin can still make the browser send requests there, so
// controlAllowed refuses a state-changing request (any method but GET and
// HEAD) that comes from another origin (an Origin header naming another
// origin, Origin: null, or Sec-Fetch-Site: same-site or cross-site), and
// requires POSTs to carry Content-Type: application/json, which a page of
// another origin cannot send without the browser asking first (a CORS
// preflight, which the emulator never grants). DELETE is never sent
// across origins without that question either.
//
// With Options.ControlToken the control plane also needs the token, as
// "Authorization: Bearer <token>" or as the cookie the inbox sets when it
// is opened at /_emulator/ui/?token=<token>; with
// Options.DisableControlPlane it answers 403. Serve turns it off on a
// listener beyond loopback unless a token is given.

// controlCookie carries the control token for the inbox page, whose event
// stream (EventSource) cannot send an Authorization header.
const controlCookie = "nh_emulator_control"

// minControlToken is the shortest control token accepted.
const minControlToken = 16

// checkControlToken checks that a control token can be sent as a header
// and a cookie and is not trivially guessed.
func checkControlToken(tok string) error {
	if len(tok) < minControlToken {
		return errors.New("the control token must have at least 16 characters")
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/=", c) >= 0) {
			return errors.New("the control token may have only letters, digits and -._~+/=")
		}
	}
	return nil
}

// normHost returns the host of a Host header or URL authority: without
// port, IPv6 brackets or trailing dot, lower case.
func normHost(hostport string) string {
	host := hostport
	// A port follows the last colon, unless that colon is inside a bare
	// IPv6 address (which a Host header brackets).
	if i := strings.LastIndexByte(host, ':'); i >= 0 && i > strings.LastIndexByte(host, ']') &&
		(strings.HasPrefix(host, "[") || strings.IndexByte(host, ':') == i) {
		host = host[:i]
	}
	host = strings.TrimPrefix(strings.TrimSuffix(host, "]"), "[")
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

// allowHost reports whether the emulator answers requests for hostport.
func (s *Server) allowHost(hostport string) bool {
	host := normHost(hostport)
	if host == "" {
		return false
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	if e := s.endpoint.Load(); e != nil {
		if u, err := url.Parse(*e); err == nil && normHost(u.Host) == host {
			return true
		}
	}
	for _, a := range s.allowedHosts {
		if a == "*" || a == host || strings.HasPrefix(a, "*.") && strings.HasSuffix(host, a[1:]) {
			return true
		}
	}
	return false
}

// hostAllowed answers 403 to a request for a Host the emulator does not
// answer; it reports whether the request may go on.
func (s *Server) hostAllowed(q *request) bool {
	if s.allowHost(q.r.Host) {
		return true
	}
	q.fail(http.StatusForbidden, "The emulator does not answer the Host "+strconv.Quote(q.r.Host)+
		": it answers localhost, IP addresses, the host of its endpoint and the names allowed with --allow-host (Options.AllowedHosts), so that a web page cannot reach it through DNS rebinding.")
	return false
}

// controlAllowed applies the control plane's checks to q, answering a
// refusal itself; it reports whether the request may go on.
func (s *Server) controlAllowed(q *request) bool {
	r := q.r
	if s.opts.DisableControlPlane {
		q.fail(http.StatusForbidden, "The control plane (/_emulator/ and the inbox) is off: the emulator listens beyond loopback "+
			"and was started without a control token. Start it with --control-token (or NH_EMULATOR_CONTROL_TOKEN) and send Authorization: Bearer <token>.")
		return false
	}
	if s.opts.ControlToken != "" {
		if q.match.rt.plane == planeInbox && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			if tok, ok := q.query["token"]; ok && s.isControlToken(tok) {
				// Opening the inbox with its token: keep the token in a
				// cookie only this origin's pages send, and take it out
				// of the address bar.
				http.SetCookie(q.w, &http.Cookie{Name: controlCookie, Value: tok, Path: "/_emulator/",
					HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
				q.w.Header().Set("Location", r.URL.EscapedPath())
				q.w.Header().Set("Referrer-Policy", "no-referrer")
				q.empty(http.StatusSeeOther, "")
				return false
			}
		}
		if !s.hasControlCredential(r) {
			q.w.Header().Set("WWW-Authenticate", `Bearer realm="nh emulator control plane"`)
			q.fail(http.StatusUnauthorized, "The control plane needs the control token: send Authorization: Bearer <token>, or open the inbox once at /_emulator/ui/?token=<token>.")
			return false
		}
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	if why := crossOrigin(r); why != "" {
		q.fail(http.StatusForbidden, "The control plane does not take state-changing requests from another origin ("+why+").")
		return false
	}
	if r.Method == http.MethodPost {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			q.fail(http.StatusUnsupportedMediaType, "A POST to the control plane needs Content-Type: application/json (which a page of another origin cannot send without asking first), even with an empty body.")
			return false
		}
	}
	return true
}

// isControlToken compares tok with the control token in constant time.
func (s *Server) isControlToken(tok string) bool {
	want := s.opts.ControlToken
	return want != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(want)) == 1
}

// hasControlCredential reports whether r carries the control token, as a
// bearer token or as the inbox's cookie.
func (s *Server) hasControlCredential(r *http.Request) bool {
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		return s.isControlToken(strings.TrimSpace(tok))
	}
	if c, err := r.Cookie(controlCookie); err == nil {
		return s.isControlToken(c.Value)
	}
	return false
}

// crossOrigin says why r comes from another origin than the emulator's
// own, or "" if it does not: an Origin header naming another scheme, host
// or port, the opaque Origin "null", or a browser's Sec-Fetch-Site that
// says the page is of another origin.
func crossOrigin(r *http.Request) string {
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "cross-site", "same-site":
		return "Sec-Fetch-Site: " + site
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return ""
	}
	if o == "null" {
		return "Origin: null"
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return "Origin: " + strconv.Quote(o)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if !strings.EqualFold(u.Scheme, scheme) || originAuthority(u.Scheme, u.Host) != originAuthority(scheme, r.Host) {
		return "Origin: " + strconv.Quote(o)
	}
	return ""
}

// originAuthority returns host:port in lower case with the scheme's
// default port made explicit.
func originAuthority(scheme, hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, "80"
		if strings.EqualFold(scheme, "https") {
			port = "443"
		}
	}
	return strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), ".")) + ":" + port
}
