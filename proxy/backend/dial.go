package backend

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/sqlerr"
)

// DefaultCollation is the collation backend connections are opened with
// (utf8mb4_general_ci); a session that wants another one gets it by Sync.
const DefaultCollation = 45

// Flavour selects connection flags that a client fixes at handshake and
// that change how the server answers, so they must match the client's.
type Flavour uint8

// Flavours.
const (
	FlavourPlain     Flavour = 0
	FlavourFoundRows Flavour = 1 // CLIENT_FOUND_ROWS: UPDATE reports matched rows
	flavours                 = 2
)

// Options describe how to reach and log in to an instance.
type Options struct {
	Addr           string
	User, Password string
	ConnectTimeout time.Duration
}

const clientCaps = mysql.CLIENT_PROTOCOL_41 | mysql.CLIENT_SECURE_CONNECTION | mysql.CLIENT_LONG_PASSWORD |
	mysql.CLIENT_LONG_FLAG | mysql.CLIENT_TRANSACTIONS | mysql.CLIENT_PLUGIN_AUTH |
	mysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | mysql.CLIENT_MULTI_STATEMENTS |
	mysql.CLIENT_MULTI_RESULTS | mysql.CLIENT_PS_MULTI_RESULTS | mysql.CLIENT_LOCAL_FILES

// Dial opens and authenticates a connection. Errors from the server keep
// their code; failures to reach it are 2013-class coded errors naming addr.
func Dial(ctx context.Context, o Options, fl Flavour) (*Conn, error) {
	timeout := o.ConnectTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", o.Addr)
	if err != nil {
		return nil, sqlerr.Wrap(err, sqlerr.ErrCannotConnect, "Can't connect to backend %s: %v", o.Addr, err)
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	c := &Conn{wc: wire.NewConn(nc, 16<<10, 16<<10), addr: o.Addr, flavour: fl, applied: &initialState}
	if err := c.handshake(o, fl); err != nil {
		nc.Close()
		var se *sqlerr.Error
		if errors.As(err, &se) {
			return nil, err
		}
		return nil, sqlerr.Wrap(err, sqlerr.ErrCannotConnect, "Can't connect to backend %s: handshake failed: %v", o.Addr, err)
	}
	_ = nc.SetDeadline(time.Time{})
	c.lastUsed = time.Now()
	return c, nil
}

func (c *Conn) handshake(o Options, fl Flavour) error {
	p, err := c.wc.ReadPacket(64 << 10)
	if err != nil {
		return err
	}
	if len(p) > 0 && p[0] == wire.ErrHeader {
		return serverError(p)
	}
	g, err := parseGreeting(p)
	if err != nil {
		return err
	}
	c.ThreadID = g.threadID
	c.ServerVersion = g.version
	c.Scramble = g.salt
	caps := clientCaps & g.caps
	if fl == FlavourFoundRows {
		caps |= mysql.CLIENT_FOUND_ROWS
	}
	plugin := g.plugin
	auth, err := scramble(plugin, g.salt, o.Password)
	if err != nil {
		plugin = mysql.AUTH_NATIVE_PASSWORD
		auth, _ = scramble(plugin, g.salt, o.Password)
	}
	resp := make([]byte, 0, 128)
	resp = binary.LittleEndian.AppendUint32(resp, caps)
	resp = binary.LittleEndian.AppendUint32(resp, wire.MaxPayload)
	resp = append(resp, DefaultCollation)
	resp = append(resp, make([]byte, 23)...)
	resp = append(resp, o.User...)
	resp = append(resp, 0)
	resp = wire.AppendLenEncInt(resp, uint64(len(auth)))
	resp = append(resp, auth...)
	resp = append(resp, plugin...)
	resp = append(resp, 0)
	if err := c.writeFlush(resp); err != nil {
		return err
	}
	for range 4 { // OK, ERR, auth switch, or more auth data
		p, err := c.wc.ReadPacket(64 << 10)
		if err != nil {
			return err
		}
		if len(p) == 0 {
			return wire.ErrMalformed
		}
		switch p[0] {
		case wire.OKHeader:
			return nil
		case wire.ErrHeader:
			return serverError(p)
		case wire.EOFHeader: // auth switch request
			name, rest, _ := bytes.Cut(p[1:], []byte{0})
			salt := bytes.TrimSuffix(rest, []byte{0})
			auth, err := scramble(string(name), salt, o.Password)
			if err != nil {
				return err
			}
			if err := c.writeFlush(auth); err != nil {
				return err
			}
		case 0x01: // caching_sha2_password: 3 = fast auth done, 4 = full auth needed
			if len(p) > 1 && p[1] == 4 {
				return fmt.Errorf("backend %s asks for caching_sha2_password full authentication, which needs TLS; use mysql_native_password for Courier's backend user", o.Addr)
			}
		default:
			return wire.ErrMalformed
		}
	}
	return wire.ErrMalformed
}

func (c *Conn) writeFlush(p []byte) error {
	if err := c.wc.WritePacket(p); err != nil {
		return err
	}
	return c.wc.Flush()
}

type greeting struct {
	version  string
	threadID uint32
	caps     uint32
	salt     []byte
	plugin   string
}

func parseGreeting(p []byte) (greeting, error) {
	var g greeting
	if len(p) < 1 || p[0] != 10 {
		return g, fmt.Errorf("unsupported protocol version")
	}
	v, rest, ok := bytes.Cut(p[1:], []byte{0})
	if !ok || len(rest) < 4+8+1+2+1+2+2+1+10 {
		return g, wire.ErrMalformed
	}
	g.version = string(v)
	g.threadID = binary.LittleEndian.Uint32(rest)
	salt := append([]byte(nil), rest[4:12]...)
	rest = rest[13:]
	g.caps = uint32(binary.LittleEndian.Uint16(rest))
	rest = rest[2+1+2:] // caps low, charset, status
	g.caps |= uint32(binary.LittleEndian.Uint16(rest)) << 16
	saltLen := int(rest[2])
	rest = rest[3+10:]
	if n := max(13, saltLen-8); len(rest) >= n {
		salt = append(salt, bytes.TrimSuffix(rest[:n], []byte{0})...)
		rest = rest[n:]
	}
	g.salt = salt
	name, _, _ := bytes.Cut(rest, []byte{0})
	g.plugin = string(name)
	if g.plugin == "" {
		g.plugin = mysql.AUTH_NATIVE_PASSWORD
	}
	return g, nil
}

func scramble(plugin string, salt []byte, password string) ([]byte, error) {
	switch plugin {
	case mysql.AUTH_NATIVE_PASSWORD:
		return mysql.CalcNativePassword(salt, []byte(password)), nil
	case mysql.AUTH_CACHING_SHA2_PASSWORD:
		return mysql.CalcCachingSha2Password(salt, []byte(password)), nil
	case mysql.AUTH_MARIADB_ED25519:
		return mysql.CalcEd25519Password(salt, password)
	}
	return nil, fmt.Errorf("backend asks for unsupported authentication plugin %q", plugin)
}

// serverError turns an ERR packet into a coded error.
func serverError(p []byte) error {
	num, state, msg := wire.ParseErr(p)
	return &sqlerr.Error{Num: num, State: state, Message: msg}
}
