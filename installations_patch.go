package notificationhubs

// Installation JSON Patch: the typed operations (AddTag, ReplaceUserID, …)
// and PatchInstallation (docs/protocol.md, "JSON Patch").

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"

	"github.com/nhkit/notificationhubs/internal/tagexpr"
)

// PatchOp is a JSON Patch operation name.
type PatchOp string

// JSON Patch operations the service supports.
const (
	PatchOpAdd     PatchOp = "add"
	PatchOpRemove  PatchOp = "remove"
	PatchOpReplace PatchOp = "replace"
)

// InstallationPatch is one JSON Patch operation on an installation
// (docs/protocol.md, "JSON Patch"). Value is always a string on the wire; objects and
// arrays travel as JSON text inside it. Build patches with the
// constructors (AddTag, RemoveTag, ReplaceUserID, AddTemplate, …) rather
// than by hand.
type InstallationPatch struct {
	Op    PatchOp `json:"op"`
	Path  string  `json:"path"`
	Value *string `json:"value,omitempty"`
}

// escapePointer escapes a JSON Pointer segment (RFC 6901): ~ → ~0, / → ~1.
func escapePointer(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func newInstallationPatch(op PatchOp, path string, value *string) InstallationPatch {
	return InstallationPatch{Op: op, Path: path, Value: value}
}

func patchValue(s string) *string { return &s }

func patchJSONValue(v any) *string {
	b, err := json.Marshal(v)
	if err != nil {
		// Only maps of strings and plain structs reach here.
		panic("notificationhubs: encoding a patch value: " + err.Error())
	}
	return patchValue(string(b))
}

// AddTag adds one tag (add /tags; kept once if already present).
func AddTag(tag string) InstallationPatch {
	return newInstallationPatch(PatchOpAdd, "/tags", patchValue(tag))
}

// AddTags adds several tags at once (add /tags with a JSON array).
func AddTags(tags ...string) InstallationPatch {
	return newInstallationPatch(PatchOpAdd, "/tags", patchJSONValue(tags))
}

// RemoveTag removes one tag (remove /tags/{tag}).
func RemoveTag(tag string) InstallationPatch {
	return newInstallationPatch(PatchOpRemove, "/tags/"+escapePointer(tag), nil)
}

// ReplaceTags replaces every tag (replace /tags with a JSON array).
func ReplaceTags(tags ...string) InstallationPatch {
	return newInstallationPatch(PatchOpReplace, "/tags", patchJSONValue(tags))
}

// AddUserID sets the user id when none is set (add /userId).
func AddUserID(userID string) InstallationPatch {
	return newInstallationPatch(PatchOpAdd, "/userId", patchValue(userID))
}

// ReplaceUserID sets the user id (replace /userId).
func ReplaceUserID(userID string) InstallationPatch {
	return newInstallationPatch(PatchOpReplace, "/userId", patchValue(userID))
}

// RemoveUserID clears the user id (remove /userId).
func RemoveUserID() InstallationPatch { return newInstallationPatch(PatchOpRemove, "/userId", nil) }

// ReplacePushChannel sets a new PNS handle (replace /pushChannel); the
// service clears pushChannelExpired.
func ReplacePushChannel(pushChannel string) InstallationPatch {
	return newInstallationPatch(PatchOpReplace, "/pushChannel", patchValue(pushChannel))
}

// ReplaceBrowserPushChannel sets a new Web Push subscription (replace
// /pushChannel with the object as JSON text).
func ReplaceBrowserPushChannel(ch BrowserPushChannel) InstallationPatch {
	return newInstallationPatch(PatchOpReplace, "/pushChannel", patchJSONValue(ch))
}

// AddTemplate adds (or overwrites) a template (add /templates/{name},
// the template object as JSON text).
func AddTemplate(name string, t InstallationTemplate) InstallationPatch {
	return newInstallationPatch(PatchOpAdd, "/templates/"+escapePointer(name), patchJSONValue(t))
}

// ReplaceTemplate replaces a template (replace /templates/{name}).
func ReplaceTemplate(name string, t InstallationTemplate) InstallationPatch {
	return newInstallationPatch(PatchOpReplace, "/templates/"+escapePointer(name), patchJSONValue(t))
}

// RemoveTemplate removes a template (remove /templates/{name}).
func RemoveTemplate(name string) InstallationPatch {
	return newInstallationPatch(PatchOpRemove, "/templates/"+escapePointer(name), nil)
}

// ReplaceTemplateBody replaces one template's body (replace /templates/{name}/body).
func ReplaceTemplateBody(name, body string) InstallationPatch {
	return newInstallationPatch(PatchOpReplace, "/templates/"+escapePointer(name)+"/body", patchValue(body))
}

// AddTemplateTag adds a tag to one template (add /templates/{name}/tags).
func AddTemplateTag(name, tag string) InstallationPatch {
	return newInstallationPatch(PatchOpAdd, "/templates/"+escapePointer(name)+"/tags", patchValue(tag))
}

// RemoveTemplateTag removes a tag from one template (remove /templates/{name}/tags/{tag}).
func RemoveTemplateTag(name, tag string) InstallationPatch {
	return newInstallationPatch(PatchOpRemove, "/templates/"+escapePointer(name)+"/tags/"+escapePointer(tag), nil)
}

// PatchInstallationOptions contains the optional parameters of PatchInstallation.
type PatchInstallationOptions struct {
	// WaitUntilVisible makes the call read the installation back until a
	// read shows the effect of every patch whose effect the SDK can check
	// (tags, userId, pushChannel, whole templates), polling every
	// PollInterval until ctx is done.
	WaitUntilVisible bool
	// PollInterval is the wait between reads (default 1 s).
	PollInterval time.Duration
}

// PatchInstallationResponse is the response of PatchInstallation.
type PatchInstallationResponse struct {
	// TrackingID and CorrelationID identify the request in the service's logs.
	TrackingID, CorrelationID string
}

// PatchInstallation applies JSON Patch operations to an installation
// (PATCH, application/json-patch+json). The service answers 200 once the
// change is queued; see Installation on eventual consistency.
func (c *Client) PatchInstallation(ctx context.Context, installationID string, patches []InstallationPatch, options *PatchInstallationOptions) (PatchInstallationResponse, error) {
	if installationID == "" {
		return PatchInstallationResponse{}, fmt.Errorf("notificationhubs: PatchInstallation: installationID is empty")
	}
	if len(patches) == 0 {
		return PatchInstallationResponse{}, fmt.Errorf("notificationhubs: PatchInstallation %q: no patch operations", installationID)
	}
	for i, p := range patches {
		if err := p.validate(); err != nil {
			return PatchInstallationResponse{}, fmt.Errorf("notificationhubs: PatchInstallation %q: operation %d: %w", installationID, i, err)
		}
	}
	body, err := json.Marshal(patches)
	if err != nil {
		return PatchInstallationResponse{}, fmt.Errorf("notificationhubs: PatchInstallation %q: %w", installationID, err)
	}
	req, err := c.newRequest(ctx, http.MethodPatch, installationPath(installationID), nil)
	if err != nil {
		return PatchInstallationResponse{}, err
	}
	if err := req.SetBody(streaming.NopCloser(bytes.NewReader(body)), "application/json-patch+json"); err != nil {
		return PatchInstallationResponse{}, err
	}
	resp, err := c.do(req, false, http.StatusOK, http.StatusNoContent)
	if err != nil {
		return PatchInstallationResponse{}, err
	}
	_, _ = readAllClose(resp)
	var out PatchInstallationResponse
	out.TrackingID, out.CorrelationID = responseIDs(resp)
	if options != nil && options.WaitUntilVisible {
		_, err = c.GetInstallation(ctx, installationID, &GetInstallationOptions{
			PollInterval: options.PollInterval,
			WaitFor: func(got Installation) bool {
				for _, p := range patches {
					if !p.visibleIn(got) {
						return false
					}
				}
				return true
			},
		})
		if err != nil {
			return out, fmt.Errorf("notificationhubs: waiting for the patch of installation %q to become visible: %w", installationID, err)
		}
	}
	return out, nil
}

func (p InstallationPatch) validate() error {
	switch p.Op {
	case PatchOpAdd, PatchOpReplace:
		if p.Value == nil {
			return fmt.Errorf("%s %s needs a value", p.Op, p.Path)
		}
	case PatchOpRemove:
	default:
		return fmt.Errorf("unknown op %q (want add, remove or replace)", p.Op)
	}
	if !strings.HasPrefix(p.Path, "/") {
		return fmt.Errorf("path %q must start with /", p.Path)
	}
	if p.Path == "/tags" && p.Op != PatchOpRemove {
		for _, t := range p.tagValues() {
			if err := tagexpr.ValidateTag(t); err != nil {
				return err
			}
		}
	}
	return nil
}

// tagValues returns the tags of an add/replace on /tags: a JSON array or one tag.
func (p InstallationPatch) tagValues() []string {
	if p.Value == nil {
		return nil
	}
	v := strings.TrimSpace(*p.Value)
	var tags []string
	if strings.HasPrefix(v, "[") && json.Unmarshal([]byte(v), &tags) == nil {
		return tags
	}
	return []string{*p.Value}
}

func unescapePointer(s string) string {
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(s)
}

// visibleIn reports whether got shows the effect of p. Effects the SDK
// cannot check are reported as visible.
func (p InstallationPatch) visibleIn(got Installation) bool {
	segs := strings.Split(strings.TrimPrefix(p.Path, "/"), "/")
	for i := range segs {
		segs[i] = unescapePointer(segs[i])
	}
	hasTag := func(t string) bool {
		return slices.ContainsFunc(got.Tags, func(g string) bool { return strings.EqualFold(g, t) })
	}
	switch {
	case len(segs) == 1 && segs[0] == "tags":
		switch p.Op {
		case PatchOpAdd:
			for _, t := range p.tagValues() {
				if !hasTag(t) {
					return false
				}
			}
			return true
		case PatchOpReplace:
			return sameTagSet(got.Tags, p.tagValues())
		case PatchOpRemove:
			return len(got.Tags) == 0
		}
	case len(segs) == 2 && segs[0] == "tags" && p.Op == PatchOpRemove:
		return !hasTag(segs[1])
	case len(segs) == 1 && segs[0] == "userId":
		if p.Op == PatchOpRemove {
			return got.UserID == ""
		}
		return got.UserID == *p.Value
	case len(segs) == 1 && segs[0] == "pushChannel" && p.Op != PatchOpRemove:
		var b BrowserPushChannel
		if got.BrowserPushChannel != nil && json.Unmarshal([]byte(*p.Value), &b) == nil {
			return *got.BrowserPushChannel == b
		}
		return strings.EqualFold(got.PushChannel, *p.Value)
	case len(segs) == 2 && segs[0] == "templates":
		gt, ok := got.Templates[segs[1]]
		if p.Op == PatchOpRemove {
			return !ok
		}
		var want InstallationTemplate
		if json.Unmarshal([]byte(*p.Value), &want) != nil {
			return ok
		}
		return ok && gt.Body == want.Body
	case len(segs) == 3 && segs[0] == "templates" && segs[2] == "body" && p.Op != PatchOpRemove:
		gt, ok := got.Templates[segs[1]]
		return ok && gt.Body == *p.Value
	}
	return true
}
