package inbox

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nhkit/notificationhubs/internal/tagexpr"
)

// Test helpers shared by this package's test files; helpers used by
// one file stay in that file.

// fakeSource is an in-memory Source that tests fill directly and push
// deliveries into.
type fakeSource struct {
	mu         sync.Mutex
	hubs       []string
	devices    map[string][]Device // by hub
	deliveries []Delivery          // oldest first
	subs       map[int]chan Delivery
	cancels    map[int]func()
	nextSub    int
	nextID     int
	telemetry  map[string][]TelemetryRow
	scheduled  map[string][]ScheduledRow
	resets     int
	lastDevQ   DeviceQuery
	lastDelQ   DeliveryQuery
}

func newFake(hubs ...string) *fakeSource {
	return &fakeSource{
		hubs:      hubs,
		devices:   map[string][]Device{},
		subs:      map[int]chan Delivery{},
		cancels:   map[int]func(){},
		telemetry: map[string][]TelemetryRow{},
		scheduled: map[string][]ScheduledRow{},
	}
}

func (f *fakeSource) addDevices(hub string, ds ...Device) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.devices[hub] = append(f.devices[hub], ds...)
}

// push records deliveries (assigning ids and times where missing) and
// hands them to every subscriber.
func (f *fakeSource) push(ds ...Delivery) []Delivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range ds {
		f.nextID++
		if ds[i].ID == "" {
			ds[i].ID = fmt.Sprintf("d%06d", f.nextID)
		}
		if ds[i].Time.IsZero() {
			ds[i].Time = time.Now()
		}
		if ds[i].Outcome == "" {
			ds[i].Outcome = "Success"
		}
		f.deliveries = append(f.deliveries, ds[i])
		for _, ch := range f.subs {
			select {
			case ch <- ds[i]:
			default: // a slow subscriber loses deliveries
			}
		}
	}
	return ds
}

func (f *fakeSource) subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

func (f *fakeSource) Hubs() []Hub {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Hub
	for _, name := range f.hubs {
		h := Hub{Name: name}
		for _, d := range f.devices[name] {
			if d.Kind == "installation" {
				h.Installations++
			} else {
				h.Registrations++
			}
		}
		for _, d := range f.deliveries {
			if strings.EqualFold(d.Hub, name) {
				h.Deliveries++
			}
		}
		out = append(out, h)
	}
	return out
}

func (f *fakeSource) pageDevices(hub string, q DeviceQuery, keep func(*Device) bool) DevicePage {
	p := DevicePage{Offset: q.Offset}
	for i := range f.devices[hub] {
		d := &f.devices[hub][i]
		if !keep(d) {
			continue
		}
		if p.Total >= q.Offset && len(p.Devices) < q.Limit {
			p.Devices = append(p.Devices, *d)
		}
		p.Total++
	}
	return p
}

func (f *fakeSource) Devices(hub string, q DeviceQuery) DevicePage {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastDevQ = q
	return f.pageDevices(hub, q, func(d *Device) bool { return searchHit(d, q.Search) })
}

func (f *fakeSource) Match(hub, expression string, q DeviceQuery) (DevicePage, error) {
	e, err := tagexpr.Parse(expression)
	if err != nil {
		return DevicePage{}, fmt.Errorf("matching in hub %q: %w", hub, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastDevQ = q
	return f.pageDevices(hub, q, func(d *Device) bool {
		return e.Match(func(tag string) bool {
			return slices.Contains(d.Tags, tag) ||
				(d.InstallationID != "" && tag == "$InstallationId:{"+d.InstallationID+"}") ||
				(d.UserID != "" && tag == "$UserId:{"+d.UserID+"}")
		})
	}), nil
}

func (f *fakeSource) Deliveries(q DeliveryQuery) DeliveryPage {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastDelQ = q
	p := DeliveryPage{Offset: q.Offset}
	for i := len(f.deliveries) - 1; i >= 0; i-- {
		d := f.deliveries[i]
		if (q.Hub != "" && !strings.EqualFold(q.Hub, d.Hub)) || (q.Handle != "" && q.Handle != d.Handle) ||
			(q.NotificationID != "" && q.NotificationID != d.NotificationID) {
			continue
		}
		if p.Total >= q.Offset && len(p.Deliveries) < q.Limit {
			p.Deliveries = append(p.Deliveries, d)
		}
		p.Total++
	}
	return p
}

func (f *fakeSource) Subscribe() (<-chan Delivery, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextSub++
	id := f.nextSub
	ch := make(chan Delivery, 4096)
	f.subs[id] = ch
	var once sync.Once
	cancel := func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			delete(f.subs, id)
			delete(f.cancels, id)
			close(ch)
		})
	}
	f.cancels[id] = cancel
	return ch, cancel
}

// endAll ends every subscription from the source's side.
func (f *fakeSource) endAll() {
	f.mu.Lock()
	var cs []func()
	for _, c := range f.cancels {
		cs = append(cs, c)
	}
	f.mu.Unlock()
	for _, c := range cs {
		c()
	}
}

func (f *fakeSource) Telemetry(hub string) []TelemetryRow {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.telemetry[hub]
}

func (f *fakeSource) Scheduled(hub string) []ScheduledRow {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.scheduled[hub]
}

func (f *fakeSource) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resets++
	f.devices = map[string][]Device{}
	f.deliveries = nil
}

func (f *fakeSource) ConnectionStrings() []NamedString {
	return []NamedString{
		{Name: "Full access", Value: "Endpoint=sb://127.0.0.1:8443/;SharedAccessKeyName=DefaultFullSharedAccessSignature;SharedAccessKey=ZmFrZQ=="},
		{Name: "Listen only", Value: "Endpoint=sb://127.0.0.1:8443/;SharedAccessKeyName=DefaultListenSharedAccessSignature;SharedAccessKey=bGlzdGVu"},
	}
}

func urlq(s string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", " ", "%20", "+", "%2B", "$", "%24", "{", "%7B", "}", "%7D", "|", "%7C", "!", "%21").Replace(s)
}

func searchHit(d *Device, s string) bool {
	if s == "" {
		return true
	}
	s = strings.ToLower(s)
	for _, v := range append([]string{d.Handle, d.RegistrationID, d.InstallationID, d.UserID}, d.Tags...) {
		if strings.Contains(strings.ToLower(v), s) {
			return true
		}
	}
	return false
}
