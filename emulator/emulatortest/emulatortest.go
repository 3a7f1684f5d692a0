// Package emulatortest starts a Notification Hubs emulator for tests: a TLS
// server on 127.0.0.1 with a fresh self-signed certificate, connection
// strings that point at it and an http.Client that trusts it. The server
// is closed when the test ends.
package emulatortest

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/nhkit/notificationhubs/emulator"
)

// maxIdleConnections is how many idle connections Server.Client keeps to
// the emulator, so that up to that many concurrent requests reuse their
// connections.
const maxIdleConnections = 64

// Server is a running emulator.
type Server struct {
	*emulator.Server
	// URL is https://127.0.0.1:port.
	URL string
	// ConnectionString uses DefaultFullSharedAccessSignature.
	ConnectionString string
	// ListenConnectionString uses DefaultListenSharedAccessSignature.
	ListenConnectionString string
	// NamespaceConnectionString uses RootManageSharedAccessKey, the
	// namespace's Manage rule, for hub management (package admin).
	NamespaceConnectionString string
	// CertFile is the PEM certificate clients must trust.
	CertFile string
	// Client trusts the certificate and keeps up to 64 idle connections
	// to the emulator.
	Client *http.Client
}

// NewServer starts an emulator with default options.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	return NewServerWithOptions(tb, emulator.Options{})
}

// NewServerWithOptions starts an emulator with opts.
func NewServerWithOptions(tb testing.TB, opts emulator.Options) *Server {
	tb.Helper()
	dir := tb.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := emulator.GenerateCert(certFile, keyFile); err != nil {
		tb.Fatalf("emulatortest: %v", err)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		tb.Fatalf("emulatortest: load certificate: %v", err)
	}
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		tb.Fatalf("emulatortest: read certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)

	emu, err := emulator.Open(opts)
	if err != nil {
		tb.Fatalf("emulatortest: %v", err)
	}
	ts := httptest.NewUnstartedServer(emu)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("emulatortest: listen: %v", err)
	}
	ts.Listener.Close()
	ts.Listener = ln
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	ts.StartTLS()
	tb.Cleanup(func() {
		ts.Close()
		_ = emu.Close()
	})
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	endpoint := "sb://127.0.0.1:" + port + "/"
	emu.SetPublicEndpoint(endpoint)
	// net/http's default timeouts, HTTP/1.1 as before, trusting the
	// certificate, and keeping as many idle connections as a test's
	// concurrent senders use: with the default of two per host, each send
	// beyond two at a time paid a TLS handshake.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	transport.ForceAttemptHTTP2 = false
	transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	transport.MaxIdleConns = maxIdleConnections
	transport.MaxIdleConnsPerHost = maxIdleConnections
	tb.Cleanup(transport.CloseIdleConnections)
	return &Server{
		Server:                    emu,
		URL:                       "https://127.0.0.1:" + port,
		ConnectionString:          emu.ConnectionString(endpoint, false),
		ListenConnectionString:    emu.ConnectionString(endpoint, true),
		NamespaceConnectionString: emu.NamespaceConnectionString(endpoint),
		CertFile:                  certFile,
		Client:                    &http.Client{Transport: transport},
	}
}
