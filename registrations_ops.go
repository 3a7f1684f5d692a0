package notificationhubs

// The registration operations: create, read, update, delete (docs/protocol.md,
// "Registrations").

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/nhkit/notificationhubs/internal/atom"
)

// entryRegistration decodes a registration entry response.
func entryRegistration(resp *http.Response) (Registration, error) {
	body, err := readAllClose(resp)
	if err != nil {
		return Registration{}, err
	}
	e, err := atom.ParseEntry(body)
	if err != nil {
		return Registration{}, fmt.Errorf("notificationhubs: decoding the registration entry of %s %s: %w", resp.Request.Method, resp.Request.URL.Path, err)
	}
	a, err := atom.UnmarshalRegistration(e.Content)
	if err != nil {
		return Registration{}, fmt.Errorf("notificationhubs: decoding the registration of %s %s: %w", resp.Request.Method, resp.Request.URL.Path, err)
	}
	r, err := registrationFromAtom(a)
	if err != nil {
		return Registration{}, err
	}
	if r.ETag == "" {
		if h := resp.Header.Get("ETag"); h != "" {
			r.ETag = weakETag(h)
		} else if e.ETag != "" {
			r.ETag = weakETag(e.ETag)
		}
	}
	if r.RegistrationID == "" {
		r.RegistrationID = e.Title
	}
	return r, nil
}

func registrationPath(id string) string { return "registrations/" + url.PathEscape(id) }

// CreateRegistrationOptions contains the optional parameters of CreateRegistration.
type CreateRegistrationOptions struct {
	// for future expansion
}

// CreateRegistrationResponse is the response of CreateRegistration.
type CreateRegistrationResponse struct {
	// Registration is the registration as the service stored it, with its
	// new RegistrationID, ETag and ExpirationTime.
	Registration
	// ContentLocation is the URL of the new registration.
	ContentLocation string
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// CreateRegistration creates a registration with an id the service chooses
// (POST registrations). reg.RegistrationID must be empty. Create is not
// idempotent: a retry after an ambiguous failure may create a duplicate,
// so the SDK does not retry it then; prefer CreateRegistrationID followed
// by CreateOrUpdateRegistration.
func (c *Client) CreateRegistration(ctx context.Context, reg Registration, options *CreateRegistrationOptions) (CreateRegistrationResponse, error) {
	if reg.RegistrationID != "" {
		return CreateRegistrationResponse{}, fmt.Errorf("notificationhubs: CreateRegistration: RegistrationID must be empty (use CreateOrUpdateRegistration to choose the id)")
	}
	if err := reg.Validate(); err != nil {
		return CreateRegistrationResponse{}, err
	}
	req, err := c.newRequest(ctx, http.MethodPost, "registrations", nil)
	if err != nil {
		return CreateRegistrationResponse{}, err
	}
	if err := setRegistrationBody(req, reg); err != nil {
		return CreateRegistrationResponse{}, err
	}
	resp, err := c.do(req, false, http.StatusOK, http.StatusCreated)
	if err != nil {
		return CreateRegistrationResponse{}, err
	}
	out := CreateRegistrationResponse{ContentLocation: resp.Header.Get("Content-Location")}
	out.TrackingID, out.CorrelationID = responseIDs(resp)
	out.Registration, err = entryRegistration(resp)
	return out, err
}

func setRegistrationBody(req *policy.Request, reg Registration) error {
	a := reg.toAtom()
	a.ETag = ""
	a.ExpirationTime = ""
	content, err := atom.MarshalRegistration(a)
	if err != nil {
		return fmt.Errorf("notificationhubs: encoding the registration: %w", err)
	}
	return setAtomBody(req, content)
}

// CreateRegistrationIDOptions contains the optional parameters of CreateRegistrationID.
type CreateRegistrationIDOptions struct {
	// for future expansion
}

// CreateRegistrationIDResponse is the response of CreateRegistrationID.
type CreateRegistrationIDResponse struct {
	// RegistrationID is the new, reserved registration id.
	RegistrationID string
	// Location is the URL the service returned, ending in the id.
	Location string
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// CreateRegistrationID asks the service for a new registration id (POST
// registrationids → 201 with Location). Nothing is registered until
// CreateOrUpdateRegistration stores a registration under the id; this
// two-step pattern is safe to retry, unlike CreateRegistration.
func (c *Client) CreateRegistrationID(ctx context.Context, options *CreateRegistrationIDOptions) (CreateRegistrationIDResponse, error) {
	req, err := c.newRequest(ctx, http.MethodPost, "registrationids", nil)
	if err != nil {
		return CreateRegistrationIDResponse{}, err
	}
	resp, err := c.do(req, true, http.StatusCreated)
	if err != nil {
		return CreateRegistrationIDResponse{}, err
	}
	_, _ = readAllClose(resp)
	out := CreateRegistrationIDResponse{Location: resp.Header.Get("Location")}
	out.TrackingID, out.CorrelationID = responseIDs(resp)
	out.RegistrationID, err = registrationIDFromLocation(out.Location)
	return out, err
}

// registrationIDFromLocation extracts the id from
// https://{ns}/{hub}/registrationids/{id}?api-version=…
func registrationIDFromLocation(loc string) (string, error) {
	u, err := url.Parse(loc)
	if err != nil || loc == "" {
		return "", fmt.Errorf("notificationhubs: CreateRegistrationID: the service returned no usable Location header")
	}
	segs := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	for i := len(segs) - 2; i >= 0; i-- {
		if strings.EqualFold(segs[i], "registrationids") {
			id, err := url.PathUnescape(segs[i+1])
			if err == nil && id != "" {
				return id, nil
			}
		}
	}
	return "", fmt.Errorf("notificationhubs: CreateRegistrationID: Location %q has no registrationids/{id} segment", u.Path)
}

// CreateOrUpdateRegistrationOptions contains the optional parameters of
// CreateOrUpdateRegistration.
type CreateOrUpdateRegistrationOptions struct {
	// for future expansion
}

// CreateOrUpdateRegistrationResponse is the response of CreateOrUpdateRegistration.
type CreateOrUpdateRegistrationResponse struct {
	// Registration is the registration as the service stored it.
	Registration
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// CreateOrUpdateRegistration stores reg under reg.RegistrationID, creating
// or replacing it whatever its current version (PUT without If-Match). The
// id may come from CreateRegistrationID or be chosen by the caller. A 410
// Gone from the service means the id cannot be used: mint a new one.
func (c *Client) CreateOrUpdateRegistration(ctx context.Context, reg Registration, options *CreateOrUpdateRegistrationOptions) (CreateOrUpdateRegistrationResponse, error) {
	r, tid, cid, err := c.putRegistration(ctx, "CreateOrUpdateRegistration", reg, "")
	return CreateOrUpdateRegistrationResponse{Registration: r, TrackingID: tid, CorrelationID: cid}, err
}

// UpdateRegistrationOptions contains the optional parameters of UpdateRegistration.
type UpdateRegistrationOptions struct {
	// for future expansion
}

// UpdateRegistrationResponse is the response of UpdateRegistration.
type UpdateRegistrationResponse struct {
	// Registration is the registration as the service stored it, with its new ETag.
	Registration
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// UpdateRegistration replaces the registration reg.RegistrationID only if
// its stored version is still reg.ETag (PUT with If-Match). If another
// writer got there first the error matches ErrPreconditionFailed; a missing
// registration is a *ResponseError with StatusCode 404.
func (c *Client) UpdateRegistration(ctx context.Context, reg Registration, options *UpdateRegistrationOptions) (UpdateRegistrationResponse, error) {
	if reg.ETag == "" {
		return UpdateRegistrationResponse{}, fmt.Errorf("notificationhubs: UpdateRegistration: registration %q has no ETag (read it first, or use CreateOrUpdateRegistration)", reg.RegistrationID)
	}
	r, tid, cid, err := c.putRegistration(ctx, "UpdateRegistration", reg, ifMatch(reg.ETag))
	return UpdateRegistrationResponse{Registration: r, TrackingID: tid, CorrelationID: cid}, err
}

func (c *Client) putRegistration(ctx context.Context, op string, reg Registration, match string) (Registration, string, string, error) {
	if reg.RegistrationID == "" {
		return Registration{}, "", "", fmt.Errorf("notificationhubs: %s: RegistrationID is empty", op)
	}
	if err := reg.Validate(); err != nil {
		return Registration{}, "", "", err
	}
	req, err := c.newRequest(ctx, http.MethodPut, registrationPath(reg.RegistrationID), nil)
	if err != nil {
		return Registration{}, "", "", err
	}
	if match != "" {
		req.Raw().Header.Set("If-Match", match)
	}
	if err := setRegistrationBody(req, reg); err != nil {
		return Registration{}, "", "", err
	}
	resp, err := c.do(req, true, http.StatusOK, http.StatusCreated)
	if err != nil {
		return Registration{}, "", "", err
	}
	tid, cid := responseIDs(resp)
	r, err := entryRegistration(resp)
	return r, tid, cid, err
}

// GetRegistrationOptions contains the optional parameters of GetRegistration.
type GetRegistrationOptions struct {
	// for future expansion
}

// GetRegistrationResponse is the response of GetRegistration.
type GetRegistrationResponse struct {
	// Registration is the stored registration.
	Registration
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// GetRegistration reads one registration. A missing registration is a
// *ResponseError with StatusCode 404 (see also RegistrationExists).
func (c *Client) GetRegistration(ctx context.Context, registrationID string, options *GetRegistrationOptions) (GetRegistrationResponse, error) {
	if registrationID == "" {
		return GetRegistrationResponse{}, fmt.Errorf("notificationhubs: GetRegistration: registrationID is empty")
	}
	req, err := c.newRequest(ctx, http.MethodGet, registrationPath(registrationID), nil)
	if err != nil {
		return GetRegistrationResponse{}, err
	}
	resp, err := c.do(req, true, http.StatusOK)
	if err != nil {
		return GetRegistrationResponse{}, err
	}
	var out GetRegistrationResponse
	out.TrackingID, out.CorrelationID = responseIDs(resp)
	out.Registration, err = entryRegistration(resp)
	return out, err
}

// RegistrationExistsOptions contains the optional parameters of RegistrationExists.
type RegistrationExistsOptions struct {
	// for future expansion
}

// RegistrationExistsResponse is the response of RegistrationExists.
type RegistrationExistsResponse struct {
	// Exists is false when the service answered 404.
	Exists bool
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// RegistrationExists reports whether a registration exists (GET; 404 means false).
func (c *Client) RegistrationExists(ctx context.Context, registrationID string, options *RegistrationExistsOptions) (RegistrationExistsResponse, error) {
	got, err := c.GetRegistration(ctx, registrationID, nil)
	if errors.Is(err, ErrNotFound) {
		var re *ResponseError
		errors.As(err, &re)
		return RegistrationExistsResponse{Exists: false, TrackingID: re.TrackingID, CorrelationID: re.CorrelationID}, nil
	}
	if err != nil {
		return RegistrationExistsResponse{}, err
	}
	return RegistrationExistsResponse{Exists: true, TrackingID: got.TrackingID, CorrelationID: got.CorrelationID}, nil
}

// DeleteRegistrationOptions contains the optional parameters of DeleteRegistration.
type DeleteRegistrationOptions struct {
	// ETag, when set, deletes only if the stored version still matches
	// (If-Match "n"); otherwise the registration is deleted whatever its
	// version (If-Match *). A mismatch matches ErrPreconditionFailed.
	ETag *azcore.ETag
}

// DeleteRegistrationResponse is the response of DeleteRegistration.
type DeleteRegistrationResponse struct {
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// DeleteRegistration deletes a registration. A missing registration is a
// *ResponseError with StatusCode 404.
func (c *Client) DeleteRegistration(ctx context.Context, registrationID string, options *DeleteRegistrationOptions) (DeleteRegistrationResponse, error) {
	if registrationID == "" {
		return DeleteRegistrationResponse{}, fmt.Errorf("notificationhubs: DeleteRegistration: registrationID is empty")
	}
	req, err := c.newRequest(ctx, http.MethodDelete, registrationPath(registrationID), nil)
	if err != nil {
		return DeleteRegistrationResponse{}, err
	}
	match := "*"
	if options != nil && options.ETag != nil && *options.ETag != "" {
		match = ifMatch(*options.ETag)
	}
	req.Raw().Header.Set("If-Match", match)
	resp, err := c.do(req, true, http.StatusOK, http.StatusNoContent)
	if err != nil {
		return DeleteRegistrationResponse{}, err
	}
	_, _ = readAllClose(resp)
	var out DeleteRegistrationResponse
	out.TrackingID, out.CorrelationID = responseIDs(resp)
	return out, nil
}

// DeleteRegistrationsByChannelOptions contains the optional parameters of
// DeleteRegistrationsByChannel.
type DeleteRegistrationsByChannelOptions struct {
	// for future expansion
}

// DeleteRegistrationsByChannelResponse is the response of DeleteRegistrationsByChannel.
type DeleteRegistrationsByChannelResponse struct {
	// Deleted lists the ids of the deleted registrations.
	Deleted []string
}

// DeleteRegistrationsByChannel deletes every registration of a PNS handle
// (device token, channel URI, registration token…). Unlike the .NET SDK's
// loop it reads every page of the listing first, then deletes; a
// registration that disappears meanwhile (404) is not an error.
func (c *Client) DeleteRegistrationsByChannel(ctx context.Context, pnsHandle string, options *DeleteRegistrationsByChannelOptions) (DeleteRegistrationsByChannelResponse, error) {
	var ids []string
	pager := c.NewListRegistrationsByChannelPager(pnsHandle, &ListRegistrationsByChannelOptions{Top: 100})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return DeleteRegistrationsByChannelResponse{}, err
		}
		for _, r := range page.Registrations {
			ids = append(ids, r.RegistrationID)
		}
	}
	var out DeleteRegistrationsByChannelResponse
	for _, id := range ids {
		if _, err := c.DeleteRegistration(ctx, id, nil); err != nil && !errors.Is(err, ErrNotFound) {
			return out, err
		}
		out.Deleted = append(out.Deleted, id)
	}
	return out, nil
}
