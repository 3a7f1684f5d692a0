//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package cli

import "os"

// IsTerminal reports whether f is a terminal. On this platform it reports
// false, so output is never decorated.
func IsTerminal(f *os.File) bool { return false }
