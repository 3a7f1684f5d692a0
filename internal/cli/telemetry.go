package cli

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	notificationhubs "github.com/nhkit/notificationhubs"
)

// redactURL hides the SAS signature of a storage URL: sig=REDACTED.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.RawQuery == "" {
		return u.String()
	}
	q := u.Query()
	if q.Has("sig") {
		q.Set("sig", "REDACTED")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

type outcomeOptions struct {
	f        *factory
	id       string
	wait     bool
	interval time.Duration
	timeout  time.Duration
}

func newOutcomeCmd(f *factory) *cobra.Command {
	opts := &outcomeOptions{f: f}
	cmd := &cobra.Command{
		Use:   "outcome NOTIFICATION_ID",
		Short: "Show the telemetry of a sent notification",
		Long: `Outcome reads the per-message telemetry of a notification (Standard tier):
its state and the outcome counts per platform. The notification id is printed
by 'nh send'. --wait polls until the state is final.`,
		Example: `  nh outcome 73622a22797441e4b434e8c2c14112ce-20181107001834-33331921-18
  nh outcome 73622a22797441e4b434e8c2c14112ce-20181107001834-33331921-18 --wait --interval 2s -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.id = args[0]
			if opts.interval <= 0 {
				return usageErrorf("--interval must be positive")
			}
			return runOutcome(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.wait, "wait", false, "poll until the state is final")
	cmd.Flags().DurationVar(&opts.interval, "interval", 10*time.Second, "wait between polls with --wait")
	cmd.Flags().DurationVar(&opts.timeout, "timeout", 30*time.Minute, "give up waiting after this long")
	return cmd
}

// detailsView is the stable JSON form of notification details.
type detailsView struct {
	NotificationID  string                    `json:"notificationId"`
	State           string                    `json:"state"`
	EnqueueTime     *time.Time                `json:"enqueueTime,omitempty"`
	StartTime       *time.Time                `json:"startTime,omitempty"`
	EndTime         *time.Time                `json:"endTime,omitempty"`
	Tags            string                    `json:"tags,omitempty"`
	TargetPlatforms []string                  `json:"targetPlatforms,omitempty"`
	Outcomes        map[string]map[string]int `json:"outcomes,omitempty"`
	Body            string                    `json:"body,omitempty"`
	HasErrorDetails bool                      `json:"hasPnsErrorDetails,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func runOutcome(ctx context.Context, opts *outcomeOptions) error {
	f := opts.f
	c, err := f.client(clientConfig{})
	if err != nil {
		return err
	}
	var resp notificationhubs.GetNotificationOutcomeDetailsResponse
	if opts.wait {
		resp, err = c.WaitForNotificationOutcomeDetails(ctx, opts.id, &notificationhubs.WaitForNotificationOutcomeDetailsOptions{
			PollInterval: opts.interval, Timeout: opts.timeout,
		})
	} else {
		resp, err = c.GetNotificationOutcomeDetails(ctx, opts.id, nil)
	}
	if err != nil {
		return fmt.Errorf("outcome of %s: %w", opts.id, err)
	}
	d := resp.NotificationDetails
	v := detailsView{
		NotificationID:  d.NotificationID,
		State:           string(d.State),
		EnqueueTime:     timePtr(d.EnqueueTime),
		StartTime:       timePtr(d.StartTime),
		EndTime:         timePtr(d.EndTime),
		Tags:            d.Tags,
		TargetPlatforms: d.TargetPlatforms,
		Outcomes:        d.Outcomes,
		Body:            d.NotificationBody,
		HasErrorDetails: d.PnsErrorDetailsURI != "",
	}
	if v.NotificationID == "" {
		v.NotificationID = opts.id
	}
	if f.output == outputJSON {
		return writeJSON(f.io.Out, v)
	}
	kv := &keyValues{}
	kv.add("Notification", v.NotificationID)
	kv.add("State", v.State)
	for _, p := range []struct {
		k string
		t *time.Time
	}{{"Enqueued", v.EnqueueTime}, {"Started", v.StartTime}, {"Ended", v.EndTime}} {
		if p.t != nil {
			kv.add(p.k, p.t.Format(time.RFC3339))
		}
	}
	kv.add("Tags", v.Tags)
	kv.add("Platforms", strings.Join(v.TargetPlatforms, ", "))
	if v.HasErrorDetails {
		kv.add("PNS error details", "available (a signed blob URL; not printed)")
	}
	if err := kv.write(f.io.Out); err != nil {
		return err
	}
	if len(v.Outcomes) > 0 {
		fmt.Fprintln(f.io.Out)
		t := newTable("PLATFORM", "OUTCOME", "COUNT")
		platforms := make([]string, 0, len(v.Outcomes))
		for p := range v.Outcomes {
			platforms = append(platforms, p)
		}
		sort.Strings(platforms)
		for _, p := range platforms {
			names := make([]string, 0, len(v.Outcomes[p]))
			for n := range v.Outcomes[p] {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				t.add(p, n, strconv.Itoa(v.Outcomes[p][n]))
			}
		}
		return t.write(f.io.Out, true)
	}
	return nil
}

type feedbackOptions struct {
	f      *factory
	reveal bool
}

func newFeedbackCmd(f *factory) *cobra.Command {
	opts := &feedbackOptions{f: f}
	cmd := &cobra.Command{
		Use:   "feedback",
		Short: "Show the URL of the PNS feedback container",
		Long: `Feedback prints the Azure Storage container where the service writes PNS
feedback (expired channels, bad tokens; Standard tier). The URL carries a SAS
signature, which is a secret: it is printed as sig=REDACTED unless you ask
for it with --reveal.`,
		Example: `  nh feedback
  nh feedback --reveal -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFeedback(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.reveal, "reveal", false, "print the URL with its SAS signature")
	return cmd
}

func runFeedback(ctx context.Context, opts *feedbackOptions) error {
	f := opts.f
	c, err := f.client(clientConfig{})
	if err != nil {
		return err
	}
	resp, err := c.GetFeedbackContainerURL(ctx, nil)
	if err != nil {
		return fmt.Errorf("feedback container: %w", err)
	}
	u := resp.URL
	if !opts.reveal {
		u = redactURL(u)
	}
	if f.output == outputJSON {
		return writeJSON(f.io.Out, feedbackView{Redacted: !opts.reveal, URL: u})
	}
	fmt.Fprintln(f.io.Out, u)
	return nil
}
