// Package push delivers notifications to the real push services: Apple's
// APNs, Google's FCM (HTTP v1), Microsoft's WNS, Amazon's ADM and the
// browsers' Web Push services.
//
// The emulator records what each device would receive; with delivery turned
// on it hands the same notification to a client of this package, built from
// the hub's credential for the platform. Nothing in the package is
// reachable from outside the emulator module's tree.
//
// # Credentials
//
// One type per push service credential ([ApnsTokenCredential],
// [ApnsCertificateCredential], [FcmV1Credential], [WnsCredential],
// [AdmCredential], [BrowserCredential], [BaiduCredential],
// [XiaomiCredential]). Each constructor parses and checks its secret
// material at once and answers a [*CredentialError] naming the field; no
// error, String, GoString or %v of a credential contains a secret.
//
// # Clients
//
// [NewClient] builds the [Sender] for a credential ([ApnsClient],
// [FcmV1Client], [WnsClient], [AdmClient], [WebPushClient]). Send delivers
// one [Notification] to one device handle and returns a [Result]; it never
// retries. Access tokens (APNs provider tokens, Google, WNS and ADM OAuth
// tokens) are cached per client by the [Clock] in [Options]. Every endpoint
// can be overridden with [Endpoints], and every connection goes through
// Options.DialContext.
//
// # Dispatching
//
// A [Dispatcher] queues notifications per push service with bounded queues
// and bounded concurrency, retries throttled and unavailable answers with
// backoff that honours Retry-After, and reports every attempt through a
// callback. A full queue is reported as a [StatusQueueFull] result.
//
// The stand-ins in package pushtest check what the real services check, on
// loopback, for tests.
package push
