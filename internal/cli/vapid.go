package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"
)

// newVapidKeysCmd is nh vapid-keys: a VAPID key pair for browser push.
func newVapidKeysCmd(f *factory) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "vapid-keys --private-key-file FILE",
		Short: "Make a VAPID key pair for browser push",
		Long: `Vapid-keys makes a VAPID key pair (RFC 8292: a P-256 key) for sending Web Push
to browsers. It writes the private key, base64url, to the --private-key-file it
creates (readable by you alone; an existing file is not replaced) and prints the
public key: give it to the browser's pushManager.subscribe as its
applicationServerKey, and both to the hub:

  nh hub credentials set browser --subject mailto:you@example.com \
    --vapid-public-key PUBLIC --vapid-private-key @FILE`,
		Example: `  nh vapid-keys --private-key-file vapid-private.txt`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return usageErrorf("give --private-key-file: the private key is written there, never printed")
			}
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				return err
			}
			pub, err := k.PublicKey.Bytes()
			if err != nil {
				return err
			}
			priv, err := k.Bytes()
			if err != nil {
				return err
			}
			w, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%s exists: vapid-keys does not replace a key", file)
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(w, base64.RawURLEncoding.EncodeToString(priv))
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("write %s: %w", file, err)
			}
			public := base64.RawURLEncoding.EncodeToString(pub)
			if f.output == outputJSON {
				return writeJSON(f.io.Out, map[string]string{"publicKey": public, "privateKeyFile": file})
			}
			fmt.Fprintf(f.io.Out, "Public key: %s\nPrivate key: written to %s\n", public, file)
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "private-key-file", "", "file to create with the private key (base64url)")
	return cmd
}
