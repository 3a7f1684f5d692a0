package cli

import (
	"regexp"
	"slices"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	notificationhubs "github.com/nhkit/notificationhubs"
)

// TestFlagValuesAreWireValues checks nh's side of docs/naming.md: the
// values nh lists for --platform, --format and nh send's subcommands are
// the service's wire values, and every flag name is lower-case words
// joined by hyphens.
func TestFlagValuesAreWireValues(t *testing.T) {
	installation := []notificationhubs.InstallationPlatform{
		notificationhubs.InstallationPlatformApns, notificationhubs.InstallationPlatformFcmV1,
		notificationhubs.InstallationPlatformGcm, notificationhubs.InstallationPlatformWns,
		notificationhubs.InstallationPlatformMpns, notificationhubs.InstallationPlatformAdm,
		notificationhubs.InstallationPlatformBaidu, notificationhubs.InstallationPlatformXiaomi,
		notificationhubs.InstallationPlatformBrowser,
	}
	var wire []string
	for _, p := range installation {
		wire = append(wire, string(p))
		if got := installationPlatforms[string(p)]; got != p {
			t.Errorf("nh installation put --platform %s means %q, want %q", p, got, p)
		}
		if _, ok := platformNames[string(p)]; !ok {
			t.Errorf("nh registration create --platform %s is not accepted", p)
		}
	}
	if !slices.Equal(platformValues, wire) {
		t.Errorf("--platform lists %q, want the installation platforms' wire values %q", platformValues, wire)
	}

	root := newRootCmd(newFactory(IO{}, envMap(nil)))
	send, _, err := root.Find([]string{"send"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []notificationhubs.Format{
		notificationhubs.FormatTemplate, notificationhubs.FormatApple, notificationhubs.FormatFcmV1,
		notificationhubs.FormatGcm, notificationhubs.FormatWindows, notificationhubs.FormatMpns,
		notificationhubs.FormatAdm, notificationhubs.FormatBaidu, notificationhubs.FormatXiaomi,
		notificationhubs.FormatBrowser,
	} {
		if got := formats[string(f)]; got != f {
			t.Errorf("nh send --format %s means %q, want %q", f, got, f)
		}
		if sub, _, err := send.Find([]string{string(f)}); err != nil || sub.Name() != string(f) {
			t.Errorf("nh send has no subcommand named %s (the wire format)", f)
		}
	}

	flagName := regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		check := func(fl *pflag.Flag) {
			if !flagName.MatchString(fl.Name) {
				t.Errorf("%s --%s: flag names are lower-case words joined by hyphens", c.CommandPath(), fl.Name)
			}
		}
		c.LocalFlags().VisitAll(check)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
