// The report's CPU profile summaries: where the SDK client's time goes.

package bench

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Profile is one CPU profile's `go tool pprof -top` text and, when
// available, its `go tool pprof -top -cum` text.
type Profile struct {
	Label string
	Top   string
	Cum   string
}

// cumulative returns each function's cum% in a `go tool pprof -top -cum`
// text.
func cumulative(text string) map[string]float64 {
	out := map[string]float64{}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasSuffix(f[4], "%") {
			continue
		}
		if pct, err := strconv.ParseFloat(strings.TrimSuffix(f[4], "%"), 64); err == nil {
			out[strings.Join(f[5:], " ")] = pct
		}
	}
	return out
}

// Functions of the SDK client's profile that ProfileParts reports.
const (
	fnSend      = "github.com/nhkit/notificationhubs.(*Client).SendNotification"
	fnRetry     = "github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime.(*retryPolicy).Do"
	fnRoundTrip = "net/http.(*Transport).RoundTrip"
	fnSanitize  = "github.com/Azure/azure-sdk-for-go/sdk/azcore/internal/sanitizer.(*Sanitizer).GetSanitizedURL"
	fnValidate  = "github.com/nhkit/notificationhubs.Notification.Validate"
	fnBuild     = "github.com/nhkit/notificationhubs.(*Client).newSendRequest"
	fnTagexpr   = "github.com/nhkit/notificationhubs/internal/tagexpr.Parse"
	fnReadLoop  = "net/http.(*persistConn).readLoop"
	fnWriteLoop = "net/http.(*persistConn).writeLoop"
	fnGCMark    = "runtime.gcBgMarkWorker"
	fnGCSweep   = "runtime.bgsweep"
	fnMalloc    = "runtime.mallocgc"
)

// ProfileParts says, from a `go tool pprof -top -cum` text of the SDK
// client, which parts of the program the CPU time went to (percent of
// all samples, callees included); "" when the text has no SendNotification.
func ProfileParts(cum string) string {
	c := cumulative(cum)
	if _, ok := c[fnSend]; !ok {
		return ""
	}
	return fmt.Sprintf("SendNotification %.0f %% (in it: azcore's policies without the transport %.0f %%, of which the retry log line's sanitized URL %.0f %%; "+
		"net/http's RoundTrip %.0f %%; validation %.1f %%; building the request %.1f %%; tag-expression parsing %.1f %%), "+
		"net/http's connection goroutines (TLS reads and writes) %.0f %%, background GC %.0f %%, allocation wherever it happens %.0f %%",
		c[fnSend], c[fnRetry]-c[fnRoundTrip], c[fnSanitize], c[fnRoundTrip], c[fnValidate], c[fnBuild], c[fnTagexpr],
		c[fnReadLoop]+c[fnWriteLoop], c[fnGCMark]+c[fnGCSweep], c[fnMalloc])
}

// profileGroups sort a profile's functions into what they do, by the
// prefix of their name; the first match wins.
var profileGroups = []struct {
	name     string
	prefixes []string
}{
	{"system calls (socket reads and writes)", []string{"internal/runtime/syscall", "syscall.", "internal/poll."}},
	{"allocation and GC", []string{"runtime.mallocgc", "runtime.nextFreeFast", "runtime.memclrNoHeapPointers", "runtime.(*mspan)",
		"runtime.(*mcache)", "runtime.(*mcentral)", "runtime.(*mheap)", "runtime.heapBits", "runtime.scanobject", "runtime.greyobject",
		"runtime.findObject", "runtime.gcDrain", "runtime.markBits", "runtime.(*gcWork)", "runtime.scanblock", "runtime.scanstack",
		"runtime.scanframeworker", "runtime.sweepone", "runtime.(*sweepLocked)", "runtime.typePointers", "runtime.(*gcBits)",
		"runtime.wbBuf", "runtime.bulkBarrierPreWrite", "runtime.gcWriteBarrier", "runtime.newobject", "runtime.makeslice",
		"runtime.growslice", "runtime.spanOf", "runtime.tryDeferToSpanScan", "runtime.makeSpanClass", "runtime.spanClass",
		"runtime.(*spanInlineMarkBits)", "runtime.deductAssistCredit", "runtime.gcAssistAlloc", "runtime.gcmarknewobject"}},
	{"scheduler and goroutine hand-offs", []string{"runtime.futex", "runtime.usleep", "runtime.osyield", "runtime.findRunnable",
		"runtime.schedule", "runtime.runqgrab", "runtime.lock", "runtime.unlock", "runtime.casgstatus", "runtime.selectgo",
		"runtime.chansend", "runtime.chanrecv", "runtime.ready", "runtime.netpoll", "runtime.stealWork", "runtime.notesleep",
		"runtime.notewakeup", "runtime.sellock", "runtime.selunlock", "runtime.gopark", "runtime.goready", "runtime.park_m",
		"runtime.execute", "runtime.mcall", "runtime.gogo", "runtime.nanotime", "runtime.pMask", "runtime.acquireSudog",
		"runtime.releaseSudog", "runtime.send", "runtime.recv", "runtime.exitsyscall", "runtime.entersyscall", "runtime.reentersyscall",
		"runtime.wakep", "runtime.startm", "runtime.stopm", "runtime.resetspinning", "runtime.checkTimers", "runtime.asyncPreempt",
		"runtime.(*timer)", "runtime.(*timers)", "runtime.(*mLockProfile)", "time.runtimeNow", "time.now", "internal/runtime/atomic."}},
	{"TLS (crypto)", []string{"crypto/", "vendor/golang.org/x/crypto/"}},
	{"net/http, bufio, textproto", []string{"net/http.", "net/textproto.", "bufio.", "net/url.", "net."}},
	{"azcore pipeline", []string{"github.com/Azure/azure-sdk-for-go/"}},
	{"the SDK's own code", []string{"github.com/nhkit/notificationhubs"}},
	{"encoding/json", []string{"encoding/json."}},
	{"maps, strings, memory moves", []string{"internal/runtime/maps.", "runtime.map", "aeshash", "memeqbody", "runtime.memmove",
		"runtime.memequal", "strings.", "internal/stringslite.", "internal/bytealg.", "indexbytebody", "bytes.", "runtime.cmpstring",
		"runtime.concatstring", "runtime.slicebytetostring", "strconv.", "internal/strconv.", "unicode/"}},
}

// ProfileShares sums the flat percentages of a `go tool pprof -top`
// text by profileGroups (the rest under "other"), and returns the groups
// in order of size with the share of all samples that the listed
// functions hold.
func ProfileShares(top string) (groups []ProfileShare, listed float64) {
	sums := map[string]float64{}
	for _, line := range strings.Split(top, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasSuffix(f[1], "%") || !strings.HasSuffix(f[4], "%") {
			continue
		}
		pct, err := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
		if err != nil {
			continue
		}
		name := strings.Join(f[5:], " ")
		group := "other"
	find:
		for _, g := range profileGroups {
			for _, p := range g.prefixes {
				if strings.HasPrefix(name, p) {
					group = g.name
					break find
				}
			}
		}
		sums[group] += pct
		listed += pct
	}
	for name, pct := range sums {
		groups = append(groups, ProfileShare{Name: name, Percent: pct})
	}
	sort.Slice(groups, func(i, j int) bool {
		if groups[i].Percent != groups[j].Percent {
			return groups[i].Percent > groups[j].Percent
		}
		return groups[i].Name < groups[j].Name
	})
	return groups, listed
}

// ProfileShare is one group's share of a CPU profile, in percent of all
// samples.
type ProfileShare struct {
	Name    string
	Percent float64
}
