package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nhkit/notificationhubs/admin"
)

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

func newHubCredentialsSetCmd(ho *hubCmdOptions) *cobra.Command {
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

func newHubCredentialsClearCmd(ho *hubCmdOptions) *cobra.Command {
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
