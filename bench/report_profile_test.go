package bench

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pprofTop is the shape of `go tool pprof -top` output.
const pprofTop = `File: benchclient
Type: cpu
Duration: 2s, Total samples = 2.20s (110.00%)
Showing nodes accounting for 1.50s, 68.18% of 2.20s total
Dropped 140 nodes (cum <= 0.01s)
Showing top 6 nodes out of 205
      flat  flat%   sum%        cum   cum%
     0.30s 13.64% 13.64%      0.30s 13.64%  internal/runtime/syscall/linux.Syscall6
     0.20s  9.09% 22.73%      0.20s  9.09%  runtime.futex
     0.06s  2.73% 25.45%      0.06s  2.73%  runtime.nextFreeFast (inline)
     0.05s  2.27% 27.73%      0.38s 17.27%  github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime.(*retryPolicy).Do
     0.02s  0.91% 28.64%      0.77s 35.00%  github.com/nhkit/notificationhubs.(*Client).SendNotification
     0.01s  0.45% 29.09%      0.01s  0.45%  some/other.Func
`

func TestProfileShares(t *testing.T) {
	groups, listed := ProfileShares(pprofTop)
	want := []ProfileShare{
		{"system calls (socket reads and writes)", 13.64},
		{"scheduler and goroutine hand-offs", 9.09},
		{"allocation and GC", 2.73},
		{"azcore pipeline", 2.27},
		{"the SDK's own code", 0.91},
		{"other", 0.45},
	}
	if diff := cmp.Diff(want, groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if got := int(listed*100 + 0.5); got != 2909 {
		t.Errorf("listed = %v, want 29.09", listed)
	}
	if g, l := ProfileShares("no profile here"); g != nil || l != 0 {
		t.Errorf("ProfileShares of no profile = %v, %v; want nil, 0", g, l)
	}
}

func TestWriteReportProfiles(t *testing.T) {
	var b strings.Builder
	err := WriteReport(&b, ReportInput{
		Machine:  Machine{CPUs: 2, Command: "bash bench/run.sh"},
		Profiles: []Profile{{Label: "concurrency 1", Top: pprofTop}, {Label: "concurrency 64", Top: ""}},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := b.String()
	want := "- **Where the SDK client's CPU went, concurrency 1** (FCM v1; own time of the functions `go tool pprof -top` lists, 29 % of the samples): system calls (socket reads and writes) 14 %, scheduler and goroutine hand-offs 9 %, allocation and GC 3 %, azcore pipeline 2 %, the SDK's own code 1 %, other 0 %.\n"
	if !strings.Contains(out, want) {
		t.Errorf("report lacks %q:\n%s", want, out)
	}
	if strings.Contains(out, "concurrency 64**") {
		t.Errorf("report has a line for an empty profile:\n%s", out)
	}
	if strings.Contains(out, "10 idle connections") {
		t.Errorf("report still blames the idle-connection limit:\n%s", out)
	}
}

func TestProfileParts(t *testing.T) {
	cum := `Showing nodes accounting for 2.11s, 54.52% of 3.87s total
      flat  flat%   sum%        cum   cum%
         0     0%     0%      2.00s 51.68%  net/http.(*persistConn).readLoop
     0.01s  0.26%  0.26%      1.41s 36.43%  github.com/nhkit/notificationhubs.(*Client).SendNotification
     0.01s  0.26%  2.58%      1.11s 28.68%  github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime.(*retryPolicy).Do
         0     0% 30.49%      0.51s 13.18%  net/http.(*Transport).RoundTrip
         0     0% 35.66%      0.14s  3.62%  github.com/Azure/azure-sdk-for-go/sdk/azcore/internal/sanitizer.(*Sanitizer).GetSanitizedURL
         0     0% 41.09%      0.08s  2.07%  github.com/nhkit/notificationhubs.Notification.Validate
         0     0% 41.09%      0.19s  4.91%  runtime.gcBgMarkWorker
`
	want := "SendNotification 36 % (in it: azcore's policies without the transport 16 %, of which the retry log line's sanitized URL 4 %; " +
		"net/http's RoundTrip 13 %; validation 2.1 %; building the request 0.0 %; tag-expression parsing 0.0 %), " +
		"net/http's connection goroutines (TLS reads and writes) 52 %, background GC 5 %, allocation wherever it happens 0 %"
	if got := ProfileParts(cum); got != want {
		t.Errorf("ProfileParts =\n%q\nwant\n%q", got, want)
	}
	if got := ProfileParts(strings.ReplaceAll(cum, "SendNotification", "Other")); got != "" {
		t.Errorf("ProfileParts of a profile without SendNotification = %q, want \"\"", got)
	}
}
