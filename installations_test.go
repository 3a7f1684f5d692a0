package notificationhubs

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var rpNever = time.Date(9999, 12, 31, 23, 59, 59, 999999900, time.UTC)

// rpInstallationID returns the installation id in the recording's paths.
func rpInstallationID(calls []recordedCall) string {
	re := regexp.MustCompile(`/installations/([^?]+)`)
	for _, c := range calls {
		if m := re.FindStringSubmatch(c.RequestURIPath); m != nil {
			return m[1]
		}
	}
	return ""
}

// rpJSONEqual compares two JSON texts as values.
func rpJSONEqual(t *testing.T, what string, want string, got []byte) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: want: %v", what, err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: got %s: %v", what, got, err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// TestRecordedCreateOrUpdateInstallation replays the .NET installation
// tests: PUT the installation, read it back, and compare with the
// service's JSON decoded into the model.
func TestRecordedCreateOrUpdateInstallation(t *testing.T) {
	tests := []struct {
		name     string
		send     func(id string) Installation
		wantBody string // JSON sent, with ID for the id
		want     func(id string) Installation
	}{
		{
			name: "CreateOrUpdateInstallationAsync_CreateInstallationWithExpiryInTemplate_GetCreatedInstallationWithExpiryInTemplateBack",
			send: func(id string) Installation {
				return Installation{InstallationID: id, Platform: InstallationPlatformApns, PushChannel: recordedAppleToken,
					PushVariables: map[string]string{"var1": "value1"}, Tags: []string{"tag1"},
					Templates: map[string]InstallationTemplate{"Template Name": {Body: `{"aps":{"alert":"alert!"}}`, Expiry: "2018-11-07T16:18:32.6641371-08:00"}}}
			},
			wantBody: `{"installationId":"ID","pushChannel":"` + recordedAppleToken + `","platform":"apns","tags":["tag1"],"pushVariables":{"var1":"value1"},
				"templates":{"Template Name":{"body":"{\"aps\":{\"alert\":\"alert!\"}}","expiry":"2018-11-07T16:18:32.6641371-08:00"}}}`,
			want: func(id string) Installation {
				return Installation{InstallationID: id, Platform: InstallationPlatformApns, PushChannel: recordedAppleToken, ExpirationTime: rpNever,
					PushVariables: map[string]string{"var1": "value1"}, Tags: []string{"tag1"},
					Templates: map[string]InstallationTemplate{"Template Name": {Body: `{"aps":{"alert":"alert!"}}`, Expiry: "2018-11-07T16:18:32.6641371-08:00", Tags: []string{"Template Name"}}}}
			},
		},
		{
			name: "CreateOrUpdateInstallationAsync_CreateInstallationWithHeadersInTemplate_GetCreatedInstallationWithHeadersInTemplateBack",
			send: func(id string) Installation {
				return Installation{InstallationID: id, Platform: InstallationPlatformWns, PushChannel: recordedChannelURI,
					Templates: map[string]InstallationTemplate{"Template Name": {Body: `{"aps":{"alert":"alert!"}}`, Headers: map[string]string{"X-WNS-Type": "wns/toast"}}}}
			},
			wantBody: `{"installationId":"ID","pushChannel":"https://some.url/","platform":"wns",
				"templates":{"Template Name":{"body":"{\"aps\":{\"alert\":\"alert!\"}}","headers":{"X-WNS-Type":"wns/toast"}}}}`,
			want: func(id string) Installation {
				return Installation{InstallationID: id, Platform: InstallationPlatformWns, PushChannel: recordedChannelURI, ExpirationTime: rpNever,
					Templates: map[string]InstallationTemplate{"Template Name": {Body: `{"aps":{"alert":"alert!"}}`, Headers: map[string]string{"X-WNS-Type": "wns/toast"}, Tags: []string{"Template Name"}}}}
			},
		},
		{
			name: "CreateOrUpdateInstallationAsync_CreateInstallationWithUserId_GetCreatedInstallationWithUserIdBack",
			send: func(id string) Installation {
				return Installation{InstallationID: id, UserID: "d798d460-79d2-449a-b2fc-fa5bf4090f38", Platform: InstallationPlatformApns, PushChannel: recordedAppleToken}
			},
			wantBody: `{"installationId":"ID","pushChannel":"` + recordedAppleToken + `","platform":"apns","userId":"d798d460-79d2-449a-b2fc-fa5bf4090f38"}`,
			want: func(id string) Installation {
				return Installation{InstallationID: id, UserID: "d798d460-79d2-449a-b2fc-fa5bf4090f38", Platform: InstallationPlatformApns, PushChannel: recordedAppleToken, ExpirationTime: rpNever}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s, calls := replayRecording(t, tt.name, 0)
			id := rpInstallationID(calls)
			deleteAllRegistrations(t, c)
			ctx := context.Background()
			if _, err := c.CreateOrUpdateInstallation(ctx, tt.send(id), nil); err != nil {
				t.Fatal(err)
			}
			got, err := c.GetInstallation(ctx, id, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkReplayedMethods(t, s, calls, true, "PUT", "GET")
			reqs := s.requests()
			put := reqs[len(reqs)-2]
			if ct := put.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			rpJSONEqual(t, "PUT body", strings.ReplaceAll(tt.wantBody, `"ID"`, `"`+id+`"`), put.Body)
			if diff := cmp.Diff(tt.want(id), got.Installation); diff != "" {
				t.Errorf("read back (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRecordedPatchInstallation sends the recorded tests' JSON Patch
// operations, built with the SDK's constructors, and checks the exact
// body and the installation read back.
func TestRecordedPatchInstallation(t *testing.T) {
	tests := []struct {
		name      string
		userID    string
		patch     func(final Installation) InstallationPatch
		wantPatch string
		check     func(Installation) bool
	}{
		{
			name:      "PatchInstallationAsync_CreateInstallationWithoutTagsAndAddTagThroughPatch_GetInstallationWithAddedTagBack",
			patch:     func(Installation) InstallationPatch { return AddTag("tag1") },
			wantPatch: `[{"op":"add","path":"/tags","value":"tag1"}]`,
			check:     func(in Installation) bool { return cmp.Equal(in.Tags, []string{"tag1"}) },
		},
		{
			name:      "PatchInstallationAsync_CreateInstallationWithoutUserIdAndAddUserIdThroughPatch_GetInstallationWithAddedUserIdBack",
			patch:     func(f Installation) InstallationPatch { return AddUserID(f.UserID) },
			wantPatch: `[{"op":"add","path":"/userId","value":"ab25de9f-fcf7-49db-a527-28f797b148b6"}]`,
			check:     func(in Installation) bool { return in.UserID == "ab25de9f-fcf7-49db-a527-28f797b148b6" },
		},
		{
			name:      "PatchInstallationAsync_CreateInstallationWithUserIdAndUpdateUserIdThroughPatch_GetInstallationWithUpdatedUserIdBack",
			userID:    "first-user",
			patch:     func(f Installation) InstallationPatch { return ReplaceUserID(f.UserID) },
			wantPatch: `[{"op":"replace","path":"/userId","value":"5812c2fb-756d-41d0-acde-0cdb3ca5e511"}]`,
			check:     func(in Installation) bool { return in.UserID == "5812c2fb-756d-41d0-acde-0cdb3ca5e511" },
		},
		{
			name:      "PatchInstallationAsync_CreateInstallationWithUserIdAndRemoveUserIdThroughPatch_GetInstallationWithoutUserIdBack",
			userID:    "first-user",
			patch:     func(Installation) InstallationPatch { return RemoveUserID() },
			wantPatch: `[{"op":"remove","path":"/userId"}]`,
			check:     func(in Installation) bool { return in.UserID == "" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s, calls := replayRecording(t, tt.name, 0)
			id := rpInstallationID(calls)
			var final Installation
			if err := json.Unmarshal([]byte(calls[len(calls)-1].body()), &final); err != nil {
				t.Fatal(err)
			}
			deleteAllRegistrations(t, c)
			ctx := context.Background()
			in := Installation{InstallationID: id, Platform: InstallationPlatformApns, PushChannel: recordedAppleToken, UserID: tt.userID}
			if _, err := c.CreateOrUpdateInstallation(ctx, in, nil); err != nil {
				t.Fatal(err)
			}
			p := tt.patch(final)
			if _, err := c.PatchInstallation(ctx, id, []InstallationPatch{p}, nil); err != nil {
				t.Fatal(err)
			}
			got, err := c.GetInstallation(ctx, id, nil)
			if err != nil {
				t.Fatal(err)
			}
			checkReplayedMethods(t, s, calls, true, "PUT", "PATCH", "GET")
			reqs := s.requests()
			patchReq := reqs[len(reqs)-2]
			if string(patchReq.Body) != tt.wantPatch {
				t.Errorf("PATCH body = %s, want %s", patchReq.Body, tt.wantPatch)
			}
			if ct := patchReq.Header.Get("Content-Type"); ct != "application/json-patch+json" {
				t.Errorf("PATCH Content-Type = %q", ct)
			}
			if !tt.check(got.Installation) || !p.visibleIn(got.Installation) {
				t.Errorf("read back %+v does not show the patch", got.Installation)
			}
			if got.ExpirationTime != rpNever || got.PushChannelExpired {
				t.Errorf("read-only fields: %v %v", got.ExpirationTime, got.PushChannelExpired)
			}
		})
	}
}

func TestRecordedDeleteInstallation(t *testing.T) {
	c, s, calls := replayRecording(t, "DeleteInstallationAsync_CreateAndDeleteInstallation_InstallationIsDeleted", 0)
	id := rpInstallationID(calls)
	deleteAllRegistrations(t, c)
	ctx := context.Background()
	if _, err := c.CreateOrUpdateInstallation(ctx, Installation{InstallationID: id, Platform: InstallationPlatformApns, PushChannel: recordedAppleToken}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetInstallation(ctx, id, nil)
	if err != nil || got.InstallationID != id {
		t.Fatalf("GetInstallation = %+v, %v", got, err)
	}
	if _, err := c.DeleteInstallation(ctx, id, nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetInstallation(ctx, id, nil)
	var re *ResponseError
	if !errors.As(err, &re) || !errors.Is(err, ErrNotFound) || re.TrackingID != "cc8c4f9b-fd82-4cfa-8f99-7a089eb4cd69_G3" || !strings.HasPrefix(re.Detail, "Installation not found.") {
		t.Errorf("GetInstallation after delete: %#v", err)
	}
	checkReplayedMethods(t, s, calls, true, "PUT", "GET", "DELETE", "GET")
}

func TestRecordedInstallationExists(t *testing.T) {
	c, s, calls := replayRecording(t, "InstallationExists_ChecksInstallation", 0)
	id := rpInstallationID(calls)
	deleteAllRegistrations(t, c)
	ctx := context.Background()
	if _, err := c.CreateOrUpdateInstallation(ctx, Installation{InstallationID: id, Platform: InstallationPlatformApns, PushChannel: recordedAppleToken}, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := c.InstallationExists(ctx, id, nil); err != nil || !got.Exists {
		t.Errorf("before delete: %v, %v", got.Exists, err)
	}
	if _, err := c.DeleteInstallation(ctx, id, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := c.InstallationExists(ctx, id, nil); err != nil || got.Exists {
		t.Errorf("after delete: %v, %v", got.Exists, err)
	}
	checkReplayedMethods(t, s, calls, true, "PUT", "GET", "DELETE", "GET")
}

func TestInstallationPatchConstructors(t *testing.T) {
	tests := []struct {
		p    InstallationPatch
		want string
	}{
		{AddTag("a:b"), `{"op":"add","path":"/tags","value":"a:b"}`},
		{AddTags("a", "b"), `{"op":"add","path":"/tags","value":"[\"a\",\"b\"]"}`},
		{RemoveTag("x/y~z"), `{"op":"remove","path":"/tags/x~1y~0z"}`},
		{ReplaceTags("a"), `{"op":"replace","path":"/tags","value":"[\"a\"]"}`},
		{AddUserID("u"), `{"op":"add","path":"/userId","value":"u"}`},
		{ReplaceUserID("u"), `{"op":"replace","path":"/userId","value":"u"}`},
		{RemoveUserID(), `{"op":"remove","path":"/userId"}`},
		{ReplacePushChannel("tok"), `{"op":"replace","path":"/pushChannel","value":"tok"}`},
		{ReplaceBrowserPushChannel(BrowserPushChannel{"https://e", "p", "a"}), `{"op":"replace","path":"/pushChannel","value":"{\"endpoint\":\"https://e\",\"p256dh\":\"p\",\"auth\":\"a\"}"}`},
		{AddTemplate("T 1", InstallationTemplate{Body: `{"a":"$(b)"}`, Tags: []string{"t"}}), `{"op":"add","path":"/templates/T 1","value":"{\"body\":\"{\\\"a\\\":\\\"$(b)\\\"}\",\"tags\":[\"t\"]}"}`},
		{ReplaceTemplate("n", InstallationTemplate{Body: "b", Expiry: "0"}), `{"op":"replace","path":"/templates/n","value":"{\"body\":\"b\",\"expiry\":\"0\"}"}`},
		{RemoveTemplate("n"), `{"op":"remove","path":"/templates/n"}`},
		{ReplaceTemplateBody("n", "b"), `{"op":"replace","path":"/templates/n/body","value":"b"}`},
		{AddTemplateTag("n", "t"), `{"op":"add","path":"/templates/n/tags","value":"t"}`},
		{RemoveTemplateTag("n", "t"), `{"op":"remove","path":"/templates/n/tags/t"}`},
	}
	for _, tt := range tests {
		got, err := json.Marshal(tt.p)
		if err != nil || string(got) != tt.want {
			t.Errorf("got %s, %v\nwant %s", got, err, tt.want)
		}
		if err := tt.p.validate(); err != nil {
			t.Errorf("%s: %v", tt.want, err)
		}
	}
	for _, bad := range []InstallationPatch{
		{Op: "move", Path: "/tags"},
		{Op: PatchOpAdd, Path: "/tags"},
		{Op: PatchOpRemove, Path: "tags"},
		AddTag("bad tag!"),
	} {
		if err := bad.validate(); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

func TestInstallationJSON(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Installation
	}{
		{"browser object", `{"installationId":"b","platform":"browser","pushChannel":{"endpoint":"https://e","p256dh":"p","auth":"a"}}`,
			Installation{InstallationID: "b", Platform: InstallationPlatformBrowser, BrowserPushChannel: &BrowserPushChannel{"https://e", "p", "a"}}},
		{"browser JSON string", `{"installationId":"b","platform":"browser","pushChannel":"{\"endpoint\":\"https://e\",\"p256dh\":\"p\",\"auth\":\"a\"}"}`,
			Installation{InstallationID: "b", Platform: InstallationPlatformBrowser, BrowserPushChannel: &BrowserPushChannel{"https://e", "p", "a"}}},
		{".NET nulls", `{"installationId":"x","platform":"fcmv1","pushChannel":"t","userId":null,"pushChannelExpired":null,"expirationTime":null,"tags":null}`,
			Installation{InstallationID: "x", Platform: InstallationPlatformFcmV1, PushChannel: "t"}},
		{"read-only", `{"installationId":"x","platform":"xiaomi","pushChannel":"t","pushChannelExpired":true,"lastActiveOn":"2024-01-02T03:04:05Z","secondaryTiles":{"t1":{"pushChannel":"c","tags":["a"]}}}`,
			Installation{InstallationID: "x", Platform: InstallationPlatformXiaomi, PushChannel: "t", PushChannelExpired: true,
				LastActiveOn: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), SecondaryTiles: map[string]WnsSecondaryTile{"t1": {PushChannel: "c", Tags: []string{"a"}}}}},
	}
	for _, tt := range tests {
		var got Installation
		if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	// Browser channels are sent as an object; read-only fields are not sent.
	b, _ := json.Marshal(tests[3].want)
	rpJSONEqual(t, "encoded", `{"installationId":"x","platform":"xiaomi","pushChannel":"t","secondaryTiles":{"t1":{"pushChannel":"c","tags":["a"]}}}`, b)
	b, _ = json.Marshal(tests[0].want)
	rpJSONEqual(t, "browser", `{"installationId":"b","platform":"browser","pushChannel":{"endpoint":"https://e","p256dh":"p","auth":"a"}}`, b)

	for _, bad := range []string{`{"pushChannel":5}`, `{"expirationTime":"yesterday"}`, `[`} {
		var in Installation
		if err := json.Unmarshal([]byte(bad), &in); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestInstallationValidation(t *testing.T) {
	for _, tt := range []struct {
		in   Installation
		want string
	}{
		{Installation{Platform: "apns", PushChannel: "t"}, "InstallationID is empty"},
		{Installation{InstallationID: "i", PushChannel: "t"}, "Platform is empty"},
		{Installation{InstallationID: "i", Platform: "fcm", PushChannel: "t"}, "use fcmv1"},
		{Installation{InstallationID: "i", Platform: "apns"}, "PushChannel is empty"},
		{Installation{InstallationID: "i", Platform: "browser"}, "BrowserPushChannel"},
		{Installation{InstallationID: "i", Platform: "apns", PushChannel: "t", Tags: []string{"a b"}}, "tag"},
		{Installation{InstallationID: "i", Platform: "apns", PushChannel: "t", Templates: map[string]InstallationTemplate{"n": {}}}, "empty body"},
	} {
		err := tt.in.validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.in, err, tt.want)
		}
		var ve *ValidationError
		if !errors.As(err, &ve) || !strings.HasPrefix(ve.Subject, "installation") {
			t.Errorf("%+v: %#v, want a *ValidationError about the installation", tt.in, err)
		}
	}
	err := Installation{InstallationID: "i", Platform: "apns"}.validate()
	if got, want := err.Error(), `notificationhubs: installation "i": PushChannel is empty`; got != want {
		t.Errorf("validate() = %q, want %q", got, want)
	}
}

// TestWaitUntilVisible: the fake hub shows the previous state for a few
// reads after each write, as the service may.
func TestWaitUntilVisible(t *testing.T) {
	h := newFakeHub(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := Installation{InstallationID: "dev-1", Platform: InstallationPlatformFcmV1, PushChannel: "tok", Tags: []string{"a"}}
	h.setLag(3)
	if _, err := h.client.CreateOrUpdateInstallation(ctx, in, &CreateOrUpdateInstallationOptions{WaitUntilVisible: true, PollInterval: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if h.lag() != 0 {
		t.Errorf("returned before the write was visible (lag left %d)", h.lag())
	}

	h.setLag(2)
	if _, err := h.client.PatchInstallation(ctx, "dev-1", []InstallationPatch{AddTag("b"), RemoveTag("a"), ReplaceUserID("u1")},
		&PatchInstallationOptions{WaitUntilVisible: true, PollInterval: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	got, err := h.client.GetInstallation(ctx, "dev-1", nil)
	if err != nil || !cmp.Equal(got.Tags, []string{"b"}) || got.UserID != "u1" || h.lag() != 0 {
		t.Errorf("after patch: %+v, %v (lag %d)", got.Installation, err, h.lag())
	}

	h.setLag(2)
	if _, err := h.client.DeleteInstallation(ctx, "dev-1", &DeleteInstallationOptions{WaitUntilVisible: true, PollInterval: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if got, err := h.client.InstallationExists(ctx, "dev-1", nil); err != nil || got.Exists {
		t.Errorf("after delete: %v %v", got.Exists, err)
	}

	// Bounded by ctx: a write that never shows up.
	short, cancel2 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel2()
	_, err = h.client.GetInstallation(short, "never", &GetInstallationOptions{WaitFor: func(Installation) bool { return true }, PollInterval: time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrNotFound) {
		t.Errorf("waiting for a missing installation: %v; want deadline exceeded wrapping the last 404", err)
	}
}

func TestInstallationShows(t *testing.T) {
	want := Installation{InstallationID: "i", Platform: "apns", PushChannel: "abcd", Tags: []string{"A", "b"},
		Templates: map[string]InstallationTemplate{"t": {Body: "{}", Tags: []string{"x"}}}, PushVariables: map[string]string{"k": "v"}}
	got := want
	got.Platform, got.PushChannel, got.Tags = "APNS", "ABCD", []string{"b", "a"}
	got.Templates = map[string]InstallationTemplate{"t": {Body: "{}", Tags: []string{"x", "t"}}}
	if !installationShows(got, want) {
		t.Errorf("normalised read-back not recognised")
	}
	got.PushVariables = map[string]string{"k": "w"}
	if installationShows(got, want) {
		t.Errorf("changed push variable recognised as visible")
	}
}

func FuzzInstallationJSON(f *testing.F) {
	for _, name := range []string{
		"CreateOrUpdateInstallationAsync_CreateInstallationWithExpiryInTemplate_GetCreatedInstallationWithExpiryInTemplateBack",
		"CreateOrUpdateInstallationAsync_CreateInstallationWithHeadersInTemplate_GetCreatedInstallationWithHeadersInTemplateBack",
	} {
		calls := loadRecording(f, name)
		f.Add(calls[len(calls)-1].body())
	}
	f.Add(`{"installationId":"b","platform":"browser","pushChannel":"{\"endpoint\":\"e\"}"}`)
	f.Fuzz(func(t *testing.T, data string) {
		var in Installation
		if json.Unmarshal([]byte(data), &in) != nil {
			return
		}
		// Writable fields survive encode and decode.
		in.ExpirationTime, in.LastActiveOn, in.LastUpdate, in.PushChannelExpired = time.Time{}, time.Time{}, time.Time{}, false
		enc, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var back Installation
		if err := json.Unmarshal(enc, &back); err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if !installationShows(back, in) && in.BrowserPushChannel == nil {
			t.Fatalf("not stable: %+v -> %s -> %+v", in, enc, back)
		}
	})
}
