package proxy

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/sqlerr"
)

// Capabilities Courier offers clients. Deliberately absent: compression,
// DEPRECATE_EOF and SESSION_TRACK (backends are spoken to without them, so
// result packets can be forwarded unchanged).
const serverCaps = mysql.CLIENT_LONG_PASSWORD | mysql.CLIENT_FOUND_ROWS | mysql.CLIENT_LONG_FLAG |
	mysql.CLIENT_LOCAL_FILES |
	mysql.CLIENT_CONNECT_WITH_DB | mysql.CLIENT_PROTOCOL_41 | mysql.CLIENT_INTERACTIVE |
	mysql.CLIENT_TRANSACTIONS | mysql.CLIENT_SECURE_CONNECTION | mysql.CLIENT_MULTI_STATEMENTS |
	mysql.CLIENT_MULTI_RESULTS | mysql.CLIENT_PS_MULTI_RESULTS | mysql.CLIENT_PLUGIN_AUTH |
	mysql.CLIENT_CONNECT_ATTRS | mysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA

// preAuthLimit bounds packets before authentication.
const preAuthLimit = 64 << 10

type handshakeResponse struct {
	caps      uint32
	collation uint8
	user      string
	auth      []byte
	db        string
	plugin    string
}

// handshake runs the connection phase. On success the session is
// authenticated with its schema and charset set, holds a place under
// limits.max_connections (given back by unregister), and its packets are
// read under the idle and packet timeouts.
func (ss *session) handshake(ctx context.Context) error {
	srv := ss.srv
	raw := ss.nc // what the door counts, whatever TLS makes of ss.nc
	defer srv.door.leave(raw)
	salt, caps, greeting, err := srv.greeting(ss.id)
	if err != nil {
		return err
	}
	if err := ss.writeFlush(greeting); err != nil {
		return err
	}
	p, err := ss.c.ReadPacket(preAuthLimit)
	if err != nil {
		return err
	}
	srv.door.answered(raw)
	if len(p) >= 4 && binary.LittleEndian.Uint32(p)&mysql.CLIENT_SSL != 0 && len(p) == 32 {
		if p, err = ss.upgradeTLS(ctx); err != nil {
			return err
		}
	}
	if srv.cfg.TLS.Require && !ss.tls {
		return sqlerr.New(sqlerr.ErrAccessDenied, "Courier requires TLS: connect with SSL enabled")
	}
	hr, err := parseHandshakeResponse(p)
	if err != nil {
		return sqlerr.Wrap(err, sqlerr.ErrHandshake, "Bad handshake")
	}
	ss.caps = hr.caps & caps
	ss.salt = salt
	if err := ss.authenticate(hr, salt); err != nil {
		return err
	}
	srv.door.leave(raw)
	if err := srv.startLogin(); err != nil {
		return err
	}
	if err := ss.startSession(ctx, hr); err != nil {
		srv.endLogin()
		return err
	}
	ss.c.SetReadTimeouts(srv.conf().Limits.IdleClientTimeout, srv.conf().Limits.PacketTimeout)
	return nil
}

// greeting is the initial handshake packet of connection id: its
// scramble and the capabilities Courier offers.
func (srv *Server) greeting(id uint32) (salt []byte, caps uint32, packet []byte, err error) {
	salt = make([]byte, 20)
	if _, err := rand.Read(salt); err != nil {
		return nil, 0, nil, err
	}
	for i, b := range salt { // the salt is NUL-terminated on the wire
		if b == 0 || b == '$' {
			salt[i] = b + 1
		}
	}
	plugin := srv.authPlugin()
	caps = serverCaps
	if srv.tlsConf != nil {
		caps |= mysql.CLIENT_SSL
	}
	g := make([]byte, 0, 128)
	g = append(g, 10)
	g = append(g, srv.version()...)
	g = append(g, 0)
	g = binary.LittleEndian.AppendUint32(g, id)
	g = append(g, salt[:8]...)
	g = append(g, 0)
	g = binary.LittleEndian.AppendUint16(g, uint16(caps))
	g = append(g, backend.DefaultCollation)
	g = binary.LittleEndian.AppendUint16(g, wire.StatusAutocommit)
	g = binary.LittleEndian.AppendUint16(g, uint16(caps>>16))
	g = append(g, byte(len(salt)+1))
	g = append(g, make([]byte, 10)...)
	g = append(g, salt[8:]...)
	g = append(g, 0)
	g = append(g, plugin...)
	g = append(g, 0)
	return salt, caps, g, nil
}

// upgradeTLS runs the TLS handshake the client asked for with an SSL
// request and returns the handshake response that follows it.
func (ss *session) upgradeTLS(ctx context.Context) ([]byte, error) {
	srv := ss.srv
	if srv.tlsConf == nil {
		return nil, sqlerr.New(sqlerr.ErrHandshake, "TLS requested but Courier has no tls.cert configured")
	}
	seq := ss.c.Seq()
	// The client sends its TLS hello right after the request, without
	// waiting: bytes already buffered are the start of it.
	under := ss.nc
	if early := ss.c.TakeBuffered(); len(early) > 0 {
		under = &prefixedConn{Conn: ss.nc, r: io.MultiReader(bytes.NewReader(early), ss.nc)}
	}
	tc := tls.Server(under, srv.tlsConf)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	ss.nc = tc
	ss.tls = true
	ss.c.Reset(tc)
	ss.c.SetSeq(seq)
	return ss.c.ReadPacket(preAuthLimit)
}

// prefixedConn is a net.Conn whose first reads return bytes that were
// read from it earlier.
type prefixedConn struct {
	net.Conn
	r io.Reader
}

func (c *prefixedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func parseHandshakeResponse(p []byte) (handshakeResponse, error) {
	var hr handshakeResponse
	if len(p) < 32 {
		return hr, wire.ErrMalformed
	}
	hr.caps = binary.LittleEndian.Uint32(p)
	if hr.caps&mysql.CLIENT_PROTOCOL_41 == 0 {
		return hr, errors.New("client does not speak protocol 4.1")
	}
	hr.collation = p[8]
	rest := p[32:]
	user, rest, ok := bytes.Cut(rest, []byte{0})
	if !ok {
		return hr, wire.ErrMalformed
	}
	hr.user = string(user)
	switch {
	case hr.caps&mysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA != 0:
		auth, n, err := wire.ReadLenEncString(rest)
		if err != nil {
			return hr, err
		}
		hr.auth, rest = auth, rest[n:]
	case hr.caps&mysql.CLIENT_SECURE_CONNECTION != 0:
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return hr, wire.ErrMalformed
		}
		hr.auth, rest = rest[1:1+int(rest[0])], rest[1+int(rest[0]):]
	default:
		auth, r, _ := bytes.Cut(rest, []byte{0})
		hr.auth, rest = auth, r
	}
	if hr.caps&mysql.CLIENT_CONNECT_WITH_DB != 0 && len(rest) > 0 {
		db, r, _ := bytes.Cut(rest, []byte{0})
		hr.db, rest = string(db), r
	}
	hr.plugin = mysql.AUTH_NATIVE_PASSWORD
	if hr.caps&mysql.CLIENT_PLUGIN_AUTH != 0 && len(rest) > 0 {
		name, _, _ := bytes.Cut(rest, []byte{0})
		if len(name) > 0 {
			hr.plugin = string(name)
		}
	}
	hr.auth = bytes.Clone(hr.auth)
	return hr, nil
}

// accessDenied records a failed login (login_throttle) and returns the
// error for it; withPassword says whether the client sent a password, which
// the message tells as MySQL does.
func (s *Server) accessDenied(nc net.Conn, user string, withPassword bool) error {
	host := remoteHost(nc)
	s.throttle.fail(host, user, (*s.users.Load())[user] != nil)
	using := "YES"
	if !withPassword {
		using = "NO"
	}
	return sqlerr.New(sqlerr.ErrAccessDenied, "Access denied for user '%s'@'%s' (using password: %s)", user, host, using)
}

// authenticate checks the client's credentials, switching plugin or
// asking for full authentication when needed. A client address or user
// blocked by login_throttle is refused without a look at the password.
func (ss *session) authenticate(hr handshakeResponse, salt []byte) error {
	if e := ss.srv.throttle.refusal(remoteHost(ss.nc), hr.user); e != nil {
		ss.srv.metrics.loginsBlocked.Inc()
		return e
	}
	withPassword := len(hr.auth) > 0
	acct := (*ss.srv.users.Load())[hr.user]
	if acct == nil {
		return ss.srv.accessDenied(ss.nc, hr.user, withPassword)
	}
	ss.user = acct
	switch hr.plugin {
	case mysql.AUTH_NATIVE_PASSWORD:
		if acct.checkNative(salt, hr.auth) {
			return nil
		}
		return ss.srv.accessDenied(ss.nc, hr.user, withPassword)
	case mysql.AUTH_CACHING_SHA2_PASSWORD:
		if acct.password != nil {
			if !acct.checkSha2(salt, hr.auth) {
				return ss.srv.accessDenied(ss.nc, hr.user, withPassword)
			}
			return ss.writeFlush([]byte{0x01, 0x03}) // fast authentication succeeded
		}
		return ss.fullAuth(acct, salt, withPassword)
	}
	// Any other plugin: ask the client to switch to mysql_native_password.
	sw := append([]byte{wire.EOFHeader}, mysql.AUTH_NATIVE_PASSWORD...)
	sw = append(append(append(sw, 0), salt...), 0)
	if err := ss.writeFlush(sw); err != nil {
		return err
	}
	reply, err := ss.c.ReadPacket(preAuthLimit)
	if err != nil {
		return err
	}
	if !acct.checkNative(salt, reply) {
		return ss.srv.accessDenied(ss.nc, hr.user, len(reply) > 0)
	}
	return nil
}

// fullAuth is caching_sha2_password's full authentication: the password
// in clear text over TLS, or RSA-encrypted with Courier's public key.
func (ss *session) fullAuth(acct *account, salt []byte, withPassword bool) error {
	if err := ss.writeFlush([]byte{0x01, 0x04}); err != nil {
		return err
	}
	p, err := ss.c.ReadPacket(preAuthLimit)
	if err != nil {
		return err
	}
	var pw []byte
	switch {
	case ss.tls:
		pw = bytes.TrimRight(p, "\x00")
	case len(p) == 1 && p[0] == 0x02: // request for the public key
		if err := ss.writeFlush(append([]byte{0x01}, ss.srv.rsaPub...)); err != nil {
			return err
		}
		enc, err := ss.c.ReadPacket(preAuthLimit)
		if err != nil {
			return err
		}
		if pw, err = decryptPassword(ss.srv.rsaKey, salt, enc); err != nil {
			return ss.srv.accessDenied(ss.nc, acct.name, withPassword)
		}
	default:
		return ss.srv.accessDenied(ss.nc, acct.name, withPassword)
	}
	if !acct.checkClear(pw) {
		return ss.srv.accessDenied(ss.nc, acct.name, len(pw) > 0)
	}
	return nil
}

// startSession sets the session's initial state from the handshake and
// checks the schema the client asked for on a backend.
func (ss *session) startSession(ctx context.Context, hr handshakeResponse) error {
	st := &backend.State{NoMultiStatements: ss.caps&mysql.CLIENT_MULTI_STATEMENTS == 0}
	ss.charsetVars = nil
	if hr.caps&mysql.CLIENT_FOUND_ROWS != 0 {
		ss.flavour = backend.FlavourFoundRows
	}
	if hr.collation != backend.DefaultCollation && hr.collation != 0 {
		if col, ok := ss.srv.collations.lookup(hr.collation); ok {
			ss.charsetVars = charsetVars(col)
			st = st.WithVars(ss.charsetVars...)
		}
	}
	ss.state = st
	ss.consistency, _ = router.ParseConsistency(ss.srv.conf().Consistency)
	if ss.user.consistency != "" {
		ss.consistency, _ = router.ParseConsistency(ss.user.consistency)
	}
	if hr.db != "" {
		if !ss.user.mayUse(hr.db) {
			return ss.user.dbDenied(hr.db)
		}
		ss.state = ss.state.WithSchema(hr.db)
		if err := ss.checkSchema(ctx); err != nil {
			return err
		}
	}
	ss.mode = modeOf(ss.state)
	return nil
}

// changeUser runs COM_CHANGE_USER: it authenticates the new user against
// the handshake's scramble (switching to mysql_native_password when the
// client uses another plugin) and starts a fresh session, as MySQL does.
// A failed attempt closes the connection.
func (ss *session) changeUser(ctx context.Context, p []byte) error {
	hr, err := parseChangeUser(p, ss.caps)
	if err != nil {
		_ = ss.writeErr(sqlerr.Wrap(err, sqlerr.ErrMalformedPacket, "Malformed communication packet"))
		return err
	}
	// Whatever the session left on its backend connections goes.
	ss.cur.releaseAll()
	ss.cur = newCursor(ss)
	ss.cmd.cu = ss.cur
	ss.stmts, ss.lastInsertID = stmtTable{}, 0
	if err := ss.authenticate(hr, ss.salt); err != nil {
		_ = ss.writeErr(err)
		return err
	}
	if err := ss.startSession(ctx, hr); err != nil {
		_ = ss.writeErr(err)
		return err
	}
	return ss.writeOK(0, 0, 0)
}

// parseChangeUser reads a COM_CHANGE_USER packet into the form of a
// handshake response.
func parseChangeUser(p []byte, caps uint32) (handshakeResponse, error) {
	hr := handshakeResponse{caps: caps, plugin: mysql.AUTH_NATIVE_PASSWORD}
	rest := p[1:]
	user, rest, ok := bytes.Cut(rest, []byte{0})
	if !ok {
		return hr, wire.ErrMalformed
	}
	hr.user = string(user)
	if caps&mysql.CLIENT_SECURE_CONNECTION != 0 {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return hr, wire.ErrMalformed
		}
		hr.auth, rest = bytes.Clone(rest[1:1+int(rest[0])]), rest[1+int(rest[0]):]
	} else {
		auth, r, _ := bytes.Cut(rest, []byte{0})
		hr.auth, rest = bytes.Clone(auth), r
	}
	db, rest, _ := bytes.Cut(rest, []byte{0})
	hr.db = string(db)
	if len(rest) >= 2 {
		hr.collation = rest[0]
		rest = rest[2:]
	}
	if caps&mysql.CLIENT_PLUGIN_AUTH != 0 && len(rest) > 0 {
		if name, _, _ := bytes.Cut(rest, []byte{0}); len(name) > 0 {
			hr.plugin = string(name)
		}
	}
	return hr, nil
}

// checkSchema makes sure the session's schema exists, on the default
// cluster's primary or, when the primary is known to be down or cannot be
// reached in time, on a replica.
func (ss *session) checkSchema(ctx context.Context) error {
	cu := ss.cur
	cu.begin(current{info: parser.Info{Kind: parser.KindUse}})
	defer cu.finish(false)
	onReplica := func() (bool, error) {
		bc, _, err := cu.replicaConn(ctx, ss.srv.def, 0, false, nil)
		return bc != nil || err != nil, err
	}
	if up, _ := ss.srv.primary.Healthy(); !up {
		if ok, err := onReplica(); ok {
			return err
		}
	}
	_, _, err := cu.acquire(ctx, 0, false)
	var se *sqlerr.Error
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() ||
		errors.As(err, &se) && (se.Num == sqlerr.ErrCannotConnect || se.Num == sqlerr.ErrBackendUnavailable) {
		if ok, rerr := onReplica(); ok {
			return rerr
		}
	}
	return err
}

// dbDenied is the error for a schema the account may not use.
func (a *account) dbDenied(db string) error {
	return sqlerr.New(sqlerr.ErrDBAccessDenied, "Access denied for user '%s'@'%%' to database '%s'", a.name, db)
}

// charsetVars are the session variables that SET NAMES col sets.
func charsetVars(col collation) []backend.Var {
	cs := backend.QuoteString(col.charset)
	return []backend.Var{
		{Name: "character_set_client", Value: cs},
		{Name: "character_set_results", Value: cs},
		{Name: "collation_connection", Value: backend.QuoteString(col.name)},
	}
}

// authPlugin is the plugin named in the greeting.
func (s *Server) authPlugin() string {
	if s.cfg.AuthPlugin != "" {
		return s.cfg.AuthPlugin
	}
	return mysql.AUTH_NATIVE_PASSWORD
}

// version is the server version shown to clients.
func (s *Server) version() string {
	if s.serverVersion != "" {
		return s.serverVersion
	}
	if v := s.primary.ServerVersion(); v != "" {
		return v
	}
	return "10.11.0-MariaDB-courier" // until a backend has answered
}
