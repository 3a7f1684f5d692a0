package push_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhkit/notificationhubs/emulator/internal/push"
	"github.com/nhkit/notificationhubs/emulator/internal/push/pushtest"
)

// standIn is what the tests need of every stand-in.
type standIn interface {
	SetFault(handle string, f pushtest.Fault)
	Received() []pushtest.Received
}

// platform builds a client against its stand-in and notifications for new
// handles.
type platform struct {
	name  string
	setup func(t *testing.T) (push.Sender, standIn, func() *push.Notification)
	// check looks at what the stand-in received for a delivered n.
	check func(t *testing.T, n *push.Notification, got pushtest.Received)
	// throttledOutcome is the outcome of the stand-in's throttling.
	throttledOutcome string
}

var platforms = []platform{
	{
		name: "apns-token",
		setup: func(t *testing.T) (push.Sender, standIn, func() *push.Notification) {
			a := pushtest.NewApns(t)
			c, err := push.NewApnsTokenClient(a.NewTokenCredential(t, "com.example.app"), pushtest.Options(t, a))
			if err != nil {
				t.Fatal(err)
			}
			return c, a, func() *push.Notification {
				return &push.Notification{Handle: apnsHandle(), Payload: []byte(apnsPayload),
					Headers: map[string]string{"apns-priority": "10", "apns-expiration": "0", "apns-collapse-id": "c1"}}
			}
		},
		check: func(t *testing.T, n *push.Notification, got pushtest.Received) {
			if got.Proto != "HTTP/2.0" {
				t.Errorf("proto %q, want HTTP/2.0", got.Proto)
			}
			for k, want := range map[string]string{"apns-topic": "com.example.app", "apns-push-type": "alert",
				"apns-priority": "10", "apns-expiration": "0", "apns-collapse-id": "c1"} {
				if v := got.Header.Get(k); v != want {
					t.Errorf("%s = %q, want %q", k, v, want)
				}
			}
		},
		throttledOutcome: push.OutcomeThrottled,
	},
	{
		name: "apns-certificate",
		setup: func(t *testing.T) (push.Sender, standIn, func() *push.Notification) {
			a := pushtest.NewApns(t)
			cred, err := push.NewApnsCertificateCredential(a.NewCertificate(t, "com.example.cert", "pw"), "pw", false)
			if err != nil {
				t.Fatal(err)
			}
			c, err := push.NewApnsCertificateClient(cred, pushtest.Options(t, a))
			if err != nil {
				t.Fatal(err)
			}
			return c, a, func() *push.Notification {
				return &push.Notification{Handle: apnsHandle(), Payload: []byte(apnsPayload)}
			}
		},
		check: func(t *testing.T, n *push.Notification, got pushtest.Received) {
			if v := got.Header.Get("apns-topic"); v != "com.example.cert" {
				t.Errorf("apns-topic %q", v)
			}
			if v := got.Header.Get("authorization"); v != "" {
				t.Errorf("certificate client sent authorization %q", v)
			}
		},
		throttledOutcome: push.OutcomeThrottled,
	},
	{
		name: "fcmv1",
		setup: func(t *testing.T) (push.Sender, standIn, func() *push.Notification) {
			g := pushtest.NewGoogle(t)
			c, err := push.NewFcmV1Client(g.NewCredential(t, "proj-1"), pushtest.Options(t, g))
			if err != nil {
				t.Fatal(err)
			}
			return c, g, func() *push.Notification {
				return &push.Notification{Handle: "fcm-token-" + randomSuffix(6),
					Payload: []byte(`{"message":{"topic":"news","notification":{"title":"hi"}}}`)}
			}
		},
		check: func(t *testing.T, n *push.Notification, got pushtest.Received) {
			want := `{"message":{"notification":{"title":"hi"},"token":"` + n.Handle + `"}}`
			if string(got.Body) != want {
				t.Errorf("body %s, want %s", got.Body, want)
			}
		},
		throttledOutcome: push.OutcomeThrottled,
	},
	{
		name: "wns",
		setup: func(t *testing.T) (push.Sender, standIn, func() *push.Notification) {
			s := pushtest.NewWns(t)
			c, err := push.NewWnsClient(s.NewCredential(t), pushtest.Options(t, s))
			if err != nil {
				t.Fatal(err)
			}
			return c, s, func() *push.Notification {
				return &push.Notification{Handle: s.ChannelURI(), Payload: []byte(`<toast><visual/></toast>`),
					Headers: map[string]string{"X-WNS-Type": "wns/toast", "X-WNS-Tag": "t1", "X-WNS-TTL": "60"}}
			}
		},
		check: func(t *testing.T, n *push.Notification, got pushtest.Received) {
			for k, want := range map[string]string{"X-WNS-Type": "wns/toast", "X-WNS-Tag": "t1", "X-WNS-TTL": "60", "Content-Type": "text/xml"} {
				if v := got.Header.Get(k); v != want {
					t.Errorf("%s = %q, want %q", k, v, want)
				}
			}
		},
		throttledOutcome: push.OutcomeChannelThrottled,
	},
	{
		name: "adm",
		setup: func(t *testing.T) (push.Sender, standIn, func() *push.Notification) {
			s := pushtest.NewAdm(t)
			c, err := push.NewAdmClient(s.NewCredential(t), pushtest.Options(t, s))
			if err != nil {
				t.Fatal(err)
			}
			return c, s, func() *push.Notification {
				return &push.Notification{Handle: "amzn1.adm-registration.v3." + randomSuffix(8),
					Payload: []byte(`{"data":{"msg":"hi"},"consolidationKey":"k"}`)}
			}
		},
		throttledOutcome: push.OutcomeThrottled,
	},
	{
		name: "browser",
		setup: func(t *testing.T) (push.Sender, standIn, func() *push.Notification) {
			s := pushtest.NewWebPush(t)
			cred := pushtest.NewVapidCredential(t)
			c, err := push.NewWebPushClient(cred, pushtest.Options(t, s))
			if err != nil {
				t.Fatal(err)
			}
			return c, s, func() *push.Notification {
				sub := s.Subscribe(t, cred.PublicKey)
				return &push.Notification{Handle: sub.Endpoint, P256DH: sub.P256DH, Auth: sub.Auth,
					Payload: []byte(`{"title":"hello from the hub"}`), Headers: map[string]string{"Urgency": "high"}}
			}
		},
		check: func(t *testing.T, n *push.Notification, got pushtest.Received) {
			if v := got.Header.Get("Urgency"); v != "high" {
				t.Errorf("Urgency %q", v)
			}
			if v := got.Header.Get("TTL"); v == "" {
				t.Errorf("no TTL")
			}
		},
		throttledOutcome: push.OutcomeThrottled,
	},
}

// TestClients sends every platform's happy path and each fault through the
// client to its stand-in.
func TestClients(t *testing.T) {
	ctx := context.Background()
	for _, p := range platforms {
		t.Run(p.name, func(t *testing.T) {
			sender, si, newN := p.setup(t)
			defer sender.Close()

			t.Run("delivered", func(t *testing.T) {
				n := newN()
				r := sender.Send(ctx, n)
				if r.Status != push.StatusDelivered || r.Outcome != push.OutcomeSuccess || r.ID == "" || r.HTTPStatus/100 != 2 ||
					r.Time.IsZero() || r.Service != sender.Service() || r.Handle != n.Handle {
					t.Fatalf("result %+v, want delivered with an id", r)
				}
				got := last(t, si)
				if got.Handle != n.Handle {
					t.Errorf("stand-in got handle %q, want %q", got.Handle, n.Handle)
				}
				if p.name != "fcmv1" && string(got.Body) != string(n.Payload) {
					t.Errorf("stand-in got body %q, want %q", got.Body, n.Payload)
				}
				if p.check != nil {
					p.check(t, n, got)
				}
			})
			cases := []struct {
				name    string
				fault   pushtest.Fault
				status  push.Status
				outcome string
				retry   time.Duration
			}{
				{"gone", pushtest.FaultGone, push.StatusHandleGone, push.OutcomeExpiredChannel, 0},
				{"throttled", pushtest.FaultThrottled, push.StatusThrottled, p.throttledOutcome, 7 * time.Second},
				{"unavailable", pushtest.FaultServerError, push.StatusUnavailable, push.OutcomePnsUnavailable, 0},
				{"bad-credential", pushtest.FaultBadCredential, push.StatusBadCredential, push.OutcomeInvalidCredentials, 0},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					n := newN()
					si.SetFault(n.Handle, c.fault)
					r := sender.Send(ctx, n)
					if r.Status != c.status || r.Outcome != c.outcome || r.RetryAfter != c.retry || r.Reason == "" || r.Time.IsZero() {
						t.Fatalf("result %+v, want status %v, outcome %s, Retry-After %v and a reason", r, c.status, c.outcome, c.retry)
					}
					if r.Status.Retryable() != (c.status == push.StatusThrottled || c.status == push.StatusUnavailable) {
						t.Errorf("Retryable() = %t", r.Status.Retryable())
					}
				})
			}
		})
	}
}

func last(t *testing.T, si standIn) pushtest.Received {
	t.Helper()
	rs := si.Received()
	if len(rs) == 0 {
		t.Fatal("stand-in received nothing")
	}
	return rs[len(rs)-1]
}

func TestApnsOneConnection(t *testing.T) {
	a := pushtest.NewApns(t)
	c, _ := push.NewApnsTokenClient(a.NewTokenCredential(t, "com.example.app"), pushtest.Options(t, a))
	defer c.Close()
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.Send(context.Background(), &push.Notification{Handle: apnsHandle(), Payload: []byte(apnsPayload)})
			if r.Status != push.StatusDelivered {
				t.Errorf("result %+v", r)
			}
		}()
	}
	wg.Wait()
	if n := a.Connections(); n != 1 {
		t.Errorf("%d connections for 64 concurrent sends, want 1", n)
	}
	if n := a.TokensSeen(); n != 1 {
		t.Errorf("%d provider tokens for 64 sends, want 1", n)
	}
}

func TestApnsAnswers(t *testing.T) {
	a := pushtest.NewApns(t)
	opts := pushtest.Options(t, a)
	c, _ := push.NewApnsTokenClient(a.NewTokenCredential(t, "com.example.app"), opts)
	ctx := context.Background()
	send := func(n *push.Notification) push.Result { return c.Send(ctx, n) }
	for _, tc := range []struct {
		name    string
		n       *push.Notification
		status  push.Status
		outcome string
		reason  string
		topic   string
	}{
		{"voip topic", &push.Notification{Handle: apnsHandle(), Payload: []byte(apnsPayload), Headers: map[string]string{"apns-push-type": "voip"}},
			push.StatusDelivered, push.OutcomeSuccess, "", "com.example.app.voip"},
		{"bad device token", &push.Notification{Handle: "not-hex", Payload: []byte(apnsPayload)},
			push.StatusHandleGone, push.OutcomeInvalidToken, "BadDeviceToken", ""},
		{"foreign topic", &push.Notification{Handle: apnsHandle(), Payload: []byte(apnsPayload), Headers: map[string]string{"apns-topic": "com.other"}},
			push.StatusBadRequest, push.OutcomeWrongToken, "TopicDisallowed", ""},
		{"too large", &push.Notification{Handle: apnsHandle(), Payload: []byte(`{"a":"` + strings.Repeat("x", 4100) + `"}`)},
			push.StatusBadRequest, push.OutcomeInvalidNotificationSize, "PayloadTooLarge", ""},
		{"bad priority", &push.Notification{Handle: apnsHandle(), Payload: []byte(apnsPayload), Headers: map[string]string{"APNS-Priority": "7"}},
			push.StatusBadRequest, push.OutcomeInvalidNotificationFormat, "BadPriority", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := send(tc.n)
			if r.Status != tc.status || r.Outcome != tc.outcome || r.Reason != tc.reason {
				t.Fatalf("result %+v, want %v %s %q", r, tc.status, tc.outcome, tc.reason)
			}
			if tc.topic != "" {
				if got := last(t, a).Header.Get("apns-topic"); got != tc.topic {
					t.Errorf("apns-topic %q, want %q", got, tc.topic)
				}
			}
		})
	}

	t.Run("key the stand-in does not know", func(t *testing.T) {
		other := pushtest.NewApns(t)
		c, _ := push.NewApnsTokenClient(other.NewTokenCredential(t, "com.example.app"), opts)
		r := c.Send(ctx, &push.Notification{Handle: apnsHandle(), Payload: []byte(apnsPayload)})
		if r.Status != push.StatusBadCredential || r.Reason != "InvalidProviderToken" || r.HTTPStatus != 403 {
			t.Fatalf("result %+v", r)
		}
	})
	t.Run("certificate as PEM", func(t *testing.T) {
		cred, err := push.NewApnsCertificateCredential(a.NewCertificatePEM(t, "com.example.pem"), "", false)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := push.NewApnsCertificateClient(cred, opts)
		if r := c.Send(ctx, &push.Notification{Handle: apnsHandle(), Payload: []byte(apnsPayload)}); r.Status != push.StatusDelivered {
			t.Fatalf("result %+v", r)
		}
	})
}

func TestFcmV1BodyRefusedBeforeSending(t *testing.T) {
	g := pushtest.NewGoogle(t)
	c, _ := push.NewFcmV1Client(g.NewCredential(t, "p"), pushtest.Options(t, g))
	for _, body := range []string{`[]`, `{"notification":{}}`, `{"message":"x"}`} {
		r := c.Send(context.Background(), &push.Notification{Handle: "tok", Payload: []byte(body)})
		if r.Status != push.StatusBadRequest || r.Outcome != push.OutcomeInvalidNotificationFormat {
			t.Errorf("%s: result %+v", body, r)
		}
	}
	if n := g.TokenRequests() + len(g.Received()); n != 0 {
		t.Errorf("%d requests for bodies refused up front", n)
	}
}

func TestTokenEndpointRefusals(t *testing.T) {
	for _, tc := range []struct {
		status     int
		want       push.Status
		outcome    string
		retryAfter time.Duration
	}{
		{400, push.StatusBadCredential, push.OutcomeInvalidCredentials, 0},
		{401, push.StatusBadCredential, push.OutcomeInvalidCredentials, 0},
		{429, push.StatusThrottled, push.OutcomeTokenProviderUnreachable, 7 * time.Second},
		{503, push.StatusUnavailable, push.OutcomeTokenProviderUnreachable, 0},
	} {
		g := pushtest.NewGoogle(t)
		g.TokenFault = tc.status
		c, _ := push.NewFcmV1Client(g.NewCredential(t, "p"), pushtest.Options(t, g))
		r := c.Send(context.Background(), &push.Notification{Handle: "tok", Payload: []byte(`{"message":{}}`)})
		if r.Status != tc.want || r.Outcome != tc.outcome || r.HTTPStatus != tc.status || r.RetryAfter != tc.retryAfter ||
			!strings.HasPrefix(r.Reason, "token endpoint: ") {
			t.Errorf("token endpoint %d: result %+v", tc.status, r)
		}
		if len(g.Received()) != 0 {
			t.Errorf("token endpoint %d: sent without a token", tc.status)
		}
	}

	t.Run("wrong WNS secret", func(t *testing.T) {
		s := pushtest.NewWns(t)
		good := s.NewCredential(t)
		bad, _ := push.NewWnsCredential(good.PackageSID, "not-the-secret")
		c, _ := push.NewWnsClient(bad, pushtest.Options(t, s))
		r := c.Send(context.Background(), &push.Notification{Handle: s.ChannelURI(), Payload: []byte("<toast/>")})
		if r.Status != push.StatusBadCredential || r.Reason != "token endpoint: invalid_client: Invalid client id or secret" {
			t.Fatalf("result %+v", r)
		}
		if strings.Contains(r.Reason, "not-the-secret") {
			t.Fatal("secret in reason")
		}
	})
}

// TestWebPushDecrypts checks that the stand-in decrypted the exact payload
// and that a subscription's wrong keys make a payload it cannot decrypt.
func TestWebPushDecrypts(t *testing.T) {
	s := pushtest.NewWebPush(t)
	cred := pushtest.NewVapidCredential(t)
	c, _ := push.NewWebPushClient(cred, pushtest.Options(t, s))
	sub := s.Subscribe(t, cred.PublicKey)
	other := s.Subscribe(t, cred.PublicKey)
	payload := strings.Repeat("é", push.WebPushMaxPlaintext/2)
	r := c.Send(context.Background(), &push.Notification{Handle: sub.Endpoint, P256DH: sub.P256DH, Auth: sub.Auth, Payload: []byte(payload)})
	if r.Status != push.StatusDelivered {
		t.Fatalf("result %+v", r)
	}
	if got := last(t, s).Body; string(got) != payload {
		t.Fatalf("decrypted %d bytes, want the %d sent", len(got), len(payload))
	}
	r = c.Send(context.Background(), &push.Notification{Handle: sub.Endpoint, P256DH: other.P256DH, Auth: other.Auth, Payload: []byte("x")})
	if r.Status != push.StatusBadRequest || r.HTTPStatus != http.StatusBadRequest || !strings.Contains(r.Reason, "decryption failed") {
		t.Fatalf("wrong keys: result %+v", r)
	}
	r = c.Send(context.Background(), &push.Notification{Handle: sub.Endpoint, P256DH: sub.P256DH, Auth: sub.Auth,
		Payload: make([]byte, push.WebPushMaxPlaintext+1)})
	if r.Status != push.StatusBadRequest || r.Outcome != push.OutcomeInvalidNotificationSize {
		t.Fatalf("oversize: result %+v", r)
	}
	// A credential whose key the subscription was not made for.
	c2, _ := push.NewWebPushClient(pushtest.NewVapidCredential(t), pushtest.Options(t, s))
	r = c2.Send(context.Background(), &push.Notification{Handle: sub.Endpoint, P256DH: sub.P256DH, Auth: sub.Auth, Payload: []byte("x")})
	if r.Status != push.StatusBadCredential || r.HTTPStatus != http.StatusForbidden {
		t.Fatalf("foreign VAPID key: result %+v", r)
	}
}

func TestUnsupportedServices(t *testing.T) {
	for _, s := range []push.Service{push.ServiceGcm, push.ServiceMpns, push.ServiceBaidu, push.ServiceXiaomi} {
		r := push.UnsupportedSender(s).Send(context.Background(), &push.Notification{Handle: "h"})
		if r.Status != push.StatusUnsupported || r.Outcome != push.OutcomePnsUnavailable || r.Reason == "" || r.Service != s {
			t.Errorf("%s: result %+v", s, r)
		}
	}
}

// TestEndpointOverrides: channel URIs and subscription endpoints of the
// real services reach the stand-ins through Endpoints.Wns and
// Endpoints.Browser, path and query kept, the VAPID audience unchanged.
func TestEndpointOverrides(t *testing.T) {
	ctx := context.Background()
	t.Run("wns", func(t *testing.T) {
		s := pushtest.NewWns(t)
		opts := pushtest.Options(t, s)
		opts.Endpoints.Wns = s.URL()
		c, _ := push.NewWnsClient(s.NewCredential(t), opts)
		r := c.Send(ctx, &push.Notification{Handle: "https://db5p.notify.windows.com/?token=AwYAAAD%2b", Payload: []byte("<toast/>")})
		if r.Status != push.StatusDelivered {
			t.Fatalf("result %+v", r)
		}
		if got, want := last(t, s).Handle, s.URL()+"/?token=AwYAAAD%2b"; got != want {
			t.Fatalf("stand-in got %s, want %s", got, want)
		}
	})
	t.Run("browser", func(t *testing.T) {
		s := pushtest.NewWebPush(t)
		s.Origin = "https://updates.push.services.mozilla.com"
		cred := pushtest.NewVapidCredential(t)
		opts := pushtest.Options(t, s)
		opts.Endpoints.Browser = s.URL()
		c, _ := push.NewWebPushClient(cred, opts)
		sub := s.Subscribe(t, cred.PublicKey)
		r := c.Send(ctx, &push.Notification{Handle: sub.Endpoint, P256DH: sub.P256DH, Auth: sub.Auth, Payload: []byte("hi")})
		if r.Status != push.StatusDelivered || string(last(t, s).Body) != "hi" {
			t.Fatalf("result %+v", r)
		}
	})
}

// TestApnsOneTokenForSeveralApps sends for two apps of one team with one
// client: the topic follows Notification.BundleID, and one provider token
// serves both (Apple refuses a key's tokens renewed more often than every
// 20 minutes, so a client per app would trip it).
func TestApnsOneTokenForSeveralApps(t *testing.T) {
	a := pushtest.NewApns(t)
	p8, keyID, teamID := a.NewKey(t, "com.example.one", "com.example.two")
	cred, err := push.NewApnsTokenCredential(keyID, teamID, "com.example.one", p8, false)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := push.NewApnsTokenClient(cred, pushtest.Options(t, a))
	defer c.Close()
	for _, tc := range []struct {
		bundle, pushType, topic string
	}{
		{"", "", "com.example.one"},
		{"com.example.two", "", "com.example.two"},
		{"com.example.two", "voip", "com.example.two.voip"},
	} {
		n := &push.Notification{Handle: apnsHandle(), Payload: []byte(apnsPayload), BundleID: tc.bundle}
		if tc.pushType != "" {
			n.Headers = map[string]string{"apns-push-type": tc.pushType}
		}
		if r := c.Send(context.Background(), n); r.Status != push.StatusDelivered {
			t.Fatalf("bundle %q: result %+v", tc.bundle, r)
		}
		if got := last(t, a).Header.Get("apns-topic"); got != tc.topic {
			t.Errorf("bundle %q, push type %q: apns-topic %q, want %q", tc.bundle, tc.pushType, got, tc.topic)
		}
	}
	if n := a.TokensSeen(); n != 1 {
		t.Errorf("%d provider tokens, want 1 for both apps", n)
	}
}
