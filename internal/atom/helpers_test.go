package atom

import (
	"os"
	"path/filepath"
	"testing"
)

// Test helpers shared by this package's test files; helpers used by
// one file stay in that file.

// outcomeSample is the §3.2 sample (JS issue #23139), pretty-printed.
const outcomeSample = `<NotificationOutcome xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
  <Success>1</Success>
  <Failure>0</Failure>
  <Results>
    <RegistrationResult>
      <ApplicationPlatform>apple</ApplicationPlatform>
      <PnsHandle>7603CF2F0786</PnsHandle>
      <RegistrationId>282625459606590828-2679902039720441464-3</RegistrationId>
      <Outcome>The Notification was successfully sent to the Push Notification System</Outcome>
    </RegistrationResult>
  </Results>
</NotificationOutcome>`

func readRecorded(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(wireDir, "recorded", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func recordedFiles(t testing.TB, prefix string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(wireDir, "recorded", prefix+"*.xml"))
	if err != nil || len(m) == 0 {
		t.Fatalf("no recorded %s*.xml files (%v)", prefix, err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	return m
}

const wireDir = "../../testdata/wire"

// fullRegistration returns a registration of the given kind with every
// field that belongs to it set.
func fullRegistration(p Platform, template bool) Registration {
	r := Registration{
		Platform:       p,
		Template:       template,
		ETag:           "3",
		ExpirationTime: "9999-12-31T23:59:59.999Z",
		RegistrationID: "2270130495392485512-2858389966561136576-2",
		Tags:           []string{"tag1", "$InstallationId:{8b3e1b9e}", "a:b#c"},
		PushVariables:  map[string]string{"var1": "value1", "html": "<b>&amp;</b>"},
	}
	switch p {
	case Apple:
		r.DeviceToken = "62BCD3484834B7E2DC56733AC5509259230CC1BA82BA1AE7D06E91908A05A8FA"
	case Gcm:
		r.GcmRegistrationID = "amzn1.adm-registration.v2.123"
	case FcmV1:
		r.FcmV1RegistrationID = "fcm-v1-token:APA91b"
	case Windows, Mpns:
		r.ChannelURI = "https://db5.notify.windows.com/?token=AwYAAAD%2b&x=1"
		r.SecondaryTileName = "Tile name"
	case Adm:
		r.AdmRegistrationID = "amzn1.adm-registration.v3.456"
	case Baidu:
		r.BaiduUserID = "userId"
		r.BaiduChannelID = "channelId"
	case Browser:
		r.Endpoint = "https://fcm.googleapis.com/fcm/send/abc"
		r.P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
		r.Auth = "tBHItJI5svbpez7KI4CCXg"
	case Xiaomi:
		r.XiaomiRegistrationID = "xiaomi-regid"
	}
	if !template {
		return r
	}
	r.TemplateName = "Template Name"
	switch p {
	case Apple:
		r.BodyTemplate = `{"aps":{"alert":"$(message)","badge":"#(count)"}}`
		r.Expiry = "2018-11-07T16:18:32.6641371-08:00"
		r.Priority = "10"
		r.ApnsHeaders = []Header{{"apns-push-type", "alert"}, {"apns-priority", "10"}}
	case Windows:
		r.BodyTemplate = `<toast><visual><binding template="ToastText01"><text id="1">$(message)</text></binding></visual></toast>`
		r.WnsHeaders = []Header{{"X-WNS-Type", "wns/toast"}, {"X-WNS-TTL", "60"}}
	case Mpns:
		r.BodyTemplate = `<wp:Notification xmlns:wp="WPNotification" Version="2.0"><wp:Tile Id="TileId" Template="IconicTile"><wp:Title Action="Clear">$(title)</wp:Title></wp:Tile></wp:Notification>`
		r.MpnsHeaders = []Header{{"X-NotificationClass", "1"}, {"X-WindowsPhone-Target", "token"}}
	case Baidu:
		r.BodyTemplate = `{"title":"$(title)","description":"Description"}`
		r.MessageType = "1"
	default:
		r.BodyTemplate = `{"data":{"message":"$(message)"}}`
	}
	return r
}

func allKinds() []kind {
	var ks []kind
	for _, p := range Platforms {
		ks = append(ks, kind{p, false}, kind{p, true})
	}
	return ks
}

func mustMarshal(t testing.TB, r Registration) []byte {
	t.Helper()
	b, err := MarshalRegistration(r)
	if err != nil {
		t.Fatalf("MarshalRegistration(%s): %v", r.ElementName(), err)
	}
	return b
}

// jsRequest wraps a description the way the JS SDK 2.x sends it [CAP].
func jsRequest(desc string) []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8" standalone="yes"?>` +
		`<entry xmlns="http://www.w3.org/2005/Atom"><updated>2024-05-01T10:00:00.000Z</updated>` +
		`<content type="application/xml">` + desc + `</content></entry>`)
}

type kind struct {
	p        Platform
	template bool
}
