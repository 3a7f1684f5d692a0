package notificationhubs

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// TestResponseErrorRedactsSignaturesInBody: a service answer that echoes
// a SAS URL (a job's container, say) keeps its signature out of both
// error types' text and out of RawResponse, whose body runtime.Payload
// reads as often as asked.
func TestResponseErrorRedactsSignaturesInBody(t *testing.T) {
	const secret = "c2lnbmF0dXJlLWluLWJvZHk"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `<Error><Code>400</Code><Detail>Cannot write to https://acct.blob.core.windows.net/out?sv=2020&amp;sig=`+secret+`&amp;se=1: denied.TrackingId:t-1,TimeStamp:now</Detail></Error>`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, "hub", "2020-06")
	_, err := c.GetRegistration(context.Background(), "x", nil)
	var azErr *azcore.ResponseError
	if !errors.As(err, &azErr) {
		t.Fatalf("errors.As(%v, *azcore.ResponseError) = false", err)
	}
	if azErr.ErrorCode != "400" || azErr.StatusCode != 400 {
		t.Errorf("azcore view = %d %q, want 400 %q", azErr.StatusCode, azErr.ErrorCode, "400")
	}
	for i := range 2 {
		body, rerr := runtime.Payload(azErr.RawResponse)
		if rerr != nil {
			t.Fatal(rerr)
		}
		if strings.Contains(string(body), secret) || !strings.Contains(string(body), "denied") {
			t.Errorf("read %d of RawResponse.Body = %s, want the detail without the signature", i, body)
		}
	}
	for _, text := range []string{err.Error(), azErr.Error()} {
		if strings.Contains(text, secret) {
			t.Errorf("error text shows the signature: %s", text)
		}
		if !strings.Contains(text, "sig=REDACTED") {
			t.Errorf("error text lost the rest of the detail: %s", text)
		}
	}
}
