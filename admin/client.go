package admin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"

	notificationhubs "github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/internal/atom"
	"github.com/nhkit/notificationhubs/internal/names"
	"github.com/nhkit/notificationhubs/internal/nhpipeline"
)

// DefaultAPIVersion is the api-version a Client sends unless
// ClientOptions.APIVersion says otherwise: the data plane's, which the
// .NET SDK's NamespaceManager sends too. (The hub-management recordings
// were made at 2017-04, before FCM v1 and browser credentials existed.)
const DefaultAPIVersion = notificationhubs.DefaultAPIVersion

// ClientOptions configures a Client. The zero value (or nil) means
// defaults.
type ClientOptions struct {
	// ClientOptions are azcore's options: transport, retry, logging,
	// telemetry and tracing. Logging.IncludeBody is ignored: hub
	// descriptions carry keys and push-service secrets, which must not
	// reach a log.
	azcore.ClientOptions

	// APIVersion is the api-version sent on every request; the default is
	// DefaultAPIVersion.
	APIVersion string

	// TokenLifetime is the lifetime of each SAS token; the default is
	// notificationhubs.DefaultTokenLifetime (60 minutes).
	TokenLifetime time.Duration

	// DebugWriter, when set, receives a dump of every request and
	// response, with the SAS signature, every rule key and every
	// push-service secret replaced by REDACTED.
	DebugWriter io.Writer
}

// Client creates, reads, updates, lists and deletes the notification hubs
// of one namespace. It signs with a rule that has the Manage right at the
// namespace (RootManageSharedAccessKey in Azure); a hub's own Manage rule
// (DefaultFullSharedAccessSignature) may read and update that hub only.
// A Client is safe for concurrent use.
type Client struct {
	pl *nhpipeline.Pipeline
}

// NewClientFromConnectionString returns a client for the namespace of
// connectionString; its EntityPath, if any, is ignored.
func NewClientFromConnectionString(connectionString string, options *ClientOptions) (*Client, error) {
	cs, err := notificationhubs.ParseConnectionString(connectionString)
	if err != nil {
		return nil, err
	}
	cred, err := notificationhubs.NewSharedAccessKeyCredential(cs.SharedAccessKeyName, cs.SharedAccessKey)
	if err != nil {
		return nil, err
	}
	return NewClient(cs.Endpoint, cred, options)
}

// NewClient returns a client for the namespace at endpoint (sb://,
// https:// or, for loopback hosts, http://; e.g.
// "sb://ns.servicebus.windows.net/") signing with credential.
func NewClient(endpoint string, credential *notificationhubs.SharedAccessKeyCredential, options *ClientOptions) (*Client, error) {
	if credential == nil {
		return nil, errors.New("admin: new client: credential is nil")
	}
	var o ClientOptions
	if options != nil {
		o = *options
	}
	o.Logging.IncludeBody = false
	pl, err := nhpipeline.New(endpoint, credential, nhpipeline.Options{
		ClientOptions: o.ClientOptions,
		APIVersion:    o.APIVersion,
		TokenLifetime: o.TokenLifetime,
		DebugWriter:   o.DebugWriter,
	})
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	return &Client{pl: pl}, nil
}

// Endpoint returns the namespace URL, e.g.
// "https://ns.servicebus.windows.net/".
func (c *Client) Endpoint() string { return c.pl.Endpoint }

// ConnectionString returns the connection string of rule at this
// namespace, as the portal shows it for a hub's rules:
// Endpoint=sb://…/;SharedAccessKeyName=…;SharedAccessKey=… (an http://
// endpoint stays http://). It holds the rule's primary key: treat it as a
// secret.
func (c *Client) ConnectionString(rule SharedAccessAuthorizationRule) string {
	ep := c.pl.Endpoint
	if rest, ok := strings.CutPrefix(ep, "https://"); ok {
		ep = "sb://" + rest
	}
	return "Endpoint=" + ep + ";SharedAccessKeyName=" + rule.KeyName + ";SharedAccessKey=" + rule.PrimaryKey
}

// checkHubName applies the service's rule for hub names (names.CheckHub).
func checkHubName(name string) error {
	if err := names.CheckHub(name); err != nil {
		return fmt.Errorf("admin: hub name %q: %w", clip(name), err)
	}
	return nil
}

// CreateHubOptions contains the optional parameters of CreateHub.
type CreateHubOptions struct {
	// Properties describe the new hub; nil asks for the service's
	// defaults (two rules with fresh keys, no credentials).
	Properties *HubProperties
}

// CreateHubResponse is the result of CreateHub.
type CreateHubResponse struct {
	// HubName is the new hub's name.
	HubName string
	// HubProperties are the hub as the service created it, its rules'
	// keys included.
	HubProperties
	// TrackingID and CorrelationID identify the request in the service's
	// logs.
	TrackingID, CorrelationID string
}

// CreateHub creates a hub (PUT /{hub}). A hub of that name that exists
// already is a *notificationhubs.ResponseError with status 409
// (errors.Is(err, notificationhubs.ErrConflict)). The properties and their
// credentials are checked before anything is sent.
func (c *Client) CreateHub(ctx context.Context, hubName string, options *CreateHubOptions) (CreateHubResponse, error) {
	var p HubProperties
	if options != nil && options.Properties != nil {
		p = *options.Properties
	}
	resp, props, err := c.put(ctx, hubName, p, false)
	if err != nil {
		return CreateHubResponse{}, err
	}
	return CreateHubResponse{HubName: hubName, HubProperties: props, TrackingID: resp.trackingID, CorrelationID: resp.correlationID}, nil
}

// UpdateHubOptions contains the optional parameters of UpdateHub.
type UpdateHubOptions struct{}

// UpdateHubResponse is the result of UpdateHub.
type UpdateHubResponse struct {
	// HubName is the hub's name.
	HubName string
	// HubProperties are the hub as the service updated it.
	HubProperties
	// TrackingID and CorrelationID identify the request in the service's
	// logs.
	TrackingID, CorrelationID string
}

// UpdateHub replaces the description of an existing hub (PUT /{hub} with
// If-Match: *). Everything properties leaves out returns to the service's
// default: a nil credential removes the hub's credential for that push
// service, so read the hub with GetHub, change what is needed and pass
// the whole description back. Nil AuthorizationRules keep the hub's rules.
// The service gives hubs no ETag, so an update cannot be made conditional
// on the version read; the If-Match only says the hub must exist (a
// missing hub is a 404 *notificationhubs.ResponseError).
func (c *Client) UpdateHub(ctx context.Context, hubName string, properties HubProperties, options *UpdateHubOptions) (UpdateHubResponse, error) {
	resp, props, err := c.put(ctx, hubName, properties, true)
	if err != nil {
		return UpdateHubResponse{}, err
	}
	return UpdateHubResponse{HubName: hubName, HubProperties: props, TrackingID: resp.trackingID, CorrelationID: resp.correlationID}, nil
}

type ids struct{ trackingID, correlationID string }

func idsOf(h http.Header) ids {
	return ids{trackingID: h.Get("TrackingId"), correlationID: h.Get("x-ms-correlation-request-id")}
}

// put creates (update false: answer 201) or updates (answer 200) a hub.
func (c *Client) put(ctx context.Context, hubName string, p HubProperties, update bool) (ids, HubProperties, error) {
	if err := checkHubName(hubName); err != nil {
		return ids{}, HubProperties{}, err
	}
	d, err := p.toWire()
	if err != nil {
		return ids{}, HubProperties{}, err
	}
	desc, err := atom.MarshalHubDescription(d)
	if err != nil {
		return ids{}, HubProperties{}, fmt.Errorf("admin: %w", err)
	}
	req, err := c.pl.NewRequest(ctx, http.MethodPut, url.PathEscape(hubName), nil)
	if err != nil {
		return ids{}, HubProperties{}, err
	}
	want := http.StatusCreated
	if update {
		req.Raw().Header.Set("If-Match", "*")
		want = http.StatusOK
	}
	if err := req.SetBody(streaming.NopCloser(bytes.NewReader(atom.MarshalRequestEntry(desc))), atom.ContentTypeEntry); err != nil {
		return ids{}, HubProperties{}, err
	}
	resp, err := c.pl.Do(req, want)
	if err != nil {
		return ids{}, HubProperties{}, err
	}
	props, _, err := readHub(resp)
	return idsOf(resp.Header), props, err
}

// GetHubOptions contains the optional parameters of GetHub.
type GetHubOptions struct{}

// GetHubResponse is the result of GetHub.
type GetHubResponse struct {
	// HubName is the hub's name.
	HubName string
	// HubProperties are the hub's description, its rules' keys and its
	// credentials' secrets included.
	HubProperties
	// TrackingID and CorrelationID identify the request in the service's
	// logs.
	TrackingID, CorrelationID string
}

// GetHub reads a hub's description (GET /{hub}). A hub that does not exist
// gives a nil response and a nil error: the service answers such a GET
// with 200 and an empty feed rather than 404.
func (c *Client) GetHub(ctx context.Context, hubName string, options *GetHubOptions) (*GetHubResponse, error) {
	props, found, h, err := c.get(ctx, hubName)
	if err != nil || !found {
		return nil, err
	}
	return &GetHubResponse{HubName: hubName, HubProperties: props, TrackingID: h.trackingID, CorrelationID: h.correlationID}, nil
}

// HubExistsOptions contains the optional parameters of HubExists.
type HubExistsOptions struct{}

// HubExistsResponse is the result of HubExists.
type HubExistsResponse struct {
	// Exists reports whether the hub exists.
	Exists bool
	// TrackingID and CorrelationID identify the request in the service's
	// logs.
	TrackingID, CorrelationID string
}

// HubExists reports whether a hub exists (GET /{hub}, as the .NET SDK's
// NotificationHubExists).
func (c *Client) HubExists(ctx context.Context, hubName string, options *HubExistsOptions) (HubExistsResponse, error) {
	_, found, h, err := c.get(ctx, hubName)
	if err != nil {
		return HubExistsResponse{}, err
	}
	return HubExistsResponse{Exists: found, TrackingID: h.trackingID, CorrelationID: h.correlationID}, nil
}

func (c *Client) get(ctx context.Context, hubName string) (HubProperties, bool, ids, error) {
	if err := checkHubName(hubName); err != nil {
		return HubProperties{}, false, ids{}, err
	}
	req, err := c.pl.NewRequest(ctx, http.MethodGet, url.PathEscape(hubName), nil)
	if err != nil {
		return HubProperties{}, false, ids{}, err
	}
	resp, err := c.pl.Do(req, http.StatusOK)
	if err != nil {
		return HubProperties{}, false, ids{}, err
	}
	props, found, err := readHub(resp)
	return props, found, idsOf(resp.Header), err
}

// readHub decodes a hub entry; found is false for the empty feed the
// service answers for a missing hub.
func readHub(resp *http.Response) (HubProperties, bool, error) {
	body, err := runtime.Payload(resp)
	resp.Body.Close()
	if err != nil {
		return HubProperties{}, false, fmt.Errorf("admin: read response: %w", err)
	}
	_, d, found, err := atom.ParseHubEntry(body)
	if err != nil {
		return HubProperties{}, false, fmt.Errorf("admin: %w", err)
	}
	if !found {
		return HubProperties{}, false, nil
	}
	return propertiesFromWire(d), true, nil
}

// DeleteHubOptions contains the optional parameters of DeleteHub.
type DeleteHubOptions struct{}

// DeleteHubResponse is the result of DeleteHub.
type DeleteHubResponse struct {
	// TrackingID and CorrelationID identify the request in the service's
	// logs.
	TrackingID, CorrelationID string
}

// DeleteHub deletes a hub with its registrations and installations
// (DELETE /{hub}). A missing hub is a *notificationhubs.ResponseError with
// status 404 (errors.Is(err, notificationhubs.ErrNotFound)).
func (c *Client) DeleteHub(ctx context.Context, hubName string, options *DeleteHubOptions) (DeleteHubResponse, error) {
	if err := checkHubName(hubName); err != nil {
		return DeleteHubResponse{}, err
	}
	req, err := c.pl.NewRequest(ctx, http.MethodDelete, url.PathEscape(hubName), nil)
	if err != nil {
		return DeleteHubResponse{}, err
	}
	resp, err := c.pl.Do(req, http.StatusOK)
	if err != nil {
		return DeleteHubResponse{}, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	h := idsOf(resp.Header)
	return DeleteHubResponse{TrackingID: h.trackingID, CorrelationID: h.correlationID}, nil
}

// ListHubsOptions contains the optional parameters of NewListHubsPager.
type ListHubsOptions struct {
	// MaxPageSize is the number of hubs per page (default and maximum
	// 100).
	MaxPageSize int32
}

// HubItem is one hub of a listing.
type HubItem struct {
	HubName string
	HubProperties
}

// ListHubsResponse is one page of hubs.
type ListHubsResponse struct {
	// Hubs are the page's hubs, in the service's order (by name).
	Hubs []HubItem
	// TrackingID and CorrelationID identify the request in the service's
	// logs.
	TrackingID, CorrelationID string
}

// LogValue implements slog.LogValuer: the hubs by name, each as
// HubProperties.LogValue shows it, without the rules' keys.
func (r ListHubsResponse) LogValue() slog.Value {
	hubs := make([]slog.Attr, len(r.Hubs))
	for i, h := range r.Hubs {
		hubs[i] = slog.Attr{Key: h.HubName, Value: h.LogValue()}
	}
	return slog.GroupValue(slog.Attr{Key: "Hubs", Value: slog.GroupValue(hubs...)},
		slog.String("TrackingID", r.TrackingID), slog.String("CorrelationID", r.CorrelationID))
}

// maxListPage is the most hubs a page holds.
const maxListPage = 100

// NewListHubsPager lists the namespace's hubs with their descriptions, a
// page at a time (GET /$Resources/NotificationHubs?$skip=&$top=, as the
// Java SDK and Service Bus list entities). The listing ends at the first
// page shorter than MaxPageSize.
func (c *Client) NewListHubsPager(options *ListHubsOptions) *runtime.Pager[ListHubsResponse] {
	top := int32(maxListPage)
	if options != nil && options.MaxPageSize > 0 && options.MaxPageSize < maxListPage {
		top = options.MaxPageSize
	}
	skip := 0
	more := true
	return runtime.NewPager(runtime.PagingHandler[ListHubsResponse]{
		More: func(ListHubsResponse) bool { return more },
		Fetcher: func(ctx context.Context, _ *ListHubsResponse) (ListHubsResponse, error) {
			q := url.Values{"$skip": {strconv.Itoa(skip)}, "$top": {strconv.Itoa(int(top))}}
			req, err := c.pl.NewRequest(ctx, http.MethodGet, "$Resources/NotificationHubs", q)
			if err != nil {
				return ListHubsResponse{}, err
			}
			resp, err := c.pl.Do(req, http.StatusOK)
			if err != nil {
				return ListHubsResponse{}, err
			}
			body, err := runtime.Payload(resp)
			resp.Body.Close()
			if err != nil {
				return ListHubsResponse{}, fmt.Errorf("admin: read response: %w", err)
			}
			f, ds, err := atom.ParseHubFeed(body)
			if err != nil {
				return ListHubsResponse{}, fmt.Errorf("admin: %w", err)
			}
			h := idsOf(resp.Header)
			page := ListHubsResponse{TrackingID: h.trackingID, CorrelationID: h.correlationID}
			for i, e := range f.Entries {
				page.Hubs = append(page.Hubs, HubItem{HubName: e.Title, HubProperties: propertiesFromWire(ds[i])})
			}
			skip += len(f.Entries)
			more = len(f.Entries) >= int(top)
			return page, nil
		},
	})
}
