package apicheck

import (
	"fmt"
	"strings"
	"unicode"
)

// The naming rule (docs/naming.md) as code. CheckName applies it to one
// identifier.

// initialisms are the words written all in capitals, keyed by the mixed
// spelling that breaks the rule.
var initialisms = map[string]string{
	"Id": "ID", "Ids": "IDs",
	"Url": "URL", "Urls": "URLs",
	"Uri": "URI", "Uris": "URIs",
	"Http": "HTTP", "Https": "HTTPS",
	"Json": "JSON",
	"Xml":  "XML",
	"Api":  "API", "Apis": "APIs",
	"Sas":  "SAS",
	"Ttl":  "TTL",
	"Etag": "ETag",
}

// pushNames are the push services and protocols, written as words,
// keyed by the capitalised spellings that break the rule. Longer keys
// come first where one contains another.
var pushNames = []struct{ wrong, right string }{
	{"FCMV1", "FcmV1"}, {"FCMv1", "FcmV1"},
	{"APNS", "Apns"}, {"APNs", "Apns"},
	{"MPNS", "Mpns"},
	{"VAPID", "Vapid"},
	{"BAIDU", "Baidu"},
	{"XIAOMI", "Xiaomi"},
	{"FCM", "Fcm"},
	{"GCM", "Gcm"},
	{"WNS", "Wns"},
	{"ADM", "Adm"},
	{"PNS", "Pns"},
}

// concepts are names the .NET SDK spells otherwise.
var concepts = []struct{ wrong, right string }{
	{"WindowsPhone", "Mpns (as .NET's MpnsNotification)"},
}

// CheckName returns what is wrong with id, an exported identifier of the
// package named pkgName, or nil.
func CheckName(id Identifier, pkgName string) []string {
	if id.Kind == "json key" {
		return checkJSONKey(id.Name)
	}
	var problems []string
	name := id.Name
	for _, w := range Words(name) {
		if right, ok := initialisms[w]; ok {
			problems = append(problems, fmt.Sprintf("%q: write the initialism %s in capitals", w, right))
		}
	}
	rest := name
	for _, p := range pushNames {
		if strings.Contains(rest, p.wrong) {
			problems = append(problems, fmt.Sprintf("%q: write the push service name as the word %s", p.wrong, p.right))
			rest = strings.ReplaceAll(rest, p.wrong, "_")
		}
	}
	for _, c := range concepts {
		if strings.Contains(name, c.wrong) {
			problems = append(problems, fmt.Sprintf("%q: call it %s", c.wrong, c.right))
		}
	}
	if id.Kind == "const" && id.ConstType != "" && !strings.HasPrefix(name, id.ConstType) {
		problems = append(problems, fmt.Sprintf("a constant of type %s starts with %s", id.ConstType, id.ConstType))
	}
	if id.Kind == "type" && stutters(name, pkgName) {
		problems = append(problems, fmt.Sprintf("repeats the package name %s (callers write %s.%s)", pkgName, pkgName, name))
	}
	return problems
}

// stutters reports whether a type name begins with its package's name, or
// that name without a plural s: notificationhubs.NotificationHubJob.
func stutters(name, pkgName string) bool {
	n := strings.ToLower(name)
	p := strings.ToLower(pkgName)
	return strings.HasPrefix(n, p) || len(p) > 3 && strings.HasSuffix(p, "s") && strings.HasPrefix(n, p[:len(p)-1])
}

// checkJSONKey applies the JSON spelling: lower camel case as the service
// writes its own JSON ("installationId", "pushChannel", "expirationTime"),
// so no run of capitals.
func checkJSONKey(key string) []string {
	for i, r := range key {
		switch {
		case i == 0 && !unicode.IsLower(r):
			return []string{fmt.Sprintf("JSON key %q: start with a lower-case letter", key)}
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			return []string{fmt.Sprintf("JSON key %q: letters and digits only, in lower camel case", key)}
		}
	}
	rs := []rune(key)
	for i := 1; i < len(rs); i++ {
		if unicode.IsUpper(rs[i]) && unicode.IsUpper(rs[i-1]) {
			return []string{fmt.Sprintf("JSON key %q: write initialisms as the service does (installationId, resourceUri)", key)}
		}
	}
	return nil
}

// Words splits a Go identifier into its words: a new word starts at a
// capital after a lower-case letter or digit, and at the last capital of
// a run of capitals that a lower-case letter follows. Digits stay with the
// word before them.
//
//	InstallationPlatformApns -> Installation Platform Apns
//	WNSSecondaryTile         -> WNS Secondary Tile
//	FcmV1RegistrationID      -> Fcm V1 Registration ID
//	APIVersion               -> API Version
func Words(name string) []string {
	rs := []rune(name)
	var words []string
	start := 0
	for i := 1; i < len(rs); i++ {
		prev, cur := rs[i-1], rs[i]
		next := rune(0)
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		split := unicode.IsUpper(cur) && (unicode.IsLower(prev) || unicode.IsDigit(prev)) ||
			unicode.IsUpper(cur) && unicode.IsUpper(prev) && unicode.IsLower(next)
		if cur == '_' {
			split = true
		}
		if split {
			if w := strings.Trim(string(rs[start:i]), "_"); w != "" {
				words = append(words, w)
			}
			start = i
		}
	}
	if w := strings.Trim(string(rs[start:]), "_"); w != "" {
		words = append(words, w)
	}
	return words
}
