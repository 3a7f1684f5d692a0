package notificationhubs

// Registration listings: azcore pagers over the service's Atom feeds.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/nhkit/notificationhubs/internal/atom"
	"github.com/nhkit/notificationhubs/internal/tagexpr"
)

// ListRegistrationsOptions contains the optional parameters of NewListRegistrationsPager.
type ListRegistrationsOptions struct {
	// Top is the page size (the service allows at most 100); 0 leaves it to the service.
	Top int
	// ContinuationToken resumes a listing from a page's ContinuationToken.
	ContinuationToken *string
}

// ListRegistrationsByTagOptions contains the optional parameters of
// NewListRegistrationsByTagPager.
type ListRegistrationsByTagOptions struct {
	// Top is the page size (the service allows at most 100); 0 leaves it to the service.
	Top int
	// ContinuationToken resumes a listing from a page's ContinuationToken.
	ContinuationToken *string
}

// ListRegistrationsByChannelOptions contains the optional parameters of
// NewListRegistrationsByChannelPager.
type ListRegistrationsByChannelOptions struct {
	// Top is the page size (the service allows at most 100); 0 leaves it to the service.
	Top int
	// ContinuationToken resumes a listing from a page's ContinuationToken.
	ContinuationToken *string
}

// ListRegistrationsResponse is one page of a registration listing.
type ListRegistrationsResponse struct {
	// Registrations are the page's registrations.
	Registrations []Registration
	// ContinuationToken, when not nil, resumes the listing after this page
	// (pass it in the options of a new pager); nil on the last page.
	ContinuationToken *string
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// NewListRegistrationsPager lists every registration in the hub, page by
// page (GET registrations). Installations appear here too, as the
// registrations the service derives from them (tagged $InstallationId:{…}).
func (c *Client) NewListRegistrationsPager(options *ListRegistrationsOptions) *runtime.Pager[ListRegistrationsResponse] {
	var o ListRegistrationsOptions
	if options != nil {
		o = *options
	}
	return c.registrationPager("registrations", "", o.Top, o.ContinuationToken, nil)
}

// NewListRegistrationsByTagPager lists the registrations that carry tag
// (GET tags/{tag}/registrations). The tag is percent-encoded as a path
// segment, so tags with # or : work. An unused tag gives no registrations.
func (c *Client) NewListRegistrationsByTagPager(tag string, options *ListRegistrationsByTagOptions) *runtime.Pager[ListRegistrationsResponse] {
	var o ListRegistrationsByTagOptions
	if options != nil {
		o = *options
	}
	var early error
	if tag == "" {
		early = fmt.Errorf("notificationhubs: NewListRegistrationsByTagPager: tag is empty")
	} else if err := tagexpr.ValidateTag(tag); err != nil {
		early = fmt.Errorf("notificationhubs: NewListRegistrationsByTagPager: %w", err)
	}
	return c.registrationPager("tags/"+url.PathEscape(tag)+"/registrations", "", o.Top, o.ContinuationToken, early)
}

// NewListRegistrationsByChannelPager lists the registrations of one PNS
// handle ($filter=ChannelUri eq '…', which the service matches against the
// handle of every platform, exactly as stored).
//
// The service stores APNs device tokens in upper-case hex and matches the
// filter as written, so a handle that is an APNs device token (16 or more
// hex digits, an even number of them) is upper-cased: iOS code usually
// formats tokens in lower case. Other handles are sent as given.
func (c *Client) NewListRegistrationsByChannelPager(pnsHandle string, options *ListRegistrationsByChannelOptions) *runtime.Pager[ListRegistrationsResponse] {
	var o ListRegistrationsByChannelOptions
	if options != nil {
		o = *options
	}
	var early error
	if pnsHandle == "" {
		early = fmt.Errorf("notificationhubs: NewListRegistrationsByChannelPager: pnsHandle is empty")
	}
	if isAPNsToken(pnsHandle) {
		pnsHandle = strings.ToUpper(pnsHandle)
	}
	filter := "ChannelUri eq '" + strings.ReplaceAll(pnsHandle, "'", "''") + "'"
	return c.registrationPager("registrations", filter, o.Top, o.ContinuationToken, early)
}

// isAPNsToken reports whether a PNS handle is an APNs device token: an
// even number, at least 16, of hex digits. (Apple's tokens are 32 bytes
// today; handles of the other platforms are never all hex: FCM, ADM and
// Xiaomi ids carry other letters and punctuation, channel URIs and
// browser endpoints are URLs, and Baidu ids, being digits, are the same
// upper-cased.)
func isAPNsToken(h string) bool {
	if len(h) < 16 || len(h)%2 != 0 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func (c *Client) registrationPager(p, filter string, top int, start *string, early error) *runtime.Pager[ListRegistrationsResponse] {
	return runtime.NewPager(runtime.PagingHandler[ListRegistrationsResponse]{
		More: func(page ListRegistrationsResponse) bool {
			return page.ContinuationToken != nil && *page.ContinuationToken != ""
		},
		Fetcher: func(ctx context.Context, prev *ListRegistrationsResponse) (ListRegistrationsResponse, error) {
			if early != nil {
				return ListRegistrationsResponse{}, early
			}
			token := start
			if prev != nil {
				token = prev.ContinuationToken
			}
			return c.listRegistrationsPage(ctx, p, filter, top, token)
		},
	})
}

func (c *Client) listRegistrationsPage(ctx context.Context, p, filter string, top int, token *string) (ListRegistrationsResponse, error) {
	if top < 0 || top > 100 {
		return ListRegistrationsResponse{}, fmt.Errorf("notificationhubs: listing registrations: Top must be between 1 and 100, not %d", top)
	}
	req, err := c.newRequest(ctx, http.MethodGet, p, nil)
	if err != nil {
		return ListRegistrationsResponse{}, err
	}
	// The query is written by hand, in the order and form the .NET SDK uses
	// ($filter, $top, continuationtoken), because the continuation token
	// arrives already URL-encoded and must not be encoded again.
	u := req.Raw().URL
	q := u.RawQuery
	add := func(kv string) {
		if q != "" {
			q += "&"
		}
		q += kv
	}
	if filter != "" {
		add("$filter=" + url.QueryEscape(filter))
	}
	if top > 0 {
		add("$top=" + strconv.Itoa(top))
	}
	if token != nil && *token != "" {
		add("continuationtoken=" + escapeContinuationToken(*token))
	}
	u.RawQuery = q
	resp, err := c.do(req, true, http.StatusOK)
	if err != nil {
		return ListRegistrationsResponse{}, err
	}
	var out ListRegistrationsResponse
	out.TrackingID, out.CorrelationID = responseIDs(resp)
	if t := resp.Header.Get("x-ms-continuationtoken"); t != "" {
		out.ContinuationToken = &t
	}
	body, err := readAllClose(resp)
	if err != nil {
		return ListRegistrationsResponse{}, err
	}
	feed, err := atom.ParseFeed(body)
	if err != nil {
		return ListRegistrationsResponse{}, fmt.Errorf("notificationhubs: decoding the registration feed of GET %s: %w", u.Path, err)
	}
	for i, e := range feed.Entries {
		a, err := atom.UnmarshalRegistration(e.Content)
		if err != nil {
			return ListRegistrationsResponse{}, fmt.Errorf("notificationhubs: decoding entry %d of the registration feed of GET %s: %w", i, u.Path, err)
		}
		r, err := registrationFromAtom(a)
		if err != nil {
			return ListRegistrationsResponse{}, err
		}
		if r.ETag == "" && e.ETag != "" {
			r.ETag = weakETag(e.ETag)
		}
		if r.RegistrationID == "" {
			r.RegistrationID = e.Title
		}
		out.Registrations = append(out.Registrations, r)
	}
	return out, nil
}

// escapeContinuationToken prepares a continuation token for the query.
// The service sends tokens already URL-encoded (e.g. MzEobik7Mg%3D%3D) and
// expects them back as they came, as the .NET SDK sends them; so valid
// %XX escapes and characters that are safe in a query value are kept, and
// only what would change the query's meaning is escaped (&, +, #, space,
// a % that starts no escape, non-ASCII, …).
func escapeContinuationToken(tok string) string {
	const hexDigits = "0123456789ABCDEF"
	isHex := func(b byte) bool {
		return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
	}
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		ch := tok[i]
		switch {
		case 'A' <= ch && ch <= 'Z', 'a' <= ch && ch <= 'z', '0' <= ch && ch <= '9',
			strings.IndexByte("-._~!$'()*,;:@/?=", ch) >= 0:
			b.WriteByte(ch)
		case ch == '%' && i+2 < len(tok) && isHex(tok[i+1]) && isHex(tok[i+2]):
			b.WriteByte(ch)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[ch>>4])
			b.WriteByte(hexDigits[ch&15])
		}
	}
	return b.String()
}
