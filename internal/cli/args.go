package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// maxPayload bounds what nh reads from a file or stdin (the service takes
// at most 64 KB a send; templates and bulk files are read elsewhere).
const maxPayload = 1 << 20

// readArg returns a payload argument: "-" reads stdin, "@FILE" reads FILE,
// anything else is the payload itself.
func readArg(f *factory, arg string) ([]byte, error) {
	switch {
	case arg == "-":
		return readLimited(f.io.In, "stdin")
	case strings.HasPrefix(arg, "@"):
		name := arg[1:]
		fh, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("read payload: %w", err)
		}
		defer fh.Close()
		return readLimited(fh, name)
	}
	return []byte(arg), nil
}

func readLimited(r io.Reader, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxPayload+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(b) > maxPayload {
		return nil, fmt.Errorf("read %s: more than %d bytes", name, maxPayload)
	}
	return b, nil
}
