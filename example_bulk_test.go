package notificationhubs_test

import (
	"context"
	"fmt"
	"log"
	"slices"
	"strconv"

	"github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/emulator"
)

// ExampleBulkSender_Send sends a personalised template notification to
// each of 40 users, identified by a tag of their own, through a hub that
// accepts 50 sends a second with a burst of 10 (the emulator's
// `--throttle-rate 50 --throttle-burst 10`). The first burst of sends
// gets through, the rest are throttled with Retry-After; the sender holds
// every send until it has passed, then sends the rest at a pace it adapts
// to the hub's answers. Each notification is sent once.
func ExampleBulkSender_Send() {
	hub := startEmulator(emulator.Options{})
	defer hub.Close()
	client := hub.client()
	ctx := context.Background()

	names := []string{"Ann", "Bob", "Cid", "Dee", "Eve", "Fay", "Gus", "Hal", "Ida", "Jo"}
	for i := range 40 {
		user := "user-" + strconv.Itoa(i)
		reg := notificationhubs.NewFcmV1TemplateRegistration("fcm-token-"+strconv.Itoa(i),
			`{"message":{"notification":{"body":"{'Hello ' + $(name) + ', your code is ' + $(code)}"}}}`, user)
		if _, err := client.CreateRegistration(ctx, reg, nil); err != nil {
			log.Fatal(err)
		}
	}

	// From now on the hub throttles (registering was not).
	hub.emu.SetThrottle("", 50, 10)

	// The notifications come from an iterator, here over a slice; it could
	// read a file or a database, as the sender takes them only as fast as
	// it sends them.
	notifications := func(yield func(notificationhubs.BulkNotification) bool) {
		for i := range 40 {
			user := "user-" + strconv.Itoa(i)
			n := notificationhubs.NewTemplateNotification(map[string]string{
				"name": names[i%len(names)],
				"code": strconv.Itoa(1000 + i),
			})
			if !yield(notificationhubs.BulkNotification{Key: user, Notification: n, Tags: []string{user}}) {
				return
			}
		}
	}

	sender := client.NewBulkSender(&notificationhubs.BulkSenderOptions{Concurrency: 8})
	var sent []string
	for r := range sender.Send(ctx, notifications) {
		if r.Err != nil {
			fmt.Println(r.Key, "failed:", r.Err)
			continue
		}
		sent = append(sent, r.Key)
	}
	stats := sender.Stats()
	fmt.Println(len(sent), "sent,", stats.Failed, "failed; throttled along the way:", stats.Throttled > 0)

	// What two of the devices received.
	for _, user := range []string{"user-0", "user-39"} {
		if !slices.Contains(sent, user) {
			continue
		}
		for _, d := range hub.emu.Deliveries(emulator.DeliveryFilter{Hub: "myhub", Tag: user}) {
			fmt.Println(user, d.Payload)
		}
	}
	// Output:
	// 40 sent, 0 failed; throttled along the way: true
	// user-0 {"message":{"notification":{"body":"Hello Ann, your code is 1000"},"token":"fcm-token-0"}}
	// user-39 {"message":{"notification":{"body":"Hello Jo, your code is 1039"},"token":"fcm-token-39"}}
}
