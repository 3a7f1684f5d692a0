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

	"github.com/nhkit/notificationhubs/internal/sas"
)

// crashChildEnv makes the test binary run an emulator instead of the
// tests: its value is the data directory. The child prints Serve's banner
// (with its port) on stdout and runs until killed.
const crashChildEnv = "NH_EMULATOR_CRASH_CHILD_DATA"

func TestMain(m *testing.M) {
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

// TestCrashRecovery kills an emulator process (SIGKILL) at a random moment
// while clients create and patch installations, restarts it on the same
// data directory and checks that every acknowledged write is there with
// its latest acknowledged value (or the value of the one unanswered
// request, which may have committed). 20 rounds.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts emulator processes")
	}
	const (
		rounds    = 20
		clients   = 16
		perClient = 4
	)
	dir := t.TempDir()
	state := make([][]tracked, clients)
	for i := range state {
		state[i] = make([]tracked, perClient)
	}
	httpc := &http.Client{Timeout: 10 * time.Second}
	do := func(base, method, path, body string) (int, []byte, error) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", sas.Sign(base+"/crash", FullRuleName, DefaultFullKey, time.Now().Add(time.Hour)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := httpc.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
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
