// Package cli implements nh, the command-line tool for the Notification Hubs
// data plane: one command per SDK operation, an emulator, and a demo.
//
// # Shape
//
// Each command has an options struct (its dependencies and parsed flags), a
// constructor newXxxCmd(f *factory) that parses and validates flags, and a
// runXxx(ctx, opts) that does the work. nh send and nh emulator take a
// second argument, runF, that their tests substitute to check flag parsing
// without I/O. With -o json a command prints a named view struct (views.go
// and beside each command), pinned by golden files in testdata/json.
//
// # Exit codes
//
// 0 success; 1 the request failed or was refused, by the service or by
// nh's own checks; 2 usage (nothing was sent); 4 authentication or
// authorization. exitCodes holds the table nh --help prints, and
// TestExitCodeTable runs an example of every row.
//
// # Configuration
//
// The connection string and hub come from --connection-string and --hub, or
// from NH_CONNECTION_STRING and NH_HUB. NH_CA_FILE names an extra CA
// certificate (PEM) to trust for TLS, e.g. the emulator's.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes returned by Main.
const (
	ExitOK    = 0 // success
	ExitError = 1 // the request failed or was refused (by the service or by nh's checks)
	ExitUsage = 2 // bad command line: nothing was sent
	ExitAuth  = 4 // the service refused the credentials (401, or 403 without Retry-After)
)

// exitCodes is the exit code table of nh --help.
var exitCodes = []struct {
	code    int
	meaning string
}{
	{ExitOK, "success"},
	{ExitError, "the request failed: the service refused it or could not be reached, or nh's own checks of a payload, tag, tag expression, handle or token refused it before sending"},
	{ExitUsage, "usage: an unknown command or flag, a missing or extra argument, a flag value that is not one of its choices, or flags that do not go together; nothing was sent"},
	{ExitAuth, "authentication or authorization: the service (or an emulator's control endpoint) answered 401, or 403 without Retry-After"},
}

// exitCodeHelp renders exitCodes for nh --help, wrapped at 80 columns.
func exitCodeHelp() string {
	var b strings.Builder
	b.WriteString("Exit codes:\n")
	for _, e := range exitCodes {
		line := fmt.Sprintf("  %d  ", e.code)
		indent := strings.Repeat(" ", len(line))
		for _, w := range strings.Fields(e.meaning) {
			if len(line)+1+len(w) > 80 && strings.TrimSpace(line) != strconv.Itoa(e.code) {
				b.WriteString(strings.TrimRight(line, " ") + "\n")
				line = indent
			}
			if !strings.HasSuffix(line, " ") {
				line += " "
			}
			line += w
		}
		b.WriteString(line + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// IO is where a command reads and writes, with whether each stream is a
// terminal. Human output (tables, progress bars) depends on the TTY flags.
type IO struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	InTTY  bool
	OutTTY bool
	ErrTTY bool
}

// StdIO returns the process's standard streams with their TTY flags set.
func StdIO() IO {
	return IO{
		In:     os.Stdin,
		Out:    os.Stdout,
		Err:    os.Stderr,
		InTTY:  IsTerminal(os.Stdin),
		OutTTY: IsTerminal(os.Stdout),
		ErrTTY: IsTerminal(os.Stderr),
	}
}

// Main runs nh with args (without the program name) and returns the exit
// code. getenv reads the environment (os.Getenv in production).
func Main(ctx context.Context, args []string, stdio IO, getenv func(string) string) int {
	if stdio.In == nil {
		stdio.In = strings.NewReader("")
	}
	if stdio.Out == nil {
		stdio.Out = io.Discard
	}
	if stdio.Err == nil {
		stdio.Err = io.Discard
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	f := newFactory(stdio, getenv)
	root := newRootCmd(f)
	root.SetArgs(args)
	root.SetIn(stdio.In)
	root.SetOut(stdio.Out)
	root.SetErr(stdio.Err)
	cmd, err := root.ExecuteContextC(ctx)
	f.close()
	if err == nil {
		return ExitOK
	}
	return reportError(stdio.Err, cmd, err)
}

// flagError is a usage error: bad flags, arguments or combinations.
type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }

// usageErrorf returns a usage error (exit code 2).
func usageErrorf(format string, args ...any) error {
	return &flagError{fmt.Errorf(format, args...)}
}

// silentError carries an exit code for a failure already reported on
// stderr (e.g. an invalid tag expression explained with a caret).
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// reportError prints err on w and returns the exit code for it: one
// "error: " line in the CLI's words (see userMessage), then any hint.
func reportError(w io.Writer, cmd *cobra.Command, err error) int {
	var silent *silentError
	if errors.As(err, &silent) {
		return silent.code
	}
	var fe *flagError
	if errors.As(err, &fe) || isCobraUsageError(err) {
		fmt.Fprintf(w, "error: %s\n", userMessage(err))
		if cmd != nil {
			fmt.Fprintf(w, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
		return ExitUsage
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(w, "error: interrupted")
		return ExitError
	}
	fmt.Fprintf(w, "error: %s\n", userMessage(err))
	var ce *caretError
	if errors.As(err, &ce) {
		writeCaret(w, ce.expr, ce.pos)
	}
	var ae *emulatorAPIError
	if errors.As(err, &ae) && (ae.status == 401 || ae.status == 403) {
		fmt.Fprintln(w, "hint: an emulator that listens beyond loopback guards /_emulator/ with a token: give the one")
		fmt.Fprintf(w, "      'nh emulator --control-token' was started with as --control-token or %s\n", envControlToken)
		return ExitAuth
	}
	if status, ok := authStatus(err); ok {
		if status == 401 {
			fmt.Fprintln(w, "hint: the service rejected the credentials; check the connection string")
			fmt.Fprintln(w, "      (--connection-string or NH_CONNECTION_STRING): its endpoint, SharedAccessKeyName and SharedAccessKey")
		} else {
			fmt.Fprintln(w, "hint: the access policy of the connection string lacks the right for this operation")
			fmt.Fprintln(w, "      (sends need Send, registration listing and jobs need Manage)")
		}
		return ExitAuth
	}
	if untrustedCertificate(err) {
		fmt.Fprintln(w, "hint: this machine does not trust the server's TLS certificate. For 'nh emulator', trust the")
		fmt.Fprintf(w, "      certificate it prints: %s=<its cert.pem> (or serve it with --plain-http)\n", envCAFile)
	}
	return ExitError
}

// isCobraUsageError reports errors cobra raises for unknown commands.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command") ||
		strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand flag")
}
