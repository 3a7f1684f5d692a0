package emulator

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/nhkit/notificationhubs/emulator/internal/push/pushtest"
	"github.com/nhkit/notificationhubs/internal/sas"
)

const benchBundle = "com.example.bench"

// benchPayload is the notification of the delivery benchmarks.
const benchPayload = `{"aps":{"alert":{"title":"Hello","body":"from the hub"},"badge":1}}`

// BenchmarkDeliverApns measures pushes per second from the emulator to the
// local APNs stand-in, against a bare Go HTTP/2 client sending the same
// requests (path, headers, payload and a provider token of its own, signed
// once) to the same stand-in with as many requests in flight as the
// emulator's concurrency, in alternating rounds of one run. An emulator
// round is one broadcast to the hub's installations, timed from the send
// until its telemetry has every push's answer: the fan-out, the
// dispatcher, the client and the results written back. It reports both
// rates and emulator/bare (issue 17's target: at least 0.8).
//
//	go test ./emulator -run '^$' -bench BenchmarkDeliverApns -benchtime 200000x
func BenchmarkDeliverApns(b *testing.B) {
	devices := 2000
	if testing.Short() {
		devices = 100
	}
	a := pushtest.NewApns(b)
	a.NoRecord = true
	po := pushtest.Options(b, a)
	s := newTest(Options{Retention: 100, Deliver: &DeliverOptions{Endpoints: map[string]string{"apns": a.URL()},
		RootCAs: po.RootCAs, DialContext: po.DialContext}})
	b.Cleanup(func() { _ = s.Close() })
	p8, keyID, teamID := a.NewKey(b, benchBundle)
	cred := credXML("ApnsCredential", "Endpoint", "https://api.development.push.apple.com:443/3/device", "Token", string(p8),
		"KeyId", keyID, "AppId", teamID, "AppName", benchBundle)
	d := readHubEntry(b, mustStatus(b, nsCall(b, s, "PUT", "/bench"+v1, hubDesc(cred), nil), 201))
	key := ruleKey(d, FullRuleName)
	handles := fillDevices(s, "bench", devices)

	// The bare client: net/http's HTTP/2 transport and the same requests,
	// with a key of its own (APNs refuses a second token of a key within
	// 20 minutes).
	bareP8, bareKeyID, bareTeamID := a.NewKey(b, benchBundle)
	block, _ := pem.Decode(bareP8)
	k, _ := x509.ParsePKCS8PrivateKey(block.Bytes)
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": bareTeamID, "iat": time.Now().Unix()})
	tok.Header["kid"] = bareKeyID
	bearer, _ := tok.SignedString(k.(*ecdsa.PrivateKey))
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: po.RootCAs}, ForceAttemptHTTP2: true, MaxConnsPerHost: 1}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetHTTP2(true)
	bare := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	sendBare := func(handle string) error {
		req, _ := http.NewRequest(http.MethodPost, a.URL()+"/3/device/"+handle, strings.NewReader(benchPayload))
		req.Header.Set("apns-push-type", "alert")
		req.Header.Set("apns-topic", benchBundle)
		req.Header.Set("content-type", "application/json")
		req.Header.Set("authorization", "bearer "+bearer)
		resp, err := bare.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("bare: %s", resp.Status)
		}
		return nil
	}
	bareRound := func() (time.Duration, error) {
		var next atomic.Int64
		var wg sync.WaitGroup
		var mu sync.Mutex
		var first error
		start := time.Now()
		for range DefaultDeliverConcurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1)) - 1; i < len(handles); i = int(next.Add(1)) - 1 {
					if err := sendBare(handles[i]); err != nil {
						mu.Lock()
						first = err
						mu.Unlock()
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start), first
	}
	emulatorRound := func() (time.Duration, error) {
		start := time.Now()
		w := hubCall(b, s, "bench", "POST", "/messages"+v1, benchPayload, FullRuleName, key,
			map[string]string{"ServiceBusNotification-Format": "apple", "Content-Type": "application/json"})
		if w.Code != http.StatusCreated {
			return 0, fmt.Errorf("send: %d", w.Code)
		}
		loc := w.Header().Get("Location")
		nid := loc[strings.Index(loc, "/messages/")+len("/messages/") : strings.Index(loc, "?")]
		for {
			rec := s.findSend("bench", nid)
			if rec != nil && rec.Pending == 0 {
				if rec.Success != len(handles) {
					return 0, fmt.Errorf("emulator: %d of %d delivered: %v", rec.Success, len(handles), rec.Outcomes)
				}
				return time.Since(start), nil
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	// Warm both connections and tokens.
	if _, err := bareRound(); err != nil {
		b.Fatal(err)
	}
	if _, err := emulatorRound(); err != nil {
		b.Fatal(err)
	}
	rounds := max(1, b.N/len(handles)/2)
	var tBare, tEmu time.Duration
	b.ResetTimer()
	for range rounds {
		d, err := bareRound()
		if err != nil {
			b.Fatal(err)
		}
		tBare += d
		d, err = emulatorRound()
		if err != nil {
			b.Fatal(err)
		}
		tEmu += d
	}
	b.StopTimer()
	n := float64(rounds * len(handles))
	er, br := n/tEmu.Seconds(), n/tBare.Seconds()
	b.ReportMetric(er, "emulator-pushes/s")
	b.ReportMetric(br, "bare-pushes/s")
	b.ReportMetric(er/br, "emulator/bare")
	b.ReportMetric(0, "ns/op")
	if c := a.Connections(); c != 2 {
		b.Errorf("%d connections to the stand-in, want one for the emulator and one for the bare client", c)
	}
}

// fillDevices stores n APNs installations on hub (created through the
// API) directly, not through HTTP, and returns their device tokens.
func fillDevices(s *Server, hubName string, n int) []string {
	h := s.lookupHub(hubName, false)
	handles := make([]string, n)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range n {
		handles[i] = fmt.Sprintf("%064X", i+1)
		in := &installation{id: fmt.Sprintf("inst-%08d", i), platform: pApple, pushChannel: handles[i], tags: []string{"all"}}
		h.installations[in.id] = in
		h.project(in, nil)
	}
	return handles
}

// deliverChildEnv makes the test binary run an emulator that delivers to
// the APNs stand-in of its parent (BenchmarkDeliverBroadcast): the value
// is the JSON of deliverChildConfig.
const deliverChildEnv = "NH_EMULATOR_DELIVER_CHILD"

type deliverChildConfig struct {
	Apns    string `json:"apns"`    // the stand-in's URL
	CAFile  string `json:"caFile"`  // its certificate
	Devices int    `json:"devices"` // APNs installations of hub "bench"
	P8      string `json:"p8"`
	KeyID   string `json:"keyId"`
	TeamID  string `json:"teamId"`
}

// runDeliverChild runs, in a child process, an in-memory emulator that
// delivers to the parent's APNs stand-in, with a hub "bench" of the
// configured installations, on plain HTTP at 127.0.0.1:0, printing its
// address, until killed or two hours have passed. TestMain calls it; it
// returns at once in the test process itself.
func runDeliverChild() {
	raw := os.Getenv(deliverChildEnv)
	if raw == "" {
		return
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "deliver child:", err)
		os.Exit(1)
	}
	var c deliverChildConfig
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		fail(err)
	}
	pemBytes, err := os.ReadFile(c.CAFile)
	if err != nil {
		fail(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pemBytes)
	s := New(Options{Deliver: &DeliverOptions{Endpoints: map[string]string{"apns": c.Apns}, RootCAs: roots}})
	cred := credXML("ApnsCredential", "Endpoint", "https://api.development.push.apple.com:443/3/device", "Token", c.P8,
		"KeyId", c.KeyID, "AppId", c.TeamID, "AppName", benchBundle)
	req, _ := http.NewRequest("PUT", "http://127.0.0.1/bench"+v1, strings.NewReader(hubDesc(cred)))
	req.Header.Set("Authorization", sas.Sign("http://127.0.0.1/", NamespaceRuleName, DefaultNamespaceKey, time.Now().Add(time.Hour)))
	w := &recorder{header: http.Header{}}
	s.ServeHTTP(w, req)
	if w.code != http.StatusCreated {
		fail(fmt.Errorf("create hub: %d %s", w.code, w.body.String()))
	}
	fillDevices(s, "bench", c.Devices)
	runtime.GC()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	fmt.Printf("Notification Hubs emulator listening on http://%s\n", ln.Addr())
	go func() { time.Sleep(2 * time.Hour); os.Exit(2) }()
	fail(http.Serve(ln, s))
}

// recorder is a minimal http.ResponseWriter for the child's setup.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(p []byte) (int, error) { return r.body.Write(p) }
func (r *recorder) WriteHeader(code int)        { r.code = code }

// BenchmarkDeliverBroadcast sends one broadcast per iteration to 100,000
// APNs installations (100 with -short) of an emulator running as its own
// process, which delivers them to this process's APNs stand-in, and times
// it from the send until the stand-in has answered every push and the
// emulator's telemetry has every answer. It reports the time per
// broadcast, pushes per second, and the emulator process's resident
// memory before the first broadcast and at its peak (VmHWM; Linux).
//
//	go test ./emulator -run '^$' -bench BenchmarkDeliverBroadcast -benchtime 3x
func BenchmarkDeliverBroadcast(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads the emulator process's memory from /proc")
	}
	devices := 100_000
	if testing.Short() {
		devices = 100
	}
	a := pushtest.NewApns(b)
	a.NoRecord = true
	p8, keyID, teamID := a.NewKey(b, benchBundle)
	caFile := filepath.Join(b.TempDir(), "apns.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.Server.Certificate().Raw}), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg, _ := json.Marshal(deliverChildConfig{Apns: a.URL(), CAFile: caFile, Devices: devices, P8: string(p8), KeyID: keyID, TeamID: teamID})
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	addr := startChildProcess(b, cmd, deliverChildEnv+"="+string(cfg))
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://" + addr
	before, _ := rss(b, cmd.Process.Pid)
	hc := &http.Client{Timeout: time.Minute}
	auth := sas.Sign(base+"/bench", NamespaceRuleName, DefaultNamespaceKey, time.Now().Add(3*time.Hour))

	var total time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		req, _ := http.NewRequest("POST", base+"/bench/messages"+v1, strings.NewReader(benchPayload))
		req.Header.Set("Authorization", auth)
		req.Header.Set(hFormat, "apple")
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("send: %s", resp.Status)
		}
		answered := time.Since(start)
		for a.Requests() < (i+1)*devices || !settledOver(b, hc, base) {
			time.Sleep(5 * time.Millisecond)
		}
		d := time.Since(start)
		total += d
		b.Logf("broadcast %d to %d devices: answered in %v, delivered in %v", i+1, devices, answered.Round(time.Millisecond), d.Round(time.Millisecond))
	}
	b.StopTimer()
	_, peak := rss(b, cmd.Process.Pid)
	b.ReportMetric(total.Seconds()/float64(b.N), "s/broadcast")
	b.ReportMetric(float64(b.N*devices)/total.Seconds(), "pushes/s")
	b.ReportMetric(float64(before)/(1<<20), "rss-before-MB")
	b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MB")
	b.ReportMetric(0, "ns/op")
	if a.Requests() != b.N*devices+0 {
		b.Errorf("the stand-in answered %d pushes, want %d", a.Requests(), b.N*devices)
	}
}

// settledOver reports whether every send of the child's hub bench has
// all its answers, with every push delivered.
func settledOver(b *testing.B, hc *http.Client, base string) bool {
	resp, err := hc.Get(base + "/_emulator/sends?hub=bench")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var recs []SendRecord
	if err := json.NewDecoder(resp.Body).Decode(&recs); err != nil {
		b.Fatal(err)
	}
	for _, r := range recs {
		if r.Pending > 0 {
			return false
		}
		if r.Success != r.Targets {
			b.Fatalf("send %s: %d of %d delivered: %v", r.NotificationID, r.Success, r.Targets, r.Outcomes)
		}
	}
	return len(recs) > 0
}
