package notificationhubs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	nh "github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/emulator"
	"github.com/nhkit/notificationhubs/emulator/emulatortest"
)

const bulkHub = "bulk"

// bulkEnv is an emulator with one FCM v1 template registration tagged
// "all" whose payload carries the template property "key", so that each
// delivery names the notification it came from.
type bulkEnv struct {
	srv    *emulatortest.Server
	client *nh.Client
	tries  *tryLog
	tr     *http.Transport
}

func newBulkEnv(t *testing.T, opts emulator.Options) *bulkEnv {
	t.Helper()
	if opts.Retention == 0 {
		opts.Retention = 100000
	}
	srv := emulatortest.NewServerWithOptions(t, opts)
	tries := &tryLog{}
	// Keep a connection per sender, as the SDK's default transport does.
	tr := srv.Client.Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	t.Cleanup(tr.CloseIdleConnections)
	c, err := nh.NewClientFromConnectionString(srv.ConnectionString, bulkHub, &nh.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport:        &http.Client{Transport: tr},
		PerRetryPolicies: []policy.Policy{tries},
	}})
	if err != nil {
		t.Fatal(err)
	}
	reg := nh.NewFcmV1TemplateRegistration("bulk-token", `{"message":{"data":{"key":"$(key)"}}}`, "all")
	if _, err := c.CreateRegistration(context.Background(), reg, nil); err != nil {
		t.Fatal(err)
	}
	tries.reset()
	return &bulkEnv{srv: srv, client: c, tries: tries, tr: tr}
}

// bulkItems returns n notifications keyed k0…k(n-1), each to tag "all".
func bulkItems(n int) iter.Seq[nh.BulkNotification] {
	return func(yield func(nh.BulkNotification) bool) {
		for i := range n {
			k := "k" + strconv.Itoa(i)
			if !yield(nh.BulkNotification{Key: k, Notification: nh.NewTemplateNotification(map[string]string{"key": k}), Tags: []string{"all"}}) {
				return
			}
		}
	}
}

// delivered counts the deliveries of each key.
func (e *bulkEnv) delivered(t *testing.T) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, d := range e.srv.Deliveries(emulator.DeliveryFilter{Hub: bulkHub}) {
		var p struct {
			Message struct {
				Data map[string]string `json:"data"`
			} `json:"message"`
		}
		if err := json.Unmarshal([]byte(d.Payload), &p); err != nil {
			t.Fatalf("delivery %q: %v", d.Payload, err)
		}
		got[p.Message.Data["key"]]++
	}
	return got
}

// collectBulk runs the bulk send and returns its results by key, failing the
// test on a key that comes back twice.
func collectBulk(t *testing.T, seq iter.Seq[nh.BulkSendResult]) map[string]nh.BulkSendResult {
	t.Helper()
	out := map[string]nh.BulkSendResult{}
	for r := range seq {
		if _, dup := out[r.Key]; dup {
			t.Errorf("two results for %s", r.Key)
		}
		out[r.Key] = r
	}
	return out
}

// tryLog is a per-try policy recording the status of each answer.
type tryLog struct {
	mu sync.Mutex
	l  []bulkTry
}

type bulkTry struct {
	status int
}

func (l *tryLog) Do(req *policy.Request) (*http.Response, error) {
	resp, err := req.Next()
	var tr bulkTry
	if err == nil {
		tr.status = resp.StatusCode
	}
	l.mu.Lock()
	l.l = append(l.l, tr)
	l.mu.Unlock()
	return resp, err
}

func (l *tryLog) reset() {
	l.mu.Lock()
	l.l = nil
	l.mu.Unlock()
}

func (l *tryLog) all() []bulkTry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]bulkTry(nil), l.l...)
}

// pacerLog records the sends a BulkSender's pacer starts and the
// throttled answers it is told of, in the order it saw them and with the
// times it was given. Tests check the order of events, not how long
// things took, so that a loaded machine does not fail them.
type pacerLog struct {
	mu sync.Mutex
	ev []nh.PacerEvent
}

func tracePacer(s *nh.BulkSender) *pacerLog {
	l := &pacerLog{}
	nh.TracePacer(s, func(e nh.PacerEvent) {
		l.mu.Lock()
		l.ev = append(l.ev, e)
		l.mu.Unlock()
	})
	return l
}

func (l *pacerLog) events() []nh.PacerEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]nh.PacerEvent(nil), l.ev...)
}

// starts counts the sends started.
func (l *pacerLog) starts() int {
	n := 0
	for _, e := range l.events() {
		if !e.Throttled {
			n++
		}
	}
	return n
}

// startsDuringHold returns the sends started after a throttled answer
// with a Retry-After (after it in the pacer's order) but before that
// Retry-After had passed, counted from the answer's arrival. A send
// started before the answer arrived was already under way.
func (l *pacerLog) startsDuringHold() []string {
	var out []string
	var until time.Time
	var ra time.Duration
	for _, e := range l.events() {
		switch {
		case e.Throttled && e.RetryAfter > 0:
			if end := e.At.Add(e.RetryAfter); end.After(until) {
				until, ra = end, e.RetryAfter
			}
		case !e.Throttled && e.At.Before(until):
			out = append(out, fmt.Sprintf("a send started %v before the end of a Retry-After of %v", until.Sub(e.At), ra))
		}
	}
	return out
}

// checkPaced checks that sends, started one after the other with no
// throttled answer between them, kept to the pace: the first at from or
// later, each next at least the pace's interval (at the rate after the
// one before) after the slot of the one before. A send that started late
// may be followed sooner, but never so that the sends get ahead of the
// pace.
func checkPaced(t *testing.T, sends []nh.PacerEvent, from time.Time) {
	t.Helper()
	slot := from
	for k, e := range sends {
		if e.Throttled {
			t.Fatalf("send %d: a throttled answer among the sends", k)
		}
		if e.At.Before(slot) {
			t.Errorf("send %d started %v ahead of the pace", k, slot.Sub(e.At))
			return
		}
		if e.Rate <= 0 {
			t.Errorf("send %d started unpaced", k)
			return
		}
		slot = slot.Add(time.Duration(float64(time.Second) / e.Rate))
	}
}

// TestBulkSendExactlyOnce sends through a throttled hub that also
// answers some sends 503 with Retry-After and some 429 without: every
// notification must come back sent and be delivered exactly once, and no
// request may go out while a Retry-After runs. Both throttle models.
//
// The hub's rate is far below what the senders reach even under the race
// detector on a busy machine (several hundred a second), and what it lets
// through at once (its burst, or a window's worth: its windows are 100 ms
// long) is below the senders' concurrency, so that the hub throttles on
// its own however slow the machine is: with one-second windows a machine
// busy with other tests sent 300 in 4.5 s and was never throttled.
func TestBulkSendExactlyOnce(t *testing.T) {
	const n = 300
	for _, model := range []struct {
		name   string
		window time.Duration
	}{{"bucket", 0}, {"window", 100 * time.Millisecond}} {
		t.Run(model.name, func(t *testing.T) {
			e := newBulkEnv(t, emulator.Options{ThrottleRate: 100, ThrottleBurst: 10, ThrottleWindow: model.window})
			e.srv.InjectFault(emulator.Fault{Op: emulator.OpSend, Status: 503, RetryAfter: 1, Count: 3})
			s := e.client.NewBulkSender(&nh.BulkSenderOptions{Concurrency: 16})
			pl := tracePacer(s)
			var sent int
			got := collectBulk(t, s.Send(context.Background(), func(yield func(nh.BulkNotification) bool) {
				for it := range bulkItems(n) {
					if it.Key == "k150" {
						// Half-way: a 429 without Retry-After and a 503
						// with it.
						e.srv.InjectFault(emulator.Fault{Op: emulator.OpSend, Status: 429, RetryAfter: -1})
						e.srv.InjectFault(emulator.Fault{Op: emulator.OpSend, Status: 503, RetryAfter: 1})
					}
					if !yield(it) {
						return
					}
				}
			}))
			for k, r := range got {
				if r.Err != nil {
					t.Errorf("%s: %v", k, r.Err)
				} else {
					sent++
				}
			}
			if len(got) != n || sent != n {
				t.Errorf("%d results, %d sent; want %d", len(got), sent, n)
			}
			del := e.delivered(t)
			for i := range n {
				if k := "k" + strconv.Itoa(i); del[k] != 1 {
					t.Errorf("%s delivered %d times", k, del[k])
				}
			}
			tries := e.tries.all()
			var throttled, busy int
			for _, tr := range tries {
				switch tr.status {
				case 429:
					throttled++
				case 503:
					busy++
				}
			}
			if throttled <= 1 || busy != 4 {
				t.Errorf("%d throttled and %d busy answers; the test wants the hub's own 429s besides the injected one, and 4 busy", throttled, busy)
			}
			if st := s.Stats(); st.Throttled != int64(throttled+busy) || st.Sent != n || st.Failed != 0 || st.InFlight != 0 {
				t.Errorf("stats %+v; the hub throttled %d times", st, throttled+busy)
			}
			// Every request went out in a slot of the pacer's, and none
			// in a slot after a throttled answer and before its
			// Retry-After had passed.
			if n := pl.starts(); n != len(tries) {
				t.Errorf("%d requests, %d slots started", len(tries), n)
			}
			if l := pl.startsDuringHold(); len(l) > 0 {
				t.Errorf("%d requests went out during a Retry-After, e.g. %s", len(l), l[0])
			}
			t.Logf("%d requests for %d notifications, %d throttled, %d busy; pace at the end %.0f/s", len(tries), n, throttled, busy, s.Stats().Rate)
		})
	}
}

// TestBulkSendRetryAfterHoldsEverySend sends through a hub whose every
// request is throttled for a while, with a Retry-After of 2 s: no request
// may go out before it has passed, counted from the throttled answer, and
// after it the sends resume paced rather than all at once. Times are the
// pacer's, in the order it saw the events.
func TestBulkSendRetryAfterHoldsEverySend(t *testing.T) {
	e := newBulkEnv(t, emulator.Options{})
	s := e.client.NewBulkSender(&nh.BulkSenderOptions{Concurrency: 32})
	pl := tracePacer(s)
	first := true
	got := collectBulk(t, s.Send(context.Background(), func(yield func(nh.BulkNotification) bool) {
		for it := range bulkItems(200) {
			if first {
				first = false
				e.srv.InjectFault(emulator.Fault{Op: emulator.OpSend, Status: 429, RetryAfter: 2, Count: 3})
			}
			if !yield(it) {
				return
			}
		}
	}))
	for k, r := range got {
		if r.Err != nil {
			t.Errorf("%s: %v", k, r.Err)
		}
	}
	if n, tries := pl.starts(), len(e.tries.all()); n != tries {
		t.Errorf("%d requests, %d slots started", tries, n)
	}
	if l := pl.startsDuringHold(); len(l) > 0 {
		t.Errorf("%d requests went out during a Retry-After, e.g. %s", len(l), l[0])
	}
	ev := pl.events()
	last, before := -1, 0
	var holdEnd time.Time
	for i, e := range ev {
		if e.Throttled {
			last = i
			if end := e.At.Add(e.RetryAfter); end.After(holdEnd) {
				holdEnd = end
			}
		}
	}
	for _, e := range ev[:last+1] {
		if !e.Throttled {
			before++
		}
	}
	if last < 0 {
		t.Fatal("no throttled answer")
	}
	resumed := ev[last+1:]
	if len(resumed) == 0 {
		t.Fatal("no send after the throttled answers")
	}
	// After the hold: paced, at most at the rate of what got through
	// before (the hub's burst, 29 sends or a few more), not the 32
	// senders at once.
	if r := resumed[0].Rate; r <= 0 || r > float64(max(4, before)) {
		t.Errorf("the sends resumed at %.0f/s; %d got through before the hold", r, before)
	}
	checkPaced(t, resumed, holdEnd)
}

// TestBulkSendStopsOn403 answers one send 403 (quota exceeded): the bulk
// send stops without retrying it, the sends in flight finish, and every
// notification taken but not sent comes back as not sent. Nothing is
// delivered twice and the input is not read to its end.
func TestBulkSendStopsOn403(t *testing.T) {
	e := newBulkEnv(t, emulator.Options{})
	var pulled atomic.Int64
	seq := func(yield func(nh.BulkNotification) bool) {
		for it := range bulkItems(1000) {
			pulled.Add(1)
			if it.Key == "k100" {
				e.srv.InjectFault(emulator.Fault{Op: emulator.OpSend, Status: 403})
			}
			if !yield(it) {
				return
			}
		}
	}
	const conc = 8
	s := e.client.NewBulkSender(&nh.BulkSenderOptions{Concurrency: conc})
	got := collectBulk(t, s.Send(context.Background(), seq))
	var sent, notSent, forbidden int
	for k, r := range got {
		var re *nh.ResponseError
		switch {
		case r.Err == nil:
			sent++
		case errors.Is(r.Err, nh.ErrNotSent):
			notSent++
			if !strings.Contains(r.Err.Error(), "403") {
				t.Errorf("%s: %v does not say why", k, r.Err)
			}
		case errors.As(r.Err, &re) && re.StatusCode == 403:
			forbidden++
			if r.Attempts != 1 {
				t.Errorf("%s: %d attempts after a 403", k, r.Attempts)
			}
		default:
			t.Errorf("%s: %v", k, r.Err)
		}
	}
	// The 403 goes to whichever send reaches the hub next: one of the
	// rows taken before k100 that had not yet gone out (at most conc of
	// them on a busy machine), or k100.
	if forbidden != 1 || sent < 100-conc || notSent == 0 {
		t.Errorf("%d sent, %d forbidden, %d not sent", sent, forbidden, notSent)
	}
	if p := pulled.Load(); p > int64(sent+forbidden+notSent)+1 || p > 200 {
		t.Errorf("%d notifications taken from the input, %d results", p, len(got))
	}
	if int(pulled.Load()) < len(got) {
		t.Errorf("%d results for %d notifications taken", len(got), pulled.Load())
	}
	del := e.delivered(t)
	for k, r := range got {
		want := 0
		if r.Err == nil {
			want = 1
		}
		if del[k] != want {
			t.Errorf("%s (%v) delivered %d times", k, r.Err, del[k])
		}
	}
}

// TestBulkSendUnsafeRetries answers sends 503 without Retry-After: the
// hub may have acted, so they fail, unless the caller opts in to unsafe
// retries (the emulator did not act, so they are then delivered once).
func TestBulkSendUnsafeRetries(t *testing.T) {
	for _, unsafe := range []bool{false, true} {
		t.Run(fmt.Sprintf("RetryUnsafe=%v", unsafe), func(t *testing.T) {
			e := newBulkEnv(t, emulator.Options{})
			e.srv.InjectFault(emulator.Fault{Op: emulator.OpSend, Status: 503, Count: 3})
			s := e.client.NewBulkSender(&nh.BulkSenderOptions{Concurrency: 1, RetryUnsafe: unsafe})
			got := collectBulk(t, s.Send(context.Background(), bulkItems(10)))
			failed := 0
			for k, r := range got {
				if r.Err == nil {
					continue
				}
				failed++
				var re *nh.ResponseError
				if !errors.As(r.Err, &re) || re.StatusCode != 503 || errors.Is(r.Err, nh.ErrNotSent) || r.Attempts != 1 {
					t.Errorf("%s: %v after %d attempts, want the 503 after one", k, r.Err, r.Attempts)
				}
			}
			want := 3
			if unsafe {
				want = 0
			}
			if failed != want || len(got) != 10 {
				t.Errorf("%d of %d failed, want %d", failed, len(got), want)
			}
			del := e.delivered(t)
			for k, r := range got {
				if (r.Err == nil) != (del[k] == 1) || del[k] > 1 {
					t.Errorf("%s (%v) delivered %d times", k, r.Err, del[k])
				}
			}
		})
	}
}

// TestBulkSendCancel cancels a bulk send half-way: every notification
// taken has a result, the sent ones were delivered once, the others not
// at all, and Send returns.
func TestBulkSendCancel(t *testing.T) {
	e := newBulkEnv(t, emulator.Options{ThrottleRate: 300, ThrottleBurst: 30})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var pulled atomic.Int64
	seq := func(yield func(nh.BulkNotification) bool) {
		for it := range bulkItems(100000) {
			pulled.Add(1)
			if !yield(it) {
				return
			}
		}
	}
	s := e.client.NewBulkSender(&nh.BulkSenderOptions{Concurrency: 16})
	got := map[string]nh.BulkSendResult{}
	for r := range s.Send(ctx, seq) {
		got[r.Key] = r
		if len(got) == 300 {
			cancel()
		}
	}
	if int64(len(got)) != pulled.Load() {
		t.Errorf("%d results for %d notifications taken", len(got), pulled.Load())
	}
	del := e.delivered(t)
	var notSent int
	for k, r := range got {
		switch {
		case r.Err == nil:
			if del[k] != 1 {
				t.Errorf("%s sent, delivered %d times", k, del[k])
			}
		case errors.Is(r.Err, nh.ErrNotSent) && errors.Is(r.Err, context.Canceled):
			notSent++
			if del[k] != 0 {
				t.Errorf("%s not sent, delivered %d times", k, del[k])
			}
		default:
			t.Errorf("%s: %v", k, r.Err)
		}
	}
	if notSent == 0 || len(got) > 300+2*16+1 {
		t.Errorf("%d results, %d not sent", len(got), notSent)
	}
	if st := s.Stats(); st.InFlight != 0 {
		t.Errorf("%d requests in flight after Send returned", st.InFlight)
	}
}

// TestBulkSendStreamsBounded reads the results of an endless input and
// stops after 2000: the sender must have taken only about as many
// notifications as it sent, and leave no goroutine behind.
func TestBulkSendStreamsBounded(t *testing.T) {
	e := newBulkEnv(t, emulator.Options{Retention: 10})
	before := runtime.NumGoroutine()
	var pulled atomic.Int64
	endless := func(yield func(nh.BulkNotification) bool) {
		n := nh.BulkNotification{Notification: nh.NewTemplateNotification(map[string]string{"key": "x"}), Tags: []string{"all"}}
		for i := 0; ; i++ {
			pulled.Add(1)
			n.Key = strconv.Itoa(i)
			if !yield(n) {
				return
			}
		}
	}
	const conc = 8
	s := e.client.NewBulkSender(&nh.BulkSenderOptions{Concurrency: conc})
	read := 0
	for r := range s.Send(context.Background(), endless) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		if read++; read == 2000 {
			break
		}
	}
	// In flight, buffered and in the hands of the workers and the feeder.
	if p := pulled.Load(); p > 2000+3*conc+2 {
		t.Errorf("%d notifications taken for 2000 results", p)
	}
	// The transport's idle connections have goroutines of their own.
	e.tr.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before+2 {
		t.Errorf("%d goroutines after Send, %d before", g, before)
	}
}

// TestBulkSendMaxRate starts at MaxRate below the hub's rate: nothing is
// throttled and the rate is not exceeded.
func TestBulkSendMaxRate(t *testing.T) {
	e := newBulkEnv(t, emulator.Options{ThrottleRate: 400, ThrottleBurst: 20})
	s := e.client.NewBulkSender(&nh.BulkSenderOptions{Concurrency: 16, MaxRate: 300})
	pl := tracePacer(s)
	got := collectBulk(t, s.Send(context.Background(), bulkItems(600)))
	for k, r := range got {
		if r.Err != nil {
			t.Errorf("%s: %v", k, r.Err)
		}
	}
	if st := s.Stats(); st.Throttled != 0 || st.Rate != 300 {
		t.Errorf("stats %+v, want no throttled answer at 300/s", st)
	}
	// Each send at least 1/300 s after the slot of the one before, on
	// the pacer's clock: 600 sends span 2 s.
	ev := pl.events()
	if len(ev) != 600 {
		t.Fatalf("%d events, want 600 sends", len(ev))
	}
	for _, e := range ev {
		if e.Rate != 300 {
			t.Fatalf("a send at %.0f/s", e.Rate)
		}
	}
	checkPaced(t, ev, ev[0].At)
}

// TestBulkSendInvalidNotifications fails invalid notifications without
// a request and sends the rest.
func TestBulkSendInvalidNotifications(t *testing.T) {
	e := newBulkEnv(t, emulator.Options{})
	s := e.client.NewBulkSender(nil)
	seq := func(yield func(nh.BulkNotification) bool) {
		for it := range bulkItems(20) {
			switch it.Key {
			case "k3":
				it.Tags, it.TagExpression = nil, "(a && "
			case "k4":
				it.Notification = nh.NewFcmV1Notification([]byte(`{"message":`))
			}
			if !yield(it) {
				return
			}
		}
	}
	got := collectBulk(t, s.Send(context.Background(), seq))
	for k, r := range got {
		bad := k == "k3" || k == "k4"
		if (r.Err != nil) != bad || bad && (r.Attempts != 0 || errors.Is(r.Err, nh.ErrNotSent)) {
			t.Errorf("%s: %v after %d attempts", k, r.Err, r.Attempts)
		}
	}
	if len(got) != 20 || len(e.tries.all()) != 18 {
		t.Errorf("%d results, %d requests", len(got), len(e.tries.all()))
	}
}
