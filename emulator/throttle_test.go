package emulator

import (
	"testing"
	"time"
)

// TestThrottleModels drives both throttle models through the same
// requests: the token bucket refills continuously and lets a burst
// through, the fixed window admits its quota and then nothing until the
// next window starts, whatever the spacing.
func TestThrottleModels(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) // a whole second
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	type step struct {
		ms       int
		ok       bool
		wait     time.Duration // when !ok
		comment  string
		approxOK bool // wait compared to the millisecond
	}
	tests := []struct {
		name   string
		window time.Duration
		steps  []step
	}{
		{
			name: "bucket of 4 at 4/s",
			steps: []step{
				{ms: 0, ok: true}, {ms: 0, ok: true}, {ms: 0, ok: true}, {ms: 0, ok: true},
				{ms: 0, wait: 250 * time.Millisecond, comment: "burst spent"},
				{ms: 250, ok: true, comment: "one token back"},
				{ms: 300, wait: 200 * time.Millisecond, approxOK: true},
				{ms: 1500, ok: true}, {ms: 1500, ok: true}, {ms: 1500, ok: true}, {ms: 1500, ok: true},
				{ms: 1500, wait: 250 * time.Millisecond, comment: "refilled to the burst, no more"},
			},
		},
		{
			name:   "windows of 1s at 4/s",
			window: time.Second,
			steps: []step{
				{ms: 900, ok: true}, {ms: 950, ok: true}, {ms: 999, ok: true},
				{ms: 1000, ok: true, comment: "a new window: its quota is fresh"},
				{ms: 1001, ok: true}, {ms: 1002, ok: true}, {ms: 1003, ok: true},
				{ms: 1004, wait: 996 * time.Millisecond, comment: "quota spent: wait for the next window"},
				{ms: 1900, wait: 100 * time.Millisecond, comment: "no refill inside a window"},
				{ms: 2000, ok: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ts throttleSet
			ts.init(4, 4, tt.window)
			for i, st := range tt.steps {
				wait, ok := ts.take("Hub", at(st.ms))
				if ok != st.ok {
					t.Fatalf("step %d (%d ms, %s): admitted = %v, want %v", i, st.ms, st.comment, ok, st.ok)
				}
				if ok {
					continue
				}
				d := wait - st.wait
				if st.approxOK && (d < -time.Millisecond || d > time.Millisecond) || !st.approxOK && d != 0 {
					t.Errorf("step %d (%d ms, %s): wait %v, want %v", i, st.ms, st.comment, wait, st.wait)
				}
			}
			// Another hub has its own quota.
			if _, ok := ts.take("other", at(tt.steps[len(tt.steps)-1].ms)); !ok {
				t.Error("another hub was throttled by this hub's requests")
			}
		})
	}
}

// TestThrottleWindowOverHTTP checks the window model's answer on the
// emulator's clock (Options.Now): 429 with the service's error body and a
// Retry-After of whole seconds until the next window, and a new quota
// once that window begins.
func TestThrottleWindowOverHTTP(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 5, 1, 12, 0, 3, 400e6, time.UTC)} // 3.4 s into a 10 s window
	s := newTest(Options{ThrottleRate: 3, ThrottleWindow: 10 * time.Second, Now: clock.now})
	send := func() (int, string) {
		w := sendReq("gcm", "t", `{"data":{}}`, nil).do(t, s)
		return w.Code, w.Header().Get("Retry-After")
	}
	for i := range 30 { // 30 requests a window of 10 s
		if code, _ := send(); code != 201 {
			t.Fatalf("send %d: status %d, want 201", i, code)
		}
	}
	code, ra := send()
	if code != 429 || ra != "7" {
		t.Fatalf("send 31: status %d, Retry-After %q; want 429 and the 6.6 s to the next window, rounded up", code, ra)
	}
	clock.add(6600 * time.Millisecond)
	if code, _ := send(); code != 201 {
		t.Fatalf("first send of the next window: status %d, want 201", code)
	}
	s.SetThrottle("", 0, 0)
	if code, _ := send(); code != 201 {
		t.Errorf("throttle removed: status %d", code)
	}
}
