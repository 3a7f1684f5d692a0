package notificationhubs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// retryOptions returns azcore retry options with a ShouldRetry that knows
// about idempotency (docs/protocol.md, "Retries"). Everything else (MaxRetries,
// delays, TryTimeout) comes from the caller's options.
//
// Idempotent operations retry transport errors (but an untrusted server
// certificate), 408, 429, 500, 502, 503 and 504, and 403 with Retry-After
// (legacy throttling).
//
// Non-idempotent operations (sends) retry only where the service cannot
// have acted: the connection was never made (refused, or any dial
// failure), 429, and 403 or 503 with Retry-After.
//
// 403 without Retry-After is never retried. azcore's retry policy honours
// Retry-After (seconds or HTTP date) and ends every wait when the context
// is done.
func retryOptions(base policy.RetryOptions, idempotent bool) policy.RetryOptions {
	o := base
	if o.ShouldRetry == nil {
		if idempotent {
			o.ShouldRetry = shouldRetryIdempotent
		} else {
			o.ShouldRetry = shouldRetrySend
		}
	}
	// (A caller's own ShouldRetry is kept.) With a ShouldRetry, azcore
	// ignores StatusCodes, but fills in its default list on every request
	// when it is nil: an allocation per send for nothing.
	if o.StatusCodes == nil {
		o.StatusCodes = noStatusCodes
	}
	return o
}

var noStatusCodes = []int{}

func shouldRetryIdempotent(resp *http.Response, err error) bool {
	if err != nil {
		return !untrusted(err)
	}
	switch resp.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case http.StatusForbidden:
		return hasRetryAfter(resp)
	}
	return false
}

func shouldRetrySend(resp *http.Response, err error) bool {
	if err != nil {
		return neverSent(err)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		return true
	case http.StatusServiceUnavailable, http.StatusForbidden:
		return hasRetryAfter(resp)
	}
	return false
}

func hasRetryAfter(resp *http.Response) bool {
	return resp.Header.Get("Retry-After") != "" || resp.Header.Get("Retry-After-Ms") != "" ||
		resp.Header.Get("X-Ms-Retry-After-Ms") != ""
}

// untrusted reports whether err is a server certificate this machine
// does not accept (unknown authority, wrong host name, expired): trying
// again cannot help, so the user should see it at once.
func untrusted(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci)
}

// neverSent reports whether err shows that the request never reached the
// server: the connection was refused or could not be dialled.
func neverSent(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}
