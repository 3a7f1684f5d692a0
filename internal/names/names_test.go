package names

import (
	"strings"
	"testing"
)

func TestCheckHub(t *testing.T) {
	for _, name := range []string{"a", "MyHub", "hub-1", "a.b_c-d", "h" + strings.Repeat("x", MaxHub-1)} {
		if err := CheckHub(name); err != nil {
			t.Errorf("CheckHub(%q) = %v", name, err)
		}
	}
	for name, want := range map[string]string{
		"":                            "1 to 260 characters",
		strings.Repeat("h", MaxHub+1): "1 to 260 characters",
		"1hub":                        "starts with a letter",
		"_hub":                        "starts with a letter",
		"my hub":                      "only letters, digits",
		"my/hub":                      "only letters, digits",
		"hub\x00":                     "only letters, digits",
		"h\u00e9":                     "only letters, digits",
		"hub%2F..":                    "only letters, digits",
	} {
		err := CheckHub(name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckHub(%q) = %v, want an error saying %q", name, err, want)
		}
	}
}
