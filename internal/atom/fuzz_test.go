package atom

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// seedRecorded adds every recorded body whose name has the prefix.
func seedRecorded(f *testing.F, prefix string) {
	for _, name := range recordedFiles(f, prefix) {
		f.Add(readRecorded(f, name))
	}
}

func FuzzUnmarshalRegistration(f *testing.F) {
	for _, k := range allKinds() {
		b, _ := MarshalRegistration(fullRegistration(k.p, k.template))
		f.Add(b)
	}
	golden, _ := filepath.Glob(filepath.Join(wireDir, "registrations", "*.xml"))
	for _, g := range golden {
		if b, err := os.ReadFile(g); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`<RegistrationDescription xmlns:i="` + NSInstance + `" i:type="BaiduTemplateRegistrationDescription"><BaiduChannelId>c</BaiduChannelId><Tags> a,,b </Tags><BodyTemplate><![CDATA[x]]]]><![CDATA[>]]></BodyTemplate></RegistrationDescription>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := UnmarshalRegistration(data)
		if err != nil {
			return
		}
		enc, err := MarshalRegistration(r)
		if err != nil {
			t.Fatalf("MarshalRegistration of a decoded value: %v", err)
		}
		back, err := UnmarshalRegistration(enc)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if diff := cmp.Diff(r, back); diff != "" {
			t.Fatalf("decode(encode(r)) != r (-r +back):\n%s\nencoded: %s", diff, enc)
		}
	})
}

func FuzzParseEntry(f *testing.F) {
	seedRecorded(f, "entry-")
	f.Add(jsRequest(`<GcmRegistrationDescription/>`))
	f.Add([]byte(`<a:entry xmlns:a="http://www.w3.org/2005/Atom" xmlns:c="urn:c"><a:content><c:X c:y="1"/></a:content></a:entry>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseEntry(data)
		if err != nil {
			return
		}
		enc := MarshalEntry(e)
		back, err := ParseEntry(enc)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", enc, err)
		}
		if diff := cmp.Diff(e, back); diff != "" {
			t.Fatalf("parse(marshal(e)) != e (-e +back):\n%s\nencoded: %s", diff, enc)
		}
	})
}

func FuzzParseFeed(f *testing.F) {
	seedRecorded(f, "feed-")
	f.Fuzz(func(t *testing.T, data []byte) {
		feed, err := ParseFeed(data)
		if err != nil {
			return
		}
		enc := MarshalFeed(feed)
		back, err := ParseFeed(enc)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", enc, err)
		}
		if diff := cmp.Diff(feed, back); diff != "" {
			t.Fatalf("parse(marshal(f)) != f (-f +back):\n%s\nencoded: %s", diff, enc)
		}
	})
}

func FuzzParseOutcome(f *testing.F) {
	f.Add([]byte(outcomeSample))
	f.Add(MarshalOutcome(Outcome{}))
	f.Add(MarshalOutcome(Outcome{Results: []RegistrationResult{}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ParseOutcome(data)
		if err != nil {
			return
		}
		enc := MarshalOutcome(o)
		back, err := ParseOutcome(enc)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", enc, err)
		}
		if diff := cmp.Diff(o, back); diff != "" {
			t.Fatalf("parse(marshal(o)) != o (-o +back):\n%s\nencoded: %s", diff, enc)
		}
	})
}

func BenchmarkMarshalRegistration(b *testing.B) {
	r := fullRegistration(Apple, true)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := MarshalRegistration(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseFeed(b *testing.B) {
	data := readRecorded(b, "feed-installations.xml")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseFeed(data); err != nil {
			b.Fatal(err)
		}
	}
}
