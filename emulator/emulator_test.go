package emulator

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nhkit/notificationhubs/internal/sas"
)

func TestAuthFailures(t *testing.T) {
	s := newTest(Options{})
	past := sas.Sign("https://"+testHost+"/", FullRuleName, DefaultFullKey, time.Now().Add(-time.Minute))
	wrongAud := sas.Sign("https://other.servicebus.windows.net/", FullRuleName, DefaultFullKey, time.Now().Add(time.Hour))
	otherHub := sas.Sign("https://"+testHost+"/otherhub", FullRuleName, DefaultFullKey, time.Now().Add(time.Hour))
	tests := []struct {
		name       string
		c          call
		wantStatus int
		wantDetail string // prefix of Detail; "" = empty body
	}{
		{"missing", call{auth: strp("")}, 401, "MissingToken"},
		{"malformed", call{auth: strp("Bearer abc")}, 401, "MalformedToken"},
		{"wrong key", call{key: "bm90LXRoZS1rZXk=", keyName: FullRuleName}, 401, "InvalidSignature"},
		{"unknown rule", call{key: DefaultFullKey, keyName: "RootManageSharedAccessKey"}, 401, "InvalidSignature"},
		{"expired", call{auth: &past}, 401, "ExpiredToken"},
		{"audience", call{auth: &wrongAud}, 401, "InvalidAudience"},
		{"audience other hub", call{auth: &otherHub}, 401, "InvalidAudience"},
		{"listen key sends", call{key: DefaultListenKey, keyName: ListenRuleName}, 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sendReq("apple", "a", `{"aps":{}}`, nil)
			c.auth, c.key, c.keyName = tt.c.auth, tt.c.key, tt.c.keyName
			w := c.do(t, s)
			body := mustStatus(t, w, tt.wantStatus)
			if tt.wantDetail == "" {
				if body != "" {
					t.Errorf("body = %q, want empty", body)
				}
				return
			}
			if !strings.HasPrefix(body, "<Error><Code>401</Code><Detail>"+tt.wantDetail) {
				t.Errorf("body = %q, want Detail starting %q", body, tt.wantDetail)
			}
			if w.Header().Get("TrackingId") == "" || w.Header().Get("x-ms-correlation-request-id") == "" {
				t.Errorf("tracking headers missing: %v", w.Header())
			}
		})
	}
}

func TestListenKeyMayRegister(t *testing.T) {
	s := newTest(Options{})
	w := call{method: "POST", path: regPath("/registrations?api-version=2020-06"), body: appleNative("a", appleTok),
		key: DefaultListenKey, keyName: ListenRuleName}.do(t, s)
	mustStatus(t, w, 200)
	// Listing everything needs Manage.
	w = call{method: "GET", path: regPath("/registrations?api-version=2020-06"), key: DefaultListenKey, keyName: ListenRuleName}.do(t, s)
	mustStatus(t, w, 403)
	w = call{method: "GET", path: regPath("/registrations?api-version=2017-04"), key: DefaultListenKey, keyName: ListenRuleName}.do(t, s)
	if body := mustStatus(t, w, 401); !strings.Contains(body, "Manage claim is required") {
		t.Errorf("body = %q", body)
	}
}

func TestTrackingIDEchoed(t *testing.T) {
	s := newTest(Options{})
	w := call{method: "GET", path: regPath("/registrations/1-2-3?api-version=2020-06"), headers: map[string]string{"TrackingId": "abc-123"}}.do(t, s)
	body := mustStatus(t, w, 404)
	if got := w.Header().Get("TrackingId"); got != "abc-123" {
		t.Errorf("TrackingId = %q", got)
	}
	if !regexp.MustCompile(`^<Error><Code>404</Code><Detail>\.TrackingId:abc-123_G0,TimeStamp:\d+/\d+/\d{4} \d+:\d\d:\d\d [AP]M</Detail></Error>$`).MatchString(body) {
		t.Errorf("body = %q", body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/xml; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestUnknownHub(t *testing.T) {
	s := newTest(Options{Hubs: []string{"MyHub"}})
	w := call{method: "GET", path: "/otherhub/registrations/1-2-3?api-version=2020-06"}.do(t, s)
	mustStatus(t, w, 404)
	// Hub names are case-insensitive, paths too.
	w = call{method: "POST", path: "/MYHUB/REGISTRATIONS/?api-version=2020-06", body: appleNative("", appleTok)}.do(t, s)
	mustStatus(t, w, 200)
}

func TestRouting(t *testing.T) {
	s := newTest(Options{})
	tests := []struct {
		method, path string
		want         int
	}{
		{"POST", "/myhub/registrationIDs?api-version=2020-06", 201},
		{"POST", "/myhub/registrationids/?api-version=2020-06", 201},
		{"GET", "/myhub/Registrations/?%24top=5&api-version=2020-06", 200},
		{"GET", "/myhub/nothing?api-version=2020-06", 404},
		{"DELETE", "/myhub/registrationids?api-version=2020-06", 405},
	}
	for _, tt := range tests {
		w := call{method: tt.method, path: tt.path}.do(t, s)
		if w.Code != tt.want {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, w.Code, tt.want)
		}
	}
	// Absolute-form request target (Python sample).
	req := httptest.NewRequest("POST", "https://"+testHost+"/myhub/registrationids?api-version=2013-10", nil)
	req.Header.Set("Authorization", fullAuth())
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != 201 {
		t.Errorf("absolute form = %d", w.Code)
	}
	loc := w.Header().Get("Location")
	if !regexp.MustCompile(`^https://ns\.servicebus\.windows\.net/myhub/registrationids/\d+-\d+-\d\?api-version=2013-10$`).MatchString(loc) {
		t.Errorf("Location = %q", loc)
	}
}

func TestRegistrationLifecycle(t *testing.T) {
	s := newTest(Options{})
	w := call{method: "POST", path: regPath("/registrations?api-version=2017-04"), body: appleNative("tag1, tag2", appleTok)}.do(t, s)
	body := mustStatus(t, w, 200)
	if got := w.Header().Get("ETag"); got != `W/"1"` {
		t.Errorf("ETag = %q", got)
	}
	loc := w.Header().Get("Content-Location")
	m := regexp.MustCompile(`^https://ns\.servicebus\.windows\.net/myhub/registrations/(\d+-\d+-\d)\?api-version=2017-04$`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("Content-Location = %q", loc)
	}
	id := m[1]
	if ct := w.Header().Get("Content-Type"); ct != "application/atom+xml; type=entry; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	for _, want := range []string{"<ETag>1</ETag><ExpirationTime>9999-12-31T23:59:59.999</ExpirationTime><RegistrationId>" + id + "</RegistrationId><Tags>tag1,tag2</Tags><DeviceToken>" + strings.ToUpper(appleTok) + "</DeviceToken>"} {
		if !strings.Contains(body, want) {
			t.Errorf("create body lacks %q:\n%s", want, body)
		}
	}
	w = call{method: "GET", path: regPath("/registrations/" + id + "?api-version=2017-04")}.do(t, s)
	if body := mustStatus(t, w, 200); !strings.Contains(body, "<ExpirationTime>9999-12-31T23:59:59.999Z</ExpirationTime>") {
		t.Errorf("get body: %s", body)
	}
	for _, ifMatch := range []string{`"1"`, `W/"2"`, `3`, `*`} {
		w = call{method: "PUT", path: regPath("/registrations/" + id + "?api-version=2017-04"), body: appleNative("tag3", appleTok),
			headers: map[string]string{"If-Match": ifMatch}}.do(t, s)
		mustStatus(t, w, 200)
	}
	if got := w.Header().Get("ETag"); got != `W/"5"` {
		t.Errorf("ETag after 4 updates = %q", got)
	}
	w = call{method: "PUT", path: regPath("/registrations/" + id + "?api-version=2017-04"), body: appleNative("tag3", appleTok),
		headers: map[string]string{"If-Match": `"1"`}}.do(t, s)
	mustStatus(t, w, 412)
	w = call{method: "DELETE", path: regPath("/registrations/" + id + "?api-version=2017-04"), headers: map[string]string{"If-Match": `W/"4"`}}.do(t, s)
	mustStatus(t, w, 412)
	w = call{method: "DELETE", path: regPath("/registrations/" + id + "?api-version=2017-04"), headers: map[string]string{"If-Match": `*`}}.do(t, s)
	if body := mustStatus(t, w, 200); body != "" {
		t.Errorf("delete body = %q", body)
	}
	w = call{method: "DELETE", path: regPath("/registrations/" + id + "?api-version=2017-04")}.do(t, s)
	mustStatus(t, w, 404)
	w = call{method: "GET", path: regPath("/registrations/" + id + "?api-version=2017-04")}.do(t, s)
	mustStatus(t, w, 404)
	// Update of a missing registration with If-Match: 404; upsert without: 200.
	w = call{method: "PUT", path: regPath("/registrations/123-234-1?api-version=2017-04"), body: appleNative("", appleTok), headers: map[string]string{"If-Match": `*`}}.do(t, s)
	mustStatus(t, w, 404)
	w = call{method: "PUT", path: regPath("/registrations/123-234-1?api-version=2017-04"), body: appleNative("", appleTok)}.do(t, s)
	mustStatus(t, w, 200)
}

func TestRegistrationValidation(t *testing.T) {
	s := newTest(Options{})
	tests := []struct {
		name, body, want string
	}{
		{"bad tag", appleNative("ok,bad tag!", appleTok), "An invalid tag(s) 'bad tag!' was supplied."},
		{"odd token", appleNative("", "abc"), "device token"},
		{"malformed xml", "<entry><content>", ""},
		{"relative channel", entry(`<WindowsRegistrationDescription ` + nsConnect + `><ChannelUri>not-a-uri</ChannelUri></WindowsRegistrationDescription>`), "absolute URI"},
		{"wns template without type", entry(`<WindowsTemplateRegistrationDescription ` + nsConnect + `><ChannelUri>https://x.notify.windows.com/?t=1</ChannelUri><BodyTemplate><![CDATA[<toast><visual><binding template="ToastText01"><text id="1">$(m)</text></binding></visual></toast>]]></BodyTemplate></WindowsTemplateRegistrationDescription>`), "X-WNS-Type"},
		{"bad template json", entry(`<GcmTemplateRegistrationDescription ` + nsConnect + `><GcmRegistrationId>x</GcmRegistrationId><BodyTemplate>{"data":</BodyTemplate></GcmTemplateRegistrationDescription>`), "template body is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := call{method: "POST", path: regPath("/registrations?api-version=2020-06"), body: tt.body}.do(t, s)
			body := mustStatus(t, w, 400)
			if !strings.Contains(body, tt.want) {
				t.Errorf("body = %q, want it to contain %q", body, tt.want)
			}
		})
	}
}

func TestRegistrationIDThenPut(t *testing.T) {
	s := newTest(Options{})
	w := call{method: "POST", path: regPath("/registrationIDs?api-version=2020-06")}.do(t, s)
	mustStatus(t, w, 201)
	loc := w.Header().Get("Location")
	id := strings.TrimSuffix(loc[strings.LastIndex(loc, "/")+1:], "?api-version=2020-06")
	w = call{method: "PUT", path: regPath("/registrations/" + id + "?api-version=2020-06"), body: gcmNative("t", "fcm-token")}.do(t, s)
	mustStatus(t, w, 200)
	if got := w.Header().Get("ETag"); got != `W/"1"` {
		t.Errorf("ETag = %q", got)
	}
}

func TestListPaging(t *testing.T) {
	s := newTest(Options{})
	var want []string
	for i := range 5 {
		want = append(want, createReg(t, s, gcmNative(fmt.Sprintf("t%d", i), fmt.Sprintf("h%d", i))))
	}
	var got []string
	path := regPath("/registrations?api-version=2020-06&%24top=2")
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("too many pages")
		}
		w := call{method: "GET", path: path}.do(t, s)
		body := mustStatus(t, w, 200)
		if ct := w.Header().Get("Content-Type"); ct != "application/atom+xml; type=feed; charset=utf-8" {
			t.Errorf("Content-Type = %q", ct)
		}
		got = append(got, listIDs(t, body)...)
		tok := w.Header().Get("x-ms-continuationtoken")
		if tok == "" {
			if strings.Contains(body, `rel="next"`) {
				t.Error("next link without continuation token")
			}
			break
		}
		if !regexp.MustCompile(`^[A-Za-z0-9_-]+$`).MatchString(tok) {
			t.Errorf("token %q is not URL-safe", tok)
		}
		if !strings.Contains(body, `<link rel="next"`) {
			t.Error("no next link")
		}
		path = regPath("/registrations?api-version=2020-06&%24top=2&continuationtoken=" + tok)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
}

func TestListFilters(t *testing.T) {
	s := newTest(Options{})
	apple := createReg(t, s, appleNative("a", appleTok))
	gcm := createReg(t, s, gcmNative("b", "fcm:tok/1"))
	wns := createReg(t, s, entry(`<WindowsRegistrationDescription `+nsConnect+`><Tags>a</Tags><ChannelUri>https://db5.notify.windows.com/?token=AwYAAA%2b</ChannelUri></WindowsRegistrationDescription>`))
	baidu := createReg(t, s, entry(`<BaiduRegistrationDescription `+nsConnect+`><BaiduUserId>u1</BaiduUserId><BaiduChannelId>c1</BaiduChannelId></BaiduRegistrationDescription>`))
	tests := []struct {
		filter string
		want   []string
	}{
		{"ChannelUri+eq+%27" + strings.ToUpper(appleTok) + "%27", []string{apple}},
		{"DeviceToken eq '" + strings.ToUpper(appleTok) + "'", []string{apple}},
		{"DeviceToken eq '" + appleTok + "'", nil}, // upper-case hex only, as the service documents
		{"GcmRegistrationId eq 'fcm:tok/1'", []string{gcm}},
		{"ChannelUri eq 'fcm:tok/1'", []string{gcm}},
		{"ChannelUri eq '" + "https%3A%2F%2Fdb5.notify.windows.com%2F%3Ftoken%3DAwYAAA%252b" + "'", []string{wns}},
		{"BaiduChannelId eq c1' and BaiduUserId eq 'u1'", []string{baidu}},
		{"BaiduChannelId eq 'c1' and BaiduUserId eq 'nope'", nil},
	}
	for _, tt := range tests {
		q := strings.ReplaceAll(tt.filter, " ", "+")
		q = strings.ReplaceAll(q, "'", "%27")
		w := call{method: "GET", path: regPath("/registrations?api-version=2020-06&%24filter=" + q)}.do(t, s)
		body := mustStatus(t, w, 200)
		if diff := cmp.Diff(tt.want, listIDs(t, body)); diff != "" {
			t.Errorf("filter %q (-want +got):\n%s", tt.filter, diff)
		}
	}
	w := call{method: "GET", path: regPath("/registrations?api-version=2020-06&$filter=Tags+eq+%27a%27")}.do(t, s)
	mustStatus(t, w, 400)
	// By tag.
	w = call{method: "GET", path: regPath("/tags/a/registrations?api-version=2020-06")}.do(t, s)
	body := mustStatus(t, w, 200)
	if diff := cmp.Diff([]string{apple, wns}, listIDs(t, body)); diff != "" {
		t.Errorf("by tag (-want +got):\n%s", diff)
	}
	if !strings.Contains(body, "/tags/a/registrations/"+apple) {
		t.Errorf("by-tag entry ids should use the tag path: %s", body)
	}
}

func TestInstallationLifecycle(t *testing.T) {
	s := newTest(Options{})
	w := call{method: "PUT", path: regPath("/installations/inst-1?api-version=2020-06"), body: instApple}.do(t, s)
	mustStatus(t, w, 200)
	if got, want := w.Header().Get("Content-Location"), "https://"+testHost+"/myhub/installations/inst-1?api-version=2020-06"; got != want {
		t.Errorf("Content-Location = %q, want %q", got, want)
	}
	w = call{method: "GET", path: regPath("/installations/inst-1?api-version=2020-06")}.do(t, s)
	body := mustStatus(t, w, 200)
	want := `{"installationId":"inst-1","pushChannel":"` + strings.ToUpper(appleTok) + `","pushChannelExpired":false,"platform":"apns","expirationTime":"9999-12-31T23:59:59.9999999Z","tags":["tag1"],"pushVariables":{"var1":"value1"},"templates":{"Template Name":{"body":"{\"aps\":{\"alert\":\"$(message)\"}}","expiry":"2018-11-07T16:18:32.6641371-08:00","tags":["tt","Template Name"]}}}`
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("GET (-want +got):\n%s", diff)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/xml; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	// Projection into registrations.
	w = call{method: "GET", path: regPath("/registrations?api-version=2020-06")}.do(t, s)
	body = mustStatus(t, w, 200)
	for _, want := range []string{
		"<Tags>$InstallationId:{inst-1},tag1</Tags>",
		"<Tags>$InstallationId:{inst-1},tag1,tt,Template Name</Tags>",
		"<TemplateName>Template Name</TemplateName>",
		"<ExpirationTime>9999-12-31T23:59:59.9999999Z</ExpirationTime>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("projected registrations lack %q:\n%s", want, body)
		}
	}
	// PATCH: add userId, add a tag, remove template.
	patch := `[{"op":"add","path":"/userId","value":"user-1"},{"op":"add","path":"/tags","value":"tag2"},
	{"op":"remove","path":"/templates/Template Name"},{"op":"add","path":"/pushVariables/var2","value":"v2"}]`
	w = call{method: "PATCH", path: regPath("/installations/inst-1?api-version=2020-06"), body: patch,
		headers: map[string]string{"Content-Type": "application/json-patch+json"}}.do(t, s)
	if body := mustStatus(t, w, 200); body != "" {
		t.Errorf("PATCH body = %q", body)
	}
	w = call{method: "GET", path: regPath("/installations/inst-1?api-version=2020-06")}.do(t, s)
	body = mustStatus(t, w, 200)
	want = `{"installationId":"inst-1","pushChannel":"` + strings.ToUpper(appleTok) + `","pushChannelExpired":false,"platform":"apns","expirationTime":"9999-12-31T23:59:59.9999999Z","tags":["tag1","tag2"],"pushVariables":{"var1":"value1","var2":"v2"},"userId":"user-1"}`
	if diff := cmp.Diff(want, body); diff != "" {
		t.Errorf("GET after PATCH (-want +got):\n%s", diff)
	}
	// Send by $UserId.
	w = sendReq("apple", "$UserId:{user-1}", `{"aps":{"alert":"hi"}}`, nil).do(t, s)
	mustStatus(t, w, 201)
	if d := s.Deliveries(DeliveryFilter{Hub: testHub}); len(d) != 1 || d[0].InstallationID != "inst-1" {
		t.Errorf("deliveries = %+v", d)
	}
	// Bad patch.
	w = call{method: "PATCH", path: regPath("/installations/inst-1?api-version=2020-06"), body: `[{"op":"move","path":"/tags"}]`}.do(t, s)
	mustStatus(t, w, 400)
	w = call{method: "PATCH", path: regPath("/installations/nope?api-version=2020-06"), body: `[]`}.do(t, s)
	mustStatus(t, w, 404)
	// Delete: 204 always.
	for range 2 {
		w = call{method: "DELETE", path: regPath("/installations/inst-1?api-version=2020-06")}.do(t, s)
		mustStatus(t, w, 204)
	}
	w = call{method: "GET", path: regPath("/installations/inst-1?api-version=2020-06")}.do(t, s)
	if body := mustStatus(t, w, 404); !strings.HasPrefix(body, "<Error><Code>404</Code><Detail>Installation not found.TrackingId:") {
		t.Errorf("404 body = %q", body)
	}
	w = call{method: "GET", path: regPath("/registrations?api-version=2020-06")}.do(t, s)
	if ids := listIDs(t, mustStatus(t, w, 200)); len(ids) != 0 {
		t.Errorf("registrations left after delete: %v", ids)
	}
}

func TestBrowserInstallationPushChannelForms(t *testing.T) {
	s := newTest(Options{})
	sub := `{"endpoint":"https://fcm.googleapis.com/fcm/send/x","p256dh":"P","auth":"A"}`
	quoted := `"{\"endpoint\":\"https://fcm.googleapis.com/fcm/send/x\",\"p256dh\":\"P\",\"auth\":\"A\"}"`
	rest := `,"pushChannelExpired":false,"platform":"browser","expirationTime":"9999-12-31T23:59:59.9999999Z"}`
	// Each form is answered as it was written (TestBrowserPushChannelEchoesItsForm).
	for _, pc := range []string{sub, quoted} {
		putInstallation(t, s, "b1", `{"installationId":"b1","platform":"browser","pushChannel":`+pc+`}`)
		w := call{method: "GET", path: regPath("/installations/b1?api-version=2020-06")}.do(t, s)
		want := `{"installationId":"b1","pushChannel":` + pc + rest
		if diff := cmp.Diff(want, mustStatus(t, w, 200)); diff != "" {
			t.Errorf("GET (-want +got):\n%s", diff)
		}
	}
}

func TestSendTargeting(t *testing.T) {
	s := newTest(Options{})
	a := createReg(t, s, appleNative("sports,news", appleTok))
	createReg(t, s, appleNative("news", "AB"))
	createReg(t, s, gcmNative("sports", "g1"))
	// Same handle twice: deduplicated.
	createReg(t, s, appleNative("sports", appleTok))
	tests := []struct {
		name, format, tags string
		wantSuccess        int
		wantSkipped        int
	}{
		{"and", "apple", "sports && news", 1, 0},
		{"not", "apple", "!sports", 1, 0},
		{"or dedupe", "apple", "sports || news", 2, 1},
		{"broadcast", "apple", broadcast, 2, 1},
		{"gcm", "gcm", "sports", 1, 0},
		{"empty header", "apple", "", 0, 0},
		{"undefined", "apple", "undefined", 0, 0},
		{"fcmv1 none", "FcmV1", "sports", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.deliveries.reset()
			w := sendReq(tt.format, tt.tags, `{"aps":{"alert":"x"}}`, nil).do(t, s)
			mustStatus(t, w, 201)
			loc := w.Header().Get("Location")
			m := regexp.MustCompile(`^https://ns\.servicebus\.windows\.net/myhub/messages/([0-9a-f]{32}-\d{14}-\d+-\d+)\?api-version=2020-06$`).FindStringSubmatch(loc)
			if m == nil {
				t.Fatalf("Location = %q", loc)
			}
			var ok, skipped int
			for _, d := range s.Deliveries(DeliveryFilter{NotificationID: m[1]}) {
				switch d.Outcome {
				case OutcomeSuccess:
					ok++
				case OutcomeSkipped:
					skipped++
				}
			}
			if ok != tt.wantSuccess || skipped != tt.wantSkipped {
				t.Errorf("success, skipped = %d, %d; want %d, %d", ok, skipped, tt.wantSuccess, tt.wantSkipped)
			}
		})
	}
	mustStatus(t, sendReq("apple", "news", `{"aps":{"alert":"x"}}`, map[string]string{"apns-priority": "5"}).do(t, s), 201)
	d := s.Deliveries(DeliveryFilter{Handle: strings.ToUpper(appleTok), Tag: "news"})
	if len(d) == 0 {
		t.Fatal("no delivery for the apple token")
	}
	if d[0].RegistrationID != a || d[0].Payload != `{"aps":{"alert":"x"}}` {
		t.Errorf("delivery = %+v", d[0])
	}
	if d[0].Headers["apns-push-type"] != "alert" || d[0].Headers["apns-priority"] != "5" {
		t.Errorf("headers = %v", d[0].Headers)
	}
}

func TestSendErrors(t *testing.T) {
	s := newTest(Options{})
	tests := []struct {
		name   string
		c      call
		status int
		want   string
	}{
		{"no format", call{method: "POST", path: regPath("/messages?api-version=2020-06"), body: "{}"}, 400, "ServiceBusNotification-Format"},
		{"bad format", sendReq("carrierpigeon", broadcast, "{}", nil), 400, "carrierpigeon"},
		{"bad expression", sendReq("apple", "a && (b", "{}", nil), 400, "is invalid"},
		{"too large", sendReq("apple", broadcast, `{"a":"`+strings.Repeat("x", 64*1024)+`"}`, nil), 413, "cannot be over 64 Kb"},
		{"registration too large", call{method: "POST", path: regPath("/registrations?api-version=2020-06"),
			body: strings.Repeat("x", 1<<20+1)}, 413, "cannot be over 1 MiB"},
		{"wns without type", sendReq("windows", broadcast, "<toast/>", nil), 400, "X-WNS-Type"},
		{"template not object", sendReq("template", broadcast, `["a"]`, nil), 400, "JSON object"},
		{"direct without handle", call{method: "POST", path: regPath("/messages?direct&api-version=2020-06"), body: "{}",
			headers: map[string]string{"ServiceBusNotification-Format": "apple"}}, 400, "DeviceHandle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := mustStatus(t, tt.c.do(t, s), tt.status)
			if !strings.Contains(body, tt.want) {
				t.Errorf("body = %q, want %q", body, tt.want)
			}
		})
	}
}

func TestBadExpressionHasPosition(t *testing.T) {
	s := newTest(Options{})
	body := mustStatus(t, sendReq("apple", "a && && b", "{}", nil).do(t, s), 400)
	if !regexp.MustCompile(`\d`).MatchString(body[strings.Index(body, "is invalid"):]) {
		t.Errorf("error does not give a position: %q", body)
	}
}

func TestTestSend(t *testing.T) {
	s := newTest(Options{})
	for i := range 12 {
		createReg(t, s, gcmNative("t", fmt.Sprintf("h%02d", i)))
	}
	w := sendReq("gcm", "t", `{"data":{"m":"x"}}`, nil)
	w.path = regPath("/messages?api-version=2020-06&test=true")
	rec := w.do(t, s)
	body := mustStatus(t, rec, 201)
	if !strings.HasPrefix(body, "<NotificationOutcome") || !strings.Contains(body, "<Success>10</Success><Failure>0</Failure>") {
		t.Errorf("outcome = %s", body)
	}
	if n := strings.Count(body, "<RegistrationResult>"); n != 10 {
		t.Errorf("%d results, want 10", n)
	}
	// No targets: Results nil.
	w = sendReq("gcm", "none", `{}`, nil)
	w.path = regPath("/messages?test&api-version=2020-06")
	body = mustStatus(t, w.do(t, s), 201)
	if !strings.Contains(body, "<Success>0</Success><Failure>0</Failure>") {
		t.Errorf("empty outcome = %s", body)
	}
	// Direct + test: empty body.
	w = call{method: "POST", path: regPath("/messages?direct&test&api-version=2020-06"), body: `{}`,
		headers: map[string]string{"ServiceBusNotification-Format": "gcm", "ServiceBusNotification-DeviceHandle": "h"}}
	if body := mustStatus(t, w.do(t, s), 201); body != "" {
		t.Errorf("direct test body = %q", body)
	}
}

func TestDirectSends(t *testing.T) {
	s := newTest(Options{})
	w := call{method: "POST", path: regPath("/messages?api-version=2020-06&direct"), body: `{"message":{"data":{"a":"b"}}}`,
		headers: map[string]string{"ServiceBusNotification-Format": "fcmv1", "ServiceBusNotification-DeviceHandle": "tok1"}}.do(t, s)
	mustStatus(t, w, 201)
	if loc := w.Header().Get("Location"); !strings.HasSuffix(loc, "?api-version=2020-06&direct") {
		t.Errorf("Location = %q", loc)
	}
	d := s.Deliveries(DeliveryFilter{Handle: "tok1"})
	if len(d) != 1 || !d[0].Direct || d[0].Payload != `{"message":{"data":{"a":"b"},"token":"tok1"}}` {
		t.Errorf("deliveries = %+v", d)
	}
	// Browser needs P256DH and Auth.
	w = call{method: "POST", path: regPath("/messages?direct=true&api-version=2020-06"), body: `{"title":"x"}`,
		headers: map[string]string{"ServiceBusNotification-Format": "browser", "ServiceBusNotification-DeviceHandle": "https://push/1"}}.do(t, s)
	mustStatus(t, w, 400)
	w = call{method: "POST", path: regPath("/messages?direct=true&api-version=2020-06"), body: `{"title":"x"}`,
		headers: map[string]string{"ServiceBusNotification-Format": "browser", "ServiceBusNotification-DeviceHandle": "https://push/1", "P256DH": "p", "Auth": "a"}}.do(t, s)
	mustStatus(t, w, 201)
}

func TestBatchSend(t *testing.T) {
	s := newTest(Options{})
	bodies := map[string]struct{ ct, body string }{
		"dotnet crlf": {`multipart/mixed; boundary="nh-batch-multipart-boundary"`,
			"--nh-batch-multipart-boundary\r\nContent-Type: application/json\r\nContent-Disposition: inline; name=notification\r\n\r\n{\"aps\":{\"alert\":\"hi\"}}\r\n" +
				"--nh-batch-multipart-boundary\r\nContent-Type: application/json\r\nContent-Disposition: inline; name=devices\r\n\r\n[\"AA\",\"bb\"]\r\n--nh-batch-multipart-boundary--\r\n"},
		"js lf spaces": {`multipart/mixed; boundary = "nh-boundary-1"`,
			"--nh-boundary-1\nContent-type: application/json\nContent-Disposition: inline; name=devices\n\n['AA','CC']\n--nh-boundary-1\ncontent-type: application/json\ncontent-disposition: inline; name=notification\n\n{\"aps\":{}}\n--nh-boundary-1--"},
	}
	for name, b := range bodies {
		t.Run(name, func(t *testing.T) {
			s.Reset()
			w := call{method: "POST", path: regPath("/messages/$batch?api-version=2020-06&direct"), body: b.body,
				headers: map[string]string{"ServiceBusNotification-Format": "apple", "Content-Type": b.ct}}.do(t, s)
			mustStatus(t, w, 201)
			d := s.Deliveries(DeliveryFilter{})
			if len(d) != 2 || d[0].Handle != "AA" {
				t.Errorf("deliveries = %+v", d)
			}
		})
	}
	w := call{method: "POST", path: regPath("/messages/$batch?api-version=2020-06&direct"), body: "--b\r\n\r\n{}\r\n--b--",
		headers: map[string]string{"ServiceBusNotification-Format": "apple", "Content-Type": `multipart/mixed; boundary=b`}}.do(t, s)
	if body := mustStatus(t, w, 400); !strings.Contains(body, "Could not find a part") {
		t.Errorf("body = %q", body)
	}
}

func TestScheduledSend(t *testing.T) {
	s := newTest(Options{})
	createReg(t, s, appleNative("t", appleTok))
	sched := func(when string) *httptest.ResponseRecorder {
		c := sendReq("apple", "t", `{"aps":{}}`, map[string]string{"ServiceBusNotification-ScheduleTime": when})
		c.path = regPath("/schedulednotifications/?api-version=2020-06")
		return c.do(t, s)
	}
	w := sched(time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05"))
	mustStatus(t, w, 201)
	loc := w.Header().Get("Location")
	if !regexp.MustCompile(`^https://ns\.servicebus\.windows\.net/myhub/schedulednotifications/[0-9a-f]{32}_\d{14}_\d+_\d+\?api-version=2020-06$`).MatchString(loc) {
		t.Fatalf("Location = %q", loc)
	}
	id := strings.TrimSuffix(loc[strings.LastIndex(loc, "/")+1:], "?api-version=2020-06")
	if n := len(s.Deliveries(DeliveryFilter{})); n != 0 {
		t.Errorf("%d deliveries before due time", n)
	}
	w = call{method: "DELETE", path: regPath("/schedulednotifications/" + id + "?api-version=2020-06")}.do(t, s)
	mustStatus(t, w, 200)
	w = call{method: "DELETE", path: regPath("/schedulednotifications/" + id + "?api-version=2020-06")}.do(t, s)
	mustStatus(t, w, 404)
	// Due now: sent at once.
	mustStatus(t, sched(time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)), 201)
	if n := len(s.Deliveries(DeliveryFilter{})); n != 1 {
		t.Errorf("%d deliveries after a due schedule, want 1", n)
	}
	mustStatus(t, sched("tomorrow"), 400)
}

func TestInspectionEndpoints(t *testing.T) {
	s := newTest(Options{})
	createReg(t, s, appleNative("t", appleTok))
	mustStatus(t, sendReq("apple", "t", `{"aps":{}}`, nil).do(t, s), 201)
	w := control(s, "GET", "/_emulator/deliveries?hub=MYHUB&tag=t", "")
	var ds []Delivery
	if err := json.Unmarshal([]byte(mustStatus(t, w, 200)), &ds); err != nil || len(ds) != 1 {
		t.Fatalf("deliveries = %v, %v", ds, err)
	}
	w = control(s, "GET", "/_emulator/hubs", "")
	var hs []HubState
	if err := json.Unmarshal([]byte(mustStatus(t, w, 200)), &hs); err != nil || len(hs) != 1 || hs[0].Registrations != 1 {
		t.Fatalf("hubs = %+v, %v", hs, err)
	}
	mustStatus(t, control(s, "POST", "/_emulator/reset", ""), 204)
	if len(s.Deliveries(DeliveryFilter{})) != 0 || len(s.Hubs()) != 0 {
		t.Error("reset left state")
	}
}

func TestRetention(t *testing.T) {
	s := newTest(Options{Retention: 3})
	for i := range 5 {
		createReg(t, s, gcmNative("t", fmt.Sprintf("h%d", i)))
	}
	mustStatus(t, sendReq("gcm", broadcast, `{"data":{}}`, nil).do(t, s), 201)
	d := s.Deliveries(DeliveryFilter{})
	var handles []string
	for _, x := range d {
		handles = append(handles, x.Handle)
	}
	if diff := cmp.Diff([]string{"h2", "h3", "h4"}, handles); diff != "" {
		t.Errorf("retained (-want +got):\n%s", diff)
	}
	if r := s.Sends(testHub); len(r) != 1 || r[0].Success != 5 {
		t.Errorf("send records = %+v", r)
	}
}
