// Package e2e holds end-to-end tests that join the SDK, the emulator and
// its inbox page in a real headless Chromium (Debian's chromium package,
// driven with chromedp), and the SDK, an emulator that delivers and the
// push services' stand-ins (deliver_test.go). It has no code of its own.
//
// The browser tests skip when chromium is missing, unless the environment
// variable CI is set; screenshots go to $NH_ARTIFACTS (or a temporary
// directory).
package e2e
