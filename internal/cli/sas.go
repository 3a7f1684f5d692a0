package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	notificationhubs "github.com/nhkit/notificationhubs"
	"github.com/spf13/cobra"
)

type sasOptions struct {
	f        *factory
	resource string
	expiry   string
	token    string // verify
}

func newSASCmd(f *factory) *cobra.Command {
	opts := &sasOptions{f: f}
	cmd := &cobra.Command{
		Use:   "sas",
		Short: "Print a SAS token for the hub, or check one",
		Long: `Sas signs a Shared Access Signature token with the connection string's rule
and key, and prints it: the Authorization header value of the REST API, for
curl or for a device that registers itself. By default it grants access to
the hub (the endpoint followed by --hub) for one hour; --resource and
--expiry (RFC 3339, or +DURATION such as +24h) change that.

The token is a credential: it gives the rule's rights to whoever holds it
until it expires. -o json prints it with its resource, rule and expiry.

'nh sas verify TOKEN' parses a token and checks it as the service would:
its signature against the connection string's key, its expiry and its
resource.`,
		Example: `  nh sas
  curl -H "Authorization: $(nh sas)" "https://myns.servicebus.windows.net/myhub/registrations?api-version=2020-06"
  nh sas --expiry +24h --connection-string "$LISTEN_CONNECTION_STRING"
  nh sas verify "$TOKEN"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSAS(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.resource, "resource", "", "resource URI the token grants access to (default: the hub's, ENDPOINT/HUB)")
	cmd.Flags().StringVar(&opts.expiry, "expiry", "+1h", "when the token expires: RFC 3339 or +DURATION")
	cmd.AddCommand(newSASVerifyCmd(f))
	return cmd
}

// sasResult is the JSON output of nh sas and nh sas verify.
type sasResult struct {
	Token          string    `json:"token,omitempty"`
	ResourceURI    string    `json:"resourceUri"`
	KeyName        string    `json:"keyName"`
	Expiry         time.Time `json:"expiry"`
	ValidSignature *bool     `json:"validSignature,omitempty"`
	Expired        *bool     `json:"expired,omitempty"`
	CoversResource *bool     `json:"coversResource,omitempty"`
}

// target returns the connection string and the resource: --resource, or
// the hub's URL.
func (o *sasOptions) target() (notificationhubs.ConnectionString, string, error) {
	s, err := o.f.connString()
	if err != nil {
		return notificationhubs.ConnectionString{}, "", err
	}
	cs, err := notificationhubs.ParseConnectionString(s)
	if err != nil {
		return notificationhubs.ConnectionString{}, "", &flagError{err}
	}
	if o.resource != "" {
		return cs, o.resource, nil
	}
	hub, err := o.f.hubName()
	if err != nil {
		return cs, "", usageErrorf("no hub: set --hub or %s, or give --resource", envHub)
	}
	return cs, cs.Endpoint + hub, nil
}

func runSAS(ctx context.Context, o *sasOptions) error {
	f := o.f
	expiry, err := parseScheduleTime(o.expiry, time.Now())
	if err != nil {
		return usageErrorf("--expiry: %v", err)
	}
	cs, resource, err := o.target()
	if err != nil {
		return err
	}
	token, err := notificationhubs.NewSASToken(resource, cs.SharedAccessKeyName, cs.SharedAccessKey, expiry)
	if err != nil {
		return usageErrorf("--resource: %s", strings.TrimPrefix(err.Error(), "notificationhubs: SAS token: "))
	}
	if f.output == outputJSON {
		p, _ := notificationhubs.ParseSASToken(token)
		return writeJSON(f.io.Out, sasResult{Token: token, ResourceURI: p.ResourceURI, KeyName: p.KeyName, Expiry: p.Expiry})
	}
	fmt.Fprintln(f.io.Out, token)
	if f.io.ErrTTY {
		fmt.Fprintf(f.io.Err, "(for %s, rule %s, until %s)\n", resource, cs.SharedAccessKeyName, expiry.UTC().Format(time.RFC3339))
	}
	return nil
}

func newSASVerifyCmd(f *factory) *cobra.Command {
	opts := &sasOptions{f: f}
	cmd := &cobra.Command{
		Use:   "verify TOKEN",
		Short: "Check a SAS token: signature, expiry and resource",
		Long: `Verify parses TOKEN (with or without "SharedAccessSignature ") and checks it
as the service would: that it was signed with the connection string's key,
that it has not expired, and that it grants access to --resource (default:
the hub's URL). It prints the token's resource, rule and expiry, never its
signature, and exits 1 when a check fails.`,
		Example: `  nh sas verify "$(nh sas)"
  nh sas verify "$TOKEN" --resource https://myns.servicebus.windows.net/myhub/messages`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.token = args[0]
			return runSASVerify(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.resource, "resource", "", "resource URI the token must grant access to (default: the hub's, ENDPOINT/HUB)")
	return cmd
}

func runSASVerify(ctx context.Context, o *sasOptions) error {
	f := o.f
	p, err := notificationhubs.ParseSASToken(o.token)
	if err != nil {
		return fmt.Errorf("TOKEN: %s", strings.TrimPrefix(err.Error(), "notificationhubs: SAS token: "))
	}
	cs, resource, err := o.target()
	if err != nil {
		return err
	}
	valid := p.ValidSignature(cs.SharedAccessKey)
	expired := p.Expired(time.Now())
	covers := p.Covers(resource)
	var problems []string
	switch {
	case !valid && p.KeyName != cs.SharedAccessKeyName:
		problems = append(problems, fmt.Sprintf("it was signed by rule %s, and the connection string holds the key of rule %s", p.KeyName, cs.SharedAccessKeyName))
	case !valid:
		problems = append(problems, "its signature does not match the connection string's key")
	}
	if expired {
		problems = append(problems, "it expired at "+p.Expiry.UTC().Format(time.RFC3339))
	}
	if !covers {
		problems = append(problems, "it does not grant access to "+resource)
	}
	if f.output == outputJSON {
		if err := writeJSON(f.io.Out, sasResult{ResourceURI: p.ResourceURI, KeyName: p.KeyName, Expiry: p.Expiry,
			ValidSignature: &valid, Expired: &expired, CoversResource: &covers}); err != nil {
			return err
		}
	} else {
		kv := &keyValues{}
		kv.add("Resource", p.ResourceURI)
		kv.add("Rule", p.KeyName)
		kv.add("Expires", p.Expiry.UTC().Format(time.RFC3339))
		kv.add("Signature", map[bool]string{true: "valid for the connection string's key", false: "not valid for the connection string's key"}[valid])
		kv.add("Covers", fmt.Sprintf("%s: %s", resource, map[bool]string{true: "yes", false: "no"}[covers]))
		if err := kv.write(f.io.Out); err != nil {
			return err
		}
	}
	if len(problems) > 0 {
		return errors.New("the token would be refused: " + strings.Join(problems, "; "))
	}
	return nil
}
