package notificationhubs

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// ConnectionString is a parsed Notification Hubs connection string, as
// copied from the portal:
//
//	Endpoint=sb://{namespace}.servicebus.windows.net/;SharedAccessKeyName={rule};SharedAccessKey={key}
//
// Its String and GoString methods print the key as REDACTED, so that a
// ConnectionString can be logged by mistake without leaking it.
type ConnectionString struct {
	// Endpoint is the namespace URL with an https or http scheme and a
	// trailing '/', e.g. "https://ns.servicebus.windows.net/". An sb://
	// endpoint is mapped to https://.
	Endpoint string
	// SharedAccessKeyName is the name of the access rule.
	SharedAccessKeyName string
	// SharedAccessKey is the rule's key, used as written (not decoded).
	SharedAccessKey string
	// EntityPath is the hub name when the connection string names one;
	// it is optional.
	EntityPath string
}

// ParseConnectionString parses a connection string: parts separated by ';'
// (empty parts and surrounding whitespace ignored), each split at its first
// '=' (so '=' inside a base64 key is kept), keys compared case-insensitively
// and in any order, unknown keys ignored. Endpoint, SharedAccessKeyName and
// SharedAccessKey are required; EntityPath is read when present. An sb://
// endpoint becomes https://; https:// and http:// endpoints are kept (the
// latter for local emulators). No error text contains the key.
func ParseConnectionString(s string) (ConnectionString, error) {
	var cs ConnectionString
	var seen [4]bool
	names := [4]string{"Endpoint", "SharedAccessKeyName", "SharedAccessKey", "EntityPath"}
	n := 0
	for part := range strings.SplitSeq(s, ";") {
		n++
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			// Never echo the part: it may be (part of) the key.
			return ConnectionString{}, fmt.Errorf("connection string: part %d has no '='", n)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		idx := -1
		for i, name := range names {
			if strings.EqualFold(k, name) {
				idx = i
				break
			}
		}
		if idx < 0 {
			continue
		}
		if seen[idx] {
			return ConnectionString{}, fmt.Errorf("connection string: %s appears more than once", names[idx])
		}
		seen[idx] = true
		switch idx {
		case 0:
			cs.Endpoint = v
		case 1:
			cs.SharedAccessKeyName = v
		case 2:
			cs.SharedAccessKey = v
		case 3:
			cs.EntityPath = v
		}
	}
	for i := range 3 {
		if !seen[i] {
			return ConnectionString{}, fmt.Errorf("connection string: %s is missing", names[i])
		}
	}
	if cs.Endpoint == "" {
		return ConnectionString{}, errors.New("connection string: Endpoint is empty")
	}
	if cs.SharedAccessKeyName == "" {
		return ConnectionString{}, errors.New("connection string: SharedAccessKeyName is empty")
	}
	if cs.SharedAccessKey == "" {
		return ConnectionString{}, errors.New("connection string: SharedAccessKey is empty")
	}
	ep, err := normalizeEndpoint(cs.Endpoint)
	if err != nil {
		return ConnectionString{}, fmt.Errorf("connection string: Endpoint: %w", err)
	}
	cs.Endpoint = ep.String()
	return cs, nil
}

// normalizeEndpoint parses a namespace endpoint into https://host[:port]/
// (or http:// for http endpoints).
func normalizeEndpoint(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, errors.New("not a valid URL")
	}
	switch strings.ToLower(u.Scheme) {
	case "sb", "https":
		u.Scheme = "https"
	case "http":
		u.Scheme = "http"
	case "":
		return nil, errors.New("no scheme (want sb://, https:// or http://)")
	default:
		return nil, fmt.Errorf("scheme %q is not sb, https or http", clip(u.Scheme, 16))
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, errors.New("no host")
	}
	if u.User != nil {
		return nil, errors.New("user information is not allowed")
	}
	if u.Path != "" && u.Path != "/" {
		return nil, errors.New("a path is not allowed (want the namespace root)")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("a query or fragment is not allowed")
	}
	return &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host), Path: "/"}, nil
}

// String returns the connection string with the key replaced by REDACTED.
func (c ConnectionString) String() string {
	var b strings.Builder
	b.WriteString("Endpoint=")
	b.WriteString(c.Endpoint)
	b.WriteString(";SharedAccessKeyName=")
	b.WriteString(c.SharedAccessKeyName)
	b.WriteString(";SharedAccessKey=")
	if c.SharedAccessKey != "" {
		b.WriteString("REDACTED")
	}
	if c.EntityPath != "" {
		b.WriteString(";EntityPath=")
		b.WriteString(c.EntityPath)
	}
	return b.String()
}

// GoString is like String, for the %#v verb.
func (c ConnectionString) GoString() string {
	return fmt.Sprintf("notificationhubs.ConnectionString{%q}", c.String())
}

// LogValue implements slog.LogValuer: String, so that log/slog's JSON
// handler does not marshal the key.
func (c ConnectionString) LogValue() slog.Value { return slog.StringValue(c.String()) }

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
