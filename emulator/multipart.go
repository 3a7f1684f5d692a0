package emulator

import (
	"encoding/json"
	"strings"
)

// boundaryOf extracts the multipart boundary from a Content-Type value,
// tolerating spaces around '=' and quotes (JS writes `boundary = "…"`).
func boundaryOf(contentType string) string {
	i := strings.Index(asciiLower(contentType), "boundary")
	if i < 0 {
		return ""
	}
	rest := strings.TrimSpace(contentType[i+len("boundary"):])
	if !strings.HasPrefix(rest, "=") {
		return ""
	}
	rest = strings.TrimSpace(rest[1:])
	if strings.HasPrefix(rest, `"`) {
		if j := strings.IndexByte(rest[1:], '"'); j >= 0 {
			return rest[1 : 1+j]
		}
		return ""
	}
	if j := strings.IndexAny(rest, "; \t"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// asciiLower lower-cases ASCII letters only, keeping every byte where it
// was: strings.ToLower may change the length of invalid UTF-8, so an index
// found in its result need not fit the original.
func asciiLower(s string) string {
	b := []byte(s)
	for k, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[k] = c + 'a' - 'A'
		}
	}
	return string(b)
}

type part struct {
	name, contentType string
	body              string
}

// splitMultipart splits body into parts leniently: CRLF or LF line
// endings, case-insensitive part headers, missing closing delimiter.
func splitMultipart(body, boundary string) []part {
	delim := "--" + boundary
	chunks := strings.Split(body, delim)
	var parts []part
	for i, c := range chunks {
		if i == 0 {
			continue // preamble
		}
		if strings.HasPrefix(c, "--") {
			break // closing delimiter
		}
		c = strings.TrimPrefix(strings.TrimPrefix(c, "\r\n"), "\n")
		c = strings.TrimLeft(c, " \t")
		c = strings.TrimPrefix(strings.TrimPrefix(c, "\r\n"), "\n")
		var p part
		for {
			j := strings.IndexByte(c, '\n')
			var line string
			if j < 0 {
				line, c = c, ""
			} else {
				line, c = c[:j], c[j+1:]
			}
			line = strings.TrimRight(line, "\r")
			if strings.TrimSpace(line) == "" {
				break
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "content-type":
				p.contentType = strings.TrimSpace(v)
			case "content-disposition":
				for param := range strings.SplitSeq(v, ";") {
					pk, pv, ok := strings.Cut(param, "=")
					if ok && strings.EqualFold(strings.TrimSpace(pk), "name") {
						p.name = strings.ToLower(strings.Trim(strings.TrimSpace(pv), `"`))
					}
				}
			}
		}
		// The CRLF before the next delimiter belongs to the delimiter.
		c = strings.TrimSuffix(c, "\n")
		c = strings.TrimSuffix(c, "\r")
		p.body = c
		parts = append(parts, p)
	}
	return parts
}

// parseBatch returns the notification body and device handles of a batch
// direct send (docs/protocol.md, "Direct and batch direct sends").
func parseBatch(contentType string, body []byte) (string, []string, error) {
	missing := badRequest("Could not find a part of the multipart content supplied.")
	b := boundaryOf(contentType)
	if b == "" {
		return "", nil, badRequest("The Content-Type of a batch send must be multipart/mixed with a boundary.")
	}
	parts := splitMultipart(string(body), b)
	var notif, devices *part
	for i := range parts {
		switch parts[i].name {
		case "notification":
			notif = &parts[i]
		case "devices":
			devices = &parts[i]
		}
	}
	if notif == nil && len(parts) >= 1 && parts[0].name == "" {
		notif = &parts[0]
	}
	if devices == nil && len(parts) >= 2 && parts[1].name == "" {
		devices = &parts[1]
	}
	if notif == nil || devices == nil {
		return "", nil, missing
	}
	handles, err := parseHandles(devices.body)
	if err != nil {
		return "", nil, err
	}
	if len(handles) == 0 {
		return "", nil, badRequest("The devices part of the batch send lists no device handles.")
	}
	if len(handles) > maxBatchHandles {
		return "", nil, badRequest("A batch send supports at most 1000 device handles.")
	}
	return notif.body, handles, nil
}

// parseHandles reads a JSON array of strings, also accepting the
// single-quoted arrays of the documentation.
func parseHandles(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err == nil {
		return trimAll(l), nil
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		var out []string
		for item := range strings.SplitSeq(s[1:len(s)-1], ",") {
			item = strings.Trim(strings.TrimSpace(item), `'"`)
			if item != "" {
				out = append(out, item)
			}
		}
		return out, nil
	}
	return nil, badRequest("The devices part of the batch send is not a JSON array of strings.")
}

func trimAll(l []string) []string {
	out := l[:0]
	for _, x := range l {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
