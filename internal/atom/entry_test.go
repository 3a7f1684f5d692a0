package atom

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMarshalEntryShape(t *testing.T) {
	content := mustMarshal(t, Registration{Platform: Apple, DeviceToken: "AB", RegistrationID: "1-2-3", ETag: "1"})
	e := Entry{
		ID:        "https://ns/hub/registrations/1-2-3?api-version=2017-04&$top=1",
		Title:     "1-2-3",
		Published: "2018-11-07T00:18:37Z",
		Updated:   "2018-11-07T00:18:38Z",
		SelfLink:  "https://ns/hub/registrations/1-2-3?api-version=2017-04&$top=1",
		ETag:      "1",
		Content:   content,
	}
	want := `<entry a:etag="W/&quot;1&quot;" xmlns="http://www.w3.org/2005/Atom" xmlns:a="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">` +
		`<id>https://ns/hub/registrations/1-2-3?api-version=2017-04&amp;$top=1</id><title type="text">1-2-3</title>` +
		`<published>2018-11-07T00:18:37Z</published><updated>2018-11-07T00:18:38Z</updated>` +
		`<link rel="self" href="https://ns/hub/registrations/1-2-3?api-version=2017-04&amp;$top=1"/>` +
		`<content type="application/xml">` + string(content) + `</content></entry>`
	if got := string(MarshalEntry(e)); got != want {
		t.Errorf("MarshalEntry =\n%s\nwant\n%s", got, want)
	}
	got, err := ParseEntry(MarshalEntry(e))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(e, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	f := Feed{Title: "Registrations", ID: "https://ns/hub/registrations", Updated: "2018-11-07T00:18:38Z",
		SelfLink: "https://ns/hub/registrations", NextLink: "https://ns/hub/registrations?continuationtoken=abc", Entries: []Entry{e, {Title: "job", Content: []byte("<NotificationHubJob/>")}}}
	wantFeed := `<feed xmlns="http://www.w3.org/2005/Atom"><title type="text">Registrations</title><id>https://ns/hub/registrations</id>` +
		`<updated>2018-11-07T00:18:38Z</updated><link rel="self" href="https://ns/hub/registrations"/>` +
		`<link rel="next" href="https://ns/hub/registrations?continuationtoken=abc"/>` +
		`<entry a:etag="W/&quot;1&quot;" xmlns:a="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"><id>`
	gotFeed := string(MarshalFeed(f))
	if !strings.HasPrefix(gotFeed, wantFeed) || !strings.HasSuffix(gotFeed, `<entry><title type="text">job</title><content type="application/xml"><NotificationHubJob/></content></entry></feed>`) {
		t.Errorf("MarshalFeed =\n%s", gotFeed)
	}
	back, err := ParseFeed([]byte(gotFeed))
	if err != nil {
		t.Fatal(err)
	}
	// The job element inherits the Atom default namespace, which it now
	// carries itself.
	f.Entries[1].Content = []byte(`<NotificationHubJob xmlns="http://www.w3.org/2005/Atom"/>`)
	if diff := cmp.Diff(f, back); diff != "" {
		t.Errorf("feed round trip (-want +got):\n%s", diff)
	}
}

func TestMarshalRequestEntry(t *testing.T) {
	got := string(MarshalRequestEntry([]byte("<X/>")))
	want := `<?xml version="1.0" encoding="utf-8"?><entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml"><X/></content></entry>`
	if got != want {
		t.Errorf("MarshalRequestEntry = %s, want %s", got, want)
	}
}

// TestEntryContentNamespaces checks that Content stands alone when the
// description relies on declarations made on its ancestors.
func TestEntryContentNamespaces(t *testing.T) {
	tests := []struct {
		name        string
		body        string
		wantContent string
	}{
		{
			name: "prefixes declared on the entry",
			body: `<a:entry xmlns:a="http://www.w3.org/2005/Atom" xmlns:c="` + NSConnect + `" xmlns:i="` + NSInstance + `" xmlns:x="urn:unused">` +
				`<a:content type="application/xml"><c:AppleTemplateRegistrationDescription><c:DeviceToken>AB</c:DeviceToken>` +
				`<c:BodyTemplate>{}</c:BodyTemplate><c:Expiry i:nil="true"/></c:AppleTemplateRegistrationDescription></a:content></a:entry>`,
			wantContent: `<c:AppleTemplateRegistrationDescription xmlns:c="` + NSConnect + `" xmlns:i="` + NSInstance + `"><c:DeviceToken>AB</c:DeviceToken>` +
				`<c:BodyTemplate>{}</c:BodyTemplate><c:Expiry i:nil="true"/></c:AppleTemplateRegistrationDescription>`,
		},
		{
			name: "default namespace inherited, i:type prefix declared on content",
			body: `<entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml" xmlns:i="` + NSInstance + `" xmlns:d="` + NSConnect + `">` +
				`<RegistrationDescription i:type="d:AppleTemplateRegistrationDescription"><DeviceToken>AB</DeviceToken><BodyTemplate>{}</BodyTemplate></RegistrationDescription></content></entry>`,
			wantContent: `<RegistrationDescription xmlns="http://www.w3.org/2005/Atom" xmlns:d="` + NSConnect + `" xmlns:i="` + NSInstance + `" i:type="d:AppleTemplateRegistrationDescription">` +
				`<DeviceToken>AB</DeviceToken><BodyTemplate>{}</BodyTemplate></RegistrationDescription>`,
		},
	}
	want := Registration{Platform: Apple, Template: true, DeviceToken: "AB", BodyTemplate: "{}"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseEntry([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if string(e.Content) != tt.wantContent {
				t.Errorf("Content =\n%s\nwant\n%s", e.Content, tt.wantContent)
			}
			// Content must parse on its own with its namespaces intact.
			root, _, err := parseTree(e.Content, "test")
			if err != nil {
				t.Fatal(err)
			}
			if root.kids[0].name.Space != root.name.Space || root.name.Space == "" || len(root.name.Space) < 10 {
				t.Errorf("namespaces not resolved standalone: root %v, first child %v", root.name, root.kids[0].name)
			}
			got, err := UnmarshalRegistration(e.Content)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseEntryFeedErrors(t *testing.T) {
	tests := []struct {
		name    string
		parse   func([]byte) error
		body    string
		wantSub string
	}{
		{"entry wrong root", func(b []byte) error { _, err := ParseEntry(b); return err }, `<feed xmlns="http://www.w3.org/2005/Atom"/>`, "root element is <{http://www.w3.org/2005/Atom}feed>"},
		{"entry no namespace", func(b []byte) error { _, err := ParseEntry(b); return err }, `<entry/>`, "want <entry> in namespace"},
		{"entry malformed", func(b []byte) error { _, err := ParseEntry(b); return err }, `<entry xmlns="http://www.w3.org/2005/Atom"><id></entry>`, "parse entry: malformed XML"},
		{"feed wrong root", func(b []byte) error { _, err := ParseFeed(b); return err }, `<entry xmlns="http://www.w3.org/2005/Atom"/>`, "parse feed: root element"},
		{"feed empty", func(b []byte) error { _, err := ParseFeed(b); return err }, "  \n", "parse feed: empty document"},
		{"feed unknown encoding", func(b []byte) error { _, err := ParseFeed(b); return err }, `<?xml version="1.0" encoding="ebcdic"?><feed/>`, "ebcdic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.parse([]byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("error = %v, want one containing %q", err, tt.wantSub)
			}
		})
	}
}

func TestParseEntryFromClients(t *testing.T) {
	// JS: standalone declaration, updated before content; .NET: UTF-8 BOM.
	desc := `<GcmRegistrationDescription xmlns:i="` + NSInstance + `" xmlns="` + NSConnect + `"><GcmRegistrationId>t</GcmRegistrationId></GcmRegistrationDescription>`
	for name, body := range map[string]string{
		"js":     `<?xml version="1.0" encoding="utf-8" standalone="yes"?><entry xmlns="http://www.w3.org/2005/Atom"><updated>2024-01-01T00:00:00.000Z</updated><content type="application/xml">` + desc + `</content></entry>`,
		"dotnet": "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?><entry xmlns=\"http://www.w3.org/2005/Atom\"><content type=\"application/xml\">" + desc + "</content></entry>",
	} {
		t.Run(name, func(t *testing.T) {
			e, err := ParseEntry([]byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if string(e.Content) != desc {
				t.Errorf("Content = %s, want %s", e.Content, desc)
			}
		})
	}
}
