//go:build tools

// This file pins modules that the project needs before code imports them; it
// is removed once every dependency is imported by real code.
package notificationhubs

import (
	_ "github.com/Azure/azure-sdk-for-go/sdk/azcore"
	_ "github.com/creack/pty"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/google/uuid"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/spf13/cobra"
	_ "go.etcd.io/bbolt"
)
