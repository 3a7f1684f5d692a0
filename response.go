package notificationhubs

// Helpers every operation uses to read the service's responses and to
// write Atom request bodies.

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"

	"github.com/nhkit/notificationhubs/internal/atom"
)

// respIDs returns the TrackingId and x-ms-correlation-request-id headers.
func responseIDs(resp *http.Response) (trackingID, correlationID string) {
	return resp.Header.Get("TrackingId"), resp.Header.Get("x-ms-correlation-request-id")
}

// weakETag strips W/ and quotes from an ETag header: W/"3" -> 3.
func weakETag(v string) azcore.ETag {
	v = strings.TrimSpace(v)
	v = strings.TrimPrefix(v, "W/")
	return azcore.ETag(strings.Trim(v, `"`))
}

// ifMatch renders an ETag for If-Match: "n", or * unchanged.
func ifMatch(etag azcore.ETag) string {
	e := strings.TrimSpace(string(etag))
	if e == "*" {
		return "*"
	}
	e = strings.Trim(strings.TrimPrefix(e, "W/"), `"`)
	return `"` + e + `"`
}

// readBody reads and closes resp.Body.
func readAllClose(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("notificationhubs: reading the response of %s %s: %w", resp.Request.Method, resp.Request.URL.Path, err)
	}
	return b, nil
}

// setAtomBody sets an Atom entry wrapping content as the body of req.
func setAtomBody(req *policy.Request, content []byte) error {
	body := atom.MarshalRequestEntry(content)
	return req.SetBody(streaming.NopCloser(bytes.NewReader(body)), "application/atom+xml;type=entry;charset=utf-8")
}

// parseServiceTime parses an xs:dateTime as the service writes it, with or
// without a zone (no zone means UTC).
func parseWireTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad date-time %q", s)
	}
	return t, nil
}
