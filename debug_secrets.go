package notificationhubs

import (
	"bytes"
	"regexp"
)

// Hub descriptions (the admin package's requests and answers) carry the
// keys of the hub's rules and the secrets of its push-service
// credentials; the debug dump replaces them with REDACTED.
var (
	hubDescriptionMarker = []byte("NotificationHubDescription")
	secretElements       = regexp.MustCompile(`(?s)<(PrimaryKey|SecondaryKey)>.*?</(PrimaryKey|SecondaryKey)>`)
	secretProperties     = regexp.MustCompile(`(?s)(<Name>\s*(?:Token|ApnsCertificate|CertificateKey|PrivateKey|GoogleApiKey|SecretKey|ClientSecret|BaiduSecretKey|VapidPrivateKey|AppSecret|MpnsCertificate)\s*</Name>\s*<Value>).*?(</Value>)`)
)

// redactBodySecrets returns data with the secrets of a hub description
// replaced by REDACTED; other bodies are returned as they are.
func redactBodySecrets(data []byte) []byte {
	if !bytes.Contains(data, hubDescriptionMarker) {
		return data
	}
	data = secretElements.ReplaceAll(data, []byte("<$1>REDACTED</$1>"))
	return secretProperties.ReplaceAll(data, []byte("${1}REDACTED${2}"))
}
