package notificationhubs

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nhkit/notificationhubs/internal/atom"
)

// JobType is the kind of an import/export job.
type JobType string

// Job types (docs/protocol.md, "Import and export jobs").
const (
	JobTypeExportRegistrations       JobType = "ExportRegistrations"
	JobTypeImportCreateRegistrations JobType = "ImportCreateRegistrations"
	JobTypeImportUpdateRegistrations JobType = "ImportUpdateRegistrations"
	JobTypeImportDeleteRegistrations JobType = "ImportDeleteRegistrations"
	JobTypeImportUpsertRegistrations JobType = "ImportUpsertRegistrations"
)

// JobStatus is the state of an import/export job.
type JobStatus string

// Job states. The service omits the status while it is Started.
const (
	JobStatusStarted   JobStatus = "Started"
	JobStatusRunning   JobStatus = "Running"
	JobStatusCompleted JobStatus = "Completed"
	JobStatusFailed    JobStatus = "Failed"
)

// Final reports whether the job has ended (Completed or Failed).
func (s JobStatus) Final() bool { return s == JobStatusCompleted || s == JobStatusFailed }

// Job is an import/export job (Standard tier). Exporting
// registrations is also the way to enumerate installations, whose derived
// registrations it includes.
type Job struct {
	// JobID is assigned by the service.
	JobID string
	// Type is the job's kind (required to submit).
	Type JobType
	// Status is the job's state (set by the service).
	Status JobStatus
	// Progress is the completion percentage, 0-100.
	Progress float64
	// OutputContainerURL is a blob container URL with a SAS signature
	// allowing write and list (required to submit). It is a secret.
	OutputContainerURL string
	// ImportFileURL is the blob URL (with a read SAS signature) of the file
	// to import, one registration description per line (import jobs only).
	ImportFileURL string
	// InputProperties and OutputProperties are the job's properties; the
	// output has OutputFilePath and FailedFilePath.
	InputProperties, OutputProperties map[string]string
	// Failure explains a Failed job.
	Failure string
	// CreatedAt and UpdatedAt are set by the service.
	CreatedAt, UpdatedAt time.Time
}

func (j Job) toAtom() atom.Job {
	a := atom.Job{
		JobID:              j.JobID,
		Type:               string(j.Type),
		OutputContainerURI: j.OutputContainerURL,
		ImportFileURI:      j.ImportFileURL,
		InputProperties:    j.InputProperties,
	}
	if j.Status != "" && j.Status != JobStatusStarted {
		a.Status = string(j.Status)
	}
	return a
}

func jobFromAtom(a atom.Job) (Job, error) {
	j := Job{
		JobID:              a.JobID,
		Type:               JobType(a.Type),
		Status:             JobStatus(a.Status),
		OutputContainerURL: a.OutputContainerURI,
		ImportFileURL:      a.ImportFileURI,
		InputProperties:    a.InputProperties,
		OutputProperties:   a.OutputProperties,
		Failure:            a.Failure,
	}
	if j.Status == "" {
		j.Status = JobStatusStarted
	}
	if p := strings.TrimSpace(a.Progress); p != "" {
		f, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return Job{}, fmt.Errorf("notificationhubs: job %q: bad Progress %q", a.JobID, p)
		}
		j.Progress = f
	}
	for _, f := range []struct {
		name string
		src  string
		dst  *time.Time
	}{{"CreatedAt", a.CreatedAt, &j.CreatedAt}, {"UpdatedAt", a.UpdatedAt, &j.UpdatedAt}} {
		if f.src == "" {
			continue
		}
		t, err := parseWireTime(f.src)
		if err != nil {
			return Job{}, fmt.Errorf("notificationhubs: job %q: %s: %w", a.JobID, f.name, err)
		}
		*f.dst = t
	}
	return j, nil
}

func jobFromEntryBody(body []byte, what string) (Job, error) {
	e, err := atom.ParseEntry(body)
	if err != nil {
		return Job{}, fmt.Errorf("notificationhubs: decoding the job entry of %s: %w", what, err)
	}
	a, err := atom.ParseJob(e.Content)
	if err != nil {
		return Job{}, fmt.Errorf("notificationhubs: decoding the job of %s: %w", what, err)
	}
	return jobFromAtom(a)
}

// SubmitNotificationHubJobOptions contains the optional parameters of
// SubmitNotificationHubJob.
type SubmitNotificationHubJobOptions struct {
	// for future expansion
}

// SubmitNotificationHubJobResponse is the response of
// SubmitNotificationHubJob, and the result of BeginSubmitNotificationHubJob's
// poller.
type SubmitNotificationHubJobResponse struct {
	// Job is the job as the service accepted it, with its JobID; from the
	// poller, the job's final state. TrackingID and CorrelationID are then
	// those of the last read.
	Job
	// Location is the job's URL.
	Location string
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// SubmitNotificationHubJob starts an import or export job (POST jobs →
// 201). Wait for it with WaitForNotificationHubJob, or submit it with
// BeginSubmitNotificationHubJob for azcore's poller.
func (c *Client) SubmitNotificationHubJob(ctx context.Context, job Job, options *SubmitNotificationHubJobOptions) (SubmitNotificationHubJobResponse, error) {
	out, _, err := c.submitNotificationHubJob(ctx, job)
	return out, err
}

// submitNotificationHubJob is SubmitNotificationHubJob, also returning the
// service's response (nil before a request) for a poller.
func (c *Client) submitNotificationHubJob(ctx context.Context, job Job) (SubmitNotificationHubJobResponse, *http.Response, error) {
	switch job.Type {
	case JobTypeExportRegistrations:
	case JobTypeImportCreateRegistrations, JobTypeImportUpdateRegistrations,
		JobTypeImportDeleteRegistrations, JobTypeImportUpsertRegistrations:
		if job.ImportFileURL == "" {
			return SubmitNotificationHubJobResponse{}, nil, fmt.Errorf("notificationhubs: SubmitNotificationHubJob: a %s job needs ImportFileURL", job.Type)
		}
	default:
		return SubmitNotificationHubJobResponse{}, nil, fmt.Errorf("notificationhubs: SubmitNotificationHubJob: unknown job type %q", job.Type)
	}
	if job.OutputContainerURL == "" {
		return SubmitNotificationHubJobResponse{}, nil, fmt.Errorf("notificationhubs: SubmitNotificationHubJob: OutputContainerURL is empty")
	}
	a := job.toAtom()
	a.JobID = ""
	req, err := c.newRequest(ctx, http.MethodPost, "jobs", nil)
	if err != nil {
		return SubmitNotificationHubJobResponse{}, nil, err
	}
	if err := setAtomBody(req, atom.MarshalJob(a)); err != nil {
		return SubmitNotificationHubJobResponse{}, nil, err
	}
	resp, err := c.do(req, false, http.StatusCreated, http.StatusOK)
	if err != nil {
		return SubmitNotificationHubJobResponse{}, nil, err
	}
	out := SubmitNotificationHubJobResponse{Location: resp.Header.Get("Location")}
	out.TrackingID, out.CorrelationID = responseIDs(resp)
	body, err := readAllClose(resp)
	if err != nil {
		return out, resp, err
	}
	out.Job, err = jobFromEntryBody(body, "POST jobs")
	return out, resp, err
}

// GetNotificationHubJobOptions contains the optional parameters of GetNotificationHubJob.
type GetNotificationHubJobOptions struct {
	// for future expansion
}

// GetNotificationHubJobResponse is the response of GetNotificationHubJob.
type GetNotificationHubJobResponse struct {
	// Job is the job's current state.
	Job
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// GetNotificationHubJob reads a job (GET jobs/{id}).
func (c *Client) GetNotificationHubJob(ctx context.Context, jobID string, options *GetNotificationHubJobOptions) (GetNotificationHubJobResponse, error) {
	out, _, err := c.getNotificationHubJob(ctx, jobID)
	return out, err
}

// getNotificationHubJob is GetNotificationHubJob, also returning the
// service's response (nil before a request) for a poller.
func (c *Client) getNotificationHubJob(ctx context.Context, jobID string) (GetNotificationHubJobResponse, *http.Response, error) {
	if jobID == "" {
		return GetNotificationHubJobResponse{}, nil, fmt.Errorf("notificationhubs: GetNotificationHubJob: jobID is empty")
	}
	req, err := c.newRequest(ctx, http.MethodGet, "jobs/"+url.PathEscape(jobID), nil)
	if err != nil {
		return GetNotificationHubJobResponse{}, nil, err
	}
	resp, err := c.do(req, true, http.StatusOK)
	if err != nil {
		return GetNotificationHubJobResponse{}, nil, err
	}
	var out GetNotificationHubJobResponse
	out.TrackingID, out.CorrelationID = responseIDs(resp)
	body, err := readAllClose(resp)
	if err != nil {
		return out, resp, err
	}
	out.Job, err = jobFromEntryBody(body, "GET jobs/"+jobID)
	return out, resp, err
}

// ListNotificationHubJobsOptions contains the optional parameters of ListNotificationHubJobs.
type ListNotificationHubJobsOptions struct {
	// for future expansion
}

// ListNotificationHubJobsResponse is the response of ListNotificationHubJobs.
type ListNotificationHubJobsResponse struct {
	// Jobs are the hub's jobs.
	Jobs []Job
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// ListNotificationHubJobs lists the hub's jobs (GET jobs; one feed).
func (c *Client) ListNotificationHubJobs(ctx context.Context, options *ListNotificationHubJobsOptions) (ListNotificationHubJobsResponse, error) {
	req, err := c.newRequest(ctx, http.MethodGet, "jobs", nil)
	if err != nil {
		return ListNotificationHubJobsResponse{}, err
	}
	resp, err := c.do(req, true, http.StatusOK)
	if err != nil {
		return ListNotificationHubJobsResponse{}, err
	}
	var out ListNotificationHubJobsResponse
	out.TrackingID, out.CorrelationID = responseIDs(resp)
	body, err := readAllClose(resp)
	if err != nil {
		return out, err
	}
	feed, err := atom.ParseFeed(body)
	if err != nil {
		return out, fmt.Errorf("notificationhubs: decoding the job feed: %w", err)
	}
	for i, e := range feed.Entries {
		a, err := atom.ParseJob(e.Content)
		if err != nil {
			return out, fmt.Errorf("notificationhubs: decoding entry %d of the job feed: %w", i, err)
		}
		j, err := jobFromAtom(a)
		if err != nil {
			return out, err
		}
		out.Jobs = append(out.Jobs, j)
	}
	return out, nil
}

// WaitForNotificationHubJobOptions contains the optional parameters of
// WaitForNotificationHubJob.
type WaitForNotificationHubJobOptions struct {
	// PollInterval is the wait between reads (default 2 s).
	PollInterval time.Duration
}

// WaitForNotificationHubJob polls a job until it is Completed or Failed,
// or ctx is done (then it returns the last state read and ctx's error). A
// Failed job is returned without error: check Status and Failure.
func (c *Client) WaitForNotificationHubJob(ctx context.Context, jobID string, options *WaitForNotificationHubJobOptions) (GetNotificationHubJobResponse, error) {
	interval := 2 * time.Second
	if options != nil && options.PollInterval > 0 {
		interval = options.PollInterval
	}
	var last GetNotificationHubJobResponse
	err := pollUntilDone(ctx, interval, func() (bool, error) {
		got, err := c.GetNotificationHubJob(ctx, jobID, nil)
		if err != nil {
			return false, err
		}
		last = got
		return got.Status.Final(), nil
	})
	if err != nil {
		return last, fmt.Errorf("notificationhubs: waiting for job %q: %w", jobID, err)
	}
	return last, nil
}
