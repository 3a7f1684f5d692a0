package notificationhubs_test

// Contract tests (see contract_test.go): Failures as errors, and no key or signature in any of them.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	nh "github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/emulator"
	"github.com/nhkit/notificationhubs/emulator/emulatortest"
)

func TestContractFailures(t *testing.T) {
	srv, c := newContract(t, nil)
	ctx := contractCtx(t)
	reg := mustCreate(t, ctx, c, nh.NewAppleRegistration(appleToken, "f"))

	t.Run("listen-only send", func(t *testing.T) {
		listen := contractClient(t, srv, srv.ListenConnectionString, nil)
		_, err := listen.SendAppleNotification(ctx, []byte(`{"aps":{"alert":"x"}}`), nil)
		var re *nh.ResponseError
		if !errors.As(err, &re) || (re.StatusCode != http.StatusForbidden && re.StatusCode != http.StatusUnauthorized) {
			t.Fatalf("err = %v, want a *ResponseError 403 (or 401)", err)
		}
		if !errors.Is(err, nh.ErrUnauthorized) {
			t.Errorf("errors.Is(err, ErrUnauthorized) = false for %v", err)
		}
		_, err = listen.SendDirectNotification(ctx, nh.NewAppleNotification([]byte(`{"aps":{"alert":"x"}}`), nil), appleToken, nil)
		if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
			t.Errorf("direct send with Listen: err = %v, want 403 (recording SendDirectNotificationAsync_ListenOnlyConnectionString)", err)
		}
		// Listen is enough to register a device.
		if _, err := listen.CreateRegistration(ctx, nh.NewFcmV1Registration("listen-token"), nil); err != nil {
			t.Errorf("CreateRegistration with Listen: %v", err)
		}
		if len(srv.Deliveries(emulator.DeliveryFilter{Hub: contractHub})) != 0 {
			t.Error("a refused send was delivered")
		}
	})

	t.Run("wrong key", func(t *testing.T) {
		cs := strings.Replace(srv.ConnectionString, emulator.DefaultFullKey, "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk=", 1)
		if cs == srv.ConnectionString {
			t.Fatal("the emulator's connection string does not use DefaultFullKey")
		}
		bad := contractClient(t, srv, cs, nil)
		_, err := bad.GetRegistration(ctx, reg.RegistrationID, nil)
		var re *nh.ResponseError
		if !errors.As(err, &re) || re.StatusCode != http.StatusUnauthorized || !errors.Is(err, nh.ErrUnauthorized) {
			t.Fatalf("err = %v, want a *ResponseError 401", err)
		}
		if strings.Contains(err.Error(), "d3Jvbmcta2V5") || strings.Contains(err.Error(), "sig=") {
			t.Errorf("error text %q contains the key or a signature", err)
		}
	})

	t.Run("deleted", func(t *testing.T) {
		if _, err := c.DeleteRegistration(ctx, reg.RegistrationID, nil); err != nil {
			t.Fatal(err)
		}
		_, err := c.GetRegistration(ctx, reg.RegistrationID, nil)
		var re *nh.ResponseError
		if !errors.Is(err, nh.ErrNotFound) || !errors.As(err, &re) || re.TrackingID == "" {
			t.Errorf("err = %v, want ErrNotFound with a tracking id", err)
		}
		_, err = c.GetInstallation(ctx, "never-existed", nil)
		if !errors.Is(err, nh.ErrNotFound) {
			t.Errorf("GetInstallation of a missing id: err = %v, want ErrNotFound", err)
		}
	})
}

// sigRecorder is a transport that records every Authorization header the
// SDK sends, to check the dump against.
type sigRecorder struct {
	next policy.Transporter
	mu   sync.Mutex
	auth []string
}

func (s *sigRecorder) Do(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.auth = append(s.auth, req.Header.Get("Authorization"))
	s.mu.Unlock()
	return s.next.Do(req)
}

// TestContractAzcoreResponseError: code written for every other Azure SDK
// for Go, errors.As into *azcore.ResponseError, works on a failure the
// emulator answers, our fields stay reachable through our type, and
// neither type's text nor RawResponse holds the key or the signature.
func TestContractAzcoreResponseError(t *testing.T) {
	srv := emulatortest.NewServer(t)
	rec := &sigRecorder{next: srv.Client}
	c := contractClient(t, srv, srv.ConnectionString, &nh.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: rec}})
	ctx := contractCtx(t)
	_, err := c.GetRegistration(ctx, "missing", nil)

	var azErr *azcore.ResponseError
	if !errors.As(err, &azErr) {
		t.Fatalf("errors.As(%v, *azcore.ResponseError) = false", err)
	}
	if azErr.StatusCode != http.StatusNotFound || azErr.ErrorCode != "404" {
		t.Errorf("azcore.ResponseError = %d %q, want 404 %q", azErr.StatusCode, azErr.ErrorCode, "404")
	}
	var re *nh.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusNotFound || re.TrackingID == "" || re.Method != http.MethodGet {
		t.Errorf("errors.As(*nh.ResponseError) = %+v, want our 404 with its tracking id", re)
	}
	if !errors.Is(err, nh.ErrNotFound) {
		t.Errorf("errors.Is(err, ErrNotFound) = false")
	}
	for _, want := range []string{"GET ", "/contract/registrations/missing", "RESPONSE 404", "ERROR CODE: 404"} {
		if !strings.Contains(azErr.Error(), want) {
			t.Errorf("azcore's Error() lacks %q:\n%s", want, azErr.Error())
		}
	}

	// Everything either type lets a caller print.
	raw := azErr.RawResponse
	if raw == nil || raw.Request == nil {
		t.Fatal("RawResponse or its Request is nil")
	}
	if got := raw.Request.Header.Get("Authorization"); !strings.Contains(got, "sig=REDACTED") {
		t.Errorf("RawResponse.Request's Authorization = %q, want the signature redacted", got)
	}
	body, rerr := io.ReadAll(raw.Body)
	if rerr != nil || !bytes.Contains(body, []byte("<Error>")) {
		t.Errorf("RawResponse.Body = %q, %v; want the service's error", body, rerr)
	}
	seen := strings.Join([]string{
		err.Error(), re.Error(), azErr.Error(), fmt.Sprintf("%+v %+v %+v", raw.Header, raw.Request.Header, raw.Request.URL), string(body),
	}, "\n")
	if strings.Contains(seen, emulator.DefaultFullKey) {
		t.Error("the error shows the key")
	}
	if len(rec.auth) == 0 {
		t.Fatal("no request recorded")
	}
	for _, a := range rec.auth {
		_, sig, _ := strings.Cut(a, "sig=")
		sig, _, _ = strings.Cut(sig, "&")
		if sig == "" || strings.Contains(seen, sig) {
			t.Errorf("the error shows the signature %q (or none was sent)", sig)
		}
	}
}

// TestContractDebugDump checks that the dump of real exchanges with the
// emulator never contains the key or the signature.
func TestContractDebugDump(t *testing.T) {
	srv := emulatortest.NewServer(t)
	var dump bytes.Buffer
	rec := &sigRecorder{next: srv.Client}
	c := contractClient(t, srv, srv.ConnectionString, &nh.ClientOptions{
		ClientOptions:  azcore.ClientOptions{Transport: rec},
		DebugWriter:    &dump,
		EnableTestSend: true,
	})
	ctx := contractCtx(t)
	mustCreate(t, ctx, c, nh.NewAppleRegistration(appleToken, "dbg"))
	resp, err := c.SendAppleNotification(ctx, []byte(`{"aps":{"alert":"debug"}}`), &nh.SendNotificationOptions{Tags: []string{"dbg"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Success != 1 {
		t.Errorf("test send Success = %d, want 1", resp.Success)
	}
	_, _ = c.GetRegistration(ctx, "missing", nil)

	out := dump.String()
	for _, want := range []string{"POST ", "sig=REDACTED", "skn=DefaultFullSharedAccessSignature", "201 Created", "<NotificationOutcome", "404 Not Found"} {
		if !strings.Contains(out, want) {
			t.Errorf("dump lacks %q", want)
		}
	}
	if strings.Contains(out, emulator.DefaultFullKey) {
		t.Error("dump contains the key")
	}
	if len(rec.auth) == 0 {
		t.Fatal("no request recorded")
	}
	for _, a := range rec.auth {
		_, sig, ok := strings.Cut(a, "sig=")
		if !ok {
			t.Fatalf("Authorization %q has no signature", a)
		}
		sig, _, _ = strings.Cut(sig, "&")
		if strings.Contains(out, sig) {
			t.Errorf("dump contains the signature %q", sig)
		}
	}
}
