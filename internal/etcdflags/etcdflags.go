// Package etcdflags holds the etcd login and TLS flags that the vland
// server, the agent (vland agent, vland-agent) and the admin commands share,
// named as etcdctl names them.
package etcdflags

import (
	"errors"

	"github.com/spf13/pflag"

	"github.com/vland/vland/internal/store/etcdstore"
)

// Auth are the etcd login and TLS flags.
type Auth struct {
	Username     string
	PasswordFile string
	TLS          etcdstore.TLSFiles
}

// Register adds the flags to fs.
func (f *Auth) Register(fs *pflag.FlagSet, userHelp, passwordHelp string) {
	fs.StringVar(&f.Username, "etcd-username", "", userHelp)
	fs.StringVar(&f.PasswordFile, "etcd-password-file", "", passwordHelp)
	fs.StringVar(&f.TLS.CACert, "etcd-cacert", "", "CA bundle to verify the etcd server's certificate (https endpoints)")
	fs.StringVar(&f.TLS.Cert, "etcd-cert", "", "client certificate for etcd (with --etcd-key)")
	fs.StringVar(&f.TLS.Key, "etcd-key", "", "client certificate key for etcd")
}

// Set says whether any of the flags was given.
func (f *Auth) Set() bool {
	return f.Username != "" || f.PasswordFile != "" || f.TLS != (etcdstore.TLSFiles{})
}

// Config builds the client configuration; defaultUser is used when a
// password file is given without --etcd-username.
func (f *Auth) Config(endpoints []string, defaultUser string) (etcdstore.ClientConfig, error) {
	cc := etcdstore.ClientConfig{Endpoints: endpoints, Username: f.Username}
	var err error
	if cc.TLS, err = etcdstore.LoadTLS(f.TLS); err != nil {
		return cc, err
	}
	if f.PasswordFile == "" {
		if cc.Username != "" {
			return cc, errors.New("--etcd-username needs --etcd-password-file")
		}
		return cc, nil
	}
	if cc.Username == "" {
		cc.Username = defaultUser
	}
	cc.Password, err = etcdstore.ReadPasswordFile(f.PasswordFile)
	return cc, err
}
