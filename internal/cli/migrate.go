package cli

import (
	"context"
	"fmt"
	"strings"

	notificationhubs "github.com/nhkit/notificationhubs"
	"github.com/spf13/cobra"
)

func newMigrateCmd(f *factory) *cobra.Command {
	cmd := groupCmd("migrate", "Migrate registrations between push protocols",
		`  nh migrate fcmv1 --dry-run`)
	cmd.AddCommand(newMigrateFcmV1Cmd(f))
	return cmd
}

type migrateOptions struct {
	f        *factory
	dryRun   bool
	tag      string
	recreate bool
}

func newMigrateFcmV1Cmd(f *factory) *cobra.Command {
	opts := &migrateOptions{f: f}
	cmd := &cobra.Command{
		Use:   "fcmv1",
		Short: "Move FCM legacy (GCM) registrations to FCM v1",
		Long: `Fcmv1 rewrites every FCM legacy (GCM) registration as an FCM v1 registration
with the same id, token, tags and (converted) template, and deletes GCM
registrations whose device already has an FCM v1 one. Registrations derived
from installations are skipped: put the installation again with platform
fcmv1. --dry-run prints the plan without changing anything; a real run then
does exactly that, unless the hub changed meanwhile.`,
		Example: `  nh migrate fcmv1 --dry-run
  nh migrate fcmv1 --tag beta -o json
  nh migrate fcmv1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMigrateFcmV1(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.dryRun, "dry-run", false, "report the plan, change nothing")
	cmd.Flags().StringVar(&opts.tag, "tag", "", "only registrations with this tag")
	cmd.Flags().BoolVar(&opts.recreate, "recreate", false, "create new FCM v1 registrations and delete the GCM ones instead of rewriting in place")
	return cmd
}

type migrationView struct {
	DryRun    bool                `json:"dryRun"`
	Scanned   int                 `json:"scanned"`
	Rewritten int                 `json:"rewritten"`
	Deleted   int                 `json:"deleted"`
	Skipped   int                 `json:"skipped"`
	Failed    int                 `json:"failed"`
	Items     []migrationItemView `json:"items"`
}

type migrationItemView struct {
	RegistrationID    string   `json:"registrationId"`
	Action            string   `json:"action"`
	Reason            string   `json:"reason,omitempty"`
	Changes           []string `json:"changes,omitempty"`
	Done              bool     `json:"done"`
	NewRegistrationID string   `json:"newRegistrationId,omitempty"`
	Error             string   `json:"error,omitempty"`
}

func runMigrateFcmV1(ctx context.Context, opts *migrateOptions) error {
	f := opts.f
	c, err := f.client(clientConfig{})
	if err != nil {
		return err
	}
	rep, err := c.MigrateGcmToFcmV1(ctx, &notificationhubs.MigrateGcmToFcmV1Options{DryRun: opts.dryRun, Tag: opts.tag, Recreate: opts.recreate})
	if err != nil {
		return fmt.Errorf("migrate to FCM v1: %w", err)
	}
	v := migrationView{DryRun: rep.DryRun, Scanned: rep.Scanned, Rewritten: rep.Rewritten, Deleted: rep.Deleted,
		Skipped: rep.Skipped, Failed: rep.Failed, Items: []migrationItemView{}}
	for _, it := range rep.Items {
		iv := migrationItemView{RegistrationID: it.RegistrationID, Action: string(it.Action), Reason: it.Reason,
			Changes: it.Changes, Done: it.Done, NewRegistrationID: it.NewRegistrationID}
		if it.Err != nil {
			iv.Error = it.Err.Error()
		}
		v.Items = append(v.Items, iv)
	}
	if f.output == outputJSON {
		if err := writeJSON(f.io.Out, v); err != nil {
			return err
		}
	} else {
		w := f.io.Out
		verb := "migrated"
		if v.DryRun {
			verb = "dry run, would migrate"
		}
		fmt.Fprintf(w, "%s: scanned %d registration(s); rewrite %d, delete %d, skip %d, failed %d\n",
			verb, v.Scanned, v.Rewritten, v.Deleted, v.Skipped, v.Failed)
		if len(v.Items) > 0 {
			t := newTable("REGISTRATION", "ACTION", "DONE", "DETAIL")
			for _, it := range v.Items {
				detail := it.Reason
				if detail == "" {
					detail = strings.Join(it.Changes, "; ")
				}
				if it.Error != "" {
					detail = "error: " + it.Error
				}
				done := "no"
				if it.Done {
					done = "yes"
				}
				t.add(it.RegistrationID, it.Action, done, detail)
			}
			if err := t.write(w, true); err != nil {
				return err
			}
		}
	}
	if v.Failed > 0 {
		return fmt.Errorf("%d registration(s) failed to migrate; run again", v.Failed)
	}
	return nil
}
