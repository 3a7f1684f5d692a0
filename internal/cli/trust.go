package cli

import (
	"fmt"
	"io"
	"strings"
)

// trustWriter passes nh emulator's output through and, after the line
// that names the generated certificate, says how each kind of client
// trusts it: a Go program, nh itself, Node and Python.
type trustWriter struct{ w io.Writer }

func (tw trustWriter) Write(p []byte) (int, error) {
	n, err := tw.w.Write(p)
	if err != nil {
		return n, err
	}
	line := strings.TrimRight(string(p), "\n")
	if path, ok := strings.CutPrefix(line, "Certificate: "); ok && !strings.Contains(path, "\n") {
		if _, err := io.WriteString(tw.w, trustLines(path)); err != nil {
			return n, err
		}
	}
	return n, nil
}

// trustLines says how to trust the certificate at path.
func trustLines(path string) string {
	return fmt.Sprintf(`Trust it:
  Go:     SSL_CERT_FILE=%[1]s (Linux and BSD; elsewhere a ClientOptions.Transport with this certificate in its RootCAs, see the README)
  nh:     %[2]s=%[1]s
  Node:   NODE_EXTRA_CA_CERTS=%[1]s
  Python: SSL_CERT_FILE=%[1]s (with requests, also REQUESTS_CA_BUNDLE=%[1]s)
`, path, envCAFile)
}
