package cli

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	notificationhubs "github.com/nhkit/notificationhubs"
	"github.com/spf13/cobra"
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

func newOutcomeCmd(f *factory, runF func(context.Context, *outcomeOptions) error) *cobra.Command {
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
			if runF != nil {
				return runF(cmd.Context(), opts)
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

func newFeedbackCmd(f *factory, runF func(context.Context, *feedbackOptions) error) *cobra.Command {
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
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
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
		return writeJSON(f.io.Out, map[string]any{"url": u, "redacted": !opts.reveal})
	}
	fmt.Fprintln(f.io.Out, u)
	return nil
}

func newJobCmd(f *factory) *cobra.Command {
	cmd := groupCmd("job", "Import and export registrations in bulk",
		`  nh job export --container 'https://acct.blob.core.windows.net/c?sv=…&sig=…' --wait
  nh job list`)
	cmd.Aliases = []string{"jobs"}
	cmd.AddCommand(
		newJobSubmitCmd(f, "export", nil),
		newJobSubmitCmd(f, "import", nil),
		newJobGetCmd(f, nil),
		newJobListCmd(f, nil),
	)
	return cmd
}

var importModes = map[string]notificationhubs.JobType{
	"create": notificationhubs.JobTypeImportCreateRegistrations,
	"update": notificationhubs.JobTypeImportUpdateRegistrations,
	"delete": notificationhubs.JobTypeImportDeleteRegistrations,
	"upsert": notificationhubs.JobTypeImportUpsertRegistrations,
}

type jobSubmitOptions struct {
	f          *factory
	kind       string // export or import
	container  string
	importFile string
	mode       string
	wait       bool
	interval   time.Duration
}

func newJobSubmitCmd(f *factory, kind string, runF func(context.Context, *jobSubmitOptions) error) *cobra.Command {
	opts := &jobSubmitOptions{f: f, kind: kind}
	cmd := &cobra.Command{
		Use:   kind,
		Short: map[string]string{"export": "Export every registration to a blob container", "import": "Import registrations from a blob file"}[kind],
		Example: map[string]string{
			"export": `  nh job export --container 'https://acct.blob.core.windows.net/out?sv=…&sp=rwl&sig=…' --wait`,
			"import": `  nh job import --mode upsert --file 'https://acct.blob.core.windows.net/in/regs.txt?sv=…&sp=r&sig=…' --container 'https://acct.blob.core.windows.net/out?sv=…&sig=…'`,
		}[kind],
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.container == "" {
				return usageErrorf("--container is required")
			}
			if kind == "import" {
				if opts.importFile == "" {
					return usageErrorf("--file is required")
				}
				if _, ok := importModes[opts.mode]; !ok {
					return usageErrorf("--mode must be create, update, delete or upsert, not %q", opts.mode)
				}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runJobSubmit(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.container, "container", "", "output blob container URL with a write/list SAS signature")
	if kind == "import" {
		fl.StringVar(&opts.importFile, "file", "", "blob URL (with a read SAS signature) of the registrations to import")
		fl.StringVar(&opts.mode, "mode", "upsert", "create, update, delete or upsert")
	}
	fl.BoolVar(&opts.wait, "wait", false, "poll until the job completes or fails")
	fl.DurationVar(&opts.interval, "interval", 2*time.Second, "wait between polls with --wait")
	return cmd
}

func runJobSubmit(ctx context.Context, opts *jobSubmitOptions) error {
	f := opts.f
	c, err := f.client(clientConfig{})
	if err != nil {
		return err
	}
	job := notificationhubs.Job{Type: notificationhubs.JobTypeExportRegistrations, OutputContainerURL: opts.container}
	if opts.kind == "import" {
		job.Type = importModes[opts.mode]
		job.ImportFileURL = opts.importFile
	}
	resp, err := c.SubmitNotificationHubJob(ctx, job, nil)
	if err != nil {
		return fmt.Errorf("submit %s job: %w", opts.kind, err)
	}
	got := resp.Job
	if opts.wait {
		w, err := c.WaitForNotificationHubJob(ctx, got.JobID, &notificationhubs.WaitForNotificationHubJobOptions{PollInterval: opts.interval})
		if err != nil {
			return err
		}
		got = w.Job
	}
	if err := printJob(f, got); err != nil {
		return err
	}
	if got.Status == notificationhubs.JobStatusFailed {
		return fmt.Errorf("job %s failed: %s", got.JobID, got.Failure)
	}
	return nil
}

type jobGetOptions struct {
	f        *factory
	id       string
	wait     bool
	interval time.Duration
}

func newJobGetCmd(f *factory, runF func(context.Context, *jobGetOptions) error) *cobra.Command {
	opts := &jobGetOptions{f: f}
	cmd := &cobra.Command{
		Use:     "get JOB_ID",
		Short:   "Show a job",
		Example: `  nh job get 2518085877924241193a972e50a-f767-43f5-9389-22c9956daafa --wait`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.id = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runJobGet(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.wait, "wait", false, "poll until the job completes or fails")
	cmd.Flags().DurationVar(&opts.interval, "interval", 2*time.Second, "wait between polls with --wait")
	return cmd
}

func runJobGet(ctx context.Context, opts *jobGetOptions) error {
	c, err := opts.f.client(clientConfig{})
	if err != nil {
		return err
	}
	var resp notificationhubs.GetNotificationHubJobResponse
	if opts.wait {
		resp, err = c.WaitForNotificationHubJob(ctx, opts.id, &notificationhubs.WaitForNotificationHubJobOptions{PollInterval: opts.interval})
	} else {
		resp, err = c.GetNotificationHubJob(ctx, opts.id, nil)
	}
	if err != nil {
		return fmt.Errorf("job %s: %w", opts.id, err)
	}
	return printJob(opts.f, resp.Job)
}

type jobListOptions struct{ f *factory }

func newJobListCmd(f *factory, runF func(context.Context, *jobListOptions) error) *cobra.Command {
	opts := &jobListOptions{f: f}
	return &cobra.Command{
		Use:     "list",
		Short:   "List the hub's jobs",
		Example: `  nh job list -o json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			c, err := f.client(clientConfig{})
			if err != nil {
				return err
			}
			resp, err := c.ListNotificationHubJobs(cmd.Context(), nil)
			if err != nil {
				return fmt.Errorf("list jobs: %w", err)
			}
			views := []jobView{}
			for _, j := range resp.Jobs {
				views = append(views, viewJob(j))
			}
			if f.output == outputJSON {
				return writeJSON(f.io.Out, map[string]any{"jobs": views})
			}
			t := newTable("ID", "TYPE", "STATUS", "PROGRESS", "CREATED")
			for _, v := range views {
				created := ""
				if v.CreatedAt != nil {
					created = v.CreatedAt.Format(time.RFC3339)
				}
				t.add(v.JobID, v.Type, v.Status, fmt.Sprintf("%.0f%%", v.Progress), created)
			}
			return t.write(f.io.Out, f.io.OutTTY)
		},
	}
}

// jobView is the stable JSON form of a job; container URLs are redacted.
type jobView struct {
	JobID            string            `json:"jobId"`
	Type             string            `json:"type"`
	Status           string            `json:"status"`
	Progress         float64           `json:"progress"`
	OutputContainer  string            `json:"outputContainer,omitempty"`
	ImportFile       string            `json:"importFile,omitempty"`
	OutputProperties map[string]string `json:"outputProperties,omitempty"`
	Failure          string            `json:"failure,omitempty"`
	CreatedAt        *time.Time        `json:"createdAt,omitempty"`
	UpdatedAt        *time.Time        `json:"updatedAt,omitempty"`
}

func viewJob(j notificationhubs.Job) jobView {
	status := string(j.Status)
	if status == "" {
		status = string(notificationhubs.JobStatusStarted)
	}
	v := jobView{
		JobID: j.JobID, Type: string(j.Type), Status: status, Progress: j.Progress,
		OutputProperties: j.OutputProperties, Failure: j.Failure,
		CreatedAt: timePtr(j.CreatedAt), UpdatedAt: timePtr(j.UpdatedAt),
	}
	if j.OutputContainerURL != "" {
		v.OutputContainer = redactURL(j.OutputContainerURL)
	}
	if j.ImportFileURL != "" {
		v.ImportFile = redactURL(j.ImportFileURL)
	}
	return v
}

func printJob(f *factory, j notificationhubs.Job) error {
	v := viewJob(j)
	if f.output == outputJSON {
		return writeJSON(f.io.Out, v)
	}
	kv := &keyValues{}
	kv.add("Job", v.JobID)
	kv.add("Type", v.Type)
	kv.add("Status", v.Status)
	kv.add("Progress", fmt.Sprintf("%.0f%%", v.Progress))
	kv.add("Output container", v.OutputContainer)
	kv.add("Import file", v.ImportFile)
	kv.add("Failure", v.Failure)
	keys := make([]string, 0, len(v.OutputProperties))
	for k := range v.OutputProperties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		kv.add(k, v.OutputProperties[k])
	}
	return kv.write(f.io.Out)
}
