//go:build !unix

package emulator

// openFileLimit reports that the open-file limit is unknown.
func openFileLimit() (uint64, bool) { return 0, false }
