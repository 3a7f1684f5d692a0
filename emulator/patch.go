package emulator

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// patchOp is one JSON Patch operation of an installation PATCH
// (docs/protocol.md, "JSON Patch"): op add, remove or replace; value is usually a string
// that may itself hold JSON.
type patchOp struct {
	Op    string
	Path  []string // decoded JSON Pointer segments
	Value json.RawMessage
}

const maxPatchOps = 1000

// parsePatch decodes a JSON Patch document.
func parsePatch(body []byte) ([]patchOp, error) {
	var raw []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, badRequest("The request body is not a JSON Patch array: " + err.Error())
	}
	if len(raw) > maxPatchOps {
		return nil, badRequest("The JSON Patch has too many operations.")
	}
	ops := make([]patchOp, 0, len(raw))
	for i, r := range raw {
		op := strings.ToLower(strings.TrimSpace(r.Op))
		switch op {
		case "add", "remove", "replace":
		default:
			return nil, badRequest("Operation " + itoa(i) + " of the JSON Patch has an unsupported op '" + r.Op + "'; use add, remove or replace.")
		}
		if !strings.HasPrefix(r.Path, "/") || len(r.Path) < 2 {
			return nil, badRequest("Operation " + itoa(i) + " of the JSON Patch has an invalid path '" + r.Path + "'.")
		}
		var segs []string
		for seg := range strings.SplitSeq(r.Path[1:], "/") {
			seg = strings.ReplaceAll(strings.ReplaceAll(seg, "~1", "/"), "~0", "~")
			segs = append(segs, seg)
		}
		if op != "remove" && isNull(r.Value) {
			return nil, badRequest("Operation " + itoa(i) + " of the JSON Patch (" + op + " " + r.Path + ") needs a value.")
		}
		ops = append(ops, patchOp{Op: op, Path: segs, Value: r.Value})
	}
	return ops, nil
}

func itoa(i int) string { return strconv.Itoa(i) }

func (op patchOp) invalid() error {
	return badRequest("The JSON Patch operation " + op.Op + " /" + strings.Join(op.Path, "/") + " is not supported.")
}

// apply applies one operation to the installation.
func (in *installation) apply(op patchOp) error {
	p := op.Path
	head := strings.ToLower(p[0])
	switch head {
	case "pushchannel":
		if len(p) != 1 || op.Op == "remove" {
			return op.invalid()
		}
		return in.setPushChannel(op.Value, true)
	case "userid":
		if len(p) != 1 {
			return op.invalid()
		}
		if op.Op == "remove" {
			in.userID = ""
			return nil
		}
		in.userID, _ = jsonText(op.Value)
		return nil
	case "user", "appid", "advertisingid", "pushchannelexpired":
		return nil // legacy or read-only: accepted and ignored
	case "tags":
		t, err := patchTags(in.tags, op, p[1:])
		in.tags = t
		return err
	case "pushvariables":
		return in.patchPushVariables(op, p[1:])
	case "templates":
		return in.patchTemplates(op, p[1:])
	case "secondarytiles":
		return nil // stored as given on PUT; not patched
	}
	return op.invalid()
}

// patchTags applies op to a tag list; rest is the path below "tags".
func patchTags(tags []string, op patchOp, rest []string) ([]string, error) {
	switch {
	case len(rest) == 0 && op.Op == "remove":
		return nil, nil
	case len(rest) == 0:
		add, err := parseStringList(op.Value)
		if err != nil {
			return tags, badRequest("The tags value of the JSON Patch is invalid: " + err.Error())
		}
		if op.Op == "replace" {
			tags = nil
		}
		return appendUnique(tags, add...), nil
	case len(rest) == 1 && op.Op == "remove":
		return slices.DeleteFunc(tags, func(t string) bool { return t == rest[0] }), nil
	case len(rest) == 1:
		return appendUnique(tags, rest[0]), nil
	}
	return tags, op.invalid()
}

func (in *installation) patchPushVariables(op patchOp, rest []string) error {
	switch {
	case len(rest) == 0 && op.Op == "remove":
		in.pushVariables = nil
	case len(rest) == 0:
		l, err := parseStringMap(op.Value)
		if err != nil {
			return badRequest("The pushVariables value of the JSON Patch is invalid: " + err.Error())
		}
		in.pushVariables = map[string]string{}
		for _, p := range l {
			in.pushVariables[p.name] = p.value
		}
	case len(rest) == 1 && op.Op == "remove":
		delete(in.pushVariables, rest[0])
	case len(rest) == 1:
		if in.pushVariables == nil {
			in.pushVariables = map[string]string{}
		}
		in.pushVariables[rest[0]], _ = jsonText(op.Value)
	default:
		return op.invalid()
	}
	if len(in.pushVariables) == 0 {
		in.pushVariables = nil
	}
	return nil
}

func (in *installation) patchTemplates(op patchOp, rest []string) error {
	if len(rest) == 0 {
		if op.Op == "remove" {
			in.templates = nil
			return nil
		}
		ts, err := parseTemplates(op.Value)
		if err != nil {
			return err
		}
		in.templates = ts
		return nil
	}
	name := rest[0]
	idx := slices.IndexFunc(in.templates, func(t instTemplate) bool { return t.name == name })
	if len(rest) == 1 {
		if op.Op == "remove" {
			if idx >= 0 {
				in.templates = slices.Delete(in.templates, idx, idx+1)
			}
			return nil
		}
		t, err := parseTemplate(name, op.Value)
		if err != nil {
			return err
		}
		if idx >= 0 {
			in.templates[idx] = t
		} else {
			in.templates = append(in.templates, t)
		}
		return nil
	}
	if idx < 0 {
		if op.Op == "remove" {
			return nil
		}
		in.templates = append(in.templates, instTemplate{name: name})
		idx = len(in.templates) - 1
	}
	t := &in.templates[idx]
	field := strings.ToLower(rest[1])
	switch {
	case field == "body" && len(rest) == 2:
		if op.Op == "remove" {
			t.body = ""
		} else {
			t.body, _ = jsonText(op.Value)
		}
	case field == "expiry" && len(rest) == 2:
		if op.Op == "remove" {
			t.expiry = ""
		} else {
			t.expiry, _ = jsonText(op.Value)
		}
	case field == "headers" && len(rest) == 2:
		if op.Op == "remove" {
			t.headers = nil
			return nil
		}
		h, err := parseStringMap(op.Value)
		if err != nil {
			return badRequest("The headers value of the JSON Patch is invalid: " + err.Error())
		}
		t.headers = h
	case field == "headers" && len(rest) == 3:
		t.headers = slices.DeleteFunc(t.headers, func(h kv) bool { return strings.EqualFold(h.name, rest[2]) })
		if op.Op != "remove" {
			v, _ := jsonText(op.Value)
			t.headers = append(t.headers, kv{rest[2], v})
		}
	case field == "tags":
		tags, err := patchTags(t.tags, op, rest[2:])
		t.tags = tags
		return err
	default:
		return op.invalid()
	}
	return nil
}
