package cli

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	notificationhubs "github.com/nhkit/notificationhubs"
	"github.com/spf13/cobra"
)

// platformNames maps the CLI's platform names to registration platforms:
// the service's own platform names (those of installations), and the
// older names of the send formats as aliases.
var platformNames = map[string]notificationhubs.RegistrationPlatform{
	"apple":        notificationhubs.RegistrationPlatformApple,
	"apns":         notificationhubs.RegistrationPlatformApple,
	"fcmv1":        notificationhubs.RegistrationPlatformFcmV1,
	"gcm":          notificationhubs.RegistrationPlatformGcm,
	"fcm-legacy":   notificationhubs.RegistrationPlatformGcm,
	"windows":      notificationhubs.RegistrationPlatformWindows,
	"wns":          notificationhubs.RegistrationPlatformWindows,
	"windowsphone": notificationhubs.RegistrationPlatformMpns,
	"mpns":         notificationhubs.RegistrationPlatformMpns,
	"adm":          notificationhubs.RegistrationPlatformAdm,
	"baidu":        notificationhubs.RegistrationPlatformBaidu,
	"xiaomi":       notificationhubs.RegistrationPlatformXiaomi,
	"browser":      notificationhubs.RegistrationPlatformBrowser,
}

// platformValues are the --platform values nh lists, the service's own
// (as an installation's platform says them).
var platformValues = []string{"apns", "fcmv1", "gcm", "wns", "mpns", "adm", "baidu", "xiaomi", "browser"}

// platformList is platformValues for help and errors.
var platformList = strings.Join(platformValues[:len(platformValues)-1], ", ") + " or " + platformValues[len(platformValues)-1]

func parsePlatform(s string) (notificationhubs.RegistrationPlatform, error) {
	p, ok := platformNames[strings.ToLower(s)]
	if !ok {
		return "", usageErrorf("--platform %q: want %s", s, platformList)
	}
	return p, nil
}

// registrationView is the stable JSON form of a registration.
type registrationView struct {
	RegistrationID string            `json:"registrationId"`
	Platform       string            `json:"platform"`
	Handle         string            `json:"handle"`
	Tags           []string          `json:"tags"`
	PushVariables  map[string]string `json:"pushVariables,omitempty"`
	Template       *templateView     `json:"template,omitempty"`
	ETag           string            `json:"etag,omitempty"`
	ExpirationTime *time.Time        `json:"expirationTime,omitempty"`
}

type templateView struct {
	Name    string            `json:"name,omitempty"`
	Body    string            `json:"body"`
	Headers map[string]string `json:"headers,omitempty"`
}

func viewRegistration(r notificationhubs.Registration) registrationView {
	v := registrationView{
		RegistrationID: r.RegistrationID,
		Platform:       strings.ToLower(string(r.Platform)),
		Handle:         r.Handle(),
		Tags:           r.Tags,
		PushVariables:  r.PushVariables,
		ETag:           string(r.ETag),
	}
	if v.Tags == nil {
		v.Tags = []string{}
	}
	if !r.ExpirationTime.IsZero() {
		t := r.ExpirationTime.UTC()
		v.ExpirationTime = &t
	}
	if r.Template != nil {
		v.Template = &templateView{Name: r.Template.Name, Body: r.Template.Body, Headers: r.Template.Headers}
	}
	return v
}

// registrationListView is one page of a registration listing.
type registrationListView struct {
	Registrations     []registrationView `json:"registrations"`
	ContinuationToken string             `json:"continuationToken,omitempty"`
}

func printRegistrations(f *factory, regs []notificationhubs.Registration, next *string) error {
	if f.output == outputJSON {
		out := registrationListView{Registrations: []registrationView{}}
		for _, r := range regs {
			out.Registrations = append(out.Registrations, viewRegistration(r))
		}
		if next != nil {
			out.ContinuationToken = *next
		}
		return writeJSON(f.io.Out, out)
	}
	t := newTable("ID", "PLATFORM", "HANDLE", "TAGS", "TEMPLATE")
	for _, r := range regs {
		v := viewRegistration(r)
		tmpl := ""
		if v.Template != nil {
			tmpl = v.Template.Name
			if tmpl == "" {
				tmpl = "(unnamed)"
			}
		}
		t.add(v.RegistrationID, v.Platform, shorten(v.Handle, 48), strings.Join(v.Tags, ","), tmpl)
	}
	if err := t.write(f.io.Out, f.io.OutTTY); err != nil {
		return err
	}
	if next != nil {
		fmt.Fprintf(f.io.Err, "more: --continuation-token %s (or --all)\n", *next)
	}
	return nil
}

func printRegistration(f *factory, r notificationhubs.Registration) error {
	v := viewRegistration(r)
	if f.output == outputJSON {
		return writeJSON(f.io.Out, v)
	}
	kv := &keyValues{}
	kv.add("Registration", v.RegistrationID)
	kv.add("Platform", v.Platform)
	kv.add("Handle", v.Handle)
	kv.add("Tags", strings.Join(v.Tags, ", "))
	kv.add("ETag", v.ETag)
	if v.ExpirationTime != nil {
		kv.add("Expires", v.ExpirationTime.Format(time.RFC3339))
	}
	if v.Template != nil {
		kv.add("Template name", v.Template.Name)
		kv.add("Template body", v.Template.Body)
		keys := make([]string, 0, len(v.Template.Headers))
		for k := range v.Template.Headers {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			kv.add("Template header", k+": "+v.Template.Headers[k])
		}
	}
	return kv.write(f.io.Out)
}

func newRegistrationCmd(f *factory) *cobra.Command {
	cmd := groupCmd("registration", "Create, read, list, update and delete registrations",
		`  nh registration create --platform apns --handle 62BCD3… --tag sports
  nh registration list --tag sports --all`)
	cmd.Aliases = []string{"registrations", "reg"}
	cmd.AddCommand(
		newRegistrationCreateCmd(f),
		newRegistrationGetCmd(f),
		newRegistrationListCmd(f),
		newRegistrationUpdateCmd(f),
		newRegistrationDeleteCmd(f),
	)
	return cmd
}

// registrationFields are the flags that describe a registration.
type registrationFields struct {
	platform      string
	handle        string
	baiduChannel  string
	p256dh, auth  string
	tags          []string
	template      string
	templateName  string
	headers       []string
	pushVariables []string
}

func (rf *registrationFields) addFlags(cmd *cobra.Command, update bool) {
	fl := cmd.Flags()
	if !update {
		fl.StringVar(&rf.platform, "platform", "", "platform: "+platformList)
		_ = cmd.RegisterFlagCompletionFunc("platform", cobra.FixedCompletions(platformValues, cobra.ShellCompDirectiveNoFileComp))
	}
	fl.StringVar(&rf.handle, "handle", "", "PNS handle: device token, registration token, channel URI, Baidu user id or browser endpoint")
	fl.StringVar(&rf.baiduChannel, "baidu-channel", "", "Baidu channel id (with --handle USER_ID)")
	fl.StringVar(&rf.p256dh, "p256dh", "", "browser subscription p256dh key")
	fl.StringVar(&rf.auth, "auth", "", "browser subscription auth secret")
	fl.StringArrayVar(&rf.tags, "tag", nil, "tag (repeatable)")
	fl.StringVar(&rf.template, "template", "", "template body, or @FILE: makes a template registration")
	fl.StringVar(&rf.templateName, "template-name", "", "template name")
	fl.StringArrayVar(&rf.headers, "header", nil, "template header NAME:VALUE, e.g. X-WNS-Type:wns/toast (repeatable)")
	fl.StringArrayVar(&rf.pushVariables, "push-variable", nil, "push variable NAME=VALUE (repeatable)")
}

// apply sets the handle fields of r for its platform.
func (rf *registrationFields) applyHandle(r *notificationhubs.Registration) {
	h := rf.handle
	switch r.Platform {
	case notificationhubs.RegistrationPlatformApple:
		r.DeviceToken = h
	case notificationhubs.RegistrationPlatformFcmV1:
		r.FcmV1RegistrationID = h
	case notificationhubs.RegistrationPlatformGcm:
		r.GcmRegistrationID = h
	case notificationhubs.RegistrationPlatformWindows, notificationhubs.RegistrationPlatformMpns:
		r.ChannelURI = h
	case notificationhubs.RegistrationPlatformAdm:
		r.AdmRegistrationID = h
	case notificationhubs.RegistrationPlatformBaidu:
		r.BaiduUserID, r.BaiduChannelID = h, rf.baiduChannel
	case notificationhubs.RegistrationPlatformXiaomi:
		r.XiaomiRegistrationID = h
	case notificationhubs.RegistrationPlatformBrowser:
		r.Endpoint, r.P256DH, r.Auth = h, rf.p256dh, rf.auth
	}
}

func (rf *registrationFields) build(f *factory) (notificationhubs.Registration, error) {
	p, err := parsePlatform(rf.platform)
	if err != nil {
		return notificationhubs.Registration{}, err
	}
	if rf.handle == "" {
		return notificationhubs.Registration{}, usageErrorf("--handle is required")
	}
	if p == notificationhubs.RegistrationPlatformBaidu && rf.baiduChannel == "" {
		return notificationhubs.Registration{}, usageErrorf("a Baidu registration needs --baidu-channel")
	}
	r := notificationhubs.Registration{Platform: p, Tags: rf.tags}
	rf.applyHandle(&r)
	if err := rf.applyRest(f, &r); err != nil {
		return notificationhubs.Registration{}, err
	}
	return r, nil
}

// applyRest sets the template and push variables of r from the flags.
func (rf *registrationFields) applyRest(f *factory, r *notificationhubs.Registration) error {
	vars, err := parsePairs(rf.pushVariables, "=", "--push-variable")
	if err != nil {
		return err
	}
	if len(vars) > 0 {
		r.PushVariables = vars
	}
	headers, err := parsePairs(rf.headers, ":", "--header")
	if err != nil {
		return err
	}
	if rf.template == "" {
		if rf.templateName != "" || len(headers) > 0 {
			if r.Template == nil {
				return usageErrorf("--template-name and --header need --template")
			}
		}
	} else {
		body, err := readArg(f, rf.template)
		if err != nil {
			return err
		}
		if r.Template == nil {
			r.Template = &notificationhubs.RegistrationTemplate{}
		}
		r.Template.Body = string(body)
	}
	if r.Template != nil {
		if rf.templateName != "" {
			r.Template.Name = rf.templateName
		}
		if len(headers) > 0 {
			r.Template.Headers = headers
		}
	}
	return nil
}

// parsePairs splits NAME<sep>VALUE flags.
func parsePairs(list []string, sep, flag string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(list))
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, sep)
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, usageErrorf("%s %q: want NAME%sVALUE", flag, kv, sep)
		}
		m[k] = strings.TrimSpace(v)
	}
	return m, nil
}

type registrationCreateOptions struct {
	f      *factory
	fields registrationFields
	id     string
}

func newRegistrationCreateCmd(f *factory) *cobra.Command {
	opts := &registrationCreateOptions{f: f}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a native or template registration",
		Long: `Create registers a device handle with tags. With --template it makes a
template registration; Windows templates need --header X-WNS-Type:wns/toast (or
tile, badge, raw). With --id it creates or replaces the registration with that
id; otherwise the service chooses the id (the SDK first reserves one, so a retry
cannot create a duplicate).`,
		Example: `  nh registration create --platform apns --handle 62BCD3484834B7E2 --tag sports --tag politics
  nh registration create --platform fcmv1 --handle fcm-token-1 --template '{"message":{"notification":{"body":"$(greeting_en)"}}}' --template-name greeting
  nh registration create --platform wns --handle https://db5p.notify.windows.com/?token=AQE --template @toast.xml --header X-WNS-Type:wns/toast
  nh registration create --platform baidu --handle user-1 --baidu-channel channel-1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRegistrationCreate(cmd.Context(), opts)
		},
	}
	opts.fields.addFlags(cmd, false)
	cmd.Flags().StringVar(&opts.id, "id", "", "registration id to create or replace")
	return cmd
}

func runRegistrationCreate(ctx context.Context, opts *registrationCreateOptions) error {
	f := opts.f
	reg, err := opts.fields.build(f)
	if err != nil {
		return err
	}
	// Check before reserving an id: an error then names the flags, not a
	// registration id the user never saw.
	if err := registrationCheck(reg); err != nil {
		return err
	}
	c, err := f.client(clientConfig{})
	if err != nil {
		return err
	}
	id := opts.id
	if id == "" {
		// Reserve an id first: the PUT that follows is safe to retry.
		resp, err := c.CreateRegistrationID(ctx, nil)
		if err != nil {
			return err
		}
		id = resp.RegistrationID
	}
	reg.RegistrationID = id
	resp, err := c.CreateOrUpdateRegistration(ctx, reg, nil)
	if err != nil {
		return err
	}
	return printRegistration(f, resp.Registration)
}

type registrationGetOptions struct {
	f  *factory
	id string
}

func newRegistrationGetCmd(f *factory) *cobra.Command {
	opts := &registrationGetOptions{f: f}
	return &cobra.Command{
		Use:     "get ID",
		Short:   "Show one registration",
		Example: `  nh registration get 2270130495392485512-2858389966561136576-2 -o json`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.id = args[0]
			return runRegistrationGet(cmd.Context(), opts)
		},
	}
}

func runRegistrationGet(ctx context.Context, opts *registrationGetOptions) error {
	c, err := opts.f.client(clientConfig{})
	if err != nil {
		return err
	}
	resp, err := c.GetRegistration(ctx, opts.id, nil)
	if err != nil {
		return fmt.Errorf("registration %s: %w", opts.id, err)
	}
	return printRegistration(opts.f, resp.Registration)
}

type registrationListOptions struct {
	f       *factory
	tag     string
	channel string
	top     int
	token   string
	all     bool
}

func newRegistrationListCmd(f *factory) *cobra.Command {
	opts := &registrationListOptions{f: f}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List registrations, by tag or by channel",
		Long: `List prints one page of registrations (--top, at most 100), and on stderr
the continuation token of the next page; --all reads every page. Installations
appear too, as the registrations the service derives from them.`,
		Example: `  nh registration list
  nh registration list --tag sports --all -o json
  nh registration list --channel 62BCD3484834B7E2
  nh registration list --top 10 --continuation-token MzEobik7Mg`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.tag != "" && opts.channel != "" {
				return usageErrorf("--tag and --channel exclude each other")
			}
			if opts.top < 0 || opts.top > 100 {
				return usageErrorf("--top must be between 1 and 100")
			}
			if opts.all && opts.token != "" {
				return usageErrorf("--all and --continuation-token exclude each other")
			}
			return runRegistrationList(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.tag, "tag", "", "only registrations with this tag")
	fl.StringVar(&opts.channel, "channel", "", "only registrations of this PNS handle")
	fl.IntVar(&opts.top, "top", 0, "page size (at most 100; default: the service's)")
	fl.StringVar(&opts.token, "continuation-token", "", "resume after a previous page")
	fl.BoolVar(&opts.all, "all", false, "read every page")
	return cmd
}

func runRegistrationList(ctx context.Context, opts *registrationListOptions) error {
	c, err := opts.f.client(clientConfig{})
	if err != nil {
		return err
	}
	var token *string
	if opts.token != "" {
		token = &opts.token
	}
	var pager interface {
		More() bool
		NextPage(context.Context) (notificationhubs.ListRegistrationsResponse, error)
	}
	switch {
	case opts.tag != "":
		pager = c.NewListRegistrationsByTagPager(opts.tag, &notificationhubs.ListRegistrationsByTagOptions{Top: opts.top, ContinuationToken: token})
	case opts.channel != "":
		pager = c.NewListRegistrationsByChannelPager(opts.channel, &notificationhubs.ListRegistrationsByChannelOptions{Top: opts.top, ContinuationToken: token})
	default:
		pager = c.NewListRegistrationsPager(&notificationhubs.ListRegistrationsOptions{Top: opts.top, ContinuationToken: token})
	}
	var regs []notificationhubs.Registration
	var next *string
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list registrations: %w", err)
		}
		regs = append(regs, page.Registrations...)
		next = page.ContinuationToken
		if !opts.all {
			break
		}
	}
	if opts.all {
		next = nil
	}
	return printRegistrations(opts.f, regs, next)
}

type registrationUpdateOptions struct {
	f          *factory
	id         string
	fields     registrationFields
	addTags    []string
	removeTags []string
	etag       string
	set        func(name string) bool
}

func newRegistrationUpdateCmd(f *factory) *cobra.Command {
	opts := &registrationUpdateOptions{f: f}
	cmd := &cobra.Command{
		Use:   "update ID",
		Short: "Change a registration's tags, handle or template",
		Long: `Update reads the registration, applies the changes, and writes it back only
if nobody changed it meanwhile (If-Match with its ETag, or with --etag). --tag
replaces all tags; --add-tag and --remove-tag edit them.`,
		Example: `  nh registration update 2270130495392485512-2858389966561136576-2 --add-tag politics
  nh registration update 2270130495392485512-2858389966561136576-2 --tag sports --tag news --etag 3`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.id = args[0]
			opts.set = func(name string) bool { return cmd.Flags().Changed(name) }
			return runRegistrationUpdate(cmd.Context(), opts)
		},
	}
	opts.fields.addFlags(cmd, true)
	cmd.Flags().StringArrayVar(&opts.addTags, "add-tag", nil, "tag to add (repeatable)")
	cmd.Flags().StringArrayVar(&opts.removeTags, "remove-tag", nil, "tag to remove (repeatable)")
	cmd.Flags().StringVar(&opts.etag, "etag", "", "update only if the stored version is this ETag")
	return cmd
}

func runRegistrationUpdate(ctx context.Context, opts *registrationUpdateOptions) error {
	f := opts.f
	c, err := f.client(clientConfig{})
	if err != nil {
		return err
	}
	got, err := c.GetRegistration(ctx, opts.id, nil)
	if err != nil {
		return fmt.Errorf("registration %s: %w", opts.id, err)
	}
	reg := got.Registration
	if opts.etag != "" {
		reg.ETag = azcore.ETag(opts.etag)
	}
	if opts.set("handle") {
		opts.fields.applyHandle(&reg)
	}
	if opts.set("tag") {
		reg.Tags = opts.fields.tags
	}
	for _, t := range opts.addTags {
		if !containsFold(reg.Tags, t) {
			reg.Tags = append(reg.Tags, t)
		}
	}
	if len(opts.removeTags) > 0 {
		kept := reg.Tags[:0:0]
		for _, t := range reg.Tags {
			if !containsFold(opts.removeTags, t) {
				kept = append(kept, t)
			}
		}
		reg.Tags = kept
	}
	if err := opts.fields.applyRest(f, &reg); err != nil {
		return err
	}
	check := reg
	check.RegistrationID = ""
	if err := registrationCheck(check); err != nil {
		return fmt.Errorf("update registration %s: %w", opts.id, err)
	}
	resp, err := c.UpdateRegistration(ctx, reg, nil)
	if err != nil {
		return fmt.Errorf("update registration %s: %w", opts.id, err)
	}
	return printRegistration(f, resp.Registration)
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

type registrationDeleteOptions struct {
	f    *factory
	id   string
	etag string
}

func newRegistrationDeleteCmd(f *factory) *cobra.Command {
	opts := &registrationDeleteOptions{f: f}
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a registration",
		Example: `  nh registration delete 2270130495392485512-2858389966561136576-2
  nh registration delete 2270130495392485512-2858389966561136576-2 --etag 2`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.id = args[0]
			return runRegistrationDelete(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.etag, "etag", "", "delete only if the stored version is this ETag")
	return cmd
}

func runRegistrationDelete(ctx context.Context, opts *registrationDeleteOptions) error {
	c, err := opts.f.client(clientConfig{})
	if err != nil {
		return err
	}
	var o *notificationhubs.DeleteRegistrationOptions
	if opts.etag != "" {
		e := azcore.ETag(opts.etag)
		o = &notificationhubs.DeleteRegistrationOptions{ETag: &e}
	}
	if _, err := c.DeleteRegistration(ctx, opts.id, o); err != nil {
		return fmt.Errorf("delete registration %s: %w", opts.id, err)
	}
	if opts.f.output == outputJSON {
		return writeJSON(opts.f.io.Out, registrationDeleteView{Deleted: true, RegistrationID: opts.id})
	}
	fmt.Fprintf(opts.f.io.Out, "deleted registration %s\n", opts.id)
	return nil
}

// matchingDevices lists the registrations expr reaches (every page).
func matchingDevices(ctx context.Context, f *factory, expr interface {
	Match(func(string) bool) bool
}) ([]matchedDevice, error) {
	c, err := f.client(clientConfig{})
	if err != nil {
		return nil, err
	}
	pager := c.NewListRegistrationsPager(&notificationhubs.ListRegistrationsOptions{Top: 100})
	var out []matchedDevice
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list registrations: %w", err)
		}
		for _, r := range page.Registrations {
			tags := r.Tags
			if r.Template != nil && r.Template.Name != "" {
				tags = append(tags[:len(tags):len(tags)], r.Template.Name)
			}
			if expr.Match(func(t string) bool { return containsFold(tags, t) }) {
				out = append(out, matchedDevice{
					RegistrationID: r.RegistrationID,
					Platform:       strings.ToLower(string(r.Platform)),
					Handle:         r.Handle(),
					Template:       r.Template != nil,
					Tags:           r.Tags,
				})
			}
		}
	}
	return out, nil
}
