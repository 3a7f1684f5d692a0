package atom

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRecordedReencodeExactly decodes every recorded entry and feed and
// encodes it again: the result must be the service's bytes, including every
// registration description and job inside.
func TestRecordedReencodeExactly(t *testing.T) {
	for _, name := range recordedFiles(t, "entry-") {
		t.Run(name, func(t *testing.T) {
			raw := readRecorded(t, name)
			e, err := ParseEntry(raw)
			if err != nil {
				t.Fatal(err)
			}
			checkContentReencodes(t, e.Content)
			if got := MarshalEntry(e); !bytes.Equal(got, raw) {
				t.Errorf("MarshalEntry(ParseEntry(x)) != x\ngot  %s\nwant %s", got, raw)
			}
		})
	}
	for _, name := range recordedFiles(t, "feed-") {
		t.Run(name, func(t *testing.T) {
			raw := readRecorded(t, name)
			f, err := ParseFeed(raw)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range f.Entries {
				checkContentReencodes(t, e.Content)
			}
			if got := MarshalFeed(f); !bytes.Equal(got, raw) {
				t.Errorf("MarshalFeed(ParseFeed(x)) != x\ngot  %s\nwant %s", got, raw)
			}
		})
	}
}

func checkContentReencodes(t *testing.T, content []byte) {
	t.Helper()
	var got []byte
	if bytes.HasPrefix(content, []byte("<NotificationHubJob")) {
		j, err := ParseJob(content)
		if err != nil {
			t.Fatal(err)
		}
		got = MarshalJob(j)
	} else {
		r, err := UnmarshalRegistration(content)
		if err != nil {
			t.Fatal(err)
		}
		if got, err = MarshalRegistration(r); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, content) {
		t.Errorf("re-encoded content differs\ngot  %s\nwant %s", got, content)
	}
}

const (
	recNS    = "https://sdk-sample-namespace.servicebus.windows.net/sdk-sample-nh"
	recToken = "62BCD3484834B7E2DC56733AC5509259230CC1BA82BA1AE7D06E91908A05A8FA"
)

func TestRecordedEntries(t *testing.T) {
	tests := []struct {
		file      string
		wantEntry Entry // Content left out
		want      Registration
	}{
		{
			file: "entry-apple-template.xml",
			wantEntry: Entry{
				ID:        recNS + "/registrations/4497227228776861650-7267172778370643468-3?api-version=2017-04",
				Title:     "4497227228776861650-7267172778370643468-3",
				Published: "2018-11-07T00:18:37Z",
				Updated:   "2018-11-07T00:18:37Z",
				SelfLink:  recNS + "/registrations/4497227228776861650-7267172778370643468-3?api-version=2017-04",
				ETag:      "1",
			},
			want: Registration{
				Platform: Apple, Template: true, ETag: "1", ExpirationTime: "9999-12-31T23:59:59.999",
				RegistrationID: "4497227228776861650-7267172778370643468-3", Tags: []string{"tag1"},
				PushVariables: map[string]string{"var1": "value1"}, DeviceToken: recToken,
				BodyTemplate: `{"aps":{"alert":"alert!"}}`, TemplateName: "Template Name",
			},
		},
		{
			file: "entry-windows-template.xml",
			want: Registration{
				Platform: Windows, Template: true, ETag: "1", ExpirationTime: "9999-12-31T23:59:59.999",
				Tags: []string{"tag1"}, PushVariables: map[string]string{"var1": "value1"},
				ChannelURI: "https://some.url/", SecondaryTileName: "Tile name",
				BodyTemplate: `<toast><visual><binding template="ToastText01"><text id="1">bodyText</text></binding>  </visual></toast>`,
				WnsHeaders:   []Header{{"X-WNS-Type", "wns/toast"}}, TemplateName: "Template Name",
			},
		},
		{
			file: "entry-mpns-template.xml",
			want: Registration{
				Platform: Mpns, Template: true, ETag: "1", ExpirationTime: "9999-12-31T23:59:59.999",
				Tags: []string{"tag1"}, PushVariables: map[string]string{"var1": "value1"},
				ChannelURI: "https://some.url/", SecondaryTileName: "Tile name",
				BodyTemplate: `<wp:Notification xmlns:wp="WPNotification" Version="2.0"><wp:Tile Id="TileId" Template="IconicTile"><wp:Title Action="Clear">Title</wp:Title></wp:Tile></wp:Notification>`,
				MpnsHeaders:  []Header{{"X-NotificationClass", "1"}, {"X-WindowsPhone-Target", "token"}}, TemplateName: "Template Name",
			},
		},
		{
			file: "entry-baidu-native.xml",
			want: Registration{
				Platform: Baidu, ETag: "1", ExpirationTime: "9999-12-31T23:59:59.999",
				RegistrationID: "7728566708160304420-1554751136163411166-1", Tags: []string{"tag1"},
				PushVariables: map[string]string{"var1": "value1"}, BaiduUserID: "userId", BaiduChannelID: "channelId",
			},
		},
		{
			file: "entry-fcm-as-gcm-template.xml",
			want: Registration{
				Platform: Gcm, Template: true, ETag: "1", ExpirationTime: "9999-12-31T23:59:59.999",
				GcmRegistrationID: "amzn1.adm-registration.v2.123",
				BodyTemplate:      `{"data":{"message":"Message"}}`, TemplateName: "Template Name",
			},
		},
		{
			file: "entry-apple-custom-id.xml",
			wantEntry: Entry{
				ID:        recNS + "/registrations/123-234-1?api-version=2017-04",
				Title:     "123-234-1",
				Published: "2018-11-07T00:18:34Z",
				Updated:   "2018-11-07T00:18:34Z",
				SelfLink:  recNS + "/registrations/123-234-1?api-version=2017-04",
				ETag:      "1",
			},
			want: Registration{Platform: Apple, ETag: "1", ExpirationTime: "9999-12-31T23:59:59.999", RegistrationID: "123-234-1", DeviceToken: recToken},
		},
		{
			file: "entry-apple-updated.xml",
			want: Registration{
				Platform: Apple, ETag: "2", ExpirationTime: "9999-12-31T23:59:59.999",
				RegistrationID: "5267365982808935704-4914086341193203009-2", Tags: []string{"tag1"}, DeviceToken: recToken,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			e, err := ParseEntry(readRecorded(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := UnmarshalRegistration(e.Content)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			if want.RegistrationID == "" {
				want.RegistrationID = got.RegistrationID
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("registration (-want +got):\n%s", diff)
			}
			if e.ETag != got.ETag {
				t.Errorf("entry ETag %q, description ETag %q", e.ETag, got.ETag)
			}
			if e.Title != got.RegistrationID {
				t.Errorf("entry title %q, registration id %q", e.Title, got.RegistrationID)
			}
			if tt.wantEntry.ID != "" {
				e.Content = nil
				if diff := cmp.Diff(tt.wantEntry, e); diff != "" {
					t.Errorf("entry (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestRecordedFeeds(t *testing.T) {
	t.Run("continuation", func(t *testing.T) {
		f, err := ParseFeed(readRecorded(t, "feed-page1-next.xml"))
		if err != nil {
			t.Fatal(err)
		}
		wantNext := recNS + "/registrations?api-version=2017-04&%24top=2&continuationtoken=MzEobik7Mg%253D%253D"
		if f.NextLink != wantNext {
			t.Errorf("NextLink = %q, want %q", f.NextLink, wantNext)
		}
		if want := recNS + "/registrations?api-version=2017-04&$top=2"; f.SelfLink != want || f.ID != want {
			t.Errorf("SelfLink, ID = %q, %q; want %q", f.SelfLink, f.ID, want)
		}
		if f.Title != "Registrations" || f.Updated != "2018-11-07T00:18:38Z" {
			t.Errorf("Title, Updated = %q, %q", f.Title, f.Updated)
		}
		var ids []string
		for _, e := range f.Entries {
			ids = append(ids, e.Title)
		}
		if diff := cmp.Diff([]string{"5338658925190566729-3584145164946923081-1", "5645581655424771962-133652254487445652-1"}, ids); diff != "" {
			t.Errorf("entry titles (-want +got):\n%s", diff)
		}
		f2, err := ParseFeed(readRecorded(t, "feed-page2.xml"))
		if err != nil {
			t.Fatal(err)
		}
		if f2.NextLink != "" || len(f2.Entries) != 1 {
			t.Errorf("last page: NextLink %q, %d entries; want none and 1", f2.NextLink, len(f2.Entries))
		}
	})
	t.Run("empty", func(t *testing.T) {
		f, err := ParseFeed(readRecorded(t, "feed-empty.xml"))
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Entries) != 0 || f.Title != "Registrations" {
			t.Errorf("got %d entries, title %q", len(f.Entries), f.Title)
		}
	})
	t.Run("installations", func(t *testing.T) {
		f, err := ParseFeed(readRecorded(t, "feed-installations.xml"))
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]Registration{}
		for _, e := range f.Entries {
			r, err := UnmarshalRegistration(e.Content)
			if err != nil {
				t.Fatal(err)
			}
			if e.ETag != r.ETag {
				t.Errorf("%s: entry ETag %q, description %q", e.Title, e.ETag, r.ETag)
			}
			kinds[r.ElementName()] = r
		}
		at, ok := kinds["AppleTemplateRegistrationDescription"]
		if !ok {
			t.Fatalf("no AppleTemplateRegistrationDescription among %d entries", len(f.Entries))
		}
		wantTags := []string{"$InstallationId:{95e4cf2e-685f-4141-98e2-4c5f71d1a696}", "tag1", "Template Name"}
		if diff := cmp.Diff(wantTags, at.Tags); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}
		if at.Expiry != "2018-11-07T16:18:32.6641371-08:00" || at.ExpirationTime != "9999-12-31T23:59:59.9999999Z" || at.ApnsHeaders != nil {
			t.Errorf("Expiry %q, ExpirationTime %q, ApnsHeaders %v", at.Expiry, at.ExpirationTime, at.ApnsHeaders)
		}
	})
	t.Run("by tag", func(t *testing.T) {
		f, err := ParseFeed(readRecorded(t, "feed-by-tag.xml"))
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Entries) != 2 {
			t.Fatalf("%d entries, want 2", len(f.Entries))
		}
		for _, e := range f.Entries {
			if !strings.Contains(e.ID, "/tags/tag1/registrations/"+e.Title+"?") || e.SelfLink != e.ID {
				t.Errorf("entry id %q, self %q", e.ID, e.SelfLink)
			}
		}
	})
}

func TestRecordedJobs(t *testing.T) {
	const id = "2518085877924241193a972e50a-f767-43f5-9389-22c9956daafa"
	want := Job{
		JobID:              id,
		Type:               "ImportCreateRegistrations",
		Status:             "Started",
		OutputContainerURI: "https://nhsdke2etest.blob.core.windows.net/testimportbulk?sv=2019-02-02&sr=c&sig=REDACTED&se=2020-07-02T22%3A03%3A24Z&sp=rwl",
		ImportFileURI:      "https://nhsdke2etest.blob.core.windows.net/testimportbulk/ImportRegistrations.txt?sv=2019-02-02&sr=b&sig=REDACTED&se=2020-07-02T22%3A03%3A24Z&sp=rcw",
		CreatedAt:          "2020-07-02T18:03:28.2009314Z",
		UpdatedAt:          "2020-07-02T18:03:28.2009314Z",
	}
	for _, name := range []string{"entry-job-submit.xml", "entry-job-get.xml"} {
		t.Run(name, func(t *testing.T) {
			e, err := ParseEntry(readRecorded(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if e.ETag != "" || e.Title != id {
				t.Errorf("ETag %q, Title %q", e.ETag, e.Title)
			}
			j, err := ParseJob(e.Content)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, j); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecordedErrors(t *testing.T) {
	tests := []struct {
		file string
		want ErrorBody
	}{
		{"error-404-installation.xml", ErrorBody{404, "Installation not found.TrackingId:cc8c4f9b-fd82-4cfa-8f99-7a089eb4cd69_G3,TimeStamp:11/7/2018 12:18:37 AM"}},
		{"error-404-registration.xml", ErrorBody{404, ".TrackingId:3cea7cfd-f90c-4063-bf3f-2feb286f60ea_G7,TimeStamp:11/7/2018 12:18:23 AM"}},
		{"error-401-signature.xml", ErrorBody{401, "InvalidSignature: The token has an invalid signature..TrackingId:7f195ef5-b950-46ab-bdaa-e07cd5a203cf_G19,TimeStamp:7/2/2020 6:33:21 PM"}},
		{"error-401-manage-claim.xml", ErrorBody{401, "Manage claim is required for this operation..TrackingId:30508cfa-66d6-4228-86c6-d9e7c7226beb_G19,TimeStamp:7/2/2020 6:33:23 PM"}},
		{"error-409-conflict.xml", ErrorBody{409, "SubCode=40900. Conflict.TrackingId:7689b673-315e-47b5-98d0-bb09da3a19b7_G21,TimeStamp:7/2/2020 6:03:12 PM"}},
		{"error-404-no-service.xml", ErrorBody{404, "No service is hosted at the specified address..TrackingId:3ef5df25-6ed7-421f-a6d9-ff66605af1c3_G21,TimeStamp:7/2/2020 6:03:16 PM"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw := readRecorded(t, tt.file)
			got, err := ParseError(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParseError = %+v, want %+v", got, tt.want)
			}
			if enc := MarshalError(got); !bytes.Equal(enc, raw) {
				t.Errorf("MarshalError = %s, want %s", enc, raw)
			}
		})
	}
}
