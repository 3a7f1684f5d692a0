// Command benchsink is the benchmark sink: a minimal HTTPS server on
// loopback that answers every POST /{hub}/messages with 201 Created and a
// Location header, over HTTP/1.1 with keep-alive. It runs as its own
// process so that a client's CPU time can be measured alone.
//
//	benchsink -gencert -cert cert.pem -key key.pem    write a self-signed pair and exit
//	benchsink -cert cert.pem -key key.pem [-listen 127.0.0.1:0] [-addr-file F]
//
// It prints "listening https://ADDR" and serves until SIGINT, SIGTERM or
// -max-duration.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nhkit/notificationhubs/bench"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchsink:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to listen on")
	certFile := flag.String("cert", "", "certificate (PEM)")
	keyFile := flag.String("key", "", "private key (PEM)")
	gen := flag.Bool("gencert", false, "write a self-signed certificate for 127.0.0.1 and localhost to -cert and -key, then exit")
	addrFile := flag.String("addr-file", "", "write the listening address to this file")
	maxDur := flag.Duration("max-duration", 30*time.Minute, "stop after this long")
	flag.Parse()
	if *certFile == "" || *keyFile == "" {
		return errors.New("give -cert and -key")
	}
	if *gen {
		return bench.GenerateCert(*certFile, *keyFile)
	}
	pair, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		return fmt.Errorf("load certificate %s: %w", *certFile, err)
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		return fmt.Errorf("-listen %q: %w", *listen, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-listen %q: the sink listens on loopback addresses only", *listen)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	hs := &http.Server{
		Handler:           bench.SinkHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// HTTP/1.1 only: every client gets keep-alive connections, none
		// multiplexes over HTTP/2.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{pair},
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"http/1.1"},
		},
	}
	addr := ln.Addr().String()
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(addr+"\n"), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", *addrFile, err)
		}
	}
	fmt.Printf("listening https://%s\n", addr)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *maxDur)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- hs.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shut, cancelShut := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelShut()
	return hs.Shutdown(shut)
}
