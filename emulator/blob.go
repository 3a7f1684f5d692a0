package emulator

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The emulator serves a minimal Azure Blob Storage container API under
// /_emulator/blob/{container}[/{blob}], authorised by SAS-style query
// parameters it signs itself (sv, sr, se, sp, sig): list
// (?restype=container&comp=list, Azure's XML listing), GET, PUT (block
// blobs) and DELETE of blobs, PUT of containers. It holds the PNS
// feedback containers, the PnsErrorDetails blobs, and job files.

const blobPrefix = "/_emulator/blob/"

type blobObj struct {
	Data        []byte    `json:"data"`
	ContentType string    `json:"contentType,omitempty"`
	Modified    time.Time `json:"modified"`
}

type blobStore struct {
	s *Server
	// secret signs the SAS URLs: random, kept in the data directory, never
	// shown; not a hub's key, which may be the published development key.
	secret     []byte
	mu         sync.Mutex
	containers map[string]map[string]*blobObj
	bytes      int64 // of all blobs' data
}

// errBlobStoreFull is a write that would take the blob store past
// Options.MaxBlobStoreBytes.
var errBlobStoreFull = errors.New("the emulator's blob store is full")

// errBlobTooLarge is a blob larger than Options.MaxBlobBytes.
var errBlobTooLarge = errors.New("the blob is larger than the emulator takes")

// roomLocked checks that replacing a blob of old bytes by one of n bytes
// keeps within the caps; the caller holds b.mu.
func (b *blobStore) roomLocked(old, n int64) error {
	if n > b.s.opts.MaxBlobBytes {
		return fmt.Errorf("%w (%d bytes; at most %d, Options.MaxBlobBytes or --max-blob-size)", errBlobTooLarge, n, b.s.opts.MaxBlobBytes)
	}
	if b.bytes-old+n > b.s.opts.MaxBlobStoreBytes {
		return fmt.Errorf("%w (%d of %d bytes used; Options.MaxBlobStoreBytes or --max-blob-store)", errBlobStoreFull, b.bytes, b.s.opts.MaxBlobStoreBytes)
	}
	return nil
}

func newBlobStore(s *Server) *blobStore {
	return &blobStore{s: s, containers: map[string]map[string]*blobObj{}}
}

func blobKey(c, name string) []byte { return []byte(c + "/" + name) }

// ensure creates container c if needed; the caller holds b.mu.
func (b *blobStore) ensureLocked(c string) []dbOp {
	if _, ok := b.containers[c]; ok {
		return nil
	}
	b.containers[c] = map[string]*blobObj{}
	return []dbOp{putJSON(bBlobs, blobKey(c, ""), blobObj{})}
}

// ensure creates container c if it does not exist. An invalid name
// creates nothing: requests for it get 400.
func (b *blobStore) ensure(c string) *batch {
	if validContainerName(c) != nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.s.persist(b.ensureLocked(c)...)
}

// put stores a blob, creating its container, unless it would pass the
// caps (errBlobTooLarge, errBlobStoreFull) or the names are invalid.
func (b *blobStore) put(c, name string, data []byte, contentType string) (*batch, error) {
	if err := validBlobPath(c, name); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var old int64
	if o := b.containers[c][name]; o != nil {
		old = int64(len(o.Data))
	}
	if err := b.roomLocked(old, int64(len(data))); err != nil {
		return nil, err
	}
	ops := b.ensureLocked(c)
	o := &blobObj{Data: data, ContentType: contentType, Modified: b.s.now().UTC()}
	b.containers[c][name] = o
	b.bytes += int64(len(data)) - old
	ops = append(ops, putJSON(bBlobs, blobKey(c, name), o))
	return b.s.persist(ops...), nil
}

// append adds data at the end of a blob, creating it and its container,
// unless that would pass the caps.
func (b *blobStore) append(c, name string, data []byte) (*batch, error) {
	if err := validBlobPath(c, name); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	old := b.containers[c][name]
	var oldN int64
	if old != nil {
		oldN = int64(len(old.Data))
	}
	if err := b.roomLocked(oldN, oldN+int64(len(data))); err != nil {
		return nil, err
	}
	ops := b.ensureLocked(c)
	o := &blobObj{ContentType: "text/plain; charset=utf-8", Modified: b.s.now().UTC()}
	if old != nil {
		o.Data = append(slices.Clip(old.Data), data...)
		o.ContentType = old.ContentType
	} else {
		o.Data = slices.Clone(data)
	}
	b.containers[c][name] = o
	b.bytes += int64(len(data))
	ops = append(ops, putJSON(bBlobs, blobKey(c, name), o))
	return b.s.persist(ops...), nil
}

func (b *blobStore) del(c, name string) (bool, *batch) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.containers[c][name]
	if !ok {
		return false, nil
	}
	b.bytes -= int64(len(o.Data))
	delete(b.containers[c], name)
	return true, b.s.persist(delKey(bBlobs, blobKey(c, name)))
}

// usage returns the bytes all blobs hold.
func (b *blobStore) usage() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bytes
}

// validContainerName checks a container name against Azure Storage's
// rule: 3 to 63 characters, lower-case letters, digits and '-', starting
// and ending with a letter or digit, no "--". Such a name has no '/', so
// it is the same after a round trip through the data directory, whose
// keys are container "/" blob.
func validContainerName(c string) error {
	bad := func(why string) error {
		return fmt.Errorf("the container name %q is invalid: %s", c, why)
	}
	if len(c) < 3 || len(c) > 63 {
		return bad("a container name has 3 to 63 characters")
	}
	for i := 0; i < len(c); i++ {
		ch := c[i]
		switch {
		case 'a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9':
		case ch == '-' && i > 0 && i < len(c)-1 && c[i-1] != '-':
		default:
			return bad("a container name has lower-case letters, digits and single hyphens, and starts and ends with a letter or digit")
		}
	}
	return nil
}

// validBlobPath checks a container name and a blob name: 1 to 1,024
// characters, made of path segments that are neither empty, "." nor ".."
// and have no backslash or control character.
func validBlobPath(c, name string) error {
	if err := validContainerName(c); err != nil {
		return err
	}
	if name == "" || len(name) > 1024 {
		return fmt.Errorf("the blob name %q is invalid: a blob name has 1 to 1,024 characters", name)
	}
	for seg := range strings.SplitSeq(name, "/") {
		if seg == "" {
			return fmt.Errorf("the blob name %q is invalid: it has an empty path segment", name)
		}
		if err := validPathSegment(seg); err != nil {
			return fmt.Errorf("the blob name %q is invalid: %w", name, err)
		}
	}
	return nil
}

// get returns a blob's bytes and content type.
func (b *blobStore) get(c, name string) (blobObj, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.containers[c][name]
	if !ok {
		return blobObj{}, false
	}
	return *o, true
}

type blobEntry struct {
	name string
	obj  blobObj
}

// list returns the blobs of c whose names start with prefix, by name.
func (b *blobStore) list(c, prefix string) ([]blobEntry, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, ok := b.containers[c]
	if !ok {
		return nil, false
	}
	var out []blobEntry
	for n, o := range m {
		if strings.HasPrefix(n, prefix) {
			out = append(out, blobEntry{n, *o})
		}
	}
	slices.SortFunc(out, func(x, y blobEntry) int { return strings.Compare(x.name, y.name) })
	return out, true
}

// Blob returns the content of blob name in container c of the emulator's
// blob store (feedback containers, PnsErrorDetails, job files).
func (s *Server) Blob(container, name string) ([]byte, bool) {
	o, ok := s.blobs.get(container, name)
	return o.Data, ok
}

// FeedbackContainer returns the name of hub's PNS feedback container in
// the emulator's blob store.
func FeedbackContainer(hub string) string { return feedbackContainer(hub) }

func (b *blobStore) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.containers = map[string]map[string]*blobObj{}
	b.bytes = 0
}

func (b *blobStore) load(tx *bolt.Tx) error {
	return tx.Bucket(bBlobs).ForEach(func(k, v []byte) error {
		c, name, _ := strings.Cut(string(k), "/")
		if b.containers[c] == nil {
			b.containers[c] = map[string]*blobObj{}
		}
		if name == "" {
			return nil
		}
		var o blobObj
		if err := json.Unmarshal(v, &o); err != nil {
			return fmt.Errorf("blob %s: %w", k, err)
		}
		b.containers[c][name] = &o
		b.bytes += int64(len(o.Data))
		return nil
	})
}

// ---- SAS ------------------------------------------------------------------

// blobSecretSize is the length of the blob store's signing secret.
const blobSecretSize = 32

// blobSig signs a resource with permissions sp until se with the blob
// store's secret. sr is "c" for a container, whose resource is its name and which
// grants its every blob, or "b" for one blob, whose resource is
// "container/blob" and which grants that blob only; sr is signed too, so
// that a blob's SAS cannot be turned into its container's.
func (s *Server) blobSig(sr, resource, sp, se string) string {
	m := hmac.New(sha256.New, s.blobs.secret)
	m.Write([]byte("blob\n" + sr + "\n" + resource + "\n" + sp + "\n" + se))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// blobURL returns a SAS URL for path ("container" or "container/blob")
// with permissions sp, valid for a week, at the request's host.
func (s *Server) blobURL(q *request, path, sp string) string {
	scheme := "https"
	if q.r.TLS == nil && !strings.EqualFold(q.r.URL.Scheme, "https") {
		scheme = "http"
	}
	host := q.r.Host
	if host == "" {
		host = "localhost"
	}
	return s.blobURLFor(scheme+"://"+host, path, sp)
}

// blobURLFor returns a SAS URL at base for path, "container" (a container
// SAS) or "container/blob" (a SAS for that blob only), unescaped.
func (s *Server) blobURLFor(base, path, sp string) string {
	c, name, isBlob := strings.Cut(path, "/")
	sr, resource, escaped := "c", c, url.PathEscape(c)
	if isBlob {
		sr, resource = "b", c+"/"+name
		for seg := range strings.SplitSeq(name, "/") {
			escaped += "/" + url.PathEscape(seg)
		}
	}
	se := s.now().Add(7 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	v := url.Values{"sv": {"2019-02-02"}, "sr": {sr}, "se": {se}, "sp": {sp}, "sig": {s.blobSig(sr, resource, sp, se)}}
	return base + blobPrefix + escaped + "?" + v.Encode()
}

// blobAuthorized checks a request's SAS for blob name of container c
// (name "" for the container itself) and permission perm (one of r, w,
// l, d, c). A container SAS (sr=c) grants every blob of the container; a
// blob SAS (sr=b) grants only the blob it was signed for.
func (s *Server) blobAuthorized(query map[string]string, c, name string, perm byte) bool {
	sig, sp, se, sr := query["sig"], query["sp"], query["se"], query["sr"]
	if sig == "" || strings.IndexByte(sp, perm) < 0 && !(perm == 'c' && strings.IndexByte(sp, 'w') >= 0) {
		return false
	}
	if se != "" {
		t, err := time.Parse(time.RFC3339, se)
		if err != nil || s.now().After(t) {
			return false
		}
	}
	resource := c
	switch sr {
	case "c":
	case "b":
		if name == "" {
			return false
		}
		resource = c + "/" + name
	default:
		return false
	}
	return hmac.Equal([]byte(sig), []byte(s.blobSig(sr, resource, sp, se)))
}

// ---- HTTP -----------------------------------------------------------------

// blobError writes Azure Storage's error body; msg, which may quote what
// the request said, is escaped.
func blobError(q *request, status int, code, msg string) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><Error><Code>` + code + `</Code><Message>`)
	xmlEscape(&b, msg+"\nRequestId:"+q.trackingID+"\nTime:"+time.Now().UTC().Format("2006-01-02T15:04:05.0000000Z"))
	b.WriteString(`</Message></Error>`)
	q.w.Header().Set("x-ms-error-code", code)
	q.write(status, "application/xml", []byte(b.String()))
}

// handleBlob serves /_emulator/blob/{container}[/{blob...}].
func (s *Server) handleBlob(q *request) {
	c, name := q.param("container"), q.param("blob")
	q.w.Header().Set("x-ms-version", "2019-02-02")
	q.w.Header().Set("x-ms-request-id", q.trackingID)
	if err := validContainerName(c); err != nil {
		blobError(q, http.StatusBadRequest, "InvalidResourceName", "The specified resource name contains invalid characters: "+err.Error()+".")
		return
	}
	need := byte('r')
	switch {
	case name == "" && q.r.Method == http.MethodGet:
		need = 'l'
	case q.r.Method == http.MethodPut:
		need = 'w'
	case q.r.Method == http.MethodDelete:
		need = 'd'
	}
	if !s.blobAuthorized(q.query, c, name, need) {
		blobError(q, http.StatusForbidden, "AuthenticationFailed", "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.")
		return
	}
	switch {
	case name == "" && q.r.Method == http.MethodPut && strings.EqualFold(q.query["restype"], "container"):
		s.blobs.mu.Lock()
		_, exists := s.blobs.containers[c]
		s.blobs.mu.Unlock()
		if exists {
			blobError(q, http.StatusConflict, "ContainerAlreadyExists", "The specified container already exists.")
			return
		}
		if err := s.blobs.ensure(c).wait(); err != nil {
			q.failDurability(err)
			return
		}
		q.empty(http.StatusCreated, "")
	case name == "" && (q.r.Method == http.MethodGet || q.r.Method == http.MethodHead):
		if !strings.EqualFold(q.query["comp"], "list") {
			blobError(q, http.StatusBadRequest, "InvalidQueryParameterValue", "Use restype=container&comp=list to list a container.")
			return
		}
		l, ok := s.blobs.list(c, q.query["prefix"])
		if !ok {
			blobError(q, http.StatusNotFound, "ContainerNotFound", "The specified container does not exist.")
			return
		}
		q.write(http.StatusOK, "application/xml", listingXML(q, c, q.query["prefix"], l))
	case name == "":
		blobError(q, http.StatusBadRequest, "UnsupportedHttpVerb", "The resource doesn't support the specified HTTP verb.")
	case q.r.Method == http.MethodPut:
		s.putBlob(q, c, name)
	case q.r.Method == http.MethodGet || q.r.Method == http.MethodHead:
		o, ok := s.blobs.get(c, name)
		if !ok {
			blobError(q, http.StatusNotFound, "BlobNotFound", "The specified blob does not exist.")
			return
		}
		ct := o.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		q.w.Header().Set("x-ms-blob-type", "BlockBlob")
		q.w.Header().Set("Last-Modified", o.Modified.Format(http.TimeFormat))
		q.write(http.StatusOK, ct, o.Data)
	case q.r.Method == http.MethodDelete:
		ok, b := s.blobs.del(c, name)
		if !ok {
			blobError(q, http.StatusNotFound, "BlobNotFound", "The specified blob does not exist.")
			return
		}
		if err := b.wait(); err != nil {
			q.failDurability(err)
			return
		}
		q.empty(http.StatusAccepted, "")
	default:
		blobError(q, http.StatusMethodNotAllowed, "UnsupportedHttpVerb", "The resource doesn't support the specified HTTP verb.")
	}
}

// putBlob stores the request's body as blob name of container c. It reads
// at most Options.MaxBlobBytes and a byte: a larger body, declared or not,
// gets 413 without being kept.
func (s *Server) putBlob(q *request, c, name string) {
	if t := q.r.Header.Get("x-ms-blob-type"); t != "" && !strings.EqualFold(t, "BlockBlob") {
		blobError(q, http.StatusBadRequest, "InvalidBlobType", "Only block blobs are supported.")
		return
	}
	limit := s.opts.MaxBlobBytes
	tooLarge := func() {
		blobError(q, http.StatusRequestEntityTooLarge, "RequestBodyTooLarge",
			"The request body is too large: the emulator takes blobs of at most "+strconv.FormatInt(limit, 10)+" bytes (--max-blob-size, Options.MaxBlobBytes).")
	}
	if q.r.ContentLength > limit {
		tooLarge()
		return
	}
	data, err := io.ReadAll(io.LimitReader(q.r.Body, limit+1))
	if err != nil {
		blobError(q, http.StatusBadRequest, "InvalidInput", "The request body could not be read.")
		return
	}
	if int64(len(data)) > limit {
		tooLarge()
		return
	}
	b, err := s.blobs.put(c, name, data, q.r.Header.Get("Content-Type"))
	switch {
	case errors.Is(err, errBlobStoreFull):
		blobError(q, http.StatusRequestEntityTooLarge, "RequestBodyTooLarge", "The blob does not fit: "+err.Error()+".")
		return
	case err != nil:
		blobError(q, http.StatusBadRequest, "InvalidResourceName", "The specified resource name contains invalid characters: "+err.Error()+".")
		return
	}
	if err := b.wait(); err != nil {
		q.failDurability(err)
		return
	}
	q.w.Header().Set("ETag", `"0x`+strconv.FormatInt(s.now().UnixNano(), 16)+`"`)
	q.empty(http.StatusCreated, "")
}

func listingXML(q *request, c, prefix string, l []blobEntry) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="`)
	xmlEscape(&b, "https://"+q.r.Host+blobPrefix)
	b.WriteString(`" ContainerName="`)
	xmlEscape(&b, c)
	b.WriteString(`">`)
	if prefix != "" {
		b.WriteString("<Prefix>")
		xmlEscape(&b, prefix)
		b.WriteString("</Prefix>")
	}
	b.WriteString("<Blobs>")
	for _, e := range l {
		b.WriteString("<Blob><Name>")
		xmlEscape(&b, e.name)
		b.WriteString("</Name><Properties><Last-Modified>" + e.obj.Modified.Format(http.TimeFormat) + "</Last-Modified>")
		b.WriteString("<Content-Length>" + strconv.Itoa(len(e.obj.Data)) + "</Content-Length><Content-Type>")
		xmlEscape(&b, e.obj.ContentType)
		b.WriteString("</Content-Type><BlobType>BlockBlob</BlobType></Properties></Blob>")
	}
	b.WriteString("</Blobs><NextMarker /></EnumerationResults>")
	return []byte(b.String())
}

// ---- client side (jobs) ------------------------------------------------------

// blobTarget is a container or blob SAS URL a job reads or writes.
type blobTarget struct {
	u *url.URL
}

func parseBlobURL(raw string) (blobTarget, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return blobTarget{}, fmt.Errorf("not an absolute http(s) URL")
	}
	return blobTarget{u}, nil
}

// child returns the URL of blob name inside container URL t.
func (t blobTarget) child(name string) blobTarget {
	u := *t.u
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + name
	u.RawPath = ""
	return blobTarget{&u}
}

// local returns the container and blob name when t points into the
// emulator's own blob store.
func (t blobTarget) local() (c, name string, ok bool) {
	rest, ok := strings.CutPrefix(t.u.Path, blobPrefix)
	if !ok {
		return "", "", false
	}
	c, name, _ = strings.Cut(rest, "/")
	return c, strings.TrimSuffix(name, "/"), true
}

// httpClient returns the client for blobs outside the emulator. Unless
// Options.AllowRemoteStorage is set, it refuses redirects that leave this
// machine.
func (s *Server) httpClient() *http.Client {
	c := &http.Client{Timeout: 30 * time.Second}
	if s.opts.HTTPClient != nil {
		cc := *s.opts.HTTPClient
		c = &cc
	}
	if !s.opts.AllowRemoteStorage {
		next := c.CheckRedirect
		c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if err := s.checkOutbound("redirect", blobTarget{req.URL}); err != nil {
				return err
			}
			if next != nil {
				return next(req, via)
			}
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			return nil
		}
	}
	return c
}

// checkOutbound refuses a blob URL outside this machine unless
// Options.AllowRemoteStorage is set: only the emulator's own blob service
// and loopback hosts (127.0.0.0/8, ::1, localhost) are reached by default.
// what names the URL in the error (e.g. "OutputContainerUri").
func (s *Server) checkOutbound(what string, t blobTarget) error {
	if s.opts.AllowRemoteStorage || isLoopbackHost(t.u.Hostname()) {
		return nil
	}
	if _, _, ok := t.local(); ok {
		return nil
	}
	return fmt.Errorf("the %s host %q is not on this machine: the emulator reaches only loopback hosts "+
		"(127.0.0.0/8, ::1, localhost) and its own blob service (%s); to allow other hosts set "+
		"Options.AllowRemoteStorage or run nh emulator --allow-remote-storage", what, t.u.Hostname(), blobPrefix)
}

// isLoopbackHost reports whether host (without port or brackets) is
// localhost or a loopback IP address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// readBlob fetches a blob (emulator-local or over HTTP).
func (s *Server) readBlob(ctx context.Context, t blobTarget) ([]byte, error) {
	if c, name, ok := t.local(); ok {
		q, _ := parseQuery(t.u.RawQuery)
		if !s.blobAuthorized(q, c, name, 'r') {
			return nil, fmt.Errorf("read blob %s/%s: the SAS does not grant read", c, name)
		}
		o, ok := s.blobs.get(c, name)
		if !ok {
			return nil, fmt.Errorf("read blob %s/%s: the blob does not exist", c, name)
		}
		return o.Data, nil
	}
	if err := s.checkOutbound("blob URL", t); err != nil {
		return nil, fmt.Errorf("read blob %s: %w", redactURL(t.u), err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", redactURL(t.u), err)
	}
	req.Header.Set("x-ms-version", "2019-02-02")
	resp, err := s.httpClient().Do(req)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %s", redactURL(t.u), redactErr(err, t.u))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, s.opts.MaxBlobBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %s", redactURL(t.u), redactErr(err, t.u))
	}
	if int64(len(data)) > s.opts.MaxBlobBytes {
		return nil, fmt.Errorf("read blob %s: %w (more than %d bytes; Options.MaxBlobBytes or --max-blob-size)", redactURL(t.u), errBlobTooLarge, s.opts.MaxBlobBytes)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read blob %s: status %d", redactURL(t.u), resp.StatusCode)
	}
	return data, nil
}

// writeBlob stores a block blob (emulator-local or over HTTP).
func (s *Server) writeBlob(ctx context.Context, t blobTarget, data []byte) error {
	if c, name, ok := t.local(); ok {
		q, _ := parseQuery(t.u.RawQuery)
		if !s.blobAuthorized(q, c, name, 'w') {
			return fmt.Errorf("write blob %s/%s: the SAS does not grant write", c, name)
		}
		b, err := s.blobs.put(c, name, data, "text/plain; charset=utf-8")
		if err != nil {
			return fmt.Errorf("write blob %s/%s: %w", c, name, err)
		}
		return b.wait()
	}
	if err := s.checkOutbound("blob URL", t); err != nil {
		return fmt.Errorf("write blob %s: %w", redactURL(t.u), err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, t.u.String(), bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("write blob %s: %w", redactURL(t.u), err)
	}
	req.Header.Set("x-ms-blob-type", "BlockBlob")
	req.Header.Set("x-ms-version", "2019-02-02")
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := s.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("write blob %s: %s", redactURL(t.u), redactErr(err, t.u))
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("write blob %s: status %d", redactURL(t.u), resp.StatusCode)
	}
	return nil
}

// redactURL drops the query (the SAS signature) from u.
func redactURL(u *url.URL) string {
	c := *u
	c.RawQuery = ""
	c.User = nil
	return c.String()
}

// redactErr renders err without u's query. A *url.Error is reduced to
// its cause, since its URL may be a redirect's, with another query.
func redactErr(err error, u *url.URL) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	if u.RawQuery != "" {
		msg = strings.ReplaceAll(msg, "?"+u.RawQuery, "")
		msg = strings.ReplaceAll(msg, u.RawQuery, "")
	}
	return msg
}
