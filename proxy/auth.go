package proxy

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/router"
)

// accessClass reads a configured access level as the most it allows.
func accessClass(level string) router.Class {
	switch level {
	case "read_only":
		return router.ClassRead
	case "read_write":
		return router.ClassWrite
	case "admin":
		return router.ClassAdmin
	}
	return router.ClassDDL
}

// account is a configured user ready for authentication.
type account struct {
	name     string
	password []byte // plain text; nil when only the hash is known
	stage2   []byte // SHA1(SHA1(password)), the mysql_native_password hash
	schemas  map[string]bool

	consistency string // the user's default read consistency ("" = server's)
	allowHints  bool
	// access is what the account may do (see authorize.go), and admin
	// whether that includes administering the servers.
	access router.Class
	admin  bool
	// class is the account's class of traffic (noClass: none), rate its
	// statement rate, shared by its sessions (nil: no bound).
	class *trafficClass
	rate  *limiter
	// writes is the last write of any of the user's sessions on each
	// cluster, for causal reads (see cursor.need); the same across
	// reloads.
	writes *userWrites
}

func loadAccounts(users []config.User, classes map[string]*trafficClass) (map[string]*account, error) {
	m := make(map[string]*account, len(users))
	for _, u := range users {
		a := &account{name: u.Name, consistency: u.Consistency, allowHints: u.AllowHints, access: accessClass(u.Access),
			class: noClass, rate: newLimiter(u.Rate)}
		if c := classes[u.Class]; c != nil {
			a.class = c
		}
		a.admin = a.access == router.ClassAdmin
		if u.Password != "" {
			a.password = []byte(u.Password)
			s1 := sha1.Sum(a.password)
			s2 := sha1.Sum(s1[:])
			a.stage2 = s2[:]
		} else {
			h, err := hex.DecodeString(strings.TrimPrefix(u.PasswordHash, "*"))
			if err != nil || len(h) != sha1.Size {
				return nil, fmt.Errorf("users: %s: password_hash is not a mysql_native_password hash", u.Name)
			}
			a.stage2 = h
		}
		if len(u.Schemas) > 0 {
			a.schemas = make(map[string]bool, len(u.Schemas))
			for _, s := range u.Schemas {
				a.schemas[strings.ToLower(s)] = true
			}
		}
		m[u.Name] = a
	}
	return m, nil
}

// mayUse reports whether the account may select schema.
func (a *account) mayUse(schema string) bool {
	return a.schemas == nil || a.schemas[strings.ToLower(schema)]
}

// checkNative verifies a mysql_native_password scramble.
func (a *account) checkNative(salt, reply []byte) bool {
	if len(reply) != sha1.Size {
		return false
	}
	// reply = SHA1(password) XOR SHA1(salt + stage2); recover SHA1(password)
	// and check that hashing it gives stage2.
	h := sha1.New()
	h.Write(salt)
	h.Write(a.stage2)
	stage1 := xor(reply, h.Sum(nil))
	got := sha1.Sum(stage1)
	return subtle.ConstantTimeCompare(got[:], a.stage2) == 1
}

// checkSha2 verifies a caching_sha2_password fast-path scramble; it needs
// the plain password.
func (a *account) checkSha2(salt, reply []byte) bool {
	if a.password == nil {
		return false
	}
	want := mysql.CalcCachingSha2Password(salt, a.password)
	return subtle.ConstantTimeCompare(want, reply) == 1
}

// checkClear verifies a password sent in clear text (over TLS or RSA).
func (a *account) checkClear(pw []byte) bool {
	s1 := sha1.Sum(pw)
	s2 := sha1.Sum(s1[:])
	return subtle.ConstantTimeCompare(s2[:], a.stage2) == 1
}

func xor(a, b []byte) []byte {
	out := make([]byte, len(a))
	for i := range a {
		out[i] = a[i] ^ b[i%len(b)]
	}
	return out
}

func newRSAKey() (*rsa.PrivateKey, []byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("rsa key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// decryptPassword undoes the client's RSA-OAEP encryption of
// (password + NUL) XOR salt.
func decryptPassword(key *rsa.PrivateKey, salt, data []byte) ([]byte, error) {
	plain, err := rsa.DecryptOAEP(sha1.New(), rand.Reader, key, data, nil)
	if err != nil {
		return nil, err
	}
	pw := xor(plain, salt)
	return bytes.TrimRight(pw, "\x00"), nil
}

// userWrites is, per cluster, the GTID of the latest write any session
// of one user made there.
type userWrites struct{ gtids []atomic.Pointer[string] }

func newUserWrites(clusters int) *userWrites {
	return &userWrites{gtids: make([]atomic.Pointer[string], clusters)}
}

// last is the latest write's GTID on cluster cl ("": none).
func (w *userWrites) last(cl int) string {
	if w == nil || cl >= len(w.gtids) {
		return ""
	}
	if g := w.gtids[cl].Load(); g != nil {
		return *g
	}
	return ""
}

// note records a write's GTID on cluster cl, unless a later one is
// there already.
func (w *userWrites) note(cl int, gtid string) {
	if w == nil || cl >= len(w.gtids) {
		return
	}
	for {
		old := w.gtids[cl].Load()
		if old != nil && backend.GTIDCovered(*old, gtid) {
			return
		}
		if w.gtids[cl].CompareAndSwap(old, &gtid) {
			return
		}
	}
}
