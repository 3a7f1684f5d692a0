package template

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var testProps = Props{
	"Title":   "This is the title line", // 22 characters
	"message": "Hello",
	"badge":   "40",
	"float":   "3.25e+2",
	"neg":     "-5",
	"lead0":   "007",
	"city":    "São Paulo & Rio/é?",
	"markup":  `<b>"Tom" & 'Jerry'</b>`,
	"unicode": "héllo wörld",
	"empty":   "",
}

func TestIsExpression(t *testing.T) {
	for v, want := range map[string]bool{
		"$(a)": true, ".(a,1)": true, "%(a)": true, "#(a)": true, "{'a'}": true,
		"": false, "Some text $(x)": false, " $(x)": false, "'lit'": false, "abc": false,
	} {
		if got := IsExpression(v); got != want {
			t.Errorf("IsExpression(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestEval(t *testing.T) {
	tests := []struct {
		expr       string
		want       string
		wantNumber bool
	}{
		// Whole-value rule: not an expression, returned as is.
		{"Some text $(message)", "Some text $(message)", false},
		{"", "", false},
		{"   ", "   ", false},
		// $(prop), case-insensitive lookup, missing -> "".
		{"$(message)", "Hello", false},
		{"$(MESSAGE)", "Hello", false},
		{"$(title)", "This is the title line", false},
		{"$( message )", "Hello", false},
		{"$(missing)", "", false},
		{"$(empty)", "", false},
		// $(prop, n) clips without ellipsis.
		{"$(title, 7)", "This is", false},
		{"$(title,22)", "This is the title line", false},
		{"$(title,100)", "This is the title line", false},
		{"$(title, 0)", "", false},
		{"$(unicode,4)", "héll", false},
		{"$(title, +4 )", "This", false},
		// .(prop, n): ellipsis included in n.
		{".(title,20)", "This is the title...", false},
		{".(title, 22)", "This is the title line", false},
		{".(title, 21)", "This is the title ...", false},
		{".(title,4)", "T...", false},
		{".(title,3)", "Thi", false},
		{".(title,0)", "", false},
		{".(message,5)", "Hello", false},
		{".(unicode,6)", "hél...", false},
		{".(missing,5)", "", false},
		// %(prop): Uri.EscapeDataString.
		{"%(city)", "S%C3%A3o%20Paulo%20%26%20Rio%2F%C3%A9%3F", false},
		{"%(message)", "Hello", false},
		{"%(missing)", "", false},
		// #(prop): number when the value is a JSON number.
		{"#(badge)", "40", true},
		{"#(BADGE)", "40", true},
		{"#(float)", "3.25e+2", true},
		{"#(neg)", "-5", false},
		{"#(lead0)", "007", false},
		{"#(message)", "Hello", false},
		{"#(missing)", "", false},
		{"{#(badge)}", "40", false},
		// Composites and literals.
		{"{'Hi, ' + $(message)}", "Hi, Hello", false},
		{"{ 'Hi, '+$(message) + \"!\" }", "Hi, Hello!", false},
		{"{'It''s ' + $(message)}", "It's Hello", false},
		{`{"say ""hi""" + ' ' + $(message)}`, `say "hi" Hello`, false},
		{"{$(message) + ' ' + .(title, 10) + ' ' + %(city)}", "Hello This is... S%C3%A3o%20Paulo%20%26%20Rio%2F%C3%A9%3F", false},
		{"{'a' + $(missing) + 'b'}", "ab", false},
		{"{'(x, y)'}", "(x, y)", false},
		{"{'+'+'+'}", "++", false},
		// Unbraced '+' is accepted, as by the service.
		{"$(message) + '!'", "Hello!", false},
		// Trailing whitespace after a single token.
		{"$(message)  ", "Hello", false},
		// Defaults.
		{"$(missing:{fallback})", "fallback", false},
		{"$(message:{fallback})", "Hello", false},
		{"$(empty:{fallback})", "", false},
		{`$(missing:{a\}b, c)})`, "a}b, c)", false},
		{"$(missing:{fallback text}, 4)", "fall", false},
		{".(missing:{fallback text},7)", "fall...", false},
		{"%(missing:{a b})", "a%20b", false},
		{"#(missing:{12})", "12", true},
		{"{'[' + $(missing:{none}) + ']'}", "[none]", false},
	}
	for _, tt := range tests {
		got, number, err := Eval(tt.expr, testProps)
		if err != nil {
			t.Errorf("Eval(%q) error: %v", tt.expr, err)
			continue
		}
		if got != tt.want || number != tt.wantNumber {
			t.Errorf("Eval(%q) = %q, %v; want %q, %v", tt.expr, got, number, tt.want, tt.wantNumber)
		}
		if err := ValidateExpression(tt.expr); err != nil {
			t.Errorf("ValidateExpression(%q) = %v", tt.expr, err)
		}
	}
}

func TestEvalNilProperties(t *testing.T) {
	got, _, err := Eval("{'x' + $(a)}", nil)
	if err != nil || got != "x" {
		t.Errorf("Eval with nil properties = %q, %v; want \"x\", nil", got, err)
	}
}

func TestValidateExpressionErrors(t *testing.T) {
	tests := []struct {
		expr string
		want string // substring of the message
	}{
		{"{$(a)", `missing closing "}" of the composite expression`},
		{"{", `missing closing "}"`},
		{"{}", `invalid token ""`},
		{"{''}", `invalid token "''"`},
		{"$(", `invalid token "$("`},
		{"$a", `invalid token "$a"`},
		{"$abc", "The character following '$' should be '('"},
		{".abc", "The character following '.' should be '('"},
		{"%abc", "The character following '%' should be '('"},
		{"$(abc", "Missing closing parentheses"},
		{"$(abc, 3", "Missing closing parentheses"},
		{"$(a) - $(b)", "Only valid composition operator is +"},
		{"{$(a) $(b)}", "Only valid composition operator is +"},
		{"{$(a) + }", "invalid token"},
		{"{$(a) + #(b)}", "Token type '#(prop)' is not allowed in composite expression"},
		{"#(a) + 'x'", "Token type '#(prop)' is not allowed in composite expression"},
		{"{'abc}", "Literal is missing closing notation"},
		{`{"abc'}`, "Literal is missing closing notation"},
		{"{'it''s}", "Literal is missing closing notation"},
		{"{x + $(a)}", "Token has to begin with one of these characters"},
		{"$body", "Expression type '$body' is not supported"},
		{"{$BODY + 'x'}", "Expression type '$body' is not supported"},
		{"$(a-b)", "Only ASCII-7 alphanumeric characters and '_' are permitted"},
		{"$(é)", "Only ASCII-7 alphanumeric characters"},
		{"$()", `Property name is ""`},
		{"$(" + strings.Repeat("a", 121) + ")", "Property name is of length 121. Maximum allowed length is 120"},
		{".(title)", "Error trying to parse for .(prop, n) format"},
		{"%(title, 3)", "The expression %(prop, n) is not valid"},
		{"#(badge, 3)", "The expression #(prop, n) is not valid"},
		{"$(title, -1)", `"-1" is not a positive integer`},
		{"$(title, x)", `"x" is not a positive integer`},
		{"$(title, )", `"" is not a positive integer`},
		{"$(title, 3000000000)", "is not a positive integer"},
		{".(title, 1.5)", `"1.5" is not a positive integer`},
		{"$(a:{x)", `Missing closing "}" of the default value`},
		{"$(a:{x} y)", "unexpected 'y' after the default value"},
		{"$(a:{x}", "Missing closing parentheses"},
	}
	for _, tt := range tests {
		err := ValidateExpression(tt.expr)
		if err == nil {
			t.Errorf("ValidateExpression(%q) = nil, want error containing %q", tt.expr, tt.want)
			continue
		}
		var te *Error
		if !errors.As(err, &te) {
			t.Errorf("ValidateExpression(%q) error %T is not *Error", tt.expr, err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ValidateExpression(%q) = %q, want it to contain %q", tt.expr, err, tt.want)
		}
		if !strings.HasPrefix(err.Error(), "template: expression ") {
			t.Errorf("ValidateExpression(%q) = %q, want it to name the expression", tt.expr, err)
		}
		if _, _, err := Eval(tt.expr, testProps); err == nil {
			t.Errorf("Eval(%q) = nil error, want one", tt.expr)
		}
	}
}

func TestPropsLookup(t *testing.T) {
	p := Props{"Name": "upper", "name": "lower", "OTHER": "o"}
	for _, tt := range []struct {
		name, want string
		ok         bool
	}{
		{"name", "lower", true},
		{"Name", "upper", true},
		{"NAME", "upper", true}, // smallest of "Name" and "name"
		{"other", "o", true},
		{"none", "", false},
	} {
		got, ok := p.Lookup(tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRenderJSON(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{
			name: "APNs",
			body: `{
  "aps": {
    "alert": {"title": ".(title, 20)", "body": "$(message)", "subtitle": "Some text $(message)"},
    "badge": "#(badge)",
    "sound": "default",
    "content-available": 1
  },
  "url": "{'https://example.com/?q=' + %(city)}",
  "quote": "{'She said ''hi'' to ' + $(markup)}",
  "n": null, "b": true, "f": false, "arr": ["$(MESSAGE)", 2.50, "#(float)", "#(neg)"]
}`,
			want: `{"aps":{"alert":{"title":"This is the title...","body":"Hello","subtitle":"Some text $(message)"},"badge":40,"sound":"default","content-available":1},` +
				`"url":"https://example.com/?q=S%C3%A3o%20Paulo%20%26%20Rio%2F%C3%A9%3F",` +
				`"quote":"She said 'hi' to <b>\"Tom\" & 'Jerry'</b>",` +
				`"n":null,"b":true,"f":false,"arr":["Hello",2.50,3.25e+2,"-5"]}`,
		},
		{
			name: "FCM v1",
			body: `{"message":{"notification":{"title":"$(title, 7)","body":"{$(message) + ', ' + $(missing) + 'world'}"},` +
				`"android":{"priority":"high","data":{"badge":"#(badge)","lead0":"#(lead0)","raw":"$(markup)","$(message)":"key is not evaluated"}}}}`,
			want: `{"message":{"notification":{"title":"This is","body":"Hello, world"},` +
				`"android":{"priority":"high","data":{"badge":40,"lead0":"007","raw":"<b>\"Tom\" & 'Jerry'</b>","$(message)":"key is not evaluated"}}}}`,
		},
		{
			name: "control characters are escaped",
			body: `{"a":"$(x)"}`,
			want: `{"a":"line1\nline2\t\"q\" \\ \u0001"}`,
		},
		{
			name: "empty containers and top-level array",
			body: ` [ {}, [], "$(message)", {"k": []} ] `,
			want: `[{},[],"Hello",{"k":[]}]`,
		},
	}
	props := Props{}
	for k, v := range testProps {
		props[k] = v
	}
	props["x"] = "line1\nline2\t\"q\" \\ \x01"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Validate(tt.body, JSON); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			got, err := Render(tt.body, JSON, props)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if got != tt.want {
				t.Errorf("Render =\n%s\nwant\n%s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("Render output is not valid JSON: %s", got)
			}
		})
	}
}

func TestRenderJSONFloatNumber(t *testing.T) {
	// "3.25e+2" is emitted as written (the regular expression accepts it).
	got, err := Render(`{"f":"#(float)"}`, JSON, testProps)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"f":3.25e+2}`; got != want {
		t.Errorf("Render = %s, want %s", got, want)
	}
}

func TestRenderJSONEscapesValues(t *testing.T) {
	props := Props{"v": "\"}, \"injected\": {\"x\": \"<&>\u2028"}
	got, err := Render(`{"a":"$(v)","b":"{'[' + $(v) + ']'}"}`, JSON, props)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(got), &m); err != nil {
		t.Fatalf("output %s is not valid JSON: %v", got, err)
	}
	want := map[string]string{"a": props["v"], "b": "[" + props["v"] + "]"}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("decoded output mismatch (-want +got):\n%s", diff)
	}
}

// toastXML is a WNS toast template with attribute and text expressions.
const toastXML = `<?xml version="1.0" encoding="utf-8"?>
<toast launch="$(markup)">
  <visual>
    <binding template="ToastGeneric">
      <text id="1">.(title, 20)</text>
      <text id="2">{'From ' + $(markup)}</text>
      <text id="3">Some text $(message)</text>
      <image placement="appLogoOverride" src="{'https://example.com/i?c=' + %(city)}"/>
      <text id="4"><![CDATA[$(message)]]></text>
      <text id="5">#(badge)</text>
    </binding>
  </visual>
  <!-- a comment -->
</toast>`

func TestRenderXMLToast(t *testing.T) {
	got, err := Render(toastXML, XML, testProps)
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="utf-8"?>
<toast launch="&lt;b&gt;&quot;Tom&quot; &amp; 'Jerry'&lt;/b&gt;">
  <visual>
    <binding template="ToastGeneric">
      <text id="1">This is the title...</text>
      <text id="2">From &lt;b&gt;"Tom" &amp; 'Jerry'&lt;/b&gt;</text>
      <text id="3">Some text $(message)</text>
      <image placement="appLogoOverride" src="https://example.com/i?c=S%C3%A3o%20Paulo%20%26%20Rio%2F%C3%A9%3F"/>
      <text id="4">Hello</text>
      <text id="5">40</text>
    </binding>
  </visual>
  <!-- a comment -->
</toast>`
	if got != want {
		t.Errorf("Render =\n%s\nwant\n%s", got, want)
	}
	// The substituted values read back exactly.
	var doc struct {
		Launch string `xml:"launch,attr"`
		Texts  []struct {
			ID   string `xml:"id,attr"`
			Text string `xml:",chardata"`
		} `xml:"visual>binding>text"`
	}
	if err := xml.Unmarshal([]byte(got), &doc); err != nil {
		t.Fatalf("output is not valid XML: %v", err)
	}
	if doc.Launch != testProps["markup"] {
		t.Errorf("launch = %q, want %q", doc.Launch, testProps["markup"])
	}
	if want := "From " + testProps["markup"]; doc.Texts[1].Text != want {
		t.Errorf("text 2 = %q, want %q", doc.Texts[1].Text, want)
	}
}

func TestRenderXMLNamespacesSurvive(t *testing.T) {
	// MPNS toast: prefixed elements and a prefix declaration.
	body := `<?xml version="1.0" encoding="utf-8"?><wp:Notification xmlns:wp="WPNotification"><wp:Toast><wp:Text1>$(message)</wp:Text1><wp:Text2 wp:extra="%(message)">x</wp:Text2><wp:Param/></wp:Toast></wp:Notification>`
	got, err := Render(body, XML, testProps)
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="utf-8"?><wp:Notification xmlns:wp="WPNotification"><wp:Toast><wp:Text1>Hello</wp:Text1><wp:Text2 wp:extra="Hello">x</wp:Text2><wp:Param/></wp:Toast></wp:Notification>`
	if got != want {
		t.Errorf("Render =\n%s\nwant\n%s", got, want)
	}
	// And the namespace is still bound for a namespace-aware reader.
	var n struct {
		XMLName xml.Name
		Text1   string `xml:"WPNotification Toast>Text1"`
	}
	if err := xml.Unmarshal([]byte(got), &n); err != nil {
		t.Fatal(err)
	}
	if n.XMLName.Space != "WPNotification" || n.Text1 != "Hello" {
		t.Errorf("namespace-aware read = %+v", n)
	}
}

func TestRenderXMLRoundTripWithoutExpressions(t *testing.T) {
	body := `<?xml version="1.0"?>
<!DOCTYPE tile>
<tile xmlns="urn:x" xmlns:a="urn:a"><visual version="2" a:b="x &amp; y &lt; z &quot;q&quot;">
  <binding template="TileWide" fallback="TileWideText03"><text id="1">Tom &amp; Jerry &lt;3 &gt; "quotes" 'apos'</text><empty></empty><selfclosed/>
  <?pi some data?></binding></visual></tile>`
	got, err := Render(body, XML, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(xmlTokens(t, body), xmlTokens(t, got)); diff != "" {
		t.Errorf("token streams differ (-in +out):\n%s\nout: %s", diff, got)
	}
	// Rendering again gives the same text (a fixed point).
	again, err := Render(got, XML, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again != got {
		t.Errorf("second round trip changed the text:\n%s\n%s", got, again)
	}
}

// xmlTokens returns the namespace-resolved token stream, with adjacent
// character data merged and empty character data dropped.
func xmlTokens(t *testing.T, s string) []string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(s))
	var out []string
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			out = append(out, "text:"+text.String())
			text.Reset()
		}
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("xml %q: %v", s, err)
		}
		if cd, ok := tok.(xml.CharData); ok {
			text.Write(cd)
			continue
		}
		flush()
		switch tt := tok.(type) {
		case xml.StartElement:
			s := "start:" + tt.Name.Space + " " + tt.Name.Local
			for _, a := range tt.Attr {
				s += " " + a.Name.Space + ":" + a.Name.Local + "=" + a.Value
			}
			out = append(out, s)
		case xml.EndElement:
			out = append(out, "end:"+tt.Name.Space+" "+tt.Name.Local)
		case xml.ProcInst:
			out = append(out, "pi:"+tt.Target+" "+string(tt.Inst))
		case xml.Comment:
			out = append(out, "comment:"+string(tt))
		case xml.Directive:
			out = append(out, "directive:"+string(tt))
		}
	}
	flush()
	return out
}

func TestRenderXMLEscapesValues(t *testing.T) {
	props := Props{"v": "<&\"'>]]> \x01 tab\tnl\n"}
	body := `<toast a="$(v)"><text>$(v)</text><text b="{'x' + $(v)}">{$(v) + 'y'}</text></toast>`
	got, err := Render(body, XML, props)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		A     string `xml:"a,attr"`
		Texts []struct {
			B    string `xml:"b,attr"`
			Text string `xml:",chardata"`
		} `xml:"text"`
	}
	if err := xml.Unmarshal([]byte(got), &doc); err != nil {
		t.Fatalf("output %s is not valid XML: %v", got, err)
	}
	// \x01 cannot be carried by XML 1.0 and becomes U+FFFD.
	clean := strings.ReplaceAll(props["v"], "\x01", "\uFFFD")
	if doc.A != clean || doc.Texts[0].Text != clean || doc.Texts[1].B != "x"+clean || doc.Texts[1].Text != clean+"y" {
		t.Errorf("values did not survive escaping: %+v\noutput: %s", doc, got)
	}
}

func TestRenderRaw(t *testing.T) {
	body := `$(message) not { valid <json or xml`
	got, err := Render(body, Raw, testProps)
	if err != nil || got != body {
		t.Errorf("Render(Raw) = %q, %v; want body unchanged", got, err)
	}
	if err := Validate(body, Raw); err != nil {
		t.Errorf("Validate(Raw) = %v", err)
	}
}

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		kind      Kind
		wantWhere string
		wantMsg   string
	}{
		{"JSON bad expression", `{"aps":{"alert":"$(a-b)","badge":1}}`, JSON, "aps.alert", "Only ASCII-7"},
		{"JSON array path", `{"data":{"items":["ok","$(x"]}}`, JSON, "data.items[1]", "Missing closing parentheses"},
		{"JSON odd key", `{"a.b":{"c d":"{$(x) - 'y'}"}}`, JSON, `["a.b"]["c d"]`, "Only valid composition operator is +"},
		{"JSON top-level string", `"$body"`, JSON, "$", "Expression type '$body' is not supported"},
		{"JSON syntax", `{"aps":{"alert":"x",}}`, JSON, "aps", "invalid JSON"},
		{"JSON empty", ``, JSON, "", "invalid JSON: empty body"},
		{"JSON truncated", `{"aps":{"alert":"x"`, JSON, "aps", "invalid JSON"},
		{"JSON trailing data", `{"a":"b"} {"c":"d"}`, JSON, "", "unexpected data after the top-level value"},
		{"XML text", `<toast><visual><binding><text id="1">.(title)</text></binding></visual></toast>`, XML, "toast/visual/binding/text", "Error trying to parse for .(prop, n) format"},
		{"XML attribute", `<toast launch="{$(a) + #(b)}"/>`, XML, "toast/@launch", "Token type '#(prop)' is not allowed"},
		{"XML prefixed attribute", `<wp:Notification xmlns:wp="WPNotification"><wp:Toast wp:x="%(a, 2)"/></wp:Notification>`, XML, "wp:Notification/wp:Toast/@wp:x", "The expression %(prop, n) is not valid"},
		{"XML mismatched tags", `<toast><visual></toast>`, XML, "toast/visual", "element <visual> closed by </toast>"},
		{"XML unclosed", `<toast><visual>`, XML, "toast/visual", "element <visual> is not closed"},
		{"XML syntax", `<toast a="1" a>`, XML, "", "invalid XML"},
		{"XML two roots", `<a/><b/>`, XML, "b", "more than one root element"},
		{"XML text outside root", `<a/>junk`, XML, "", "text outside the root element"},
		{"XML empty", ``, XML, "", "no root element"},
		{"XML bad entity", `<a>&nbsp;</a>`, XML, "a", "invalid XML"},
		{"unknown kind", `{}`, Kind(9), "", "unknown template kind Kind(9)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.body, tt.kind)
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("Validate error = %v, want *Error", err)
			}
			if te.Where != tt.wantWhere || !strings.Contains(te.Msg, tt.wantMsg) {
				t.Errorf("Validate error = {%q, %q}, want {%q, contains %q}", te.Where, te.Msg, tt.wantWhere, tt.wantMsg)
			}
			if _, err := Render(tt.body, tt.kind, testProps); err == nil {
				t.Errorf("Render succeeded where Validate failed")
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	err := Validate(`{"aps":{"alert":"$(a"}}`, JSON)
	want := `template: aps.alert: expression "$(a": Missing closing parentheses; invalid token "$(a"`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func FuzzEval(f *testing.F) {
	for _, s := range []string{
		"$(a)", "$(a, 3)", ".(a, 5)", "%(a)", "#(a)", "{'x' + $(a)}", `{"a""b" + 'c''d'}`,
		"$(a:{d\\}e})", "$body", "{", "$(", "{$(a) + #(b)}", "Some text", "$(a:{x}, 2)",
	} {
		f.Add(s, "value with spaces & ünïcode")
	}
	f.Fuzz(func(t *testing.T, expr, val string) {
		verr := ValidateExpression(expr)
		props := Props{"a": val, "b": "12"}
		out, number, err := Eval(expr, props)
		if (verr == nil) != (err == nil) {
			t.Fatalf("ValidateExpression(%q) = %v but Eval error = %v", expr, verr, err)
		}
		if err != nil {
			return
		}
		if !IsExpression(expr) && out != expr {
			t.Fatalf("literal %q evaluated to %q", expr, out)
		}
		if number && !json.Valid([]byte(out)) {
			t.Fatalf("number %q is not valid JSON", out)
		}
	})
}

func FuzzRender(f *testing.F) {
	f.Add(`{"aps":{"alert":"$(a)","badge":"#(b)"}}`, "x", true)
	f.Add(`{"message":{"data":{"k":"{'a' + %(a)}","n":[1,2.5,null,true]}}}`, `"<&>`, true)
	f.Add(`["$(a, 2)", ".(a, 4)", "$(a:{d})"]`, "long value", true)
	f.Add(toastXML, `<&"`, false)
	f.Add(`<wp:Notification xmlns:wp="WPNotification"><wp:Toast a="$(a)"/></wp:Notification>`, "v", false)
	f.Fuzz(func(t *testing.T, body, val string, isJSON bool) {
		props := Props{"a": val, "b": val}
		if isJSON {
			out, err := Render(body, JSON, props)
			if err != nil {
				return
			}
			if !json.Valid([]byte(body)) {
				t.Fatalf("Render accepted invalid JSON %q", body)
			}
			if !json.Valid([]byte(out)) {
				t.Fatalf("Render(%q) = %q: not valid JSON", body, out)
			}
			if err := Validate(body, JSON); err != nil {
				t.Fatalf("Render succeeded but Validate failed: %v", err)
			}
			return
		}
		out, err := Render(body, XML, props)
		if err != nil {
			return
		}
		// The output must itself be well-formed, with nothing left to
		// substitute that could change it.
		if _, err := walkXML(out, func(_, v string) (string, bool, error) { return v, false, nil }); err != nil {
			t.Fatalf("Render(%q) = %q: output does not parse: %v", body, out, err)
		}
		if err := Validate(body, XML); err != nil {
			t.Fatalf("Render succeeded but Validate failed: %v", err)
		}
	})
}

func BenchmarkRenderJSON(b *testing.B) {
	body := `{"aps":{"alert":{"title":".(title, 20)","body":"{'Hi, ' + $(message) + '!'}"},"badge":"#(badge)","sound":"default"},"url":"%(city)"}`
	for b.Loop() {
		if _, err := Render(body, JSON, testProps); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderXML(b *testing.B) {
	for b.Loop() {
		if _, err := Render(toastXML, XML, testProps); err != nil {
			b.Fatal(err)
		}
	}
}
