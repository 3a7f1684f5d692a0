package push_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/nhkit/notificationhubs/emulator/internal/push"
	"github.com/nhkit/notificationhubs/emulator/internal/push/pushtest"
)

// TestWnsChannelsOnWnsDomainOnly: without an endpoint override, the WNS
// client posts (with the app's bearer token) only to channel URIs in
// notify.windows.com, as Microsoft asks of every sender. Others fail as
// BadChannel before any request, token requests included.
func TestWnsChannelsOnWnsDomainOnly(t *testing.T) {
	s := pushtest.NewWns(t)
	rec := &recordingTB{TB: t}
	opts := pushtest.Options(rec, s)
	opts.Endpoints.Wns = "" // channel URIs as registered
	c, err := push.NewWnsClient(s.NewCredential(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []string{
		s.ChannelURI(), // the stand-in itself, on loopback
		"https://attacker.example/?token=x",
		"https://notify.windows.com.attacker.example/?token=x",
		"https://evilnotify.windows.com/?token=x",
		"https://db5p.notify.windows.com:8443/?token=x",
		"https://10.0.0.7/?token=x",
	} {
		r := c.Send(context.Background(), &push.Notification{Handle: ch, Payload: []byte("<toast/>")})
		if r.Status != push.StatusHandleGone || r.Outcome != push.OutcomeBadChannel || !strings.Contains(r.Reason, "notify.windows.com") {
			t.Errorf("%s: result %+v, want BadChannel saying why", ch, r)
		}
	}
	if n := s.TokenRequests(); n != 0 || len(s.Received()) != 0 || len(rec.errs) != 0 {
		t.Fatalf("refused channels made %d token requests, %d sends, dials %q", n, len(s.Received()), rec.errs)
	}
	// WNS's own hosts, whatever the case, are posted to.
	for _, ch := range []string{"https://db5p.notify.windows.com/?token=x", "https://WNS2-BY3P.Notify.Windows.COM:443/w/?token=x"} {
		rec.errs = nil
		r := c.Send(context.Background(), &push.Notification{Handle: ch, Payload: []byte("<toast/>")})
		if r.Status != push.StatusUnavailable || len(rec.errs) != 1 || !strings.Contains(strings.ToLower(rec.errs[0]), ".notify.windows.com:443") {
			t.Errorf("%s: result %+v, dials %q; want the dial to WNS tried", ch, r, rec.errs)
		}
	}
}

// TestWebPushRefusesInternalAddresses: without an endpoint override, the
// Web Push client posts to no subscription endpoint on this machine or a
// private network, named by address or by a name that resolves to one;
// such subscriptions fail as BadChannel and the push service behind them
// receives nothing.
func TestWebPushRefusesInternalAddresses(t *testing.T) {
	s := pushtest.NewWebPush(t)
	cred := pushtest.NewVapidCredential(t)
	rec := &recordingTB{TB: t}
	opts := pushtest.Options(rec, s)
	opts.Endpoints.Browser = ""
	standIn := strings.TrimPrefix(s.URL(), "https://")
	guard := opts.DialContext
	// push.example.net "resolves" to the stand-in on loopback.
	opts.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == "push.example.net:443" {
			addr = standIn
		}
		return guard(ctx, network, addr)
	}
	c, err := push.NewWebPushClient(cred, opts)
	if err != nil {
		t.Fatal(err)
	}
	sub := s.Subscribe(t, cred.PublicKey)
	path := strings.TrimPrefix(sub.Endpoint, s.URL())
	for _, ep := range []string{
		sub.Endpoint, // https://127.0.0.1:port/push/…
		"https://localhost" + path,
		"https://push.localhost" + path,
		"https://[::1]:8443" + path,
		"https://10.1.2.3" + path,
		"https://192.168.0.9" + path,
		"https://169.254.169.254" + path,
		"https://[fd00::1]" + path,
		"https://push.example.net" + path,
	} {
		r := c.Send(context.Background(), &push.Notification{Handle: ep, P256DH: sub.P256DH, Auth: sub.Auth, Payload: []byte("x")})
		if r.Status != push.StatusHandleGone || r.Outcome != push.OutcomeBadChannel || !strings.Contains(r.Reason, "internal address") {
			t.Errorf("%s: result %+v, want BadChannel saying why", ep, r)
		}
	}
	if len(s.Received()) != 0 || len(rec.errs) != 0 {
		t.Fatalf("the stand-in received %d pushes; dials %q", len(s.Received()), rec.errs)
	}
	// With the override, the same subscription reaches the stand-in.
	opts.Endpoints.Browser = s.URL()
	c, _ = push.NewWebPushClient(cred, opts)
	if r := c.Send(context.Background(), &push.Notification{Handle: sub.Endpoint, P256DH: sub.P256DH, Auth: sub.Auth, Payload: []byte("x")}); r.Status != push.StatusDelivered {
		t.Fatalf("through the override: result %+v", r)
	}
}
