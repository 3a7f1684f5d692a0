//go:build race

package emulator

// raceEnabled is set when the tests run with -race, where moving
// gigabytes through the emulator takes minutes.
const raceEnabled = true
