package cli

import (
	"errors"
	"net/http"
	"time"

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

// throttling reports whether err is a throttling answer (429, or 403 with
// Retry-After) and the Retry-After the service gave.
func throttling(err error) (bool, time.Duration) {
	var re *notificationhubs.ResponseError
	if !errors.As(err, &re) {
		return false, 0
	}
	if errors.Is(re, notificationhubs.ErrThrottled) || re.StatusCode == http.StatusServiceUnavailable {
		return true, re.RetryAfter
	}
	return false, 0
}
