package notificationhubs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nhkit/notificationhubs/internal/atom"
)

// TestRecordedJobs replays the job calls of ManagementApi_ShouldReceiveCorrectJobs
// (the first call, creating the hub, is management-plane and not replayed).
func TestRecordedJobs(t *testing.T) {
	c, s, calls := replayRecording(t, "ManagementApi_ShouldReceiveCorrectJobs", 1)
	const (
		output = "https://nhsdke2etest.blob.core.windows.net/testimportbulk?sv=2019-02-02&sr=c&sig=4aMHQaCYu6Ir7BQ7Lf%2F%2Fq4T1UmLEwrBbiJA%2B7XMm51Y%3D&se=2020-07-02T22%3A03%3A24Z&sp=rwl"
		input  = "https://nhsdke2etest.blob.core.windows.net/testimportbulk/ImportRegistrations.txt?sv=2019-02-02&sr=b&sig=DuJSYst0lRwMshueP14VAu2abi1%2FdUzYLhc2QuWuNa4%3D&se=2020-07-02T22%3A03%3A24Z&sp=rcw"
		jobID  = "2518085877924241193a972e50a-f767-43f5-9389-22c9956daafa"
	)
	ctx := context.Background()
	submitted, err := c.SubmitNotificationHubJob(ctx, Job{Type: JobTypeImportCreateRegistrations, OutputContainerURL: output, ImportFileURL: input}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetNotificationHubJob(ctx, submitted.JobID, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkReplayedMethods(t, s, calls, false, "POST", "GET")

	// What was sent.
	req := s.requests()[0]
	e, err := atom.ParseEntry(req.Body)
	if err != nil {
		t.Fatalf("body: %v\n%s", err, req.Body)
	}
	sent, err := atom.ParseJob(e.Content)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(req.Body), "<Status") || strings.Contains(string(req.Body), "<JobId") {
		t.Errorf("sent a Status or JobId:\n%s", req.Body)
	}
	if diff := cmp.Diff(atom.Job{Type: "ImportCreateRegistrations", Status: "Started", OutputContainerURI: output, ImportFileURI: input}, sent); diff != "" {
		t.Errorf("sent job (-want +got):\n%s", diff)
	}

	// What came back.
	created := time.Date(2020, 7, 2, 18, 3, 28, 200931400, time.UTC)
	want := Job{JobID: jobID, Type: JobTypeImportCreateRegistrations, Status: JobStatusStarted,
		OutputContainerURL: output, ImportFileURL: input, CreatedAt: created, UpdatedAt: created}
	if diff := cmp.Diff(want, submitted.Job); diff != "" {
		t.Errorf("submitted (-want +got):\n%s", diff)
	}
	if submitted.Location != calls[0].header("Location") {
		t.Errorf("Location = %q", submitted.Location)
	}
	if diff := cmp.Diff(want, got.Job); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
}

func TestJobsAgainstFakeHub(t *testing.T) {
	h := newFakeHub(t)
	ctx := context.Background()
	sub, err := h.client.SubmitNotificationHubJob(ctx, Job{Type: JobTypeExportRegistrations, OutputContainerURL: "https://acct.blob.example/c?sig=x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done, err := h.client.WaitForNotificationHubJob(ctx, sub.JobID, &WaitForNotificationHubJobOptions{PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != JobStatusCompleted || done.Progress != 100 || done.OutputProperties["OutputFilePath"] != "myhub/job-1/Output.txt" {
		t.Errorf("job: %+v", done.Job)
	}
	list, err := h.client.ListNotificationHubJobs(ctx, nil)
	if err != nil || len(list.Jobs) != 1 || list.Jobs[0].JobID != "job-1" {
		t.Errorf("list: %+v, %v", list, err)
	}

	// A job that never ends: the wait is bounded by ctx and returns the last state.
	h.mu.Lock()
	h.jobPolls = -1 << 30
	h.mu.Unlock()
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	last, err := h.client.WaitForNotificationHubJob(short, "job-1", &WaitForNotificationHubJobOptions{PollInterval: time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) || last.Status != JobStatusRunning {
		t.Errorf("unbounded job: %v, last %s", err, last.Status)
	}
}

func TestSubmitJobValidation(t *testing.T) {
	c := newTestClient(t, "http://127.0.0.1:1", "hub", "2020-06")
	for _, tt := range []struct {
		job  Job
		want string
	}{
		{Job{Type: "Bogus", OutputContainerURL: "https://x"}, "unknown job type"},
		{Job{Type: JobTypeExportRegistrations}, "OutputContainerURL"},
		{Job{Type: JobTypeImportUpsertRegistrations, OutputContainerURL: "https://x"}, "ImportFileURL"},
	} {
		_, err := c.SubmitNotificationHubJob(context.Background(), tt.job, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.job, err, tt.want)
		}
	}
}

func TestJobFromAtom(t *testing.T) {
	j, err := jobFromAtom(atom.Job{JobID: "j", Type: "ExportRegistrations", Status: "Failed", Progress: "12.5", Failure: "no access", UpdatedAt: "2024-01-01T00:00:00"})
	if err != nil {
		t.Fatal(err)
	}
	want := Job{JobID: "j", Type: JobTypeExportRegistrations, Status: JobStatusFailed, Progress: 12.5, Failure: "no access", UpdatedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	if diff := cmp.Diff(want, j); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !j.Status.Final() || JobStatusRunning.Final() || JobStatusStarted.Final() {
		t.Errorf("Final() wrong")
	}
	if _, err := jobFromAtom(atom.Job{Progress: "half"}); err == nil {
		t.Errorf("bad progress accepted")
	}
}
