package emulatortest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nhkit/notificationhubs/emulator"
	"github.com/nhkit/notificationhubs/internal/sas"
)

func TestServerOverTLS(t *testing.T) {
	srv := NewServerWithOptions(t, emulator.Options{Hubs: []string{"hub"}})
	if !strings.HasPrefix(srv.URL, "https://127.0.0.1:") {
		t.Fatalf("URL = %q", srv.URL)
	}
	u, _ := url.Parse(srv.URL)
	wantCS := "Endpoint=sb://" + u.Host + "/;SharedAccessKeyName=DefaultFullSharedAccessSignature;SharedAccessKey=" + emulator.DefaultFullKey
	if srv.ConnectionString != wantCS {
		t.Errorf("ConnectionString = %q", srv.ConnectionString)
	}
	if !strings.Contains(srv.ListenConnectionString, "SharedAccessKeyName=DefaultListenSharedAccessSignature;") {
		t.Errorf("ListenConnectionString = %q", srv.ListenConnectionString)
	}
	// JS-style token: namespace root audience with port.
	req, _ := http.NewRequest("POST", srv.URL+"/hub/registrationIDs?api-version=2020-06", nil)
	req.Header.Set("Authorization", sas.Sign(srv.URL+"/", emulator.FullRuleName, emulator.DefaultFullKey, time.Now().Add(time.Hour)))
	resp, err := srv.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, srv.URL+"/hub/registrationids/") {
		t.Errorf("Location = %q", loc)
	}
}

func TestFaultsAndDataDirThroughServer(t *testing.T) {
	dir := t.TempDir()
	srv := NewServerWithOptions(t, emulator.Options{DataDir: dir})
	put := func() int {
		req, _ := http.NewRequest("PUT", srv.URL+"/hub/installations/i1?api-version=2020-06",
			strings.NewReader(`{"installationId":"i1","platform":"fcmv1","pushChannel":"tok"}`))
		req.Header.Set("Authorization", sas.Sign(srv.URL+"/hub", emulator.FullRuleName, emulator.DefaultFullKey, time.Now().Add(time.Hour)))
		resp, err := srv.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	srv.InjectFault(emulator.Fault{Op: emulator.OpInstallation, Status: 503})
	if st := put(); st != 503 {
		t.Fatalf("with a fault: status %d, want 503", st)
	}
	if st := put(); st != 200 {
		t.Fatalf("after the fault: status %d, want 200", st)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := emulator.Open(emulator.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if h := again.Hubs(); len(h) != 1 || h[0].Installations != 1 {
		t.Errorf("hubs after reopening = %+v", h)
	}
}

// TestClientKeepsConnections sends 32 slow requests at once, twice: the
// second round reuses the first round's connections instead of opening new
// ones (net/http keeps two idle connections per host unless told
// otherwise).
func TestClientKeepsConnections(t *testing.T) {
	srv := NewServerWithOptions(t, emulator.Options{Hubs: []string{"hub"}})
	const conc = 32
	round := func() (fresh int64) {
		// Each answer waits, so that the conc requests of a round are in
		// flight together and need conc connections.
		srv.InjectFault(emulator.Fault{Op: emulator.OpRegistration, Latency: 100 * time.Millisecond, Count: conc})
		var n atomic.Int64
		var wg sync.WaitGroup
		for range conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
					if !i.Reused {
						n.Add(1)
					}
				}}
				req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace),
					"POST", srv.URL+"/hub/registrationIDs?api-version=2020-06", nil)
				req.Header.Set("Authorization", sas.Sign(srv.URL+"/", emulator.FullRuleName, emulator.DefaultFullKey, time.Now().Add(time.Hour)))
				resp, err := srv.Client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 201 {
					t.Errorf("status %d", resp.StatusCode)
				}
			}()
		}
		wg.Wait()
		return n.Load()
	}
	first := round()
	if first < conc/2 {
		t.Fatalf("the first round of %d opened only %d connections: the requests were not in flight together", conc, first)
	}
	if again := round(); again != 0 {
		t.Errorf("the second round of %d opened %d connections (the first opened %d); want them all reused", conc, again, first)
	}
}
