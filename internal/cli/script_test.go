package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nhkit/notificationhubs/emulator"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"nh-bin": func() {
			os.Exit(Main(context.Background(), os.Args[1:], StdIO(), os.Getenv))
		},
	})
}

// scriptState is shared by the custom commands of one script.
type scriptState struct {
	emu      *emulator.Server
	hub      string
	lastExit int
}

type stateKey struct{}

func TestScripts(t *testing.T) {
	env, err := testEmulator()
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(e *testscript.Env) error {
			hub := "hub-" + strings.TrimPrefix(filepath.Base(e.WorkDir), "script-")
			e.Setenv("NH_CONNECTION_STRING", env.emu.ConnectionString(env.endpoint(), false))
			e.Setenv("NH_LISTEN_CONNECTION_STRING", env.emu.ConnectionString(env.endpoint(), true))
			e.Setenv("NH_NAMESPACE_CONNECTION_STRING", env.emu.NamespaceConnectionString(env.endpoint()))
			e.Setenv("NH_WRONG_KEY_CONNECTION_STRING", "Endpoint="+env.endpoint()+";SharedAccessKeyName="+emulator.FullRuleName+";SharedAccessKey=d3Jvbmcta2V5")
			e.Setenv("NH_FULL_KEY", emulator.DefaultFullKey)
			e.Setenv("NH_HUB", hub)
			e.Setenv("NH_CA_FILE", env.caFile)
			e.Setenv("NH_JOB_CONTAINER", env.emu.ContainerURL("https://"+env.ls.Addr, "out-"+hub))
			e.Values[stateKey{}] = &scriptState{emu: env.emu, hub: hub}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"nh":         cmdNh,
			"exitcode":   cmdExitcode,
			"deliveries": cmdDeliveries,
			"capture":    cmdCapture,
			"jsonfield":  cmdJSONField,
			"hubkeys":    cmdHubKeys,
		},
	})
}

// cmdNh runs nh (a subprocess of the test binary) and records its exit code.
func cmdNh(ts *testscript.TestScript, neg bool, args []string) {
	st := ts.Value(stateKey{}).(*scriptState)
	err := ts.Exec("nh-bin", args...)
	st.lastExit = 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		st.lastExit = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("nh: %v", err)
	}
	if neg && st.lastExit == 0 {
		ts.Fatalf("nh succeeded unexpectedly")
	}
	if !neg && st.lastExit != 0 {
		ts.Fatalf("nh failed with exit code %d", st.lastExit)
	}
}

// cmdExitcode checks the exit code of the last nh.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: exitcode N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	st := ts.Value(stateKey{}).(*scriptState)
	if st.lastExit != want {
		ts.Fatalf("exit code %d, want %d", st.lastExit, want)
	}
}

// cmdDeliveries prints the emulator's deliveries for the script's hub, one
// a line: platform, handle, payload. Arguments tag=T or handle=H filter.
func cmdDeliveries(ts *testscript.TestScript, neg bool, args []string) {
	st := ts.Value(stateKey{}).(*scriptState)
	f := emulator.DeliveryFilter{Hub: st.hub}
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		switch k {
		case "tag":
			f.Tag = v
		case "handle":
			f.Handle = v
		default:
			ts.Fatalf("usage: deliveries [tag=T] [handle=H]")
		}
	}
	for _, d := range st.emu.Deliveries(f) {
		fmt.Fprintf(ts.Stdout(), "%s %s %s\n", d.Platform, d.Handle, d.Payload)
	}
}

// cmdCapture sets env var NAME to the first submatch of REGEXP in the last
// stdout: capture NAME REGEXP.
func cmdCapture(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: capture NAME REGEXP")
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	m := re.FindStringSubmatch(ts.ReadFile("stdout"))
	if len(m) < 2 {
		ts.Fatalf("capture: no match for %s in stdout", args[1])
	}
	ts.Setenv(args[0], m[1])
}

// cmdJSONField parses the last stdout as JSON and checks the value at a
// dotted path (array indexes are numbers): jsonfield PATH WANT. Strings
// compare as they are, other values as their JSON text.
func cmdJSONField(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: jsonfield PATH WANT")
	}
	var v any
	if err := json.Unmarshal([]byte(ts.ReadFile("stdout")), &v); err != nil {
		ts.Fatalf("stdout is not JSON: %v", err)
	}
	for _, part := range strings.Split(args[0], ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				ts.Fatalf("jsonfield %s: no element %s", args[0], part)
			}
			v = x[i]
		default:
			ts.Fatalf("jsonfield %s: %s is not an object or array", args[0], part)
		}
	}
	got, ok := v.(string)
	if !ok {
		b, _ := json.Marshal(v)
		got = string(b)
	}
	if (got == args[1]) == neg {
		ts.Fatalf("jsonfield %s = %s, want %s%s", args[0], got, map[bool]string{true: "not ", false: ""}[neg], args[1])
	}
}
