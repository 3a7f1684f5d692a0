package emulator

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ServeOptions configures Serve.
type ServeOptions struct {
	// Listen is the address to listen on; default 127.0.0.1:8443.
	Listen string
	// CertFile and KeyFile are a PEM certificate and key to serve with
	// (bring your own). When empty a self-signed certificate is generated
	// in CertDir on first start and reused afterwards.
	CertFile, KeyFile string
	// CertDir is where the generated cert.pem and key.pem live; default
	// the user cache directory's nh-emulator.
	CertDir string
	// PlainHTTP serves without TLS. The printed connection strings then
	// say Endpoint=http://host:port/, which the JS SDK and this module's
	// SDK use as given; the .NET and Java SDKs always switch to https and
	// need TLS. Location and Content-Location headers still say https, as
	// clients require (docs/protocol.md, "Response headers").
	PlainHTTP bool
	// Emulator configures the emulator itself; without a Logger, its
	// warnings and errors are written to Serve's output. On a listener beyond
	// loopback (Listen not a loopback address), Serve sets
	// Emulator.DisableControlPlane unless Emulator.ControlToken is set or
	// GenerateControlToken is, replaces each of NamespaceKey, FullKey and
	// ListenKey that is empty or the published development key by a
	// random key (printed in the connection strings), and prints a
	// warning.
	Emulator Options
	// GenerateControlToken makes Serve generate a random control token
	// when Emulator.ControlToken is empty, and print it with the inbox
	// address that carries it.
	GenerateControlToken bool

	// MaxConnections caps the client connections open at once; 0 means
	// the process's open-file limit less 64, at most 10,000. At the cap a
	// new connection closes the longest idle one (or, if none is idle, the
	// oldest that has not finished sending its request headers); when every
	// connection is busy with a request, the new one is closed.
	MaxConnections int
	// ReadHeaderTimeout bounds the time to read a request's headers;
	// 0 means 10 s.
	ReadHeaderTimeout time.Duration
	// ReadBodyTimeout bounds the time to read a request's body once its
	// headers are read; 0 means 1 min.
	ReadBodyTimeout time.Duration
	// IdleTimeout is how long a kept-alive connection may wait for its
	// next request; 0 means 2 min.
	IdleTimeout time.Duration
	// WriteTimeout bounds the time to write a response once its request is
	// read, from the start of the handler (so it includes injected latency,
	// at most 10 min); 0 means 15 min. The inbox's event stream, which
	// never ends, moves its own deadline forward at each write.
	WriteTimeout time.Duration
}

// Defaults of ServeOptions.
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultReadBodyTimeout   = time.Minute
	defaultIdleTimeout       = 2 * time.Minute
	defaultWriteTimeout      = 15 * time.Minute
	maxDefaultConnections    = 10000
	// reservedFiles are the file descriptors left to the emulator besides
	// client connections: the data file, certificates, job storage
	// connections, standard streams.
	reservedFiles = 64
	// maxHeaderBytes bounds a request's line and headers.
	maxHeaderBytes = 64 << 10
)

// SelfSignedCertificate makes a self-signed ECDSA P-256 certificate for
// localhost, 127.0.0.1 and ::1, valid for validFor, with its Leaf set.
// It is its own CA, so clients trust exactly this certificate.
func SelfSignedCertificate(validFor time.Duration) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate emulator key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate emulator certificate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Notification Hubs emulator", Organization: []string{"nhkit"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validFor),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create emulator certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("parse emulator certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// GenerateCert writes a self-signed ECDSA P-256 certificate for localhost,
// 127.0.0.1 and ::1 (valid ten years) and its key as PEM files.
func GenerateCert(certFile, keyFile string) error {
	cert, err := SelfSignedCertificate(10 * 365 * 24 * time.Hour)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return fmt.Errorf("encode emulator key: %w", err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o644); err != nil {
		return fmt.Errorf("write emulator certificate %s: %w", certFile, err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return fmt.Errorf("write emulator key %s: %w", keyFile, err)
	}
	return nil
}

// ensureCert returns the certificate and key paths, generating them in
// dir when they do not exist.
func ensureCert(dir string) (string, string, error) {
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", "", fmt.Errorf("find a directory for the emulator certificate: %w", err)
		}
		dir = filepath.Join(cache, "nh-emulator")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("create certificate directory %s: %w", dir, err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil {
		return certFile, keyFile, nil
	}
	if err := GenerateCert(certFile, keyFile); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

// serveHookConnLimiter sees each connection cap Serve makes; tests
// replace it to wait for the states the server has seen.
var serveHookConnLimiter = func(*connLimiter) {}

// listenTCP is net.Listen; tests replace it to serve on loopback what is
// configured as a wider address.
var listenTCP = net.Listen

// Serve runs an emulator until ctx is done, then shuts down gracefully. It
// prints the endpoint, the certificate path, both connection strings and,
// when it listens beyond loopback, a warning to out.
func Serve(ctx context.Context, o ServeOptions, out io.Writer) error {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:8443"
	}
	certFile, keyFile := o.CertFile, o.KeyFile
	var tlsConfig *tls.Config
	if !o.PlainHTTP {
		if (certFile == "") != (keyFile == "") {
			return errors.New("serve emulator: give both a certificate file and a key file, or neither")
		}
		var err error
		if certFile == "" {
			if certFile, keyFile, err = ensureCert(o.CertDir); err != nil {
				return err
			}
		}
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return fmt.Errorf("load emulator certificate %s: %w", certFile, err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	}
	ln, err := listenTCP("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("serve emulator on %s: %w", o.Listen, err)
	}
	defer ln.Close()
	exposed := !isLoopbackAddr(ln.Addr())
	var generatedKeys []string
	if exposed {
		generatedKeys = replacePublishedKeys(&o.Emulator)
	}
	generated := false
	if o.Emulator.ControlToken == "" && o.GenerateControlToken {
		o.Emulator.ControlToken, generated = randHex(16), true
	}
	if exposed && o.Emulator.ControlToken == "" {
		o.Emulator.DisableControlPlane = true
	}
	o.Emulator.Deliver = deliverLogTo(o.Emulator.Deliver, out)
	if o.Emulator.Logger == nil {
		o.Emulator.Logger = warnLogger(out) // warnings only: no line per request
	}
	srv, err := Open(o.Emulator)
	if err != nil {
		return err
	}
	defer srv.Close()

	lim := newConnLimiter(ln, o.maxConnections())
	serveHookConnLimiter(lim)
	hs := &http.Server{
		Handler:           withDeadlines(srv, or(o.ReadBodyTimeout, defaultReadBodyTimeout), or(o.WriteTimeout, defaultWriteTimeout)),
		ReadHeaderTimeout: or(o.ReadHeaderTimeout, defaultReadHeaderTimeout),
		IdleTimeout:       or(o.IdleTimeout, defaultIdleTimeout),
		MaxHeaderBytes:    maxHeaderBytes,
		ConnState:         lim.connState,
		TLSConfig:         tlsConfig,
	}
	var serveLn net.Listener = lim
	if tlsConfig != nil {
		serveLn = tls.NewListener(lim, tlsConfig)
	}

	_, port, _ := net.SplitHostPort(ln.Addr().String())
	// SDKs turn sb:// into https://, so a plain-HTTP emulator must say
	// http:// in its connection strings to be reachable at all.
	scheme, endpoint := "https", "sb://localhost:"+port+"/"
	if o.PlainHTTP {
		scheme, endpoint = "http", "http://localhost:"+port+"/"
	}
	srv.SetPublicEndpoint(endpoint)
	fmt.Fprintf(out, "Notification Hubs emulator listening on %s://%s\n", scheme, ln.Addr())
	fmt.Fprintf(out, "Endpoint: %s\n", endpoint)
	inboxURL := scheme + "://localhost:" + port + "/_emulator/ui/"
	switch {
	case o.Emulator.DisableControlPlane:
		fmt.Fprintf(out, "Inbox: off (no control token; see the warning)\n")
	case generated:
		fmt.Fprintf(out, "Inbox: %s?token=%s\n", inboxURL, o.Emulator.ControlToken)
		fmt.Fprintf(out, "Control token: %s (send Authorization: Bearer <token> to /_emulator/)\n", o.Emulator.ControlToken)
	case o.Emulator.ControlToken != "":
		fmt.Fprintf(out, "Inbox: %s (open it once as %s?token=<control token>)\n", inboxURL, inboxURL)
	default:
		fmt.Fprintf(out, "Inbox: %s\n", inboxURL)
	}
	printDelivery(out, o.Emulator.Deliver)
	if o.PlainHTTP {
		fmt.Fprintf(out, "Plain HTTP: the JS SDK and the nhkit Go SDK use the http:// endpoint as given; the .NET and Java SDKs always use https and need TLS mode (without --plain-http).\n")
	} else {
		fmt.Fprintf(out, "Certificate: %s\n", certFile)
	}
	if exposed {
		printExposedWarning(out, ln.Addr(), o.Emulator, !o.PlainHTTP && o.CertFile == "")
	}
	if len(generatedKeys) > 0 {
		fmt.Fprintf(out, "Keys: generated random keys for %s, in the connection strings below: beyond loopback the published "+
			"development keys would let anyone in. They change at every start; give --namespace-key, --full-key and --listen-key "+
			"to keep keys of your own.\n", strings.Join(generatedKeys, ", "))
	}
	fmt.Fprintf(out, "Connection string (namespace, for hub management): %s\n", srv.NamespaceConnectionString(endpoint))
	fmt.Fprintf(out, "Connection string (full):   %s\n", srv.ConnectionString(endpoint, false))
	fmt.Fprintf(out, "Connection string (listen): %s\n", srv.ConnectionString(endpoint, true))

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(serveLn) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve emulator: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = hs.Shutdown(shutCtx)
	if err != nil {
		return fmt.Errorf("shut down emulator: %w", err)
	}
	return nil
}

// replacePublishedKeys gives each of o's keys that is empty or the
// published development key a random one, and returns the names of the
// rules whose keys it generated. The published keys are in every copy of
// this module: on a listener beyond loopback they would open the data plane
// and hub management, which hands out every rule key and push credential,
// to anyone who can reach the port.
func replacePublishedKeys(o *Options) []string {
	var names []string
	for _, k := range []struct {
		key             *string
		published, rule string
	}{
		{&o.NamespaceKey, DefaultNamespaceKey, NamespaceRuleName},
		{&o.FullKey, DefaultFullKey, FullRuleName},
		{&o.ListenKey, DefaultListenKey, ListenRuleName},
	} {
		if *k.key == "" || *k.key == k.published {
			*k.key = newKey()
			names = append(names, k.rule)
		}
	}
	return names
}

// printExposedWarning says what a listener beyond loopback exposes.
func printExposedWarning(out io.Writer, addr net.Addr, o Options, generatedCert bool) {
	fmt.Fprintf(out, "WARNING: listening on %s, beyond this machine's loopback: anyone who can reach it and holds a key of "+
		"the connection strings below can use the data plane and hub management.\n", addr)
	if o.DisableControlPlane {
		fmt.Fprintf(out, "WARNING: the control plane (/_emulator/..., the inbox) is off: give --control-token (or NH_EMULATOR_CONTROL_TOKEN) "+
			"or --generate-control-token to use it with Authorization: Bearer <token>.\n")
	} else {
		fmt.Fprintf(out, "WARNING: the control plane (/_emulator/..., the inbox) answers only requests with Authorization: Bearer <control token>.\n")
	}
	fmt.Fprintf(out, "WARNING: clients on other machines must use an IP address of this machine, or a name allowed with --allow-host")
	if generatedCert {
		fmt.Fprintf(out, "; the generated certificate covers localhost, 127.0.0.1 and ::1 only")
	}
	fmt.Fprintf(out, ".\n")
}

// isLoopbackAddr reports whether a listener's address is a loopback one.
// The unspecified address (0.0.0.0, ::) is every address, not loopback.
func isLoopbackAddr(a net.Addr) bool {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.IsLoopback()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// maxConnections returns the connection cap: MaxConnections, or what the
// open-file limit leaves.
func (o ServeOptions) maxConnections() int {
	if o.MaxConnections > 0 {
		return o.MaxConnections
	}
	n := maxDefaultConnections
	if lim, ok := openFileLimit(); ok && lim < uint64(n+reservedFiles) {
		n = max(int(lim)-reservedFiles, 16)
	}
	return n
}

// withDeadlines bounds, per request, the time to read the body (from the
// handler's start until the body has been read to its end) and the time
// to write the response. http.Server's ReadTimeout would bound the body
// too, but it also cancels the request's context when it passes, which
// would end the inbox's event stream and every long request.
func withDeadlines(h http.Handler, body, write time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Now().Add(write))
		if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
			if rc.SetReadDeadline(time.Now().Add(body)) == nil {
				r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
			}
		}
		h.ServeHTTP(w, r)
	})
}

// deadlineBody lifts the read deadline once the body has been read, so
// that the server's wait for the connection's next bytes is not cut
// short while the handler works.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// connLimiter is a listener that keeps at most max connections open,
// closing idle ones to make room. http.Server reports each connection's
// state to connState.
type connLimiter struct {
	net.Listener
	max int

	mu    sync.Mutex
	conns map[net.Conn]*connInfo
}

type connInfo struct {
	state http.ConnState
	since time.Time
}

func newConnLimiter(ln net.Listener, max int) *connLimiter {
	return &connLimiter{Listener: ln, max: max, conns: map[net.Conn]*connInfo{}}
}

// Accept returns the next connection, making room for it at the cap.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		if len(l.conns) >= l.max {
			victim := l.victimLocked()
			if victim == nil {
				l.mu.Unlock()
				c.Close() // every connection is busy with a request
				continue
			}
			delete(l.conns, victim)
			victim.Close()
		}
		l.conns[c] = &connInfo{state: http.StateNew, since: time.Now()}
		l.mu.Unlock()
		return c, nil
	}
}

// countState returns how many open connections are in state st.
func (l *connLimiter) countState(st http.ConnState) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, ci := range l.conns {
		if ci.state == st {
			n++
		}
	}
	return n
}

// victimLocked returns the connection to close for a new one: the longest
// idle, else the oldest that has sent no complete request yet, else nil.
func (l *connLimiter) victimLocked() net.Conn {
	var best net.Conn
	var bestInfo *connInfo
	for c, ci := range l.conns {
		if ci.state != http.StateIdle && ci.state != http.StateNew {
			continue
		}
		if best == nil || victimRank(ci) < victimRank(bestInfo) || victimRank(ci) == victimRank(bestInfo) && ci.since.Before(bestInfo.since) {
			best, bestInfo = c, ci
		}
	}
	return best
}

// victimRank orders the states a victim is chosen from: idle first.
func victimRank(ci *connInfo) int {
	if ci.state == http.StateIdle {
		return 0
	}
	return 1
}

// connState is http.Server's ConnState hook.
func (l *connLimiter) connState(c net.Conn, st http.ConnState) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch st {
	case http.StateClosed, http.StateHijacked:
		delete(l.conns, c)
	default:
		if ci := l.conns[c]; ci != nil {
			ci.state, ci.since = st, time.Now()
		}
	}
}
