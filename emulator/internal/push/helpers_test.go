package push_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test helpers shared by this package's external test files; helpers
// used by one file stay in that file.

const apnsPayload = `{"aps":{"alert":"hello"}}`

func apnsHandle() string {
	return strings.Repeat("0123456789abcdef", 4)[:56] + randomSuffix(8)
}

func p8(t *testing.T, curve elliptic.Curve) []byte {
	k, _ := ecdsa.GenerateKey(curve, rand.Reader)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

var epoch = time.Now().Truncate(time.Second)

// randomSuffix returns n hex digits that differ on every call.
func randomSuffix(n int) string {
	suffixMu.Lock()
	suffixN++
	v := suffixN
	suffixMu.Unlock()
	const hex = "0123456789abcdef"
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = hex[v%16]
		v /= 16
	}
	return string(b)
}

var (
	suffixMu sync.Mutex
	suffixN  int
)
