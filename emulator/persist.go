package emulator

// Persistence: the store (a bbolt file written by one goroutine in group
// commits), the records it keeps, the operations handlers queue on it, and
// the load of a data directory at start.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/nhkit/notificationhubs/internal/atom"
)

// Persistence (Options.DataDir): every change is applied to the in-memory
// state under Server.mu and, in the same critical section, queued as an
// operation for the committer. The committer applies everything queued
// since its last commit in one bbolt transaction (group commit) and fsyncs
// it; the handler answers only after the batch that holds its operation
// has committed. Queueing under the lock keeps the database's order of
// changes to a key the same as memory's.

// dbFile is the database's name inside Options.DataDir.
const dbFile = "emulator.db"

// Buckets. Keys of per-hub records are lower-case hub name, NUL, id.
var (
	bHubs       = []byte("hubs")
	bRegs       = []byte("registrations")
	bInsts      = []byte("installations")
	bSched      = []byte("scheduled")
	bSends      = []byte("sends")
	bDeliveries = []byte("deliveries")
	bBlobs      = []byte("blobs")
	bJobs       = []byte("jobs")
	allBuckets  = [][]byte{bHubs, bRegs, bInsts, bSched, bSends, bDeliveries, bBlobs, bJobs, bDeliveryResults}
	// bMeta holds what the emulator keeps about itself rather than about
	// the namespace; a reset leaves it.
	bMeta = []byte("meta")
	// metaBlobSecret is the key, in bMeta, of the blob store's signing
	// secret.
	metaBlobSecret = []byte("blob-sas-secret")
)

// commitLinger is how long the committer waits, once woken, for more
// writes to join the commit.
var commitLinger = time.Millisecond

// dbOp is one change to the database.
type dbOp func(tx *bolt.Tx) error

// batch is a group of operations committed together.
type batch struct {
	ops  []dbOp
	done chan struct{}
	err  error
}

// wait blocks until the batch is durable; a nil batch (no persistence) is
// durable at once.
func (b *batch) wait() error {
	if b == nil {
		return nil
	}
	<-b.done
	return b.err
}

// store is the bbolt database and its committer.
type store struct {
	db             *bolt.DB
	path           string
	retention      int
	retentionBytes int64
	linger         time.Duration

	mu   sync.Mutex
	cur  *batch
	wake chan struct{}
	stop chan struct{}
	done chan struct{}
}

// errDamaged is a data file bbolt cannot read.
var errDamaged = errors.New("damaged")

// damaged returns the one-line error for a data file that cannot be
// read: it names the file and says what to do. cause is an error or a
// recovered panic of bbolt; its text is folded onto the line.
func damaged(path string, cause any) error {
	why := strings.Join(strings.Fields(fmt.Sprint(cause)), " ")
	return fmt.Errorf("the emulator's data file %s is %w (%s): move it away or delete it to start with an empty emulator, "+
		"or start without --data", path, errDamaged, why)
}

// isDamage reports whether err from bbolt means the file is damaged
// rather than, say, unreadable or locked.
func isDamage(err error) bool {
	return errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) ||
		errors.Is(err, berrors.ErrVersionMismatch) || errors.Is(err, berrors.ErrInvalidMapping)
}

func openStore(dir string, retention int, retentionBytes int64) (st *store, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create emulator data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, dbFile)
	// bbolt panics on some damaged pages (while it rebuilds the free list
	// at open, or reads a bucket); the emulator says so in one line.
	defer func() {
		if p := recover(); p != nil {
			st, err = nil, damaged(path, p)
		}
	}()
	if err := checkReadable(path); err != nil {
		return nil, err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 10 * time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, openError(path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range append(allBuckets, bMeta) {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		if isDamage(err) || errors.Is(err, berrors.ErrIncompatibleValue) {
			return nil, damaged(path, err)
		}
		return nil, fmt.Errorf("initialise emulator database %s: %w", path, err)
	}
	st = &store{
		db: db, path: path, retention: retention, retentionBytes: retentionBytes, linger: commitLinger,
		cur:  &batch{done: make(chan struct{})},
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go st.loop()
	return st, nil
}

// checkReadable opens an existing data file read-only and reads every
// page in this goroutine, so that a damaged page fails here, where bbolt's
// panic can be recovered: opened for writing, bbolt rebuilds its free list
// at once by walking the pages in a goroutine of its own, and a panic
// there would end the process with a stack trace.
func checkReadable(path string) (err error) {
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		return nil // a new database; bolt.Open reports what else is wrong
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 10 * time.Second, ReadOnly: true})
	if err != nil {
		return openError(path, err)
	}
	defer db.Close()
	defer func() {
		if p := recover(); p != nil {
			err = damaged(path, p)
		}
	}()
	err = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(_ []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error { return nil })
		})
	})
	if err != nil {
		return damaged(path, err)
	}
	return nil
}

// openError words an error of bolt.Open.
func openError(path string, err error) error {
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return fmt.Errorf("open emulator database %s: another process (an emulator?) holds it", path)
	case isDamage(err):
		return damaged(path, err)
	}
	return fmt.Errorf("open emulator database %s: %w", path, err)
}

// blobSecret returns the blob store's signing secret kept in the
// database, first storing secret there if it holds none.
func (st *store) blobSecret(secret []byte) ([]byte, error) {
	kept := secret
	err := st.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bMeta)
		if v := b.Get(metaBlobSecret); len(v) == blobSecretSize {
			kept = bytes.Clone(v)
			return nil
		}
		return b.Put(metaBlobSecret, secret)
	})
	return kept, err
}

// enqueue adds ops to the next commit and returns its batch.
func (st *store) enqueue(ops ...dbOp) *batch {
	st.mu.Lock()
	b := st.cur
	b.ops = append(b.ops, ops...)
	st.mu.Unlock()
	select {
	case st.wake <- struct{}{}:
	default:
	}
	return b
}

func (st *store) loop() {
	defer close(st.done)
	last := 0 // operations in the previous commit
	for {
		stopping := false
		select {
		case <-st.wake:
		case <-st.stop:
			stopping = true
		}
		if !stopping && st.linger > 0 && last > 1 {
			// Concurrent writers: let the ones the last commit answered
			// come back, so that they share the next commit instead of
			// waiting for two. A lone writer does not wait.
			time.Sleep(st.linger)
		}
		st.mu.Lock()
		b := st.cur
		st.cur = &batch{done: make(chan struct{})}
		st.mu.Unlock()
		last = len(b.ops)
		if len(b.ops) > 0 {
			b.err = st.commit(b.ops)
		}
		close(b.done)
		if stopping {
			return
		}
	}
}

// commit applies ops in one transaction. A panic of bbolt (a damaged
// page) fails the batch instead of the process.
func (st *store) commit(ops []dbOp) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = damaged(st.path, p)
		}
	}()
	err = st.db.Update(func(tx *bolt.Tx) error {
		for _, op := range ops {
			if err := op(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("commit emulator database: %w", err)
	}
	return nil
}

func (st *store) close() error {
	close(st.stop)
	<-st.done
	errClosed := errors.New("emulator database closed")
	st.mu.Lock()
	b := st.cur
	// Later writes fail at once.
	st.cur = &batch{done: make(chan struct{}), err: errClosed}
	close(st.cur.done)
	st.mu.Unlock()
	if len(b.ops) > 0 {
		b.err = errClosed
	}
	close(b.done)
	return st.db.Close()
}

// persist queues ops when the server persists; callers hold s.mu so that
// the order of queued changes matches memory's.
func (s *Server) persist(ops ...dbOp) *batch {
	if s.st == nil || len(ops) == 0 {
		return nil
	}
	return s.st.enqueue(ops...)
}

func hubKey(hub, id string) []byte { return []byte(strings.ToLower(hub) + "\x00" + id) }

func putJSON(bucket, key []byte, v any) dbOp {
	data, err := json.Marshal(v)
	return func(tx *bolt.Tx) error {
		if err != nil {
			return err
		}
		return tx.Bucket(bucket).Put(key, data)
	}
}

func delKey(bucket, key []byte) dbOp {
	return func(tx *bolt.Tx) error { return tx.Bucket(bucket).Delete(key) }
}

// seqKey is a big-endian sequence number: keys sort in insertion order.
func seqKey(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}

// appendBounded stores values under fresh sequence keys in bucket and
// trims the bucket to the newest keep entries and, roughly, keepBytes
// bytes of leaf pages.
func appendBounded(bucket []byte, keep int, keepBytes int64, values [][]byte) dbOp {
	return func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		for _, v := range values {
			n, _ := b.NextSequence()
			if err := b.Put(seqKey(n), v); err != nil {
				return err
			}
		}
		stats := b.Stats()
		overN, overBytes := stats.KeyN-keep, int64(stats.LeafInuse)-keepBytes
		c := b.Cursor()
		for k, v := c.First(); k != nil && (overN > 0 || overBytes > 0); k, v = c.First() {
			overBytes -= int64(len(k) + len(v) + 16) // 16: the leaf element's header
			if err := c.Delete(); err != nil {
				return err
			}
			overN--
		}
		return nil
	}
}

// ---- records ---------------------------------------------------------------

// hubRec is a hub and its description. Hubs created on first use have
// only a name.
type hubRec struct {
	Name         string               `json:"name"`
	Managed      bool                 `json:"managed,omitempty"`
	OwnRules     bool                 `json:"ownRules,omitempty"`
	Rules        []ruleRec            `json:"rules,omitempty"`
	TTL          string               `json:"ttl,omitempty"`
	Disabled     bool                 `json:"disabled,omitempty"`
	UserMetadata string               `json:"userMetadata,omitempty"`
	Credentials  []atom.PnsCredential `json:"credentials,omitempty"`
	Created      time.Time            `json:"created,omitzero"`
	Updated      time.Time            `json:"updated,omitzero"`
}

type regRec struct {
	Hub     string    `json:"hub"`
	XML     string    `json:"xml"`
	ETag    int64     `json:"etag"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

type instRec struct {
	Hub     string          `json:"hub"`
	JSON    json.RawMessage `json:"json"`
	Expired bool            `json:"expired,omitempty"`
	Updated time.Time       `json:"updated"`
	RegIDs  []string        `json:"regIds"` // native, then one per template
}

type schedRec struct {
	Hub       string      `json:"hub"`
	ID        string      `json:"id"`
	Due       time.Time   `json:"due"`
	Format    string      `json:"format"`
	Headers   [][2]string `json:"headers,omitempty"`
	Body      string      `json:"body"`
	TagHeader string      `json:"tags,omitempty"`
	Present   bool        `json:"tagsPresent,omitempty"`
	Enqueued  time.Time   `json:"enqueued"`
}

type sendRec struct {
	SendRecord
	Body string `json:"body"`
}

// ---- operations the handlers queue ------------------------------------------

func (s *Server) opPutHub(h *hub) dbOp {
	return putJSON(bHubs, []byte(strings.ToLower(h.name)), hubRecOf(h))
}

func (s *Server) opPutReg(h *hub, t *target) dbOp {
	xml, err := atom.MarshalRegistration(t.reg.desc)
	if err != nil {
		return func(*bolt.Tx) error { return fmt.Errorf("encode registration %s: %w", t.regID, err) }
	}
	return putJSON(bRegs, hubKey(h.name, t.regID), regRec{Hub: h.name, XML: string(xml), ETag: t.reg.etag, Created: t.reg.created, Updated: t.reg.updated})
}

func (s *Server) opDelReg(h *hub, regID string) dbOp { return delKey(bRegs, hubKey(h.name, regID)) }

func (s *Server) opPutInst(h *hub, in *installation) dbOp {
	ids := make([]string, len(in.targets))
	for i, id := range in.targets {
		ids[i] = h.targets[id].regID
	}
	return putJSON(bInsts, hubKey(h.name, in.id), instRec{Hub: h.name, JSON: in.marshal(), Expired: in.pushChannelExpired, Updated: in.updated, RegIDs: ids})
}

func (s *Server) opDelInst(h *hub, id string) dbOp { return delKey(bInsts, hubKey(h.name, id)) }

func (s *Server) opPutSched(h *hub, sc *scheduledSend) dbOp {
	r := schedRec{Hub: h.name, ID: sc.id, Due: sc.due, Format: sc.n.format, Body: sc.n.body,
		TagHeader: sc.tagHeader, Present: sc.present, Enqueued: sc.enqueued}
	for _, x := range sc.n.headers {
		r.Headers = append(r.Headers, [2]string{x.name, x.value})
	}
	return putJSON(bSched, hubKey(h.name, sc.id), r)
}

func (s *Server) opDelSched(h *hub, id string) dbOp { return delKey(bSched, hubKey(h.name, id)) }

// opAddSend stores a send record and its materialised deliveries.
func (s *Server) opAddSend(rec *SendRecord, ds []Delivery) []dbOp {
	if s.st == nil {
		return nil
	}
	r, err := json.Marshal(sendRec{SendRecord: *rec, Body: rec.Body})
	if err != nil {
		return nil
	}
	ops := []dbOp{appendBounded(bSends, s.opts.Retention, s.opts.RetentionBytes, [][]byte{r})}
	if len(ds) > 0 {
		vals := make([][]byte, 0, len(ds))
		for i := range ds {
			if v, err := json.Marshal(&ds[i]); err == nil {
				vals = append(vals, v)
			}
		}
		ops = append(ops, appendBounded(bDeliveries, s.opts.Retention, s.opts.RetentionBytes, vals))
	}
	return ops
}

// opReset empties every bucket.
func opReset(tx *bolt.Tx) error {
	for _, b := range allBuckets {
		if err := tx.DeleteBucket(b); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return err
		}
		if _, err := tx.CreateBucket(b); err != nil {
			return err
		}
	}
	return nil
}

// ---- loading ------------------------------------------------------------------

// load rebuilds the in-memory state from the database. A panic of bbolt
// (a damaged page) is returned as the error damaged gives.
func (s *Server) load() (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = damaged(s.st.path, p)
		}
	}()
	return s.st.db.View(func(tx *bolt.Tx) error {
		// Every hub has its record, written when it was created; the
		// records of a hub that has none (deleted while a write to it was
		// in flight) are dropped.
		get := func(name string) *hub { return s.hubs[strings.ToLower(name)] }
		err := tx.Bucket(bHubs).ForEach(func(_, v []byte) error {
			var r hubRec
			if json.Unmarshal(v, &r) == nil && r.Name != "" {
				key := strings.ToLower(r.Name)
				if !r.Managed && s.hubSet != nil && !s.hubSet[key] {
					return nil // a first-use hub of a run without Options.Hubs
				}
				h := s.hubs[key]
				if h == nil {
					h = newHub(r.Name)
					s.hubs[key] = h
				}
				h.meta = r.meta()
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bRegs).ForEach(func(k, v []byte) error {
			var r regRec
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("registration %q: %w", k, err)
			}
			h := get(r.Hub)
			if h == nil {
				return nil
			}
			d, err := atom.UnmarshalRegistration([]byte(r.XML))
			if err != nil {
				return fmt.Errorf("registration %q: %w", k, err)
			}
			p := platformFromAtom(d.Platform)
			_, id, _ := strings.Cut(string(k), "\x00")
			h.add(regTarget(id, p, d, r.ETag, r.Created, r.Updated))
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bInsts).ForEach(func(k, v []byte) error {
			var r instRec
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("installation %q: %w", k, err)
			}
			h := get(r.Hub)
			if h == nil {
				return nil
			}
			in, err := parseInstallation(r.JSON)
			if err == nil {
				err = in.validate()
			}
			if err != nil {
				return fmt.Errorf("installation %q: %w", k, err)
			}
			in.pushChannelExpired = r.Expired
			in.updated = r.Updated
			ids := map[string]string{}
			for i, id := range r.RegIDs {
				key := ""
				if i > 0 {
					if i-1 >= len(in.templates) {
						break
					}
					key = "t:" + in.templates[i-1].name
				}
				ids[key] = id
			}
			h.projectIDs(in, nil, ids)
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bSched).ForEach(func(k, v []byte) error {
			var r schedRec
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("scheduled notification %q: %w", k, err)
			}
			h := get(r.Hub)
			if h == nil {
				return nil
			}
			var hs []kv
			for _, x := range r.Headers {
				hs = append(hs, kv{x[0], x[1]})
			}
			n, err := rebuildNotification(r.Format, hs, r.Body)
			if err != nil {
				return fmt.Errorf("scheduled notification %q: %w", k, err)
			}
			h.scheduled[r.ID] = &scheduledSend{id: r.ID, due: r.Due, n: n, tagHeader: r.TagHeader, present: r.Present, enqueued: r.Enqueued, hubName: r.Hub}
			return nil
		})
		if err != nil {
			return err
		}
		var sends []SendRecord
		err = tx.Bucket(bSends).ForEach(func(k, v []byte) error {
			var r sendRec
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("send record %x: %w", k, err)
			}
			r.SendRecord.Body = r.Body
			sends = append(sends, r.SendRecord)
			return nil
		})
		if err != nil {
			return err
		}
		s.sends.push(sends...)
		var ds []Delivery
		err = tx.Bucket(bDeliveries).ForEach(func(k, v []byte) error {
			var d Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("delivery %x: %w", k, err)
			}
			ds = append(ds, d)
			return nil
		})
		if err != nil {
			return err
		}
		s.deliveries.push(ds...)
		if err := s.loadDeliveryResults(tx); err != nil {
			return err
		}
		if err := s.blobs.load(tx); err != nil {
			return err
		}
		return s.loadJobs(tx, get)
	})
}
