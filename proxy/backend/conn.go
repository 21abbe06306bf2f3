package backend

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/sqlerr"
)

// Conn is an authenticated connection to one server instance.
type Conn struct {
	wc      *wire.Conn
	addr    string
	flavour Flavour
	pool    *Pool
	class   int // the class of traffic it was handed out to (see Share)

	// ThreadID is the server's connection id (for KILL).
	ThreadID uint32
	// ServerVersion is the version string from the server's greeting.
	ServerVersion string
	// Scramble is the greeting's authentication scramble (a
	// COM_CHANGE_USER on this connection answers to it).
	Scramble []byte
	// LastInsertID is the value LAST_INSERT_ID() has on this connection,
	// as far as the OK packets it returned tell.
	LastInsertID uint64

	applied  *State
	stmts    map[string]*Stmt
	lastUsed time.Time
	broken   atomic.Bool // set by the owner, or by a KILL from another goroutine
	reused   bool        // handed out from the idle list (it may have gone stale there)
}

// Stmt is a statement prepared on one Conn.
type Stmt struct {
	ID      uint32
	Params  uint16
	Columns uint16
	// Types are the parameter types last sent to the server for it; an
	// execute that carries no types is valid only when these are set.
	Types []byte
}

// Wire returns the connection's packet layer, for relaying results.
func (c *Conn) Wire() *wire.Conn { return c.wc }

// Addr returns the instance address.
func (c *Conn) Addr() string { return c.addr }

// Pool returns the pool the connection belongs to (nil if dialled alone).
func (c *Conn) Pool() *Pool { return c.pool }

// Flavour returns the connection's handshake flavour.
func (c *Conn) Flavour() Flavour { return c.flavour }

// MarkBroken records that the connection is out of step with the server
// (an I/O error, a timeout, an unread result); the pool closes it.
func (c *Conn) MarkBroken() { c.broken.Store(true) }

// Broken reports whether MarkBroken was called.
func (c *Conn) Broken() bool { return c.broken.Load() }

// Reused reports whether the pool handed the connection out from its idle
// list rather than dialling it: a failure on its first statement may be
// the connection's (the server closed it while it idled), not the server's.
func (c *Conn) Reused() bool { return c.reused }

// Close closes the network connection.
func (c *Conn) Close() error {
	c.broken.Store(true)
	return c.wc.Close()
}

// SetDeadline bounds the next reads and writes; zero clears it.
func (c *Conn) SetDeadline(t time.Time) { _ = c.wc.NetConn().SetDeadline(t) }

// WriteCommand sends a command packet (sequence id 0) and flushes it.
func (c *Conn) WriteCommand(payload []byte) error {
	c.wc.SetSeq(0)
	if err := c.wc.WritePacket(payload); err != nil {
		c.broken.Store(true)
		return err
	}
	if err := c.wc.Flush(); err != nil {
		c.broken.Store(true)
		return err
	}
	return nil
}

// command sends a one-byte command with an argument and reads a simple
// OK/ERR (or EOF, for COM_SET_OPTION) answer.
func (c *Conn) command(cmd byte, arg string) error {
	buf := make([]byte, 0, 1+len(arg))
	buf = append(append(buf, cmd), arg...)
	if err := c.WriteCommand(buf); err != nil {
		return err
	}
	return c.readOK()
}

func (c *Conn) readOK() error {
	p, err := c.wc.ReadPacket(1 << 20)
	if err != nil {
		c.broken.Store(true)
		return err
	}
	switch {
	case len(p) > 0 && p[0] == wire.ErrHeader:
		return serverError(p)
	case len(p) > 0 && (p[0] == wire.OKHeader || p[0] == wire.EOFHeader):
		return nil
	}
	c.broken.Store(true)
	return fmt.Errorf("backend %s: unexpected answer to a command", c.addr)
}

// Ping checks that the server answers.
func (c *Conn) Ping(ctx context.Context) error {
	c.deadline(ctx)
	defer c.SetDeadline(time.Time{})
	return c.command(mysql.COM_PING, "")
}

// InternalTimeout bounds each of Courier's own round trips on a backend
// connection (state sync, resets, pings, internal queries) whose context
// has no deadline of its own.
const InternalTimeout = 5 * time.Second

func (c *Conn) deadline(ctx context.Context) {
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	} else {
		c.SetDeadline(time.Now().Add(InternalTimeout))
	}
}

// statementDeadline bounds a client's statement run through ExecOK: the
// context's deadline, else the pool's statement timeout (none when 0).
func (c *Conn) statementDeadline(ctx context.Context) {
	switch dl, ok := ctx.Deadline(); {
	case ok:
		c.SetDeadline(dl)
	case c.pool != nil && c.pool.cfg.QueryTimeout > 0:
		c.SetDeadline(time.Now().Add(c.pool.cfg.QueryTimeout))
	case c.pool == nil:
		c.SetDeadline(time.Now().Add(InternalTimeout))
	}
}

// Value is one field of a row read by Query.
type Value struct {
	Text    string
	Null    bool
	Numeric bool // the column has a numeric type
}

// SQL returns v as a literal that evaluates to the same value.
func (v Value) SQL() string {
	switch {
	case v.Null:
		return "NULL"
	case v.Numeric:
		return v.Text
	}
	return QuoteString(v.Text)
}

// QuoteString returns s as a single-quoted SQL string literal.
func QuoteString(s string) string {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'', '\\':
			b = append(b, '\\', c)
		case 0:
			b = append(b, '\\', '0')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case 0x1a:
			b = append(b, '\\', 'Z')
		default:
			b = append(b, c)
		}
	}
	return string(append(b, '\''))
}

// Exec runs a statement for Courier's own purposes and discards any rows.
func (c *Conn) Exec(ctx context.Context, sql string) error {
	_, err := c.Query(ctx, sql)
	return err
}

// Query runs a statement for Courier's own purposes and returns the rows
// of its (first) result set. Meant for small internal results.
func (c *Conn) Query(ctx context.Context, sql string) ([][]Value, error) {
	_, rows, err := c.QueryColumns(ctx, sql)
	return rows, err
}

// QueryColumns is Query that also returns the column names.
func (c *Conn) QueryColumns(ctx context.Context, sql string) ([]string, [][]Value, error) {
	c.deadline(ctx)
	defer c.SetDeadline(time.Time{})
	buf := make([]byte, 0, 1+len(sql))
	if err := c.WriteCommand(append(append(buf, mysql.COM_QUERY), sql...)); err != nil {
		return nil, nil, err
	}
	var rows [][]Value
	var names []string
	var firstErr error
	for {
		more, err := c.readResult(&rows, &names)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if c.broken.Load() {
			return nil, nil, err
		}
		if !more {
			return names, rows, firstErr
		}
	}
}

// ExecOK runs a statement that answers with OK packets (a write) and
// returns the last OK; rows of any result set are read and dropped. It
// runs clients' statements, so without a deadline in ctx it is bounded by
// the pool's statement timeout rather than InternalTimeout.
func (c *Conn) ExecOK(ctx context.Context, sql string) (wire.OK, error) {
	c.statementDeadline(ctx)
	defer c.SetDeadline(time.Time{})
	buf := make([]byte, 0, 1+len(sql))
	return c.execOK(append(append(buf, mysql.COM_QUERY), sql...))
}

// ExecPacket sends a command packet (COM_QUERY or COM_STMT_EXECUTE) of a
// statement that answers with OK packets and returns the last OK, bounded
// by ctx's deadline only (none when ctx has none: DDL may run long).
func (c *Conn) ExecPacket(ctx context.Context, pkt []byte) (wire.OK, error) {
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
		defer c.SetDeadline(time.Time{})
	}
	return c.execOK(pkt)
}

func (c *Conn) execOK(pkt []byte) (wire.OK, error) {
	if err := c.WriteCommand(pkt); err != nil {
		return wire.OK{}, err
	}
	var ok wire.OK
	for {
		p, err := c.wc.ReadPacket(1 << 30)
		if err != nil {
			c.broken.Store(true)
			return ok, err
		}
		if len(p) > 0 && p[0] == wire.OKHeader {
			if ok, err = wire.ParseOK(p); err != nil {
				c.broken.Store(true)
				return ok, err
			}
			if ok.InsertID != 0 {
				c.LastInsertID = ok.InsertID
			}
			if ok.Status&wire.StatusMoreResults == 0 {
				return ok, nil
			}
			continue
		}
		if len(p) > 0 && p[0] == wire.ErrHeader {
			return ok, serverError(p)
		}
		// A result set: put the packet back is not possible; read the
		// rest of it through the generic reader.
		var rows [][]Value
		more, err := c.readRest(p, &rows, nil)
		if err != nil || !more {
			return ok, err
		}
	}
}

// readResult reads one result (OK, ERR or a text result set) and reports
// whether more results follow.
func (c *Conn) readResult(rows *[][]Value, names *[]string) (more bool, err error) {
	p, err := c.wc.ReadPacket(1 << 30)
	if err != nil {
		c.broken.Store(true)
		return false, err
	}
	return c.readRest(p, rows, names)
}

// readRest reads one result whose first packet is p.
func (c *Conn) readRest(p []byte, rows *[][]Value, names *[]string) (more bool, err error) {
	if len(p) == 0 {
		c.broken.Store(true)
		return false, wire.ErrMalformed
	}
	switch p[0] {
	case wire.ErrHeader:
		return false, serverError(p)
	case wire.OKHeader:
		ok, err := wire.ParseOK(p)
		if err != nil {
			c.broken.Store(true)
			return false, err
		}
		if ok.InsertID != 0 {
			c.LastInsertID = ok.InsertID
		}
		return ok.Status&wire.StatusMoreResults != 0, nil
	case wire.LocalInfile:
		c.broken.Store(true)
		return false, sqlerr.NotSupported("LOAD DATA LOCAL INFILE in internal statements", "")
	}
	n, _, _, err := wire.ReadLenEncInt(p)
	if err != nil {
		c.broken.Store(true)
		return false, err
	}
	numeric := make([]bool, n)
	for i := range numeric {
		p, err := c.wc.ReadPacket(1 << 20)
		if err != nil {
			c.broken.Store(true)
			return false, err
		}
		numeric[i] = isNumericColumn(p)
		if names != nil && len(*rows) == 0 {
			*names = append(*names, columnName(p))
		}
	}
	if _, err := c.wc.ReadPacket(1 << 20); err != nil { // EOF after column definitions
		c.broken.Store(true)
		return false, err
	}
	for {
		p, err := c.wc.ReadPacket(1 << 30)
		if err != nil {
			c.broken.Store(true)
			return false, err
		}
		if wire.IsEOF(p, len(p)) {
			_, status := wire.ParseEOF(p)
			return status&wire.StatusMoreResults != 0, nil
		}
		if p[0] == wire.ErrHeader {
			return false, serverError(p)
		}
		row := make([]Value, n)
		for i := range row {
			if p[0] == 0xfb {
				row[i].Null = true
				p = p[1:]
				continue
			}
			s, k, err := wire.ReadLenEncString(p)
			if err != nil {
				c.broken.Store(true)
				return false, err
			}
			row[i] = Value{Text: string(s), Numeric: numeric[i]}
			p = p[k:]
		}
		*rows = append(*rows, row)
	}
}

// columnName reads the name of a column definition packet.
func columnName(p []byte) string {
	for range 4 { // catalog, schema, table, org_table
		_, k, err := wire.ReadLenEncString(p)
		if err != nil {
			return ""
		}
		p = p[k:]
	}
	name, _, _ := wire.ReadLenEncString(p)
	return string(name)
}

// isNumericColumn reads the type of a column definition packet.
func isNumericColumn(p []byte) bool {
	for range 6 { // catalog, schema, table, org_table, name, org_name
		_, k, err := wire.ReadLenEncString(p)
		if err != nil {
			return false
		}
		p = p[k:]
	}
	// 0x0c, charset(2), length(4), type(1)
	if len(p) < 8 {
		return false
	}
	switch p[7] {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_LONGLONG,
		mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_FLOAT, mysql.MYSQL_TYPE_DOUBLE,
		mysql.MYSQL_TYPE_DECIMAL, mysql.MYSQL_TYPE_NEWDECIMAL, mysql.MYSQL_TYPE_YEAR:
		return true
	}
	return false
}

// Stmt returns the statement prepared on this connection under key.
func (c *Conn) Stmt(key string) *Stmt { return c.stmts[key] }

// AddStmt records a statement prepared on this connection under key,
// closing another when the connection already holds max of them.
func (c *Conn) AddStmt(key string, st *Stmt, max int) {
	if c.stmts == nil {
		c.stmts = make(map[string]*Stmt)
	}
	if old := c.stmts[key]; old != nil { // prepared again: drop the old one
		c.closeStmt(old.ID)
		delete(c.stmts, key)
	}
	if len(c.stmts) >= max {
		for k, old := range c.stmts { // evict an arbitrary one
			c.closeStmt(old.ID)
			delete(c.stmts, k)
			break
		}
	}
	c.stmts[key] = st
}

// Prepare prepares sql on the connection (not relaying the reply) and
// records it under key.
func (c *Conn) Prepare(ctx context.Context, key, sql string, max int) (*Stmt, error) {
	c.deadline(ctx)
	defer c.SetDeadline(time.Time{})
	buf := make([]byte, 0, 1+len(sql))
	if err := c.WriteCommand(append(append(buf, mysql.COM_STMT_PREPARE), sql...)); err != nil {
		return nil, err
	}
	p, err := c.wc.ReadPacket(1 << 20)
	if err != nil {
		c.broken.Store(true)
		return nil, err
	}
	if len(p) > 0 && p[0] == wire.ErrHeader {
		return nil, serverError(p)
	}
	st, err := ParsePrepareOK(p)
	if err != nil {
		c.broken.Store(true)
		return nil, err
	}
	for _, n := range []uint16{st.Params, st.Columns} {
		if n == 0 {
			continue
		}
		for range int(n) + 1 { // definitions and their EOF
			if _, _, err := c.wc.SkipPacket(0); err != nil {
				c.broken.Store(true)
				return nil, err
			}
		}
	}
	c.AddStmt(key, st, max)
	return st, nil
}

// ParsePrepareOK decodes the first packet of a COM_STMT_PREPARE reply.
func ParsePrepareOK(p []byte) (*Stmt, error) {
	if len(p) < 12 || p[0] != wire.OKHeader {
		return nil, wire.ErrMalformed
	}
	return &Stmt{
		ID:      binary.LittleEndian.Uint32(p[1:]),
		Columns: binary.LittleEndian.Uint16(p[5:]),
		Params:  binary.LittleEndian.Uint16(p[7:]),
	}, nil
}

func (c *Conn) closeStmt(id uint32) {
	var b [5]byte
	b[0] = mysql.COM_STMT_CLOSE
	binary.LittleEndian.PutUint32(b[1:], id)
	_ = c.WriteCommand(b[:]) // no answer
}
