package emulator

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// ServeOptions configures Serve.
type ServeOptions struct {
	// Listen is the address to listen on; default 127.0.0.1:8443.
	Listen string
	// CertFile and KeyFile are a PEM certificate and key to serve with
	// (bring your own). When empty a self-signed certificate is generated
	// in CertDir on first start and reused afterwards.
	CertFile, KeyFile string
	// CertDir is where the generated cert.pem and key.pem live; default
	// the user cache directory's nh-emulator.
	CertDir string
	// PlainHTTP serves without TLS. The printed connection strings then
	// say Endpoint=http://host:port/, which the JS SDK and this module's
	// SDK use as given; the .NET and Java SDKs always switch to https and
	// need TLS. Location and Content-Location headers still say https, as
	// clients require (rest-api.md §1.4).
	PlainHTTP bool
	// Emulator configures the emulator itself.
	Emulator Options
}

// SelfSignedCertificate makes a self-signed ECDSA P-256 certificate for
// localhost, 127.0.0.1 and ::1, valid for validFor, with its Leaf set.
// It is its own CA, so clients trust exactly this certificate.
func SelfSignedCertificate(validFor time.Duration) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate emulator key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate emulator certificate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "Notification Hubs emulator", Organization: []string{"nhkit"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validFor),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("create emulator certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("parse emulator certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// GenerateCert writes a self-signed ECDSA P-256 certificate for localhost,
// 127.0.0.1 and ::1 (valid ten years) and its key as PEM files.
func GenerateCert(certFile, keyFile string) error {
	cert, err := SelfSignedCertificate(10 * 365 * 24 * time.Hour)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return fmt.Errorf("encode emulator key: %w", err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o644); err != nil {
		return fmt.Errorf("write emulator certificate %s: %w", certFile, err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return fmt.Errorf("write emulator key %s: %w", keyFile, err)
	}
	return nil
}

// ensureCert returns the certificate and key paths, generating them in
// dir when they do not exist.
func ensureCert(dir string) (string, string, error) {
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", "", fmt.Errorf("find a directory for the emulator certificate: %w", err)
		}
		dir = filepath.Join(cache, "nh-emulator")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("create certificate directory %s: %w", dir, err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil {
		return certFile, keyFile, nil
	}
	if err := GenerateCert(certFile, keyFile); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

// Serve runs an emulator until ctx is done, then shuts down gracefully. It
// prints the endpoint, the certificate path and both connection strings
// to out.
func Serve(ctx context.Context, o ServeOptions, out io.Writer) error {
	if o.Listen == "" {
		o.Listen = "127.0.0.1:8443"
	}
	srv, err := Open(o.Emulator)
	if err != nil {
		return err
	}
	defer srv.Close()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 30 * time.Second}
	certFile, keyFile := o.CertFile, o.KeyFile
	if !o.PlainHTTP {
		if (certFile == "") != (keyFile == "") {
			return errors.New("serve emulator: give both a certificate file and a key file, or neither")
		}
		if certFile == "" {
			if certFile, keyFile, err = ensureCert(o.CertDir); err != nil {
				return err
			}
		}
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return fmt.Errorf("load emulator certificate %s: %w", certFile, err)
		}
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("serve emulator on %s: %w", o.Listen, err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	// SDKs turn sb:// into https://, so a plain-HTTP emulator must say
	// http:// in its connection strings to be reachable at all.
	scheme, endpoint := "https", "sb://localhost:"+port+"/"
	if o.PlainHTTP {
		scheme, endpoint = "http", "http://localhost:"+port+"/"
	}
	srv.SetPublicEndpoint(endpoint)
	fmt.Fprintf(out, "Notification Hubs emulator listening on %s://%s\n", scheme, ln.Addr())
	fmt.Fprintf(out, "Endpoint: %s\n", endpoint)
	fmt.Fprintf(out, "Inbox: %s://localhost:%s/_emulator/ui/\n", scheme, port)
	if o.PlainHTTP {
		fmt.Fprintf(out, "Plain HTTP: the JS SDK and the nhkit Go SDK use the http:// endpoint as given; the .NET and Java SDKs always use https and need TLS mode (without --plain-http).\n")
	} else {
		fmt.Fprintf(out, "Certificate: %s\n", certFile)
	}
	fmt.Fprintf(out, "Connection string (full):   %s\n", srv.ConnectionString(endpoint, false))
	fmt.Fprintf(out, "Connection string (listen): %s\n", srv.ConnectionString(endpoint, true))

	errc := make(chan error, 1)
	go func() {
		if o.PlainHTTP {
			errc <- hs.Serve(ln)
		} else {
			errc <- hs.ServeTLS(ln, "", "")
		}
	}()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serve emulator: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = hs.Shutdown(shutCtx)
	if err != nil {
		return fmt.Errorf("shut down emulator: %w", err)
	}
	return nil
}
