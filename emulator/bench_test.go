package emulator

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"

	"github.com/nhkit/notificationhubs/internal/tagexpr"
)

// fillHub stores n apple installations with 5 tags each directly (not
// through HTTP, which would dominate): tag g{i%1000} is shared by n/1000
// installations, and r{i%5} and c{i%97} are broad.
func fillHub(tb testing.TB, n int) *hub {
	tb.Helper()
	h := newHub("bench")
	tags := make([]string, 0, 1000+5+97+2)
	for i := range 1000 {
		tags = append(tags, "g"+strconv.Itoa(i))
	}
	for i := range 5 {
		tags = append(tags, "r"+strconv.Itoa(i))
	}
	for i := range 97 {
		tags = append(tags, "c"+strconv.Itoa(i))
	}
	tags = append(tags, "all", "even", "odd")
	for i := range n {
		in := &installation{
			id:          fmt.Sprintf("inst-%08d", i),
			platform:    pApple,
			pushChannel: fmt.Sprintf("%064X", i),
			tags:        []string{tags[i%1000], tags[1000+i%5], tags[1005+i%97], tags[1102], tags[1103+i%2]},
		}
		h.project(in, nil)
	}
	return h
}

func BenchmarkTagExpression(b *testing.B) {
	const n = 1_000_000
	h := fillHub(b, n)
	// g7 has 1000 members, all odd, so the expression matches exactly them.
	e, err := tagexpr.Parse("g7 && all && !even")
	if err != nil {
		b.Fatal(err)
	}
	u := h.universe(pApple)
	var got []uint32
	b.ResetTimer()
	for b.Loop() {
		got = h.eval(e.Root, u)
	}
	if len(got) != 1000 {
		b.Fatalf("matched %d, want 1000", len(got))
	}
}

func BenchmarkBroadcastFanOut(b *testing.B) {
	const n = 1_000_000
	s := New(Options{})
	h := fillHub(b, n)
	s.hubs["bench"] = h
	notif := &notification{format: "apple", platform: pApple, body: `{"aps":{"alert":"x"}}`}
	b.ResetTimer()
	for b.Loop() {
		_, rec, err := s.send(h, "bench", notif, "", false, false, false, "nid")
		if err != nil || rec.Success != n {
			b.Fatalf("rec = %+v, %v", rec, err)
		}
	}
}

func BenchmarkMemoryPerInstallation(b *testing.B) {
	const n = 200_000
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		h := fillHub(b, n)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/installation")
		runtime.KeepAlive(h)
	}
}
