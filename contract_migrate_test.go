package notificationhubs_test

// Contract tests (see contract_test.go): The GCM → FCM v1 migration.

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	nh "github.com/nhkit/notificationhubs"
)

// TestContractMigrateGcmToFcmV1 migrates a hub with native and template
// GCM registrations, a GCM registration already duplicated as FCM v1 and
// a GCM installation, then checks that FCM v1 sends reach the devices.
func TestContractMigrateGcmToFcmV1(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	n1 := mustCreate(t, ctx, c, nh.NewGcmRegistration("mig-1", "sports"))
	n2 := mustCreate(t, ctx, c, nh.NewGcmRegistration("mig-2", "sports", "news"))
	tr := nh.NewGcmTemplateRegistration("mig-3", `{"data":{"text":"$(text)"},"priority":"high"}`, "sports")
	tr.Template.Name = "greeting"
	tm := mustCreate(t, ctx, c, tr)
	dup := mustCreate(t, ctx, c, nh.NewGcmRegistration("mig-4", "sports"))
	mustCreate(t, ctx, c, nh.NewFcmV1Registration("mig-4", "sports"))
	mustPutInstallation(t, ctx, c, nh.Installation{InstallationID: "mig-inst", Platform: nh.InstallationPlatformGcm, PushChannel: "mig-5", Tags: []string{"sports"}})

	actions := func(r nh.MigrationReport) map[string]nh.MigrationAction {
		m := map[string]nh.MigrationAction{}
		for _, it := range r.Items {
			m[it.RegistrationID] = it.Action
		}
		return m
	}

	dry, err := c.MigrateGcmToFcmV1(ctx, &nh.MigrateGcmToFcmV1Options{DryRun: true, PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]nh.MigrationAction{
		n1.RegistrationID:  nh.MigrationActionRewrite,
		n2.RegistrationID:  nh.MigrationActionRewrite,
		tm.RegistrationID:  nh.MigrationActionRewrite,
		dup.RegistrationID: nh.MigrationActionDelete,
	}
	got := actions(dry)
	skipped := 0
	for id, a := range got {
		if a == nh.MigrationActionSkip {
			delete(got, id)
			skipped++
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("dry run plan (-want +got):\n%s", d)
	}
	if skipped != 1 || dry.Scanned != 6 || !dry.DryRun {
		t.Errorf("dry run: %d skipped, %d scanned, DryRun %v; want 1 (the installation), 6 (5 registrations and the installation's), true", skipped, dry.Scanned, dry.DryRun)
	}
	// A dry run changes nothing.
	if g, err := c.GetRegistration(ctx, n1.RegistrationID, nil); err != nil || g.Platform != nh.RegistrationPlatformGcm || g.ETag != n1.ETag {
		t.Fatalf("after the dry run: %+v, %v; want the GCM registration unchanged", g.Registration, err)
	}

	real, err := c.MigrateGcmToFcmV1(ctx, &nh.MigrateGcmToFcmV1Options{PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if real.Rewritten != 3 || real.Deleted != 1 || real.Skipped != 1 || real.Failed != 0 {
		for _, it := range real.Items {
			t.Logf("item %s %s: err %v", it.RegistrationID, it.Action, it.Err)
		}
		t.Fatalf("real run: rewritten %d deleted %d skipped %d failed %d; want 3 1 1 0", real.Rewritten, real.Deleted, real.Skipped, real.Failed)
	}
	for _, id := range []string{n1.RegistrationID, n2.RegistrationID, tm.RegistrationID} {
		g, err := c.GetRegistration(ctx, id, nil)
		if err != nil {
			t.Fatalf("migrated registration %s: %v", id, err)
		}
		if g.Platform != nh.RegistrationPlatformFcmV1 || g.FcmV1RegistrationID == "" || len(g.Tags) == 0 {
			t.Errorf("migrated registration %s = %+v; want FcmV1 with its token and tags", id, g.Registration)
		}
	}
	if _, err := c.GetRegistration(ctx, dup.RegistrationID, nil); !errors.Is(err, nh.ErrNotFound) {
		t.Errorf("duplicate GCM registration: err = %v, want ErrNotFound (deleted)", err)
	}

	resp, err := c.SendFcmV1Notification(ctx, []byte(`{"message":{"data":{"k":"after-migration"}}}`), &nh.SendNotificationOptions{Tags: []string{"sports"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(upper("mig-1", "mig-2", "mig-4"), handlesOf(delivered(t, srv, resp.NotificationID))); d != "" {
		t.Errorf("fcmv1 send after migration reached (-want +got):\n%s", d)
	}
	resp, err = c.SendTemplateNotification(ctx, map[string]string{"text": "hi"}, &nh.SendNotificationOptions{Tags: []string{"sports"}})
	if err != nil {
		t.Fatal(err)
	}
	ds := delivered(t, srv, resp.NotificationID)
	if len(ds) != 1 || ds[0].Platform != "fcmv1" || !strings.Contains(ds[0].Payload, `"android":{"data":{"text":"hi"}`) {
		t.Errorf("template send after migration = %+v; want one FCM v1 delivery with the converted body", ds)
	}
	resp, err = c.SendGcmNotification(ctx, []byte(`{"data":{"k":"legacy"}}`), &nh.SendNotificationOptions{Tags: []string{"sports"}})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(upper("mig-5"), handlesOf(delivered(t, srv, resp.NotificationID))); d != "" {
		t.Errorf("gcm send after migration reached (-want +got):\n%s", d)
	}

	again, err := c.MigrateGcmToFcmV1(ctx, nil)
	if err != nil || again.Rewritten != 0 || again.Deleted != 0 {
		t.Errorf("second run: %+v, %v; want nothing to do", again, err)
	}
}
