package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/nhkit/notificationhubs/internal/atom"
)

// DefaultJobStepDelay is how long a job stays Started, then Running, when
// Options.JobStepDelay is zero.
const DefaultJobStepDelay = 500 * time.Millisecond

// Job types (docs/protocol.md, "Import and export jobs").
const (
	jobExport       = "ExportRegistrations"
	jobImportCreate = "ImportCreateRegistrations"
	jobImportUpdate = "ImportUpdateRegistrations"
	jobImportDelete = "ImportDeleteRegistrations"
	jobImportUpsert = "ImportUpsertRegistrations"
)

// jobRec is a stored import/export job.
type jobRec struct {
	Hub     string    `json:"hub"`
	Job     atom.Job  `json:"job"`
	Created time.Time `json:"created"`
}

func jobTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

func (s *Server) opPutJob(j *jobRec) dbOp { return putJSON(bJobs, hubKey(j.Hub, j.Job.JobID), j) }

func (s *Server) loadJobs(tx *bolt.Tx, get func(string) *hub) error {
	return tx.Bucket(bJobs).ForEach(func(k, v []byte) error {
		var j jobRec
		if err := json.Unmarshal(v, &j); err != nil {
			return fmt.Errorf("job %q: %w", k, err)
		}
		if h := get(j.Hub); h != nil {
			h.jobs[j.Job.JobID] = &j
		}
		return nil
	})
}

// resumeJobs restarts the jobs a previous run left unfinished.
func (s *Server) resumeJobs() {
	s.mu.RLock()
	type pending struct {
		h  *hub
		id string
	}
	var l []pending
	for _, h := range s.hubs {
		for id, j := range h.jobs {
			if j.Job.Status == "Started" || j.Job.Status == "Running" {
				l = append(l, pending{h, id})
			}
		}
	}
	s.mu.RUnlock()
	for _, p := range l {
		s.jobsWG.Add(1)
		go s.runJob(p.h, p.id)
	}
}

func (q *request) jobEntry(j *jobRec, self string) []byte {
	return atom.MarshalEntry(atom.Entry{
		ID: self, Title: j.Job.JobID,
		Published: atomTime(j.Created), Updated: atomTime(j.Created),
		SelfLink: self, Content: atom.MarshalJob(j.Job),
	})
}

func (s *Server) handleSubmitJob(q *request) {
	if !s.requireStandard(q) {
		return
	}
	body, err := q.readBody(1 << 20)
	if err != nil {
		q.failErr(err)
		return
	}
	e, err := atom.ParseEntry(body)
	if err != nil {
		q.fail(http.StatusBadRequest, "The request body is not a valid Atom entry: "+err.Error())
		return
	}
	in, err := atom.ParseJob(e.Content)
	if err != nil {
		q.fail(http.StatusBadRequest, "The NotificationHubJob is invalid: "+err.Error())
		return
	}
	switch in.Type {
	case jobExport, jobImportCreate, jobImportUpdate, jobImportDelete, jobImportUpsert:
	default:
		q.fail(http.StatusBadRequest, "The job type '"+in.Type+"' is not supported.")
		return
	}
	if _, err := parseBlobURL(in.OutputContainerURI); err != nil {
		q.fail(http.StatusBadRequest, "The OutputContainerUri of the job is invalid: "+err.Error()+".")
		return
	}
	if in.Type != jobExport {
		if _, err := parseBlobURL(in.ImportFileURI); err != nil {
			q.fail(http.StatusBadRequest, "The ImportFileUri of the job is invalid: "+err.Error()+".")
			return
		}
	} else {
		in.ImportFileURI = ""
	}
	now := s.now()
	j := &jobRec{Hub: q.hubName, Created: now, Job: atom.Job{
		JobID:              strconv.FormatUint(1e18+rand.Uint64N(9e18), 10) + newGUID()[8:],
		Type:               in.Type,
		Status:             "Started",
		OutputContainerURI: in.OutputContainerURI,
		ImportFileURI:      in.ImportFileURI,
		InputProperties:    in.InputProperties,
		CreatedAt:          jobTime(now),
		UpdatedAt:          jobTime(now),
	}}
	s.mu.Lock()
	q.hub.jobs[j.Job.JobID] = j
	b := s.persist(s.opPutJob(j))
	resp := *j
	s.mu.Unlock()
	if err := b.wait(); err != nil {
		q.failDurability(err)
		return
	}
	s.schedMu.Lock()
	if !s.closed {
		s.jobsWG.Add(1)
		go s.runJob(q.hub, j.Job.JobID)
	}
	s.schedMu.Unlock()
	loc := q.baseURL() + "/jobs/" + j.Job.JobID + q.versionQuery()
	q.w.Header().Set("Location", loc)
	q.write(http.StatusCreated, ctEntry, q.jobEntry(&resp, loc))
}

func (s *Server) handleGetJob(q *request) {
	if !s.requireStandard(q) {
		return
	}
	id := q.param("id")
	s.mu.RLock()
	j, ok := q.hub.jobs[id]
	var c jobRec
	if ok {
		c = *j
	}
	s.mu.RUnlock()
	if !ok {
		q.fail(http.StatusNotFound, "The job was not found.")
		return
	}
	// The service answers with Content-Location, and both it and the
	// entry's self link repeat the id (recorded).
	self := q.baseURL() + "/jobs/" + id + "/" + id + q.versionQuery()
	q.w.Header().Set("Content-Location", self)
	q.write(http.StatusOK, ctEntry, q.jobEntry(&c, self))
}

func (s *Server) handleListJobs(q *request) {
	if !s.requireStandard(q) {
		return
	}
	s.mu.RLock()
	l := make([]jobRec, 0, len(q.hub.jobs))
	for _, j := range q.hub.jobs {
		l = append(l, *j)
	}
	s.mu.RUnlock()
	sort.Slice(l, func(a, b int) bool { return l[a].Created.Before(l[b].Created) })
	self := q.baseURL() + "/jobs" + q.versionQuery()
	feed := atom.Feed{Title: "jobs", ID: self, Updated: atomTime(time.Now()), SelfLink: self}
	for i := range l {
		u := q.baseURL() + "/jobs/" + l[i].Job.JobID + q.versionQuery()
		feed.Entries = append(feed.Entries, atom.Entry{ID: u, Title: l[i].Job.JobID,
			Published: atomTime(l[i].Created), Updated: atomTime(l[i].Created), SelfLink: u, Content: atom.MarshalJob(l[i].Job)})
	}
	q.write(http.StatusOK, ctFeed, atom.MarshalFeed(feed))
}

// setJob changes a job under the lock and persists it.
func (s *Server) setJob(h *hub, id string, f func(j *atom.Job)) (atom.Job, error) {
	s.mu.Lock()
	j, ok := h.jobs[id]
	if !ok {
		s.mu.Unlock()
		return atom.Job{}, fmt.Errorf("job %s no longer exists", id)
	}
	f(&j.Job)
	j.Job.UpdatedAt = jobTime(s.now())
	b := s.persist(s.opPutJob(j))
	out := j.Job
	s.mu.Unlock()
	return out, b.wait()
}

// runJob moves a job Started → Running → Completed or Failed.
func (s *Server) runJob(h *hub, id string) {
	defer s.jobsWG.Done()
	step := s.opts.JobStepDelay
	if step <= 0 {
		step = DefaultJobStepDelay
	}
	sleep := func() bool {
		t := time.NewTimer(step)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-s.closing:
			return false
		}
	}
	if !sleep() {
		return
	}
	job, err := s.setJob(h, id, func(j *atom.Job) { j.Status, j.Progress = "Running", "0" })
	if err != nil || !sleep() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	props, err := s.doJob(ctx, h, job)
	_, _ = s.setJob(h, id, func(j *atom.Job) {
		if err != nil {
			j.Status, j.Failure = "Failed", err.Error()
			return
		}
		j.Status, j.Progress, j.OutputProperties = "Completed", "100", props
	})
}

// exportLine renders one registration as a single line of an export file.
func exportLine(d atom.Registration) ([]byte, error) {
	b, err := atom.MarshalRegistration(d)
	if err != nil {
		return nil, err
	}
	return escapeLineBreaks(b), nil
}

// escapeLineBreaks replaces CR and LF by character references, closing and
// reopening CDATA sections around them, so that the XML fits on one line.
func escapeLineBreaks(b []byte) []byte {
	if !bytes.ContainsAny(b, "\r\n") {
		return b
	}
	var out bytes.Buffer
	inCDATA := false
	for i := 0; i < len(b); i++ {
		switch {
		case !inCDATA && bytes.HasPrefix(b[i:], []byte("<![CDATA[")):
			inCDATA = true
			out.WriteString("<![CDATA[")
			i += len("<![CDATA[") - 1
		case inCDATA && bytes.HasPrefix(b[i:], []byte("]]>")):
			inCDATA = false
			out.WriteString("]]>")
			i += 2
		case b[i] == '\n' || b[i] == '\r':
			ref := "&#xA;"
			if b[i] == '\r' {
				ref = "&#xD;"
			}
			if inCDATA {
				out.WriteString("]]>" + ref + "<![CDATA[")
			} else {
				out.WriteString(ref)
			}
		default:
			out.WriteByte(b[i])
		}
	}
	return out.Bytes()
}

// doJob performs an export or import and writes Output.txt and Failed.txt
// to the output container as {hub}/{jobId}/….
func (s *Server) doJob(ctx context.Context, h *hub, job atom.Job) (map[string]string, error) {
	out, err := parseBlobURL(job.OutputContainerURI)
	if err != nil {
		return nil, fmt.Errorf("the OutputContainerUri is invalid: %v", err)
	}
	if err := s.checkOutbound("OutputContainerUri", out); err != nil {
		return nil, err
	}
	if job.Type != jobExport {
		src, err := parseBlobURL(job.ImportFileURI)
		if err != nil {
			return nil, fmt.Errorf("the ImportFileUri is invalid: %v", err)
		}
		if err := s.checkOutbound("ImportFileUri", src); err != nil {
			return nil, err
		}
	}
	prefix := h.name + "/" + job.JobID + "/"
	var output, failed bytes.Buffer
	if job.Type == jobExport {
		s.mu.RLock()
		for _, t := range h.targets {
			if t == nil || t.reg == nil {
				continue
			}
			d, _, _, _ := t.description(expiryRead)
			line, err := exportLine(d)
			if err != nil {
				fmt.Fprintf(&failed, "%s,%s\n", t.regID, err)
				continue
			}
			output.Write(line)
			output.WriteByte('\n')
		}
		s.mu.RUnlock()
	} else {
		src, err := parseBlobURL(job.ImportFileURI)
		if err != nil {
			return nil, fmt.Errorf("the ImportFileUri is invalid: %v", err)
		}
		data, err := s.readBlob(ctx, src)
		if err != nil {
			return nil, err
		}
		if err := s.importRegistrations(h, job.Type, data, &output, &failed); err != nil {
			return nil, err
		}
	}
	container := out.u.Path
	if c, _, ok := out.local(); ok {
		container = c
	} else {
		container = strings.TrimPrefix(container[strings.LastIndex(strings.TrimSuffix(container, "/"), "/")+1:], "/")
	}
	if err := s.writeBlob(ctx, out.child(prefix+"Output.txt"), output.Bytes()); err != nil {
		return nil, err
	}
	if err := s.writeBlob(ctx, out.child(prefix+"Failed.txt"), failed.Bytes()); err != nil {
		return nil, err
	}
	return map[string]string{
		"OutputFilePath": strings.TrimSuffix(container, "/") + "/" + prefix + "Output.txt",
		"FailedFilePath": strings.TrimSuffix(container, "/") + "/" + prefix + "Failed.txt",
	}, nil
}

// importRegistrations applies an import file: one registration description
// per line. Output gets "line,registrationId", Failed "line,reason".
func (s *Server) importRegistrations(h *hub, typ string, data []byte, output, failed *bytes.Buffer) error {
	s.mu.Lock()
	var ops []dbOp
	now := s.now()
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		n := i + 1
		fail := func(msg string) { fmt.Fprintf(failed, "%d,%s\n", n, strings.ReplaceAll(msg, "\n", " ")) }
		d, err := atom.UnmarshalRegistration(line)
		if err != nil {
			fail(err.Error())
			continue
		}
		id := strings.TrimSpace(d.RegistrationID)
		d, p, err := validateRegistration(d)
		if err != nil {
			fail(err.Error())
			continue
		}
		d.ETag, d.ExpirationTime = "", ""
		old := (*target)(nil)
		if id != "" {
			old = h.target(id)
		}
		if old != nil && old.reg == nil {
			fail("the registration belongs to an installation")
			continue
		}
		switch typ {
		case jobImportCreate:
			if err := s.checkDeviceCap(h); err != nil {
				fail(err.Error())
				continue
			}
			id = h.freshRegistrationID()
			t := regTarget(id, p, d, 1, now, now)
			h.add(t)
			ops = append(ops, s.opPutReg(h, t))
		case jobImportUpdate, jobImportUpsert:
			if id == "" {
				fail("the registration has no RegistrationId")
				continue
			}
			if old == nil && typ == jobImportUpdate {
				fail("the registration " + id + " does not exist")
				continue
			}
			var t *target
			if old != nil {
				t = regTarget(id, p, d, old.reg.etag+1, old.reg.created, now)
				h.remove(old)
			} else {
				if err := s.checkDeviceCap(h); err != nil {
					fail(err.Error())
					continue
				}
				t = regTarget(id, p, d, 1, now, now)
			}
			h.add(t)
			ops = append(ops, s.opPutReg(h, t))
		case jobImportDelete:
			if old == nil {
				fail("the registration " + id + " does not exist")
				continue
			}
			h.remove(old)
			ops = append(ops, s.opDelReg(h, id))
		}
		fmt.Fprintf(output, "%d,%s\n", n, id)
	}
	b := s.persist(ops...)
	s.mu.Unlock()
	return b.wait()
}

// jobsURL is used by tests and docs: the container URL of the emulator's
// own blob store for container c with read, write and list rights.
func (s *Server) containerURL(base, c string) string {
	s.blobs.ensure(c)
	return s.blobURLFor(base, c, "rwl")
}

// ContainerURL returns a SAS URL (read, write, list) of container c in the
// emulator's blob store, at base (e.g. https://127.0.0.1:8443), creating
// the container. Use it as a job's OutputContainerUri. c must follow Azure
// Storage's rule for container names (3 to 63 lower-case letters, digits
// and single hyphens); for another name nothing is created and the URL
// answers 400.
func (s *Server) ContainerURL(base, c string) string { return s.containerURL(base, c) }

// BlobURL returns a read SAS URL of blob name in container c of the
// emulator's blob store, at base, that reads that blob only. Use it as a
// job's ImportFileUri.
func (s *Server) BlobURL(base, c, name string) string {
	return s.blobURLFor(base, c+"/"+name, "r")
}
