package notificationhubs_test

// Contract tests (see contract_test.go): Telemetry, the feedback container and import/export jobs.

import (
	"bytes"
	"errors"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/google/go-cmp/cmp"

	nh "github.com/nhkit/notificationhubs"
)

// skipIfUnrouted skips the test when the emulator has no route for the
// operation yet (404 "No service is hosted…").
func skipIfUnrouted(t *testing.T, what string, err error) {
	t.Helper()
	var re *nh.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusNotFound && strings.Contains(re.Detail, "No service is hosted") {
		t.Skipf("the emulator does not serve %s yet: %v", what, err)
	}
}

func TestContractTelemetry(t *testing.T) {
	_, c := newContract(t, nil)
	ctx := contractCtx(t)
	mustCreate(t, ctx, c, nh.NewAppleRegistration(appleToken, "tele"))
	mustCreate(t, ctx, c, nh.NewFcmV1Registration("tele-fcm", "tele"))
	resp, err := c.SendAppleNotification(ctx, []byte(`{"aps":{"alert":"telemetry"}}`), &nh.SendNotificationOptions{Tags: []string{"tele"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetNotificationOutcomeDetails(ctx, resp.NotificationID, nil)
	skipIfUnrouted(t, "per-message telemetry", err)
	details, err := c.WaitForNotificationOutcomeDetails(ctx, resp.NotificationID, &nh.WaitForNotificationOutcomeDetailsOptions{PollInterval: 20 * time.Millisecond, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if details.NotificationID != resp.NotificationID || details.State != nh.NotificationDetailsStateCompleted {
		t.Errorf("details: id %q state %q; want %q Completed", details.NotificationID, details.State, resp.NotificationID)
	}
	if d := cmp.Diff([]string{"apple"}, details.TargetPlatforms); d != "" {
		t.Errorf("TargetPlatforms (-want +got):\n%s", d)
	}
	if got := details.Outcomes["Apns"]["Success"]; got != 1 {
		t.Errorf("APNs Success = %d, want 1 (outcomes %v)", got, details.Outcomes)
	}
	if !strings.Contains(details.NotificationBody, "telemetry") {
		t.Errorf("NotificationBody = %q", details.NotificationBody)
	}

	_, err = c.GetNotificationOutcomeDetails(ctx, "0123456789abcdef0123456789abcdef-20260101000000-1-1", nil)
	if !errors.Is(err, nh.ErrNotFound) {
		t.Errorf("details of an unknown notification: err = %v, want ErrNotFound", err)
	}
}

func TestContractFeedbackContainer(t *testing.T) {
	_, c := newContract(t, nil)
	ctx := contractCtx(t)
	got, err := c.GetFeedbackContainerURL(ctx, nil)
	skipIfUnrouted(t, "the feedback container", err)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.URL, "http") || got.TrackingID == "" {
		t.Errorf("feedback container = %+v", got)
	}
}

func TestContractJobs(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	mustCreate(t, ctx, c, nh.NewFcmV1Registration("job-token", "jobs"))
	_, err := c.ListNotificationHubJobs(ctx, nil)
	skipIfUnrouted(t, "import/export jobs", err)
	if err != nil {
		t.Fatal(err)
	}
	container := srv.ContainerURL(srv.URL, "export")
	job, err := c.SubmitNotificationHubJob(ctx, nh.Job{Type: nh.JobTypeExportRegistrations, OutputContainerURL: container}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if job.JobID == "" || job.Type != nh.JobTypeExportRegistrations {
		t.Fatalf("submitted job = %+v", job.Job)
	}
	done, err := c.WaitForNotificationHubJob(ctx, job.JobID, &nh.WaitForNotificationHubJobOptions{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != nh.JobStatusCompleted || done.Progress != 100 {
		t.Fatalf("job status %q progress %v failure %q; want Completed 100", done.Status, done.Progress, done.Failure)
	}
	outPath := done.OutputProperties["OutputFilePath"]
	outContainer, name, _ := strings.Cut(outPath, "/")
	blob, ok := srv.Blob(outContainer, name)
	if !ok || !bytes.Contains(blob, []byte("job-token")) {
		t.Errorf("export output %q = %q, %v; want the registration of job-token", outPath, blob, ok)
	}

	// Import what was exported: a second registration of the same device.
	imp, err := c.SubmitNotificationHubJob(ctx, nh.Job{
		Type:               nh.JobTypeImportCreateRegistrations,
		OutputContainerURL: container,
		ImportFileURL:      srv.BlobURL(srv.URL, outContainer, name),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done, err = c.WaitForNotificationHubJob(ctx, imp.JobID, &nh.WaitForNotificationHubJobOptions{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != nh.JobStatusCompleted {
		t.Fatalf("import job status %q failure %q; want Completed", done.Status, done.Failure)
	}
	ids, _, _ := collect(t, ctx, c.NewListRegistrationsByChannelPager("job-token", nil))
	if len(ids) != 2 {
		t.Errorf("after the import, job-token has registrations %v; want 2", ids)
	}

	list, err := c.ListNotificationHubJobs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var jobIDs []string
	for _, j := range list.Jobs {
		jobIDs = append(jobIDs, j.JobID)
	}
	sort.Strings(jobIDs)
	wantIDs := []string{job.JobID, imp.JobID}
	sort.Strings(wantIDs)
	if d := cmp.Diff(wantIDs, jobIDs); d != "" {
		t.Errorf("ListNotificationHubJobs (-want +got):\n%s", d)
	}
	if _, err := c.GetNotificationHubJob(ctx, "no-such-job", nil); !errors.Is(err, nh.ErrNotFound) {
		t.Errorf("GetNotificationHubJob of an unknown id: err = %v, want ErrNotFound", err)
	}
}

// TestContractBeginSubmitJob: the azcore poller of a job, driven to the
// end, and resumed from its token by a second poller (as another process
// would) without submitting again; the token holds no signature.
func TestContractBeginSubmitJob(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	mustCreate(t, ctx, c, nh.NewFcmV1Registration("poll-token", "jobs"))
	container := srv.ContainerURL(srv.URL, "export")
	job := nh.Job{Type: nh.JobTypeExportRegistrations, OutputContainerURL: container}
	fast := &runtime.PollUntilDoneOptions{Frequency: 20 * time.Millisecond}

	poller, err := c.BeginSubmitNotificationHubJob(ctx, job, nil)
	if err != nil {
		t.Fatal(err)
	}
	done, err := poller.PollUntilDone(ctx, fast)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != nh.JobStatusCompleted || done.JobID == "" || done.OutputProperties["OutputFilePath"] == "" || done.TrackingID == "" {
		t.Fatalf("PollUntilDone = %+v; want a Completed job with its output and a tracking id", done)
	}

	started, err := c.BeginSubmitNotificationHubJob(ctx, job, nil)
	if err != nil {
		t.Fatal(err)
	}
	if started.Done() {
		t.Fatal("a new job's poller is done before any poll; the emulator's job steps take time")
	}
	token, err := started.ResumeToken()
	if err != nil {
		t.Fatal(err)
	}
	if _, sig, _ := strings.Cut(container, "sig="); strings.Contains(token, "sig=") || strings.Contains(token, sig) {
		t.Errorf("resume token %s holds a signature", token)
	}
	resumed, err := c.BeginSubmitNotificationHubJob(ctx, nh.Job{}, &nh.BeginSubmitNotificationHubJobOptions{ResumeToken: token})
	if err != nil {
		t.Fatal(err)
	}
	again, err := resumed.PollUntilDone(ctx, fast)
	if err != nil {
		t.Fatal(err)
	}
	if again.Status != nh.JobStatusCompleted || again.JobID == done.JobID || again.JobID == "" {
		t.Errorf("resumed poller = %+v; want the second job (not %s), Completed", again.Job, done.JobID)
	}
	list, err := c.ListNotificationHubJobs(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Jobs) != 2 {
		t.Errorf("the hub has %d jobs, want 2: resuming must not submit again", len(list.Jobs))
	}

	if _, err := c.BeginSubmitNotificationHubJob(ctx, nh.Job{}, &nh.BeginSubmitNotificationHubJobOptions{ResumeToken: `{"type":"other","token":{}}`}); err == nil {
		t.Error("a token of another poller type was accepted")
	}
	if _, err := c.BeginSubmitNotificationHubJob(ctx, nh.Job{Type: nh.JobTypeExportRegistrations}, nil); err == nil {
		t.Error("a job without OutputContainerURL was submitted")
	}
}
