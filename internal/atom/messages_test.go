package atom

import (
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
)

func TestOutcome(t *testing.T) {
	tests := []struct {
		name string
		body string
		want Outcome
		enc  string // expected MarshalOutcome of want
	}{
		{
			name: "sample",
			body: outcomeSample,
			want: Outcome{Success: 1, Results: []RegistrationResult{{
				ApplicationPlatform: "apple", PnsHandle: "7603CF2F0786", RegistrationID: "282625459606590828-2679902039720441464-3",
				Outcome: "The Notification was successfully sent to the Push Notification System",
			}}},
			enc: `<NotificationOutcome xmlns="` + NSConnect + `" xmlns:i="` + NSInstance + `"><Success>1</Success><Failure>0</Failure>` +
				`<Results><RegistrationResult><ApplicationPlatform>apple</ApplicationPlatform><PnsHandle>7603CF2F0786</PnsHandle>` +
				`<RegistrationId>282625459606590828-2679902039720441464-3</RegistrationId>` +
				`<Outcome>The Notification was successfully sent to the Push Notification System</Outcome></RegistrationResult></Results></NotificationOutcome>`,
		},
		{
			name: "no targets",
			body: `<NotificationOutcome xmlns="` + NSConnect + `" xmlns:i="` + NSInstance + `"><Success>0</Success><Failure>0</Failure><Results i:nil="true"/></NotificationOutcome>`,
			want: Outcome{},
			enc:  `<NotificationOutcome xmlns="` + NSConnect + `" xmlns:i="` + NSInstance + `"><Success>0</Success><Failure>0</Failure><Results i:nil="true"/></NotificationOutcome>`,
		},
		{
			name: "empty results",
			body: `<NotificationOutcome><Success>0</Success><Failure>2</Failure><Results/></NotificationOutcome>`,
			want: Outcome{Failure: 2, Results: []RegistrationResult{}},
			enc:  `<NotificationOutcome xmlns="` + NSConnect + `" xmlns:i="` + NSInstance + `"><Success>0</Success><Failure>2</Failure><Results/></NotificationOutcome>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOutcome([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseOutcome (-want +got):\n%s", diff)
			}
			enc := string(MarshalOutcome(tt.want))
			if enc != tt.enc {
				t.Errorf("MarshalOutcome =\n%s\nwant\n%s", enc, tt.enc)
			}
			back, err := ParseOutcome([]byte(enc))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, back); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
	for body, wantSub := range map[string]string{
		`<NotificationOutcome><Success>x</Success></NotificationOutcome>`: `<Success> is "x", not an integer`,
		`<Outcome/>`: "root element is <Outcome>",
	} {
		if _, err := ParseOutcome([]byte(body)); err == nil || !strings.Contains(err.Error(), wantSub) {
			t.Errorf("ParseOutcome(%s) error = %v, want %q", body, err, wantSub)
		}
	}
}

func TestNotificationDetails(t *testing.T) {
	// The §8.1 sample, with the newer count elements.
	body := `<NotificationDetails xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
  <NotificationId>id1</NotificationId>
  <Location>sb://ns.servicebus.windows.net/hub/messages/id1?api-version=2015-04</Location>
  <State>Completed</State>
  <EnqueueTime>2015-11-02T21:19:43Z</EnqueueTime>
  <StartTime>2015-11-02T21:19:43.9926996Z</StartTime>
  <EndTime>2015-11-02T21:19:43.9926996Z</EndTime>
  <NotificationBody>&lt;?xml version="1.0" encoding="utf-16"?&gt;&lt;toast&gt;&lt;/toast&gt;</NotificationBody>
  <Tags>a,b</Tags>
  <TargetPlatforms>windows</TargetPlatforms>
  <MpnsOutcomeCounts/><WnsOutcomeCounts><Outcome><Name>Success</Name><Count>3</Count></Outcome><Outcome><Name>WrongToken</Name><Count>1</Count></Outcome></WnsOutcomeCounts>
  <PnsErrorDetailsUri>https://blob/x?sig=s&amp;se=1</PnsErrorDetailsUri>
  <FcmV1OutcomeCounts i:nil="true"/>
</NotificationDetails>`
	want := NotificationDetails{
		NotificationID:   "id1",
		Location:         "sb://ns.servicebus.windows.net/hub/messages/id1?api-version=2015-04",
		State:            "Completed",
		EnqueueTime:      "2015-11-02T21:19:43Z",
		StartTime:        "2015-11-02T21:19:43.9926996Z",
		EndTime:          "2015-11-02T21:19:43.9926996Z",
		NotificationBody: `<?xml version="1.0" encoding="utf-16"?><toast></toast>`,
		Tags:             "a,b",
		TargetPlatforms:  "windows",
		Counts: []PlatformCounts{
			{Element: "MpnsOutcomeCounts"},
			{Element: "WnsOutcomeCounts", Counts: []OutcomeCount{{"Success", 3}, {"WrongToken", 1}}},
			{Element: "FcmV1OutcomeCounts"},
		},
		PnsErrorDetailsURI: "https://blob/x?sig=s&se=1",
	}
	got, err := ParseNotificationDetails([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	enc := string(MarshalNotificationDetails(want))
	wantTail := `<TargetPlatforms>windows</TargetPlatforms><MpnsOutcomeCounts/><WnsOutcomeCounts><Outcome><Name>Success</Name><Count>3</Count></Outcome>` +
		`<Outcome><Name>WrongToken</Name><Count>1</Count></Outcome></WnsOutcomeCounts>` +
		`<PnsErrorDetailsUri>https://blob/x?sig=s&amp;se=1</PnsErrorDetailsUri><FcmV1OutcomeCounts/></NotificationDetails>`
	if !strings.HasSuffix(enc, wantTail) {
		t.Errorf("MarshalNotificationDetails =\n%s\nwant suffix\n%s", enc, wantTail)
	}
	back, err := ParseNotificationDetails([]byte(enc))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if _, err := ParseNotificationDetails([]byte(`<NotificationDetails><ApnsOutcomeCounts><Outcome><Count>z</Count></Outcome></ApnsOutcomeCounts></NotificationDetails>`)); err == nil || !strings.Contains(err.Error(), "ApnsOutcomeCounts") {
		t.Errorf("bad count error = %v, want one naming ApnsOutcomeCounts", err)
	}
}

func TestJob(t *testing.T) {
	j := Job{
		JobID:              "job1",
		Progress:           "100.00",
		Type:               "ExportRegistrations",
		Status:             "Completed",
		OutputContainerURI: "https://acct.blob.core.windows.net/c?sv=1&sp=rwl",
		InputProperties:    map[string]string{"k": "v"},
		Failure:            "none",
		OutputProperties:   map[string]string{"OutputFilePath": "ns//hub/job1/Output.txt", "FailedFilePath": "ns//hub/job1/Failed.txt"},
		CreatedAt:          "2020-07-02T18:03:28.2009314Z",
		UpdatedAt:          "2020-07-02T18:04:28Z",
	}
	want := `<NotificationHubJob xmlns="` + NSConnect + `" xmlns:i="` + NSInstance + `"><JobId>job1</JobId><Progress>100.00</Progress>` +
		`<Type>ExportRegistrations</Type><Status>Completed</Status><OutputContainerUri>https://acct.blob.core.windows.net/c?sv=1&amp;sp=rwl</OutputContainerUri>` +
		`<InputProperties xmlns:d3p1="` + NSArrays + `"><d3p1:KeyValueOfstringstring><d3p1:Key>k</d3p1:Key><d3p1:Value>v</d3p1:Value></d3p1:KeyValueOfstringstring></InputProperties>` +
		`<Failure>none</Failure><OutputProperties xmlns:d3p1="` + NSArrays + `">` +
		`<d3p1:KeyValueOfstringstring><d3p1:Key>FailedFilePath</d3p1:Key><d3p1:Value>ns//hub/job1/Failed.txt</d3p1:Value></d3p1:KeyValueOfstringstring>` +
		`<d3p1:KeyValueOfstringstring><d3p1:Key>OutputFilePath</d3p1:Key><d3p1:Value>ns//hub/job1/Output.txt</d3p1:Value></d3p1:KeyValueOfstringstring>` +
		`</OutputProperties><CreatedAt>2020-07-02T18:03:28.2009314Z</CreatedAt><UpdatedAt>2020-07-02T18:04:28Z</UpdatedAt></NotificationHubJob>`
	if got := string(MarshalJob(j)); got != want {
		t.Errorf("MarshalJob =\n%s\nwant\n%s", got, want)
	}
	back, err := ParseJob([]byte(want))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(j, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	// A submit request as JS sends it: CDATA URIs, no Status.
	submit := `<NotificationHubJob xmlns:i="` + NSInstance + `" xmlns="` + NSConnect + `"><Type>ImportCreateRegistrations</Type>` +
		`<OutputContainerUri><![CDATA[https://a/c?sv=1&sp=rwl]]></OutputContainerUri><ImportFileUri><![CDATA[https://a/c/f.txt?sp=r]]></ImportFileUri></NotificationHubJob>`
	got, err := ParseJob([]byte(submit))
	if err != nil {
		t.Fatal(err)
	}
	wantJob := Job{Type: "ImportCreateRegistrations", Status: "Started", OutputContainerURI: "https://a/c?sv=1&sp=rwl", ImportFileURI: "https://a/c/f.txt?sp=r"}
	if diff := cmp.Diff(wantJob, got); diff != "" {
		t.Errorf("submit (-want +got):\n%s", diff)
	}
	if enc := string(MarshalJob(got)); strings.Contains(enc, "<Status>") {
		t.Errorf("MarshalJob wrote Status for Started: %s", enc)
	}
}

func TestPnsFeedback(t *testing.T) {
	doc := `<?xml version="1.0" encoding="utf-16"?>
<PnsFeedback xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect">
  <FeedbackTime>2016-07-27T20:47:10.8905532Z</FeedbackTime>
  <NotificationSystemError>ExpiredChannel</NotificationSystemError>
  <Platform>windows</Platform>
  <PnsHandle>https://db5.notify.windows.com/?token=a&amp;b</PnsHandle>
  <RegistrationId>reg1</RegistrationId>
  <NotificationId>215e3aba-20160727204710-2001061088-1</NotificationId>
  <NewPnsHandle>new</NewPnsHandle>
</PnsFeedback>`
	want := PnsFeedback{
		FeedbackTime: "2016-07-27T20:47:10.8905532Z", NotificationSystemError: "ExpiredChannel", Platform: "windows",
		PnsHandle: "https://db5.notify.windows.com/?token=a&b", RegistrationID: "reg1",
		NotificationID: "215e3aba-20160727204710-2001061088-1", NewPnsHandle: "new",
	}
	u := utf16.Encode([]rune(doc))
	utf16le := []byte{0xFF, 0xFE}
	for _, c := range u {
		utf16le = append(utf16le, byte(c), byte(c>>8))
	}
	for name, body := range map[string][]byte{"utf-8 bytes": []byte(doc), "utf-16 bytes": utf16le} {
		t.Run(name, func(t *testing.T) {
			got, err := ParsePnsFeedback(body)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	enc := MarshalPnsFeedback(want)
	if !strings.HasPrefix(string(enc), `<PnsFeedback xmlns:i="`+NSInstance+`" xmlns="`+NSConnect+`"><FeedbackTime>`) || strings.Contains(string(enc), "InstallationId") {
		t.Errorf("MarshalPnsFeedback = %s", enc)
	}
	back, err := ParsePnsFeedback(enc)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestErrorBody(t *testing.T) {
	e := ErrorBody{Code: 400, Detail: "An invalid tag(s) 'a<b' was supplied.TrackingId:x,TimeStamp:1/1/2024 1:00:00 AM"}
	want := `<Error><Code>400</Code><Detail>An invalid tag(s) 'a&lt;b' was supplied.TrackingId:x,TimeStamp:1/1/2024 1:00:00 AM</Detail></Error>`
	if got := string(MarshalError(e)); got != want {
		t.Errorf("MarshalError = %s, want %s", got, want)
	}
	for body, wantSub := range map[string]string{
		`<Error><Code>four</Code></Error>`: `<Code> is "four"`,
		`<Fault/>`:                         "root element is <Fault>",
		`<Error>`:                          "malformed XML",
	} {
		if _, err := ParseError([]byte(body)); err == nil || !strings.Contains(err.Error(), wantSub) {
			t.Errorf("ParseError(%s) error = %v, want %q", body, err, wantSub)
		}
	}
}
