package notificationhubs_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/nhkit/notificationhubs"
	"github.com/nhkit/notificationhubs/emulator"
)

// A Go program trusts the certificate of `nh emulator` (printed as
// "Certificate: …/cert.pem") by putting it in the RootCAs of its
// transport; certificate verification stays on. On Linux,
// SSL_CERT_FILE=…/cert.pem does the same without code. This example
// starts the emulator as `nh emulator` does, over TLS on loopback.
func ExampleClientOptions_trustEmulatorCertificate() {
	certFile, connectionString, stop := startNhEmulator()
	defer stop()

	// What a program does with the emulator's certificate:
	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		fmt.Println(err)
		return
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	roots.AppendCertsFromPEM(pemBytes)
	opts := &notificationhubs.ClientOptions{}
	opts.Transport = &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
	}}
	client, err := notificationhubs.NewClientFromConnectionString(connectionString, "myhub", opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := client.SendAppleNotification(context.Background(), []byte(`{"aps":{"alert":"Hello"}}`), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sent:", resp.NotificationID != "")
	// Output:
	// sent: true
}

// startNhEmulator runs emulator.Serve, the server of `nh emulator`, on a
// free loopback port with a certificate generated in a temporary
// directory, and returns the certificate's path and the full-access
// connection string it prints.
func startNhEmulator() (certFile, connectionString string, stop func()) {
	dir, err := os.MkdirTemp("", "nh-emulator-example-")
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := emulator.Serve(ctx, emulator.ServeOptions{Listen: "127.0.0.1:0", CertDir: dir}, pw)
		pw.CloseWithError(err)
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if cs, ok := strings.CutPrefix(sc.Text(), "Connection string (full):"); ok {
			connectionString = strings.TrimSpace(cs)
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if connectionString == "" {
		panic(fmt.Sprintf("emulator.Serve printed no connection string: %v", sc.Err()))
	}
	return filepath.Join(dir, "cert.pem"), connectionString, func() {
		cancel()
		<-done
		os.RemoveAll(dir)
	}
}
