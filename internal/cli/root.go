package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func newRootCmd(f *factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "nh",
		Short: "Work with the Azure Notification Hubs data plane",
		Long: `nh sends notifications and manages registrations and installations of an
Azure Notification Hub, runs a local emulator of the service, and shows the
whole tutorial in one command with 'nh demo'.

Configuration: --connection-string and --hub, or NH_CONNECTION_STRING and
NH_HUB. NH_CA_FILE names an extra CA certificate (PEM) to trust for TLS,
for instance the certificate 'nh emulator' writes.

` + exitCodeHelp(),
		Example: `  nh demo
  export NH_CONNECTION_STRING='Endpoint=sb://…;SharedAccessKeyName=…;SharedAccessKey=…'
  export NH_HUB=myhub
  nh send apple '{"aps":{"alert":"Hello"}}' --tag sports`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.PersistentFlags().StringVar(&f.connectionString, "connection-string", "", "connection string of the hub's access policy (default $NH_CONNECTION_STRING)")
	root.PersistentFlags().StringVar(&f.hub, "hub", "", "hub name (default $NH_HUB)")
	root.PersistentFlags().StringVarP(&f.output, "output", "o", outputTable, "output format: table or json")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		switch f.output {
		case outputTable, outputJSON:
		default:
			return usageErrorf("--output must be table or json, not %q", f.output)
		}
		return nil
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &flagError{suggestFlag(cmd, err)}
	})
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{outputTable, outputJSON}, cobra.ShellCompDirectiveNoFileComp))

	root.AddCommand(
		newDemoCmd(f),
		newEmulatorCmd(f, nil),
		newSendCmd(f, nil),
		newScheduleCmd(f),
		newOutcomeCmd(f),
		newFeedbackCmd(f),
		newJobCmd(f),
		newRegistrationCmd(f),
		newInstallationCmd(f),
		newTagsCmd(f),
		newMigrateCmd(f),
		newDeliveriesCmd(f),
		newSASCmd(f),
		newHubCmd(f),
		newVapidKeysCmd(f),
	)
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Example: `  nh help send
  nh send --help`,
		Run: func(c *cobra.Command, args []string) {
			cmd, _, err := c.Root().Find(args)
			if cmd == nil || err != nil {
				c.Printf("Unknown help topic %q\n", strings.Join(args, " "))
				cmd = c.Root()
			}
			_ = cmd.Help()
		},
	})
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Example = `  source <(nh completion bash)
  nh completion zsh > "${fpath[1]}/_nh"`
			for _, sub := range c.Commands() {
				sub.Example = fmt.Sprintf("  nh completion %s", sub.Name())
			}
		}
	}
	wrapArgs(root)
	return root
}

// wrapArgs makes every positional-argument error a usage error (exit 2).
func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		validate := c.Args
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := validate(cmd, args); err != nil {
				return &flagError{err}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}

// groupCmd returns a command that only groups subcommands.
func groupCmd(use, short, example string) *cobra.Command {
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErrorf("%s needs a subcommand", cmd.CommandPath())
		},
	}
}

// suggestFlag adds "(did you mean --x?)" to an unknown-flag error when a
// flag of cmd is close: at most two edits away, or the unknown one is a
// prefix of it.
func suggestFlag(cmd *cobra.Command, err error) error {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return err
	}
	best, bestD := "", 3
	visit := func(fl *pflag.Flag) {
		if fl.Hidden {
			return
		}
		d := editDistance(name, fl.Name)
		if strings.HasPrefix(fl.Name, name) && len(name) >= 3 {
			d = min(d, 1)
		}
		if d < bestD {
			best, bestD = fl.Name, d
		}
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	if best == "" {
		return err
	}
	return fmt.Errorf("%w (did you mean --%s?)", err, best)
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
