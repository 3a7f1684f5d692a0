package notificationhubs

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/nhkit/notificationhubs/internal/atom"
)

// ---- fakeHub: a small in-memory hub behind httptest, used by the
// migration, paging and example tests. It speaks the wire formats through
// internal/atom and keeps registrations in listing order.

// fhReporter receives the fake hub's own failures (a *testing.T, or a
// logger in examples).
type fhReporter interface {
	Errorf(format string, args ...any)
}

type fakeHub struct {
	t      fhReporter
	srv    *httptest.Server
	client *Client

	mu        sync.Mutex
	order     []string
	regs      map[string]Registration
	nextID    int
	mutations []string // "METHOD path" of every write

	installs     map[string]Installation
	installLag   int // reads that still miss the latest installation write
	prevInstalls map[string]*Installation

	afterList func() // called (locked) after each listing page

	telemetryMisses int // 404s before telemetry is ready
	jobPolls        int
	job             *Job
}

func newFakeHub(t testing.TB) *fakeHub {
	h := startFakeHub(t)
	t.Cleanup(h.srv.Close)
	h.client = rpClient(t, h.srv.URL, "myhub", "2020-06")
	return h
}

// startFakeHub starts a fake hub named myhub on loopback; Close its srv.
func startFakeHub(r fhReporter) *fakeHub {
	h := &fakeHub{t: r, regs: map[string]Registration{}, installs: map[string]Installation{}, prevInstalls: map[string]*Installation{}}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	return h
}

// add stores r directly (no request) and returns its id.
func (h *fakeHub) add(r Registration) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.store(r)
}

func (h *fakeHub) store(r Registration) string {
	if r.RegistrationID == "" {
		h.nextID++
		r.RegistrationID = fmt.Sprintf("%d-%d-1", 1000+h.nextID, 7000+h.nextID)
	}
	old, ok := h.regs[r.RegistrationID]
	if !ok {
		h.order = append(h.order, r.RegistrationID)
		r.ETag = "1"
	} else {
		n, _ := strconv.Atoi(string(old.ETag))
		r.ETag = azcore.ETag(strconv.Itoa(n + 1))
	}
	r.ExpirationTime = time.Date(9999, 12, 31, 23, 59, 59, 999000000, time.UTC)
	if r.Platform == RegistrationPlatformApple {
		r.DeviceToken = strings.ToUpper(r.DeviceToken)
	}
	h.regs[r.RegistrationID] = r
	return r.RegistrationID
}

func (h *fakeHub) get(id string) (Registration, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r, ok := h.regs[id]
	return r, ok
}

func (h *fakeHub) count(f func(Registration) bool) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.regs {
		if f(r) {
			n++
		}
	}
	return n
}

func (h *fakeHub) setLag(n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.installLag = n
}

func (h *fakeHub) lag() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.installLag
}

func (h *fakeHub) writes() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.mutations...)
}

func fhEntry(t fhReporter, r Registration) []byte {
	content, err := atom.MarshalRegistration(r.toAtom())
	if err != nil {
		t.Errorf("fake hub: %v", err)
	}
	return atom.MarshalEntry(atom.Entry{ID: "https://fake/myhub/registrations/" + r.RegistrationID, Title: r.RegistrationID, ETag: string(r.ETag), Content: content})
}

func fhFeed(t fhReporter, regs []Registration) []byte {
	f := atom.Feed{Title: "Registrations", ID: "https://fake/myhub/registrations"}
	for _, r := range regs {
		content, err := atom.MarshalRegistration(r.toAtom())
		if err != nil {
			t.Errorf("fake hub: %v", err)
		}
		f.Entries = append(f.Entries, atom.Entry{ID: "https://fake/myhub/registrations/" + r.RegistrationID, Title: r.RegistrationID, ETag: string(r.ETag), Content: content})
	}
	return atom.MarshalFeed(f)
}

func fhError(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	w.Write(atom.MarshalError(atom.ErrorBody{Code: status, Detail: detail + ".TrackingId:fake_G1,TimeStamp:1/1/2024 12:00:00 AM"}))
}

func (h *fakeHub) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Method != http.MethodGet {
		h.mutations = append(h.mutations, r.Method+" "+r.URL.Path)
	}
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(segs) < 2 || segs[0] != "myhub" {
		fhError(w, 404, "No service is hosted at the specified address")
		return
	}
	segs = segs[1:]
	w.Header().Set("TrackingId", "fake-tracking-id")
	switch {
	case segs[0] == "registrationids" && r.Method == http.MethodPost:
		h.nextID++
		w.Header().Set("Location", fmt.Sprintf("https://fake/myhub/registrationids/%d-%d-1?api-version=2020-06", 1000+h.nextID, 7000+h.nextID))
		w.WriteHeader(http.StatusCreated)
	case segs[0] == "registrations" && len(segs) == 1 && r.Method == http.MethodPost:
		reg, ok := h.decode(w, body)
		if !ok {
			return
		}
		reg.RegistrationID = ""
		h.writeEntry(w, h.regs[h.store(reg)])
	case segs[0] == "registrations" && len(segs) == 2:
		h.serveRegistration(w, r, segs[1], body)
	case segs[0] == "registrations" && len(segs) == 1 && r.Method == http.MethodGet:
		var match func(Registration) bool
		if f := r.URL.Query().Get("$filter"); f != "" {
			handle := strings.TrimSuffix(strings.TrimPrefix(f, "ChannelUri eq '"), "'")
			match = func(x Registration) bool { return strings.EqualFold(x.Handle(), handle) }
		}
		h.list(w, r, match)
	case segs[0] == "tags" && len(segs) == 3 && segs[2] == "registrations":
		tag := segs[1]
		h.list(w, r, func(x Registration) bool { return slices.Contains(x.Tags, tag) })
	case segs[0] == "installations" && len(segs) == 2:
		h.serveInstallation(w, r, segs[1], body)
	case segs[0] == "messages" && len(segs) == 2 && r.Method == http.MethodGet:
		if h.telemetryMisses > 0 {
			h.telemetryMisses--
			fhError(w, 404, "Notification not found")
			return
		}
		w.Write(atom.MarshalNotificationDetails(atom.NotificationDetails{
			NotificationID: segs[1], State: "Completed", EnqueueTime: "2024-05-01T10:00:00Z",
			StartTime: "2024-05-01T10:00:01Z", EndTime: "2024-05-01T10:00:02Z", TargetPlatforms: "apple,fcmv1",
			Counts: []atom.PlatformCounts{
				{Element: "ApnsOutcomeCounts", Counts: []atom.OutcomeCount{{Name: "Success", Count: 3}, {Name: "WrongToken", Count: 1}}},
				{Element: "FcmV1OutcomeCounts", Counts: []atom.OutcomeCount{{Name: "Success", Count: 5}}},
			},
		}))
	case segs[0] == "feedbackcontainer":
		io.WriteString(w, "https://feedback.blob.example/00000000001?sv=2014-02-14&sr=c&sig=SECRET&sp=rl\n")
	case segs[0] == "jobs":
		h.serveJobs(w, r, segs, body)
	default:
		fhError(w, 400, "fake hub does not support "+r.Method+" "+r.URL.Path)
	}
}

func (h *fakeHub) decode(w http.ResponseWriter, body []byte) (Registration, bool) {
	e, err := atom.ParseEntry(body)
	if err == nil {
		var a atom.Registration
		if a, err = atom.UnmarshalRegistration(e.Content); err == nil {
			var reg Registration
			if reg, err = registrationFromAtom(a); err == nil {
				return reg, true
			}
		}
	}
	fhError(w, 400, "bad body: "+err.Error())
	return Registration{}, false
}

func (h *fakeHub) writeEntry(w http.ResponseWriter, r Registration) {
	w.Header().Set("Content-Type", "application/atom+xml; type=entry; charset=utf-8")
	w.Header().Set("ETag", `W/"`+string(r.ETag)+`"`)
	w.Header().Set("Content-Location", "https://fake/myhub/registrations/"+r.RegistrationID+"?api-version=2020-06")
	w.Write(fhEntry(h.t, r))
}

func (h *fakeHub) serveRegistration(w http.ResponseWriter, r *http.Request, id string, body []byte) {
	old, exists := h.regs[id]
	if m := r.Header.Get("If-Match"); m != "" && m != "*" {
		if !exists {
			fhError(w, 404, "")
			return
		}
		if strings.Trim(strings.TrimPrefix(m, "W/"), `"`) != string(old.ETag) {
			fhError(w, 412, "Precondition failed")
			return
		}
	}
	switch r.Method {
	case http.MethodGet:
		if !exists {
			fhError(w, 404, "")
			return
		}
		h.writeEntry(w, old)
	case http.MethodPut:
		reg, ok := h.decode(w, body)
		if !ok {
			return
		}
		reg.RegistrationID = id
		h.writeEntry(w, h.regs[h.store(reg)])
	case http.MethodDelete:
		if !exists {
			fhError(w, 404, "")
			return
		}
		delete(h.regs, id)
		h.order = slices.DeleteFunc(h.order, func(x string) bool { return x == id })
	default:
		fhError(w, 405, "")
	}
}

// list serves a page: $top (default 100) from the offset in the
// continuation token, which is base64 and then URL-encoded, like the
// service's tokens (so it needs escaping on the way back).
func (h *fakeHub) list(w http.ResponseWriter, r *http.Request, match func(Registration) bool) {
	q := r.URL.Query()
	top := 100
	if s := q.Get("$top"); s != "" {
		top, _ = strconv.Atoi(s)
	}
	off := 0
	if tok := q.Get("continuationtoken"); tok != "" {
		raw, err := base64.StdEncoding.DecodeString(tok)
		if err != nil {
			fhError(w, 400, "bad continuation token")
			return
		}
		off, _ = strconv.Atoi(strings.TrimPrefix(string(raw), "offset:"))
	}
	var all []Registration
	for _, id := range h.order {
		if reg := h.regs[id]; match == nil || match(reg) {
			all = append(all, reg)
		}
	}
	end := min(off+top, len(all))
	if end < len(all) {
		w.Header().Set("x-ms-continuationtoken", url.QueryEscape(base64.StdEncoding.EncodeToString([]byte("offset:"+strconv.Itoa(end)))))
	}
	w.Header().Set("Content-Type", "application/atom+xml; type=feed; charset=utf-8")
	w.Write(fhFeed(h.t, all[min(off, len(all)):end]))
	if h.afterList != nil {
		h.afterList()
	}
}

func (h *fakeHub) serveInstallation(w http.ResponseWriter, r *http.Request, id string, body []byte) {
	switch r.Method {
	case http.MethodPut:
		var in Installation
		if err := json.Unmarshal(body, &in); err != nil {
			fhError(w, 400, err.Error())
			return
		}
		h.writeInstallation(id, &in)
	case http.MethodGet:
		cur, ok := h.installs[id]
		var shown *Installation
		if ok {
			shown = &cur
		}
		if h.installLag > 0 {
			h.installLag--
			shown = h.prevInstalls[id]
		}
		if shown == nil {
			fhError(w, 404, "Installation not found")
			return
		}
		out := *shown
		out.ExpirationTime = time.Date(9999, 12, 31, 23, 59, 59, 999999900, time.UTC)
		data, _ := json.Marshal(out)
		// Read-only fields as the service writes them.
		data = []byte(strings.Replace(string(data), `"platform"`, `"pushChannelExpired":false,"expirationTime":"9999-12-31T23:59:59.9999999Z","platform"`, 1))
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.Write(data)
	case http.MethodDelete:
		h.writeInstallation(id, nil)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPatch:
		cur, ok := h.installs[id]
		if !ok {
			fhError(w, 404, "Installation not found")
			return
		}
		var ops []InstallationPatch
		if err := json.Unmarshal(body, &ops); err != nil {
			fhError(w, 400, err.Error())
			return
		}
		next := cur
		next.Tags = slices.Clone(cur.Tags)
		for _, op := range ops {
			val := ""
			if op.Value != nil {
				val = *op.Value
			}
			switch {
			case op.Path == "/tags" && op.Op == PatchOpAdd:
				for _, t := range op.tagValues() {
					if !slices.Contains(next.Tags, t) {
						next.Tags = append(next.Tags, t)
					}
				}
			case strings.HasPrefix(op.Path, "/tags/") && op.Op == PatchOpRemove:
				tag := unescapePointer(strings.TrimPrefix(op.Path, "/tags/"))
				next.Tags = slices.DeleteFunc(next.Tags, func(x string) bool { return x == tag })
			case op.Path == "/userId":
				next.UserID = val
			case op.Path == "/pushChannel":
				next.PushChannel = val
			default:
				fhError(w, 400, "fake hub does not support patching "+op.Path)
				return
			}
		}
		h.writeInstallation(id, &next)
	}
}

func (h *fakeHub) writeInstallation(id string, in *Installation) {
	if cur, ok := h.installs[id]; ok {
		h.prevInstalls[id] = &cur
	} else {
		h.prevInstalls[id] = nil
	}
	if in == nil {
		delete(h.installs, id)
	} else {
		h.installs[id] = *in
	}
}

func (h *fakeHub) serveJobs(w http.ResponseWriter, r *http.Request, segs []string, body []byte) {
	w.Header().Set("Content-Type", "application/atom+xml; type=entry; charset=utf-8")
	switch {
	case r.Method == http.MethodPost && len(segs) == 1:
		e, err := atom.ParseEntry(body)
		if err != nil {
			fhError(w, 400, err.Error())
			return
		}
		a, err := atom.ParseJob(e.Content)
		if err != nil {
			fhError(w, 400, err.Error())
			return
		}
		a.JobID, a.CreatedAt, a.UpdatedAt = "job-1", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"
		j, _ := jobFromAtom(a)
		h.job = &j
		w.Header().Set("Location", "https://fake/myhub/jobs/job-1?api-version=2020-06")
		w.WriteHeader(http.StatusCreated)
		w.Write(atom.MarshalEntry(atom.Entry{Title: "job-1", Content: atom.MarshalJob(a)}))
	case r.Method == http.MethodGet && len(segs) == 2 && h.job != nil && segs[1] == h.job.JobID:
		h.jobPolls++
		a := h.job.toAtom()
		a.CreatedAt, a.UpdatedAt = "2024-05-01T10:00:00Z", "2024-05-01T10:00:05Z"
		switch {
		case h.jobPolls < 3:
			a.Status, a.Progress = "Running", strconv.Itoa(h.jobPolls*40)
		default:
			a.Status, a.Progress = "Completed", "100"
			a.OutputProperties = map[string]string{"OutputFilePath": "myhub/job-1/Output.txt", "FailedFilePath": "myhub/job-1/Failed.txt"}
		}
		w.Write(atom.MarshalEntry(atom.Entry{Title: "job-1", Content: atom.MarshalJob(a)}))
	case r.Method == http.MethodGet && len(segs) == 1:
		f := atom.Feed{Title: "jobs"}
		if h.job != nil {
			f.Entries = append(f.Entries, atom.Entry{Title: h.job.JobID, Content: atom.MarshalJob(h.job.toAtom())})
		}
		w.Write(atom.MarshalFeed(f))
	default:
		fhError(w, 404, "job not found")
	}
}

// ---- migration

// fhMigrationMix fills h with GCM, FCM v1 and Apple registrations, across
// more than one page of 2.
func fhMigrationMix(h *fakeHub) map[string]string {
	ids := map[string]string{}
	pv := map[string]string{"lang": "de"}
	gcm := NewGcmRegistration("tok-native", "sports", "user:42")
	gcm.PushVariables = pv
	ids["gcm-native"] = h.add(gcm)
	ids["apple"] = h.add(NewAppleRegistration(rpAppleToken, "sports"))
	tmpl := NewGcmTemplateRegistration("tok-template", `{"data":{"msg":"$(msg)"},"priority":"high","time_to_live":3600}`, "sports")
	tmpl.Template.Name = "news"
	ids["gcm-template"] = h.add(tmpl)
	ids["fcmv1"] = h.add(NewFcmV1Registration("tok-new", "sports"))
	ids["gcm-dup"] = h.add(NewGcmRegistration("tok-new", "sports"))
	ids["gcm-installation"] = h.add(NewGcmRegistration("tok-inst", "$InstallationId:{abc}", "sports"))
	odd := NewGcmTemplateRegistration("tok-odd", `{"data":{"n":"1"},"dry_run":true}`, "sports")
	ids["gcm-unconvertible"] = h.add(odd)
	ids["apple-template"] = h.add(NewAppleTemplateRegistration(rpAppleToken, `{"aps":{"alert":"$(msg)"}}`, "sports"))
	ids["gcm-untagged"] = h.add(NewGcmRegistration("tok-untagged"))
	return ids
}

func TestMigrateGcmToFcmV1DryRunMatchesRealRun(t *testing.T) {
	h := newFakeHub(t)
	ids := fhMigrationMix(h)
	before := map[string]Registration{}
	for _, id := range ids {
		before[id], _ = h.get(id)
	}
	ctx := context.Background()
	opts := &MigrateGcmToFcmV1Options{Tag: "sports", DryRun: true, PageSize: 2}

	dry, err := h.client.MigrateGcmToFcmV1(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if w := h.writes(); len(w) != 0 {
		t.Fatalf("dry run wrote: %v", w)
	}
	for _, id := range ids {
		if got, _ := h.get(id); !cmp.Equal(before[id], got) {
			t.Errorf("dry run changed %s", id)
		}
	}

	// The plan, item by item.
	type plan struct {
		ID     string
		Action MigrationAction
	}
	var gotPlan []plan
	for _, it := range dry.Items {
		gotPlan = append(gotPlan, plan{it.RegistrationID, it.Action})
	}
	wantPlan := []plan{
		{ids["gcm-native"], MigrationActionRewrite},
		{ids["gcm-template"], MigrationActionRewrite},
		{ids["gcm-dup"], MigrationActionDelete},
		{ids["gcm-installation"], MigrationActionSkip},
		{ids["gcm-unconvertible"], MigrationActionSkip},
	}
	if diff := cmp.Diff(wantPlan, gotPlan); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if dry.Scanned != 8 || dry.Rewritten != 2 || dry.Deleted != 1 || dry.Skipped != 2 || dry.Failed != 0 || !dry.DryRun {
		t.Errorf("dry counts: %+v", dry)
	}
	tmpl := dry.Items[1]
	if got, want := tmpl.After.Template.Body, `{"message":{"android":{"data":{"msg":"$(msg)"},"priority":"high","ttl":"3600s"}}}`; got != want {
		t.Errorf("converted template body = %s, want %s", got, want)
	}
	wantChanges := []string{
		"platform: Gcm → FcmV1 (same registration id)",
		"handle: GcmRegistrationId → FcmV1RegistrationId (same token)",
		"template body: legacy FCM payload → FCM v1 message",
		"kept: 1 tag, template name \"news\"",
	}
	if diff := cmp.Diff(wantChanges, tmpl.Changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if !strings.Contains(dry.Items[4].Reason, "dry_run") {
		t.Errorf("unconvertible reason = %q", dry.Items[4].Reason)
	}

	// The real run does exactly what the dry run reported.
	opts.DryRun = false
	real, err := h.client.MigrateGcmToFcmV1(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	outcome := cmpopts.IgnoreFields(MigrationItem{}, "Done", "NewRegistrationID", "NewETag", "Err")
	if diff := cmp.Diff(dry.Items, real.Items, outcome); diff != "" {
		t.Errorf("real run's plan differs from the dry run's (-dry +real):\n%s", diff)
	}
	if real.Rewritten != 2 || real.Deleted != 1 || real.Failed != 0 || real.DryRun {
		t.Errorf("real counts: %+v", real)
	}
	var wantWrites []string
	for _, it := range dry.Items {
		switch it.Action {
		case MigrationActionRewrite:
			wantWrites = append(wantWrites, "PUT /myhub/registrations/"+it.RegistrationID)
		case MigrationActionDelete:
			wantWrites = append(wantWrites, "DELETE /myhub/registrations/"+it.RegistrationID)
		}
	}
	if diff := cmp.Diff(wantWrites, h.writes()); diff != "" {
		t.Errorf("writes (-planned +done):\n%s", diff)
	}
	for _, it := range real.Items {
		got, exists := h.get(it.RegistrationID)
		switch it.Action {
		case MigrationActionRewrite:
			if !it.Done || it.NewRegistrationID != it.RegistrationID || it.NewETag != "2" {
				t.Errorf("%s: done %v new id %q etag %q", it.RegistrationID, it.Done, it.NewRegistrationID, it.NewETag)
			}
			if diff := cmp.Diff(writable(it.After), writable(got)); diff != "" {
				t.Errorf("%s stored (-planned +stored):\n%s", it.RegistrationID, diff)
			}
			b := before[it.RegistrationID]
			if got.Platform != RegistrationPlatformFcmV1 || got.FcmV1RegistrationID != b.GcmRegistrationID ||
				!cmp.Equal(got.Tags, b.Tags) || !cmp.Equal(got.PushVariables, b.PushVariables) {
				t.Errorf("%s: migrated to %+v from %+v", it.RegistrationID, got, b)
			}
		case MigrationActionDelete:
			if exists || !it.Done {
				t.Errorf("%s: still exists (%v) or not done", it.RegistrationID, exists)
			}
		case MigrationActionSkip:
			if !cmp.Equal(before[it.RegistrationID], got) || it.Done {
				t.Errorf("%s: skipped but changed", it.RegistrationID)
			}
		}
	}
	for _, k := range []string{"apple", "apple-template", "fcmv1", "gcm-untagged"} {
		if got, _ := h.get(ids[k]); !cmp.Equal(before[ids[k]], got) {
			t.Errorf("%s changed", k)
		}
	}

	// A second run finds nothing left to do.
	again, err := h.client.MigrateGcmToFcmV1(ctx, &MigrateGcmToFcmV1Options{Tag: "sports", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if again.Rewritten != 0 || again.Deleted != 0 || again.Skipped != 2 {
		t.Errorf("second dry run: %+v", again)
	}
}

func TestMigrateGcmToFcmV1AllAndRecreate(t *testing.T) {
	h := newFakeHub(t)
	ids := fhMigrationMix(h)
	rep, err := h.client.MigrateGcmToFcmV1(context.Background(), &MigrateGcmToFcmV1Options{Recreate: true, PageSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Scanned != 9 || rep.Rewritten != 3 || rep.Deleted != 1 || rep.Failed != 0 {
		t.Fatalf("report: %+v", rep)
	}
	for _, it := range rep.Items {
		if it.Action != MigrationActionRewrite {
			continue
		}
		if _, ok := h.get(it.RegistrationID); ok {
			t.Errorf("old %s still exists", it.RegistrationID)
		}
		got, ok := h.get(it.NewRegistrationID)
		if !ok || got.Platform != RegistrationPlatformFcmV1 || got.RegistrationID == it.RegistrationID {
			t.Errorf("new registration %q: %+v", it.NewRegistrationID, got)
		}
	}
	if _, ok := h.get(ids["gcm-untagged"]); ok {
		t.Errorf("untagged GCM registration was not migrated without a tag filter")
	}
}

func TestMigrateGcmToFcmV1PreconditionFailedIsPerItem(t *testing.T) {
	h := newFakeHub(t)
	id := h.add(NewGcmRegistration("tok"))
	other := h.add(NewGcmRegistration("tok2"))
	// The device re-registers between the listing and the rewrite.
	h.afterList = func() {
		r := h.regs[id]
		h.store(r)
	}
	rep, err := h.client.MigrateGcmToFcmV1(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Items) != 2 || !errors.Is(rep.Items[0].Err, ErrPreconditionFailed) || rep.Items[0].Done ||
		rep.Items[1].Err != nil || !rep.Items[1].Done || rep.Failed != 1 || rep.Rewritten != 1 {
		t.Fatalf("report: %+v", rep)
	}
	if got, _ := h.get(id); got.Platform != RegistrationPlatformGcm {
		t.Errorf("the concurrently updated registration was overwritten: %+v", got)
	}
	if got, _ := h.get(other); got.Platform != RegistrationPlatformFcmV1 {
		t.Errorf("the other registration was not migrated: %+v", got)
	}
}

func TestConvertGcmTemplateToFcmV1(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: `{"data":{"message":"$(msg)"}}`, want: `{"message":{"android":{"data":{"message":"$(msg)"}}}}`},
		{in: `{"notification":{"title":"T","body":"{'Hi ' + $(name)}"},"collapse_key":"k","priority":"HIGH"}`,
			want: `{"message":{"android":{"collapse_key":"k","notification":{"body":"{'Hi ' + $(name)}","title":"T"},"priority":"high"}}}`},
		{in: `{"time_to_live":0,"restricted_package_name":"com.x","data":{"a":"<&>"}}`,
			want: `{"message":{"android":{"data":{"a":"<&>"},"restricted_package_name":"com.x","ttl":"0s"}}}`},
		{in: `{"message":{"token":"x"}}`, want: `{"message":{"token":"x"}}`},
		{in: `{"message":{},"data":{}}`, err: "mixes"},
		{in: `{"data":{"n":1}}`, err: "data.n is not a string"},
		{in: `{"time_to_live":"$(ttl)"}`, err: "time_to_live"},
		{in: `{"content_available":true,"dry_run":false}`, err: "content_available, dry_run"},
		{in: `not json`, err: "not a JSON object"},
		{in: `{} {}`, err: "data after"},
		{in: `{"message":{}}}`, err: "data after"}, // Decoder.More misses a stray brace
	}
	for _, tt := range tests {
		got, err := ConvertGcmTemplateToFcmV1(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ConvertGcmTemplateToFcmV1(%s) = %s, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ConvertGcmTemplateToFcmV1(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func FuzzConvertGcmTemplateToFcmV1(f *testing.F) {
	for _, s := range []string{`{"data":{"m":"$(m)"}}`, `{"notification":{"title":"x"},"time_to_live":5}`, `{"message":{}}`, `[]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		out, err := ConvertGcmTemplateToFcmV1(body)
		if err != nil {
			return
		}
		var v map[string]any
		if json.Unmarshal([]byte(out), &v) != nil {
			t.Fatalf("output is not JSON: %s", out)
		}
		if _, ok := v["message"]; !ok || len(v) != 1 {
			t.Fatalf("output is not {\"message\":…}: %s", out)
		}
		again, err := ConvertGcmTemplateToFcmV1(out)
		if err != nil || again != out {
			t.Fatalf("not idempotent: %s -> %s, %v", out, again, err)
		}
	})
}
