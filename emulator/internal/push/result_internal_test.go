package push

import (
	"errors"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"7", 7 * time.Second}, {" 120 ", 2 * time.Minute}, {"-3", 0}, {"soon", 0},
		{"Sun, 06 Dec 2026 10:01:30 GMT", 90 * time.Second},
		{"Sun, 06 Dec 2026 09:59:00 GMT", 0},
		{"999999", 24 * time.Hour},
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestErrorReasonDropsQueries(t *testing.T) {
	err := errors.New(`Post "https://db5p.notify.windows.com/?token=AwYAAAD": dial tcp: refused`)
	if got, want := errorReason(err), `Post "https://db5p.notify.windows.com/": dial tcp: refused`; got != want {
		t.Fatalf("errorReason = %q, want %q", got, want)
	}
}

func TestRebase(t *testing.T) {
	for _, tc := range []struct{ raw, base, want string }{
		{"https://a.example/x?y=1", "https://127.0.0.1:9", "https://127.0.0.1:9/x?y=1"},
		{"https://a.example/?token=t", "https://127.0.0.1:9/", "https://127.0.0.1:9/?token=t"},
		{"https://a.example", "https://127.0.0.1:9", "https://127.0.0.1:9/"},
		{"https://a.example/x", "", "https://a.example/x"},
	} {
		if got := rebase(tc.raw, tc.base); got != tc.want {
			t.Errorf("rebase(%q, %q) = %q, want %q", tc.raw, tc.base, got, tc.want)
		}
	}
}
