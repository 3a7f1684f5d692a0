package push_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/nhkit/notificationhubs/emulator/internal/push"
	"github.com/nhkit/notificationhubs/emulator/internal/push/pushtest"
)

// BenchmarkApnsPush measures pushes per second from ApnsClient to the APNs
// stand-in against a bare Go HTTP/2 client sending the same requests (same
// path, headers, payload, a provider token of its own signed once) to the
// same stand-in, in alternating rounds of one run, each with 32 senders on
// one connection. It reports both rates and client/bare (target ≥ 0.8).
func BenchmarkApnsPush(b *testing.B) {
	const workers = 32
	a := pushtest.NewApns(b)
	opts := pushtest.Options(b, a)
	client, _ := push.NewApnsTokenClient(a.NewTokenCredential(b, "com.example.app"), opts)
	defer client.Close()

	// The bare client: net/http's HTTP/2 transport, nothing else.
	p8, keyID, teamID := a.NewKey(b, "com.example.app")
	block, _ := pem.Decode(p8)
	k, _ := x509.ParsePKCS8PrivateKey(block.Bytes)
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": teamID, "iat": time.Now().Unix()})
	tok.Header["kid"] = keyID
	signed, _ := tok.SignedString(k.(*ecdsa.PrivateKey))
	pool := x509.NewCertPool()
	pool.AddCert(a.Server.Certificate())
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true, MaxConnsPerHost: 1}
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetHTTP2(true)
	bare := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()

	payload := []byte(`{"aps":{"alert":{"title":"Hello","body":"from the hub"},"badge":1}}`)
	handle := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	headers := map[string]string{"apns-push-type": "alert", "apns-priority": "10", "apns-expiration": "0"}
	n := &push.Notification{Handle: handle, Payload: payload, Headers: headers}
	sendClient := func() error {
		if r := client.Send(context.Background(), n); r.Status != push.StatusDelivered {
			return fmt.Errorf("client: %+v", r)
		}
		return nil
	}
	url := a.URL() + "/3/device/" + handle
	sendBare := func() error {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(payload))
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		req.Header.Set("apns-topic", "com.example.app")
		req.Header.Set("content-type", "application/json")
		req.Header.Set("authorization", "bearer "+signed)
		resp, err := bare.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("bare: %s", resp.Status)
		}
		return nil
	}
	// Warm both connections and tokens.
	if err := sendClient(); err != nil {
		b.Fatal(err)
	}
	if err := sendBare(); err != nil {
		b.Fatal(err)
	}

	const rounds = 16
	var tClient, tBare time.Duration
	var nClient, nBare int
	b.ResetTimer()
	for r := 0; r < rounds; r++ {
		per := b.N / rounds
		if r == rounds-1 {
			per = b.N - (rounds-1)*(b.N/rounds)
		}
		d, err := run(per, workers, sendBare)
		if err != nil {
			b.Fatal(err)
		}
		tBare, nBare = tBare+d, nBare+per
		d, err = run(per, workers, sendClient)
		if err != nil {
			b.Fatal(err)
		}
		tClient, nClient = tClient+d, nClient+per
	}
	b.StopTimer()
	if nClient == 0 || tClient == 0 || tBare == 0 {
		return
	}
	cr, br := float64(nClient)/tClient.Seconds(), float64(nBare)/tBare.Seconds()
	b.ReportMetric(cr, "client-pushes/s")
	b.ReportMetric(br, "bare-pushes/s")
	b.ReportMetric(cr/br, "client/bare")
	if c := a.Connections(); c != 2 {
		b.Errorf("%d connections to the stand-in, want one per client", c)
	}
}

// run sends n pushes with workers goroutines and returns the time taken.
func run(n, workers int, send func() error) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := send(); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), first
}
