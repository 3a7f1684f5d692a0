// Package admin manages the notification hubs of a namespace: it creates,
// reads, updates, lists and deletes hubs, gives them the credentials of
// each push service, and reads and rotates their shared access rules. It
// is the Go counterpart of the .NET SDK's NamespaceManager, shaped as the
// Azure SDK for Go shapes its admin clients (azservicebus/admin).
//
// # Creating a client
//
// A client works on one namespace and signs with a rule that has the
// Manage right there (RootManageSharedAccessKey in Azure):
//
//	client, err := admin.NewClientFromConnectionString(namespaceConnStr, nil)
//
// It shares the notificationhubs package's pipeline: SAS tokens cached per
// lifetime, retries, azcore logging with the Authorization header
// redacted, a debug dump (ClientOptions.DebugWriter) with keys and secrets
// redacted, and *notificationhubs.ResponseError for every status the
// operation does not expect (409 when a hub exists, 404 when it does not,
// 401 for a wrong key or a rule without Manage).
//
// # Hubs
//
// CreateHub, GetHub (nil for a hub that does not exist), UpdateHub,
// DeleteHub, HubExists and NewListHubsPager, with HubProperties holding a
// hub's description. An update replaces the whole description: read the
// hub, change it, write it back.
//
// # Push-service credentials
//
// Each push service has a credential type built by a New… function that
// checks it before anything is sent: NewApnsTokenCredential (.p8 key),
// NewApnsCertificateCredential (.p12 or PEM), NewFcmV1Credential and
// NewFcmV1CredentialFromJSON (service account), NewWnsCredential,
// NewAdmCredential, NewBaiduCredential, NewBrowserCredential (VAPID),
// NewXiaomiCredential, NewMpnsCredential and NewGcmCredential (FCM legacy).
// Their String and GoString methods, and every error, leave out keys,
// secrets and passwords.
//
// # Access rules
//
// HubProperties.AuthorizationRules lists a hub's rules with their keys;
// NewSharedAccessAuthorizationRule makes a rule with fresh keys,
// SharedAccessAuthorizationRule.RotateKeys rotates them, and
// Client.ConnectionString gives a rule's connection string for
// notificationhubs.NewClientFromConnectionString.
package admin
