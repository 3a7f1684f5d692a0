package notificationhubs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// MigrateGcmToFcmV1Options contains the optional parameters of MigrateGcmToFcmV1.
type MigrateGcmToFcmV1Options struct {
	// Tag, when set, migrates only the registrations that carry this tag
	// (listed by tag); otherwise every registration of the hub is scanned.
	Tag string
	// DryRun plans and reports without changing anything. A real run
	// afterwards does exactly what the dry run reported, unless the hub
	// changed in between.
	DryRun bool
	// Recreate, instead of rewriting each registration in place under its
	// id, creates a new FCM v1 registration and then deletes the GCM one.
	// Use it only if the service refuses the in-place rewrite.
	Recreate bool
	// PageSize is the listing page size (default and maximum 100).
	PageSize int
	// ConvertTemplate converts a legacy FCM template body to an FCM v1
	// body; the default is ConvertGcmTemplateToFcmV1. An error skips the
	// registration, with the error as the reason.
	ConvertTemplate func(gcmBody string) (string, error)
}

// MigrationAction is what the migration does with one GCM registration.
type MigrationAction string

// Migration actions.
const (
	// MigrationActionRewrite rewrites the registration as FCM v1
	// (in place, or recreated with MigrateGcmToFcmV1Options.Recreate).
	MigrationActionRewrite MigrationAction = "rewrite"
	// MigrationActionDelete deletes the GCM registration because an FCM v1
	// registration with the same token and template already exists (the
	// app has re-registered); rewriting would deliver twice.
	MigrationActionDelete MigrationAction = "delete"
	// MigrationActionSkip leaves the registration alone; Reason says why.
	MigrationActionSkip MigrationAction = "skip"
)

// MigrationItem is the plan and outcome for one GCM registration.
type MigrationItem struct {
	// RegistrationID is the GCM registration's id.
	RegistrationID string
	// Action is what the migration does with it.
	Action MigrationAction
	// Reason explains a skip or a delete.
	Reason string
	// Changes lists, in words, what the rewrite changes and keeps.
	Changes []string
	// Before is the GCM registration as listed.
	Before Registration
	// After is the FCM v1 registration the rewrite writes (zero unless
	// Action is MigrationActionRewrite). In place, it keeps the id.
	After Registration

	// Done reports that a real run carried the action out.
	Done bool
	// NewRegistrationID is the id of the FCM v1 registration after a real
	// run (the same id in place; the new one with Recreate).
	NewRegistrationID string
	// NewETag is the FCM v1 registration's ETag after a real run.
	NewETag azcore.ETag
	// Err is why a real run failed for this registration (412 when the
	// device changed it meanwhile: run the migration again).
	Err error
}

// MigrationReport is the result of MigrateGcmToFcmV1.
type MigrationReport struct {
	// DryRun is true when nothing was changed.
	DryRun bool
	// Scanned counts the registrations listed (all platforms).
	Scanned int
	// Items has one entry per GCM registration, in listing order.
	Items []MigrationItem
	// Rewritten, Deleted, Skipped and Failed count the items by outcome;
	// in a dry run Rewritten and Deleted count what would be done.
	Rewritten, Deleted, Skipped, Failed int
}

// MigrateGcmToFcmV1 moves FCM legacy (GCM) registrations to FCM v1: it
// lists the hub's registrations page by page (only those with
// options.Tag, if set), plans one item per GCM registration, and unless
// options.DryRun carries the plan out. Listing finishes before anything is
// written, so the writes cannot disturb the paging, and a dry run reports
// exactly what a real run then does.
//
// Each GCM registration is rewritten in place: PUT registrations/{id}
// with an FcmV1 description and If-Match on its ETag. Keeping the id
// matters because apps store their registration id and upsert it on every
// start; a new id would leave the app updating a registration that no
// longer exists while the migrated copy goes stale. The If-Match makes the
// rewrite lose to a device that updates its registration concurrently
// (the item fails with a 412; run again). The token is the same for both
// protocols; tags, push variables, template name and (converted) template
// body are kept. Registrations derived from installations (tagged
// $InstallationId:{…}) are skipped: replace the installation with platform
// fcmv1 instead. A GCM registration whose token and template already have
// an FCM v1 registration is deleted rather than duplicated.
//
// Failures of single registrations are recorded in their items and do not
// stop the run; an error is returned only when listing fails or ctx ends.
func (c *Client) MigrateGcmToFcmV1(ctx context.Context, options *MigrateGcmToFcmV1Options) (MigrationReport, error) {
	var o MigrateGcmToFcmV1Options
	if options != nil {
		o = *options
	}
	if o.PageSize <= 0 || o.PageSize > 100 {
		o.PageSize = 100
	}
	if o.ConvertTemplate == nil {
		o.ConvertTemplate = ConvertGcmTemplateToFcmV1
	}
	all, err := c.listForMigration(ctx, o)
	if err != nil {
		return MigrationReport{DryRun: o.DryRun}, err
	}
	report := planMigration(all, o)
	if o.DryRun {
		return report, nil
	}
	for i := range report.Items {
		it := &report.Items[i]
		if err := ctx.Err(); err != nil {
			return report, fmt.Errorf("notificationhubs: MigrateGcmToFcmV1 stopped after %d of %d registrations: %w", i, len(report.Items), err)
		}
		switch it.Action {
		case MigrationActionRewrite:
			it.Err = c.migrateOne(ctx, it, o.Recreate)
		case MigrationActionDelete:
			etag := it.Before.ETag
			_, it.Err = c.DeleteRegistration(ctx, it.RegistrationID, &DeleteRegistrationOptions{ETag: &etag})
		default:
			continue
		}
		if it.Err == nil {
			it.Done = true
		}
	}
	report.Rewritten, report.Deleted, report.Failed = 0, 0, 0
	for _, it := range report.Items {
		switch {
		case it.Err != nil:
			report.Failed++
		case it.Done && it.Action == MigrationActionRewrite:
			report.Rewritten++
		case it.Done && it.Action == MigrationActionDelete:
			report.Deleted++
		}
	}
	return report, nil
}

func (c *Client) migrateOne(ctx context.Context, it *MigrationItem, recreate bool) error {
	if !recreate {
		after := it.After
		after.ETag = it.Before.ETag
		got, err := c.UpdateRegistration(ctx, after, nil)
		if err != nil {
			return err
		}
		it.NewRegistrationID, it.NewETag = got.RegistrationID, got.ETag
		return nil
	}
	after := it.After
	after.RegistrationID = ""
	created, err := c.CreateRegistration(ctx, after, nil)
	if err != nil {
		return err
	}
	it.NewRegistrationID, it.NewETag = created.RegistrationID, created.ETag
	etag := it.Before.ETag
	if _, err := c.DeleteRegistration(ctx, it.RegistrationID, &DeleteRegistrationOptions{ETag: &etag}); err != nil {
		return fmt.Errorf("created FCM v1 registration %q but could not delete the GCM one: %w", created.RegistrationID, err)
	}
	return nil
}

func (c *Client) listForMigration(ctx context.Context, o MigrateGcmToFcmV1Options) ([]Registration, error) {
	pager := c.NewListRegistrationsPager(&ListRegistrationsOptions{Top: o.PageSize})
	if o.Tag != "" {
		pager = c.NewListRegistrationsByTagPager(o.Tag, &ListRegistrationsByTagOptions{Top: o.PageSize})
	}
	var all []Registration
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("notificationhubs: MigrateGcmToFcmV1: listing registrations: %w", err)
		}
		all = append(all, page.Registrations...)
	}
	return all, nil
}

// planMigration decides, without any request, what happens to each GCM
// registration in all.
func planMigration(all []Registration, o MigrateGcmToFcmV1Options) MigrationReport {
	report := MigrationReport{DryRun: o.DryRun, Scanned: len(all)}
	// FCM v1 registrations already present, by token and template name.
	type key struct{ token, template string }
	existing := map[key]string{}
	for _, r := range all {
		if r.Platform == RegistrationPlatformFcmV1 {
			existing[key{r.FcmV1RegistrationID, templateKey(r)}] = r.RegistrationID
		}
	}
	for _, r := range all {
		if r.Platform != RegistrationPlatformGcm {
			continue
		}
		it := MigrationItem{RegistrationID: r.RegistrationID, Before: r}
		if inst := installationTag(r.Tags); inst != "" {
			it.Action = MigrationActionSkip
			it.Reason = fmt.Sprintf("derived from installation %s: replace the installation with platform fcmv1 instead", inst)
		} else if dup, ok := existing[key{r.GcmRegistrationID, templateKey(r)}]; ok {
			it.Action = MigrationActionDelete
			it.Reason = fmt.Sprintf("FCM v1 registration %s already exists for this token and template", dup)
		} else {
			after, changes, err := gcmToFcmV1(r, o.ConvertTemplate)
			if err != nil {
				it.Action = MigrationActionSkip
				it.Reason = err.Error()
			} else {
				it.Action, it.After, it.Changes = MigrationActionRewrite, after, changes
				if o.Recreate {
					it.Changes = append(it.Changes, "registration: recreated under a new id, then the GCM registration is deleted")
				}
			}
		}
		switch it.Action {
		case MigrationActionRewrite:
			report.Rewritten++
		case MigrationActionDelete:
			report.Deleted++
		case MigrationActionSkip:
			report.Skipped++
		}
		report.Items = append(report.Items, it)
	}
	return report
}

func templateKey(r Registration) string {
	if r.Template == nil {
		return "\x00native"
	}
	return r.Template.Name
}

func installationTag(tags []string) string {
	for _, t := range tags {
		if len(t) > len("$InstallationId:") && strings.EqualFold(t[:len("$InstallationId:")], "$InstallationId:") {
			return t[len("$InstallationId:"):]
		}
	}
	return ""
}

// gcmToFcmV1 builds the FCM v1 registration replacing r.
func gcmToFcmV1(r Registration, convert func(string) (string, error)) (Registration, []string, error) {
	after := Registration{
		RegistrationID:      r.RegistrationID,
		Platform:            RegistrationPlatformFcmV1,
		FcmV1RegistrationID: r.GcmRegistrationID,
		Tags:                r.Tags,
		PushVariables:       r.PushVariables,
	}
	changes := []string{
		"platform: Gcm → FcmV1 (same registration id)",
		"handle: GcmRegistrationId → FcmV1RegistrationId (same token)",
	}
	if r.Template != nil {
		body, err := convert(r.Template.Body)
		if err != nil {
			return Registration{}, nil, fmt.Errorf("template body cannot be converted: %w", err)
		}
		t := *r.Template
		t.Body = body
		after.Template = &t
		if body == r.Template.Body {
			changes = append(changes, "template body: unchanged")
		} else {
			changes = append(changes, "template body: legacy FCM payload → FCM v1 message")
		}
	}
	var kept []string
	if n := len(r.Tags); n > 0 {
		kept = append(kept, plural(n, "tag"))
	}
	if n := len(r.PushVariables); n > 0 {
		kept = append(kept, plural(n, "push variable"))
	}
	if r.Template != nil && r.Template.Name != "" {
		kept = append(kept, fmt.Sprintf("template name %q", r.Template.Name))
	}
	if len(kept) > 0 {
		changes = append(changes, "kept: "+strings.Join(kept, ", "))
	}
	return after, changes, nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// ConvertGcmTemplateToFcmV1 converts a legacy FCM (GCM) template body to
// the FCM v1 message format Notification Hubs expects for FcmV1
// templates, placing the legacy Android fields under message.android:
//
//	{"data":{"m":"$(msg)"},"priority":"high","time_to_live":60}
//	→ {"message":{"android":{"data":{"m":"$(msg)"},"priority":"high","ttl":"60s"}}}
//
// data, notification, priority, time_to_live (a number of seconds),
// collapse_key and restricted_package_name are converted; a body that
// already is {"message":{…}} is returned unchanged. Anything else (other
// top-level fields, non-string data values, which FCM v1 rejects) is an
// error, so that nothing is silently dropped. Template expressions inside
// string values are kept as they are. Keys come out sorted.
func ConvertGcmTemplateToFcmV1(body string) (string, error) {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var legacy map[string]any
	if err := dec.Decode(&legacy); err != nil {
		return "", fmt.Errorf("not a JSON object: %w", err)
	}
	// Only white space may follow. (Decoder.More reports false before a
	// stray '}' or ']', so it cannot tell.)
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("not a JSON object: data after the object")
	}
	if _, ok := legacy["message"]; ok {
		if len(legacy) == 1 {
			return body, nil
		}
		return "", fmt.Errorf("mixes \"message\" with legacy fields")
	}
	android := map[string]any{}
	var unknown []string
	for k, v := range legacy {
		switch k {
		case "data":
			m, ok := v.(map[string]any)
			if !ok {
				return "", fmt.Errorf("data is not an object")
			}
			for dk, dv := range m {
				if _, ok := dv.(string); !ok {
					return "", fmt.Errorf("data.%s is not a string (FCM v1 data values must be strings)", dk)
				}
			}
			android["data"] = m
		case "notification":
			if _, ok := v.(map[string]any); !ok {
				return "", fmt.Errorf("notification is not an object")
			}
			android["notification"] = v
		case "priority":
			s, ok := v.(string)
			if !ok {
				return "", fmt.Errorf("priority is not a string")
			}
			if strings.EqualFold(s, "high") || strings.EqualFold(s, "normal") {
				s = strings.ToLower(s)
			}
			android["priority"] = s
		case "time_to_live":
			n, ok := v.(json.Number)
			if !ok {
				return "", fmt.Errorf("time_to_live is not a number of seconds (convert it by hand)")
			}
			android["ttl"] = n.String() + "s"
		case "collapse_key", "restricted_package_name":
			android[k] = v
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return "", fmt.Errorf("no FCM v1 equivalent known for %s (convert by hand with MigrateGcmToFcmV1Options.ConvertTemplate)", strings.Join(unknown, ", "))
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]any{"message": map[string]any{"android": android}}); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
