package notificationhubs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"

	"github.com/nhkit/notificationhubs/internal/tagexpr"
)

// InstallationPlatform is the push notification service of an
// installation, as written in its JSON "platform" field.
type InstallationPlatform string

// Installation platforms. FCM legacy is "gcm"; the service rejects "fcm".
const (
	InstallationPlatformApns    InstallationPlatform = "apns"
	InstallationPlatformFcmV1   InstallationPlatform = "fcmv1"
	InstallationPlatformGcm     InstallationPlatform = "gcm" // FCM legacy
	InstallationPlatformWns     InstallationPlatform = "wns"
	InstallationPlatformMpns    InstallationPlatform = "mpns"
	InstallationPlatformAdm     InstallationPlatform = "adm"
	InstallationPlatformBaidu   InstallationPlatform = "baidu"
	InstallationPlatformBrowser InstallationPlatform = "browser"
	InstallationPlatformXiaomi  InstallationPlatform = "xiaomi"
)

// Installation is a device installation (docs/protocol.md, "Installations"): one PNS handle
// with its tags, templates and variables, identified by an id the app
// chooses. The service derives ordinary registrations from it.
//
// Reads are eventually consistent: the service queues every write
// ("processed in the background"), so a GetInstallation right after
// CreateOrUpdateInstallation, PatchInstallation or DeleteInstallation can
// return 404 or the previous state for a while. Set WaitUntilVisible in
// the write's options to wait until a read shows the write.
type Installation struct {
	// InstallationID identifies the installation (required).
	InstallationID string
	// UserID targets the installation with the tag $UserId:{…}.
	UserID string
	// Platform is the push notification service (required).
	Platform InstallationPlatform
	// PushChannel is the PNS handle: device token, registration token,
	// channel URI; for Baidu "userId-channelId". Browser installations use
	// BrowserPushChannel instead.
	PushChannel string
	// BrowserPushChannel is a browser's Web Push subscription.
	BrowserPushChannel *BrowserPushChannel
	// Tags are the installation's tags.
	Tags []string
	// PushVariables are substituted into template expressions.
	PushVariables map[string]string
	// Templates are the installation's templates by name.
	Templates map[string]InstallationTemplate
	// SecondaryTiles are WNS secondary tiles by tile id (deprecated by the service).
	SecondaryTiles map[string]WnsSecondaryTile

	// PushChannelExpired is set by the service when the PNS reported the
	// channel expired (read-only).
	PushChannelExpired bool
	// ExpirationTime is when the installation expires (read-only).
	ExpirationTime time.Time
	// LastActiveOn and LastUpdate are service timestamps (read-only; not
	// always present).
	LastActiveOn, LastUpdate time.Time
}

// BrowserPushChannel is a Web Push subscription (endpoint and keys).
type BrowserPushChannel struct {
	Endpoint string `json:"endpoint"`
	P256DH   string `json:"p256dh"`
	Auth     string `json:"auth"`
}

// InstallationTemplate is one template of an installation.
type InstallationTemplate struct {
	// Body is the template body (required).
	Body string `json:"body"`
	// Headers are APNs (apns-*), WNS or MPNS headers.
	Headers map[string]string `json:"headers,omitempty"`
	// Expiry is the APNs expiry (a date or an expression).
	Expiry string `json:"expiry,omitempty"`
	// Tags are the template's own tags. The service adds the template's
	// name to them.
	Tags []string `json:"tags,omitempty"`
}

// WnsSecondaryTile is a WNS secondary tile of an installation.
type WnsSecondaryTile struct {
	PushChannel        string                          `json:"pushChannel"`
	PushChannelExpired bool                            `json:"pushChannelExpired,omitempty"`
	Tags               []string                        `json:"tags,omitempty"`
	Templates          map[string]InstallationTemplate `json:"templates,omitempty"`
}

// installationJSON is the wire form.
type installationJSON struct {
	InstallationID     string                          `json:"installationId"`
	PushChannel        json.RawMessage                 `json:"pushChannel,omitempty"`
	PushChannelExpired *bool                           `json:"pushChannelExpired,omitempty"`
	Platform           InstallationPlatform            `json:"platform"`
	ExpirationTime     string                          `json:"expirationTime,omitempty"`
	LastActiveOn       string                          `json:"lastActiveOn,omitempty"`
	LastUpdate         string                          `json:"lastUpdate,omitempty"`
	Tags               []string                        `json:"tags,omitempty"`
	PushVariables      map[string]string               `json:"pushVariables,omitempty"`
	Templates          map[string]InstallationTemplate `json:"templates,omitempty"`
	SecondaryTiles     map[string]WnsSecondaryTile     `json:"secondaryTiles,omitempty"`
	UserID             string                          `json:"userId,omitempty"`
}

// MarshalJSON encodes the installation as the service reads it. Read-only
// fields are left out; a browser push channel is written as an object.
func (in Installation) MarshalJSON() ([]byte, error) {
	w := installationJSON{
		InstallationID: in.InstallationID,
		Platform:       in.Platform,
		Tags:           in.Tags,
		PushVariables:  in.PushVariables,
		Templates:      in.Templates,
		SecondaryTiles: in.SecondaryTiles,
		UserID:         in.UserID,
	}
	var err error
	switch {
	case in.BrowserPushChannel != nil:
		w.PushChannel, err = json.Marshal(in.BrowserPushChannel)
	case in.PushChannel != "":
		w.PushChannel, err = json.Marshal(in.PushChannel)
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes the service's JSON. pushChannel may be a string,
// an object (browser), or a string holding the browser object as JSON (as
// the .NET and Java SDKs send it).
func (in *Installation) UnmarshalJSON(data []byte) error {
	var w installationJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	out := Installation{
		InstallationID: w.InstallationID,
		UserID:         w.UserID,
		Platform:       w.Platform,
		Tags:           w.Tags,
		PushVariables:  w.PushVariables,
		Templates:      w.Templates,
		SecondaryTiles: w.SecondaryTiles,
	}
	if w.PushChannelExpired != nil {
		out.PushChannelExpired = *w.PushChannelExpired
	}
	if pc := bytes.TrimSpace(w.PushChannel); len(pc) > 0 && string(pc) != "null" {
		switch pc[0] {
		case '"':
			var s string
			if err := json.Unmarshal(pc, &s); err != nil {
				return fmt.Errorf("pushChannel: %w", err)
			}
			var b BrowserPushChannel
			if strings.EqualFold(string(w.Platform), string(InstallationPlatformBrowser)) &&
				strings.HasPrefix(strings.TrimSpace(s), "{") && json.Unmarshal([]byte(s), &b) == nil {
				out.BrowserPushChannel = &b
			} else {
				out.PushChannel = s
			}
		case '{':
			var b BrowserPushChannel
			if err := json.Unmarshal(pc, &b); err != nil {
				return fmt.Errorf("pushChannel: %w", err)
			}
			out.BrowserPushChannel = &b
		default:
			return fmt.Errorf("pushChannel: want a string or an object, got %.20s", pc)
		}
	}
	for _, f := range []struct {
		name string
		src  string
		dst  *time.Time
	}{{"expirationTime", w.ExpirationTime, &out.ExpirationTime}, {"lastActiveOn", w.LastActiveOn, &out.LastActiveOn}, {"lastUpdate", w.LastUpdate, &out.LastUpdate}} {
		if f.src == "" {
			continue
		}
		t, err := parseWireTime(f.src)
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		*f.dst = t
	}
	*in = out
	return nil
}

func (in Installation) validate() error {
	if strings.TrimSpace(in.InstallationID) == "" {
		return invalidResource("installation", "InstallationID is empty")
	}
	where := fmt.Sprintf("installation %q", in.InstallationID)
	switch strings.ToLower(string(in.Platform)) {
	case "":
		return invalidResource(where, "Platform is empty")
	case "fcm":
		return invalidResource(where, "platform fcm is not supported by the service; use fcmv1 (or gcm for FCM legacy)")
	case string(InstallationPlatformBrowser):
		if in.BrowserPushChannel == nil && in.PushChannel == "" {
			return invalidResource(where, "a browser installation needs BrowserPushChannel")
		}
	default:
		if strings.TrimSpace(in.PushChannel) == "" {
			return invalidResource(where, "PushChannel is empty")
		}
	}
	for _, tag := range in.Tags {
		if err := tagexpr.ValidateTag(tag); err != nil {
			return invalidResource(where, "%w", err)
		}
	}
	for name, t := range in.Templates {
		if len(name) > 200 {
			return invalidResource(where, "template name %.40q… is longer than 200 characters", name)
		}
		if strings.TrimSpace(t.Body) == "" {
			return invalidResource(where, "template %q has an empty body", name)
		}
		for _, tag := range t.Tags {
			if err := tagexpr.ValidateTag(tag); err != nil {
				return invalidResource(where, "template %q: %w", name, err)
			}
		}
	}
	return nil
}

func installationPath(id string) string { return "installations/" + url.PathEscape(id) }

// defaultVisibilityPoll is how often WaitUntilVisible reads back.
const defaultVisibilityPoll = time.Second

// CreateOrUpdateInstallationOptions contains the optional parameters of
// CreateOrUpdateInstallation.
type CreateOrUpdateInstallationOptions struct {
	// WaitUntilVisible makes the call read the installation back until a
	// read shows this write (the service applies writes in the background),
	// polling every PollInterval until ctx is done.
	WaitUntilVisible bool
	// PollInterval is the wait between reads (default 1 s).
	PollInterval time.Duration
}

// CreateOrUpdateInstallationResponse is the response of CreateOrUpdateInstallation.
type CreateOrUpdateInstallationResponse struct {
	// ContentLocation is the installation's URL, when the service gives it.
	ContentLocation string
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// CreateOrUpdateInstallation creates or replaces an installation (PUT;
// idempotent). The service answers 200 once it has queued the write; reads
// may not show it yet (see Installation and WaitUntilVisible).
func (c *Client) CreateOrUpdateInstallation(ctx context.Context, installation Installation, options *CreateOrUpdateInstallationOptions) (CreateOrUpdateInstallationResponse, error) {
	if err := installation.validate(); err != nil {
		return CreateOrUpdateInstallationResponse{}, err
	}
	body, err := json.Marshal(installation)
	if err != nil {
		return CreateOrUpdateInstallationResponse{}, fmt.Errorf("notificationhubs: encoding installation %q: %w", installation.InstallationID, err)
	}
	req, err := c.newRequest(ctx, http.MethodPut, installationPath(installation.InstallationID), nil)
	if err != nil {
		return CreateOrUpdateInstallationResponse{}, err
	}
	if err := req.SetBody(streaming.NopCloser(bytes.NewReader(body)), "application/json"); err != nil {
		return CreateOrUpdateInstallationResponse{}, err
	}
	resp, err := c.do(req, true, http.StatusOK, http.StatusCreated, http.StatusNoContent)
	if err != nil {
		return CreateOrUpdateInstallationResponse{}, err
	}
	_, _ = readAllClose(resp)
	out := CreateOrUpdateInstallationResponse{ContentLocation: resp.Header.Get("Content-Location")}
	out.TrackingID, out.CorrelationID = responseIDs(resp)
	if options != nil && options.WaitUntilVisible {
		_, err = c.GetInstallation(ctx, installation.InstallationID, &GetInstallationOptions{
			WaitFor:      func(got Installation) bool { return installationShows(got, installation) },
			PollInterval: options.PollInterval,
		})
		if err != nil {
			return out, fmt.Errorf("notificationhubs: waiting for installation %q to become visible: %w", installation.InstallationID, err)
		}
	}
	return out, nil
}

// installationShows reports whether got (read back) reflects the write
// want, allowing for the service's normalisation: upper-cased APNs
// tokens, template names added to template tags, case-insensitive tags.
func installationShows(got, want Installation) bool {
	if !strings.EqualFold(string(got.Platform), string(want.Platform)) || got.UserID != want.UserID {
		return false
	}
	if !strings.EqualFold(got.PushChannel, want.PushChannel) {
		return false
	}
	if (got.BrowserPushChannel == nil) != (want.BrowserPushChannel == nil) ||
		got.BrowserPushChannel != nil && *got.BrowserPushChannel != *want.BrowserPushChannel {
		return false
	}
	if !sameTagSet(got.Tags, want.Tags) || len(got.Templates) != len(want.Templates) {
		return false
	}
	for name, wt := range want.Templates {
		gt, ok := got.Templates[name]
		if !ok || gt.Body != wt.Body || gt.Expiry != wt.Expiry || len(gt.Headers) != len(wt.Headers) {
			return false
		}
		for k, v := range wt.Headers {
			if gt.Headers[k] != v {
				return false
			}
		}
		if !sameTagSet(withoutFold(gt.Tags, name), withoutFold(wt.Tags, name)) {
			return false
		}
	}
	if len(got.PushVariables) != len(want.PushVariables) {
		return false
	}
	for k, v := range want.PushVariables {
		if got.PushVariables[k] != v {
			return false
		}
	}
	return true
}

func sameTagSet(a, b []string) bool {
	norm := func(s []string) []string {
		out := make([]string, 0, len(s))
		for _, t := range s {
			t = strings.ToLower(t)
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(norm(a), norm(b))
}

func withoutFold(s []string, drop string) []string {
	var out []string
	for _, t := range s {
		if !strings.EqualFold(t, drop) {
			out = append(out, t)
		}
	}
	return out
}

// GetInstallationOptions contains the optional parameters of GetInstallation.
type GetInstallationOptions struct {
	// WaitFor, when set, makes GetInstallation poll: a 404 or an
	// installation for which WaitFor returns false means "not visible
	// yet", and it reads again every PollInterval until WaitFor returns
	// true or ctx is done. Use it to wait for a write, e.g.
	//
	//	WaitFor: func(in Installation) bool { return slices.Contains(in.Tags, "sports") }
	WaitFor func(Installation) bool
	// PollInterval is the wait between reads (default 1 s).
	PollInterval time.Duration
}

// GetInstallationResponse is the response of GetInstallation.
type GetInstallationResponse struct {
	// Installation is the installation as the service holds it.
	Installation
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// GetInstallation reads an installation. A missing installation is a
// *ResponseError with StatusCode 404 (errors.Is(err, ErrNotFound)). Reads
// are eventually consistent; see GetInstallationOptions.WaitFor.
func (c *Client) GetInstallation(ctx context.Context, installationID string, options *GetInstallationOptions) (GetInstallationResponse, error) {
	if installationID == "" {
		return GetInstallationResponse{}, fmt.Errorf("notificationhubs: GetInstallation: installationID is empty")
	}
	var o GetInstallationOptions
	if options != nil {
		o = *options
	}
	if o.WaitFor == nil {
		return c.getInstallationOnce(ctx, installationID)
	}
	var last error
	err := pollUntilDone(ctx, o.PollInterval, func() (bool, error) {
		got, err := c.getInstallationOnce(ctx, installationID)
		switch {
		case errors.Is(err, ErrNotFound):
			last = err
			return false, nil
		case err != nil:
			return false, err
		}
		if o.WaitFor(got.Installation) {
			last = nil
			return true, nil
		}
		last = fmt.Errorf("installation %q does not show the expected state yet", installationID)
		return false, nil
	})
	if err != nil {
		if last != nil {
			return GetInstallationResponse{}, fmt.Errorf("%w (last read: %w)", err, last)
		}
		return GetInstallationResponse{}, err
	}
	return c.getInstallationOnce(ctx, installationID)
}

func (c *Client) getInstallationOnce(ctx context.Context, id string) (GetInstallationResponse, error) {
	req, err := c.newRequest(ctx, http.MethodGet, installationPath(id), nil)
	if err != nil {
		return GetInstallationResponse{}, err
	}
	resp, err := c.do(req, true, http.StatusOK)
	if err != nil {
		return GetInstallationResponse{}, err
	}
	var out GetInstallationResponse
	out.TrackingID, out.CorrelationID = responseIDs(resp)
	body, err := readAllClose(resp)
	if err != nil {
		return GetInstallationResponse{}, err
	}
	// The service labels the JSON application/xml; the body decides.
	if err := json.Unmarshal(body, &out.Installation); err != nil {
		return GetInstallationResponse{}, fmt.Errorf("notificationhubs: decoding installation %q: %w", id, err)
	}
	return out, nil
}

// pollUntilDone calls check now and then every interval until it reports done,
// fails, or ctx is done (then ctx's error is returned).
func pollUntilDone(ctx context.Context, interval time.Duration, check func() (bool, error)) error {
	if interval <= 0 {
		interval = defaultVisibilityPoll
	}
	for {
		done, err := check()
		if err != nil || done {
			return err
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// InstallationExistsOptions contains the optional parameters of InstallationExists.
type InstallationExistsOptions struct {
	// for future expansion
}

// InstallationExistsResponse is the response of InstallationExists.
type InstallationExistsResponse struct {
	// Exists is false when the service answered 404.
	Exists bool
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// InstallationExists reports whether an installation exists (GET; 404
// means false). Like every read it is eventually consistent.
func (c *Client) InstallationExists(ctx context.Context, installationID string, options *InstallationExistsOptions) (InstallationExistsResponse, error) {
	got, err := c.GetInstallation(ctx, installationID, nil)
	if errors.Is(err, ErrNotFound) {
		var re *ResponseError
		errors.As(err, &re)
		return InstallationExistsResponse{TrackingID: re.TrackingID, CorrelationID: re.CorrelationID}, nil
	}
	if err != nil {
		return InstallationExistsResponse{}, err
	}
	return InstallationExistsResponse{Exists: true, TrackingID: got.TrackingID, CorrelationID: got.CorrelationID}, nil
}

// DeleteInstallationOptions contains the optional parameters of DeleteInstallation.
type DeleteInstallationOptions struct {
	// WaitUntilVisible makes the call read back until the service answers
	// 404, polling every PollInterval until ctx is done.
	WaitUntilVisible bool
	// PollInterval is the wait between reads (default 1 s).
	PollInterval time.Duration
}

// DeleteInstallationResponse is the response of DeleteInstallation.
type DeleteInstallationResponse struct {
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// DeleteInstallation deletes an installation (the service answers 204
// even when it does not exist). The delete is applied in the background.
func (c *Client) DeleteInstallation(ctx context.Context, installationID string, options *DeleteInstallationOptions) (DeleteInstallationResponse, error) {
	if installationID == "" {
		return DeleteInstallationResponse{}, fmt.Errorf("notificationhubs: DeleteInstallation: installationID is empty")
	}
	req, err := c.newRequest(ctx, http.MethodDelete, installationPath(installationID), nil)
	if err != nil {
		return DeleteInstallationResponse{}, err
	}
	resp, err := c.do(req, true, http.StatusNoContent, http.StatusOK)
	if err != nil {
		return DeleteInstallationResponse{}, err
	}
	_, _ = readAllClose(resp)
	var out DeleteInstallationResponse
	out.TrackingID, out.CorrelationID = responseIDs(resp)
	if options != nil && options.WaitUntilVisible {
		err := pollUntilDone(ctx, options.PollInterval, func() (bool, error) {
			_, err := c.getInstallationOnce(ctx, installationID)
			if errors.Is(err, ErrNotFound) {
				return true, nil
			}
			return false, err
		})
		if err != nil {
			return out, fmt.Errorf("notificationhubs: waiting for the delete of installation %q to become visible: %w", installationID, err)
		}
	}
	return out, nil
}
