package emulator

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nhkit/notificationhubs/internal/sas"
)

func TestPersistenceRestoresState(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, Options{})
	regID := createReg(t, s, appleNative("a,b", appleTok))
	tmplReg := createReg(t, s, entry(`<GcmTemplateRegistrationDescription `+nsConnect+`><Tags>t1</Tags><GcmRegistrationId>g1</GcmRegistrationId><BodyTemplate><![CDATA[{"data":{"m":"$(msg)"}}]]></BodyTemplate><TemplateName>tn</TemplateName></GcmTemplateRegistrationDescription>`))
	putInstallation(t, s, "inst1", `{"installationId":"inst1","platform":"fcmv1","pushChannel":"tok1","tags":["x"],"userId":"u1",
		"templates":{"t":{"body":"{\"message\":{\"data\":{\"m\":\"$(msg)\"}}}","tags":["y"]}}}`)
	mustStatus(t, call{method: "PATCH", path: regPath("/installations/inst1?api-version=2020-06"),
		body: `[{"op":"add","path":"/tags","value":"z"}]`}.do(t, s), 200)
	putInstallation(t, s, "gone", `{"installationId":"gone","platform":"fcmv1","pushChannel":"tok2"}`)
	mustStatus(t, call{method: "DELETE", path: regPath("/installations/gone?api-version=2020-06")}.do(t, s), 204)
	send := sendReq("apple", "a", `{"aps":{}}`, nil).do(t, s)
	mustStatus(t, send, 201)
	nid := lastSegment(send.Header().Get("Location"))
	sc := sendReq("gcm", "t1", `{"data":{}}`, map[string]string{"ServiceBusNotification-ScheduleTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	sc.path = regPath("/schedulednotifications?api-version=2020-06")
	mustStatus(t, sc.do(t, s), 201)

	snapshot := func(s *Server) map[string]string {
		out := map[string]string{}
		for _, p := range []string{"/registrations/" + regID, "/registrations/" + tmplReg, "/installations/inst1", "/installations/gone", "/messages/" + nid} {
			w := call{method: "GET", path: regPath(p + "?api-version=2020-06")}.do(t, s)
			out[p] = fmt.Sprint(w.Code, " ", stripVolatile(w.Body.String()))
		}
		out["hubs"] = fmt.Sprintf("%+v", s.Hubs())
		out["deliveries"] = fmt.Sprint(len(s.Deliveries(DeliveryFilter{})))
		return out
	}
	before := snapshot(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openAt(t, dir, Options{})
	defer s2.Close()
	if diff := cmp.Diff(before, snapshot(s2)); diff != "" {
		t.Errorf("state after reopening (-before +after):\n%s", diff)
	}
	// The installation's projected registrations keep their ids.
	w := call{method: "GET", path: regPath("/registrations/?api-version=2020-06")}.do(t, s2)
	if n := strings.Count(mustStatus(t, w, 200), "<entry"); n != 4 {
		t.Errorf("%d registrations after reopening, want 4 (2 + installation native and template)", n)
	}
}

var volatileRe = strings.NewReplacer()

// stripVolatile removes the parts of a body that differ between two
// identical requests (tracking ids, times of the error detail).
func stripVolatile(s string) string {
	if i := strings.Index(s, "TrackingId:"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "<updated>"); i >= 0 && strings.HasPrefix(s, "<feed") {
		s = s[:i]
	}
	return volatileRe.Replace(s)
}

func TestResetClearsDataDir(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, Options{})
	createReg(t, s, appleNative("a", appleTok))
	s.Reset()
	s.Close()
	s2 := openAt(t, dir, Options{})
	defer s2.Close()
	if h := s2.Hubs(); len(h) != 0 {
		t.Errorf("hubs after reset and reopen = %+v", h)
	}
}

// BenchmarkInstallationWrites measures acknowledged (durable) installation
// PUTs per second over loopback HTTP from 64 concurrent clients with
// DataDir set (group commit). Issue 7's target is 5,000 writes/s.
func BenchmarkInstallationWrites(b *testing.B) {
	s := openAt(b, b.TempDir(), Options{})
	defer s.Close()
	ts := httptest.NewServer(s)
	defer ts.Close()
	auth := sas.Sign(ts.URL+"/bench", FullRuleName, DefaultFullKey, time.Now().Add(time.Hour))
	b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	defer client.CloseIdleConnections()
	var n atomic.Int64
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			id := fmt.Sprintf("i%d", i%10000)
			body := fmt.Sprintf(`{"installationId":%q,"platform":"fcmv1","pushChannel":"tok%d","tags":["t%d"]}`, id, i, i%100)
			req := httptest.NewRequest("PUT", ts.URL+"/bench/installations/"+id+"?api-version=2020-06", strings.NewReader(body))
			req.RequestURI = ""
			req.Header.Set("Authorization", auth)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "writes/s")
}
