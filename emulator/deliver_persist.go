// Delivery with --data: the push services' answers kept in bbolt and
// applied to the records restored at Open.

package emulator

import (
	"encoding/json"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// bDeliveryResults keeps, with Options.DataDir, what the push services
// answered: the final state of delivery records and send records, which
// the database stored as they were when the send was answered. Open
// applies them, by notification id and target, to what it restores.
var bDeliveryResults = []byte("deliveryresults")

// deliveryResultRec is one answer kept: a delivery's final outcome and
// attempts, or a send's counts.
type deliveryResultRec struct {
	Kind           string            `json:"kind"` // delivery or send
	NotificationID string            `json:"notificationId"`
	Hub            string            `json:"hub"`
	Handle         string            `json:"handle,omitempty"`
	RegistrationID string            `json:"registrationId,omitempty"`
	InstallationID string            `json:"installationId,omitempty"`
	Outcome        string            `json:"outcome,omitempty"`
	Attempts       []DeliveryAttempt `json:"attempts,omitempty"`
	Send           *sendResult       `json:"send,omitempty"`
}

type sendResult struct {
	Pending   int                       `json:"pending"`
	Success   int                       `json:"success"`
	Failed    int                       `json:"failed"`
	Outcomes  map[string]map[string]int `json:"outcomes,omitempty"`
	State     string                    `json:"state"`
	ErrorBlob string                    `json:"errorBlob,omitempty"`
}

func resultRecord(r deliveryResultRec) []byte {
	b, _ := json.Marshal(r)
	return b
}

// deliveryKey identifies a delivery record within its send.
func deliveryKey(nid, hub, handle, regID, instID string) string {
	return strings.ToLower(hub) + "\x00" + nid + "\x00" + handle + "\x00" + regID + "\x00" + instID
}

// abandoned is the outcome, and the telemetry state, of what was still
// being delivered when the emulator stopped without its grace period (a
// crash): the service calls notifications it could not hand over
// Abandoned.
const abandoned = "Abandoned"

// loadDeliveryResults applies the answers kept to the restored records;
// deliveries still Pending end as Abandoned.
func (s *Server) loadDeliveryResults(tx *bolt.Tx) error {
	sends := map[string]*sendResult{}
	ds := map[string]*deliveryResultRec{}
	err := tx.Bucket(bDeliveryResults).ForEach(func(k, v []byte) error {
		var r deliveryResultRec
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("delivery result %x: %w", k, err)
		}
		switch r.Kind {
		case "send":
			sends[strings.ToLower(r.Hub)+"\x00"+r.NotificationID] = r.Send
		case "delivery":
			ds[deliveryKey(r.NotificationID, r.Hub, r.Handle, r.RegistrationID, r.InstallationID)] = &r
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.sends.each(func(rec *SendRecord) {
		if u := sends[strings.ToLower(rec.Hub)+"\x00"+rec.NotificationID]; u != nil {
			rec.Pending, rec.Success, rec.Failed, rec.Outcomes, rec.State, rec.ErrorBlob = u.Pending, u.Success, u.Failed, u.Outcomes, u.State, u.ErrorBlob
		}
		if rec.Pending > 0 {
			rec.Pending, rec.State = 0, abandoned
		}
	})
	s.deliveries.each(func(d *Delivery) {
		if r := ds[deliveryKey(d.NotificationID, d.Hub, d.Handle, d.RegistrationID, d.InstallationID)]; r != nil {
			d.Outcome, d.Attempts = r.Outcome, r.Attempts
		}
		if d.Outcome == OutcomePending {
			d.Outcome = abandoned
		}
	})
	s.deliveries.recount()
	return nil
}

// recount sums the cost of the retained values again, after each changed
// them.
func (r *ring[T]) recount() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bytes = 0
	if r.cost == nil {
		return
	}
	for i := range r.count {
		r.bytes += r.cost(&r.buf[(r.head+i)%len(r.buf)])
	}
}
