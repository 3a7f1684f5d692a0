package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nhkit/notificationhubs/internal/sas"
)

// zeros is an endless body of zero bytes that counts what was read.
type zeros struct {
	left int64 // -1: endless
	read atomic.Int64
}

func (z *zeros) Read(p []byte) (int, error) {
	if z.left == 0 {
		return 0, io.EOF
	}
	n := len(p)
	if z.left > 0 && int64(n) > z.left {
		n = int(z.left)
	}
	clear(p[:n])
	if z.left > 0 {
		z.left -= int64(n)
	}
	z.read.Add(int64(n))
	return n, nil
}

// TestBlobUploadCaps checks that an upload past the per-blob cap gets 413
// after reading at most the cap (a 300 MB PUT was answered 201 and stored
// 268,435,456 bytes, and each 200 MB one held 200 MB), that a declared
// length past the cap is refused before reading, and that uploads stop at
// the store's total cap.
func TestBlobUploadCaps(t *testing.T) {
	const perBlob, total = 1 << 20, 3 << 20
	s := newTest(Options{MaxBlobBytes: perBlob, MaxBlobStoreBytes: total})
	put := func(name string, body io.Reader, length int64) int {
		u, _ := url.Parse(s.blobURLFor("http://127.0.0.1:8443", "caps", "rw"))
		req := httptest.NewRequest("PUT", "http://127.0.0.1:8443"+blobPrefix+"caps/"+name+"?"+u.RawQuery, body)
		req.ContentLength = length
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		return w.Code
	}
	unknown := &zeros{left: 300 << 20}
	if got := put("big", unknown, -1); got != 413 {
		t.Errorf("300 MB of unknown length: %d, want 413", got)
	}
	if n := unknown.read.Load(); n > perBlob+64<<10 {
		t.Errorf("read %d bytes of a body past the cap of %d", n, perBlob)
	}
	declared := &zeros{left: 300 << 20}
	if got := put("big", declared, 300<<20); got != 413 || declared.read.Load() != 0 {
		t.Errorf("300 MB declared: %d after reading %d bytes, want 413 before reading", got, declared.read.Load())
	}
	if u := s.blobs.usage(); u != 0 {
		t.Errorf("the store holds %d bytes after refusals", u)
	}
	for i := range 3 {
		if got := put(fmt.Sprintf("b%d", i), &zeros{left: perBlob}, perBlob); got != 201 {
			t.Fatalf("blob %d at the cap: %d", i, got)
		}
	}
	if got := put("b3", &zeros{left: 1}, 1); got != 413 {
		t.Errorf("a byte past the store's cap: %d, want 413", got)
	}
	if got := put("b0", &zeros{left: perBlob}, perBlob); got != 201 {
		t.Errorf("replacing a blob within the cap: %d, want 201", got)
	}
	if u := s.blobs.usage(); u != total {
		t.Errorf("the store holds %d bytes, want %d", u, total)
	}
	// Internal writers keep to the caps too.
	if _, err := s.blobs.append("caps", "b0", []byte("x")); err == nil {
		t.Error("append past the store's cap succeeded")
	}
}

// TestErrorDetailsPastTheBlobCap: when the blob store cannot take a
// send's error details or feedback, the send's telemetry has no
// PnsErrorDetailsUri (it pointed at a blob that was never written) and
// the emulator logs a warning for each; the send itself succeeds.
func TestErrorDetailsPastTheBlobCap(t *testing.T) {
	var logs syncBuffer
	s := newTest(Options{MaxBlobStoreBytes: 10, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	createReg(t, s, gcmNative("t", "expired-device-1"))
	rec := sendReq("gcm", "t", `{"data":{"m":"x"}}`, nil).do(t, s)
	mustStatus(t, rec, 201)
	nid := lastSegment(rec.Header().Get("Location"))
	st, d := details(t, s, nid)
	if st != 200 || d.PnsErrorDetailsURI != "" {
		t.Errorf("telemetry %d, PnsErrorDetailsUri %q; want none", st, d.PnsErrorDetailsURI)
	}
	if got := s.Sends("")[0].ErrorBlob; got != "" {
		t.Errorf("the send record names the error blob %q, which was not written", got)
	}
	for _, want := range []string{"level=WARN msg=\"error details not written\"", "level=WARN msg=\"feedback not written\"", "blob store is full"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

// directSend is a direct FCM send of a payload of about size bytes.
func directSend(i, size int) call {
	body := `{"data":{"p":"` + strings.Repeat("x", size-20) + `"}}`
	c := sendReq("gcm", broadcast, body, map[string]string{"ServiceBusNotification-DeviceHandle": "handle-" + strconv.Itoa(i)})
	c.path = regPath("/messages/?direct&api-version=2020-06")
	return c
}

// TestRetentionBytes sends 2,000 direct sends of 60 KB and checks that the
// delivery and send records stay under their byte cap: retention was
// bounded by count only, and 60 KB sends grew the process to 2.77 GB.
func TestRetentionBytes(t *testing.T) {
	const capBytes = 4 << 20
	s := newTest(Options{RetentionBytes: capBytes})
	for i := range 2000 {
		w := directSend(i, 60<<10).do(t, s)
		if w.Code != 201 {
			t.Fatalf("send %d: %d %s", i, w.Code, w.Body)
		}
	}
	for name, r := range map[string]interface{ usage() (int, int64) }{"deliveries": s.deliveries, "sends": s.sends} {
		n, b := r.usage()
		if b > capBytes || n == 0 || n > capBytes/(60<<10) {
			t.Errorf("%s: %d records of %d bytes, cap %d", name, n, b, capBytes)
		}
	}
	ds := s.Deliveries(DeliveryFilter{})
	if len(ds) == 0 || ds[len(ds)-1].Handle != "handle-1999" {
		t.Errorf("the newest delivery is not retained: %d retained", len(ds))
	}
}

// rss returns the resident set size and its peak (VmRSS, VmHWM) of the
// process pid in bytes, from /proc.
func rss(t testing.TB, pid int) (cur, peak int64) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		f := strings.Fields(v)
		if len(f) < 1 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			cur = n << 10
		case "VmHWM":
			peak = n << 10
		}
	}
	return cur, peak
}

// TestMemoryStaysBounded runs an emulator process with Serve's defaults
// and measures its resident memory while it is sent what used to grow it
// without bound: three 200 MB blob uploads, 2,000 control-plane marks of
// 60 KB handles, and 20,000 direct sends of 60 KB. It logs the figures
// (BENCHMARKS.md has them) and checks the caps and a generous bound on
// the peak; the unbounded emulator reached 2.3 GB and 2.77 GB.
//
//	go test ./emulator -run TestMemoryStaysBounded -v
func TestMemoryStaysBounded(t *testing.T) {
	if testing.Short() || raceEnabled || runtime.GOOS != "linux" {
		t.Skip("moves 1.8 GB through an emulator process; not with -short or -race, Linux only")
	}
	cmd, addr := startServeChild(t, exec.Command(os.Args[0], "-test.run=^$"))
	pid := cmd.Process.Pid
	base := "http://" + addr
	hc := &http.Client{Timeout: time.Minute}
	do := func(req *http.Request) int {
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	const mb = 1 << 20
	report := func(what string, before int64) {
		cur, peak := rss(t, pid)
		t.Logf("%-48s RSS %4d MB -> %4d MB (peak %4d MB)", what, before/mb, cur/mb, peak/mb)
	}
	start, _ := rss(t, pid)

	// Blobs: three 200 MB uploads, refused past the 32 MiB cap.
	u, _ := url.Parse(New(Options{}).blobURLFor(base, "memtest", "rw"))
	for i := range 3 {
		req, _ := http.NewRequest("PUT", base+blobPrefix+"memtest/big"+strconv.Itoa(i)+"?"+u.RawQuery, &zeros{left: 200 * mb})
		req.ContentLength = -1 // streamed, so that the cap and not the length refuses it
		if code := do(req); code != 413 {
			t.Errorf("200 MB upload %d: %d, want 413", i, code)
		}
	}
	report("3 blob PUTs of 200 MB (413)", start)
	_, peakBlobs := rss(t, pid)

	// Control plane: 2,000 marks of 60 KB handles, refused.
	before, _ := rss(t, pid)
	handle := strings.Repeat("h", 60<<10)
	var refused atomic.Int64
	parallel(8, 2000, func(i int) {
		body, _ := json.Marshal(map[string]string{"handle": handle + strconv.Itoa(i), "state": "expired"})
		req, _ := http.NewRequest("POST", base+"/_emulator/handles", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if do(req) == 400 {
			refused.Add(1)
		}
	})
	report("2,000 POST /_emulator/handles of 60 KB (400)", before)
	if refused.Load() != 2000 {
		t.Errorf("%d of 2,000 marks of 60 KB handles refused", refused.Load())
	}

	// Data plane: 20,000 direct sends of 60 KB, retained within 64 MiB.
	before, _ = rss(t, pid)
	payload := `{"data":{"p":"` + strings.Repeat("x", 60<<10-20) + `"}}`
	auth := sas.Sign(base+"/hub", FullRuleName, DefaultFullKey, time.Now().Add(time.Hour))
	var sent atomic.Int64
	parallel(8, 20000, func(i int) {
		req, _ := http.NewRequest("POST", base+"/hub/messages/?direct&api-version=2020-06", strings.NewReader(payload))
		req.Header.Set("Authorization", auth)
		req.Header.Set(hFormat, "gcm")
		req.Header.Set("ServiceBusNotification-DeviceHandle", "handle-"+strconv.Itoa(i))
		req.Header.Set("Content-Type", "application/json")
		if do(req) == 201 {
			sent.Add(1)
		}
	})
	report("20,000 direct sends of 60 KB (201)", before)
	if sent.Load() != 20000 {
		t.Errorf("%d of 20,000 direct sends answered 201", sent.Load())
	}
	resp, err := hc.Get(base + "/_emulator/deliveries")
	if err != nil {
		t.Fatal(err)
	}
	var ds []Delivery
	err = json.NewDecoder(resp.Body).Decode(&ds)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	var kept int64
	for i := range ds {
		kept += ds[i].size()
	}
	t.Logf("deliveries retained: %d, %d MB of %d MB", len(ds), kept/mb, DefaultRetentionBytes/mb)
	if kept > DefaultRetentionBytes || len(ds) == 0 || len(ds) >= 20000 {
		t.Errorf("retained %d deliveries of %d bytes; cap %d", len(ds), kept, DefaultRetentionBytes)
	}
	_, peak := rss(t, pid)
	if peakBlobs > 512*mb || peak > 1024*mb {
		t.Errorf("peak RSS %d MB after the blobs, %d MB at the end: not bounded", peakBlobs/mb, peak/mb)
	}
}

// parallel runs f(0..n-1) on workers goroutines.
func parallel(workers, n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}
