package cli

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/nhkit/notificationhubs/emulator"
	"github.com/nhkit/notificationhubs/emulator/emulatortest"
)

type standInsKey struct{}

// TestDeliverGuide runs the README's "Deliver to a real device" as a
// script (testdata/deliver): an nh emulator --deliver process whose push
// services are the local stand-ins (--pns-endpoint, --pns-ca-file), and
// the guide's nh commands for an iPhone, an Android phone and a browser.
// The stand-ins check what the real services check and record what they
// received.
func TestDeliverGuide(t *testing.T) {
	ps := emulatortest.NewPushServices(t)
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "deliver"),
		Setup: func(e *testscript.Env) error {
			write := func(name string, data []byte) error { return os.WriteFile(filepath.Join(e.WorkDir, name), data, 0o600) }
			p8, keyID, teamID := ps.NewApnsKey("com.example.app")
			if err := write("AuthKey_"+keyID+".p8", p8); err != nil {
				return err
			}
			if err := write("service-account.json", ps.NewServiceAccount("my-firebase-project")); err != nil {
				return err
			}
			if err := write("stand-ins.pem", ps.CertificatesPEM()); err != nil {
				return err
			}
			port, err := freePort()
			if err != nil {
				return err
			}
			e.Setenv("APNS_KEY_ID", keyID)
			e.Setenv("APNS_TEAM_ID", teamID)
			eps := ps.Endpoints()
			e.Setenv("PNS_APNS", eps["apns"])
			e.Setenv("PNS_FCMV1", eps["fcmv1"])
			e.Setenv("PNS_FCMV1_TOKEN", eps["fcmv1-token"])
			e.Setenv("PNS_BROWSER", eps["browser"])
			e.Setenv("EMULATOR_PORT", port)
			e.Setenv("NH_CONNECTION_STRING", "")
			e.Setenv("NH_NAMESPACE_CONNECTION_STRING", "")
			e.Setenv("NH_HUB", "")
			e.Values[stateKey{}] = &scriptState{}
			e.Values[standInsKey{}] = ps
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"nh":           cmdNh,
			"exitcode":     cmdExitcode,
			"capture":      cmdCapture,
			"waitemulator": cmdWaitEmulator,
			"standin":      cmdStandIn,
		},
	})
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port, nil
}

// cmdWaitEmulator waits until the emulator started in the background on
// $EMULATOR_PORT, with its certificate in $WORK/cert, answers, and sets
// what its banner prints: NH_CONNECTION_STRING (the namespace rule, whose
// key is the published development key) and NH_CA_FILE.
func cmdWaitEmulator(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: waitemulator")
	}
	port := ts.Getenv("EMULATOR_PORT")
	ca := filepath.Join(ts.Getenv("WORK"), "cert", "cert.pem")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := pingEmulator(port, ca); err == nil {
			break
		} else if time.Now().After(deadline) {
			ts.Fatalf("the emulator on port %s did not answer: %v", port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	ts.Setenv("NH_CONNECTION_STRING", "Endpoint=sb://localhost:"+port+"/;SharedAccessKeyName="+emulator.NamespaceRuleName+
		";SharedAccessKey="+emulator.DefaultNamespaceKey)
	ts.Setenv("NH_CA_FILE", ca)
}

func pingEmulator(port, ca string) error {
	pemBytes, err := os.ReadFile(ca)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pemBytes)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 2 * time.Second}).Get("https://localhost:" + port + "/_emulator/hubs")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

// cmdStandIn plays the devices' side of the stand-ins:
//
//	standin subscribe PUBLIC_KEY   a browser subscription for the VAPID key:
//	                               sets SUB_ENDPOINT, SUB_P256DH, SUB_AUTH
//	standin received SERVICE       prints what the stand-in of SERVICE
//	                               (apns, fcmv1, browser) accepted, a line
//	                               per request: handle, then the body (Web
//	                               Push: decrypted)
func cmdStandIn(ts *testscript.TestScript, neg bool, args []string) {
	ps := ts.Value(standInsKey{}).(*emulatortest.PushServices)
	switch {
	case len(args) == 2 && args[0] == "subscribe" && !neg:
		sub := ps.Subscribe(args[1])
		ts.Setenv("SUB_ENDPOINT", sub.Endpoint)
		ts.Setenv("SUB_P256DH", sub.P256DH)
		ts.Setenv("SUB_AUTH", sub.Auth)
	case len(args) == 2 && args[0] == "received" && !neg:
		for _, r := range ps.Received(args[1]) {
			if r.Status/100 == 2 {
				fmt.Fprintf(ts.Stdout(), "%s %s\n", r.Handle, strings.ReplaceAll(string(r.Body), "\n", " "))
			}
		}
	default:
		ts.Fatalf("usage: standin subscribe PUBLIC_KEY | standin received SERVICE")
	}
}

// TestDeliverGuideFollowsREADME keeps the script and the README's guide
// together: every nh command of the guide's shell blocks must be in the
// script, with the same command words and at least the same flags (the
// script adds the stand-ins' endpoints and a port).
func TestDeliverGuideFollowsREADME(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	guide, ok := strings.CutPrefix(string(readme)[strings.Index(string(readme), "## Deliver to a real device"):], "## Deliver to a real device")
	if !ok {
		t.Fatal(`README.md has no "## Deliver to a real device"`)
	}
	guide, _, _ = strings.Cut(guide, "\n## ")
	script, err := os.ReadFile(filepath.Join("testdata", "deliver", "guide.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	var have []commandShape
	for _, line := range strings.Split(string(script), "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "! ")
		if rest, ok := strings.CutPrefix(line, "exec nh-bin "); ok {
			line = "nh " + rest
		}
		if strings.HasPrefix(line, "nh ") {
			have = append(have, shapeOf(line))
		}
	}
	inShell, n := false, 0
	for _, line := range strings.Split(guide, "\n") {
		switch {
		case strings.HasPrefix(line, "```"):
			inShell = line == "```sh"
			continue
		case !inShell || !strings.HasPrefix(line, "nh "):
			continue
		}
		n++
		want := shapeOf(line)
		found := false
		for _, h := range have {
			found = found || h.covers(want)
		}
		if !found {
			t.Errorf("the guide's %q is not in testdata/deliver/guide.txtar", line)
		}
	}
	if n < 10 {
		t.Errorf("found %d nh commands in the guide; the test reads it wrong", n)
	}
}

// commandShape is an nh command line's words (before the first flag,
// placeholders and quoted arguments left out) and flag names.
type commandShape struct {
	words string
	flags map[string]bool
}

func shapeOf(line string) commandShape {
	line, _, _ = strings.Cut(line, " #") // a trailing comment
	s := commandShape{flags: map[string]bool{}}
	var words []string
	flagSeen := false
	for _, f := range strings.Fields(line) {
		switch {
		case strings.HasPrefix(f, "--"):
			name, _, _ := strings.Cut(f, "=")
			s.flags[name] = true
			flagSeen = true
		case flagSeen || strings.ContainsAny(f, "'<${\""):
		default:
			words = append(words, f)
		}
	}
	s.words = strings.Join(words, " ")
	return s
}

func (s commandShape) covers(want commandShape) bool {
	if s.words != want.words {
		return false
	}
	for f := range want.flags {
		if !s.flags[f] {
			return false
		}
	}
	return true
}
