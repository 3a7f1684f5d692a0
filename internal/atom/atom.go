// Package atom encodes and decodes the XML bodies of the Notification Hubs data
// plane (docs/protocol.md: "The Atom envelope", "Test sends", "Telemetry",
// "Errors"): Atom entry and feed envelopes, registration descriptions of every
// platform, the test-send NotificationOutcome, NotificationDetails (telemetry),
// import/export jobs, PnsFeedback documents and error bodies. The SDK and the
// emulator share it.
//
// Encoding writes the service's canonical DataContract element order;
// decoding accepts any element order, i:nil elements, CDATA or escaped
// text, and ignores unknown elements.
package atom

// XML namespaces used on the wire.
const (
	NSAtom     = "http://www.w3.org/2005/Atom"
	NSConnect  = "http://schemas.microsoft.com/netservices/2010/10/servicebus/connect"
	NSInstance = "http://www.w3.org/2001/XMLSchema-instance"
	NSMetadata = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"
	NSArrays   = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
)

// Platform is the prefix of a registration description's element name.
type Platform string

// Platforms of registration descriptions, as in the element names
// ({Platform}RegistrationDescription, {Platform}TemplateRegistrationDescription).
const (
	Apple   Platform = "Apple"
	Gcm     Platform = "Gcm" // FCM legacy
	FcmV1   Platform = "FcmV1"
	Windows Platform = "Windows"
	Mpns    Platform = "Mpns"
	Adm     Platform = "Adm"
	Baidu   Platform = "Baidu"
	Browser Platform = "Browser"
	Xiaomi  Platform = "Xiaomi"
)

// Header is one name/value pair of ApnsHeaders, WnsHeaders or MpnsHeaders.
type Header struct {
	Name  string
	Value string
}

// Registration is a registration description of any platform, native or
// template. Fields that do not belong to Platform are ignored when encoding.
// Empty strings mean "absent".
type Registration struct {
	Platform Platform
	Template bool

	// Base elements (orders 1001-1005).
	ETag           string // integer text, e.g. "1"
	ExpirationTime string // xs:dateTime text as the service wrote it
	RegistrationID string
	Tags           []string          // wire: comma-separated
	PushVariables  map[string]string // wire: JSON object text

	// Platform elements (2001+).
	DeviceToken          string // Apple
	GcmRegistrationID    string // Gcm
	FcmV1RegistrationID  string // FcmV1
	ChannelURI           string // Windows, Mpns
	SecondaryTileName    string // Windows, Mpns
	AdmRegistrationID    string // Adm
	BaiduUserID          string // Baidu
	BaiduChannelID       string // Baidu
	Endpoint             string // Browser
	P256DH               string // Browser
	Auth                 string // Browser
	XiaomiRegistrationID string // Xiaomi

	// Template elements (3001+).
	BodyTemplate string
	Expiry       string // Apple
	TemplateName string
	Priority     string   // Apple
	ApnsHeaders  []Header // Apple
	WnsHeaders   []Header // Windows
	MpnsHeaders  []Header // Mpns
	MessageType  string   // Baidu
}

// Entry is an Atom entry. Content is the raw XML of the first child element
// of <content> (a registration description, a NotificationHubJob, …).
type Entry struct {
	ID        string
	Title     string
	Published string
	Updated   string
	SelfLink  string
	ETag      string // the a:etag attribute value without W/"…", e.g. "1"
	Content   []byte
	// Author is the <author><name> (hub entries carry the namespace's
	// name there).
	Author string
	// AlternateLink is a rel="alternate" link; an entry with one and no
	// Content is written without <content> (the namespace root listing).
	AlternateLink string
}

// Feed is an Atom feed.
type Feed struct {
	Title     string
	Subtitle  string
	ID        string
	Generator string
	Updated   string
	SelfLink  string
	NextLink  string
	Entries   []Entry
}

// Outcome is the NotificationOutcome of a test send (docs/protocol.md, "Test sends").
// Results is nil when the service wrote <Results i:nil="true"/>.
type Outcome struct {
	Success int
	Failure int
	Results []RegistrationResult
}

// RegistrationResult is one target's result in an Outcome.
type RegistrationResult struct {
	ApplicationPlatform string
	PnsHandle           string
	RegistrationID      string
	Outcome             string
}

// OutcomeCount is one <Outcome><Name/><Count/></Outcome> of telemetry.
type OutcomeCount struct {
	Name  string
	Count int
}

// PlatformCounts is one per-platform element of NotificationDetails, e.g.
// Element "ApnsOutcomeCounts".
type PlatformCounts struct {
	Element string
	Counts  []OutcomeCount
}

// NotificationDetails is per-message telemetry (docs/protocol.md, "Telemetry").
type NotificationDetails struct {
	NotificationID     string
	Location           string
	State              string
	EnqueueTime        string
	StartTime          string
	EndTime            string
	NotificationBody   string
	Tags               string
	TargetPlatforms    string
	Counts             []PlatformCounts // in the service's element order
	PnsErrorDetailsURI string
}

// Job is a NotificationHubJob (docs/protocol.md, "Import and export jobs").
type Job struct {
	JobID              string
	Progress           string
	Type               string // ExportRegistrations, ImportCreateRegistrations, …
	Status             string // Started (omitted on the wire), Running, Completed, Failed
	OutputContainerURI string
	ImportFileURI      string
	InputProperties    map[string]string
	Failure            string
	OutputProperties   map[string]string // OutputFilePath, FailedFilePath
	CreatedAt          string
	UpdatedAt          string
}

// PnsFeedback is one feedback document (docs/protocol.md, "PNS feedback").
type PnsFeedback struct {
	FeedbackTime            string
	NotificationSystemError string
	Platform                string
	PnsHandle               string
	RegistrationID          string
	InstallationID          string
	NotificationID          string
	NewPnsHandle            string
}

// ErrorBody is the service's error body <Error><Code/><Detail/></Error>.
type ErrorBody struct {
	Code   int
	Detail string
}
