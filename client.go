package notificationhubs

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/tracing"
)

const (
	moduleName    = "github.com/nhkit/notificationhubs"
	moduleVersion = "v0.1.0"

	// DefaultAPIVersion is the api-version a Client sends unless
	// ClientOptions.APIVersion says otherwise.
	DefaultAPIVersion = "2020-06"

	// DefaultTokenLifetime is the lifetime of the SAS tokens a Client signs
	// unless ClientOptions.TokenLifetime says otherwise.
	DefaultTokenLifetime = 60 * time.Minute

	headerAuthorization = "Authorization"
	headerMSVersion     = "X-Ms-Version"
	headerUserAgent     = "User-Agent"

	// DefaultMaxIdleConnsPerHost is how many idle connections to one host
	// the default HTTP client keeps for reuse (see ClientOptions).
	DefaultMaxIdleConnsPerHost = 1024
)

// ClientOptions configures a Client. The zero value (or nil) means defaults.
//
// # Connections
//
// When ClientOptions.Transport is nil, the client uses the package's
// default HTTP client, one transport shared by every Client built
// without a Transport. It keeps up to DefaultMaxIdleConnsPerHost (1024)
// idle connections per host, so that a program sending from many
// goroutines at once reuses its TLS connections instead of closing all
// but a few after each burst and handshaking again (azcore's default
// keeps 10). It speaks HTTP/2 where the server offers it, honours the
// proxy environment variables, requires TLS 1.2 or later, closes
// connections idle for 90 seconds, does not ask for gzip-compressed
// responses and does not follow redirects (the service sends none). A
// Transport of your own (an *http.Client or any policy.Transporter)
// replaces it entirely.
//
// # Policies of your own
//
// The client sets some of every request's parts on each try, after
// azcore's retry policy has copied the request: the Authorization header,
// the api-version query parameter, X-Ms-Version, User-Agent and, on sends,
// the format, Content-Type, tags and platform headers. Policies in
// PerRetryPolicies see them all; policies in PerCallPolicies run before
// they are set (an X-Ms-Version or User-Agent they set is kept).
type ClientOptions struct {
	// ClientOptions are azcore's options: transport, retry, logging,
	// telemetry and tracing.
	azcore.ClientOptions

	// APIVersion is the api-version query parameter sent on every request.
	// The default is DefaultAPIVersion ("2020-06").
	APIVersion string

	// EnableTestSend turns on test ("debug") sends for every tag and
	// broadcast send of the client: the service delivers to at most 10
	// registrations and answers with their outcome. It is the article's
	// debug flag; SendNotificationOptions.EnableTestSend overrides it.
	EnableTestSend bool

	// TokenLifetime is the lifetime of each SAS token. The client signs a
	// token once per lifetime and reuses it. The default is
	// DefaultTokenLifetime (60 minutes).
	TokenLifetime time.Duration

	// DebugWriter, when set, receives a dump of every request (method,
	// URL, headers, body) and response (status, headers, body), with the
	// SAS signature replaced by REDACTED.
	DebugWriter io.Writer
}

// Client sends notifications to one notification hub and manages its
// registrations and installations. It is safe for concurrent use, and
// immutable after construction but for a small internal cache of the tag
// expressions it has already checked.
type Client struct {
	endpoint   *url.URL // https://host[:port]/
	hubName    string
	base       string // endpoint + escaped hub name + "/"
	pl         runtime.Pipeline
	tracer     tracing.Tracer
	apiVersion string
	versionHdr []string
	userAgent  []string // the User-Agent header value, nil with telemetry disabled

	// The requests of sends, built once: POST messages, messages?test
	// and messages?direct (the api-version is added per try). Each send
	// copies one (see newSendRequest).
	sendReqs [3]*http.Request
	// perCall is set when the options have per-call policies: they see
	// a send's header map before tryPolicy fills it, so it must exist.
	perCall bool

	enableTestSend bool
	sas            *sasPolicy
	// skipDownload is set unless azcore logs bodies: sends that expect no
	// body then skip azcore's body download (a 512-byte buffer per send)
	// and drain the response themselves.
	skipDownload bool

	retrySafe   policy.RetryOptions // idempotent operations
	retryUnsafe policy.RetryOptions // sends

	// exprs holds tag expressions already checked (see exprCache); the
	// only state of a Client that changes after construction.
	exprs exprCache
}

// NewClientFromConnectionString returns a client for the hub hubName of
// the namespace in connectionString. When hubName is empty, the
// connection string's EntityPath is used.
func NewClientFromConnectionString(connectionString, hubName string, options *ClientOptions) (*Client, error) {
	cs, err := ParseConnectionString(connectionString)
	if err != nil {
		return nil, err
	}
	if hubName == "" {
		hubName = cs.EntityPath
	}
	cred, err := NewSharedAccessKeyCredential(cs.SharedAccessKeyName, cs.SharedAccessKey)
	if err != nil {
		return nil, err
	}
	return NewClient(cs.Endpoint, hubName, cred, options)
}

// NewClient returns a client for the hub hubName at the namespace
// endpoint (sb://, https:// or http://, e.g.
// "https://ns.servicebus.windows.net/"), signing requests with credential.
// An http:// endpoint is accepted only for loopback hosts unless
// options.InsecureAllowCredentialWithHTTP is set.
func NewClient(endpoint, hubName string, credential *SharedAccessKeyCredential, options *ClientOptions) (*Client, error) {
	if strings.TrimSpace(hubName) == "" {
		return nil, errors.New("new client: hub name is empty")
	}
	if strings.ContainsAny(hubName, "/?#") {
		return nil, fmt.Errorf("new client: hub name %q contains '/', '?' or '#'", clip(hubName, 64))
	}
	return newClient(endpoint, hubName, credential, options)
}

// newClient builds a client for hubName, or with hubName "" one for the
// namespace itself (the admin package's): its paths are relative to the
// endpoint and its tokens' audience is the namespace.
func newClient(endpoint, hubName string, credential *SharedAccessKeyCredential, options *ClientOptions) (*Client, error) {
	if credential == nil {
		return nil, errors.New("new client: credential is nil")
	}
	ep, err := normalizeEndpoint(endpoint)
	if err != nil {
		return nil, fmt.Errorf("new client: endpoint: %w", err)
	}
	var o ClientOptions
	if options != nil {
		o = *options
	}
	if ep.Scheme == "http" && !o.InsecureAllowCredentialWithHTTP && !isLoopback(ep.Hostname()) {
		return nil, fmt.Errorf("new client: endpoint %s uses http for a host that is not loopback; set InsecureAllowCredentialWithHTTP to allow it", ep)
	}
	if o.APIVersion == "" {
		o.APIVersion = DefaultAPIVersion
	}
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = DefaultTokenLifetime
	}
	c := &Client{
		endpoint:       ep,
		hubName:        hubName,
		base:           ep.String(),
		apiVersion:     o.APIVersion,
		versionHdr:     []string{o.APIVersion},
		enableTestSend: o.EnableTestSend,
	}
	if hubName != "" {
		c.base += url.PathEscape(hubName) + "/"
	}
	for i, q := range []string{"", "?test", "?direct"} {
		r, err := http.NewRequest(http.MethodPost, c.base+"messages"+q, nil)
		if err != nil {
			return nil, fmt.Errorf("new client: %w", err)
		}
		r.Header = nil // each send has its own (newSendRequest)
		c.sendReqs[i] = r
	}
	c.perCall = len(o.PerCallPolicies) > 0
	// The audience is the hub URL, lower-cased by sas.Sign (docs/protocol.md, "SAS tokens").
	c.sas = newSASPolicy(credential, ep.String()+hubName, o.TokenLifetime)
	// One per-try policy signs, adds the api-version and resets in-memory
	// bodies; the debug dump, when asked for, runs after it to show what
	// goes on the wire.
	apiQuery := "api-version=" + url.QueryEscape(o.APIVersion)
	c.userAgent = telemetryHeader(o.Telemetry)
	perRetry := []policy.Policy{&tryPolicy{
		sas:       c.sas,
		version:   c.versionHdr,
		userAgent: c.userAgent,
		apiQuery:  apiQuery,
		apiTest:   apiQuery + "&test",
		apiDirect: apiQuery + "&direct",
	}}
	if o.DebugWriter != nil {
		perRetry = append(perRetry, newDebugPolicy(o.DebugWriter))
	}
	// The User-Agent is azcore's telemetry value, computed once above and
	// set by tryPolicy, instead of azcore's telemetry policy computing it
	// on every request.
	o.Telemetry.Disabled = true
	if o.Transport == nil {
		o.Transport = defaultHTTPClient()
	}
	c.skipDownload = !o.Logging.IncludeBody
	c.retrySafe = retryOptions(o.Retry, true)
	c.retryUnsafe = retryOptions(o.Retry, false)
	// The pipeline's own retry options are those of sends, the hot path;
	// do sets the idempotent ones per request.
	o.Retry = c.retryUnsafe
	c.pl = runtime.NewPipeline(moduleName, moduleVersion, runtime.PipelineOptions{
		AllowedHeaders:         loggedHeaders,
		AllowedQueryParameters: []string{"api-version", "test", "direct", "$top", "$skip"},
		PerRetry:               perRetry,
		Tracing:                runtime.TracingOptions{Namespace: "Microsoft.NotificationHubs"},
	}, &o.ClientOptions)
	c.tracer = o.TracingProvider.NewTracer(moduleName, moduleVersion)
	return c, nil
}

// tryPolicy is the client's per-try policy: it sets the Authorization
// header from the SAS policy's cached token, puts the api-version first
// in the query, sets a send's own headers (sendHeaders; on the copy of a
// request built once it first makes the header map) and gives each try a
// fresh reader of an in-memory body. It is one policy rather than three
// because every policy costs an allocation per try in azcore's pipeline.
//
// The api-version is added here, after azcore's retry policy, rather
// than when the request is built: that policy copies the request and
// re-encodes its query for a log line on every try, whether or not
// anything is logged, and a send's query is then empty.
type tryPolicy struct {
	sas *sasPolicy
	// version and userAgent are the X-Ms-Version and User-Agent header
	// values (userAgent nil with telemetry disabled). Set here rather than
	// when the request is built, they are not among the headers azcore's
	// retry policy copies on every try.
	version, userAgent []string
	// apiQuery is "api-version=V"; apiTest and apiDirect add the bare
	// flags of test and direct sends.
	apiQuery, apiTest, apiDirect string
}

// Do implements policy.Policy.
func (p *tryPolicy) Do(req *policy.Request) (*http.Response, error) {
	raw := req.Raw()
	st, _ := raw.Context().Value(sendHeadersKey{}).(*sendHeaders)
	h := raw.Header
	if h == nil {
		// A send's copy of its request built once (newSendRequest): one
		// map of the size it needs.
		n := 3
		if st != nil {
			n += st.count()
		}
		h = make(http.Header, n)
		raw.Header = h
	}
	h[headerAuthorization] = p.sas.header()
	// A value a caller's per-call policy set is kept.
	if _, set := h[headerMSVersion]; !set {
		h[headerMSVersion] = p.version
	}
	if p.userAgent != nil {
		if _, set := h[headerUserAgent]; !set {
			h[headerUserAgent] = p.userAgent
		}
	}
	if st != nil {
		st.set(h)
	}
	// raw is the retry policy's copy for this try, URL included: the
	// query is set afresh on every try.
	switch q := raw.URL.RawQuery; {
	case q == "":
		raw.URL.RawQuery = p.apiQuery
	case q == "test":
		raw.URL.RawQuery = p.apiTest
	case q == "direct":
		raw.URL.RawQuery = p.apiDirect
	case strings.HasPrefix(q, "api-version="):
	default:
		raw.URL.RawQuery = p.apiQuery + "&" + q
	}
	switch {
	case st != nil && raw.ContentLength > 0:
		raw.Body = st.tryBody()
	case req.Body() == nil && raw.GetBody != nil && raw.ContentLength > 0:
		raw.Body, _ = raw.GetBody()
	}
	return req.Next()
}

// telemetryHeader returns the User-Agent value azcore's telemetry policy
// sets for this module with options o ("[application id ]azsdk-go-
// notificationhubs/VERSION (GO VERSION; OS)"), or nil when telemetry is
// disabled. It runs that policy once on a scratch request, so that the
// value is azcore's own.
func telemetryHeader(o policy.TelemetryOptions) []string {
	if o.Disabled {
		return nil
	}
	req, err := runtime.NewRequest(context.Background(), http.MethodGet, "https://localhost/")
	if err != nil {
		return nil
	}
	// The policy calls Next, which fails for want of a next policy after
	// it has set the header.
	_, _ = runtime.NewTelemetryPolicy(moduleName, moduleVersion, &o).Do(req)
	if v := req.Raw().Header.Get(headerUserAgent); v != "" {
		return []string{v}
	}
	return nil
}

// defaultHTTPClient returns the HTTP client of Clients whose options set
// no Transport, built on first use and shared by them all: like azcore's
// default (proxy from the environment, TLS 1.2 or later, HTTP/2 where the
// server offers it, 90-second idle timeout) except that it keeps
// DefaultMaxIdleConnsPerHost idle connections per host instead of 10, so
// that concurrent senders keep their connections, that it does not ask
// for compressed responses, and that it makes one round trip per request
// without http.Client's redirect machinery.
var defaultHTTPClient = sync.OnceValue(func() policy.Transporter {
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:             http.ProxyFromEnvironment,
		DialContext:       dialer.DialContext,
		ForceAttemptHTTP2: true,
		// No "Accept-Encoding: gzip" and transparent decompression: a
		// send's answer is empty, and asking costs every request a
		// header map and response wrappers (830 bytes, 6 allocations).
		DisableCompression:    true,
		MaxIdleConns:          0, // no limit across hosts; per host below
		MaxIdleConnsPerHost:   DefaultMaxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
		TLSClientConfig: &tls.Config{
			MinVersion:    tls.VersionTLS12,
			Renegotiation: tls.RenegotiateFreelyAsClient,
		},
		HTTP2: &http.HTTP2Config{
			// As azcore: ping a connection idle for 10 seconds and close
			// it when the ping gets no answer within 5.
			SendPingTimeout: 10 * time.Second,
			PingTimeout:     5 * time.Second,
		},
	}
	return roundTripper{tr}
})

// roundTripper is the default transport: one round trip of an
// *http.Transport per request. Unlike an http.Client it does not follow
// redirects (the service sends none, and a redirected send would carry
// the SAS token elsewhere; a 3xx is returned as it came) and it does not
// copy the headers of every request for them, which an http.Client does.
// Errors are *url.Error, as an http.Client returns them.
type roundTripper struct {
	rt http.RoundTripper
}

// Do implements policy.Transporter.
func (t roundTripper) Do(req *http.Request) (*http.Response, error) {
	resp, err := t.rt.RoundTrip(req)
	if err != nil {
		method := req.Method
		if method == "" {
			method = http.MethodGet
		}
		// As http.Client: "Post", and the URL without a password.
		op := method[:1] + strings.ToLower(method[1:])
		return nil, &url.Error{Op: op, URL: req.URL.Redacted(), Err: err}
	}
	return resp, nil
}

// loggedHeaders are the headers azcore's logging policy prints with their
// values; it redacts every other header, Authorization included.
var loggedHeaders = []string{
	"ServiceBusNotification-Format", "ServiceBusNotification-Tags",
	"ServiceBusNotification-ScheduleTime", "TrackingId", "x-ms-correlation-request-id",
	"x-ms-version", "Location", "Content-Location", "ETag", "If-Match", "Retry-After",
	"x-ms-continuationtoken", "X-WNS-Type", "X-WindowsPhone-Target", "X-NotificationClass",
	"apns-push-type", "apns-priority", "apns-topic", "apns-expiration", "apns-collapse-id",
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// HubName returns the name of the hub the client works on.
func (c *Client) HubName() string { return c.hubName }

// Endpoint returns the namespace URL, e.g. "https://ns.servicebus.windows.net/".
func (c *Client) Endpoint() string { return c.endpoint.String() }

// APIVersion returns the api-version the client sends.
func (c *Client) APIVersion() string { return c.apiVersion }

// newRequest builds a request for the hub-relative path p (already
// escaped, e.g. "registrations/"+url.PathEscape(id)) with query (may be
// nil). The query's keys are written in sorted order; a key with an empty
// value is written as a bare flag ("&direct"), as the service's
// recordings show. The api-version is put in front of them on each try,
// by tryPolicy.
func (c *Client) newRequest(ctx context.Context, method, p string, query url.Values) (*policy.Request, error) {
	req, err := runtime.NewRequest(ctx, method, c.requestURL(p, query))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, p, err)
	}
	return req, nil
}

// sendRequest returns the request built once of a send to messages
// (plain, test or direct), or nil for any other path or query.
func (c *Client) sendRequest(p string, query url.Values) *http.Request {
	if p != "messages" {
		return nil
	}
	switch {
	case len(query) == 0:
		return c.sendReqs[0]
	case isFlag(query, "test"):
		return c.sendReqs[1]
	case isFlag(query, "direct"):
		return c.sendReqs[2]
	}
	return nil
}

// requestURL returns the URL of the hub-relative path p with query, as
// newRequest describes; the URLs of sends are built once.
func (c *Client) requestURL(p string, query url.Values) string {
	var b strings.Builder
	b.Grow(len(c.base) + len(p) + 32)
	b.WriteString(c.base)
	b.WriteString(strings.TrimPrefix(p, "/"))
	if len(query) > 0 {
		sep := byte('?')
		keys := make([]string, 0, len(query))
		for k := range query {
			if k != "api-version" {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			ek := strings.ReplaceAll(url.QueryEscape(k), "%24", "$")
			vs := query[k]
			if len(vs) == 0 {
				vs = []string{""}
			}
			for _, v := range vs {
				b.WriteByte(sep)
				sep = '&'
				b.WriteString(ek)
				if v != "" {
					b.WriteByte('=')
					b.WriteString(url.QueryEscape(v))
				}
			}
		}
	}
	return b.String()
}

// isFlag reports whether query is exactly the bare flag key ("&key").
func isFlag(query url.Values, key string) bool {
	if len(query) != 1 {
		return false
	}
	vs, ok := query[key]
	return ok && (len(vs) == 0 || len(vs) == 1 && vs[0] == "")
}

// skipBodyDownload tells azcore not to read the body of a successful
// response to req into memory; the caller must then drain and close it
// (drainBody). It does nothing when azcore logs bodies.
func (c *Client) skipBodyDownload(req *policy.Request) {
	if c.skipDownload {
		runtime.SkipBodyDownload(req)
	}
}

// maxDrain bounds what drainBody reads: past it, closing the connection
// is cheaper than reading on.
const maxDrain = 64 << 10

// drainBody reads the rest of resp's body (up to maxDrain bytes), so that
// its connection is reused, and closes it.
func drainBody(resp *http.Response) {
	if resp.Body != http.NoBody {
		_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	}
	resp.Body.Close()
}

// do sends req through the pipeline; idempotent reports whether retrying
// after an ambiguous failure is safe. It returns the response if its
// status is one of ok, else a *ResponseError (body read, closed).
// Transport errors are wrapped; a cancelled or expired context is
// returned as the context's error.
func (c *Client) do(req *policy.Request, idempotent bool, ok ...int) (*http.Response, error) {
	ctx := req.Raw().Context()
	if idempotent {
		req = req.WithContext(policy.WithRetryOptions(ctx, c.retrySafe))
	}
	resp, err := c.pl.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, &transportError{method: req.Raw().Method, url: redactURL(req.Raw().URL), err: err}
	}
	if slices.Contains(ok, resp.StatusCode) {
		return resp, nil
	}
	return nil, newResponseError(resp)
}

// transportError is a failure to get any response. It unwraps to the
// transport's error.
type transportError struct {
	method, url string
	err         error
}

func (e *transportError) Error() string {
	return "notificationhubs: " + e.method + " " + e.url + ": " + e.err.Error()
}

func (e *transportError) Unwrap() error { return e.err }

// redactURL returns scheme, host and path of u, without the query.
func redactURL(u *url.URL) string {
	v := *u
	v.RawQuery = ""
	v.User = nil
	return v.String()
}
