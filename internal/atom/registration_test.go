package atom

import (
	"bytes"
	"flag"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/wire")

// minimalRegistration returns a registration of the given kind with only
// its required fields set.
func minimalRegistration(p Platform, template bool) Registration {
	full := fullRegistration(p, template)
	r := Registration{Platform: p, Template: template}
	r.DeviceToken, r.GcmRegistrationID, r.FcmV1RegistrationID = full.DeviceToken, full.GcmRegistrationID, full.FcmV1RegistrationID
	r.ChannelURI, r.AdmRegistrationID, r.XiaomiRegistrationID = full.ChannelURI, full.AdmRegistrationID, full.XiaomiRegistrationID
	r.BaiduUserID, r.BaiduChannelID = full.BaiduUserID, full.BaiduChannelID
	r.Endpoint, r.P256DH, r.Auth = full.Endpoint, full.P256DH, full.Auth
	r.BodyTemplate = full.BodyTemplate
	return r
}

func TestRegistrationRoundTrip(t *testing.T) {
	for _, k := range allKinds() {
		for _, r := range []Registration{fullRegistration(k.p, k.template), minimalRegistration(k.p, k.template)} {
			t.Run(r.ElementName(), func(t *testing.T) {
				got, err := UnmarshalRegistration(mustMarshal(t, r))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(r, got); diff != "" {
					t.Errorf("round trip (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// children splits an encoded description into its root start tag, its
// child elements (each standalone) and its end tag.
func children(t *testing.T, data []byte) (start string, kids [][]byte, end string) {
	t.Helper()
	root, data, err := parseTree(data, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range root.kids {
		kids = append(kids, data[k.start:k.end])
	}
	open := bytes.IndexByte(data, '>') + 1
	return string(data[:open]), kids, "</" + root.name.Local + ">"
}

func assemble(start string, kids [][]byte, end string) []byte {
	var b bytes.Buffer
	b.WriteString(start)
	for _, k := range kids {
		b.Write(k)
	}
	b.WriteString(end)
	return b.Bytes()
}

func TestRegistrationAnyElementOrder(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, k := range allKinds() {
		want := fullRegistration(k.p, k.template)
		start, kids, end := children(t, mustMarshal(t, want))
		reversed := make([][]byte, len(kids))
		for i, c := range kids {
			reversed[len(kids)-1-i] = c
		}
		orders := map[string][][]byte{"reversed": reversed}
		for i := range 3 {
			s := append([][]byte(nil), kids...)
			rng.Shuffle(len(s), func(a, b int) { s[a], s[b] = s[b], s[a] })
			orders["shuffled"+string(rune('0'+i))] = s
		}
		for name, order := range orders {
			t.Run(want.ElementName()+"/"+name, func(t *testing.T) {
				got, err := UnmarshalRegistration(assemble(start, order, end))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestRegistrationTypeAttributeForm(t *testing.T) {
	for _, k := range allKinds() {
		want := fullRegistration(k.p, k.template)
		_, kids, _ := children(t, mustMarshal(t, want))
		for _, typ := range []string{want.ElementName(), "d2p1:" + want.ElementName()} {
			// The .NET form: the base element typed with i:type, with or
			// without a prefix on the type name.
			start := `<RegistrationDescription xmlns:i="` + NSInstance + `" xmlns:d2p1="` + NSConnect + `" i:type="` + typ + `" xmlns="` + NSConnect + `">`
			data := assemble(start, kids, "</RegistrationDescription>")
			t.Run(typ, func(t *testing.T) {
				got, err := UnmarshalRegistration(data)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			})
		}
	}
}

const descAttrs = ` xmlns:i="` + NSInstance + `" xmlns="` + NSConnect + `"`

func TestRegistrationFromRequests(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want Registration
	}{
		{
			name: "JS Baidu channel before user",
			body: jsRequest(`<BaiduRegistrationDescription` + descAttrs + `><Tags>a,b</Tags><BaiduChannelId>chan</BaiduChannelId><BaiduUserId>user</BaiduUserId></BaiduRegistrationDescription>`),
			want: Registration{Platform: Baidu, Tags: []string{"a", "b"}, BaiduUserID: "user", BaiduChannelID: "chan"},
		},
		{
			name: "JS Apple template, TemplateName before Expiry and headers",
			body: jsRequest(`<AppleTemplateRegistrationDescription` + descAttrs + `><Tags>t</Tags><DeviceToken>ABCD</DeviceToken>` +
				`<BodyTemplate><![CDATA[{"aps":{"alert":"$(m)"}}]]></BodyTemplate><TemplateName>n</TemplateName><Expiry>$(exp)</Expiry>` +
				`<ApnsHeaders><ApnsHeader><Header>apns-priority</Header><Value>5</Value></ApnsHeader></ApnsHeaders></AppleTemplateRegistrationDescription>`),
			want: Registration{Platform: Apple, Template: true, Tags: []string{"t"}, DeviceToken: "ABCD",
				BodyTemplate: `{"aps":{"alert":"$(m)"}}`, TemplateName: "n", Expiry: "$(exp)",
				ApnsHeaders: []Header{{"apns-priority", "5"}}},
		},
		{
			name: "JS Windows template, TemplateName before WnsHeaders",
			body: jsRequest(`<WindowsTemplateRegistrationDescription` + descAttrs + `><ChannelUri>https://x/?a=1&amp;b=2</ChannelUri>` +
				`<BodyTemplate><![CDATA[<toast/>]]></BodyTemplate><TemplateName>n</TemplateName>` +
				`<WnsHeaders><WnsHeader><Header>X-WNS-Type</Header><Value>wns/toast</Value></WnsHeader></WnsHeaders></WindowsTemplateRegistrationDescription>`),
			want: Registration{Platform: Windows, Template: true, ChannelURI: "https://x/?a=1&b=2", BodyTemplate: "<toast/>",
				TemplateName: "n", WnsHeaders: []Header{{"X-WNS-Type", "wns/toast"}}},
		},
		{
			name: "JS Browser old order Endpoint Auth P256DH",
			body: jsRequest(`<BrowserRegistrationDescription` + descAttrs + `><Endpoint>https://e</Endpoint><Auth>au</Auth><P256DH>pk</P256DH></BrowserRegistrationDescription>`),
			want: Registration{Platform: Browser, Endpoint: "https://e", P256DH: "pk", Auth: "au"},
		},
		{
			name: ".NET typed base element with nils",
			body: []byte(`<?xml version="1.0" encoding="utf-8"?><entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml">` +
				`<RegistrationDescription xmlns:i="` + NSInstance + `" i:type="AppleTemplateRegistrationDescription" xmlns="` + NSConnect + `">` +
				`<ExpirationTime i:nil="true"/><RegistrationId i:nil="true"/><Tags>tag1</Tags><DeviceToken>62BC</DeviceToken>` +
				`<BodyTemplate><![CDATA[{"aps":{}}]]></BodyTemplate><Expiry i:nil="true"/><TemplateName i:nil="true"/><ApnsHeaders/>` +
				`</RegistrationDescription></content></entry>`),
			want: Registration{Platform: Apple, Template: true, Tags: []string{"tag1"}, DeviceToken: "62BC", BodyTemplate: `{"aps":{}}`},
		},
		{
			name: "pretty-printed, escaped body, spaced tags, unknown elements, no declaration",
			body: []byte("<entry xmlns=\"http://www.w3.org/2005/Atom\">\n  <content type=\"application/xml\">\n" +
				"    <GcmTemplateRegistrationDescription" + descAttrs + ">\n" +
				"      <Tags> a , b,,c , </Tags>\n      <Unknown><Nested>x</Nested></Unknown>\n" +
				"      <GcmRegistrationId>\n        tok\n      </GcmRegistrationId>\n" +
				"      <BodyTemplate>\n        {&quot;data&quot;:{&quot;m&quot;:&quot;&lt;$(m)&gt;&quot;}}\n      </BodyTemplate>\n" +
				"      <DeviceToken>ignored: not a Gcm element</DeviceToken>\n" +
				"    </GcmTemplateRegistrationDescription>\n  </content>\n</entry>\n"),
			want: Registration{Platform: Gcm, Template: true, Tags: []string{"a", "b", "c"}, GcmRegistrationID: "tok",
				BodyTemplate: `{"data":{"m":"<$(m)>"}}`},
		},
		{
			name: "legacy Fcm names",
			body: jsRequest(`<FcmTemplateRegistrationDescription` + descAttrs + `><FcmRegistrationId>tok</FcmRegistrationId><BodyTemplate>{}</BodyTemplate></FcmTemplateRegistrationDescription>`),
			want: Registration{Platform: Gcm, Template: true, GcmRegistrationID: "tok", BodyTemplate: "{}"},
		},
		{
			name: "FcmV1 is not legacy Fcm",
			body: jsRequest(`<FcmV1RegistrationDescription` + descAttrs + `><FcmV1RegistrationId>tok</FcmV1RegistrationId></FcmV1RegistrationDescription>`),
			want: Registration{Platform: FcmV1, FcmV1RegistrationID: "tok"},
		},
		{
			name: "template elements on a native registration are ignored",
			body: jsRequest(`<AppleRegistrationDescription` + descAttrs + `><DeviceToken>AB</DeviceToken><BodyTemplate>{}</BodyTemplate><TemplateName>x</TemplateName></AppleRegistrationDescription>`),
			want: Registration{Platform: Apple, DeviceToken: "AB"},
		},
		{
			name: "CDATA split around ]]> and mixed with text",
			body: jsRequest(`<AdmTemplateRegistrationDescription` + descAttrs + `><AdmRegistrationId>a</AdmRegistrationId><BodyTemplate><![CDATA[{"x":"]]]]><![CDATA[>"}]]>&lt;</BodyTemplate></AdmTemplateRegistrationDescription>`),
			want: Registration{Platform: Adm, Template: true, AdmRegistrationID: "a", BodyTemplate: `{"x":"]]>"}<`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseEntry(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			got, err := UnmarshalRegistration(e.Content)
			if err != nil {
				t.Fatalf("UnmarshalRegistration(%s): %v", e.Content, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestUnmarshalRegistrationErrors(t *testing.T) {
	tests := []struct {
		name, body, wantSub string
	}{
		{"empty", "", "empty document"},
		{"malformed", `<AppleRegistrationDescription><DeviceToken>x</AppleRegistrationDescription>`, "malformed XML"},
		{"unknown root", `<NotificationHubJob/>`, `unknown description element "NotificationHubJob"`},
		{"unknown platform", `<NokiaXRegistrationDescription/>`, `"NokiaXRegistrationDescription"`},
		{"base without type", `<RegistrationDescription xmlns="` + NSConnect + `"/>`, "no i:type"},
		{"bad type", `<RegistrationDescription xmlns:i="` + NSInstance + `" i:type="Foo"/>`, `"Foo"`},
		{"bad push variables", `<GcmRegistrationDescription><PushVariables>{"a":1}</PushVariables></GcmRegistrationDescription>`, "PushVariables"},
		{"two roots", `<GcmRegistrationDescription/><GcmRegistrationDescription/>`, "second root"},
		{"too deep", strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100), "nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := UnmarshalRegistration([]byte(tt.body))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.wantSub) || !strings.HasPrefix(err.Error(), "atom: ") {
				t.Errorf("error %q, want it to start with \"atom: \" and contain %q", err, tt.wantSub)
			}
		})
	}
}

func TestMarshalRegistrationUnknownPlatform(t *testing.T) {
	_, err := MarshalRegistration(Registration{Platform: "NokiaX"})
	if err == nil || !strings.Contains(err.Error(), `"NokiaX"`) {
		t.Errorf("error = %v, want one naming the platform", err)
	}
}

func TestMarshalRegistrationShapes(t *testing.T) {
	tests := []struct {
		name string
		r    Registration
		want string
	}{
		{
			name: "body with ]]> is split into CDATA sections",
			r:    Registration{Platform: Gcm, Template: true, GcmRegistrationID: "g", BodyTemplate: `a]]>b`},
			want: `<BodyTemplate><![CDATA[a]]]]><![CDATA[>b]]></BodyTemplate>`,
		},
		{
			name: "body with a carriage return is escaped text",
			r:    Registration{Platform: Gcm, Template: true, GcmRegistrationID: "g", BodyTemplate: "a\r\nb&"},
			want: "<BodyTemplate>a&#xD;\nb&amp;</BodyTemplate>",
		},
		{
			name: "apple template nils and empty headers",
			r:    Registration{Platform: Apple, Template: true, DeviceToken: "AB", BodyTemplate: "{}"},
			want: `<DeviceToken>AB</DeviceToken><BodyTemplate><![CDATA[{}]]></BodyTemplate><Expiry i:nil="true"/><TemplateName i:nil="true"/><ApnsHeaders/>`,
		},
		{
			name: "windows template always has WnsHeaders",
			r:    Registration{Platform: Windows, Template: true, ChannelURI: "https://c/", BodyTemplate: "<toast/>"},
			want: `<ChannelUri>https://c/</ChannelUri><BodyTemplate><![CDATA[<toast/>]]></BodyTemplate><WnsHeaders/><TemplateName i:nil="true"/>`,
		},
		{
			name: "mpns template always has MpnsHeaders",
			r:    Registration{Platform: Mpns, Template: true, ChannelURI: "https://c/", BodyTemplate: "<x/>"},
			want: `<MpnsHeaders/><TemplateName i:nil="true"/>`,
		},
		{
			name: "native ignores template fields and other platforms' fields",
			r:    Registration{Platform: Apple, DeviceToken: "ab", BodyTemplate: "{}", TemplateName: "n", ChannelURI: "x"},
			want: `<AppleRegistrationDescription xmlns="` + NSConnect + `" xmlns:i="` + NSInstance + `"><DeviceToken>ab</DeviceToken></AppleRegistrationDescription>`,
		},
		{
			name: "push variables as JSON text without HTML escaping",
			r:    Registration{Platform: Adm, AdmRegistrationID: "a", PushVariables: map[string]string{"b": "<2>", "a": "1"}},
			want: `<PushVariables>{"a":"1","b":"&lt;2&gt;"}</PushVariables>`,
		},
		{
			name: "required handle written even when empty",
			r:    Registration{Platform: Baidu},
			want: `<BaiduUserId></BaiduUserId><BaiduChannelId></BaiduChannelId>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(mustMarshal(t, tt.r))
			if !strings.Contains(got, tt.want) {
				t.Errorf("MarshalRegistration =\n%s\nwant it to contain\n%s", got, tt.want)
			}
			back, err := UnmarshalRegistration([]byte(got))
			if err != nil {
				t.Fatal(err)
			}
			if back.BodyTemplate != tt.r.BodyTemplate && tt.r.Template {
				t.Errorf("BodyTemplate round trip = %q, want %q", back.BodyTemplate, tt.r.BodyTemplate)
			}
		})
	}
}

func TestParsePlatformElement(t *testing.T) {
	tests := []struct {
		in       string
		p        Platform
		template bool
		ok       bool
	}{
		{"AppleRegistrationDescription", Apple, false, true},
		{"GcmTemplateRegistrationDescription", Gcm, true, true},
		{"FcmRegistrationDescription", Gcm, false, true},
		{"FcmTemplateRegistrationDescription", Gcm, true, true},
		{"FcmV1TemplateRegistrationDescription", FcmV1, true, true},
		{"XiaomiRegistrationDescription", Xiaomi, false, true},
		{"TemplateRegistrationDescription", "", false, false},
		{"RegistrationDescription", "", false, false},
		{"AppleRegistration", "", false, false},
		{"NotificationHubJob", "", false, false},
	}
	for _, tt := range tests {
		p, tmpl, ok := ParsePlatformElement(tt.in)
		if p != tt.p || tmpl != tt.template || ok != tt.ok {
			t.Errorf("ParsePlatformElement(%q) = %q, %v, %v; want %q, %v, %v", tt.in, p, tmpl, ok, tt.p, tt.template, tt.ok)
		}
	}
	for _, k := range allKinds() {
		name := Registration{Platform: k.p, Template: k.template}.ElementName()
		p, tmpl, ok := ParsePlatformElement(name)
		if p != k.p || tmpl != k.template || !ok {
			t.Errorf("ParsePlatformElement(%q) = %q, %v, %v", name, p, tmpl, ok)
		}
	}
}

func TestHandle(t *testing.T) {
	want := map[Platform]string{
		Apple:   "62BCD3484834B7E2DC56733AC5509259230CC1BA82BA1AE7D06E91908A05A8FA",
		Gcm:     "amzn1.adm-registration.v2.123",
		FcmV1:   "fcm-v1-token:APA91b",
		Windows: "https://db5.notify.windows.com/?token=AwYAAAD%2b&x=1",
		Mpns:    "https://db5.notify.windows.com/?token=AwYAAAD%2b&x=1",
		Adm:     "amzn1.adm-registration.v3.456",
		Baidu:   "userId-channelId",
		Browser: "https://fcm.googleapis.com/fcm/send/abc",
		Xiaomi:  "xiaomi-regid",
	}
	for _, p := range Platforms {
		if got := fullRegistration(p, true).Handle(); got != want[p] {
			t.Errorf("Handle(%s) = %q, want %q", p, got, want[p])
		}
	}
}

func TestSplitTags(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ,", nil},
		{"a", []string{"a"}},
		{"a, b ,c", []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, SplitTags(tt.in)); diff != "" {
			t.Errorf("SplitTags(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseRegistrations(t *testing.T) {
	var b bytes.Buffer
	var want []Registration
	for _, p := range Platforms {
		r := minimalRegistration(p, false)
		want = append(want, r)
		b.Write(mustMarshal(t, r))
		b.WriteString("\r\n\n")
	}
	got, err := ParseRegistrations(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	_, err = ParseRegistrations([]byte("<GcmRegistrationDescription/>\n\n<Bad>\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "line 3: ") {
		t.Errorf("error = %v, want one naming line 3", err)
	}
}

// TestRegistrationGolden compares the canonical encoding of every kind
// with testdata/wire/registrations. Run with -update to rewrite them; the
// shapes were reviewed against the recordings (see TestRecordedRegistrations,
// which re-encodes the service's own bodies byte for byte).
func TestRegistrationGolden(t *testing.T) {
	dir := filepath.Join(wireDir, "registrations")
	for _, k := range allKinds() {
		for suffix, r := range map[string]Registration{"": fullRegistration(k.p, k.template), ".minimal": minimalRegistration(k.p, k.template)} {
			name := r.ElementName() + suffix + ".xml"
			t.Run(name, func(t *testing.T) {
				got := append(mustMarshal(t, r), '\n')
				path := filepath.Join(dir, name)
				if *update {
					if err := os.MkdirAll(dir, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("MarshalRegistration differs from %s:\ngot  %s\nwant %s", path, got, want)
				}
				back, err := UnmarshalRegistration(want)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(r, back); diff != "" {
					t.Errorf("decoding %s (-want +got):\n%s", path, diff)
				}
			})
		}
	}
}
