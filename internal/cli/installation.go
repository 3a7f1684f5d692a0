package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	notificationhubs "github.com/nhkit/notificationhubs"
	"github.com/spf13/cobra"
)

var installationPlatforms = map[string]notificationhubs.InstallationPlatform{
	"apns":         notificationhubs.InstallationPlatformApns,
	"apple":        notificationhubs.InstallationPlatformApns,
	"fcmv1":        notificationhubs.InstallationPlatformFcmV1,
	"gcm":          notificationhubs.InstallationPlatformGcm,
	"wns":          notificationhubs.InstallationPlatformWns,
	"windows":      notificationhubs.InstallationPlatformWns,
	"mpns":         notificationhubs.InstallationPlatformMpns,
	"windowsphone": notificationhubs.InstallationPlatformMpns,
	"adm":          notificationhubs.InstallationPlatformAdm,
	"baidu":        notificationhubs.InstallationPlatformBaidu,
	"browser":      notificationhubs.InstallationPlatformBrowser,
	"xiaomi":       notificationhubs.InstallationPlatformXiaomi,
}

func newInstallationCmd(f *factory) *cobra.Command {
	cmd := groupCmd("installation", "Create or replace, read, patch and delete installations",
		`  nh installation put dev-1 --platform fcmv1 --push-channel fcm-token-1 --tag sports
  nh installation get dev-1 -o json`)
	cmd.Aliases = []string{"installations", "inst"}
	cmd.AddCommand(
		newInstallationPutCmd(f),
		newInstallationGetCmd(f),
		newInstallationPatchCmd(f),
		newInstallationDeleteCmd(f),
	)
	return cmd
}

type installationPutOptions struct {
	f           *factory
	id          string
	file        string
	platform    string
	pushChannel string
	userID      string
	tags        []string
	templates   []string
	wait        bool
}

func newInstallationPutCmd(f *factory) *cobra.Command {
	opts := &installationPutOptions{f: f}
	cmd := &cobra.Command{
		Use:   "put ID",
		Short: "Create or replace an installation",
		Long: `Put stores an installation, replacing any with the same id. Describe it with
flags, or give its JSON (the service's installation JSON) with --json, as text,
@FILE or - for stdin; flags then override fields of the JSON. The service
applies installations in the background; --wait reads back until it shows.`,
		Example: `  nh installation put dev-1 --platform apns --push-channel 62BCD3484834B7E2 --tag sports --user-id alice
  nh installation put dev-2 --platform fcmv1 --push-channel fcm-token --template 'greeting={"message":{"notification":{"body":"$(greeting_en)"}}}'
  nh installation put dev-3 --json @installation.json --wait`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.id = args[0]
			if opts.file == "" && opts.platform == "" {
				return usageErrorf("give --platform and --push-channel, or --json")
			}
			return runInstallationPut(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.file, "json", "", "installation JSON: text, @FILE or - for stdin")
	fl.StringVar(&opts.platform, "platform", "", "platform: "+platformList)
	_ = cmd.RegisterFlagCompletionFunc("platform", cobra.FixedCompletions(platformValues, cobra.ShellCompDirectiveNoFileComp))
	fl.StringVar(&opts.pushChannel, "push-channel", "", "PNS handle (browser: the subscription as JSON)")
	fl.StringVar(&opts.userID, "user-id", "", "user id (targetable as $UserId:{…})")
	fl.StringArrayVar(&opts.tags, "tag", nil, "tag (repeatable)")
	fl.StringArrayVar(&opts.templates, "template", nil, "template NAME=BODY or NAME=@FILE (repeatable)")
	fl.BoolVar(&opts.wait, "wait", false, "wait until a read shows the installation")
	return cmd
}

func runInstallationPut(ctx context.Context, opts *installationPutOptions) error {
	f := opts.f
	var inst notificationhubs.Installation
	if opts.file != "" {
		data, err := readArg(f, opts.file)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, &inst); err != nil {
			return fmt.Errorf("installation JSON: %w", err)
		}
	}
	inst.InstallationID = opts.id
	if opts.platform != "" {
		p, ok := installationPlatforms[strings.ToLower(opts.platform)]
		if !ok {
			return usageErrorf("--platform %q: want %s", opts.platform, platformList)
		}
		inst.Platform = p
	}
	if opts.pushChannel != "" {
		if inst.Platform == notificationhubs.InstallationPlatformBrowser {
			var ch notificationhubs.BrowserPushChannel
			if err := json.Unmarshal([]byte(opts.pushChannel), &ch); err != nil {
				return usageErrorf("--push-channel of a browser installation must be JSON {\"endpoint\",\"p256dh\",\"auth\"}")
			}
			inst.BrowserPushChannel = &ch
		} else {
			inst.PushChannel = opts.pushChannel
		}
	}
	if opts.userID != "" {
		inst.UserID = opts.userID
	}
	if len(opts.tags) > 0 {
		inst.Tags = opts.tags
	}
	for _, t := range opts.templates {
		name, body, ok := strings.Cut(t, "=")
		if !ok || name == "" {
			return usageErrorf("--template %q: want NAME=BODY", t)
		}
		b, err := readArg(f, body)
		if err != nil {
			return err
		}
		if inst.Templates == nil {
			inst.Templates = map[string]notificationhubs.InstallationTemplate{}
		}
		inst.Templates[name] = notificationhubs.InstallationTemplate{Body: string(b)}
	}
	c, err := f.client(clientConfig{})
	if err != nil {
		return err
	}
	resp, err := c.CreateOrUpdateInstallation(ctx, inst, &notificationhubs.CreateOrUpdateInstallationOptions{WaitUntilVisible: opts.wait})
	if err != nil {
		return fmt.Errorf("put installation %s: %w", opts.id, err)
	}
	if f.output == outputJSON {
		return writeJSON(f.io.Out, installationPutView{InstallationID: opts.id, TrackingID: resp.TrackingID})
	}
	fmt.Fprintf(f.io.Out, "stored installation %s\n", opts.id)
	return nil
}

type installationGetOptions struct {
	f  *factory
	id string
}

func newInstallationGetCmd(f *factory) *cobra.Command {
	opts := &installationGetOptions{f: f}
	return &cobra.Command{
		Use:     "get ID",
		Short:   "Show an installation",
		Example: `  nh installation get dev-1 -o json`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.id = args[0]
			return runInstallationGet(cmd.Context(), opts)
		},
	}
}

func runInstallationGet(ctx context.Context, opts *installationGetOptions) error {
	f := opts.f
	c, err := f.client(clientConfig{})
	if err != nil {
		return err
	}
	resp, err := c.GetInstallation(ctx, opts.id, nil)
	if err != nil {
		return fmt.Errorf("installation %s: %w", opts.id, err)
	}
	inst := resp.Installation
	if f.output == outputJSON {
		// The service's own JSON shape.
		return writeJSON(f.io.Out, inst)
	}
	kv := &keyValues{}
	kv.add("Installation", inst.InstallationID)
	kv.add("Platform", string(inst.Platform))
	ch := inst.PushChannel
	if inst.BrowserPushChannel != nil {
		ch = inst.BrowserPushChannel.Endpoint
	}
	kv.add("Push channel", ch)
	if inst.PushChannelExpired {
		kv.add("Channel expired", "yes")
	}
	kv.add("User", inst.UserID)
	kv.add("Tags", strings.Join(inst.Tags, ", "))
	if !inst.ExpirationTime.IsZero() {
		kv.add("Expires", inst.ExpirationTime.UTC().Format(time.RFC3339))
	}
	names := make([]string, 0, len(inst.Templates))
	for n := range inst.Templates {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		kv.add("Template "+n, inst.Templates[n].Body)
	}
	return kv.write(f.io.Out)
}

type installationPatchOptions struct {
	f              *factory
	id             string
	addTags        []string
	removeTags     []string
	userID         string
	removeUser     bool
	pushChannel    string
	addTemplates   []string
	removeTemplate []string
	raw            string
	wait           bool
}

func newInstallationPatchCmd(f *factory) *cobra.Command {
	opts := &installationPatchOptions{f: f}
	cmd := &cobra.Command{
		Use:   "patch ID",
		Short: "Change parts of an installation (JSON Patch)",
		Long: `Patch sends JSON Patch operations built from the flags, in flag order: tags,
user id, push channel, templates; or the raw operations of --json.`,
		Example: `  nh installation patch dev-1 --add-tag politics --remove-tag sports
  nh installation patch dev-1 --user-id bob --push-channel 62BCD3484834B7E3
  nh installation patch dev-1 --json '[{"op":"add","path":"/tags","value":"news"}]'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.id = args[0]
			if opts.userID != "" && opts.removeUser {
				return usageErrorf("--user-id and --remove-user-id exclude each other")
			}
			return runInstallationPatch(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&opts.addTags, "add-tag", nil, "tag to add (repeatable)")
	fl.StringArrayVar(&opts.removeTags, "remove-tag", nil, "tag to remove (repeatable)")
	fl.StringVar(&opts.userID, "user-id", "", "set the user id")
	fl.BoolVar(&opts.removeUser, "remove-user-id", false, "clear the user id")
	fl.StringVar(&opts.pushChannel, "push-channel", "", "set the PNS handle")
	fl.StringArrayVar(&opts.addTemplates, "template", nil, "add or replace template NAME=BODY or NAME=@FILE (repeatable)")
	fl.StringArrayVar(&opts.removeTemplate, "remove-template", nil, "template to remove (repeatable)")
	fl.StringVar(&opts.raw, "json", "", "raw JSON Patch array: text, @FILE or - for stdin")
	fl.BoolVar(&opts.wait, "wait", false, "wait until a read shows the change")
	return cmd
}

func runInstallationPatch(ctx context.Context, opts *installationPatchOptions) error {
	f := opts.f
	var patches []notificationhubs.InstallationPatch
	if opts.raw != "" {
		data, err := readArg(f, opts.raw)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, &patches); err != nil {
			return usageErrorf("--json: not a JSON Patch array: %v", err)
		}
	}
	if len(opts.addTags) == 1 {
		patches = append(patches, notificationhubs.AddTag(opts.addTags[0]))
	} else if len(opts.addTags) > 1 {
		patches = append(patches, notificationhubs.AddTags(opts.addTags...))
	}
	for _, t := range opts.removeTags {
		patches = append(patches, notificationhubs.RemoveTag(t))
	}
	if opts.userID != "" {
		patches = append(patches, notificationhubs.ReplaceUserID(opts.userID))
	}
	if opts.removeUser {
		patches = append(patches, notificationhubs.RemoveUserID())
	}
	if opts.pushChannel != "" {
		patches = append(patches, notificationhubs.ReplacePushChannel(opts.pushChannel))
	}
	for _, t := range opts.addTemplates {
		name, body, ok := strings.Cut(t, "=")
		if !ok || name == "" {
			return usageErrorf("--template %q: want NAME=BODY", t)
		}
		b, err := readArg(f, body)
		if err != nil {
			return err
		}
		patches = append(patches, notificationhubs.AddTemplate(name, notificationhubs.InstallationTemplate{Body: string(b)}))
	}
	for _, n := range opts.removeTemplate {
		patches = append(patches, notificationhubs.RemoveTemplate(n))
	}
	if len(patches) == 0 {
		return usageErrorf("nothing to change: give --add-tag, --remove-tag, --user-id, --push-channel, --template, --remove-template or --json")
	}
	c, err := f.client(clientConfig{})
	if err != nil {
		return err
	}
	if _, err := c.PatchInstallation(ctx, opts.id, patches, &notificationhubs.PatchInstallationOptions{WaitUntilVisible: opts.wait}); err != nil {
		return fmt.Errorf("patch installation %s: %w", opts.id, err)
	}
	if f.output == outputJSON {
		return writeJSON(f.io.Out, installationPatchView{InstallationID: opts.id, Operations: patches})
	}
	fmt.Fprintf(f.io.Out, "patched installation %s (%d operation(s))\n", opts.id, len(patches))
	return nil
}

type installationDeleteOptions struct {
	f    *factory
	id   string
	wait bool
}

func newInstallationDeleteCmd(f *factory) *cobra.Command {
	opts := &installationDeleteOptions{f: f}
	cmd := &cobra.Command{
		Use:     "delete ID",
		Short:   "Delete an installation",
		Example: `  nh installation delete dev-1`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.id = args[0]
			return runInstallationDelete(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.wait, "wait", false, "wait until a read no longer finds it")
	return cmd
}

func runInstallationDelete(ctx context.Context, opts *installationDeleteOptions) error {
	c, err := opts.f.client(clientConfig{})
	if err != nil {
		return err
	}
	if _, err := c.DeleteInstallation(ctx, opts.id, &notificationhubs.DeleteInstallationOptions{WaitUntilVisible: opts.wait}); err != nil {
		return fmt.Errorf("delete installation %s: %w", opts.id, err)
	}
	if opts.f.output == outputJSON {
		return writeJSON(opts.f.io.Out, installationDeleteView{Deleted: true, InstallationID: opts.id})
	}
	// The service answers 204 whether or not the installation existed.
	fmt.Fprintf(opts.f.io.Out, "deleted installation %s, if it existed (the service answers the same either way)\n", opts.id)
	return nil
}
