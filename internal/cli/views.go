package cli

// The stable JSON that commands print with -o json when no richer view
// (registrationView, jobView, …, next to their commands) applies. Each
// field keeps the place encoding/json gave it when these were maps
// (keys in alphabetical order), so that the output stays byte for byte
// what it was; golden_test.go pins every view.

import notificationhubs "github.com/nhkit/notificationhubs"

// installationPutView is nh installation put's answer.
type installationPutView struct {
	InstallationID string `json:"installationId"`
	TrackingID     string `json:"trackingId"`
}

// installationPatchView is nh installation patch's answer: the operations sent.
type installationPatchView struct {
	InstallationID string                               `json:"installationId"`
	Operations     []notificationhubs.InstallationPatch `json:"operations"`
}

// installationDeleteView is nh installation delete's answer.
type installationDeleteView struct {
	Deleted        bool   `json:"deleted"`
	InstallationID string `json:"installationId"`
}

// registrationDeleteView is nh registration delete's answer.
type registrationDeleteView struct {
	Deleted        bool   `json:"deleted"`
	RegistrationID string `json:"registrationId"`
}

// scheduleCancelView is nh schedule cancel's answer.
type scheduleCancelView struct {
	Canceled                bool   `json:"canceled"`
	ScheduledNotificationID string `json:"scheduledNotificationId"`
}

// feedbackView is nh feedback's answer: the container URL, its signature
// redacted unless --reveal.
type feedbackView struct {
	Redacted bool   `json:"redacted"`
	URL      string `json:"url"`
}

// jobListView is nh job list's answer.
type jobListView struct {
	Jobs []jobView `json:"jobs"`
}

// demoView is nh demo's answer: what each step registered and sent.
type demoView struct {
	Hub   string     `json:"hub"`
	Steps []demoStep `json:"steps"`
}
