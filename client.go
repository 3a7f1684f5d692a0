package notificationhubs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
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
)

// ClientOptions configures a Client. The zero value (or nil) means defaults.
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
// registrations and installations. It is immutable after construction
// and safe for concurrent use.
type Client struct {
	endpoint   *url.URL // https://host[:port]/
	hubName    string
	base       string // endpoint + escaped hub name + "/"
	pl         runtime.Pipeline
	tracer     tracing.Tracer
	apiVersion string
	versionHdr []string

	enableTestSend bool
	sas            *sasPolicy

	retrySafe   policy.RetryOptions // idempotent operations
	retryUnsafe policy.RetryOptions // sends
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
	if credential == nil {
		return nil, errors.New("new client: credential is nil")
	}
	if strings.TrimSpace(hubName) == "" {
		return nil, errors.New("new client: hub name is empty")
	}
	if strings.ContainsAny(hubName, "/?#") {
		return nil, fmt.Errorf("new client: hub name %q contains '/', '?' or '#'", clip(hubName, 64))
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
		base:           ep.String() + url.PathEscape(hubName) + "/",
		apiVersion:     o.APIVersion,
		versionHdr:     []string{o.APIVersion},
		enableTestSend: o.EnableTestSend,
	}
	// The audience is the hub URL, lower-cased by sas.Sign (rest-api.md §2.2).
	c.sas = newSASPolicy(credential, ep.String()+hubName, o.TokenLifetime)
	perRetry := []policy.Policy{c.sas, policyFunc(memoryBodyPolicy)}
	if o.DebugWriter != nil {
		perRetry = append(perRetry, newDebugPolicy(o.DebugWriter))
	}
	c.retrySafe = retryOptions(o.Retry, true)
	c.retryUnsafe = retryOptions(o.Retry, false)
	// The pipeline's own retry options are those of sends, the hot path;
	// do sets the idempotent ones per request.
	o.Retry = c.retryUnsafe
	c.pl = runtime.NewPipeline(moduleName, moduleVersion, runtime.PipelineOptions{
		AllowedHeaders:         loggedHeaders,
		AllowedQueryParameters: []string{"api-version", "test", "direct", "$top"},
		PerRetry:               perRetry,
		Tracing:                runtime.TracingOptions{Namespace: "Microsoft.NotificationHubs"},
	}, &o.ClientOptions)
	c.tracer = o.TracingProvider.NewTracer(moduleName, moduleVersion)
	return c, nil
}

// policyFunc adapts a function to policy.Policy.
type policyFunc func(*policy.Request) (*http.Response, error)

// Do implements policy.Policy.
func (f policyFunc) Do(req *policy.Request) (*http.Response, error) { return f(req) }

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
// escaped, e.g. "registrations/"+url.PathEscape(id)), adding api-version to
// query (query may be nil). The query is written api-version first, then
// the other keys in sorted order; a key with an empty value is written as
// a bare flag ("&direct"), as the service's recordings show.
func (c *Client) newRequest(ctx context.Context, method, p string, query url.Values) (*policy.Request, error) {
	var b strings.Builder
	b.Grow(len(c.base) + len(p) + 32)
	b.WriteString(c.base)
	b.WriteString(strings.TrimPrefix(p, "/"))
	b.WriteString("?api-version=")
	b.WriteString(url.QueryEscape(c.apiVersion))
	if len(query) > 0 {
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
				b.WriteByte('&')
				b.WriteString(ek)
				if v != "" {
					b.WriteByte('=')
					b.WriteString(url.QueryEscape(v))
				}
			}
		}
	}
	req, err := runtime.NewRequest(ctx, method, b.String())
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, p, err)
	}
	req.Raw().Header[headerMSVersion] = c.versionHdr
	return req, nil
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
