package cli

import (
	"crypto/tls"
	"crypto/x509"

	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	notificationhubs "github.com/nhkit/notificationhubs"
)

// Environment variables nh reads.
const (
	envConnectionString = "NH_CONNECTION_STRING"
	envHub              = "NH_HUB"
	envCAFile           = "NH_CA_FILE"                // extra CA certificate (PEM) to trust for TLS
	envControlToken     = "NH_EMULATOR_CONTROL_TOKEN" // bearer token of an emulator's /_emulator/ endpoints
)

// factory holds global configuration and builds the SDK client lazily, so
// commands that need no network (help, tags check, emulator) never parse a
// connection string.
type factory struct {
	io     IO
	getenv func(string) string

	// global flags
	connectionString string
	hub              string
	output           string

	// transport overrides the HTTP transport (tests, nh demo).
	transport http.RoundTripper

	mu          sync.Mutex
	defaultHTTP *http.Client
}

func newFactory(stdio IO, getenv func(string) string) *factory {
	return &factory{io: stdio, getenv: getenv, output: outputTable}
}

func (f *factory) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.defaultHTTP != nil {
		f.defaultHTTP.CloseIdleConnections()
	}
}

// connString returns the configured connection string (flag, then env).
func (f *factory) connString() (string, error) {
	cs := f.connectionString
	if cs == "" {
		cs = f.getenv(envConnectionString)
	}
	if strings.TrimSpace(cs) == "" {
		return "", usageErrorf("no connection string: set --connection-string or %s", envConnectionString)
	}
	return cs, nil
}

// hubName returns the configured hub (flag, then env, then the connection
// string's EntityPath).
func (f *factory) hubName() (string, error) {
	h := f.hub
	if h == "" {
		h = f.getenv(envHub)
	}
	if h == "" {
		if cs, err := f.connString(); err == nil {
			if parsed, err := notificationhubs.ParseConnectionString(cs); err == nil {
				h = parsed.EntityPath
			}
		}
	}
	if h == "" {
		return "", usageErrorf("no hub: set --hub or %s", envHub)
	}
	return h, nil
}

// endpoint returns the namespace endpoint of the connection string,
// https://host:port/ (or http:// for a plain-HTTP emulator).
func (f *factory) endpoint() (*url.URL, error) {
	cs, err := f.connString()
	if err != nil {
		return nil, err
	}
	parsed, err := notificationhubs.ParseConnectionString(cs)
	if err != nil {
		return nil, &flagError{err}
	}
	return url.Parse(parsed.Endpoint)
}

// endpointIsLocal reports whether the configured endpoint is on this
// machine (an emulator).
func (f *factory) endpointIsLocal() bool {
	u, err := f.endpoint()
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// clientConfig are the per-command client settings.
type clientConfig struct {
	debug    io.Writer // redacted request/response dump
	testSend bool      // EnableTestSend
	noRetry  bool      // the caller paces and retries itself (bulk sends)
}

// client builds an SDK client for the configured hub.
func (f *factory) client(cfg clientConfig) (*notificationhubs.Client, error) {
	cs, err := f.connString()
	if err != nil {
		return nil, err
	}
	hub, err := f.hubName()
	if err != nil {
		return nil, err
	}
	hc, err := f.httpClient()
	if err != nil {
		return nil, err
	}
	opts := &notificationhubs.ClientOptions{
		DebugWriter:    cfg.debug,
		EnableTestSend: cfg.testSend,
	}
	opts.Transport = hc
	if cfg.noRetry {
		opts.Retry.MaxRetries = -1
	}
	c, err := notificationhubs.NewClientFromConnectionString(cs, hub, opts)
	if err != nil {
		// The SDK never puts the key in its errors.
		return nil, &flagError{err}
	}
	return c, nil
}

// httpClient returns the shared HTTP client, trusting NH_CA_FILE if set.
func (f *factory) httpClient() (*http.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.defaultHTTP != nil {
		return f.defaultHTTP, nil
	}
	if f.transport != nil {
		f.defaultHTTP = &http.Client{Transport: f.transport}
		return f.defaultHTTP, nil
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	if caFile := f.getenv(envCAFile); caFile != "" {
		pool, err := certPool(caFile)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	f.defaultHTTP = &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	return f.defaultHTTP, nil
}

// certPool returns the system pool plus the PEM certificates in file.
func certPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", envCAFile, err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s: %s holds no PEM certificate", envCAFile, file)
	}
	return pool, nil
}
