package notificationhubs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azlog "github.com/Azure/azure-sdk-for-go/sdk/azcore/log"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/go-cmp/cmp"

	"github.com/nhkit/notificationhubs/internal/atom"
)

func TestSASKnownAnswers(t *testing.T) {
	// Expected values computed independently with:
	//   printf '%s\n%s' "$sr" "$se" | openssl dgst -sha256 -hmac "$key" -binary | base64
	// with key Zm9vYmFyYmF6cXV4PT0+/abc=, then percent-encoded (+ → %2B, = → %3D).
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // 1767225600
	tests := []struct {
		name     string
		endpoint string
		hub      string
		want     string
	}{
		{
			name:     "hub URL lower-cased",
			endpoint: "sb://MyNamespace.example.com/",
			hub:      "MyHub",
			want:     "SharedAccessSignature sr=https%3A%2F%2Fmynamespace.example.com%2Fmyhub&sig=gcdzwZRL3nNNPBE715tyCdcAXg95d4FCt08HyzuAUYc%3D&se=1767229200&skn=DefaultFullSharedAccessSignature",
		},
		{
			name:     "emulator endpoint with port",
			endpoint: "http://127.0.0.1:18443",
			hub:      "myhub",
			want:     "SharedAccessSignature sr=http%3A%2F%2F127.0.0.1%3A18443%2Fmyhub&sig=yqdwGug3b4LZTpMrFqQYcnV%2BQ4TyJRTdoZFtOFnfnHc%3D&se=1767229200&skn=DefaultFullSharedAccessSignature",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			tr := transporterFunc(func(r *http.Request) (*http.Response, error) {
				got = r.Header.Get("Authorization")
				return &http.Response{StatusCode: 201, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
			})
			cred, _ := NewSharedAccessKeyCredential("DefaultFullSharedAccessSignature", testKey)
			c, err := NewClient(tt.endpoint, tt.hub, cred, &ClientOptions{ClientOptions: azcore.ClientOptions{Transport: tr}})
			if err != nil {
				t.Fatal(err)
			}
			c.sas.now = func() time.Time { return now }
			if _, err := c.SendNotification(context.Background(), NewTemplateNotification(map[string]string{"a": "b"}), nil); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Authorization =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestSASTokenCachedAndRefreshed(t *testing.T) {
	srv := newNamespaceServer(t, nil)
	c := srv.client(t, nil)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	c.sas.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	send := func() {
		t.Helper()
		if _, err := c.SendNotification(context.Background(), NewTemplateNotification(map[string]string{"a": "b"}), nil); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(send)
	}
	wg.Wait()
	if n := c.sas.signs.Load(); n != 1 {
		t.Errorf("signatures after 8 concurrent sends = %d, want 1", n)
	}
	mu.Lock()
	now = now.Add(54 * time.Minute) // still more than 5 minutes before expiry
	mu.Unlock()
	send()
	if n := c.sas.signs.Load(); n != 1 {
		t.Errorf("signatures at 54 min = %d, want 1", n)
	}
	mu.Lock()
	now = now.Add(time.Minute) // 55 min: 5 minutes before expiry, refresh
	mu.Unlock()
	send()
	if n := c.sas.signs.Load(); n != 2 {
		t.Errorf("signatures at 55 min = %d, want 2", n)
	}
	reqs := srv.Requests()
	// The refreshed token, computed with openssl as in TestSASKnownAnswers, se = 1767225600+3300+3600.
	want := "SharedAccessSignature sr=https%3A%2F%2Fmynamespace.example.com%2Fmyhub&sig=GF3IJE%2F3w4ajRT5vwuQqMWHZL3XDQKkCnZVIar3g2p8%3D&se=1767232500&skn=DefaultFullSharedAccessSignature"
	if got := reqs[len(reqs)-1].Header.Get("Authorization"); got != want {
		t.Errorf("refreshed Authorization =\n%s\nwant\n%s", got, want)
	}
	if got, first := reqs[len(reqs)-2].Header.Get("Authorization"), reqs[0].Header.Get("Authorization"); got != first {
		t.Errorf("token at 54 min differs from the first: %s vs %s", got, first)
	}
}

func TestCredentialUpdateResigns(t *testing.T) {
	srv := newNamespaceServer(t, nil)
	cred, _ := NewSharedAccessKeyCredential("r1", "key-one")
	c, err := NewClient(namespaceEndpoint, "myhub", cred, &ClientOptions{ClientOptions: azcore.ClientOptions{Transport: srv.Client()}})
	if err != nil {
		t.Fatal(err)
	}
	n := NewTemplateNotification(map[string]string{"a": "b"})
	if _, err := c.SendNotification(context.Background(), n, nil); err != nil {
		t.Fatal(err)
	}
	if err := cred.Update("r2", "key-two"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendNotification(context.Background(), n, nil); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if got := reqs[1].Header.Get("Authorization"); !strings.HasSuffix(got, "&skn=r2") {
		t.Errorf("after Update, Authorization = %q, want skn=r2", got)
	}
}

// urlRecorder is a transport that records the URL of each request it is
// given and answers 200.
type urlRecorder struct {
	urls   []string
	header http.Header // of the last request
}

func (r *urlRecorder) Do(req *http.Request) (*http.Response, error) {
	r.urls = append(r.urls, req.URL.String())
	r.header = req.Header
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

// TestNewRequestURL checks the URL each request goes out with: the
// api-version first (added on each try by tryPolicy), then the query's
// keys in order.
func TestNewRequestURL(t *testing.T) {
	rec := &urlRecorder{}
	c, err := NewClientFromConnectionString(namespaceConnStr(), "my hub", &ClientOptions{ClientOptions: azcore.ClientOptions{Transport: rec}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		p     string
		query url.Values
		want  string
	}{
		{"messages", nil, "https://mynamespace.example.com/my%20hub/messages?api-version=2020-06"},
		{"messages", url.Values{"direct": nil}, "https://mynamespace.example.com/my%20hub/messages?api-version=2020-06&direct"},
		{"messages/$batch", url.Values{"direct": {""}}, "https://mynamespace.example.com/my%20hub/messages/$batch?api-version=2020-06&direct"},
		{"registrations", url.Values{"$top": {"2"}, "continuationtoken": {"MzEobik7Mg=="}, "$filter": {"ChannelUri eq 'abc'"}},
			"https://mynamespace.example.com/my%20hub/registrations?api-version=2020-06&$filter=ChannelUri+eq+%27abc%27&$top=2&continuationtoken=MzEobik7Mg%3D%3D"},
		{"registrations/" + url.PathEscape("a/b"), url.Values{"api-version": {"ignored"}}, "https://mynamespace.example.com/my%20hub/registrations/a%2Fb?api-version=2020-06"},
	}
	for _, tt := range tests {
		req, err := c.newRequest(context.Background(), http.MethodGet, tt.p, tt.query)
		if err != nil {
			t.Fatalf("newRequest(%q): %v", tt.p, err)
		}
		rec.urls = nil
		if _, err := c.do(req, true, http.StatusOK); err != nil {
			t.Fatal(err)
		}
		if len(rec.urls) != 1 || rec.urls[0] != tt.want {
			t.Errorf("newRequest(%q, %v) sent to %q, want %s", tt.p, tt.query, rec.urls, tt.want)
		}
		if got := rec.header.Get("x-ms-version"); got != "2020-06" {
			t.Errorf("x-ms-version = %q, want 2020-06", got)
		}
	}
}

func TestNewClientErrors(t *testing.T) {
	cred, _ := NewSharedAccessKeyCredential("r", testKey)
	tests := []struct {
		endpoint, hub string
		cred          *SharedAccessKeyCredential
		wantErr       string
	}{
		{"sb://ns/", "h", nil, "credential is nil"},
		{"sb://ns/", " ", cred, "hub name is empty"},
		{"sb://ns/", "a/b", cred, "contains '/'"},
		{"http://ns.example.com/", "h", cred, "not loopback"},
		{"ftp://ns/", "h", cred, "scheme"},
	}
	for _, tt := range tests {
		_, err := NewClient(tt.endpoint, tt.hub, tt.cred, nil)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("NewClient(%q, %q) error = %v, want %q", tt.endpoint, tt.hub, err, tt.wantErr)
		}
	}
	if _, err := NewClient("http://localhost:8080", "h", cred, nil); err != nil {
		t.Errorf("NewClient(http loopback) = %v", err)
	}
	if _, err := NewClient("http://ns.example.com/", "h", cred, &ClientOptions{ClientOptions: azcore.ClientOptions{InsecureAllowCredentialWithHTTP: true}}); err != nil {
		t.Errorf("NewClient(http with InsecureAllowCredentialWithHTTP) = %v", err)
	}
	if _, err := NewClientFromConnectionString(namespaceConnStr()+";EntityPath=fromcs", "", nil); err != nil {
		t.Errorf("NewClientFromConnectionString with EntityPath and no hub = %v", err)
	}
}

func TestResponseError(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		header  http.Header
		body    string
		want    ResponseError
		wantIs  []error
		wantStr string
	}{
		{
			name:   "xml error body",
			status: 404,
			header: http.Header{"Content-Type": {"application/xml; charset=utf-8"}},
			body:   `<Error><Code>404</Code><Detail>Installation not found.TrackingId:cc8c4f9b-fd82-4cfa-8f99-7a089eb4cd69_G3,TimeStamp:11/7/2018 12:18:37 AM</Detail></Error>`,
			want: ResponseError{StatusCode: 404, Code: "404", Detail: "Installation not found.TrackingId:cc8c4f9b-fd82-4cfa-8f99-7a089eb4cd69_G3,TimeStamp:11/7/2018 12:18:37 AM",
				TrackingID: "cc8c4f9b-fd82-4cfa-8f99-7a089eb4cd69_G3", Method: "GET", URL: "https://mynamespace.example.com/myhub/x"},
			wantIs:  []error{ErrNotFound},
			wantStr: "notificationhubs: GET https://mynamespace.example.com/myhub/x: 404 Not Found: Installation not found. (tracking id cc8c4f9b-fd82-4cfa-8f99-7a089eb4cd69_G3)",
		},
		{
			// A detail that is only the tracking id (a missing registration, recorded).
			name:   "xml error body without a detail",
			status: 404,
			header: http.Header{"Content-Type": {"application/xml; charset=utf-8"}},
			body:   `<Error><Code>404</Code><Detail>.TrackingId:a140fb23-d546-4755-bf45-5e5f1a6c647f_G1,TimeStamp:11/7/2018 12:18:29 AM</Detail></Error>`,
			want: ResponseError{StatusCode: 404, Code: "404", Detail: ".TrackingId:a140fb23-d546-4755-bf45-5e5f1a6c647f_G1,TimeStamp:11/7/2018 12:18:29 AM",
				TrackingID: "a140fb23-d546-4755-bf45-5e5f1a6c647f_G1", Method: "GET", URL: "https://mynamespace.example.com/myhub/x"},
			wantIs:  []error{ErrNotFound},
			wantStr: "notificationhubs: GET https://mynamespace.example.com/myhub/x: 404 Not Found (tracking id a140fb23-d546-4755-bf45-5e5f1a6c647f_G1)",
		},
		{
			name:   "empty 403 with ids",
			status: 403,
			header: http.Header{"Trackingid": {"c0f4869e-6b6e-49bd-804a-c28cf17d929a"}, "X-Ms-Correlation-Request-Id": {"297c956c-c06b-4729-bc79-91e2bc6ed05c"}},
			want: ResponseError{StatusCode: 403, Code: "403", Detail: "Forbidden", TrackingID: "c0f4869e-6b6e-49bd-804a-c28cf17d929a",
				CorrelationID: "297c956c-c06b-4729-bc79-91e2bc6ed05c", Method: "GET", URL: "https://mynamespace.example.com/myhub/x"},
			wantIs:  []error{ErrUnauthorized},
			wantStr: "notificationhubs: GET https://mynamespace.example.com/myhub/x: 403 Forbidden (tracking id c0f4869e-6b6e-49bd-804a-c28cf17d929a)",
		},
		{
			name:   "throttled with retry-after",
			status: 429,
			header: http.Header{"Retry-After": {"7"}},
			body:   `<Error><Code>429</Code><Detail>Throttled</Detail></Error>`,
			want: ResponseError{StatusCode: 429, Code: "429", Detail: "Throttled", RetryAfter: 7 * time.Second,
				Method: "GET", URL: "https://mynamespace.example.com/myhub/x"},
			wantIs:  []error{ErrThrottled},
			wantStr: "notificationhubs: GET https://mynamespace.example.com/myhub/x: 429 Too Many Requests: Throttled (retry after 7s)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newNamespaceServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			c := srv.client(t, &ClientOptions{ClientOptions: azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}})
			req, err := c.newRequest(context.Background(), http.MethodGet, "x", url.Values{"a": {"b"}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.do(req, true, http.StatusOK)
			var re *ResponseError
			if !errors.As(err, &re) {
				t.Fatalf("do error = %v (%T), want *ResponseError", err, err)
			}
			got := *re
			got.RawResponse = nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ResponseError (-want +got):\n%s", diff)
			}
			for _, target := range tt.wantIs {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(err, %v) = false", target)
				}
			}
			if errors.Is(err, ErrConflict) {
				t.Errorf("errors.Is(err, ErrConflict) = true")
			}
			if got := err.Error(); got != tt.wantStr {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tt.wantStr)
			}
		})
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{"0", 0},
		{"-1", 0},
		{"Thu, 01 Jan 2026 00:00:10 GMT", 10 * time.Second},
		{"Wed, 31 Dec 2025 23:00:00 GMT", 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := retryAfter(http.Header{"Retry-After": {tt.v}}, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func TestRedactAuthorization(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SharedAccessSignature sr=https%3A%2F%2Fns%2Fhub&sig=abc%2Bdef%3D&se=1767229200&skn=rule",
			"SharedAccessSignature sr=https%3A%2F%2Fns%2Fhub&sig=REDACTED&se=1767229200&skn=rule"},
		{"sharedaccesssignature sig=abc&sr=x&se=1&skn=r&extra=zzz", "sharedaccesssignature sig=REDACTED&sr=x&se=1&skn=r&extra=REDACTED"},
		{"Bearer abc.def", "REDACTED"},
	}
	for _, tt := range tests {
		if got := redactAuthorization(tt.in); got != tt.want {
			t.Errorf("redactAuthorization(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got, want := redactSignature(`Post "x?sig=abc&se=1": boom sig=def`), `Post "x?sig=REDACTED&se=1": boom sig=REDACTED`; got != want {
		t.Errorf("redactSignature = %q, want %q", got, want)
	}
	if got, want := redactSignature(`<U>x?a=1&amp;sig=abc%3D</U><V>sig=d</V>`), `<U>x?a=1&amp;sig=REDACTED</U><V>sig=REDACTED</V>`; got != want {
		t.Errorf("redactSignature = %q, want %q", got, want)
	}
}

// TestNoSecretsInErrorsOrDumps drives failures through a client with a
// debug dump and azcore logging and checks that neither the key nor any
// signature sent appears in errors or dumps.
func TestNoSecretsInErrorsOrDumps(t *testing.T) {
	srv := newNamespaceServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		switch n % 3 {
		case 0:
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `<Error><Code>401</Code><Detail>InvalidSignature: The token has an invalid signature.TrackingId:x,TimeStamp:y</Detail></Error>`)
		case 1:
			w.WriteHeader(http.StatusForbidden)
		default:
			answerSent(w, r)
		}
	})
	var dump bytes.Buffer
	var logMu sync.Mutex
	var logged strings.Builder
	azlog.SetListener(func(ev azlog.Event, msg string) {
		logMu.Lock()
		logged.WriteString(msg + "\n")
		logMu.Unlock()
	})
	defer azlog.SetListener(nil)
	c := srv.client(t, &ClientOptions{DebugWriter: &dump, EnableTestSend: false})
	ctx := context.Background()
	var errs []error
	n := NewAppleNotification([]byte(`{"aps":{"alert":"hi"}}`), nil)
	for range 3 {
		_, err := c.SendNotification(ctx, n, &SendNotificationOptions{Tags: []string{"a"}})
		errs = append(errs, err)
	}
	_, err := c.SendDirectNotification(ctx, n, "device-token", nil)
	errs = append(errs, err)
	// Transport error: a closed server.
	dead := newNamespaceServer(t, nil)
	dc := dead.client(t, &ClientOptions{DebugWriter: &dump})
	dead.Close()
	_, err = dc.SendNotification(ctx, n, nil)
	errs = append(errs, err)
	// Connection string errors.
	_, err = NewClientFromConnectionString("Endpoint=ftp://x/;SharedAccessKeyName=r;SharedAccessKey="+testKey, "h", nil)
	errs = append(errs, err)
	_, err = NewClientFromConnectionString("Endpoint=sb://x/;SharedAccessKeyName=r;"+testKey, "h", nil)
	errs = append(errs, err)

	var sigs []string
	for _, r := range srv.Requests() {
		a := r.Header.Get("Authorization")
		_, sig, _ := strings.Cut(a, "sig=")
		sig, _, _ = strings.Cut(sig, "&")
		sigs = append(sigs, sig)
		if u, err := url.QueryUnescape(sig); err == nil {
			sigs = append(sigs, u)
		}
	}
	if len(sigs) == 0 {
		t.Fatal("no signatures captured")
	}
	secrets := append([]string{testKey}, sigs...)
	check := func(what, text string) {
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("%s contains a secret %q:\n%s", what, s, text)
			}
		}
	}
	for i, err := range errs {
		if err == nil && i != 2 {
			t.Errorf("call %d: no error", i)
		}
		if err != nil {
			check("error", err.Error())
		}
	}
	check("debug dump", dump.String())
	logMu.Lock()
	check("azcore log", logged.String())
	if !strings.Contains(logged.String(), "Authorization: REDACTED") {
		t.Errorf("azcore log does not show a redacted Authorization header:\n%s", logged.String())
	}
	logMu.Unlock()
	if !strings.Contains(dump.String(), "sig=REDACTED") {
		t.Errorf("debug dump has no redacted signature:\n%s", dump.String())
	}
}

// TestNoBlobSignaturesInDumpedBodies checks that the debug dump redacts
// the blob-storage SAS signatures that requests and answers carry in
// their bodies: the feedback container URL, a job's output container and
// import file, and the PNS error details of a notification. The signature
// is redacted up to the closing tag, which stays.
func TestNoBlobSignaturesInDumpedBodies(t *testing.T) {
	const (
		feedbackURL = "https://acct.blob.core.windows.net/feedback?sv=2020-08-04&sr=c&sp=rl&sig=FEEDBACKSIG%2Babc%3D"
		outputURL   = "https://acct.blob.core.windows.net/out?sv=2020-08-04&sp=rwl&sig=OUTPUTSIG%2Fdef%3D"
		importURL   = "https://acct.blob.core.windows.net/in/regs.txt?sp=r&sig=IMPORTSIG%2Bghi%3D"
		errorsURL   = "https://acct.blob.core.windows.net/errors/x.txt?sp=r&sig=ERRORSSIG%2Bjkl%3D"
	)
	job := atom.Job{JobID: "1", Type: string(JobTypeImportCreateRegistrations), Status: "Running", OutputContainerURI: outputURL, ImportFileURI: importURL}
	srv := newNamespaceServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		switch {
		case strings.HasSuffix(r.URL.Path, "/feedbackcontainer"):
			io.WriteString(w, feedbackURL)
		case strings.HasSuffix(r.URL.Path, "/jobs"):
			w.WriteHeader(http.StatusCreated)
			w.Write(atom.MarshalEntry(atom.Entry{Content: atom.MarshalJob(job)}))
		case strings.Contains(r.URL.Path, "/messages/"):
			w.Write(atom.MarshalNotificationDetails(atom.NotificationDetails{NotificationID: "n1", State: "Completed", PnsErrorDetailsURI: errorsURL}))
		default:
			http.NotFound(w, r)
		}
	})
	var dump bytes.Buffer
	c := srv.client(t, &ClientOptions{DebugWriter: &dump})
	ctx := context.Background()
	if _, err := c.GetFeedbackContainerURL(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SubmitNotificationHubJob(ctx, Job{Type: JobTypeImportCreateRegistrations, OutputContainerURL: outputURL, ImportFileURL: importURL}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetNotificationOutcomeDetails(ctx, "n1", nil); err != nil {
		t.Fatal(err)
	}
	got := dump.String()
	for _, sig := range []string{"FEEDBACKSIG", "OUTPUTSIG", "IMPORTSIG", "ERRORSSIG"} {
		if strings.Contains(got, sig) {
			t.Errorf("debug dump contains the signature %s:\n%s", sig, got)
		}
	}
	// Twice each for the job's URIs: in the request and in the answer.
	for tag, want := range map[string]int{"</OutputContainerUri>": 2, "</ImportFileUri>": 2, "</PnsErrorDetailsUri>": 1} {
		if n := strings.Count(got, "sig=REDACTED"+tag); n != want {
			t.Errorf("debug dump has %d of %q, want %d:\n%s", n, "sig=REDACTED"+tag, want, got)
		}
	}
}

// headerSetter is a per-call policy that sets headers.
type headerSetter http.Header

func (p headerSetter) Do(req *policy.Request) (*http.Response, error) {
	for k, v := range p {
		req.Raw().Header[k] = v
	}
	return req.Next()
}

// TestPerCallPolicyHeadersKept checks that the headers the client sets on
// each try do not overwrite an X-Ms-Version or User-Agent set by a
// caller's per-call policy, and that a send still carries its own.
func TestPerCallPolicyHeadersKept(t *testing.T) {
	rec := &urlRecorder{}
	c, err := NewClientFromConnectionString(namespaceConnStr(), "myhub", &ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport:       rec,
		PerCallPolicies: []policy.Policy{headerSetter{"User-Agent": {"mine/1.0"}, "X-Ms-Version": {"2015-01"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendNotification(context.Background(), NewFcmV1Notification([]byte(`{"message":{}}`)), &SendNotificationOptions{Tags: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	// Header names compare without case, as on the wire.
	get := func(name string) string {
		for k, v := range rec.header {
			if strings.EqualFold(k, name) && len(v) > 0 {
				return v[0]
			}
		}
		return ""
	}
	for k, want := range map[string]string{
		"User-Agent": "mine/1.0", "X-Ms-Version": "2015-01",
		"ServiceBusNotification-Format": "fcmv1", "ServiceBusNotification-Tags": "a",
		"Content-Type": "application/json;charset=utf-8",
	} {
		if got := get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(get("Authorization"), "SharedAccessSignature ") {
		t.Errorf("no SAS Authorization header")
	}
}
