package notificationhubs

// Registrations to and from the wire model of internal/atom.

import (
	"fmt"
	"sort"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/nhkit/notificationhubs/internal/atom"
)

// toAtom converts r to the wire model. ExpirationTime is never sent.
func (r Registration) toAtom() atom.Registration {
	a := atom.Registration{
		Platform:             atom.Platform(r.Platform),
		Template:             r.Template != nil,
		ETag:                 string(r.ETag),
		RegistrationID:       r.RegistrationID,
		Tags:                 append([]string(nil), r.Tags...),
		PushVariables:        r.PushVariables,
		DeviceToken:          r.DeviceToken,
		GcmRegistrationID:    r.GcmRegistrationID,
		FcmV1RegistrationID:  r.FcmV1RegistrationID,
		ChannelURI:           r.ChannelURI,
		SecondaryTileName:    r.SecondaryTileName,
		AdmRegistrationID:    r.AdmRegistrationID,
		BaiduUserID:          r.BaiduUserID,
		BaiduChannelID:       r.BaiduChannelID,
		Endpoint:             r.Endpoint,
		P256DH:               r.P256DH,
		Auth:                 r.Auth,
		XiaomiRegistrationID: r.XiaomiRegistrationID,
	}
	if !r.ExpirationTime.IsZero() {
		a.ExpirationTime = r.ExpirationTime.UTC().Format(time.RFC3339Nano)
	}
	if t := r.Template; t != nil {
		a.BodyTemplate = t.Body
		a.TemplateName = t.Name
		a.Expiry = t.Expiry
		a.Priority = t.Priority
		a.MessageType = t.MessageType
		var hs []atom.Header
		for _, k := range sortedHeaderNames(t.Headers) {
			hs = append(hs, atom.Header{Name: k, Value: t.Headers[k]})
		}
		switch r.Platform {
		case RegistrationPlatformApple:
			a.ApnsHeaders = hs
		case RegistrationPlatformWindows:
			a.WnsHeaders = hs
		case RegistrationPlatformMpns:
			a.MpnsHeaders = hs
		}
	}
	return a
}

// registrationFromAtom converts the wire model to a Registration.
func registrationFromAtom(a atom.Registration) (Registration, error) {
	r := Registration{
		RegistrationID:       a.RegistrationID,
		Platform:             RegistrationPlatform(a.Platform),
		DeviceToken:          a.DeviceToken,
		FcmV1RegistrationID:  a.FcmV1RegistrationID,
		GcmRegistrationID:    a.GcmRegistrationID,
		ChannelURI:           a.ChannelURI,
		SecondaryTileName:    a.SecondaryTileName,
		AdmRegistrationID:    a.AdmRegistrationID,
		BaiduUserID:          a.BaiduUserID,
		BaiduChannelID:       a.BaiduChannelID,
		XiaomiRegistrationID: a.XiaomiRegistrationID,
		Endpoint:             a.Endpoint,
		P256DH:               a.P256DH,
		Auth:                 a.Auth,
		ETag:                 azcore.ETag(a.ETag),
	}
	if len(a.Tags) > 0 {
		r.Tags = append([]string(nil), a.Tags...)
	}
	if len(a.PushVariables) > 0 {
		r.PushVariables = a.PushVariables
	}
	if a.ExpirationTime != "" {
		t, err := parseWireTime(a.ExpirationTime)
		if err != nil {
			return Registration{}, fmt.Errorf("notificationhubs: registration %q: ExpirationTime: %w", a.RegistrationID, err)
		}
		r.ExpirationTime = t
	}
	if a.Template {
		t := &RegistrationTemplate{
			Body:        a.BodyTemplate,
			Name:        a.TemplateName,
			Expiry:      a.Expiry,
			Priority:    a.Priority,
			MessageType: a.MessageType,
		}
		for _, hs := range [][]atom.Header{a.ApnsHeaders, a.WnsHeaders, a.MpnsHeaders} {
			for _, h := range hs {
				if t.Headers == nil {
					t.Headers = map[string]string{}
				}
				t.Headers[h.Name] = h.Value
			}
		}
		r.Template = t
	}
	return r, nil
}

func sortedHeaderNames(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
