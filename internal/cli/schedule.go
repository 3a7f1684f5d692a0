// nh schedule: what is done with notifications scheduled by nh send --at.

package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	notificationhubs "github.com/nhkit/notificationhubs"
)

func newScheduleCmd(f *factory) *cobra.Command {
	cmd := groupCmd("schedule", "Manage scheduled notifications",
		`  nh send template --prop greeting_en=Hello --schedule +1h
  nh schedule cancel af14e491a7994a65b7b3a5681a373337_20181107001832_33331921_17`)
	cmd.AddCommand(newScheduleCancelCmd(f))
	return cmd
}

type scheduleCancelOptions struct {
	f  *factory
	id string
}

func newScheduleCancelCmd(f *factory) *cobra.Command {
	opts := &scheduleCancelOptions{f: f}
	return &cobra.Command{
		Use:     "cancel SCHEDULED_ID",
		Short:   "Cancel a scheduled notification",
		Example: `  nh schedule cancel af14e491a7994a65b7b3a5681a373337_20181107001832_33331921_17`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.id = args[0]
			c, err := f.client(clientConfig{})
			if err != nil {
				return err
			}
			if _, err := c.CancelScheduledNotification(cmd.Context(), opts.id, nil); err != nil {
				var re *notificationhubs.ResponseError
				if errors.As(err, &re) && re.StatusCode == 404 {
					return fmt.Errorf("cancel scheduled notification %s: not found: it was never scheduled, has been sent, or was cancelled already (404, tracking id %s)", opts.id, re.TrackingID)
				}
				return fmt.Errorf("cancel scheduled notification %s: %w", opts.id, err)
			}
			if f.output == outputJSON {
				return writeJSON(f.io.Out, scheduleCancelView{Canceled: true, ScheduledNotificationID: opts.id})
			}
			fmt.Fprintf(f.io.Out, "canceled scheduled notification %s\n", opts.id)
			return nil
		},
	}
}
