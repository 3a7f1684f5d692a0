package notificationhubs

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// debugPolicy writes every try's request and response to w, in the spirit
// of the article's isDebug dump, with the SAS signature redacted. It runs
// per retry, after the SAS policy, so it shows what went on the wire.
type debugPolicy struct {
	mu sync.Mutex
	w  io.Writer
}

func newDebugPolicy(w io.Writer) *debugPolicy { return &debugPolicy{w: w} }

// Do implements policy.Policy.
func (p *debugPolicy) Do(req *policy.Request) (*http.Response, error) {
	var b bytes.Buffer
	raw := req.Raw()
	b.WriteString("--- REQUEST ---\n")
	b.WriteString(raw.Method)
	b.WriteByte(' ')
	b.WriteString(raw.URL.String())
	b.WriteByte('\n')
	writeHeaders(&b, raw.Header, raw.ContentLength)
	b.WriteByte('\n')
	if req.Body() == nil && raw.GetBody != nil && raw.ContentLength > 0 {
		if rc, err := raw.GetBody(); err == nil {
			data, _ := io.ReadAll(rc)
			writeBody(&b, data)
		}
	} else if body := req.Body(); body != nil {
		data, err := io.ReadAll(body)
		if _, serr := body.Seek(0, io.SeekStart); err == nil {
			err = serr
		}
		if err != nil {
			return nil, err
		}
		writeBody(&b, data)
	}
	b.WriteString("--- END REQUEST ---\n")

	resp, err := req.Next()

	if err != nil {
		b.WriteString("--- ERROR ---\n")
		b.WriteString(redactSignature(err.Error()))
		b.WriteString("\n--- END ERROR ---\n")
	} else {
		b.WriteString("--- RESPONSE ---\n")
		b.WriteString(resp.Status)
		b.WriteByte('\n')
		writeHeaders(&b, resp.Header, -1)
		b.WriteByte('\n')
		data, perr := runtime.Payload(resp)
		if perr == nil {
			writeBody(&b, data)
		}
		b.WriteString("--- END RESPONSE ---\n")
	}
	p.mu.Lock()
	p.w.Write(b.Bytes())
	p.mu.Unlock()
	return resp, err
}

// writeHeaders writes headers sorted by name, one "Name: value" a line,
// the Authorization header with its signature redacted. A positive
// contentLength is written as the Content-Length header when h has none,
// as net/http sends it.
func writeHeaders(b *bytes.Buffer, h http.Header, contentLength int64) {
	names := make([]string, 0, len(h)+1)
	for k := range h {
		names = append(names, k)
	}
	var synthetic map[string][]string
	if _, ok := h["Content-Length"]; !ok && contentLength > 0 {
		names = append(names, "Content-Length")
		synthetic = map[string][]string{"Content-Length": {strconv.FormatInt(contentLength, 10)}}
	}
	slices.Sort(names)
	for _, k := range names {
		values := h[k]
		if values == nil {
			values = synthetic[k]
		}
		for _, v := range values {
			b.WriteString(k)
			b.WriteString(": ")
			if strings.EqualFold(k, headerAuthorization) {
				v = redactAuthorization(v)
			}
			b.WriteString(v)
			b.WriteByte('\n')
		}
	}
}

func writeBody(b *bytes.Buffer, data []byte) {
	if len(data) == 0 {
		return
	}
	data = redactBodySecrets(data)
	if bytes.Contains(data, []byte("sig=")) {
		// Blob-storage SAS URLs: the feedback container, a job's
		// container and import file, PNS error details.
		data = []byte(redactSignature(string(data)))
	}
	b.Write(data)
	if data[len(data)-1] != '\n' {
		b.WriteByte('\n')
	}
}

// redactAuthorization keeps sr, se and skn of a SAS token and replaces the
// signature with REDACTED. Anything that is not a SAS token is redacted
// whole.
func redactAuthorization(v string) string {
	const prefix = "SharedAccessSignature "
	if len(v) < len(prefix) || !strings.EqualFold(v[:len(prefix)], prefix) {
		return "REDACTED"
	}
	fields := strings.Split(v[len(prefix):], "&")
	for i, f := range fields {
		k, _, _ := strings.Cut(f, "=")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "sr", "se", "skn":
		default:
			fields[i] = strings.TrimSpace(k) + "=REDACTED"
		}
	}
	return v[:len(prefix)] + strings.Join(fields, "&")
}

// redactSignature redacts any "sig=…" in s (up to '&', space, quote or
// '<', where an XML element's closing tag starts).
func redactSignature(s string) string {
	i := strings.Index(s, "sig=")
	if i < 0 {
		return s
	}
	var b strings.Builder
	for i >= 0 {
		b.WriteString(s[:i+4])
		b.WriteString("REDACTED")
		s = s[i+4:]
		j := strings.IndexAny(s, "& \"'\n<")
		if j < 0 {
			s = ""
		} else {
			s = s[j:]
		}
		i = strings.Index(s, "sig=")
	}
	b.WriteString(s)
	return b.String()
}
