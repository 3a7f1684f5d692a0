package notificationhubs_test

// Contract tests (see contract_test.go): Installation operations, JSON Patch and eventual consistency of reads.

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	nh "github.com/nhkit/notificationhubs"
)

// TestContractInstallationsEveryPlatform puts, reads, checks and deletes
// an installation of every platform.
func TestContractInstallationsEveryPlatform(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	for _, pc := range platformCases() {
		t.Run(pc.name, func(t *testing.T) {
			in := pc.installationFor("inst-"+pc.name, "t1", "t2")
			in.UserID = "user-" + pc.name
			in.PushVariables = map[string]string{"who": "world"}
			tp := in.Templates["greeting"]
			tp.Tags = []string{"tmpl-tag"}
			in.Templates["greeting"] = tp
			put, err := c.CreateOrUpdateInstallation(ctx, in, &nh.CreateOrUpdateInstallationOptions{WaitUntilVisible: true, PollInterval: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(put.ContentLocation, "/installations/inst-"+pc.name) {
				t.Errorf("Content-Location = %q", put.ContentLocation)
			}
			got, err := c.GetInstallation(ctx, in.InstallationID, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := in
			if pc.format == nh.FormatApple {
				want.PushChannel = strings.ToUpper(want.PushChannel)
			}
			if d := cmp.Diff(want, withoutTemplateNameTags(got.Installation), instDiffOpts); d != "" {
				t.Errorf("GetInstallation (-put +got):\n%s", d)
			}
			if got.ExpirationTime.IsZero() {
				t.Error("no expirationTime")
			}
			if !slices.Contains(got.Templates["greeting"].Tags, "greeting") {
				t.Errorf("template tags %v: the service adds the template name", got.Templates["greeting"].Tags)
			}
			ex, err := c.InstallationExists(ctx, in.InstallationID, nil)
			if err != nil || !ex.Exists {
				t.Errorf("InstallationExists = %v, %v; want true", ex.Exists, err)
			}

			// The installation shows up as registrations tagged $InstallationId:{…}.
			ids, _, _ := collect(t, ctx, c.NewListRegistrationsByTagPager("$InstallationId:{"+in.InstallationID+"}", nil))
			if len(ids) != 2 {
				t.Errorf("registrations derived from the installation: %v, want native and template", ids)
			}

			if _, err := c.DeleteInstallation(ctx, in.InstallationID, &nh.DeleteInstallationOptions{WaitUntilVisible: true, PollInterval: 10 * time.Millisecond}); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetInstallation(ctx, in.InstallationID, nil); !errors.Is(err, nh.ErrNotFound) {
				t.Errorf("GetInstallation after delete: err = %v, want ErrNotFound", err)
			}
			ex, err = c.InstallationExists(ctx, in.InstallationID, nil)
			if err != nil || ex.Exists {
				t.Errorf("InstallationExists after delete = %v, %v; want false", ex.Exists, err)
			}
			// Deleting again is a success (204 whether or not it exists).
			if _, err := c.DeleteInstallation(ctx, in.InstallationID, nil); err != nil {
				t.Errorf("second DeleteInstallation: %v", err)
			}
		})
	}
	for _, h := range srv.Hubs() {
		if h.Installations != 0 || h.Registrations != 0 {
			t.Errorf("emulator hub %s still has %d installations, %d registrations", h.Name, h.Installations, h.Registrations)
		}
	}
}

// TestContractPatchInstallation applies every typed patch operation and
// checks the installation after each.
func TestContractPatchInstallation(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	base := nh.Installation{
		InstallationID: "patch-me",
		Platform:       nh.InstallationPlatformFcmV1,
		PushChannel:    "patch-token-1",
		Tags:           []string{"t1"},
	}
	mustPutInstallation(t, ctx, c, base)
	tmplA := nh.InstallationTemplate{Body: `{"message":{"data":{"a":"$(a)"}}}`}
	tmplB := nh.InstallationTemplate{Body: `{"message":{"data":{"b":"$(b)"}}}`, Tags: []string{"bt"}}

	steps := []struct {
		name  string
		patch []nh.InstallationPatch
		check func(in *nh.Installation) // the expected state, from the previous
	}{
		{"AddTag", []nh.InstallationPatch{nh.AddTag("t2")}, func(in *nh.Installation) { in.Tags = append(in.Tags, "t2") }},
		{"AddTag existing", []nh.InstallationPatch{nh.AddTag("t2")}, func(in *nh.Installation) {}},
		{"AddTags", []nh.InstallationPatch{nh.AddTags("t3", "t4")}, func(in *nh.Installation) { in.Tags = append(in.Tags, "t3", "t4") }},
		{"RemoveTag", []nh.InstallationPatch{nh.RemoveTag("t1")}, func(in *nh.Installation) { in.Tags = []string{"t2", "t3", "t4"} }},
		{"ReplaceTags", []nh.InstallationPatch{nh.ReplaceTags("x", "y")}, func(in *nh.Installation) { in.Tags = []string{"x", "y"} }},
		{"AddUserID", []nh.InstallationPatch{nh.AddUserID("alice")}, func(in *nh.Installation) { in.UserID = "alice" }},
		{"ReplaceUserID", []nh.InstallationPatch{nh.ReplaceUserID("bob")}, func(in *nh.Installation) { in.UserID = "bob" }},
		{"RemoveUserID", []nh.InstallationPatch{nh.RemoveUserID()}, func(in *nh.Installation) { in.UserID = "" }},
		{"ReplacePushChannel", []nh.InstallationPatch{nh.ReplacePushChannel("patch-token-2")}, func(in *nh.Installation) { in.PushChannel = "patch-token-2" }},
		{"AddTemplate", []nh.InstallationPatch{nh.AddTemplate("a", tmplA), nh.AddTemplate("b", tmplB)}, func(in *nh.Installation) {
			in.Templates = map[string]nh.InstallationTemplate{"a": tmplA, "b": tmplB}
		}},
		{"ReplaceTemplate", []nh.InstallationPatch{nh.ReplaceTemplate("a", tmplB)}, func(in *nh.Installation) { in.Templates["a"] = tmplB }},
		{"ReplaceTemplateBody", []nh.InstallationPatch{nh.ReplaceTemplateBody("b", `{"message":{"data":{"b2":"$(b)"}}}`)}, func(in *nh.Installation) {
			tp := in.Templates["b"]
			tp.Body = `{"message":{"data":{"b2":"$(b)"}}}`
			in.Templates["b"] = tp
		}},
		{"AddTemplateTag", []nh.InstallationPatch{nh.AddTemplateTag("b", "bt2")}, func(in *nh.Installation) {
			tp := in.Templates["b"]
			tp.Tags = append(slices.Clone(tp.Tags), "bt2")
			in.Templates["b"] = tp
		}},
		{"RemoveTemplateTag", []nh.InstallationPatch{nh.RemoveTemplateTag("b", "bt")}, func(in *nh.Installation) {
			tp := in.Templates["b"]
			tp.Tags = []string{"bt2"}
			in.Templates["b"] = tp
		}},
		{"RemoveTemplate", []nh.InstallationPatch{nh.RemoveTemplate("a")}, func(in *nh.Installation) { delete(in.Templates, "a") }},
	}
	want := base
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if _, err := c.PatchInstallation(ctx, base.InstallationID, st.patch, &nh.PatchInstallationOptions{WaitUntilVisible: true, PollInterval: 10 * time.Millisecond}); err != nil {
				t.Fatal(err)
			}
			st.check(&want)
			got, err := c.GetInstallation(ctx, base.InstallationID, nil)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, withoutTemplateNameTags(got.Installation), instDiffOpts, cmpopts.SortSlices(func(a, b string) bool { return a < b })); d != "" {
				t.Errorf("after %s (-want +got):\n%s", st.name, d)
			}
		})
	}

	t.Run("sends follow the patches", func(t *testing.T) {
		resp, err := c.SendTemplateNotification(ctx, map[string]string{"b": "patched"}, &nh.SendNotificationOptions{Tags: []string{"bt2"}})
		if err != nil {
			t.Fatal(err)
		}
		ds := delivered(t, srv, resp.NotificationID)
		if len(ds) != 1 || ds[0].Handle != "patch-token-2" || !strings.Contains(ds[0].Payload, `"b2":"patched"`) {
			t.Errorf("deliveries = %+v; want one to patch-token-2 with the patched body", ds)
		}
	})

	t.Run("browser push channel", func(t *testing.T) {
		pc := platformCases()[len(platformCases())-1]
		in := pc.installationFor("patch-browser")
		mustPutInstallation(t, ctx, c, in)
		ch := nh.BrowserPushChannel{Endpoint: browserEP + "-new", P256DH: browserP256, Auth: "bmV3LWF1dGg"}
		if _, err := c.PatchInstallation(ctx, in.InstallationID, []nh.InstallationPatch{nh.ReplaceBrowserPushChannel(ch)}, &nh.PatchInstallationOptions{WaitUntilVisible: true, PollInterval: 10 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		got, err := c.GetInstallation(ctx, in.InstallationID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got.BrowserPushChannel == nil || *got.BrowserPushChannel != ch {
			t.Errorf("BrowserPushChannel = %+v, want %+v", got.BrowserPushChannel, ch)
		}
	})

	t.Run("missing installation", func(t *testing.T) {
		_, err := c.PatchInstallation(ctx, "nope", []nh.InstallationPatch{nh.AddTag("x")}, nil)
		if !errors.Is(err, nh.ErrNotFound) {
			t.Errorf("patch of a missing installation: err = %v, want ErrNotFound", err)
		}
	})
}
