package notificationhubs

import (
	"context"
	"fmt"
	"log"
	"time"
)

// The examples below manage registrations, installations, telemetry and
// jobs. They run against a small in-memory stand-in for the service (an
// httptest server on loopback); with a real hub, use its connection string
// (DefaultFullSharedAccessSignature) and hub name.

type exampleLogger struct{}

func (exampleLogger) Errorf(format string, args ...any) { log.Printf(format, args...) }

// exampleClient starts the stand-in and returns a client for its hub
// "myhub", the stand-in, and a function to stop it.
func exampleClient() (*Client, *fakeHub, func()) {
	hub := startFakeHub(exampleLogger{})
	client, err := NewClientFromConnectionString(hub.connectionString(), "myhub", nil)
	if err != nil {
		log.Fatal(err)
	}
	return client, hub, hub.srv.Close
}

// Register a device: reserve a registration id once, store it on the
// device, and upsert the registration under it on every app start (safe
// to retry, unlike CreateRegistration).
func ExampleClient_CreateRegistrationID() {
	client, _, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	id, err := client.CreateRegistrationID(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	reg := NewFcmV1Registration("fcm-registration-token", "sports", "lang:de")
	reg.RegistrationID = id.RegistrationID
	got, err := client.CreateOrUpdateRegistration(ctx, reg, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.RegistrationID, got.Platform, got.Tags, "ETag", got.ETag)
	// Output:
	// 1001-7001-1 FcmV1 [sports lang:de] ETag 1
}

// Read a registration back and update it only if nobody else changed it
// meanwhile (If-Match on its ETag).
func ExampleClient_GetRegistration() {
	client, _, stop := exampleClient()
	defer stop()
	ctx := context.Background()

	created, err := client.CreateRegistration(ctx, NewAppleTemplateRegistration(
		"62bcd3484834b7e2dc56733ac5509259230cc1ba82ba1ae7d06e91908a05a8fa",
		`{"aps":{"alert":"$(message)"}}`, "news"), nil)
	if err != nil {
		log.Fatal(err)
	}
	got, err := client.GetRegistration(ctx, created.RegistrationID, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Platform, got.DeviceToken[:8], got.Template.Body, got.ETag)

	got.Tags = append(got.Tags, "breaking")
	updated, err := client.UpdateRegistration(ctx, got.Registration, nil)
	if err != nil {
		log.Fatal(err) // errors.Is(err, ErrPreconditionFailed) if it changed meanwhile
	}
	fmt.Println(updated.Tags, updated.ETag)
	// Output:
	// Apple 62BCD348 {"aps":{"alert":"$(message)"}} 1
	// [news breaking] 2
}

// List the registrations with a tag, page by page; a page's
// ContinuationToken resumes the listing later.
func ExampleClient_NewListRegistrationsByTagPager() {
	client, _, stop := exampleClient()
	defer stop()
	ctx := context.Background()
	for i, tag := range []string{"user:alice", "user:bob", "user:alice", "user:alice"} {
		if _, err := client.CreateRegistration(ctx, NewFcmV1Registration(fmt.Sprintf("token-%d", i), tag), nil); err != nil {
			log.Fatal(err)
		}
	}

	pager := client.NewListRegistrationsByTagPager("user:alice", &ListRegistrationsByTagOptions{Top: 2})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			log.Fatal(err)
		}
		for _, r := range page.Registrations {
			fmt.Print(r.Handle(), " ")
		}
		fmt.Println("| more:", page.ContinuationToken != nil)
	}
	// Output:
	// token-0 token-2 | more: true
	// token-3 | more: false
}

// Tag a user: an installation with a user id can be targeted with
// $UserId:{…}. Writes are applied in the background; WaitUntilVisible
// waits until a read shows them.
func ExampleClient_CreateOrUpdateInstallation() {
	client, _, stop := exampleClient()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	_, err := client.CreateOrUpdateInstallation(ctx, Installation{
		InstallationID: "device-42",
		UserID:         "alice",
		Platform:       InstallationPlatformFCMV1,
		PushChannel:    "fcm-registration-token",
		Tags:           []string{"sports"},
		Templates: map[string]InstallationTemplate{
			"greeting": {Body: `{"message":{"android":{"data":{"text":"$(text)"}}}}`},
		},
	}, &CreateOrUpdateInstallationOptions{WaitUntilVisible: true})
	if err != nil {
		log.Fatal(err)
	}
	got, err := client.GetInstallation(ctx, "device-42", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.InstallationID, got.UserID, got.Platform, got.Tags, got.ExpirationTime.Year())
	// Output:
	// device-42 alice fcmv1 [sports] 9999
}

// Patch an installation with typed JSON Patch operations.
func ExampleClient_PatchInstallation() {
	client, _, stop := exampleClient()
	defer stop()
	ctx := context.Background()
	if _, err := client.CreateOrUpdateInstallation(ctx, Installation{
		InstallationID: "device-42", Platform: InstallationPlatformAPNS,
		PushChannel: "62bcd3484834b7e2dc56733ac5509259230cc1ba", Tags: []string{"sports"},
	}, nil); err != nil {
		log.Fatal(err)
	}

	_, err := client.PatchInstallation(ctx, "device-42", []InstallationPatch{
		AddTag("news"),
		RemoveTag("sports"),
		ReplaceUserID("alice"),
	}, &PatchInstallationOptions{WaitUntilVisible: true})
	if err != nil {
		log.Fatal(err)
	}
	got, err := client.GetInstallation(ctx, "device-42", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Tags, got.UserID)
	// Output:
	// [news] alice
}

// Wait for a notification's telemetry: the service answers 404 until it
// has processed the notification.
func ExampleClient_WaitForNotificationOutcomeDetails() {
	client, hub, stop := exampleClient()
	defer stop()
	hub.delayTelemetry(2) // the stand-in answers 404 twice

	// The notification id comes from a send's response.
	details, err := client.WaitForNotificationOutcomeDetails(context.Background(), "4651c1ec2b614f14bfec41c62ca000b1-20181107001828-33331921-15",
		&WaitForNotificationOutcomeDetailsOptions{PollInterval: 10 * time.Millisecond, Timeout: time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(details.State, details.TargetPlatforms)
	fmt.Println("APNs:", details.Outcomes["Apns"])
	fmt.Println("FCM v1:", details.Outcomes["FcmV1"])
	// Output:
	// Completed [apple fcmv1]
	// APNs: map[Success:3 WrongToken:1]
	// FCM v1: map[Success:5]
}

// Run an export job, which is also the way to enumerate installations,
// and wait until it ends.
func ExampleClient_SubmitNotificationHubJob() {
	client, _, stop := exampleClient()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	job, err := client.SubmitNotificationHubJob(ctx, NotificationHubJob{
		Type:               JobTypeExportRegistrations,
		OutputContainerURL: "https://account.blob.core.windows.net/export?sv=2024-01-01&sp=rwl&sig=…",
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(job.JobID, job.Status)
	done, err := client.WaitForNotificationHubJob(ctx, job.JobID, &WaitForNotificationHubJobOptions{PollInterval: 10 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(done.Status, done.Progress, done.OutputProperties["OutputFilePath"])
	// Output:
	// job-1 Started
	// Completed 100 myhub/job-1/Output.txt
}

// Move FCM legacy registrations to FCM v1: look at the dry run's report,
// then run it for real.
func ExampleClient_MigrateGcmToFcmV1() {
	client, hub, stop := exampleClient()
	defer stop()
	ctx := context.Background()
	hub.add(NewGcmRegistration("token-1", "sports"))
	legacy := NewGcmTemplateRegistration("token-2", `{"data":{"text":"$(text)"}}`, "sports")
	legacy.Template.Name = "greeting"
	hub.add(legacy)
	hub.add(NewAppleRegistration("62bcd348", "sports"))

	report, err := client.MigrateGcmToFcmV1(ctx, &MigrateOptions{Tag: "sports", DryRun: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, it := range report.Items {
		fmt.Println(it.RegistrationID, it.Action)
		for _, c := range it.Changes {
			fmt.Println("  ", c)
		}
	}
	if it := report.Items[1]; it.After.Template != nil {
		fmt.Println("   new body:", it.After.Template.Body)
	}

	report, err = client.MigrateGcmToFcmV1(ctx, &MigrateOptions{Tag: "sports"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("scanned %d, rewritten %d, failed %d\n", report.Scanned, report.Rewritten, report.Failed)
	// Output:
	// 1001-7001-1 rewrite
	//    platform: Gcm → FcmV1 (same registration id)
	//    handle: GcmRegistrationId → FcmV1RegistrationId (same token)
	//    kept: 1 tag
	// 1002-7002-1 rewrite
	//    platform: Gcm → FcmV1 (same registration id)
	//    handle: GcmRegistrationId → FcmV1RegistrationId (same token)
	//    template body: legacy FCM payload → FCM v1 message
	//    kept: 1 tag, template name "greeting"
	//    new body: {"message":{"android":{"data":{"text":"$(text)"}}}}
	// scanned 3, rewritten 2, failed 0
}
