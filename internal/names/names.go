// Package names holds the service's rules for the names of its entities,
// which the SDK checks before it sends a request and the emulator applies
// to the requests it is sent, so that both refuse the same names. It
// imports neither.
package names

import (
	"errors"
	"strconv"
)

// MaxHub is the longest hub name the service allows.
const MaxHub = 260

// CheckHub applies the service's rule for notification hub names: 1 to
// MaxHub characters, a letter first, then letters, digits, '.', '-' and
// '_'. (The service also allows '/', for hubs in a path; neither the SDK
// nor the emulator, where a hub is one path segment, does.) Its error
// says which part of the rule the name breaks, without quoting the name,
// for the caller to say where it was.
func CheckHub(name string) error {
	if name == "" || len(name) > MaxHub {
		return errors.New("a hub name has 1 to " + strconv.Itoa(MaxHub) + " characters")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if i == 0 && !letter {
			return errors.New("a hub name starts with a letter")
		}
		if !letter && !('0' <= c && c <= '9') && c != '.' && c != '-' && c != '_' {
			return errors.New("a hub name has only letters, digits, '.', '-' and '_'")
		}
	}
	return nil
}
