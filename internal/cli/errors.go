package cli

import (
	"errors"
	"net/http"

	notificationhubs "github.com/nhkit/notificationhubs"
)

// authStatus reports whether err is the service refusing the credentials
// (401, or 403 without Retry-After, which would be throttling), and which.
func authStatus(err error) (int, bool) {
	var re *notificationhubs.ResponseError
	if !errors.As(err, &re) {
		return 0, false
	}
	switch {
	case re.StatusCode == http.StatusUnauthorized:
		return re.StatusCode, true
	case re.StatusCode == http.StatusForbidden && re.RetryAfter == 0:
		return re.StatusCode, true
	}
	return 0, false
}
