package cli

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	notificationhubs "github.com/nhkit/notificationhubs"
)

// authStatus reports whether err is the service refusing the credentials
// (401, or 403 without Retry-After, which would be throttling), and which.
func authStatus(err error) (int, bool) {
	var re *notificationhubs.ResponseError
	if !errors.As(err, &re) {
		return 0, false
	}
	switch {
	case re.StatusCode == http.StatusUnauthorized:
		return re.StatusCode, true
	case re.StatusCode == http.StatusForbidden && re.RetryAfter == 0:
		return re.StatusCode, true
	}
	return 0, false
}

// untrustedCertificate reports whether err is a TLS certificate the
// machine does not trust (the emulator's, when NH_CA_FILE is not set).
func untrustedCertificate(err error) bool {
	var ua x509.UnknownAuthorityError
	var cv *tls.CertificateVerificationError
	return errors.As(err, &ua) || errors.As(err, &cv)
}

// userMessage is the text of err as nh prints it after "error: ": the
// command's own context, then the SDK's errors in the CLI's words. A
// service answer is its status and explanation without the request line
// (which --debug shows, and which may name an id the user never saw); a
// payload check names PAYLOAD and the flags, not SDK fields; a transport
// failure drops the Go request echo; and the SDK's "notificationhubs: "
// prefix goes, so that "error: " is the only one.
func userMessage(err error) string {
	msg := err.Error()
	replace := func(inner error, with string) {
		if s := inner.Error(); s != "" {
			if i := strings.LastIndex(msg, s); i >= 0 {
				msg = msg[:i] + with + msg[i+len(s):]
			}
		}
	}
	var re *notificationhubs.ResponseError
	if errors.As(err, &re) {
		replace(re, describeResponse(re))
	}
	var ve *notificationhubs.ValidationError
	if errors.As(err, &ve) {
		replace(ve, describeValidation(ve))
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		replace(ue, ue.Err.Error())
	}
	return strings.ReplaceAll(msg, "notificationhubs: ", "")
}

// describeResponse says what the service answered: "not found (404,
// tracking id …)", or "the service answered 400 Bad Request: … (tracking
// id …)".
func describeResponse(re *notificationhubs.ResponseError) string {
	m := re.Message()
	if m == http.StatusText(re.StatusCode) {
		m = ""
	}
	var b strings.Builder
	if re.StatusCode == http.StatusNotFound {
		b.WriteString("not found")
		if m != "" && !strings.Contains(strings.ToLower(m), "not found") {
			b.WriteString(": " + m)
		}
		b.WriteString(" (404")
		if re.TrackingID != "" {
			b.WriteString(", tracking id " + re.TrackingID)
		}
		b.WriteString(")")
		return b.String()
	}
	b.WriteString("the service answered " + strconv.Itoa(re.StatusCode))
	if t := http.StatusText(re.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	if m != "" {
		b.WriteString(": " + m)
	}
	if re.TrackingID != "" {
		b.WriteString(" (tracking id " + re.TrackingID + ")")
	}
	if re.RetryAfter > 0 {
		b.WriteString(" (retry after " + re.RetryAfter.String() + ")")
	}
	return b.String()
}

// sdkField matches a Go identifier such as WindowsOptions.Type in an SDK
// message; TestValidationErrorsNameFlags checks none reaches the user.
var sdkField = regexp.MustCompile(`\b[A-Z][A-Za-z0-9]*Options\.[A-Z][A-Za-z0-9]*\b`)

// describeValidation puts an SDK payload check in the CLI's words:
// "body" is PAYLOAD, "header X" is --header X, Content-Type is
// --content-type, and hints name flags instead of SDK fields.
func describeValidation(ve *notificationhubs.ValidationError) string {
	if ve.Subject != "" {
		return ve.Error() // a registration or installation: its own words
	}
	where := ve.Where
	switch {
	case where == "body" || strings.HasPrefix(where, "body "):
		where = "PAYLOAD" + strings.TrimPrefix(where, "body")
	case strings.HasPrefix(where, "header "):
		where = "--header " + strings.TrimPrefix(where, "header ")
	case where == "Content-Type":
		where = "--content-type"
	case where == "Format":
		where = "--format"
	case strings.HasPrefix(where, "property "):
		where = "template " + where
	case where != "":
		where = "PAYLOAD " + where
	}
	msg := strings.ReplaceAll(ve.Msg, "(set WindowsOptions.Type, e.g. wns/raw)",
		"(for a raw notification, add --header X-WNS-Type:wns/raw)")
	msg = sdkField.ReplaceAllStringFunc(msg, func(s string) string { return "--header" })
	f := string(ve.Format)
	if f == "" {
		f = "the"
	}
	if where == "" {
		return f + " notification: " + msg
	}
	return f + " notification: " + where + ": " + msg
}

// caretError is a tag expression error that reportError shows with a
// caret under the position.
type caretError struct {
	msg  string
	expr string
	pos  int
}

func (e *caretError) Error() string { return e.msg }

// emulatorAPIError is a failure answered by an emulator's /_emulator/
// endpoint.
type emulatorAPIError struct {
	status int
	msg    string
}

func (e *emulatorAPIError) Error() string { return e.msg }

// flagWords puts an SDK registration check (Registration.Validate) in
// the words of nh registration create's flags.
var flagWords = strings.NewReplacer(
	"notificationhubs: registration: ", "",
	"DeviceToken must be hexadecimal with an even length", "--handle: an APNs device token is hexadecimal with an even number of digits",
	"ChannelURI must be an absolute URI", "--handle: a channel URI is an absolute URI such as https://…",
	"platform needs P256DH", "registration needs --p256dh",
	"platform needs Auth", "registration needs --auth",
	"platform needs BaiduChannelID", "registration needs --baidu-channel",
	"tag \"", "--tag \"",
	"template body is empty", "--template is empty",
	"template body: ", "--template: ",
	"template name is longer than 200 characters", "--template-name is longer than 200 characters",
	"a Windows template needs the X-WNS-Type header", "a Windows template needs --header X-WNS-Type:wns/toast (or wns/tile, wns/badge, wns/raw)",
	"APNs template header ", "--header ",
)

// registrationCheck runs Registration.Validate and puts its error in the
// words of the flags.
func registrationCheck(r notificationhubs.Registration) error {
	if err := r.Validate(); err != nil {
		return fmt.Errorf("%s", flagWords.Replace(err.Error()))
	}
	return nil
}
