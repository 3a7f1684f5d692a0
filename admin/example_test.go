package admin_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/admin"
	"github.com/nhkit/notificationhubs/emulator"
	"github.com/nhkit/notificationhubs/internal/pnscred/pnscredtest"
)

// exampleNamespace is a running emulator standing in for a namespace.
type exampleNamespace struct {
	emu *emulator.Server
	srv *httptest.Server
	// ConnectionString is the namespace's RootManageSharedAccessKey.
	ConnectionString string
	// Transport trusts the emulator's certificate.
	Transport *azcore.ClientOptions
}

func startNamespace() *exampleNamespace {
	emu := emulator.New(emulator.Options{})
	srv := httptest.NewTLSServer(emu)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	return &exampleNamespace{emu: emu, srv: srv,
		ConnectionString: emu.NamespaceConnectionString("sb://" + srv.Listener.Addr().String() + "/"),
		Transport:        &azcore.ClientOptions{Transport: srv.Client()}}
}

func (n *exampleNamespace) Close() { n.srv.Close(); n.emu.Close() }

// exampleKeys stands in for the files a developer downloads: the APNs
// signing key AuthKey_ABC123DEFG.p8 from Apple and a service-account key
// from Firebase. A real program reads them with os.ReadFile.
func exampleKeys() (p8, serviceAccount []byte) {
	sa := pnscredtest.NewServiceAccount("my-firebase-project")
	sa.ClientEmail = "push@my-firebase-project.iam.gserviceaccount.com"
	return pnscredtest.P8(), sa.JSON()
}

// Create a hub that reaches iPhones (APNs, token authentication) and
// Android phones (FCM v1), then send to it with its own access rule.
func ExampleClient_CreateHub() {
	ns := startNamespace() // with Azure: the namespace's RootManageSharedAccessKey connection string
	defer ns.Close()
	ctx := context.Background()

	client, err := admin.NewClientFromConnectionString(ns.ConnectionString, &admin.ClientOptions{ClientOptions: *ns.Transport})
	if err != nil {
		log.Fatal(err)
	}
	p8, serviceAccount := exampleKeys() // os.ReadFile("AuthKey_ABC123DEFG.p8"), os.ReadFile("service-account.json")
	apns, err := admin.NewApnsTokenCredential("ABC123DEFG", "TEAM123456", "com.example.app", p8, false)
	if err != nil {
		log.Fatal(err) // says which field is wrong, never the key
	}
	fcm, err := admin.NewFcmV1CredentialFromJSON(serviceAccount)
	if err != nil {
		log.Fatal(err)
	}
	hub, err := client.CreateHub(ctx, "myapp", &admin.CreateHubOptions{Properties: &admin.HubProperties{
		ApnsCredential:  apns,
		FcmV1Credential: fcm,
	}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created", hub.HubName, "with credentials for", hub.CredentialPlatforms())

	// The hub's own rule sends; its connection string holds its key.
	rule, _ := hub.AuthorizationRule("DefaultFullSharedAccessSignature")
	sender, err := notificationhubs.NewClientFromConnectionString(client.ConnectionString(rule), hub.HubName,
		&notificationhubs.ClientOptions{ClientOptions: *ns.Transport})
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range []notificationhubs.Registration{
		notificationhubs.NewAppleRegistration("A1B2C3D4", "sports"),
		notificationhubs.NewFcmV1Registration("fcm-token-1", "sports"),
	} {
		if _, err := sender.CreateRegistration(ctx, r, nil); err != nil {
			log.Fatal(err)
		}
	}
	sports := &notificationhubs.SendNotificationOptions{Tags: []string{"sports"}}
	if _, err := sender.SendAppleNotification(ctx, []byte(`{"aps":{"alert":"Goal!"}}`), sports); err != nil {
		log.Fatal(err)
	}
	if _, err := sender.SendFcmV1Notification(ctx, []byte(`{"message":{"notification":{"body":"Goal!"}}}`), sports); err != nil {
		log.Fatal(err)
	}
	for _, d := range ns.emu.Deliveries(emulator.DeliveryFilter{Hub: "myapp"}) {
		fmt.Println(d.Platform, d.Handle, d.Outcome)
	}
	// Output:
	// created myapp with credentials for [apns fcmv1]
	// apple A1B2C3D4 Success
	// fcmv1 fcm-token-1 Success
}

// Give an existing hub an FCM v1 credential: read the hub, change it,
// write it back (an update replaces the whole description).
func ExampleClient_UpdateHub() {
	ns := startNamespace()
	defer ns.Close()
	ctx := context.Background()
	client, err := admin.NewClientFromConnectionString(ns.ConnectionString, &admin.ClientOptions{ClientOptions: *ns.Transport})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := client.CreateHub(ctx, "legacy", nil); err != nil {
		log.Fatal(err)
	}
	_, serviceAccount := exampleKeys()
	got, err := client.GetHub(ctx, "legacy", nil)
	if err != nil {
		log.Fatal(err)
	}
	props := got.HubProperties
	if props.FcmV1Credential, err = admin.NewFcmV1CredentialFromJSON(serviceAccount); err != nil {
		log.Fatal(err)
	}
	updated, err := client.UpdateHub(ctx, "legacy", props, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(updated.CredentialPlatforms(), updated.FcmV1Credential.ProjectID)
	fmt.Println(updated.FcmV1Credential) // never the private key
	// Output:
	// [fcmv1] my-firebase-project
	// FcmV1Credential{ClientEmail: "push@my-firebase-project.iam.gserviceaccount.com", ProjectID: "my-firebase-project", PrivateKey: REDACTED}
}
