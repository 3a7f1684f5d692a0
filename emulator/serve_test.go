package emulator

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nhkit/notificationhubs/internal/sas"
)

// wideAddr is a listener bound to loopback that reports the address it
// stands in for, so that tests can run Serve as configured for 0.0.0.0
// without listening beyond this machine.
type wideAddr struct {
	net.Listener
	addr net.Addr
}

func (l wideAddr) Addr() net.Addr { return l.addr }

// listenAsWildcard makes Serve's listener loopback-bound while it reports
// 0.0.0.0 with the same port, until the test ends.
func listenAsWildcard(t *testing.T) {
	old := listenTCP
	listenTCP = func(network, addr string) (net.Listener, error) {
		ln, err := net.Listen(network, "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		return wideAddr{ln, &net.TCPAddr{IP: net.IPv4zero, Port: port}}, nil
	}
	t.Cleanup(func() { listenTCP = old })
}

var bannerPort = regexp.MustCompile(`listening on https?://[^:]+:(\d+)`)

// TestWildcardListenerWithoutToken runs Serve as --listen 0.0.0.0 would
// without a control token: it warns, the data plane answers, and the
// control plane (/_emulator/…, the inbox) does not.
func TestWildcardListenerWithoutToken(t *testing.T) {
	listenAsWildcard(t)
	out := serveBanner(t, ServeOptions{Listen: "0.0.0.0:0", PlainHTTP: true})
	for _, want := range []string{"WARNING: listening on 0.0.0.0:", "the control plane (/_emulator/..., the inbox) is off", "Inbox: off"} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	base := "http://127.0.0.1:" + bannerPort.FindStringSubmatch(out)[1]
	fullKey := regexp.MustCompile(`Connection string \(full\).*SharedAccessKey=(\S+)`).FindStringSubmatch(out)[1]
	req, _ := http.NewRequest("POST", base+"/hub/registrationids?api-version=2020-06", nil)
	req.Header.Set("Authorization", sas.Sign(base+"/hub", FullRuleName, fullKey, time.Now().Add(time.Hour)))
	if code := statusOf(t, req); code != 201 {
		t.Errorf("data plane: %d, want 201", code)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/_emulator/deliveries"}, {"GET", "/_emulator/hubs"}, {"GET", "/_emulator/sends"}, {"GET", "/_emulator/faults"},
		{"GET", "/_emulator/handles"}, {"POST", "/_emulator/reset"}, {"POST", "/_emulator/faults"}, {"DELETE", "/_emulator/faults"},
		{"GET", "/_emulator/ui/"}, {"GET", "/_emulator/ui/api/connection-strings"}, {"GET", "/_emulator/ui/api/events"},
		{"POST", "/_emulator/ui/api/reset"},
	} {
		req, _ := http.NewRequest(c.method, base+c.path, strings.NewReader(`{"status":503}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Inbox", "1")
		if code := statusOf(t, req); code != http.StatusForbidden {
			t.Errorf("%s %s: %d, want 403", c.method, c.path, code)
		}
	}
}

// TestServePrintsWarnings: without a logger of one's own, Serve writes the
// emulator's warnings (here: error details the full blob store could not
// take) to its output, and no line per request.
func TestServePrintsWarnings(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := Serve(ctx, ServeOptions{Listen: "127.0.0.1:0", PlainHTTP: true, Emulator: Options{MaxBlobStoreBytes: 10}}, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	defer func() {
		cancel()
		go func() { _, _ = io.Copy(io.Discard, pr) }()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var base string
	for line := range lines {
		if m := bannerPort.FindStringSubmatch(line); m != nil {
			base = "http://127.0.0.1:" + m[1]
		}
		if strings.HasPrefix(line, "Connection string (listen)") {
			break
		}
	}
	auth := sas.Sign(base+"/hub", FullRuleName, DefaultFullKey, time.Now().Add(time.Hour))
	for _, c := range []struct{ path, ct, format, body string }{
		{"/hub/registrations", "application/atom+xml;type=entry;charset=utf-8", "", gcmNative("t", "expired-device-1")},
		{"/hub/messages", "application/json", "gcm", `{"data":{}}`},
	} {
		req, _ := http.NewRequest("POST", base+c.path+"?api-version=2020-06", strings.NewReader(c.body))
		req.Header.Set("Authorization", auth)
		req.Header.Set("Content-Type", c.ct)
		if c.format != "" {
			req.Header.Set("ServiceBusNotification-Format", c.format)
			req.Header.Set("ServiceBusNotification-Tags", "t")
		}
		if code := statusOf(t, req); code/100 != 2 {
			t.Fatalf("POST %s: %d", c.path, code)
		}
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("Serve's output ended without a warning")
			}
			if strings.Contains(line, "msg=request") {
				t.Errorf("a line per request: %s", line)
			}
			if strings.Contains(line, "level=WARN") && strings.Contains(line, "error details not written") {
				return
			}
		case <-timeout:
			t.Fatal("Serve printed no warning")
		}
	}
}

// TestWildcardListenerReplacesPublishedKeys runs Serve as --listen
// 0.0.0.0 would, once with no keys and once with the published full key
// given explicitly: every published key (namespace, full, listen) is
// replaced by a random one, the banner says so and prints the new keys in
// its connection strings, and the published keys open nothing: not the
// data plane, not hub management, which hands out every rule key and push
// credential.
func TestWildcardListenerReplacesPublishedKeys(t *testing.T) {
	for _, given := range []struct {
		name string
		opts Options
	}{{"no keys", Options{}}, {"the published full key", Options{FullKey: DefaultFullKey}}} {
		listenAsWildcard(t)
		out := serveBanner(t, ServeOptions{Listen: "0.0.0.0:0", PlainHTTP: true, Emulator: given.opts})
		for _, k := range []string{DefaultNamespaceKey, DefaultFullKey, DefaultListenKey} {
			if strings.Contains(out, k) {
				t.Errorf("the banner prints the published key %s:\n%s", k, out)
			}
		}
		if !strings.Contains(out, "Keys: generated") {
			t.Errorf("the banner does not say it generated keys:\n%s", out)
		}
		base := "http://127.0.0.1:" + bannerPort.FindStringSubmatch(out)[1]
		key := func(label string) string {
			m := regexp.MustCompile(regexp.QuoteMeta(label) + `.*SharedAccessKey=(\S+)`).FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("no %q line:\n%s", label, out)
			}
			return m[1]
		}
		nsKey, fullKey, listenKey := key("Connection string (namespace"), key("Connection string (full)"), key("Connection string (listen)")
		dataPlane := func(name, k string) int {
			req, _ := http.NewRequest("POST", base+"/hub/registrationids?api-version=2020-06", nil)
			req.Header.Set("Authorization", sas.Sign(base+"/hub", name, k, time.Now().Add(time.Hour)))
			return statusOf(t, req)
		}
		hubRead := func(k string) int {
			req, _ := http.NewRequest("GET", base+"/hub?api-version=2020-06", nil)
			req.Header.Set("Authorization", sas.Sign(base+"/", NamespaceRuleName, k, time.Now().Add(time.Hour)))
			return statusOf(t, req)
		}
		for _, c := range []struct {
			what      string
			got, want int
		}{
			{"data plane, published full key", dataPlane(FullRuleName, DefaultFullKey), 401},
			{"data plane, published listen key", dataPlane(ListenRuleName, DefaultListenKey), 401},
			{"hub management, published namespace key", hubRead(DefaultNamespaceKey), 401},
			{"data plane, printed full key", dataPlane(FullRuleName, fullKey), 201},
			{"data plane, printed listen key", dataPlane(ListenRuleName, listenKey), 201},
			{"hub management, printed namespace key", hubRead(nsKey), 200},
		} {
			if c.got != c.want {
				t.Errorf("given %s: %s: %d, want %d", given.name, c.what, c.got, c.want)
			}
		}
	}
}

// TestWildcardListenerKeepsGivenKeys: keys of one's own are used as given
// beyond loopback, and none is generated.
func TestWildcardListenerKeepsGivenKeys(t *testing.T) {
	listenAsWildcard(t)
	keys := Options{NamespaceKey: "bXktbmFtZXNwYWNlLWtleQ==", FullKey: "bXktZnVsbC1rZXk=", ListenKey: "bXktbGlzdGVuLWtleQ=="}
	out := serveBanner(t, ServeOptions{Listen: "0.0.0.0:0", PlainHTTP: true, Emulator: keys})
	if strings.Contains(out, "Keys: generated") {
		t.Errorf("keys generated though all were given:\n%s", out)
	}
	for _, k := range []string{keys.NamespaceKey, keys.FullKey, keys.ListenKey} {
		if !strings.Contains(out, "SharedAccessKey="+k) {
			t.Errorf("the banner lacks the given key %s:\n%s", k, out)
		}
	}
}

// TestWildcardListenerWithGeneratedToken runs Serve as --listen 0.0.0.0
// --generate-control-token: the control plane answers the printed token
// only.
func TestWildcardListenerWithGeneratedToken(t *testing.T) {
	listenAsWildcard(t)
	out := serveBanner(t, ServeOptions{Listen: "0.0.0.0:0", PlainHTTP: true, GenerateControlToken: true})
	m := regexp.MustCompile(`Control token: ([0-9a-f]{32}) `).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "WARNING:") || !strings.Contains(out, "/_emulator/ui/?token="+m[1]) {
		t.Fatalf("banner:\n%s", out)
	}
	base := "http://127.0.0.1:" + bannerPort.FindStringSubmatch(out)[1]
	for tok, want := range map[string]int{"": 401, "0123456789abcdef0123456789abcdef": 401, m[1]: 200} {
		req, _ := http.NewRequest("GET", base+"/_emulator/deliveries", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		if code := statusOf(t, req); code != want {
			t.Errorf("token %q: %d, want %d", tok, code, want)
		}
	}
}

// TestLoopbackListenerHasNoWarning checks that the usual loopback
// listener neither warns nor needs a token.
func TestLoopbackListenerHasNoWarning(t *testing.T) {
	out := serveBanner(t, ServeOptions{Listen: "127.0.0.1:0", PlainHTTP: true})
	if strings.Contains(out, "WARNING") || strings.Contains(out, "token") {
		t.Errorf("loopback banner:\n%s", out)
	}
	base := "http://127.0.0.1:" + bannerPort.FindStringSubmatch(out)[1]
	req, _ := http.NewRequest("GET", base+"/_emulator/deliveries", nil)
	if code := statusOf(t, req); code != 200 {
		t.Errorf("control plane on loopback: %d", code)
	}
}

func statusOf(t *testing.T, req *http.Request) int {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServerClosesStalledConnections checks that Serve closes a
// connection that never finishes its headers, one that never finishes its
// body, and one that stays idle, each after its timeout. Without
// timeouts each stayed open for good.
func TestServerClosesStalledConnections(t *testing.T) {
	out := serveBanner(t, ServeOptions{Listen: "127.0.0.1:0", PlainHTTP: true,
		ReadHeaderTimeout: 300 * time.Millisecond, ReadBodyTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond})
	addr := "127.0.0.1:" + bannerPort.FindStringSubmatch(out)[1]
	auth := sas.Sign("http://"+addr+"/hub", FullRuleName, DefaultFullKey, time.Now().Add(time.Hour))
	cases := []struct{ name, send string }{
		{"unfinished headers", "POST /hub/messages HTTP/1.1\r\nHost: " + addr + "\r\n"},
		{"unfinished body", "PUT /hub/installations/i?api-version=2020-06 HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: " + auth +
			"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"platform\":"},
		{"idle after a request", "GET /_emulator/hubs HTTP/1.1\r\nHost: " + addr + "\r\n\r\n"},
	}
	for _, c := range cases {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := io.WriteString(conn, c.send); err != nil {
			t.Fatal(err)
		}
		// Read until the server closes the connection; the deadline only
		// keeps a failing test from hanging.
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, err = io.Copy(io.Discard, conn)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("%s: the server kept the connection open", c.name)
		}
	}
}

// TestIdleConnectionsUnderFileLimit holds 1,100 idle keep-alive
// connections to an emulator whose open-file limit is 1,024 and checks
// that a new client is still served, and that the connections the cap
// closed were idle ones. Without the cap the emulator ran out of file
// descriptors and new clients waited for ever.
func TestIdleConnectionsUnderFileLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts an emulator process")
	}
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs sh for ulimit")
	}
	_, addr := startServeChild(t, exec.Command("sh", "-c", `ulimit -n 1024 && exec "$0" -test.run='^$'`, os.Args[0]))

	const held = 1100
	conns := make([]net.Conn, 0, held)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	answered := 0
	for i := range held {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		fmt.Fprintf(c, "GET /_emulator/hubs HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			answered++
		}
		_ = c.SetDeadline(time.Time{})
	}
	// A new client is served.
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + addr + "/_emulator/hubs")
	if err != nil {
		t.Fatalf("a new client with %d idle connections held: %v", held, err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("a new client: status %d", resp.StatusCode)
	}
	if answered != held {
		t.Errorf("%d of %d connections were answered before going idle", answered, held)
	}
	// The cap closed some of the held connections: the oldest idle ones.
	closed := 0
	deadline := time.Now().Add(200 * time.Millisecond) // one wait for all
	for _, c := range conns {
		_ = c.SetReadDeadline(deadline)
		if _, err := c.Read(make([]byte, 1)); err == io.EOF {
			closed++
		}
	}
	t.Logf("%d of %d idle connections were closed to make room", closed, held)
	if closed < held-1024 {
		t.Errorf("only %d idle connections were closed; %d open connections do not fit 1,024 files", closed, held-closed)
	}
}

// TestConnectionCapOverTLS checks the connection cap behind TLS, where
// http.Server reports each connection as the *tls.Conn around the one the
// cap accepted: with a cap of 2, a third client closes the idle
// connection, not the older one that has not sent its request yet, and is
// served.
func TestConnectionCapOverTLS(t *testing.T) {
	limiters := make(chan *connLimiter, 1)
	serveHookConnLimiter = func(l *connLimiter) { limiters <- l }
	t.Cleanup(func() { serveHookConnLimiter = func(*connLimiter) {} })
	out := serveBanner(t, ServeOptions{Listen: "127.0.0.1:0", CertDir: t.TempDir(), MaxConnections: 2})
	addr := "127.0.0.1:" + bannerPort.FindStringSubmatch(out)[1]
	certFile := regexp.MustCompile(`Certificate: (\S+)`).FindStringSubmatch(out)[1]
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"}}
	dial := func() net.Conn {
		c, err := tls.Dial("tcp", addr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	get := func(c net.Conn) {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		defer c.SetDeadline(time.Time{})
		fmt.Fprintf(c, "GET /_emulator/hubs HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	waiting := dial() // handshaken, no request yet: the oldest
	idle := dial()
	get(idle)
	lim := <-limiters
	waitUntil(t, "the server to see the connection idle", func() bool { return lim.countState(http.StateIdle) == 1 })
	get(dial())
	open := func(c net.Conn) bool {
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		return errors.As(err, &ne) && ne.Timeout()
	}
	if open(idle) {
		t.Error("the idle connection is still open past the cap")
	}
	if !open(waiting) {
		t.Error("the cap closed the connection that was not idle instead of the idle one")
	}
}
