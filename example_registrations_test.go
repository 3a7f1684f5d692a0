package notificationhubs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/emulator"
)

// The examples below manage registrations, installations, telemetry and
// jobs, against the local emulator started with no devices (see
// startEmulator in example_test.go). With a real hub, use its connection
// string (DefaultFullSharedAccessSignature) and hub name.

// Register a device: reserve a registration id once, store it on the
// device, and upsert the registration under it on every app start (safe
// to retry, unlike CreateRegistration).
func ExampleClient_CreateRegistrationID() {
	hub := startEmulator(emulator.Options{})
	defer hub.Close()
	client := hub.client()
	ctx := context.Background()

	id, err := client.CreateRegistrationID(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	reg := notificationhubs.NewFcmV1Registration("fcm-registration-token", "sports", "lang:de")
	reg.RegistrationID = id.RegistrationID
	got, err := client.CreateOrUpdateRegistration(ctx, reg, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.RegistrationID == id.RegistrationID, got.Platform, got.Tags, "ETag", got.ETag)
	// Output:
	// true FcmV1 [sports lang:de] ETag 1
}

// Read a registration back and update it only if nobody else changed it
// meanwhile (If-Match on its ETag).
func ExampleClient_GetRegistration() {
	hub := startEmulator(emulator.Options{})
	defer hub.Close()
	client := hub.client()
	ctx := context.Background()

	created, err := client.CreateRegistration(ctx, notificationhubs.NewAppleTemplateRegistration(
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
		log.Fatal(err)
	}
	fmt.Println(updated.Tags, updated.ETag)

	// got.ETag is stale now: a second update with it is refused.
	_, err = client.UpdateRegistration(ctx, got.Registration, nil)
	fmt.Println(errors.Is(err, notificationhubs.ErrPreconditionFailed))
	// Output:
	// Apple 62BCD348 {"aps":{"alert":"$(message)"}} 1
	// [news breaking] 2
	// true
}

// List the registrations with a tag, page by page; a page's
// ContinuationToken resumes the listing later.
func ExampleClient_NewListRegistrationsByTagPager() {
	hub := startEmulator(emulator.Options{})
	defer hub.Close()
	client := hub.client()
	ctx := context.Background()
	for i, tag := range []string{"user:alice", "user:bob", "user:alice", "user:alice"} {
		if _, err := client.CreateRegistration(ctx, notificationhubs.NewFcmV1Registration(fmt.Sprintf("token-%d", i), tag), nil); err != nil {
			log.Fatal(err)
		}
	}

	pager := client.NewListRegistrationsByTagPager("user:alice", &notificationhubs.ListRegistrationsByTagOptions{Top: 2})
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
	hub := startEmulator(emulator.Options{})
	defer hub.Close()
	client := hub.client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	_, err := client.CreateOrUpdateInstallation(ctx, notificationhubs.Installation{
		InstallationID: "device-42",
		UserID:         "alice",
		Platform:       notificationhubs.InstallationPlatformFcmV1,
		PushChannel:    "fcm-registration-token",
		Tags:           []string{"sports"},
		Templates: map[string]notificationhubs.InstallationTemplate{
			"greeting": {Body: `{"message":{"android":{"data":{"text":"$(text)"}}}}`},
		},
	}, &notificationhubs.CreateOrUpdateInstallationOptions{WaitUntilVisible: true})
	if err != nil {
		log.Fatal(err)
	}
	got, err := client.GetInstallation(ctx, "device-42", nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.InstallationID, got.UserID, got.Platform, got.Tags, got.ExpirationTime.Year())

	resp, err := client.SendTemplateNotification(ctx, map[string]string{"text": "Hi Alice"},
		&notificationhubs.SendNotificationOptions{TagExpression: "$UserId:{alice}"})
	if err != nil {
		log.Fatal(err)
	}
	hub.printDeliveries(resp.NotificationID)
	// Output:
	// device-42 alice fcmv1 [sports] 9999
	// fcmv1 fcm-registration-token {"message":{"android":{"data":{"text":"Hi Alice"}},"token":"fcm-registration-token"}}
}

// Patch an installation with typed JSON Patch operations.
func ExampleClient_PatchInstallation() {
	hub := startEmulator(emulator.Options{})
	defer hub.Close()
	client := hub.client()
	ctx := context.Background()
	if _, err := client.CreateOrUpdateInstallation(ctx, notificationhubs.Installation{
		InstallationID: "device-42", Platform: notificationhubs.InstallationPlatformApns,
		PushChannel: "62bcd3484834b7e2dc56733ac5509259230cc1ba", Tags: []string{"sports"},
	}, nil); err != nil {
		log.Fatal(err)
	}

	_, err := client.PatchInstallation(ctx, "device-42", []notificationhubs.InstallationPatch{
		notificationhubs.AddTag("news"),
		notificationhubs.RemoveTag("sports"),
		notificationhubs.ReplaceUserID("alice"),
	}, &notificationhubs.PatchInstallationOptions{WaitUntilVisible: true})
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
	hub := startExampleHub()
	defer hub.Close()
	client := hub.client()
	ctx := context.Background()

	resp, err := client.SendAppleNotification(ctx, []byte(`{"aps":{"alert":"Hello"}}`), nil)
	if err != nil {
		log.Fatal(err)
	}
	details, err := client.WaitForNotificationOutcomeDetails(ctx, resp.NotificationID,
		&notificationhubs.WaitForNotificationOutcomeDetailsOptions{PollInterval: 10 * time.Millisecond, Timeout: time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(details.State, details.TargetPlatforms)
	fmt.Println("APNs:", details.Outcomes["Apns"])
	// Output:
	// Completed [apple]
	// APNs: map[Success:1]
}

// Run an export job, which is also the way to enumerate installations,
// and wait until it ends.
func ExampleClient_SubmitNotificationHubJob() {
	hub := startExampleHub()
	defer hub.Close()
	client := hub.client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	job, err := client.SubmitNotificationHubJob(ctx, notificationhubs.Job{
		Type: notificationhubs.JobTypeExportRegistrations,
		// A blob container URL with a SAS signature allowing write and
		// list; here a container of the emulator's own blob store.
		OutputContainerURL: hub.emu.ContainerURL(hub.srv.URL, "export"),
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(job.Type, job.Status)
	done, err := client.WaitForNotificationHubJob(ctx, job.JobID, &notificationhubs.WaitForNotificationHubJobOptions{PollInterval: 10 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(done.Status, done.Progress)

	// Output.txt has one registration description per line.
	container, name, _ := strings.Cut(done.OutputProperties["OutputFilePath"], "/")
	output, _ := hub.emu.Blob(container, name)
	fmt.Println("exported registrations:", bytes.Count(output, []byte("\n")))
	// Output:
	// ExportRegistrations Started
	// Completed 100
	// exported registrations: 11
}

// The same export with azcore's poller: PollUntilDone waits for the end,
// and a resume token lets another process wait for the job instead.
func ExampleClient_BeginSubmitNotificationHubJob() {
	hub := startExampleHub()
	defer hub.Close()
	client := hub.client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	poller, err := client.BeginSubmitNotificationHubJob(ctx, notificationhubs.Job{
		Type:               notificationhubs.JobTypeExportRegistrations,
		OutputContainerURL: hub.emu.ContainerURL(hub.srv.URL, "export"),
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	token, err := poller.ResumeToken() // keep it to resume with BeginSubmitNotificationHubJobOptions.ResumeToken
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("resume token:", token != "")
	done, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: time.Second})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(done.Type, done.Status, done.Progress)
	// Output:
	// resume token: true
	// ExportRegistrations Completed 100
}

// Move FCM legacy registrations to FCM v1: look at the dry run's report,
// run it for real, and send with FCM v1 to the migrated devices.
func ExampleClient_MigrateGcmToFcmV1() {
	hub := startEmulator(emulator.Options{})
	defer hub.Close()
	client := hub.client()
	ctx := context.Background()
	legacy := notificationhubs.NewGcmTemplateRegistration("token-2", `{"data":{"text":"$(text)"}}`, "sports")
	legacy.Template.Name = "greeting"
	for _, r := range []notificationhubs.Registration{
		notificationhubs.NewGcmRegistration("token-1", "sports"),
		legacy,
		notificationhubs.NewAppleRegistration("62bcd348", "sports"),
	} {
		if _, err := client.CreateRegistration(ctx, r, nil); err != nil {
			log.Fatal(err)
		}
	}

	report, err := client.MigrateGcmToFcmV1(ctx, &notificationhubs.MigrateGcmToFcmV1Options{Tag: "sports", DryRun: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, it := range report.Items {
		fmt.Println(it.Before.Handle(), it.Action)
		for _, c := range it.Changes {
			fmt.Println("  ", c)
		}
		if it.After.Template != nil {
			fmt.Println("   new body:", it.After.Template.Body)
		}
	}

	report, err = client.MigrateGcmToFcmV1(ctx, &notificationhubs.MigrateGcmToFcmV1Options{Tag: "sports"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("scanned %d, rewritten %d, failed %d\n", report.Scanned, report.Rewritten, report.Failed)

	resp, err := client.SendFcmV1Notification(ctx, []byte(`{"message":{"data":{"text":"native"}}}`), nil)
	if err != nil {
		log.Fatal(err)
	}
	hub.printDeliveries(resp.NotificationID)
	resp, err = client.SendTemplateNotification(ctx, map[string]string{"text": "templated"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	hub.printDeliveries(resp.NotificationID)
	// Output:
	// token-1 rewrite
	//    platform: Gcm → FcmV1 (same registration id)
	//    handle: GcmRegistrationId → FcmV1RegistrationId (same token)
	//    kept: 1 tag
	// token-2 rewrite
	//    platform: Gcm → FcmV1 (same registration id)
	//    handle: GcmRegistrationId → FcmV1RegistrationId (same token)
	//    template body: legacy FCM payload → FCM v1 message
	//    kept: 1 tag, template name "greeting"
	//    new body: {"message":{"android":{"data":{"text":"$(text)"}}}}
	// scanned 3, rewritten 2, failed 0
	// fcmv1 token-1 {"message":{"data":{"text":"native"},"token":"token-1"}}
	// fcmv1 token-2 {"message":{"android":{"data":{"text":"templated"}},"token":"token-2"}}
}
