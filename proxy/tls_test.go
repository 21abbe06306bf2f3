package proxy_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/config"
)

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "courier-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

// TestTLS: clients can switch to TLS; with tls.require, clients that do
// not are refused; caching_sha2 full authentication sends the password
// in clear text only over TLS.
func TestTLS(t *testing.T) {
	cert, key := selfSigned(t, t.TempDir())
	e := newEnvWith(t, func(c *config.Config) {
		c.TLS = config.TLS{Cert: cert, Key: key, Require: true}
		c.AuthPlugin = "caching_sha2_password"
		c.Users = append(c.Users, config.User{Name: "hashed", PasswordHash: "*5BCB3E6AC345B435C7C2E6B7949A04CE6F6563D3"})
	})
	_ = mysql.RegisterTLSConfig("courier-test", &tls.Config{InsecureSkipVerify: true})
	db := e.open(e.courier.DSN("app", "app", e.schema, "tls=courier-test"))
	if got := queryString(t, db, "SELECT 1"); got != "1" {
		t.Fatal("query over TLS")
	}
	hashed := e.open(e.courier.DSN("hashed", "app", e.schema, "tls=courier-test"))
	if got := queryString(t, hashed, "SELECT 2"); got != "2" {
		t.Fatal("full authentication over TLS")
	}
	plain := e.open(e.courier.DSN("app", "app", e.schema, ""))
	wantMySQLError(t, plain.Ping(), 1045, "28000")
}
