package apicheck

import (
	"slices"
	"strings"
	"testing"
)

// TestNaming applies the naming rule of docs/naming.md to every exported
// identifier and JSON key of every public package.
func TestNaming(t *testing.T) {
	for _, p := range publicPackages(t) {
		for _, id := range Identifiers(p) {
			for _, problem := range CheckName(id, p.Name()) {
				t.Errorf("%s: %s %s: %s", p.Path(), id.Kind, id.Where, problem)
			}
		}
	}
}

// TestCheckName pins the rule itself, both ways, so that TestNaming can fail.
func TestCheckName(t *testing.T) {
	ok := []Identifier{
		{Name: "InstallationPlatformApns", Kind: "const", ConstType: "InstallationPlatform"},
		{Name: "FcmV1RegistrationID", Kind: "field"},
		{Name: "PnsErrorDetailsURI", Kind: "field"},
		{Name: "GetFeedbackContainerURL", Kind: "method"},
		{Name: "APIVersion", Kind: "method"},
		{Name: "NewSASToken", Kind: "func"},
		{Name: "ETag", Kind: "field"},
		{Name: "WnsSecondaryTile", Kind: "type"},
		{Name: "SendMpnsNotification", Kind: "method"},
		{Name: "P256DH", Kind: "field"},
		{Name: "Identity", Kind: "field"},
		{Name: "Job", Kind: "type"},
		{Name: "SubmitNotificationHubJobOptions", Kind: "type"},
		{Name: "MaxPayloadSize", Kind: "const"},
		{Name: "installationId", Kind: "json key"},
		{Name: "resourceUri", Kind: "json key"},
		{Name: "p256dh", Kind: "json key"},
	}
	for _, id := range ok {
		if got := CheckName(id, "notificationhubs"); len(got) > 0 {
			t.Errorf("CheckName(%s %s) = %q, want no problem", id.Kind, id.Name, got)
		}
	}
	bad := []struct {
		id   Identifier
		want string // part of the first problem
	}{
		{Identifier{Name: "InstallationPlatformAPNS", Kind: "const", ConstType: "InstallationPlatform"}, "Apns"},
		{Identifier{Name: "InstallationPlatformFCMV1", Kind: "const", ConstType: "InstallationPlatform"}, "FcmV1"},
		{Identifier{Name: "WNSSecondaryTile", Kind: "type"}, "Wns"},
		{Identifier{Name: "APNsToken", Kind: "field"}, "Apns"},
		{Identifier{Name: "RegistrationId", Kind: "field"}, "ID"},
		{Identifier{Name: "ContainerUrl", Kind: "method"}, "URL"},
		{Identifier{Name: "ResourceUri", Kind: "field"}, "URI"},
		{Identifier{Name: "HttpClient", Kind: "field"}, "HTTP"},
		{Identifier{Name: "NewSasToken", Kind: "func"}, "SAS"},
		{Identifier{Name: "FormatWindowsPhone", Kind: "const", ConstType: "Format"}, "Mpns"},
		{Identifier{Name: "StateEnqueued", Kind: "const", ConstType: "NotificationOutcomeState"}, "starts with NotificationOutcomeState"},
		{Identifier{Name: "NotificationHubJob", Kind: "type"}, "repeats the package name"},
		{Identifier{Name: "installationID", Kind: "json key"}, "initialisms"},
		{Identifier{Name: "private_key", Kind: "json key"}, "lower camel case"},
		{Identifier{Name: "Platform", Kind: "json key"}, "lower-case"},
	}
	for _, c := range bad {
		got := CheckName(c.id, "notificationhubs")
		if len(got) == 0 || !strings.Contains(got[0], c.want) {
			t.Errorf("CheckName(%s %s) = %q, want a problem mentioning %q", c.id.Kind, c.id.Name, got, c.want)
		}
	}
}

func TestWords(t *testing.T) {
	for name, want := range map[string][]string{
		"InstallationPlatformApns": {"Installation", "Platform", "Apns"},
		"WNSSecondaryTile":         {"WNS", "Secondary", "Tile"},
		"FcmV1RegistrationID":      {"Fcm", "V1", "Registration", "ID"},
		"APIVersion":               {"API", "Version"},
		"RegistrationIds":          {"Registration", "Ids"},
		"ETag":                     {"E", "Tag"},
		"Client":                   {"Client"},
	} {
		if got := Words(name); !slices.Equal(got, want) {
			t.Errorf("Words(%q) = %q, want %q", name, got, want)
		}
	}
}
