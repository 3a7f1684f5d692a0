package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
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
	creds.AddCommand(newHubCredentialsSetCmd(ho, nil), newHubCredentialsClearCmd(ho, nil))
	cmd.AddCommand(
		newHubCreateCmd(ho, nil),
		newHubGetCmd(ho, nil),
		newHubListCmd(ho, nil),
		newHubUpdateCmd(ho, nil),
		newHubDeleteCmd(ho, nil),
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

// ---- views --------------------------------------------------------------------

// hubView is the stable JSON form of a hub: which credentials it has, never
// their secrets; its connection strings only when asked for.
type hubView struct {
	Name              string            `json:"name"`
	RegistrationTTL   string            `json:"registrationTtl"`
	Disabled          bool              `json:"disabled"`
	UserMetadata      string            `json:"userMetadata,omitempty"`
	Rules             []ruleView        `json:"authorizationRules"`
	Credentials       []credentialView  `json:"credentials"`
	ConnectionStrings map[string]string `json:"connectionStrings,omitempty"`
	Usage             *usageView        `json:"usage,omitempty"`
}

type ruleView struct {
	KeyName string   `json:"keyName"`
	Rights  []string `json:"rights"`
}

type usageView struct {
	DailyMaxActiveDevices       int64 `json:"dailyMaxActiveDevices"`
	DailyMaxActiveRegistrations int64 `json:"dailyMaxActiveRegistrations"`
	DailyAPICalls               int64 `json:"dailyApiCalls"`
}

// credentialView is one credential without its secret.
type credentialView struct {
	Platform       string `json:"platform"`
	Kind           string `json:"kind,omitempty"`
	Environment    string `json:"environment,omitempty"`
	Endpoint       string `json:"endpoint,omitempty"`
	KeyID          string `json:"keyId,omitempty"`
	TeamID         string `json:"teamId,omitempty"`
	BundleID       string `json:"bundleId,omitempty"`
	ProjectID      string `json:"projectId,omitempty"`
	ClientEmail    string `json:"clientEmail,omitempty"`
	PackageSID     string `json:"packageSid,omitempty"`
	ClientID       string `json:"clientId,omitempty"`
	APIKey         string `json:"apiKey,omitempty"`
	Subject        string `json:"subject,omitempty"`
	VapidPublicKey string `json:"vapidPublicKey,omitempty"`
	Expires        string `json:"expires,omitempty"` // a certificate's last day
}

func environment(production bool) string {
	if production {
		return "production"
	}
	return "sandbox"
}

func credentialViews(p admin.HubProperties) []credentialView {
	out := []credentialView{}
	switch c := p.ApnsCredential.(type) {
	case *admin.ApnsTokenCredential:
		out = append(out, credentialView{Platform: "apns", Kind: "token", Environment: environment(c.IsProduction()),
			KeyID: c.KeyID, TeamID: c.TeamID, BundleID: c.BundleID})
	case *admin.ApnsCertificateCredential:
		v := credentialView{Platform: "apns", Kind: "certificate", Environment: environment(c.IsProduction()), BundleID: c.BundleID}
		if !c.NotAfter.IsZero() {
			v.Expires = c.NotAfter.UTC().Format(time.DateOnly)
		}
		out = append(out, v)
	}
	if c := p.FcmV1Credential; c != nil {
		out = append(out, credentialView{Platform: "fcmv1", ProjectID: c.ProjectID, ClientEmail: c.ClientEmail})
	}
	if p.GcmCredential != nil {
		out = append(out, credentialView{Platform: "gcm"})
	}
	if c := p.WnsCredential; c != nil {
		out = append(out, credentialView{Platform: "wns", PackageSID: c.PackageSID})
	}
	if c := p.MpnsCredential; c != nil {
		kind := "unauthenticated"
		if c.Authenticated {
			kind = "certificate"
		}
		out = append(out, credentialView{Platform: "mpns", Kind: kind})
	}
	if c := p.AdmCredential; c != nil {
		out = append(out, credentialView{Platform: "adm", ClientID: c.ClientID})
	}
	if c := p.BaiduCredential; c != nil {
		out = append(out, credentialView{Platform: "baidu", APIKey: c.APIKey})
	}
	if c := p.BrowserCredential; c != nil {
		out = append(out, credentialView{Platform: "browser", Subject: c.Subject, VapidPublicKey: c.VapidPublicKey})
	}
	if c := p.XiaomiCredential; c != nil {
		out = append(out, credentialView{Platform: "xiaomi", Endpoint: c.Endpoint})
	}
	return out
}

func newHubView(c *admin.Client, name string, p admin.HubProperties, withConnStrings, withUsage bool) hubView {
	v := hubView{Name: name, RegistrationTTL: "never", Disabled: p.IsDisabled, UserMetadata: p.UserMetadata,
		Rules: []ruleView{}, Credentials: credentialViews(p)}
	if p.RegistrationTTL != nil {
		v.RegistrationTTL = p.RegistrationTTL.String()
	}
	for _, r := range p.AuthorizationRules {
		rv := ruleView{KeyName: r.KeyName, Rights: []string{}}
		for _, x := range r.Rights {
			rv.Rights = append(rv.Rights, string(x))
		}
		v.Rules = append(v.Rules, rv)
		if withConnStrings {
			if v.ConnectionStrings == nil {
				v.ConnectionStrings = map[string]string{}
			}
			v.ConnectionStrings[r.KeyName] = c.ConnectionString(r)
		}
	}
	if withUsage {
		v.Usage = &usageView{p.DailyMaxActiveDevices, p.DailyMaxActiveRegistrations, p.DailyAPICalls}
	}
	return v
}

// describe is the one-line human form of a credential.
func (c credentialView) describe() string {
	var parts []string
	for _, kv := range [][2]string{{"", c.Kind}, {"", c.Environment}, {"key id ", c.KeyID}, {"team ", c.TeamID},
		{"bundle ", c.BundleID}, {"project ", c.ProjectID}, {"", c.ClientEmail}, {"package ", c.PackageSID},
		{"client ", c.ClientID}, {"API key ", c.APIKey}, {"", c.Subject}, {"", c.Endpoint}, {"expires ", c.Expires}} {
		if kv[1] != "" {
			parts = append(parts, kv[0]+kv[1])
		}
	}
	if len(parts) == 0 {
		return c.Platform
	}
	return c.Platform + " (" + strings.Join(parts, ", ") + ")"
}

func writeHub(f *factory, v hubView) error {
	if f.output == outputJSON {
		return writeJSON(f.io.Out, v)
	}
	kv := &keyValues{}
	kv.add("Hub", v.Name)
	kv.add("Registration TTL", v.RegistrationTTL)
	if v.Disabled {
		kv.add("Disabled", "yes (registrations and sends get 403)")
	}
	kv.add("User metadata", v.UserMetadata)
	for _, r := range v.Rules {
		kv.add("Rule", r.KeyName+" ("+strings.Join(r.Rights, ", ")+")")
	}
	if len(v.Credentials) == 0 {
		kv.add("Credentials", "none")
	}
	for _, c := range v.Credentials {
		kv.add("Credential", c.describe())
	}
	if v.Usage != nil {
		kv.add("Usage today", fmt.Sprintf("%d API calls, %d devices, %d registrations", v.Usage.DailyAPICalls,
			v.Usage.DailyMaxActiveDevices, v.Usage.DailyMaxActiveRegistrations))
	}
	names := make([]string, 0, len(v.ConnectionStrings))
	for n := range v.ConnectionStrings {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		kv.add("Connection string ("+n+")", v.ConnectionStrings[n])
	}
	return kv.write(f.io.Out)
}

// ---- create -------------------------------------------------------------------------

type hubCreateOptions struct {
	*hubCmdOptions
	name         string
	ttl          time.Duration
	disabled     bool
	userMetadata string
	connStrings  bool
}

func newHubCreateCmd(ho *hubCmdOptions, runF func(context.Context, *hubCreateOptions) error) *cobra.Command {
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
			if runF != nil {
				return runF(cmd.Context(), opts)
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

// ---- get -------------------------------------------------------------------------------

type hubGetOptions struct {
	*hubCmdOptions
	name        string
	connStrings bool
}

func newHubGetCmd(ho *hubCmdOptions, runF func(context.Context, *hubGetOptions) error) *cobra.Command {
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
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
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

// ---- list -------------------------------------------------------------------------------

type hubListOptions struct {
	*hubCmdOptions
}

func newHubListCmd(ho *hubCmdOptions, runF func(context.Context, *hubListOptions) error) *cobra.Command {
	opts := &hubListOptions{hubCmdOptions: ho}
	return &cobra.Command{
		Use:     "list",
		Short:   "List the namespace's hubs and which credentials each has",
		Example: `  nh hub list -o json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
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

// ---- update -------------------------------------------------------------------------------

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

func newHubUpdateCmd(ho *hubCmdOptions, runF func(context.Context, *hubUpdateOptions) error) *cobra.Command {
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
			if runF != nil {
				return runF(cmd.Context(), opts)
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

// ---- delete --------------------------------------------------------------------------------

type hubDeleteOptions struct {
	*hubCmdOptions
	name string
}

func newHubDeleteCmd(ho *hubCmdOptions, runF func(context.Context, *hubDeleteOptions) error) *cobra.Command {
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
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
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

// ---- credentials -------------------------------------------------------------------------------

// credentialPlatforms are the platforms of 'nh hub credentials', as the
// service names them.
var credentialPlatforms = []string{"apns", "fcmv1", "gcm", "wns", "mpns", "adm", "baidu", "browser", "xiaomi"}

type hubCredentialsSetOptions struct {
	*hubCmdOptions
	hub      string
	platform string
	values   map[string]string // flag name → value as given (@FILE, -, or text)
	prod     bool
	unauth   bool
}

// credentialFlags are the flags of each platform: name, usage, and whether
// the value is secret (read from @FILE or stdin, never printed).
var credentialFlags = []struct {
	platform, name, usage string
}{
	{"apns", "key", "token: the .p8 signing key, @FILE (AuthKey_….p8) or - for stdin"},
	{"apns", "key-id", "token: the key's id"},
	{"apns", "team-id", "token: the team id"},
	{"apns", "bundle-id", "token: the app's bundle id"},
	{"apns", "certificate", "certificate (apns, mpns): the .p12 or PEM file, @FILE or - for stdin"},
	{"apns", "password", "certificate (apns, mpns): the .p12 password, text, @FILE or - for stdin"},
	{"fcmv1", "service-account", "the service-account JSON key, @FILE or - for stdin"},
	{"fcmv1", "client-email", "without --service-account: the service account's e-mail"},
	{"fcmv1", "project-id", "without --service-account: the Firebase project id"},
	{"fcmv1", "private-key", "without --service-account: the PEM private key, @FILE or - for stdin"},
	{"gcm", "google-api-key", "the FCM legacy server key, text, @FILE or - for stdin"},
	{"wns", "package-sid", "the package SID (ms-app://…)"},
	{"wns", "secret-key", "the client secret, text, @FILE or - for stdin"},
	{"adm", "client-id", "the security profile's client id"},
	{"adm", "client-secret", "the client secret, text, @FILE or - for stdin"},
	{"baidu", "api-key", "the Baidu API key"},
	{"baidu", "baidu-secret-key", "the Baidu secret key, text, @FILE or - for stdin"},
	{"browser", "subject", "the VAPID contact, mailto: or https:"},
	{"browser", "vapid-public-key", "the VAPID public key (base64url)"},
	{"browser", "vapid-private-key", "the VAPID private key (base64url), text, @FILE or - for stdin"},
	{"xiaomi", "app-secret", "the app secret, text, @FILE or - for stdin"},
	{"xiaomi", "endpoint", "the Xiaomi endpoint (default https://api.xmpush.xiaomi.com)"},
}

func newHubCredentialsSetCmd(ho *hubCmdOptions, runF func(context.Context, *hubCredentialsSetOptions) error) *cobra.Command {
	opts := &hubCredentialsSetOptions{hubCmdOptions: ho}
	strs := map[string]*string{}
	cmd := &cobra.Command{
		Use:   "set PLATFORM",
		Short: "Set a hub's credential for one push service",
		Long: `Set gives the hub (--hub or NH_HUB) a credential for PLATFORM (apns, fcmv1, gcm,
wns, mpns, adm, baidu, browser, xiaomi), replacing the one it has, and keeps
everything else. Keys and secrets are read from files (@FILE) or stdin (-); the
credential is checked before it is sent, and no key or secret is ever printed.

  apns     --key @AuthKey.p8 --key-id --team-id --bundle-id [--production]
           or --certificate @cert.p12 --password @pw.txt [--production]
  fcmv1    --service-account @service-account.json
           or --client-email --project-id --private-key @key.pem
  gcm      --google-api-key
  wns      --package-sid --secret-key
  mpns     --certificate --password, or --unauthenticated
  adm      --client-id --client-secret
  baidu    --api-key --baidu-secret-key
  browser  --subject --vapid-public-key --vapid-private-key
  xiaomi   --app-secret [--endpoint]`,
		Example: `  nh hub credentials set apns --hub myapp --key @AuthKey_ABC123DEFG.p8 --key-id ABC123DEFG --team-id TEAM123456 --bundle-id com.example.app
  nh hub credentials set fcmv1 --hub myapp --service-account @service-account.json
  nh hub credentials set wns --hub myapp --package-sid ms-app://s-1-15-2-1 --secret-key @wns-secret.txt`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: credentialPlatforms,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.platform, opts.hub, err = ho.platformAndHub(args[0]); err != nil {
				return err
			}
			opts.values = map[string]string{}
			for name, p := range strs {
				if cmd.Flags().Changed(name) {
					opts.values[name] = *p
				}
			}
			if opts.prod && opts.platform != "apns" {
				return usageErrorf("--production is for apns only")
			}
			if opts.unauth && opts.platform != "mpns" {
				return usageErrorf("--unauthenticated is for mpns only")
			}
			for name := range opts.values {
				if !flagFor(opts.platform, name) {
					return usageErrorf("--%s is not a flag of %s credentials", name, opts.platform)
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runHubCredentialsSet(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	for _, cf := range credentialFlags {
		if _, dup := strs[cf.name]; dup {
			continue
		}
		strs[cf.name] = fl.String(cf.name, "", cf.usage)
	}
	fl.BoolVar(&opts.prod, "production", false, "apns: APNs' production endpoint (default: its sandbox)")
	fl.BoolVar(&opts.unauth, "unauthenticated", false, "mpns: unauthenticated MPNS, without a certificate")
	return cmd
}

// platformAndHub checks a credentials command's platform argument and
// returns it with the configured hub.
func (o *hubCmdOptions) platformAndHub(arg string) (platform, hub string, err error) {
	platform = strings.ToLower(arg)
	if !slices.Contains(credentialPlatforms, platform) {
		return "", "", usageErrorf("unknown platform %q: want one of %s", arg, strings.Join(credentialPlatforms, ", "))
	}
	hub, err = o.f.hubName()
	return platform, hub, err
}

// flagFor reports whether flag name belongs to platform's credential.
func flagFor(platform, name string) bool {
	if platform == "mpns" && (name == "certificate" || name == "password") {
		return true
	}
	for _, cf := range credentialFlags {
		if cf.platform == platform && cf.name == name {
			return true
		}
	}
	return false
}

// value returns flag name's value: text, @FILE or - (stdin). It never
// quotes what it read.
func (o *hubCredentialsSetOptions) value(name string, required bool) ([]byte, error) {
	v, ok := o.values[name]
	if !ok || v == "" {
		if required {
			return nil, usageErrorf("%s credentials need --%s", o.platform, name)
		}
		return nil, nil
	}
	switch {
	case v == "-":
		return readLimited(o.f.io.In, "stdin")
	case strings.HasPrefix(v, "@"):
		b, err := os.ReadFile(v[1:])
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("--%s: read %s: %v", name, pe.Path, pe.Err)
			}
			return nil, fmt.Errorf("--%s: %v", name, err)
		}
		if len(b) > maxPayload {
			return nil, fmt.Errorf("--%s: %s has more than %d bytes", name, v[1:], maxPayload)
		}
		return b, nil
	}
	return []byte(v), nil
}

func (o *hubCredentialsSetOptions) text(name string, required bool) (string, error) {
	b, err := o.value(name, required)
	return strings.TrimRight(string(b), "\r\n"), err
}

// build makes the credential the flags describe and puts it in p.
func (o *hubCredentialsSetOptions) build(p *admin.HubProperties) error {
	var err error
	str := func(name string, required bool) string {
		if err != nil {
			return ""
		}
		var s string
		s, err = o.text(name, required)
		return s
	}
	raw := func(name string, required bool) []byte {
		if err != nil {
			return nil
		}
		var b []byte
		b, err = o.value(name, required)
		return b
	}
	switch o.platform {
	case "apns":
		if _, cert := o.values["certificate"]; cert {
			data, pw := raw("certificate", true), str("password", false)
			if err == nil {
				p.ApnsCredential, err = admin.NewApnsCertificateCredential(data, pw, o.prod)
			}
			break
		}
		key, keyID, teamID, bundle := raw("key", true), str("key-id", true), str("team-id", true), str("bundle-id", true)
		if err == nil {
			p.ApnsCredential, err = admin.NewApnsTokenCredential(keyID, teamID, bundle, key, o.prod)
		}
	case "fcmv1":
		if _, ok := o.values["service-account"]; ok {
			sa := raw("service-account", true)
			if err == nil {
				p.FcmV1Credential, err = admin.NewFcmV1CredentialFromJSON(sa)
			}
			break
		}
		email, project, key := str("client-email", true), str("project-id", true), str("private-key", true)
		if err == nil {
			p.FcmV1Credential, err = admin.NewFcmV1Credential(email, key, project)
		}
	case "gcm":
		key := str("google-api-key", true)
		if err == nil {
			p.GcmCredential, err = admin.NewGcmCredential(key)
		}
	case "wns":
		sid, secret := str("package-sid", true), str("secret-key", true)
		if err == nil {
			p.WnsCredential, err = admin.NewWnsCredential(sid, secret)
		}
	case "mpns":
		if o.unauth {
			p.MpnsCredential, err = admin.NewMpnsCredential(nil, "")
			break
		}
		data, pw := raw("certificate", true), str("password", false)
		if err == nil {
			p.MpnsCredential, err = admin.NewMpnsCredential(data, pw)
		}
	case "adm":
		id, secret := str("client-id", true), str("client-secret", true)
		if err == nil {
			p.AdmCredential, err = admin.NewAdmCredential(id, secret)
		}
	case "baidu":
		key, secret := str("api-key", true), str("baidu-secret-key", true)
		if err == nil {
			p.BaiduCredential, err = admin.NewBaiduCredential(key, secret)
		}
	case "browser":
		subject, pub, priv := str("subject", true), str("vapid-public-key", true), str("vapid-private-key", true)
		if err == nil {
			p.BrowserCredential, err = admin.NewBrowserCredential(subject, pub, priv)
		}
	case "xiaomi":
		secret, ep := str("app-secret", true), str("endpoint", false)
		if err == nil {
			p.XiaomiCredential, err = admin.NewXiaomiCredential(secret, ep)
		}
	}
	var ce *admin.CredentialError
	if errors.As(err, &ce) {
		return &flagError{err} // bad input: exit 2, and it names the field, never the secret
	}
	return err
}

func runHubCredentialsSet(ctx context.Context, opts *hubCredentialsSetOptions) error {
	// Read and check the credential before any request.
	var probe admin.HubProperties
	if err := opts.build(&probe); err != nil {
		return err
	}
	c, err := opts.adminClient()
	if err != nil {
		return err
	}
	return updateHub(ctx, c, opts.hub, func(p *admin.HubProperties) error {
		copyCredential(p, &probe, opts.platform)
		return nil
	}, false, opts.f)
}

// copyCredential sets dst's credential of platform to src's (nil clears it).
func copyCredential(dst, src *admin.HubProperties, platform string) {
	switch platform {
	case "apns":
		dst.ApnsCredential = src.ApnsCredential
	case "fcmv1":
		dst.FcmV1Credential = src.FcmV1Credential
	case "gcm":
		dst.GcmCredential = src.GcmCredential
	case "wns":
		dst.WnsCredential = src.WnsCredential
	case "mpns":
		dst.MpnsCredential = src.MpnsCredential
	case "adm":
		dst.AdmCredential = src.AdmCredential
	case "baidu":
		dst.BaiduCredential = src.BaiduCredential
	case "browser":
		dst.BrowserCredential = src.BrowserCredential
	case "xiaomi":
		dst.XiaomiCredential = src.XiaomiCredential
	}
}

type hubCredentialsClearOptions struct {
	*hubCmdOptions
	hub      string
	platform string
}

func newHubCredentialsClearCmd(ho *hubCmdOptions, runF func(context.Context, *hubCredentialsClearOptions) error) *cobra.Command {
	opts := &hubCredentialsClearOptions{hubCmdOptions: ho}
	return &cobra.Command{
		Use:   "clear PLATFORM",
		Short: "Remove a hub's credential for one push service",
		Long: `Clear removes the hub's (--hub or NH_HUB) credential for PLATFORM. A hub
created through hub management then accepts sends to that platform and fails
their targets with InvalidCredentials.`,
		Example:   `  nh hub credentials clear gcm --hub myapp`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: credentialPlatforms,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.platform, opts.hub, err = ho.platformAndHub(args[0]); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			c, err := opts.adminClient()
			if err != nil {
				return err
			}
			return updateHub(cmd.Context(), c, opts.hub, func(p *admin.HubProperties) error {
				copyCredential(p, &admin.HubProperties{}, opts.platform)
				return nil
			}, false, opts.f)
		},
	}
}
