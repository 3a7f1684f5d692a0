package push_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nhkit/notificationhubs/emulator/internal/push"
	"github.com/nhkit/notificationhubs/emulator/internal/push/pushtest"
)

// step is one send at an offset of the fake clock, and the token count the
// stand-in should have seen after it.
type step struct {
	at     time.Duration
	tokens int
}

// TestApnsProviderTokenLifetime: one provider token for 50 minutes (Apple
// wants at least 20 between renewals), a new one after (before the hour
// at which Apple refuses it), counted by the stand-in's signature checks on
// the same fake clock.
func TestApnsProviderTokenLifetime(t *testing.T) {
	clock := pushtest.NewClock(epoch)
	a := pushtest.NewApns(t)
	a.SetNow(clock.Now)
	opts := pushtest.Options(t, a)
	opts.Clock = clock
	c, _ := push.NewApnsTokenClient(a.NewTokenCredential(t, "com.example.app"), opts)
	defer c.Close()
	runSteps(t, clock, func() push.Result {
		return c.Send(context.Background(), &push.Notification{Handle: apnsHandle(), Payload: []byte(apnsPayload)})
	}, a.TokensSeen, []step{
		{0, 1}, {19 * time.Minute, 1}, {49 * time.Minute, 1}, {50 * time.Minute, 2},
		{99 * time.Minute, 2}, {100 * time.Minute, 3},
	})
}

// TestApnsExpiredTokenIsRefused proves the stand-in's age check, the
// reason renewal matters: a token signed more than an hour ago is refused.
func TestApnsExpiredTokenIsRefused(t *testing.T) {
	clientClock, serverClock := pushtest.NewClock(epoch), pushtest.NewClock(epoch.Add(61*time.Minute))
	a := pushtest.NewApns(t)
	a.SetNow(serverClock.Now)
	opts := pushtest.Options(t, a)
	opts.Clock = clientClock
	c, _ := push.NewApnsTokenClient(a.NewTokenCredential(t, "com.example.app"), opts)
	r := c.Send(context.Background(), &push.Notification{Handle: apnsHandle(), Payload: []byte(apnsPayload)})
	if r.Status != push.StatusBadCredential || r.Reason != "ExpiredProviderToken" {
		t.Fatalf("result %+v", r)
	}
}

// TestOAuthTokenLifetime: Google, WNS and ADM access tokens are reused
// until shortly before expires_in and fetched again after, by the client's
// fake clock; the stand-ins count the token requests (for Google each one
// is a newly signed JWT assertion).
func TestOAuthTokenLifetime(t *testing.T) {
	ctx := context.Background()
	t.Run("fcmv1", func(t *testing.T) {
		clock := pushtest.NewClock(epoch)
		g := pushtest.NewGoogle(t) // checks assertions against the real clock, as they are signed by it
		opts := pushtest.Options(t, g)
		opts.Clock = clock
		c, _ := push.NewFcmV1Client(g.NewCredential(t, "p"), opts)
		runSteps(t, clock, func() push.Result {
			return c.Send(ctx, &push.Notification{Handle: "tok", Payload: []byte(`{"message":{}}`)})
		}, g.TokenRequests, []step{{0, 1}, {30 * time.Minute, 1}, {54 * time.Minute, 1}, {55 * time.Minute, 2}, {100 * time.Minute, 2}, {110 * time.Minute, 3}})
	})
	t.Run("wns", func(t *testing.T) {
		clock := pushtest.NewClock(epoch)
		s := pushtest.NewWns(t)
		opts := pushtest.Options(t, s)
		opts.Clock = clock
		c, _ := push.NewWnsClient(s.NewCredential(t), opts)
		ch := s.ChannelURI()
		runSteps(t, clock, func() push.Result {
			return c.Send(ctx, &push.Notification{Handle: ch, Payload: []byte(`<toast/>`)})
		}, s.TokenRequests, []step{{0, 1}, {23 * time.Hour, 1}, {23*time.Hour + 55*time.Minute, 2}})
	})
	t.Run("adm", func(t *testing.T) {
		clock := pushtest.NewClock(epoch)
		s := pushtest.NewAdm(t)
		s.SetNow(clock.Now)
		opts := pushtest.Options(t, s)
		opts.Clock = clock
		c, _ := push.NewAdmClient(s.NewCredential(t), opts)
		runSteps(t, clock, func() push.Result {
			return c.Send(ctx, &push.Notification{Handle: "amzn1.adm-registration.v3.x", Payload: []byte(`{"data":{}}`)})
		}, s.TokenRequests, []step{{0, 1}, {54 * time.Minute, 1}, {55 * time.Minute, 2}})
	})
	t.Run("adm token refused after expiry is fetched again", func(t *testing.T) {
		// The stand-in's clock runs ahead of the client's: the cached
		// token is expired there. The client drops it and retries once.
		clock, ahead := pushtest.NewClock(epoch), pushtest.NewClock(epoch)
		s := pushtest.NewAdm(t)
		s.SetNow(ahead.Now)
		opts := pushtest.Options(t, s)
		opts.Clock = clock
		c, _ := push.NewAdmClient(s.NewCredential(t), opts)
		send := func() push.Result {
			return c.Send(ctx, &push.Notification{Handle: "amzn1.adm-registration.v3.x", Payload: []byte(`{"data":{}}`)})
		}
		if r := send(); r.Status != push.StatusDelivered {
			t.Fatalf("result %+v", r)
		}
		ahead.Advance(2 * time.Hour)
		if r := send(); r.Status != push.StatusDelivered || s.TokenRequests() != 2 {
			t.Fatalf("result %+v after %d token requests", r, s.TokenRequests())
		}
	})
}

// TestVapidTokenLifetime: one VAPID JWT per push service origin for 11
// hours (signed for 12, RFC 8292 allows 24).
func TestVapidTokenLifetime(t *testing.T) {
	clock := pushtest.NewClock(epoch)
	s := pushtest.NewWebPush(t)
	s.SetNow(clock.Now)
	cred := pushtest.NewVapidCredential(t)
	opts := pushtest.Options(t, s)
	opts.Clock = clock
	c, _ := push.NewWebPushClient(cred, opts)
	sub := s.Subscribe(t, cred.PublicKey)
	tokens := func() int {
		seen := map[string]bool{}
		for _, r := range s.Received() {
			seen[r.Header.Get("Authorization")] = true
		}
		return len(seen)
	}
	runSteps(t, clock, func() push.Result {
		return c.Send(context.Background(), &push.Notification{Handle: sub.Endpoint, P256DH: sub.P256DH, Auth: sub.Auth, Payload: []byte("x")})
	}, tokens, []step{{0, 1}, {10 * time.Hour, 1}, {11 * time.Hour, 2}})
	if a := s.Received()[0].Header.Get("Authorization"); !strings.HasPrefix(a, "vapid t=") || !strings.Contains(a, ", k="+cred.PublicKey) {
		t.Errorf("Authorization %q is not vapid t=…, k=…", a)
	}
}

// runSteps advances clock to each step's offset, sends, and checks the
// result and count.
func runSteps(t *testing.T, clock *pushtest.Clock, send func() push.Result, count func() int, steps []step) {
	t.Helper()
	for _, s := range steps {
		clock.Advance(epoch.Add(s.at).Sub(clock.Now()))
		r := send()
		if r.Status != push.StatusDelivered {
			t.Fatalf("at +%v: result %+v", s.at, r)
		}
		if got := count(); got != s.tokens {
			t.Fatalf("at +%v: %d tokens, want %d", s.at, got, s.tokens)
		}
	}
}
