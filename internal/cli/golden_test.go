package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	notificationhubs "github.com/nhkit/notificationhubs"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/json from the views")

// TestJSONViewsGolden pins the JSON of every view nh prints with -o json:
// scripts parse it, so a renamed key, a changed order or a field that
// went missing is a break. After a deliberate change, run
//
//	go test ./internal/cli -run TestJSONViewsGolden -update
func TestJSONViewsGolden(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	one, two := 1, 2
	yes := true
	reg := registrationView{
		RegistrationID: "1234-5678-1", Platform: "fcmv1", Handle: "fcm-token", Tags: []string{"sports", "$UserId:{alice}"},
		PushVariables: map[string]string{"lang": "de"}, ETag: "3", ExpirationTime: &at,
		Template: &templateView{Name: "greeting", Body: `{"message":{"notification":{"body":"$(text)"}}}`, Headers: map[string]string{"apns-priority": "10"}},
	}
	job := jobView{JobID: "job-1", Type: "ExportRegistrations", Status: "Completed", Progress: 100,
		OutputContainer: "https://acct.blob.core.windows.net/out?sv=2020&sig=REDACTED", OutputProperties: map[string]string{"OutputFilePath": "out/job-1/Output.txt"},
		CreatedAt: &at, UpdatedAt: &at}
	send := &sendResult{NotificationID: "n-1", TrackingID: "t-1", CorrelationID: "c-1", State: "DetailedStateAvailable", Success: &one, Failure: new(int),
		Results:    []outcomeResult{{Platform: "apple", Handle: "62BC", RegistrationID: "1-2-3", Outcome: "The Notification was successfully sent to the Push Notification System"}},
		Deliveries: []deliveryView{{Platform: "apple", Handle: "62BC", RegistrationID: "1-2-3", Outcome: "Success", Payload: `{"aps":{"alert":"hi"}}`}}}
	views := map[string]any{
		"registration":        reg,
		"registration-list":   registrationListView{Registrations: []registrationView{reg}, ContinuationToken: "tok"},
		"registration-delete": registrationDeleteView{Deleted: true, RegistrationID: "1234-5678-1"},
		"installation-put":    installationPutView{InstallationID: "dev-1", TrackingID: "t-1"},
		"installation-patch":  installationPatchView{InstallationID: "dev-1", Operations: []notificationhubs.InstallationPatch{notificationhubs.AddTag("news"), notificationhubs.RemoveUserID()}},
		"installation-delete": installationDeleteView{Deleted: true, InstallationID: "dev-1"},
		"send":                send,
		"send-scheduled":      sendResult{ScheduledNotificationID: "s-1", ScheduledTime: &at, TrackingID: "t-1"},
		"schedule-cancel":     scheduleCancelView{Canceled: true, ScheduledNotificationID: "s-1"},
		"outcome": detailsView{NotificationID: "n-1", State: "Completed", EnqueueTime: &at, StartTime: &at, EndTime: &at, Tags: "sports",
			TargetPlatforms: []string{"apple"}, Outcomes: map[string]map[string]int{"Apns": {"Success": 2}}, Body: `{"aps":{}}`, HasErrorDetails: true},
		"feedback": feedbackView{Redacted: true, URL: "https://acct.blob.core.windows.net/feedback?sig=REDACTED"},
		"job":      job,
		"job-list": jobListView{Jobs: []jobView{job}},
		"migrate": migrationView{DryRun: true, Scanned: 2, Rewritten: 1, Skipped: 1, Items: []migrationItemView{
			{RegistrationID: "1-2-3", Action: "rewrite", Changes: []string{"GcmRegistrationId → FcmV1RegistrationId"}},
			{RegistrationID: "4-5-6", Action: "skip", Reason: "an FCM v1 registration of the token exists"}}},
		"tags-check": tagCheckResult{Expression: "sports && !news", Valid: true, Tags: []string{"news", "sports"}, Limit: 6,
			Devices: []matchedDevice{{RegistrationID: "1-2-3", Platform: "apple", Handle: "62BC", Tags: []string{"sports"}}}},
		"tags-check-error": tagCheckResult{Expression: "sports &&", Error: &tagCheckError{Message: "expected a tag", Position: 9}},
		"sas": sasResult{Token: "SharedAccessSignature sr=…&sig=…&se=1767322800&skn=DefaultFullSharedAccessSignature",
			ResourceURI: "https://ns.servicebus.windows.net/hub", KeyName: "DefaultFullSharedAccessSignature", Expiry: at},
		"sas-verify": sasResult{ResourceURI: "https://ns.servicebus.windows.net/hub", KeyName: "DefaultListenSharedAccessSignature", Expiry: at,
			ValidSignature: &yes, Expired: new(bool), CoversResource: &yes},
		"demo": demoView{Hub: "demo", Steps: []demoStep{
			{Title: "Register", Command: "nh registration create …", Deliveries: []demoDelivery{},
				Devices: []demoDeviceView{{Device: "iOS (APNs)", Platform: "apple", RegistrationID: "1-2-3", Handle: "62BC", Tags: []string{"sports"}}}},
			{Title: "Send", Command: "nh send apple …", Deliveries: []demoDelivery{{Device: "iOS (APNs)", Platform: "apple", Handle: "62BC", Payload: "{}"}},
				Outcome: &sendResult{State: "Enqueued", Success: &two}}}},
	}
	for name, v := range views {
		var got bytes.Buffer
		if err := writeJSON(&got, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		path := filepath.Join("testdata", "json", name+".json")
		if *updateGolden {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v (run with -update to create it)", name, err)
			continue
		}
		if d := cmp.Diff(string(want), got.String()); d != "" {
			t.Errorf("-o json of %s changed (-%s +now):\n%s", name, path, d)
		}
	}
}
