package emulator

import (
	"slices"
	"strings"

	"github.com/nhkit/notificationhubs/internal/tagexpr"
)

// Sorted uint32 sets: the posting lists of the tag index.

// insertSorted adds v to the sorted set s (no duplicates).
func insertSorted(s []uint32, v uint32) []uint32 {
	if n := len(s); n == 0 || s[n-1] < v {
		return append(s, v)
	}
	i, found := slices.BinarySearch(s, v)
	if found {
		return s
	}
	return slices.Insert(s, i, v)
}

// removeSorted removes v from the sorted set s.
func removeSorted(s []uint32, v uint32) []uint32 {
	i, found := slices.BinarySearch(s, v)
	if !found {
		return s
	}
	return slices.Delete(s, i, i+1)
}

// intersect returns a ∩ b. When one side is much smaller it binary-searches
// the small side's members in the large one.
func intersect(a, b []uint32) []uint32 {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(a) == 0 {
		return nil
	}
	out := make([]uint32, 0, len(a))
	if len(b) > 16*len(a) {
		lo := 0
		for _, v := range a {
			i, found := slices.BinarySearch(b[lo:], v)
			lo += i
			if found {
				out = append(out, v)
			}
			if lo >= len(b) {
				break
			}
		}
		return out
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// union returns a ∪ b.
func union(a, b []uint32) []uint32 {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	out := make([]uint32, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			out = append(out, a[i])
			i++
		case a[i] > b[j]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// difference returns u \ x; x must be a subset-or-not sorted set.
func difference(u, x []uint32) []uint32 {
	if len(x) == 0 {
		return u
	}
	out := make([]uint32, 0, len(u)-min(len(u), len(x)))
	j := 0
	for _, v := range u {
		for j < len(x) && x[j] < v {
			j++
		}
		if j < len(x) && x[j] == v {
			continue
		}
		out = append(out, v)
	}
	return out
}

// postingFor returns the sorted ids of targets carrying tag.
func (h *hub) postingFor(tag string) []uint32 {
	p := h.postings[tag]
	if rest, ok := strings.CutPrefix(tag, "$InstallationId:{"); ok && strings.HasSuffix(rest, "}") {
		if in := h.installations[strings.TrimSuffix(rest, "}")]; in != nil {
			ids := slices.Clone(in.targets)
			slices.Sort(ids)
			p = union(p, ids)
		}
	}
	return p
}

// eval returns the members of the universe u (sorted) that match n. It
// narrows the universe through && so that selective operands make the
// rest cheap, and computes ! as a complement within the universe.
func (h *hub) eval(n tagexpr.Node, u []uint32) []uint32 {
	if len(u) == 0 {
		return nil
	}
	switch n := n.(type) {
	case *tagexpr.Tag:
		return intersect(h.postingFor(n.Name), u)
	case *tagexpr.Not:
		return difference(u, h.eval(n.X, u))
	case *tagexpr.And:
		// Evaluate positive tags first: they narrow the most.
		ops := slices.Clone(n.Operands)
		slices.SortStableFunc(ops, func(a, b tagexpr.Node) int {
			return rank(a) - rank(b)
		})
		cur := u
		for _, op := range ops {
			cur = h.eval(op, cur)
			if len(cur) == 0 {
				return nil
			}
		}
		return cur
	case *tagexpr.Or:
		var out []uint32
		for _, op := range n.Operands {
			out = union(out, h.eval(op, u))
		}
		return out
	}
	return nil
}

func rank(n tagexpr.Node) int {
	switch n.(type) {
	case *tagexpr.Tag:
		return 0
	case *tagexpr.And, *tagexpr.Or:
		return 1
	default:
		return 2
	}
}

// universe returns the sorted ids a send of platform p (pNone = template)
// can reach.
func (h *hub) universe(p platform) []uint32 {
	if p == pNone {
		return h.templates
	}
	return h.native[p]
}
