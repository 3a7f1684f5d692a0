package cli

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nhkit/notificationhubs/admin"
)

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
