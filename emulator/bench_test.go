package emulator

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhkit/notificationhubs/internal/sas"
	"github.com/nhkit/notificationhubs/internal/tagexpr"
)

// benchSize is n, or a hundredth of it with -short, so that CI's brief
// benchmark run (-short -benchtime=100x) keeps them compiling and running
// without building a million installations per benchmark.
func benchSize(n int) int {
	if testing.Short() {
		return n / 100
	}
	return n
}

func BenchmarkTagExpression(b *testing.B) {
	n := benchSize(1_000_000)
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
	if want := n / 1000; len(got) != want {
		b.Fatalf("matched %d, want %d", len(got), want)
	}
}

func BenchmarkBroadcastFanOut(b *testing.B) {
	n := benchSize(1_000_000)
	s := newTest(Options{})
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
	n := benchSize(200_000)
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		h := fillHub(b, n)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "bytes/installation")
		runtime.KeepAlive(h)
	}
}

// BenchmarkScheduledFireLateness measures how late scheduled notifications
// fire: each iteration schedules 1000 notifications (over the handler,
// from 16 goroutines, each to one tag of 10 devices) all due at the same
// moment 2 s ahead, waits until they have fired, and takes each one's
// send time minus its due time. It reports the p50, p99 and maximum
// lateness in ms, the measured figure behind "scheduled sends fire within
// 1 s", in memory and with DataDir (every fired send is committed).
func BenchmarkScheduledFireLateness(b *testing.B) {
	for _, durable := range []bool{false, true} {
		name := "memory"
		if durable {
			name = "datadir"
		}
		b.Run(name, func(b *testing.B) {
			var s *Server
			if durable {
				s = openAt(b, b.TempDir(), Options{})
			} else {
				s = newTest(Options{})
			}
			defer s.Close()
			s.hubs[testHub] = fillHub(b, 10_000)
			// -short (CI's brief run) schedules 10 sends 100 ms ahead per
			// iteration instead of 1000 sends 2 s ahead.
			n, workers, lead := 1000, 16, 2*time.Second
			if testing.Short() {
				n, workers, lead = 10, 2, 100*time.Millisecond
			}
			var late []time.Duration
			for b.Loop() {
				late = append(late, fireOnce(b, s, n, workers, lead)...)
			}
			if len(late) == 0 {
				b.Skip("every iteration took longer to schedule than its lead; no lateness measured")
			}
			slices.Sort(late)
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ms(late[len(late)/2]), "p50-ms")
			b.ReportMetric(ms(late[len(late)*99/100]), "p99-ms")
			b.ReportMetric(ms(late[len(late)-1]), "max-ms")
		})
	}
}

// fireOnce schedules n notifications due together, waits until all have
// fired and returns how late each fired.
func fireOnce(b *testing.B, s *Server, n, workers int, lead time.Duration) []time.Duration {
	b.Helper()
	due := time.Now().Add(lead)
	ids := make([]string, n)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				c := sendReq("apple", "g"+strconv.Itoa(i%1000), `{"aps":{"alert":"x"}}`,
					map[string]string{hScheduleTime: due.UTC().Format(time.RFC3339Nano)})
				c.path = regPath("/schedulednotifications?api-version=2020-06")
				r := c.do(b, s)
				if r.Code != 201 {
					b.Errorf("schedule: status %d: %s", r.Code, r.Body)
					return
				}
				ids[i] = lastSegment(r.Header().Get("Location"))
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	if time.Now().After(due) {
		if testing.Short() {
			// A loaded CI machine: this iteration measures nothing, but
			// the code still ran. Let the sends fire before moving on.
			time.Sleep(lead)
			return nil
		}
		b.Fatalf("scheduling took longer than the %v lead; the lateness would be meaningless", lead)
	}
	want := make(map[string]bool, n)
	for _, id := range ids {
		want[id] = true
	}
	var late []time.Duration
	for deadline := due.Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		late = late[:0]
		s.sends.each(func(r *SendRecord) {
			if want[r.NotificationID] {
				late = append(late, r.SentTime.Sub(due))
			}
		})
		if len(late) == n {
			return late
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d scheduled notifications fired within a minute of their time", len(late), n)
		}
	}
}

// BenchmarkSendHandler is one send as the side-by-side suite makes it
// (FCM v1, tag expression "user_42 && !muted" over 1000 users with an
// FCM v1 and an APNs installation each), through the emulator's handler
// without a network: SAS verification, parsing, tag evaluation, the FCM
// message and the delivery record.
func BenchmarkSendHandler(b *testing.B) {
	s := newTest(Options{})
	for i := range 1000 {
		putInstallation(b, s, fmt.Sprintf("bench-fcm-%d", i), fmt.Sprintf(`{"installationId":"bench-fcm-%d","platform":"fcmv1","pushChannel":"bench-fcm-token-%08d","tags":["user_%d"]}`, i, i, i))
		putInstallation(b, s, fmt.Sprintf("bench-apns-%d", i), fmt.Sprintf(`{"installationId":"bench-apns-%d","platform":"apns","pushChannel":"%064x","tags":["user_%d"]}`, i, i, i))
	}
	body := `{"message":{"notification":{"title":"Order shipped","body":"Your order 1234 is on its way"},"data":{"orderId":"1234","kind":"shipping"}}}`
	auth := sas.Sign("https://"+testHost+"/"+testHub, FullRuleName, DefaultFullKey, time.Now().Add(time.Hour))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "https://"+testHost+"/"+testHub+"/messages?api-version=2020-06", strings.NewReader(body))
		req.Header["Authorization"] = []string{auth}
		req.Header["Content-Type"] = []string{"application/json;charset=utf-8"}
		req.Header["Servicebusnotification-Format"] = []string{"fcmv1"}
		req.Header["Servicebusnotification-Tags"] = []string{"user_42 && !muted"}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusCreated {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}
