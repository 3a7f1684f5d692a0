package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nhkit/notificationhubs/internal/atom"
	"github.com/nhkit/notificationhubs/internal/sas"
)

// crashChildEnv makes the test binary run an emulator instead of the
// tests: its value is the data directory. The child prints Serve's banner
// (with its port) on stdout and runs until killed.
const crashChildEnv = "NH_EMULATOR_CRASH_CHILD_DATA"

func TestMain(m *testing.M) {
	runDeliverChild()
	if dir := os.Getenv(crashChildEnv); dir != "" || os.Getenv(serveChildEnv) != "" {
		// A child: an emulator on dir (in memory if ""), until killed.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		err := Serve(ctx, ServeOptions{Listen: "127.0.0.1:0", PlainHTTP: true, Emulator: Options{DataDir: dir}}, os.Stdout)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startChild runs an emulator process on dir and returns it with its URL.
func startChild(t *testing.T, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	addr := startChildProcess(t, cmd, crashChildEnv+"="+dir)
	return cmd, "http://" + addr
}

// tracked is what a client knows about one installation's userId.
type tracked struct {
	acked    string // last acknowledged value ("" = never acknowledged)
	inFlight string // value of a request that got no answer
}

// hubTracked is what a client knows about one hub it creates and updates.
type hubTracked struct {
	tracked
	created bool   // the hub exists (its create may have gone unanswered)
	fullKey string // the hub's own DefaultFullSharedAccessSignature key, once seen
}

// TestCrashRecovery kills an emulator process (SIGKILL) at a random moment
// while clients create and patch installations and create and update hub
// descriptions, restarts it on the same data directory and checks that
// every acknowledged write is there with its latest acknowledged value (or
// the value of the one unanswered request, which may have committed). A
// hub's description must hold its UserMetadata and credential of one
// write, and the keys of its own rules must survive every crash and still
// open the hub. 20 rounds.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts emulator processes")
	}
	const (
		rounds    = 20
		clients   = 16
		perClient = 4
		hubs      = 4
	)
	hubState := make([]hubTracked, hubs)
	dir := t.TempDir()
	state := make([][]tracked, clients)
	for i := range state {
		state[i] = make([]tracked, perClient)
	}
	httpc := &http.Client{Timeout: 10 * time.Second}
	doAs := func(base, method, path, body, keyName, key string, header map[string]string) (int, []byte, error) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", sas.Sign(base+"/", keyName, key, time.Now().Add(time.Hour)))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := httpc.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	do := func(base, method, path, body string) (int, []byte, error) {
		return doAs(base, method, path, body, FullRuleName, DefaultFullKey, nil)
	}
	hubPath := func(i int) string { return fmt.Sprintf("/crash-hub-%d?api-version=2020-06", i) }
	hubBody := func(v string) string {
		return entry(`<NotificationHubDescription ` + nsConnect + `><UserMetadata>` + v + `</UserMetadata>` +
			`<GcmCredential><Properties><Property><Name>GoogleApiKey</Name><Value>` + v + `</Value></Property></Properties></GcmCredential>` +
			`</NotificationHubDescription>`)
	}
	// readHub returns a hub's UserMetadata, its GCM key and its own full
	// rule's key ("" for all when it does not exist).
	readHub := func(base string, i int) (meta, gcm, fullKey string, err error) {
		st, body, err := doAs(base, "GET", hubPath(i), "", NamespaceRuleName, DefaultNamespaceKey, nil)
		if err != nil || st != 200 {
			return "", "", "", fmt.Errorf("GET hub %d: status %d, %v", i, st, err)
		}
		_, d, found, err := atom.ParseHubEntry(body)
		if err != nil || !found {
			return "", "", "", err
		}
		for _, r := range d.AuthorizationRules {
			if r.KeyName == FullRuleName {
				fullKey = r.PrimaryKey
			}
		}
		if len(d.Credentials) != 1 {
			return "", "", "", fmt.Errorf("hub %d has %d credentials", i, len(d.Credentials))
		}
		gcm, _ = d.Credentials[0].Get("GoogleApiKey")
		return d.UserMetadata, gcm, fullKey, nil
	}
	instPath := func(c, k int) string {
		return fmt.Sprintf("/crash/installations/c%d-i%d?api-version=2020-06", c, k)
	}
	writes := 0
	for round := 0; round <= rounds; round++ {
		cmd, base := startChild(t, dir)
		// Verify what the previous round acknowledged.
		for c := range state {
			for k := range state[c] {
				tr := &state[c][k]
				st, body, err := do(base, "GET", instPath(c, k), "")
				if err != nil {
					_ = cmd.Process.Kill()
					t.Fatalf("round %d: GET c%d-i%d: %v", round, c, k, err)
				}
				got := ""
				if st == 200 {
					var in struct{ UserID string }
					if err := json.Unmarshal(body, &in); err != nil {
						t.Fatalf("round %d: installation c%d-i%d: %v", round, c, k, err)
					}
					got = in.UserID
				} else if st != 404 {
					t.Fatalf("round %d: GET c%d-i%d: status %d", round, c, k, st)
				}
				if got != tr.acked && (tr.inFlight == "" || got != tr.inFlight) {
					t.Errorf("round %d: installation c%d-i%d has userId %q; acknowledged %q, in flight %q", round, c, k, got, tr.acked, tr.inFlight)
				}
				tr.acked, tr.inFlight = got, ""
			}
		}
		for i := range hubState {
			hs := &hubState[i]
			meta, gcm, key, err := readHub(base, i)
			if err != nil {
				_ = cmd.Process.Kill()
				t.Fatalf("round %d: %v", round, err)
			}
			if meta != gcm {
				t.Errorf("round %d: hub %d has UserMetadata %q but the GCM key of %q", round, i, meta, gcm)
			}
			if meta != hs.acked && (hs.inFlight == "" || meta != hs.inFlight) {
				t.Errorf("round %d: hub %d has UserMetadata %q; acknowledged %q, in flight %q", round, i, meta, hs.acked, hs.inFlight)
			}
			if hs.fullKey != "" && key != hs.fullKey {
				t.Errorf("round %d: hub %d's own key changed across the crash", round, i)
			}
			hs.created = key != ""
			if key != "" {
				hs.fullKey = key
				// The hub's own key opens it; the development key does not.
				st, _, err := doAs(base, "GET", fmt.Sprintf("/crash-hub-%d/registrations?api-version=2020-06", i), "", FullRuleName, key, nil)
				if err != nil || st != 200 {
					t.Errorf("round %d: hub %d's own key: status %d, %v", round, i, st, err)
				}
				st, _, _ = doAs(base, "GET", fmt.Sprintf("/crash-hub-%d/registrations?api-version=2020-06", i), "", FullRuleName, DefaultFullKey, nil)
				if st != 401 {
					t.Errorf("round %d: hub %d opened with the development key: status %d", round, i, st)
				}
			}
			hs.acked, hs.inFlight = meta, ""
		}
		if round == rounds {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			break
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					k := rand.IntN(perClient)
					tr := &state[c][k]
					v := fmt.Sprintf("r%d-c%d-n%d", round, c, n)
					var st int
					var err error
					if tr.acked == "" {
						st, _, err = do(base, "PUT", instPath(c, k), fmt.Sprintf(
							`{"installationId":"c%d-i%d","platform":"fcmv1","pushChannel":"tok-%d-%d","userId":%q}`, c, k, c, k, v))
					} else {
						st, _, err = do(base, "PATCH", instPath(c, k), fmt.Sprintf(`[{"op":"replace","path":"/userId","value":%q}]`, v))
					}
					if err != nil {
						tr.inFlight = v
						return
					}
					if st != 200 {
						t.Errorf("write %s: status %d", v, st)
						return
					}
					tr.acked = v
					mu.Lock()
					writes++
					mu.Unlock()
				}
			}()
		}
		for i := range hubState {
			wg.Add(1)
			go func() {
				defer wg.Done()
				hs := &hubState[i]
				for n := 0; ; n++ {
					v := fmt.Sprintf("r%d-h%d-n%d", round, i, n)
					var hdr map[string]string
					want := 200
					if !hs.created {
						want = 201
					} else {
						hdr = map[string]string{"If-Match": "*"}
					}
					st, _, err := doAs(base, "PUT", hubPath(i), hubBody(v), NamespaceRuleName, DefaultNamespaceKey, hdr)
					if err != nil {
						hs.inFlight = v
						return
					}
					if st == 409 && want == 201 {
						hs.created = true // by an unanswered request: update it
						continue
					}
					if st != want {
						t.Errorf("hub write %s: status %d, want %d", v, st, want)
						return
					}
					hs.created = true
					hs.acked = v
					mu.Lock()
					writes++
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(20+rand.IntN(200)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		wg.Wait()
	}
	t.Logf("%d acknowledged writes over %d crashes", writes, rounds)
	if writes == 0 {
		t.Error("no write was acknowledged")
	}
}
