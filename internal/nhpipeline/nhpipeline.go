// Package nhpipeline lends the SDK package's request pipeline to its
// sub-packages. The admin package signs with the SDK's
// SharedAccessKeyCredential, whose key is unexported by design, and sends
// through the same azcore pipeline (SAS policy, api-version, retries,
// debug dump, transport, ResponseError). Go has no friend packages, so the
// SDK package registers a constructor here when it is initialised and the
// admin package calls it; this package holds no logic of its own.
package nhpipeline

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// Options are the settings of a pipeline, as the SDK's ClientOptions
// holds them.
type Options struct {
	ClientOptions azcore.ClientOptions
	APIVersion    string
	TokenLifetime time.Duration
	DebugWriter   io.Writer
}

// Pipeline sends requests to one namespace.
type Pipeline struct {
	// Endpoint is the namespace URL, https://host[:port]/ (http:// for a
	// loopback emulator).
	Endpoint string
	// APIVersion is the api-version sent on every request.
	APIVersion string
	// NewRequest builds a request for p, a path relative to Endpoint and
	// already escaped, with query (may be nil); the api-version is added
	// on each try.
	NewRequest func(ctx context.Context, method, p string, query url.Values) (*policy.Request, error)
	// Do sends req, retried as an idempotent operation. It returns the
	// response when its status is one of ok, else the SDK's
	// *ResponseError (body read and closed); a cancelled context is
	// returned as the context's error.
	Do func(req *policy.Request, ok ...int) (*http.Response, error)
}

// New builds a namespace pipeline signing with credential, which must be a
// *notificationhubs.SharedAccessKeyCredential. The SDK package sets it.
var New func(endpoint string, credential any, o Options) (*Pipeline, error)
