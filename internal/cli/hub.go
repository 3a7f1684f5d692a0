package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nhkit/notificationhubs/admin"
)

// envNamespaceConnectionString is the connection string nh hub prefers to
// NH_CONNECTION_STRING: a namespace rule with Manage
// (RootManageSharedAccessKey), which may create and list hubs.
const envNamespaceConnectionString = "NH_NAMESPACE_CONNECTION_STRING"

func newHubCmd(f *factory) *cobra.Command {
	cmd := groupCmd("hub", "Create, read, update, list and delete hubs and set their push credentials",
		`  nh hub create myapp --connection-strings
  nh hub credentials set apns --hub myapp --key @AuthKey_ABC123DEFG.p8 --key-id ABC123DEFG --team-id TEAM123456 --bundle-id com.example.app
  nh hub credentials set fcmv1 --hub myapp --service-account @service-account.json
  nh hub get myapp -o json
  nh hub list`)
	cmd.Aliases = []string{"hubs"}
	cmd.Long = `Hub management needs a rule with the Manage right at the namespace
(RootManageSharedAccessKey; 'nh emulator' prints the emulator's): set
--connection-string, or NH_NAMESPACE_CONNECTION_STRING, which nh hub prefers to
NH_CONNECTION_STRING. A hub's own Manage rule (DefaultFullSharedAccessSignature)
may get and update that hub only.

Output never shows a push-service secret, and shows the hub's connection
strings (which hold its keys) only when asked with --connection-strings.`
	debug := false
	cmd.PersistentFlags().BoolVar(&debug, "debug", false, "print the redacted requests and responses on stderr")
	ho := &hubCmdOptions{f: f, debug: &debug}
	creds := groupCmd("credentials", "Set or clear a hub's push-service credentials",
		`  nh hub credentials set fcmv1 --hub myapp --service-account @service-account.json
  nh hub credentials clear gcm --hub myapp`)
	creds.Aliases = []string{"credential", "creds"}
	creds.AddCommand(newHubCredentialsSetCmd(ho), newHubCredentialsClearCmd(ho))
	cmd.AddCommand(
		newHubCreateCmd(ho),
		newHubGetCmd(ho),
		newHubListCmd(ho),
		newHubUpdateCmd(ho),
		newHubDeleteCmd(ho),
		creds,
	)
	return cmd
}

// hubCmdOptions is what every hub command shares.
type hubCmdOptions struct {
	f     *factory
	debug *bool
}

// adminClient builds the hub-management client: --connection-string, then
// NH_NAMESPACE_CONNECTION_STRING, then NH_CONNECTION_STRING.
func (o *hubCmdOptions) adminClient() (*admin.Client, error) {
	f := o.f
	cs := f.connectionString
	if cs == "" {
		cs = f.getenv(envNamespaceConnectionString)
	}
	if cs == "" {
		cs = f.getenv(envConnectionString)
	}
	if strings.TrimSpace(cs) == "" {
		return nil, usageErrorf("no connection string: set --connection-string, %s or %s", envNamespaceConnectionString, envConnectionString)
	}
	hc, err := f.httpClient()
	if err != nil {
		return nil, err
	}
	opts := &admin.ClientOptions{}
	opts.Transport = hc
	if *o.debug {
		opts.DebugWriter = f.io.Err
	}
	c, err := admin.NewClientFromConnectionString(cs, opts)
	if err != nil {
		// The SDK never puts the key in its errors.
		return nil, &flagError{err}
	}
	return c, nil
}

// hubArg returns the hub named by the argument, or the configured hub.
func (o *hubCmdOptions) hubArg(args []string) (string, error) {
	if len(args) == 1 {
		return args[0], nil
	}
	return o.f.hubName()
}

type hubCreateOptions struct {
	*hubCmdOptions
	name         string
	ttl          time.Duration
	disabled     bool
	userMetadata string
	connStrings  bool
}

func newHubCreateCmd(ho *hubCmdOptions) *cobra.Command {
	opts := &hubCreateOptions{hubCmdOptions: ho}
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a hub",
		Long: `Create makes a hub with the service's two default rules and fresh keys
(DefaultListenSharedAccessSignature, DefaultFullSharedAccessSignature) and no
push credentials; add them with 'nh hub credentials set'. --connection-strings
prints the new rules' connection strings, which hold their keys.`,
		Example: `  nh hub create myapp --connection-strings
  nh hub create staging --registration-ttl 720h -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.name = args[0]
			if cmd.Flags().Changed("registration-ttl") && opts.ttl < 24*time.Hour {
				return usageErrorf("--registration-ttl must be at least 24h, the service's minimum")
			}
			return runHubCreate(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&opts.ttl, "registration-ttl", 0, "how long registrations live without update (at least 24h; default: forever)")
	fl.BoolVar(&opts.disabled, "disabled", false, "create the hub disabled")
	fl.StringVar(&opts.userMetadata, "user-metadata", "", "free text kept with the hub")
	fl.BoolVar(&opts.connStrings, "connection-strings", false, "print the hub's connection strings (they hold its keys)")
	return cmd
}

func runHubCreate(ctx context.Context, opts *hubCreateOptions) error {
	c, err := opts.adminClient()
	if err != nil {
		return err
	}
	p := admin.HubProperties{IsDisabled: opts.disabled, UserMetadata: opts.userMetadata}
	if opts.ttl > 0 {
		p.RegistrationTTL = &opts.ttl
	}
	resp, err := c.CreateHub(ctx, opts.name, &admin.CreateHubOptions{Properties: &p})
	if err != nil {
		return fmt.Errorf("create hub %s: %w", opts.name, err)
	}
	return writeHub(opts.f, newHubView(c, opts.name, resp.HubProperties, opts.connStrings, false))
}

type hubGetOptions struct {
	*hubCmdOptions
	name        string
	connStrings bool
}

func newHubGetCmd(ho *hubCmdOptions) *cobra.Command {
	opts := &hubGetOptions{hubCmdOptions: ho}
	cmd := &cobra.Command{
		Use:   "get [NAME]",
		Short: "Show a hub: its rules, which credentials it has, its usage",
		Long: `Get shows a hub (NAME, or --hub / NH_HUB): its registration TTL, its rules and
their rights, which push services it has credentials for (never their secrets)
and the day's usage. --connection-strings adds its rules' connection strings.`,
		Example: `  nh hub get myapp
  nh hub get myapp -o json --connection-strings`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := ho.hubArg(args)
			if err != nil {
				return err
			}
			opts.name = name
			return runHubGet(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.connStrings, "connection-strings", false, "print the hub's connection strings (they hold its keys)")
	return cmd
}

// errNoHub is a hub that does not exist (the service answers GET of one
// with an empty feed, not 404).
func errNoHub(name string) error {
	return fmt.Errorf("hub %s does not exist", name)
}

func runHubGet(ctx context.Context, opts *hubGetOptions) error {
	c, err := opts.adminClient()
	if err != nil {
		return err
	}
	resp, err := c.GetHub(ctx, opts.name, nil)
	if err != nil {
		return fmt.Errorf("hub %s: %w", opts.name, err)
	}
	if resp == nil {
		return errNoHub(opts.name)
	}
	return writeHub(opts.f, newHubView(c, opts.name, resp.HubProperties, opts.connStrings, true))
}

type hubListOptions struct {
	*hubCmdOptions
}

func newHubListCmd(ho *hubCmdOptions) *cobra.Command {
	opts := &hubListOptions{hubCmdOptions: ho}
	return &cobra.Command{
		Use:     "list",
		Short:   "List the namespace's hubs and which credentials each has",
		Example: `  nh hub list -o json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runHubList(cmd.Context(), opts)
		},
	}
}

func runHubList(ctx context.Context, opts *hubListOptions) error {
	f := opts.f
	c, err := opts.adminClient()
	if err != nil {
		return err
	}
	views := []hubView{}
	pager := c.NewListHubsPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list hubs: %w", err)
		}
		for _, h := range page.Hubs {
			views = append(views, newHubView(c, h.HubName, h.HubProperties, false, false))
		}
	}
	if f.output == outputJSON {
		return writeJSON(f.io.Out, views)
	}
	t := newTable("HUB", "CREDENTIALS", "RULES", "DISABLED")
	for _, v := range views {
		var creds, rules []string
		for _, c := range v.Credentials {
			creds = append(creds, c.Platform)
		}
		for _, r := range v.Rules {
			rules = append(rules, r.KeyName)
		}
		cs := strings.Join(creds, ",")
		if cs == "" {
			cs = "-"
		}
		disabled := "no"
		if v.Disabled {
			disabled = "yes"
		}
		t.add(v.Name, cs, strings.Join(rules, ","), disabled)
	}
	return t.write(f.io.Out, f.io.OutTTY)
}

type hubUpdateOptions struct {
	*hubCmdOptions
	name         string
	ttl          time.Duration
	setTTL       bool
	disabled     bool
	setDisabled  bool
	userMetadata *string
	rotate       []string
	addRules     []string
	removeRules  []string
	connStrings  bool
}

func newHubUpdateCmd(ho *hubCmdOptions) *cobra.Command {
	opts := &hubUpdateOptions{hubCmdOptions: ho}
	var meta string
	cmd := &cobra.Command{
		Use:   "update [NAME]",
		Short: "Change a hub's settings and rules, or rotate a rule's keys",
		Long: `Update reads the hub (NAME, or --hub / NH_HUB), changes what the flags say and
writes the whole description back, so everything else (credentials included)
stays. --rotate-keys RULE makes the rule's primary key its secondary one and
gives it a fresh primary key: clients signing with the old key keep working
until the next rotation. --add-rule NAME=RIGHTS adds a rule with fresh keys
(RIGHTS: Listen, Send and Manage, comma-separated; Manage needs the other two).`,
		Example: `  nh hub update myapp --rotate-keys DefaultFullSharedAccessSignature --connection-strings
  nh hub update myapp --add-rule backend=Send --disabled=false
  nh hub update myapp --registration-ttl 2160h`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := ho.hubArg(args)
			if err != nil {
				return err
			}
			opts.name = name
			fl := cmd.Flags()
			opts.setTTL, opts.setDisabled = fl.Changed("registration-ttl"), fl.Changed("disabled")
			if fl.Changed("user-metadata") {
				opts.userMetadata = &meta
			}
			if opts.setTTL && opts.ttl < 24*time.Hour {
				return usageErrorf("--registration-ttl must be at least 24h, the service's minimum")
			}
			for _, r := range opts.addRules {
				if _, _, err := parseRuleFlag(r); err != nil {
					return err
				}
			}
			if !opts.setTTL && !opts.setDisabled && opts.userMetadata == nil && len(opts.rotate)+len(opts.addRules)+len(opts.removeRules) == 0 {
				return usageErrorf("nothing to update: give --registration-ttl, --disabled, --user-metadata, --rotate-keys, --add-rule or --remove-rule")
			}
			return runHubUpdate(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&opts.ttl, "registration-ttl", 0, "how long registrations live without update (at least 24h)")
	fl.BoolVar(&opts.disabled, "disabled", false, "disable (true) or enable (false) the hub")
	fl.StringVar(&meta, "user-metadata", "", "free text kept with the hub")
	fl.StringArrayVar(&opts.rotate, "rotate-keys", nil, "rotate the keys of rule RULE (repeatable)")
	fl.StringArrayVar(&opts.addRules, "add-rule", nil, "add rule NAME=RIGHTS with fresh keys (repeatable)")
	fl.StringArrayVar(&opts.removeRules, "remove-rule", nil, "remove rule NAME (repeatable)")
	fl.BoolVar(&opts.connStrings, "connection-strings", false, "print the hub's connection strings (they hold its keys)")
	return cmd
}

// parseRuleFlag reads NAME=Listen,Send.
func parseRuleFlag(s string) (string, []admin.AccessRights, error) {
	name, rs, ok := strings.Cut(s, "=")
	if !ok || name == "" || rs == "" {
		return "", nil, usageErrorf("--add-rule %q: want NAME=RIGHTS, e.g. backend=Send", s)
	}
	var rights []admin.AccessRights
	for _, r := range strings.Split(rs, ",") {
		switch strings.ToLower(strings.TrimSpace(r)) {
		case "listen":
			rights = append(rights, admin.AccessRightsListen)
		case "send":
			rights = append(rights, admin.AccessRightsSend)
		case "manage":
			rights = append(rights, admin.AccessRightsManage)
		default:
			return "", nil, usageErrorf("--add-rule %q: unknown right %q (want Listen, Send or Manage)", s, r)
		}
	}
	return name, rights, nil
}

func runHubUpdate(ctx context.Context, opts *hubUpdateOptions) error {
	c, err := opts.adminClient()
	if err != nil {
		return err
	}
	return updateHub(ctx, c, opts.name, func(p *admin.HubProperties) error {
		if opts.setTTL {
			p.RegistrationTTL = &opts.ttl
		}
		if opts.setDisabled {
			p.IsDisabled = opts.disabled
		}
		if opts.userMetadata != nil {
			p.UserMetadata = *opts.userMetadata
		}
		for _, name := range opts.removeRules {
			n := len(p.AuthorizationRules)
			p.AuthorizationRules = slices.DeleteFunc(p.AuthorizationRules, func(r admin.SharedAccessAuthorizationRule) bool {
				return strings.EqualFold(r.KeyName, name)
			})
			if len(p.AuthorizationRules) == n {
				return usageErrorf("--remove-rule: hub %s has no rule %s", opts.name, name)
			}
		}
		for _, name := range opts.rotate {
			r, ok := p.AuthorizationRule(name)
			if !ok {
				return usageErrorf("--rotate-keys: hub %s has no rule %s", opts.name, name)
			}
			r.RotateKeys()
			p.SetAuthorizationRule(r)
		}
		for _, s := range opts.addRules {
			name, rights, _ := parseRuleFlag(s)
			if _, ok := p.AuthorizationRule(name); ok {
				return usageErrorf("--add-rule: hub %s has a rule %s already", opts.name, name)
			}
			r, err := admin.NewSharedAccessAuthorizationRule(name, rights...)
			if err != nil {
				return &flagError{err}
			}
			p.SetAuthorizationRule(r)
		}
		return nil
	}, opts.connStrings, opts.f)
}

// updateHub reads hub, lets change edit it, writes it back and prints it.
func updateHub(ctx context.Context, c *admin.Client, hub string, change func(*admin.HubProperties) error, connStrings bool, f *factory) error {
	got, err := c.GetHub(ctx, hub, nil)
	if err != nil {
		return fmt.Errorf("hub %s: %w", hub, err)
	}
	if got == nil {
		return errNoHub(hub)
	}
	p := got.HubProperties
	if err := change(&p); err != nil {
		return err
	}
	resp, err := c.UpdateHub(ctx, hub, p, nil)
	if err != nil {
		return fmt.Errorf("update hub %s: %w", hub, err)
	}
	return writeHub(f, newHubView(c, hub, resp.HubProperties, connStrings, false))
}

type hubDeleteOptions struct {
	*hubCmdOptions
	name string
}

func newHubDeleteCmd(ho *hubCmdOptions) *cobra.Command {
	opts := &hubDeleteOptions{hubCmdOptions: ho}
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a hub with its registrations and installations",
		Long: `Delete removes the hub NAME (named explicitly, never taken from --hub or
NH_HUB) with all its registrations, installations and scheduled sends.`,
		Example: `  nh hub delete staging`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.name = args[0]
			return runHubDelete(cmd.Context(), opts)
		},
	}
}

func runHubDelete(ctx context.Context, opts *hubDeleteOptions) error {
	c, err := opts.adminClient()
	if err != nil {
		return err
	}
	resp, err := c.DeleteHub(ctx, opts.name, nil)
	if err != nil {
		return fmt.Errorf("delete hub %s: %w", opts.name, err)
	}
	if opts.f.output == outputJSON {
		return writeJSON(opts.f.io.Out, map[string]any{"deleted": opts.name, "trackingId": resp.TrackingID})
	}
	fmt.Fprintf(opts.f.io.Out, "deleted hub %s\n", opts.name)
	return nil
}
