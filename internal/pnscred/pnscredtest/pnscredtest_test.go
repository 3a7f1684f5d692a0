package pnscredtest_test

import (
	"crypto/elliptic"
	"testing"
	"time"

	"github.com/nhkit/notificationhubs/internal/pnscred"
	"github.com/nhkit/notificationhubs/internal/pnscred/pnscredtest"
)

// TestMaterialIsWhatTheServicesTake reads each kind of key material with
// the checks hub credentials go through.
func TestMaterialIsWhatTheServicesTake(t *testing.T) {
	if _, err := pnscred.ApnsKey(pnscredtest.P8()); err != nil {
		t.Errorf(".p8: %v", err)
	}
	if k, _ := pnscredtest.ECKey(elliptic.P384()); k.Curve != elliptic.P384() {
		t.Errorf("ECKey(P-384) made a key on %v", k.Curve.Params().Name)
	}
	notAfter := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	cert := pnscredtest.NewCertificate("com.example.app", &pnscredtest.CertificateOptions{NotAfter: notAfter})
	for name, data := range map[string][]byte{"PKCS#12": cert.P12("pw"), "PEM": cert.PEM()} {
		pw := map[string]string{"PKCS#12": "pw"}[name]
		c, err := pnscred.ApnsCertificate(data, pw)
		if err != nil || c.BundleID != "com.example.app" || !c.Leaf.NotAfter.Equal(notAfter) {
			t.Errorf("%s certificate: bundle %q, not after %v, %v", name, c.BundleID, c.Leaf, err)
		}
	}
	// Signed by a CA, as the APNs stand-in issues them.
	ca := pnscredtest.NewCertificate("", &pnscredtest.CertificateOptions{CommonName: "test CA"})
	leaf := pnscredtest.NewCertificate("com.example.app", &pnscredtest.CertificateOptions{Parent: ca.Leaf, ParentKey: ca.Key, ClientAuth: true})
	if err := ca.Leaf.CheckSignature(leaf.Leaf.SignatureAlgorithm, leaf.Leaf.RawTBSCertificate, leaf.Leaf.Signature); err != nil {
		t.Errorf("the issued certificate is not signed by its parent: %v", err)
	}
	if leaf.Leaf.Issuer.CommonName != "test CA" || len(leaf.Leaf.ExtKeyUsage) != 1 {
		t.Errorf("issued certificate: issuer %q, ext key usage %v", leaf.Leaf.Issuer.CommonName, leaf.Leaf.ExtKeyUsage)
	}
	sa, err := pnscred.ParseServiceAccount(pnscredtest.NewServiceAccount("proj-1").JSON())
	if err != nil || sa.ProjectID != "proj-1" || sa.ClientEmail != "sender@proj-1.iam.gserviceaccount.com" {
		t.Errorf("service account: %+v, %v", sa, err)
	}
	pub, priv := pnscredtest.VapidKeys()
	if _, _, err := pnscred.VapidKeys(pub, priv); err != nil {
		t.Errorf("VAPID keys: %v", err)
	}
}
