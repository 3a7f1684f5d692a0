package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/nhkit/notificationhubs/emulator"
)

// localServer is an HTTPS server on a random loopback port with a
// certificate that exists only in memory. nh demo runs the emulator on it.
type localServer struct {
	Addr      string // host:port
	Transport *http.Transport
	CertPEM   []byte // the server's certificate, for clients in other processes
	srv       *http.Server
	done      chan error
}

// startLocalServer serves h on 127.0.0.1 with an in-memory self-signed
// certificate; the returned Transport trusts exactly that certificate.
func startLocalServer(h http.Handler) (*localServer, error) {
	cert, err := emulator.SelfSignedCertificate(24 * time.Hour)
	if err != nil {
		return nil, err
	}
	leaf := cert.Leaf
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	ls := &localServer{
		Addr: ln.Addr().String(),
		srv: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 10 * time.Second,
			TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
			ErrorLog:          log.New(io.Discard, "", 0),
		},
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}),
		done:    make(chan error, 1),
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			MaxIdleConnsPerHost: 64,
			ForceAttemptHTTP2:   true,
		},
	}
	go func() { ls.done <- ls.srv.ServeTLS(ln, "", "") }()
	return ls, nil
}

// Close shuts the server down and waits for it.
func (ls *localServer) Close() error {
	ls.Transport.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := ls.srv.Shutdown(ctx)
	if serr := <-ls.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
