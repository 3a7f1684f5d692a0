package cli

// nh job: import and export jobs.

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/spf13/cobra"

	notificationhubs "github.com/nhkit/notificationhubs"
)

func newJobCmd(f *factory) *cobra.Command {
	cmd := groupCmd("job", "Import and export registrations in bulk",
		`  nh job export --container 'https://acct.blob.core.windows.net/c?sv=…&sig=…' --wait
  nh job list`)
	cmd.Aliases = []string{"jobs"}
	cmd.AddCommand(
		newJobSubmitCmd(f, "export"),
		newJobSubmitCmd(f, "import"),
		newJobGetCmd(f),
		newJobListCmd(f),
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

func newJobSubmitCmd(f *factory, kind string) *cobra.Command {
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

func newJobGetCmd(f *factory) *cobra.Command {
	opts := &jobGetOptions{f: f}
	cmd := &cobra.Command{
		Use:     "get JOB_ID",
		Short:   "Show a job",
		Example: `  nh job get 2518085877924241193a972e50a-f767-43f5-9389-22c9956daafa --wait`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.id = args[0]
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

func newJobListCmd(f *factory) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List the hub's jobs",
		Example: `  nh job list -o json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
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
				return writeJSON(f.io.Out, jobListView{Jobs: views})
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
