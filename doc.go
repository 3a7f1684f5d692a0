// Package notificationhubs is a client for the data plane of Azure
// Notification Hubs: sending notifications to every platform the service
// supports, and managing registrations and installations. It is built on
// azcore, so its pipeline (transport, retries, logging with header
// redaction, tracing) is configured as in the other Azure SDKs for Go.
//
// # Creating a client
//
// A client works on one hub. Create it from the connection string of an
// access rule (DefaultFullSharedAccessSignature to send):
//
//	client, err := notificationhubs.NewClientFromConnectionString(connStr, "myhub", nil)
//
// The client signs a SAS token for the hub once per token lifetime (60
// minutes by default), caches it and signs a new one before it expires.
//
// # SAS tokens
//
// NewSASToken signs a token by hand, the article's first step: for a
// backend that hands devices a token to register with, or to try the
// REST API with curl. ParseSASToken reads one back and checks its
// signature, expiry and resource as the service does.
//
//	token, err := notificationhubs.NewSASToken("https://myns.servicebus.windows.net/myhub",
//		"DefaultListenSharedAccessSignature", key, time.Now().Add(time.Hour))
//
// # Sending
//
// Build a Notification for a format (NewAppleNotification,
// NewFcmV1Notification, NewWindowsNotification, NewTemplateNotification, …)
// and send it with SendNotification, or use the per-platform methods
// (SendAppleNotification, SendFcmV1Notification, …). The audience is every
// registration of the format (broadcast), one tag, a set of tags (any of
// them), or a tag expression, checked before the request with the
// service's grammar and limits:
//
//	resp, err := client.SendAppleNotification(ctx, []byte(`{"aps":{"alert":"Hello"}}`),
//		&notificationhubs.SendNotificationOptions{Tags: []string{"sports"}})
//
// SendDirectNotification sends to one device handle,
// SendDirectBatchNotification to up to 1000, and ScheduleNotification at a
// time up to 7 days ahead. Payloads are validated before any request:
// well-formed JSON or XML, size limits, FCM v1 data values are strings,
// the WNS type matches the XML root, APNs push type and content-available
// agree.
//
// # Test sends and the debug dump
//
// ClientOptions.EnableTestSend (or SendNotificationOptions.EnableTestSend)
// asks the service to deliver to at most 10 registrations and answer with
// their outcome, returned in SendNotificationResponse. ClientOptions.DebugWriter
// receives a dump of every request and response with the SAS signature
// replaced by REDACTED. azcore's logging (AZURE_SDK_GO_LOGGING) also works
// and redacts the Authorization header.
//
// # Errors and retries
//
// A status the operation does not expect is returned as a *ResponseError
// carrying the status, the service's code and detail, the tracking and
// correlation ids and Retry-After. Idempotent operations are retried on
// transport errors and 408, 429, 500, 502, 503 and 504. Sends are retried
// only where the service cannot have acted (connection refused, 429, 503 or
// 403 with Retry-After) unless SendNotificationOptions.RetryUnsafe is set.
// No error, log line or dump contains a key or a signature.
//
// # Hub management
//
// Package github.com/nhkit/notificationhubs/admin creates, reads, updates,
// lists and deletes the hubs of a namespace, gives them push-service
// credentials and rotates their keys, on this package's pipeline and
// credential.
package notificationhubs
