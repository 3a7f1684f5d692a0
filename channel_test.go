package notificationhubs_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	nh "github.com/nhkit/notificationhubs"
)

// TestListByChannelNormalisesAPNsTokens: iOS code usually formats a
// device token in lower-case hex, but the service stores APNs tokens
// upper-case and matches the $filter value as written (its reference:
// "DeviceToken must be in uppercase hex format"). Listing, and so
// deleting, by a lower-case token must still find the device; other
// handles are sent exactly as given.
func TestListByChannelNormalisesAPNsTokens(t *testing.T) {
	_, c := newContract(t, nil)
	ctx := context.Background()
	lower := strings.Repeat("0a1b2c3d", 8)
	regs := []nh.Registration{
		nh.NewAppleRegistration(lower, "a"),
		nh.NewFcmV1Registration("abcdef0123456789:APA91b-x", "b"),
		nh.NewXiaomiRegistration("abcdef0123", "c"), // short hex: not taken for an APNs token
	}
	ids := map[string]string{}
	for _, r := range regs {
		got, err := c.CreateRegistration(ctx, r, nil)
		if err != nil {
			t.Fatalf("CreateRegistration(%s): %v", r.Platform, err)
		}
		ids[r.Handle()] = got.RegistrationID
	}
	for _, handle := range []string{lower, strings.ToUpper(lower), "abcdef0123456789:APA91b-x", "abcdef0123"} {
		page, err := c.NewListRegistrationsByChannelPager(handle, nil).NextPage(ctx)
		if err != nil {
			t.Fatalf("list by %q: %v", handle, err)
		}
		var got []string
		for _, r := range page.Registrations {
			got = append(got, r.RegistrationID)
		}
		want := []string{ids[handle]}
		if want[0] == "" {
			want = []string{ids[lower]}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("list by %q (-want +got):\n%s", handle, diff)
		}
	}
	del, err := c.DeleteRegistrationsByChannel(ctx, lower, nil)
	if err != nil || len(del.Deleted) != 1 || del.Deleted[0] != ids[lower] {
		t.Errorf("DeleteRegistrationsByChannel(lower-case token) = %v, %v; want [%s]", del.Deleted, err, ids[lower])
	}
}
