package cli

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/nhkit/notificationhubs/emulator"
)

// deliverFlags are nh emulator's flags for delivering to the real push
// services.
type deliverFlags struct {
	deliver   string   // "": off; "all" or a comma list of platforms
	endpoints []string // name=URL
	caFile    string
	queue     int

	roots *x509.CertPool // read from caFile by check
	eps   map[string]string
}

// deliverAll is --deliver's value when it is given without one.
const deliverAll = "all"

// deliverPlatformNames are the platforms --deliver takes, as the service
// names installation platforms.
var deliverPlatformNames = []string{"apns", "fcmv1", "wns", "adm", "browser", "gcm", "mpns", "baidu", "xiaomi"}

func (d *deliverFlags) add(fl *pflag.FlagSet) {
	fl.StringVar(&d.deliver, "deliver", "", "deliver to the real push services, for hubs with a credential for the platform: all, or a list such as apns,fcmv1 (default: simulate; nothing leaves this machine)")
	fl.Lookup("deliver").NoOptDefVal = deliverAll
	fl.StringArrayVar(&d.endpoints, "pns-endpoint", nil, "with --deliver: send to SERVICE at URL instead (repeatable): "+strings.Join(emulator.DeliverEndpointNames(), ", ")+"=https://host:port")
	fl.StringVar(&d.caFile, "pns-ca-file", "", "with --deliver: also trust these PEM certificates for the push services (a staging service's or a stand-in's)")
	fl.IntVar(&d.queue, "deliver-queue", 0, "with --deliver: notifications waiting per push service before more are dropped (default 250000)")
}

// check reads and checks the flags; it loads the CA file.
func (d *deliverFlags) check() error {
	if d.deliver == "" {
		switch {
		case len(d.endpoints) > 0:
			return usageErrorf("--pns-endpoint needs --deliver: without it nothing is sent to any push service")
		case d.caFile != "":
			return usageErrorf("--pns-ca-file needs --deliver: without it nothing is sent to any push service")
		case d.queue != 0:
			return usageErrorf("--deliver-queue needs --deliver")
		}
		return nil
	}
	if d.deliver != deliverAll {
		for _, p := range strings.Split(d.deliver, ",") {
			if !slices.Contains(deliverPlatformNames, strings.TrimSpace(p)) {
				return usageErrorf("--deliver: unknown platform %q: want all or a list of %s", p, strings.Join(deliverPlatformNames, ", "))
			}
		}
	}
	if d.queue < 0 {
		return usageErrorf("--deliver-queue cannot be negative")
	}
	d.eps = map[string]string{}
	for _, e := range d.endpoints {
		name, u, ok := strings.Cut(e, "=")
		if !ok || !slices.Contains(emulator.DeliverEndpointNames(), name) || !strings.HasPrefix(u, "https://") {
			return usageErrorf("--pns-endpoint %q: want SERVICE=https://host:port, SERVICE one of %s", e, strings.Join(emulator.DeliverEndpointNames(), ", "))
		}
		d.eps[name] = u
	}
	if d.caFile != "" {
		pemBytes, err := os.ReadFile(d.caFile)
		if err != nil {
			return fmt.Errorf("--pns-ca-file: %w", err)
		}
		roots, err := x509.SystemCertPool()
		if err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(pemBytes) {
			return usageErrorf("--pns-ca-file %s holds no PEM certificate", d.caFile)
		}
		d.roots = roots
	}
	return nil
}

// options returns what the flags ask of emulator.Options.Deliver: nil
// without --deliver.
func (d *deliverFlags) options() *emulator.DeliverOptions {
	if d.deliver == "" {
		return nil
	}
	o := &emulator.DeliverOptions{Endpoints: d.eps, RootCAs: d.roots, QueueSize: d.queue}
	if d.deliver != deliverAll {
		for _, p := range strings.Split(d.deliver, ",") {
			o.Platforms = append(o.Platforms, strings.TrimSpace(p))
		}
	}
	return o
}

// fetchDeliveriesWait is fetchDeliveries, asked again until no delivery
// is Pending or wait has passed.
func fetchDeliveriesWait(ctx context.Context, f *factory, q deliveryQuery, wait time.Duration) ([]emulator.Delivery, error) {
	deadline := time.Now().Add(wait)
	for {
		ds, err := fetchDeliveries(ctx, f, q)
		if err != nil || wait <= 0 {
			return ds, err
		}
		pending := 0
		for _, d := range ds {
			if d.Outcome == emulator.OutcomePending {
				pending++
			}
		}
		if pending == 0 {
			return ds, nil
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(f.io.Err, "%d deliveries still pending after %s\n", pending, wait)
			return ds, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func anyAttempts(ds []emulator.Delivery) bool {
	for _, d := range ds {
		if len(d.Attempts) > 0 {
			return true
		}
	}
	return false
}

// attemptsText sums up a delivery's attempts for a table cell, oldest
// first: "throttled 429 Retry-After 1s; delivered 200 id 5E0F…".
func attemptsText(as []emulator.DeliveryAttempt) string {
	parts := make([]string, 0, len(as))
	for _, a := range as {
		s := a.Status
		if a.HTTPStatus != 0 {
			s += " " + strconv.Itoa(a.HTTPStatus)
		}
		if a.PnsID != "" {
			s += " id " + a.PnsID
		}
		if a.Reason != "" {
			s += " " + a.Reason
		}
		if a.RetryAfter > 0 {
			s += " Retry-After " + strconv.Itoa(a.RetryAfter) + "s"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
