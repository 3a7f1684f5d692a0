package notificationhubs

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/nhkit/notificationhubs/internal/sas"
)

// Run: go test -run=^$ -bench=Send -benchmem -count=5 .
//
// BenchmarkSendNotification and BenchmarkBareHTTPPostSend send the same
// request (same URL, headers and body, same *http.Client) to the same
// loopback server; the difference is what the SDK adds: validation, the
// azcore pipeline (retry, telemetry, logging, tracing hooks), SAS, and
// reading the response into a SendNotificationResponse.

var benchPayload = []byte(`{"aps":{"alert":"Hello from Go!","badge":1}}`)

func benchServer(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Location", "https://mynamespace.servicebus.windows.net/myhub/messages/73622a22797441e4b434e8c2c14112ce-20181107001834-33331921-18?api-version=2020-06")
		w.Header().Set("TrackingId", "8b5bb8f2-6d1a-4f3c-9d55-4a3c1f0a2b11")
		w.WriteHeader(http.StatusCreated)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// processCPU returns the CPU time (user + system) of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process CPU time per op (client and server, both
// in this process): unlike ns/op it does not count time spent waiting for
// a CPU on a busy machine.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
}

func BenchmarkSendNotification(b *testing.B) {
	srv := benchServer(b)
	hc := &http.Client{}
	cred, _ := NewSharedAccessKeyCredential("DefaultFullSharedAccessSignature", testKey)
	c, err := NewClient(srv.URL, "myhub", cred, &ClientOptions{ClientOptions: azcore.ClientOptions{Transport: hc}})
	if err != nil {
		b.Fatal(err)
	}
	n := NewAppleNotification(benchPayload, nil)
	opts := &SendNotificationOptions{Tags: []string{"sports"}}
	ctx := context.Background()
	b.ReportAllocs()
	start := processCPU()
	for b.Loop() {
		resp, err := c.SendNotification(ctx, n, opts)
		if err != nil {
			b.Fatal(err)
		}
		if resp.NotificationID == "" {
			b.Fatal("no id")
		}
	}
	reportCPU(b, start)
	b.ReportMetric(float64(c.sas.signs.Load()), "signatures")
}

func BenchmarkBareHTTPPostSend(b *testing.B) {
	srv := benchServer(b)
	hc := &http.Client{}
	url := srv.URL + "/myhub/messages?api-version=2020-06"
	auth := sas.Sign(srv.URL+"/myhub", "DefaultFullSharedAccessSignature", testKey, time.Now().Add(time.Hour))
	ctx := context.Background()
	b.ReportAllocs()
	start := processCPU()
	for b.Loop() {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(benchPayload))
		if err != nil {
			b.Fatal(err)
		}
		req.Header["Authorization"] = []string{auth}
		req.Header["ServiceBusNotification-Format"] = []string{"apple"}
		req.Header["ServiceBusNotification-Tags"] = []string{"sports"}
		req.Header["Content-Type"] = []string{"application/json;charset=utf-8"}
		req.Header["X-Ms-Version"] = []string{"2020-06"}
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || resp.Header.Get("Location") == "" {
			b.Fatal("unexpected response")
		}
	}
	reportCPU(b, start)
}

// BenchmarkSendSASPolicy measures the SAS policy alone: with a 60-minute
// lifetime it signs once however many requests it serves (the
// "signatures" metric is the total, not per op).
func BenchmarkSendSASPolicy(b *testing.B) {
	cred, _ := NewSharedAccessKeyCredential("DefaultFullSharedAccessSignature", testKey)
	p := newSASPolicy(cred, "https://mynamespace.servicebus.windows.net/myhub", time.Hour)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if h := p.header(); len(h) != 1 {
				b.Fatal("no header")
			}
		}
	})
	b.ReportMetric(float64(p.signs.Load()), "signatures")
}

// BenchmarkSendSignEveryRequest is what signing per request (as the JS
// and Java SDKs do) would cost, for comparison with BenchmarkSendSASPolicy.
func BenchmarkSendSignEveryRequest(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sas.Sign("https://mynamespace.servicebus.windows.net/myhub", "DefaultFullSharedAccessSignature", testKey, time.Now().Add(time.Hour))
	}
}
