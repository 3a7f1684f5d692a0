package notificationhubs

import "sync/atomic"

// Bounds of a client's cache of valid tag expressions (exprCache).
const (
	exprCacheSlots   = 64
	maxCachedExprLen = 512 // bytes; longer expressions are parsed every time
)

// exprCache remembers tag expressions that tagexpr.Parse accepted, so
// that a client sending again and again to the same expressions does not
// parse them for every send. It is a direct-mapped table of
// exprCacheSlots entries, indexed by a hash of the expression: bounded in
// size, safe for concurrent use without locks, and forgetful (a new
// expression replaces the one in its slot). Only valid expressions are
// stored, so errors and their text are those of the parser.
type exprCache struct {
	slots [exprCacheSlots]atomic.Pointer[cachedExpr]
}

// cachedExpr is a valid expression and its header value, shared
// read-only by the requests that send to it.
type cachedExpr struct {
	expr   string
	header []string
}

func (c *exprCache) slot(expr string) *atomic.Pointer[cachedExpr] {
	// FNV-1a: a collision costs only a parse.
	h := uint32(2166136261)
	for i := 0; i < len(expr); i++ {
		h ^= uint32(expr[i])
		h *= 16777619
	}
	return &c.slots[h%exprCacheSlots]
}

// header returns the header value of expr if it was stored, else nil.
func (c *exprCache) header(expr string) []string {
	if p := c.slot(expr).Load(); p != nil && p.expr == expr {
		return p.header
	}
	return nil
}

// add stores expr, which the parser accepted, and returns its header
// value.
func (c *exprCache) add(expr string) []string {
	e := &cachedExpr{expr: expr, header: []string{expr}}
	if len(expr) <= maxCachedExprLen {
		c.slot(expr).Store(e)
	}
	return e.header
}
