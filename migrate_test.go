package notificationhubs

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// migrationMix fills h with GCM, FCM v1 and Apple registrations, across
// more than one page of 2.
func migrationMix(h *fakeHub) map[string]string {
	ids := map[string]string{}
	pv := map[string]string{"lang": "de"}
	gcm := NewGcmRegistration("tok-native", "sports", "user:42")
	gcm.PushVariables = pv
	ids["gcm-native"] = h.add(gcm)
	ids["apple"] = h.add(NewAppleRegistration(recordedAppleToken, "sports"))
	tmpl := NewGcmTemplateRegistration("tok-template", `{"data":{"msg":"$(msg)"},"priority":"high","time_to_live":3600}`, "sports")
	tmpl.Template.Name = "news"
	ids["gcm-template"] = h.add(tmpl)
	ids["fcmv1"] = h.add(NewFcmV1Registration("tok-new", "sports"))
	ids["gcm-dup"] = h.add(NewGcmRegistration("tok-new", "sports"))
	ids["gcm-installation"] = h.add(NewGcmRegistration("tok-inst", "$InstallationId:{abc}", "sports"))
	odd := NewGcmTemplateRegistration("tok-odd", `{"data":{"n":"1"},"dry_run":true}`, "sports")
	ids["gcm-unconvertible"] = h.add(odd)
	ids["apple-template"] = h.add(NewAppleTemplateRegistration(recordedAppleToken, `{"aps":{"alert":"$(msg)"}}`, "sports"))
	ids["gcm-untagged"] = h.add(NewGcmRegistration("tok-untagged"))
	return ids
}

func TestMigrateGcmToFcmV1DryRunMatchesRealRun(t *testing.T) {
	h := newFakeHub(t)
	ids := migrationMix(h)
	before := map[string]Registration{}
	for _, id := range ids {
		before[id], _ = h.get(id)
	}
	ctx := context.Background()
	opts := &MigrateGcmToFcmV1Options{Tag: "sports", DryRun: true, PageSize: 2}

	dry, err := h.client.MigrateGcmToFcmV1(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if w := h.writes(); len(w) != 0 {
		t.Fatalf("dry run wrote: %v", w)
	}
	for _, id := range ids {
		if got, _ := h.get(id); !cmp.Equal(before[id], got) {
			t.Errorf("dry run changed %s", id)
		}
	}

	// The plan, item by item.
	type plan struct {
		ID     string
		Action MigrationAction
	}
	var gotPlan []plan
	for _, it := range dry.Items {
		gotPlan = append(gotPlan, plan{it.RegistrationID, it.Action})
	}
	wantPlan := []plan{
		{ids["gcm-native"], MigrationActionRewrite},
		{ids["gcm-template"], MigrationActionRewrite},
		{ids["gcm-dup"], MigrationActionDelete},
		{ids["gcm-installation"], MigrationActionSkip},
		{ids["gcm-unconvertible"], MigrationActionSkip},
	}
	if diff := cmp.Diff(wantPlan, gotPlan); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if dry.Scanned != 8 || dry.Rewritten != 2 || dry.Deleted != 1 || dry.Skipped != 2 || dry.Failed != 0 || !dry.DryRun {
		t.Errorf("dry counts: %+v", dry)
	}
	tmpl := dry.Items[1]
	if got, want := tmpl.After.Template.Body, `{"message":{"android":{"data":{"msg":"$(msg)"},"priority":"high","ttl":"3600s"}}}`; got != want {
		t.Errorf("converted template body = %s, want %s", got, want)
	}
	wantChanges := []string{
		"platform: Gcm → FcmV1 (same registration id)",
		"handle: GcmRegistrationId → FcmV1RegistrationId (same token)",
		"template body: legacy FCM payload → FCM v1 message",
		"kept: 1 tag, template name \"news\"",
	}
	if diff := cmp.Diff(wantChanges, tmpl.Changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if !strings.Contains(dry.Items[4].Reason, "dry_run") {
		t.Errorf("unconvertible reason = %q", dry.Items[4].Reason)
	}

	// The real run does exactly what the dry run reported.
	opts.DryRun = false
	real, err := h.client.MigrateGcmToFcmV1(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	outcome := cmpopts.IgnoreFields(MigrationItem{}, "Done", "NewRegistrationID", "NewETag", "Err")
	if diff := cmp.Diff(dry.Items, real.Items, outcome); diff != "" {
		t.Errorf("real run's plan differs from the dry run's (-dry +real):\n%s", diff)
	}
	if real.Rewritten != 2 || real.Deleted != 1 || real.Failed != 0 || real.DryRun {
		t.Errorf("real counts: %+v", real)
	}
	var wantWrites []string
	for _, it := range dry.Items {
		switch it.Action {
		case MigrationActionRewrite:
			wantWrites = append(wantWrites, "PUT /myhub/registrations/"+it.RegistrationID)
		case MigrationActionDelete:
			wantWrites = append(wantWrites, "DELETE /myhub/registrations/"+it.RegistrationID)
		}
	}
	if diff := cmp.Diff(wantWrites, h.writes()); diff != "" {
		t.Errorf("writes (-planned +done):\n%s", diff)
	}
	for _, it := range real.Items {
		got, exists := h.get(it.RegistrationID)
		switch it.Action {
		case MigrationActionRewrite:
			if !it.Done || it.NewRegistrationID != it.RegistrationID || it.NewETag != "2" {
				t.Errorf("%s: done %v new id %q etag %q", it.RegistrationID, it.Done, it.NewRegistrationID, it.NewETag)
			}
			if diff := cmp.Diff(writable(it.After), writable(got)); diff != "" {
				t.Errorf("%s stored (-planned +stored):\n%s", it.RegistrationID, diff)
			}
			b := before[it.RegistrationID]
			if got.Platform != RegistrationPlatformFcmV1 || got.FcmV1RegistrationID != b.GcmRegistrationID ||
				!cmp.Equal(got.Tags, b.Tags) || !cmp.Equal(got.PushVariables, b.PushVariables) {
				t.Errorf("%s: migrated to %+v from %+v", it.RegistrationID, got, b)
			}
		case MigrationActionDelete:
			if exists || !it.Done {
				t.Errorf("%s: still exists (%v) or not done", it.RegistrationID, exists)
			}
		case MigrationActionSkip:
			if !cmp.Equal(before[it.RegistrationID], got) || it.Done {
				t.Errorf("%s: skipped but changed", it.RegistrationID)
			}
		}
	}
	for _, k := range []string{"apple", "apple-template", "fcmv1", "gcm-untagged"} {
		if got, _ := h.get(ids[k]); !cmp.Equal(before[ids[k]], got) {
			t.Errorf("%s changed", k)
		}
	}

	// A second run finds nothing left to do.
	again, err := h.client.MigrateGcmToFcmV1(ctx, &MigrateGcmToFcmV1Options{Tag: "sports", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if again.Rewritten != 0 || again.Deleted != 0 || again.Skipped != 2 {
		t.Errorf("second dry run: %+v", again)
	}
}

func TestMigrateGcmToFcmV1AllAndRecreate(t *testing.T) {
	h := newFakeHub(t)
	ids := migrationMix(h)
	rep, err := h.client.MigrateGcmToFcmV1(context.Background(), &MigrateGcmToFcmV1Options{Recreate: true, PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Scanned != 9 || rep.Rewritten != 3 || rep.Deleted != 1 || rep.Failed != 0 {
		t.Fatalf("report: %+v", rep)
	}
	for _, it := range rep.Items {
		if it.Action != MigrationActionRewrite {
			continue
		}
		if _, ok := h.get(it.RegistrationID); ok {
			t.Errorf("old %s still exists", it.RegistrationID)
		}
		got, ok := h.get(it.NewRegistrationID)
		if !ok || got.Platform != RegistrationPlatformFcmV1 || got.RegistrationID == it.RegistrationID {
			t.Errorf("new registration %q: %+v", it.NewRegistrationID, got)
		}
	}
	if _, ok := h.get(ids["gcm-untagged"]); ok {
		t.Errorf("untagged GCM registration was not migrated without a tag filter")
	}
}

func TestMigrateGcmToFcmV1PreconditionFailedIsPerItem(t *testing.T) {
	h := newFakeHub(t)
	id := h.add(NewGcmRegistration("tok"))
	other := h.add(NewGcmRegistration("tok2"))
	// The device re-registers between the listing and the rewrite.
	h.afterList = func() {
		r := h.regs[id]
		h.store(r)
	}
	rep, err := h.client.MigrateGcmToFcmV1(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Items) != 2 || !errors.Is(rep.Items[0].Err, ErrPreconditionFailed) || rep.Items[0].Done ||
		rep.Items[1].Err != nil || !rep.Items[1].Done || rep.Failed != 1 || rep.Rewritten != 1 {
		t.Fatalf("report: %+v", rep)
	}
	if got, _ := h.get(id); got.Platform != RegistrationPlatformGcm {
		t.Errorf("the concurrently updated registration was overwritten: %+v", got)
	}
	if got, _ := h.get(other); got.Platform != RegistrationPlatformFcmV1 {
		t.Errorf("the other registration was not migrated: %+v", got)
	}
}

func TestConvertGcmTemplateToFcmV1(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: `{"data":{"message":"$(msg)"}}`, want: `{"message":{"android":{"data":{"message":"$(msg)"}}}}`},
		{in: `{"notification":{"title":"T","body":"{'Hi ' + $(name)}"},"collapse_key":"k","priority":"HIGH"}`,
			want: `{"message":{"android":{"collapse_key":"k","notification":{"body":"{'Hi ' + $(name)}","title":"T"},"priority":"high"}}}`},
		{in: `{"time_to_live":0,"restricted_package_name":"com.x","data":{"a":"<&>"}}`,
			want: `{"message":{"android":{"data":{"a":"<&>"},"restricted_package_name":"com.x","ttl":"0s"}}}`},
		{in: `{"message":{"token":"x"}}`, want: `{"message":{"token":"x"}}`},
		{in: `{"message":{},"data":{}}`, err: "mixes"},
		{in: `{"data":{"n":1}}`, err: "data.n is not a string"},
		{in: `{"time_to_live":"$(ttl)"}`, err: "time_to_live"},
		{in: `{"content_available":true,"dry_run":false}`, err: "content_available, dry_run"},
		{in: `not json`, err: "not a JSON object"},
		{in: `{} {}`, err: "data after"},
		{in: `{"message":{}}}`, err: "data after"}, // Decoder.More misses a stray brace
	}
	for _, tt := range tests {
		got, err := ConvertGcmTemplateToFcmV1(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ConvertGcmTemplateToFcmV1(%s) = %s, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ConvertGcmTemplateToFcmV1(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func FuzzConvertGcmTemplateToFcmV1(f *testing.F) {
	for _, s := range []string{`{"data":{"m":"$(m)"}}`, `{"notification":{"title":"x"},"time_to_live":5}`, `{"message":{}}`, `[]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		out, err := ConvertGcmTemplateToFcmV1(body)
		if err != nil {
			return
		}
		var v map[string]any
		if json.Unmarshal([]byte(out), &v) != nil {
			t.Fatalf("output is not JSON: %s", out)
		}
		if _, ok := v["message"]; !ok || len(v) != 1 {
			t.Fatalf("output is not {\"message\":…}: %s", out)
		}
		again, err := ConvertGcmTemplateToFcmV1(out)
		if err != nil || again != out {
			t.Fatalf("not idempotent: %s -> %s, %v", out, again, err)
		}
	})
}
