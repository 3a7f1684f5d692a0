package push_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/nhkit/notificationhubs/emulator/internal/push"
	"github.com/nhkit/notificationhubs/emulator/internal/push/pushtest"
)

// recordingTB catches the guard's complaints instead of failing.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

// TestNoDialLeavesForTheRealServices: every client built with the stand-in
// options but without endpoint overrides tries the real service's host,
// and the guard dialer refuses it and says so (so the guard in every other
// test, which passes, is one that would have caught a stray dial).
func TestNoDialLeavesForTheRealServices(t *testing.T) {
	a, g, w, adm := pushtest.NewApns(t), pushtest.NewGoogle(t), pushtest.NewWns(t), pushtest.NewAdm(t)
	fcmCred := g.NewCredential(t, "p")
	rec := &recordingTB{TB: t}
	opts := pushtest.Options(rec, a, g, w, adm)
	opts.Endpoints = push.Endpoints{} // the real services
	wnsCred, admCred := w.NewCredential(t), adm.NewCredential(t)
	wnsCredReal, _ := push.NewWnsCredential(wnsCred.PackageSID, "s")
	wp := pushtest.NewWebPush(t)
	vapid := pushtest.NewVapidCredential(t)
	sub := wp.Subscribe(t, vapid.PublicKey)
	for _, tc := range []struct {
		cred any
		n    *push.Notification
		host string
	}{
		{a.NewTokenCredential(t, "com.example.app"), &push.Notification{Handle: apnsHandle(), Payload: []byte(apnsPayload)}, "api.sandbox.push.apple.com:443"},
		{fcmCred, &push.Notification{Handle: "t", Payload: []byte(`{"message":{}}`)}, ""}, // token_uri is the stand-in's: FCM's own host is the leak
		{wnsCredReal, &push.Notification{Handle: "https://db5p.notify.windows.com/?token=x", Payload: []byte("<toast/>")}, "login.live.com:443"},
		{admCred, &push.Notification{Handle: "amzn1.x", Payload: []byte(`{"data":{}}`)}, "api.amazon.com:443"},
		{vapid, &push.Notification{Handle: "https://updates.push.services.mozilla.com/wpush/v2/x", P256DH: sub.P256DH, Auth: sub.Auth,
			Payload: []byte("x")}, "updates.push.services.mozilla.com:443"},
	} {
		c, err := push.NewClient(tc.cred, opts)
		if err != nil {
			t.Fatal(err)
		}
		r := c.Send(context.Background(), tc.n)
		if r.Status != push.StatusUnavailable || !strings.Contains(r.Reason, "not a stand-in") {
			t.Errorf("%s: result %+v, want the dial refused", c.Service(), r)
		}
		if tc.host != "" && !strings.Contains(strings.Join(rec.errs, "\n"), tc.host) {
			t.Errorf("%s: the guard did not report %s: %q", c.Service(), tc.host, rec.errs)
		}
	}
	if !strings.Contains(strings.Join(rec.errs, "\n"), "fcm.googleapis.com:443") {
		t.Errorf("fcmv1: the guard did not report fcm.googleapis.com: %q", rec.errs)
	}
	if len(rec.errs) != 5 {
		t.Errorf("guard reported %d dials, want 5: %q", len(rec.errs), rec.errs)
	}
}
