package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nhkit/notificationhubs/emulator"
	"github.com/spf13/cobra"
)

type deliveriesOptions struct {
	f              *factory
	notificationID string
	handle         string
	tag            string
	allHubs        bool
	controlToken   string
	wait           time.Duration
}

func newDeliveriesCmd(f *factory) *cobra.Command {
	opts := &deliveriesOptions{f: f}
	cmd := &cobra.Command{
		Use:   "deliveries",
		Short: "Show what an emulator's devices received",
		Long: `Deliveries lists the notifications an emulator ('nh emulator') handed to
its simulated push services: per device, the platform, handle and payload,
oldest first. It reads GET /_emulator/deliveries of the connection string's
endpoint; the real service keeps no such record.

The hub is --hub, NH_HUB or the connection string's EntityPath (--all-hubs
for every hub). --notification-id, --handle and --tag narrow the list, as
the endpoint's notificationId, handle and tag parameters do.

An emulator that delivers to the real push services ('nh emulator
--deliver') shows each attempt's answer: status, the push service's id
(apns-id, the FCM message name…) or its reason. Until the push service
answers a delivery is Pending; --wait waits for the answers.

An emulator on loopback needs no credential for /_emulator/. One that
listens on another address wants the token it was started with
('nh emulator --control-token'): give it as --control-token or
NH_EMULATOR_CONTROL_TOKEN.`,
		Example: `  nh deliveries
  nh deliveries --notification-id 29da2edf79d401e5a220f7c1d81ea91a-20261206022824-63620007-1
  nh deliveries --handle 62BCD3484834B7E2 -o json
  nh deliveries --tag sports --all-hubs
  nh deliveries --notification-id 29da2edf79d401e5a220f7c1d81ea91a-20261206022824-63620007-1 --wait 30s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDeliveries(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.notificationID, "notification-id", "", "only the deliveries of this send (the id nh send prints)")
	fl.StringVar(&opts.handle, "handle", "", "only the deliveries to this device handle")
	fl.StringVar(&opts.tag, "tag", "", "only the deliveries to devices with this tag")
	fl.BoolVar(&opts.allHubs, "all-hubs", false, "every hub, not only --hub")
	fl.StringVar(&opts.controlToken, "control-token", "", "token of an emulator listening beyond loopback (default $"+envControlToken+")")
	fl.DurationVar(&opts.wait, "wait", 0, "wait up to this long until no delivery is Pending (nh emulator --deliver)")
	return cmd
}

func runDeliveries(ctx context.Context, opts *deliveriesOptions) error {
	f := opts.f
	q := deliveryQuery{notificationID: opts.notificationID, handle: opts.handle, tag: opts.tag, token: opts.controlToken}
	if !opts.allHubs {
		hub, err := f.hubName()
		if err != nil {
			return usageErrorf("no hub: set --hub or %s, or give --all-hubs", envHub)
		}
		q.hub = hub
	}
	ds, err := fetchDeliveriesWait(ctx, f, q, opts.wait)
	if err != nil {
		return err
	}
	if f.output == outputJSON {
		return writeJSON(f.io.Out, ds)
	}
	// On a terminal long handles and payloads are clipped; for a pipe the
	// rows are whole (a payload's white space folded, to keep one row a line).
	handleWidth, payloadWidth := 40, 100
	if !f.io.OutTTY {
		handleWidth, payloadWidth = 1<<30, 1<<30
	}
	if anyAttempts(ds) {
		t := newTable("TIME", "NOTIFICATION", "PLATFORM", "HANDLE", "OUTCOME", "PUSH SERVICE", "PAYLOAD")
		for _, d := range ds {
			t.add(d.Time.UTC().Format(time.RFC3339), d.NotificationID, d.Platform, shorten(d.Handle, handleWidth), d.Outcome, attemptsText(d.Attempts), oneLine(d.Payload, payloadWidth))
		}
		return t.write(f.io.Out, f.io.OutTTY)
	}
	t := newTable("TIME", "NOTIFICATION", "PLATFORM", "HANDLE", "OUTCOME", "PAYLOAD")
	for _, d := range ds {
		t.add(d.Time.UTC().Format(time.RFC3339), d.NotificationID, d.Platform, shorten(d.Handle, handleWidth), d.Outcome, oneLine(d.Payload, payloadWidth))
	}
	if err := t.write(f.io.Out, f.io.OutTTY); err != nil {
		return err
	}
	if len(ds) == 0 && f.io.OutTTY {
		fmt.Fprintln(f.io.Out, "no deliveries")
	}
	return nil
}

// deliveryQuery is the query of GET /_emulator/deliveries.
type deliveryQuery struct {
	hub, notificationID, handle, tag string
	token                            string // control token; "" reads NH_EMULATOR_CONTROL_TOKEN
}

// fetchDeliveries reads an emulator's deliveries over HTTP, from the
// connection string's endpoint, with the factory's TLS settings.
func fetchDeliveries(ctx context.Context, f *factory, q deliveryQuery) ([]emulator.Delivery, error) {
	ep, err := f.endpoint()
	if err != nil {
		return nil, err
	}
	hc, err := f.httpClient()
	if err != nil {
		return nil, err
	}
	v := url.Values{}
	for k, x := range map[string]string{"hub": q.hub, "notificationId": q.notificationID, "handle": q.handle, "tag": q.tag} {
		if x != "" {
			v.Set(k, x)
		}
	}
	u := *ep
	u.Path = "/_emulator/deliveries"
	u.RawQuery = v.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	token := q.token
	if token == "" {
		token = f.getenv(envControlToken)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	where := "GET " + ep.Scheme + "://" + ep.Host + "/_emulator/deliveries"
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read deliveries: %s: %w", where, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read deliveries: %s: %w", where, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusNotFound:
		return nil, &emulatorAPIError{resp.StatusCode, fmt.Sprintf("read deliveries: %s answered 404: the endpoint is not an nh emulator (the service keeps no record of deliveries)", where)}
	default:
		return nil, &emulatorAPIError{resp.StatusCode, fmt.Sprintf("read deliveries: %s answered %s", where, resp.Status)}
	}
	var ds []emulator.Delivery
	if err := json.Unmarshal(body, &ds); err != nil {
		return nil, fmt.Errorf("read deliveries: %s: the answer is not a JSON list of deliveries: %v", where, err)
	}
	if ds == nil {
		ds = []emulator.Delivery{}
	}
	return ds, nil
}

// oneLine folds white space and clips s to n runes.
func oneLine(s string, n int) string {
	return shorten(strings.Join(strings.Fields(s), " "), n)
}
