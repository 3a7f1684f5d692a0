package notificationhubs

import (
	"context"
	"errors"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// BeginSubmitNotificationHubJobOptions contains the optional parameters of
// BeginSubmitNotificationHubJob.
type BeginSubmitNotificationHubJobOptions struct {
	// ResumeToken, from the ResumeToken method of an earlier poller,
	// resumes waiting for that job: nothing is submitted and the job
	// argument is ignored. The token holds the job's id and state, no
	// secret (not the container URLs).
	ResumeToken string
}

// BeginSubmitNotificationHubJob starts an import or export job, as
// SubmitNotificationHubJob does, and returns azcore's poller for it: its
// PollUntilDone reads the job (GET jobs/{id}) until it is Completed or
// Failed, and its ResumeToken lets another process wait for the same job.
// The result is the job's final state; a Failed job is returned without
// error (check Status and Failure), as WaitForNotificationHubJob does.
//
//	poller, err := client.BeginSubmitNotificationHubJob(ctx, job, nil)
//	…
//	done, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: 10 * time.Second})
//
// azcore polls every 30 s unless told otherwise, and refuses a frequency
// under one second; WaitForNotificationHubJob has no such floor.
func (c *Client) BeginSubmitNotificationHubJob(ctx context.Context, job Job, options *BeginSubmitNotificationHubJobOptions) (*runtime.Poller[SubmitNotificationHubJobResponse], error) {
	if options != nil && options.ResumeToken != "" {
		h := &jobPoller{c: c}
		p, err := runtime.NewPollerFromResumeToken(options.ResumeToken, c.pl, &runtime.NewPollerFromResumeTokenOptions[SubmitNotificationHubJobResponse]{
			Handler: h,
			Tracer:  c.tracer,
		})
		if err != nil {
			return nil, err
		}
		if h.JobID == "" {
			return nil, errors.New("notificationhubs: BeginSubmitNotificationHubJob: the resume token names no job")
		}
		return p, nil
	}
	out, resp, err := c.submitNotificationHubJob(ctx, job)
	if err != nil {
		return nil, err
	}
	h := &jobPoller{c: c, JobID: out.JobID, Location: out.Location, Status: out.Status, last: out}
	return runtime.NewPoller(resp, c.pl, &runtime.NewPollerOptions[SubmitNotificationHubJobResponse]{
		Handler: h,
		Tracer:  c.tracer,
	})
}

// jobPoller is azcore's PollingHandler for a job. Its exported fields are
// its resume token.
type jobPoller struct {
	c *Client
	// JobID is the job being waited for.
	JobID string `json:"jobId"`
	// Location is the job's URL, as the submit answered it.
	Location string `json:"location,omitempty"`
	// Status is the job's state at the last read.
	Status JobStatus `json:"status"`
	// last is the last read, the result once Status is final.
	last SubmitNotificationHubJobResponse
}

// Done reports whether the job has ended.
func (p *jobPoller) Done() bool { return p.Status.Final() }

// Poll reads the job once.
func (p *jobPoller) Poll(ctx context.Context) (*http.Response, error) {
	got, resp, err := p.c.getNotificationHubJob(ctx, p.JobID)
	if err != nil {
		return nil, err
	}
	p.Status = got.Status
	p.last = SubmitNotificationHubJobResponse{
		Job:           got.Job,
		Location:      p.Location,
		TrackingID:    got.TrackingID,
		CorrelationID: got.CorrelationID,
	}
	return resp, nil
}

// Result returns the last read.
func (p *jobPoller) Result(_ context.Context, out *SubmitNotificationHubJobResponse) error {
	*out = p.last
	return nil
}
