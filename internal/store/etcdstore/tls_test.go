package etcdstore_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/vland/vland/internal/store"
	"github.com/vland/vland/internal/store/etcdstore"
)

// certAuthority is a throwaway CA that writes PEM files into dir.
type certAuthority struct {
	t    *testing.T
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// shortCtx bounds a request that is expected to fail.
func shortCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newCA(t *testing.T, dir, name string) *certAuthority {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	ca := &certAuthority{t: t, dir: dir, cert: cert, key: key}
	ca.write(name+".pem", "CERTIFICATE", der)
	return ca
}

func (ca *certAuthority) write(name, typ string, der []byte) string {
	path := filepath.Join(ca.dir, name)
	require.NoError(ca.t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return path
}

// issue signs a leaf certificate for 127.0.0.1 and returns its cert and
// key files.
func (ca *certAuthority) issue(name string, usage x509.ExtKeyUsage) (certFile, keyFile string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(ca.t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	require.NoError(ca.t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(ca.t, err)
	return ca.write(name+".pem", "CERTIFICATE", der), ca.write(name+"-key.pem", "EC PRIVATE KEY", kder)
}

// An etcd serving https and requiring client certificates: the client
// flags (--etcd-cacert/--etcd-cert/--etcd-key) connect; a client without
// a certificate, or trusting another CA, does not.
func TestClientTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, dir, "ca")
	newCA(t, dir, "other-ca")
	serverCert, serverKey := ca.issue("etcd", x509.ExtKeyUsageServerAuth)
	clientCert, clientKey := ca.issue("vland", x509.ExtKeyUsageClientAuth)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	clientURL := url.URL{Scheme: "https", Host: ln.Addr().String()}
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	peerURL := url.URL{Scheme: "http", Host: ln2.Addr().String()}
	ln.Close()
	ln2.Close()
	ec := embed.NewConfig()
	ec.Dir = filepath.Join(dir, "etcd")
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{clientURL}, []url.URL{clientURL}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{peerURL}, []url.URL{peerURL}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	ec.ClientTLSInfo.CertFile, ec.ClientTLSInfo.KeyFile = serverCert, serverKey
	ec.ClientTLSInfo.TrustedCAFile, ec.ClientTLSInfo.ClientCertAuth = filepath.Join(dir, "ca.pem"), true
	ec.Logger = "zap"
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(ec)
	require.NoError(t, err)
	t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(15 * time.Second):
		t.Fatal("etcd with TLS not ready")
	}
	endpoints := []string{clientURL.String()}

	tlsCfg, err := etcdstore.LoadTLS(etcdstore.TLSFiles{CACert: filepath.Join(dir, "ca.pem"), Cert: clientCert, Key: clientKey})
	require.NoError(t, err)
	st, err := etcdstore.Connect(etcdstore.ClientConfig{Endpoints: endpoints, TLS: tlsCfg})
	require.NoError(t, err)
	defer st.Close()
	_, err = st.Txn(ctxT(t), nil, []store.Op{{Key: store.NetworkKey("n1"), Value: []byte("{}")}})
	require.NoError(t, err, "mutual TLS")

	for name, files := range map[string]etcdstore.TLSFiles{
		"no client certificate": {CACert: filepath.Join(dir, "ca.pem")},
		"server not trusted":    {CACert: filepath.Join(dir, "other-ca.pem"), Cert: clientCert, Key: clientKey},
	} {
		cfg, err := etcdstore.LoadTLS(files)
		require.NoError(t, err)
		bad, err := etcdstore.Connect(etcdstore.ClientConfig{Endpoints: endpoints, TLS: cfg})
		if err == nil {
			// The dial is lazy; the first request must fail.
			_, err = bad.Get(shortCtx(t), store.NetworkKey("n1"))
			bad.Close()
		}
		require.Error(t, err, name)
	}

	_, err = etcdstore.LoadTLS(etcdstore.TLSFiles{Cert: clientCert})
	require.Error(t, err, "a certificate without its key")
	_, err = etcdstore.LoadTLS(etcdstore.TLSFiles{CACert: clientKey})
	require.Error(t, err, "a CA file without a certificate")
}
