package notificationhubs_test

// Contract tests (see contract_test.go): Registration operations and listings.

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	nh "github.com/nhkit/notificationhubs"
)

// regDiffOpts ignores what the service assigns.
var regDiffOpts = cmp.Options{
	cmpopts.IgnoreFields(nh.Registration{}, "RegistrationID", "ETag", "ExpirationTime"),
	cmpopts.EquateEmpty(),
}

// TestContractRegistrationsEveryPlatform creates, reads, updates and
// deletes a native and a template registration of every platform.
func TestContractRegistrationsEveryPlatform(t *testing.T) {
	_, c := newContract(t, nil)
	ctx := contractCtx(t)
	for _, pc := range platformCases() {
		tmpl := pc.template(pc.tmplBody, "t1")
		tmpl.Template.Name = "tmpl-" + pc.name
		tmpl.PushVariables = map[string]string{"who": "world"}
		if pc.format == nh.FormatApple {
			tmpl.Template.Expiry = "2030-01-01T00:00:00Z"
			tmpl.Template.Priority = "10"
			tmpl.Template.Headers = map[string]string{"apns-push-type": "alert"}
		}
		if pc.format == nh.FormatBaidu {
			tmpl.Template.MessageType = "1"
		}
		for _, kind := range []struct {
			name string
			reg  nh.Registration
		}{{"native", pc.native("a", "b:c")}, {"template", tmpl}} {
			t.Run(pc.name+"/"+kind.name, func(t *testing.T) {
				created, err := c.CreateRegistration(ctx, kind.reg, nil)
				if err != nil {
					t.Fatal(err)
				}
				if created.RegistrationID == "" || created.ETag != "1" || created.ContentLocation == "" {
					t.Errorf("created: id %q ETag %q Content-Location %q; want an id, ETag 1 and a location", created.RegistrationID, created.ETag, created.ContentLocation)
				}
				if created.ExpirationTime.IsZero() {
					t.Errorf("created: no ExpirationTime")
				}
				if d := cmp.Diff(kind.reg, created.Registration, regDiffOpts); d != "" {
					t.Errorf("created registration (-sent +stored):\n%s", d)
				}
				got, err := c.GetRegistration(ctx, created.RegistrationID, nil)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(created.Registration, got.Registration); d != "" {
					t.Errorf("GetRegistration (-created +got):\n%s", d)
				}

				// Update with the current ETag.
				got.Tags = append(got.Tags, "added")
				upd, err := c.UpdateRegistration(ctx, got.Registration, nil)
				if err != nil {
					t.Fatalf("UpdateRegistration: %v", err)
				}
				if upd.ETag != "2" || !slices.Contains(upd.Tags, "added") {
					t.Errorf("updated: ETag %q tags %v; want 2 and the added tag", upd.ETag, upd.Tags)
				}
				// The old ETag is stale now.
				_, err = c.UpdateRegistration(ctx, got.Registration, nil)
				if !errors.Is(err, nh.ErrPreconditionFailed) {
					t.Errorf("update with stale ETag: err = %v, want ErrPreconditionFailed", err)
				}
				stale := got.ETag
				_, err = c.DeleteRegistration(ctx, got.RegistrationID, &nh.DeleteRegistrationOptions{ETag: &stale})
				if !errors.Is(err, nh.ErrPreconditionFailed) {
					t.Errorf("delete with stale ETag: err = %v, want ErrPreconditionFailed", err)
				}

				ex, err := c.RegistrationExists(ctx, created.RegistrationID, nil)
				if err != nil || !ex.Exists {
					t.Errorf("RegistrationExists = %v, %v; want true", ex.Exists, err)
				}
				cur := upd.ETag
				if _, err := c.DeleteRegistration(ctx, created.RegistrationID, &nh.DeleteRegistrationOptions{ETag: &cur}); err != nil {
					t.Fatalf("DeleteRegistration: %v", err)
				}
				ex, err = c.RegistrationExists(ctx, created.RegistrationID, nil)
				if err != nil || ex.Exists {
					t.Errorf("after delete RegistrationExists = %v, %v; want false", ex.Exists, err)
				}
				if _, err := c.GetRegistration(ctx, created.RegistrationID, nil); !errors.Is(err, nh.ErrNotFound) {
					t.Errorf("GetRegistration after delete: err = %v, want ErrNotFound", err)
				}
				if _, err := c.DeleteRegistration(ctx, created.RegistrationID, nil); !errors.Is(err, nh.ErrNotFound) {
					t.Errorf("DeleteRegistration after delete: err = %v, want ErrNotFound", err)
				}
			})
		}
	}
}

// TestContractRegistrationUpsert reserves an id, upserts under it twice
// and under an id the caller chose.
func TestContractRegistrationUpsert(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	id, err := c.CreateRegistrationID(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if id.RegistrationID == "" || !strings.Contains(id.Location, "/registrationids/") {
		t.Fatalf("CreateRegistrationID = %+v", id)
	}
	reg := nh.NewFcmV1Registration("upsert-token", "sports")
	reg.RegistrationID = id.RegistrationID
	first, err := c.CreateOrUpdateRegistration(ctx, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg.Tags = []string{"news"}
	second, err := c.CreateOrUpdateRegistration(ctx, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first.RegistrationID != id.RegistrationID || second.RegistrationID != id.RegistrationID {
		t.Errorf("ids %q, %q; want the reserved %q", first.RegistrationID, second.RegistrationID, id.RegistrationID)
	}
	if first.ETag != "1" || second.ETag != "2" {
		t.Errorf("ETags %q, %q; want 1, 2", first.ETag, second.ETag)
	}
	resp, err := c.SendFcmV1Notification(ctx, []byte(`{"message":{"data":{"k":"v"}}}`), &nh.SendNotificationOptions{Tags: []string{"news"}})
	if err != nil {
		t.Fatal(err)
	}
	ds := delivered(t, srv, resp.NotificationID)
	if len(ds) != 1 || ds[0].RegistrationID != id.RegistrationID {
		t.Errorf("send to the upserted tag reached %+v", ds)
	}

	own := nh.NewAppleRegistration(appleToken)
	own.RegistrationID = "my-own-id-1"
	got, err := c.CreateOrUpdateRegistration(ctx, own, nil)
	if err != nil {
		t.Fatalf("upsert with a caller-chosen id: %v", err)
	}
	if got.RegistrationID != "my-own-id-1" {
		t.Errorf("id = %q, want my-own-id-1", got.RegistrationID)
	}

	// UpdateRegistration on a missing registration is a 404.
	missing := nh.NewAppleRegistration(appleToken)
	missing.RegistrationID, missing.ETag = "does-not-exist-1", "1"
	if _, err := c.UpdateRegistration(ctx, missing, nil); !errors.Is(err, nh.ErrNotFound) {
		t.Errorf("UpdateRegistration of a missing registration: err = %v, want ErrNotFound", err)
	}
}

// TestContractListRegistrations pages through every listing with more
// than three pages, and resumes one from a continuation token.
func TestContractListRegistrations(t *testing.T) {
	_, c := newContract(t, nil)
	ctx := contractCtx(t)
	const handle = "paged-token"
	var all, tagged []string
	for range 10 {
		r := mustCreate(t, ctx, c, nh.NewFcmV1Registration(handle, "paged", "#hash:tag"))
		all = append(all, r.RegistrationID)
		tagged = append(tagged, r.RegistrationID)
	}
	for i := range 3 {
		r := mustCreate(t, ctx, c, nh.NewGcmRegistration(fmt.Sprintf("other-%d", i), "other"))
		all = append(all, r.RegistrationID)
	}
	sort.Strings(all)
	sort.Strings(tagged)

	ids, pages, first := collect(t, ctx, c.NewListRegistrationsPager(&nh.ListRegistrationsOptions{Top: 3}))
	if d := cmp.Diff(all, ids); d != "" {
		t.Errorf("list all (-want +got):\n%s", d)
	}
	if pages != 5 {
		t.Errorf("list all: %d pages of 3 for 13 registrations, want 5", pages)
	}
	if first == nil {
		t.Fatal("first page has no continuation token")
	}
	rest, _, _ := collect(t, ctx, c.NewListRegistrationsPager(&nh.ListRegistrationsOptions{Top: 3, ContinuationToken: first}))
	if len(rest) != len(all)-3 {
		t.Errorf("resumed listing has %d registrations, want %d", len(rest), len(all)-3)
	}

	for _, tag := range []string{"paged", "#hash:tag"} {
		ids, pages, _ = collect(t, ctx, c.NewListRegistrationsByTagPager(tag, &nh.ListRegistrationsByTagOptions{Top: 3}))
		if d := cmp.Diff(tagged, ids); d != "" {
			t.Errorf("list by tag %q (-want +got):\n%s", tag, d)
		}
		if pages != 4 {
			t.Errorf("list by tag %q: %d pages, want 4", tag, pages)
		}
	}
	ids, _, _ = collect(t, ctx, c.NewListRegistrationsByTagPager("unused", nil))
	if len(ids) != 0 {
		t.Errorf("list by an unused tag: %v, want none", ids)
	}

	ids, pages, _ = collect(t, ctx, c.NewListRegistrationsByChannelPager(handle, &nh.ListRegistrationsByChannelOptions{Top: 3}))
	if d := cmp.Diff(tagged, ids); d != "" {
		t.Errorf("list by channel (-want +got):\n%s", d)
	}
	if pages != 4 {
		t.Errorf("list by channel: %d pages, want 4", pages)
	}

	// Every platform's handle is found by channel, APNs tokens in any case.
	for _, pc := range platformCases() {
		r := mustCreate(t, ctx, c, pc.native())
		h := pc.handle
		if pc.format == nh.FormatApple {
			h = strings.ToLower(h)
		}
		ids, _, _ := collect(t, ctx, c.NewListRegistrationsByChannelPager(h, nil))
		if !slices.Contains(ids, r.RegistrationID) {
			t.Errorf("list by channel %q: %v does not contain %s", h, ids, r.RegistrationID)
		}
	}
}

// TestContractDeleteRegistrationsByChannel deletes more registrations of
// one handle than fit in the SDK's pages of 100.
func TestContractDeleteRegistrationsByChannel(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	const handle = "shared-channel"
	var want []string
	for range 230 {
		want = append(want, mustCreate(t, ctx, c, nh.NewGcmRegistration(handle, "x")).RegistrationID)
	}
	keep := mustCreate(t, ctx, c, nh.NewGcmRegistration("another-channel", "x"))
	// The default page size needs several pages too.
	if ids, pages, _ := collect(t, ctx, c.NewListRegistrationsPager(nil)); len(ids) != 231 || pages < 2 {
		t.Errorf("list all without Top: %d registrations in %d pages, want 231 in several", len(ids), pages)
	}
	resp, err := c.DeleteRegistrationsByChannel(ctx, handle, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Clone(resp.Deleted)
	sort.Strings(got)
	sort.Strings(want)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("deleted (-want +got):\n%s", d)
	}
	ids, _, _ := collect(t, ctx, c.NewListRegistrationsPager(nil))
	if d := cmp.Diff([]string{keep.RegistrationID}, ids); d != "" {
		t.Errorf("left in the hub (-want +got):\n%s", d)
	}
	if hs := srv.Hubs(); len(hs) != 1 || hs[0].Registrations != 1 {
		t.Errorf("emulator hubs = %+v, want one registration left", hs)
	}
	// Nothing left to delete is not an error.
	resp, err = c.DeleteRegistrationsByChannel(ctx, handle, nil)
	if err != nil || len(resp.Deleted) != 0 {
		t.Errorf("second DeleteRegistrationsByChannel = %v, %v; want nothing deleted", resp.Deleted, err)
	}
}
