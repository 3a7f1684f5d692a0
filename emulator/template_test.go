package emulator

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTemplateSendRendersPerPlatform(t *testing.T) {
	s := newTest(Options{})
	createReg(t, s, entry(`<AppleTemplateRegistrationDescription `+nsConnect+`><Tags>t</Tags><DeviceToken>`+appleTok+`</DeviceToken>`+
		`<BodyTemplate><![CDATA[{"aps":{"alert":"$(message)","badge":"#(count)"}}]]></BodyTemplate>`+
		`<TemplateName>apple</TemplateName><ApnsHeaders><ApnsHeader><Header>apns-priority</Header><Value>10</Value></ApnsHeader></ApnsHeaders>`+
		`</AppleTemplateRegistrationDescription>`))
	putInstallation(t, s, "i-fcm", `{"installationId":"i-fcm","platform":"fcmv1","pushChannel":"fcm-token","pushVariables":{"who":"device"},
		"templates":{"t1":{"body":"{\"message\":{\"notification\":{\"title\":\"$(message)\",\"body\":\"$(who)\"}}}","tags":["t"]}}}`)
	putInstallation(t, s, "i-wns", `{"installationId":"i-wns","platform":"wns","pushChannel":"https://db5.notify.windows.com/?token=x",
		"templates":{"t2":{"body":"<toast><visual><binding template=\"ToastText01\"><text id=\"1\">$(message)</text></binding></visual></toast>","headers":{"X-WNS-Type":"wns/toast"},"tags":["t"]}}}`)

	w := sendReq("template", "t", `{"message":"Hello","count":"3"}`, nil).do(t, s)
	mustStatus(t, w, 201)
	got := map[string]Delivery{}
	for _, d := range s.Deliveries(DeliveryFilter{}) {
		got[d.Platform] = d
	}
	want := map[string]struct {
		payload string
		headers map[string]string
	}{
		"apple": {`{"aps":{"alert":"Hello","badge":3}}`, map[string]string{"apns-priority": "10", "apns-push-type": "alert", "content-type": "application/json"}},
		"fcmv1": {`{"message":{"notification":{"title":"Hello","body":"device"},"token":"fcm-token"}}`, map[string]string{"Content-Type": "application/json"}},
		"windows": {`<toast><visual><binding template="ToastText01"><text id="1">Hello</text></binding></visual></toast>`,
			map[string]string{"X-WNS-Type": "wns/toast", "Content-Type": "text/xml"}},
	}
	for p, w := range want {
		d, ok := got[p]
		if !ok {
			t.Errorf("no %s delivery", p)
			continue
		}
		if d.Outcome != OutcomeSuccess || d.Format != "template" {
			t.Errorf("%s: outcome %q format %q", p, d.Outcome, d.Format)
		}
		if diff := cmp.Diff(w.payload, d.Payload); diff != "" {
			t.Errorf("%s payload (-want +got):\n%s", p, diff)
		}
		if diff := cmp.Diff(w.headers, d.Headers); diff != "" {
			t.Errorf("%s headers (-want +got):\n%s", p, diff)
		}
	}
	// The template name is a tag.
	s.Reset()
	putInstallation(t, s, "i-wns", `{"installationId":"i-wns","platform":"wns","pushChannel":"https://db5.notify.windows.com/?token=x",
		"templates":{"t2":{"body":"<toast><visual><binding template=\"ToastText01\"><text id=\"1\">$(message)</text></binding></visual></toast>","headers":{"X-WNS-Type":"wns/toast"}}}}`)
	mustStatus(t, sendReq("template", "t2", `{"message":"x"}`, nil).do(t, s), 201)
	if n := len(s.Deliveries(DeliveryFilter{Tag: "t2"})); n != 1 {
		t.Errorf("%d deliveries to template name tag, want 1", n)
	}
}

func TestNativeSendShapes(t *testing.T) {
	s := newTest(Options{})
	createReg(t, s, gcmNative("t", "legacy-token"))
	mustStatus(t, sendReq("gcm", "t", `{"data":{"a":"b"}}`, nil).do(t, s), 201)
	createReg(t, s, entry(`<WindowsRegistrationDescription `+nsConnect+`><Tags>w</Tags><ChannelUri>https://db5.notify.windows.com/?token=x</ChannelUri></WindowsRegistrationDescription>`))
	mustStatus(t, sendReq("windows", "w", `raw bytes`, map[string]string{"X-WNS-Type": "wns/raw", "X-WNS-TTL": "60"}).do(t, s), 201)
	d := s.Deliveries(DeliveryFilter{})
	if len(d) != 2 {
		t.Fatalf("deliveries = %+v", d)
	}
	if got, want := d[0].Payload, `{"to":"legacy-token","data":{"a":"b"}}`; got != want {
		t.Errorf("gcm payload = %s, want %s", got, want)
	}
	if diff := cmp.Diff(map[string]string{"X-WNS-Type": "wns/raw", "X-WNS-TTL": "60", "Content-Type": "application/octet-stream"}, d[1].Headers); diff != "" {
		t.Errorf("wns headers (-want +got):\n%s", diff)
	}
}
