package admin

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nhkit/notificationhubs/internal/atom"
)

func TestDurations(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		wire string
	}{
		{39 * 24 * time.Hour, "P39D"},
		{24*time.Hour + 12*time.Hour, "P1DT12H"},
		{90 * time.Minute, "PT1H30M"},
		{time.Second + 500*time.Millisecond, "PT1.5S"},
		{2*24*time.Hour + 3*time.Second + 100, "P2DT3.0000001S"},
		{0, "PT0S"},
	} {
		if got := formatDuration(tc.d); got != tc.wire {
			t.Errorf("formatDuration(%v) = %q, want %q", tc.d, got, tc.wire)
		}
		if got, ok := parseDuration(tc.wire); !ok || got != tc.d {
			t.Errorf("parseDuration(%q) = %v, %v", tc.wire, got, ok)
		}
	}
	for _, s := range []string{"P10675199DT2H48M5.4775807S", "P1M", "P1Y", "", "P", "PT", "1D", "PxD", "PT1HT2M", "P1H", "P5S", "PT.S"} {
		if d, ok := parseDuration(s); ok {
			t.Errorf("parseDuration(%q) = %v, true; want false", s, d)
		}
	}
}

// TestServedDescriptionRoundTrip: a description read from a hub is written
// back unchanged, properties this package does not know included.
func TestServedDescriptionRoundTrip(t *testing.T) {
	d := atom.HubDescription{
		RegistrationTTL: "P10675199DT2H48M5.4775807S",
		AuthorizationRules: []atom.AuthorizationRule{{Type: "SharedAccessAuthorizationRule", ClaimType: "SharedAccessKey", ClaimValue: "None",
			Rights: []string{"Listen", "Manage", "Send"}, CreatedTime: "2020-07-02T18:03:10.772227Z", ModifiedTime: "2020-07-02T18:03:10.772227Z",
			KeyName: "DefaultFullSharedAccessSignature", PrimaryKey: "p", SecondaryKey: "s"}},
		Credentials: []atom.PnsCredential{
			{Element: atom.CredentialApns, Properties: props("Endpoint", "gateway.push.apple.com", "ApnsCertificate", "Y2VydA==", "CertificateKey", "pw", "Thumbprint", "AB12")},
			{Element: atom.CredentialWns, Properties: props("PackageSid", "s", "SecretKey", "k", "WindowsLiveEndpoint", "https://login.live.com/accesstoken.srf")},
			{Element: atom.CredentialGcm, Properties: props("GoogleApiKey", "g", "GcmEndpoint", "https://fcm.googleapis.com/fcm/send")},
		},
	}
	p := propertiesFromWire(d)
	if p.RegistrationTTL != nil || !p.ApnsCredential.IsProduction() {
		t.Errorf("read: %v", p)
	}
	back, err := p.toWire()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d, back); diff != "" {
		t.Errorf("written back (-read +written):\n%s", diff)
	}
}

func TestCredentialsBuiltAsLiteralsAreRefused(t *testing.T) {
	for _, p := range []HubProperties{
		{ApnsCredential: &ApnsTokenCredential{KeyID: "K"}},
		{ApnsCredential: &ApnsCertificateCredential{}},
		{FcmV1Credential: &FcmV1Credential{ProjectID: "p"}},
		{GcmCredential: &GcmCredential{}},
		{WnsCredential: &WnsCredential{PackageSID: "s"}},
		{AdmCredential: &AdmCredential{ClientID: "c"}},
		{BaiduCredential: &BaiduCredential{APIKey: "a"}},
		{BrowserCredential: &BrowserCredential{Subject: "mailto:a@b.c"}},
		{XiaomiCredential: &XiaomiCredential{Endpoint: XiaomiChinaEndpoint}},
	} {
		if _, err := p.toWire(); err == nil {
			t.Errorf("%v: a credential without its secret was accepted", p)
		}
	}
	if _, err := (HubProperties{MpnsCredential: &MpnsCredential{}}).toWire(); err != nil {
		t.Errorf("unauthenticated MPNS: %v", err)
	}
}

func TestRuleChecks(t *testing.T) {
	good, err := NewSharedAccessAuthorizationRule("app", AccessRightsListen, AccessRightsManage, AccessRightsSend)
	if err != nil || len(good.PrimaryKey) != 44 || good.PrimaryKey == good.SecondaryKey {
		t.Fatalf("%+v, %v", good, err)
	}
	for name, r := range map[string]SharedAccessAuthorizationRule{
		"no name":      {PrimaryKey: "a", SecondaryKey: "b", Rights: []AccessRights{AccessRightsListen}},
		"bad name":     {KeyName: "a;b", PrimaryKey: "a", SecondaryKey: "b", Rights: []AccessRights{AccessRightsListen}},
		"no rights":    {KeyName: "r", PrimaryKey: "a", SecondaryKey: "b"},
		"twice":        {KeyName: "r", PrimaryKey: "a", SecondaryKey: "b", Rights: []AccessRights{AccessRightsListen, AccessRightsListen}},
		"unknown":      {KeyName: "r", PrimaryKey: "a", SecondaryKey: "b", Rights: []AccessRights{"Fly"}},
		"manage alone": {KeyName: "r", PrimaryKey: "a", SecondaryKey: "b", Rights: []AccessRights{AccessRightsManage}},
		"no key":       {KeyName: "r", SecondaryKey: "b", Rights: []AccessRights{AccessRightsListen}},
	} {
		if err := r.check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	dup := HubProperties{AuthorizationRules: []SharedAccessAuthorizationRule{good, good}}
	if _, err := dup.toWire(); err == nil {
		t.Error("two rules of one name accepted")
	}
	var p HubProperties
	p.SetAuthorizationRule(good)
	good.RotateKeys()
	p.SetAuthorizationRule(good)
	if len(p.AuthorizationRules) != 1 || p.AuthorizationRules[0].PrimaryKey != good.PrimaryKey {
		t.Errorf("SetAuthorizationRule: %v", p.AuthorizationRules)
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"P39D", "PT1.5S", "P1DT12H30M", "P10675199DT2H48M5.4775807S", "-P1D", "PT0.0000001S"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseDuration(s)
		if !ok || d < 0 {
			return
		}
		// What is read is written back readably; ticks (100 ns) are the
		// wire's precision.
		back, ok := parseDuration(formatDuration(d))
		if !ok || back/100 != d/100 {
			t.Fatalf("parseDuration(%q) = %v, written %q, read back %v", s, d, formatDuration(d), back)
		}
	})
}
