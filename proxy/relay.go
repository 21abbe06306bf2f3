package proxy

import (
	"context"
	"errors"
	"net"

	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/sqlerr"
)

// result is what the proxy learns from relaying one reply.
type result struct {
	status   uint16
	warnings uint16
	insertID uint64
	failed   bool   // the reply ended with an error
	errNum   uint16 // its error number
	// backendErr: the backend failed (I/O), not the statement.
	backendErr bool
}

// prefixLen is how much of each packet the relay looks at: enough for the
// longest OK packet header (1 + 9 + 9 + 2 + 2).
const prefixLen = 23

// errRetry reports that a read failed on a replica before any of its
// reply reached the client, so it may run again elsewhere.
type errRetry struct{ cause error }

func (e *errRetry) Error() string { return "replica failed before replying: " + e.cause.Error() }
func (e *errRetry) Unwrap() error { return e.cause }

// execute sends a command to bc and relays the reply to the client as it
// comes. The error is *errRetry (with retryable) when the backend failed
// before replying; otherwise an error the session answers with.
func (cu *cursor) execute(ctx context.Context, bc *backend.Conn, p []byte, retryable bool, w *clientWriter) (result, error) {
	pool := bc.Pool()
	pool.Queries.Add(1)
	pool.InFlight.Add(1)
	defer pool.InFlight.Add(-1)
	cu.run.add(bc)
	defer cu.run.remove(bc)
	if err := bc.WriteCommand(p); err != nil {
		pool.Errors.Add(1)
		if retryable {
			return result{failed: true}, &errRetry{err}
		}
		return cu.backendFailed(bc, err)
	}
	res, err := w.relay(bc, retryable)
	if res.backendErr {
		pool.Errors.Add(1)
	}
	return res, err
}

// relay streams a reply to COM_QUERY or COM_STMT_EXECUTE (several results
// when the server says more follow) from bc to the client, packet by
// packet and unchanged (but for sequence numbers and the more-results
// flag, in a batch).
func (w *clientWriter) relay(bc *backend.Conn, retryable bool) (result, error) {
	cu := w.ss.cur
	var res result
	for first := true; ; first = false {
		prefix, n, err := w.forward(bc, true)
		if err != nil {
			if first && retryable && !isWriteErr(err) {
				bc.MarkBroken()
				return result{failed: true, backendErr: true}, &errRetry{err}
			}
			return cu.backendFailed(bc, err)
		}
		w.started = true
		more := false
		switch prefix[0] {
		case wire.OKHeader:
			ok, err := wire.ParseOK(prefix)
			if err != nil {
				return cu.backendFailed(bc, err)
			}
			res.status, res.warnings = ok.Status, ok.Warnings
			w.rows += ok.AffectedRows
			if ok.InsertID != 0 {
				res.insertID = ok.InsertID
			}
			more = ok.Status&wire.StatusMoreResults != 0
		case wire.ErrHeader:
			res.failed = true
			if n >= 3 {
				res.errNum = uint16(prefix[1]) | uint16(prefix[2])<<8
			}
			if closesConnection(res.errNum) {
				bc.MarkBroken() // the server closes it after this error
			}
		case wire.LocalInfile:
			// LOAD DATA LOCAL: the request went to the client (which
			// asked for local files, or the session refused the
			// statement); its file follows, then the server's reply.
			if err := w.relayLocalFile(bc); err != nil {
				return cu.backendFailed(bc, err)
			}
			more = true
		default:
			cols, _, _, err := wire.ReadLenEncInt(prefix)
			if err != nil {
				return cu.backendFailed(bc, err)
			}
			if more, err = w.relayResultSet(bc, int(cols), &res); err != nil {
				return res, err
			}
		}
		if !more {
			break
		}
	}
	if res.insertID != 0 {
		bc.LastInsertID = res.insertID
	}
	return res, nil
}

// relayLocalFile copies the file a client sends for LOAD DATA LOCAL to the
// backend, packet by packet, up to the empty packet that ends it.
func (w *clientWriter) relayLocalFile(bc *backend.Conn) error {
	c := w.ss.c
	if err := c.Flush(); err != nil {
		return &wire.WriteError{Err: err}
	}
	for {
		_, n, err := c.ForwardPacket(bc.Wire(), 0)
		var we *wire.WriteError
		switch {
		case errors.As(err, &we):
			return we.Err // the backend failed
		case err != nil:
			return &wire.WriteError{Err: err} // the client failed: the session ends
		case n == 0:
			return bc.Wire().Flush()
		}
	}
}

// relayResultSet streams column definitions and rows after the column
// count, up to and including the closing EOF (or ERR).
func (w *clientWriter) relayResultSet(bc *backend.Conn, columns int, res *result) (more bool, err error) {
	cu := w.ss.cur
	for range columns + 1 { // definitions and their EOF
		if _, _, err := w.forward(bc, false); err != nil {
			_, err = cu.backendFailed(bc, err)
			res.failed = true
			return false, err
		}
	}
	return w.relayRows(bc, res)
}

// relayRows streams row packets up to the EOF or ERR that ends them.
func (w *clientWriter) relayRows(bc *backend.Conn, res *result) (more bool, err error) {
	cu := w.ss.cur
	continuation := false
	for {
		prefix, n, err := w.forward(bc, !continuation)
		if err != nil {
			_, err = cu.backendFailed(bc, err)
			res.failed = true
			return false, err
		}
		if continuation { // the tail of a row longer than 16 MiB
			continuation = n == wire.MaxPayload
			continue
		}
		continuation = n == wire.MaxPayload
		switch {
		case wire.IsEOF(prefix, n):
			res.warnings, res.status = wire.ParseEOF(prefix)
			return res.status&wire.StatusMoreResults != 0, nil
		case n > 0 && prefix[0] == wire.ErrHeader:
			res.failed = true
			if n >= 3 {
				res.errNum = uint16(prefix[1]) | uint16(prefix[2])<<8
			}
			return false, nil
		}
		w.rows++
	}
}

// forward copies one packet from the backend to the client. In a batch
// it renumbers it into the client's reply and, when the packet may end
// the statement's answer (terminal) and more statements follow, sets the
// more-results flag in its status.
func (w *clientWriter) forward(bc *backend.Conn, terminal bool) ([]byte, int, error) {
	src, dst := bc.Wire(), w.ss.c
	if !w.batch {
		var prefix []byte
		var n int
		var err error
		if w.tee != nil {
			before := len(*w.tee)
			prefix, n, err = src.ForwardPacketCopy(dst, prefixLen, w.tee)
			if err == nil && (len(*w.tee) != before+4+n || len(*w.tee) > maxShared) {
				w.tee = nil // not all of it kept: not shared
			}
		} else {
			prefix, n, err = src.ForwardPacket(dst, prefixLen)
		}
		if err == nil && n == 0 {
			return []byte{0}, 0, nil
		}
		return prefix, n, err
	}
	if terminal && w.more {
		head, err := src.Peek(prefixLen)
		if err != nil {
			return nil, 0, err
		}
		if isStatusPacket(head.Payload, head.Length) {
			return w.forwardPatched(bc)
		}
	}
	prefix, n, err := src.ForwardPacketRenumbered(dst, prefixLen)
	if err == nil && n == 0 {
		return []byte{0}, 0, nil
	}
	return prefix, n, err
}

// isStatusPacket reports whether a packet is an OK or EOF, whose status
// flags say whether more results follow.
func isStatusPacket(p []byte, n int) bool {
	return n > 0 && (p[0] == wire.OKHeader || wire.IsEOF(p, n))
}

// forwardPatched copies an OK or EOF packet with the more-results flag
// set, so the client reads on past it to the next statement's answer. The
// prefix it returns is the packet as the backend sent it.
func (w *clientWriter) forwardPatched(bc *backend.Conn) ([]byte, int, error) {
	p, err := bc.Wire().ReadPacket(1 << 20)
	if err != nil {
		return nil, 0, err
	}
	w.prefix = append(w.prefix[:0], p[:min(len(p), prefixLen)]...)
	var at int
	if p[0] == wire.OKHeader {
		at = 1
		for range 2 { // affected rows, insert id
			_, _, size, err := wire.ReadLenEncInt(p[at:])
			if err != nil {
				return nil, 0, err
			}
			at += size
		}
	} else {
		at = 3 // EOF: header, warnings
	}
	if at+2 <= len(p) {
		p[at] |= byte(wire.StatusMoreResults)
	}
	if err := w.ss.c.WritePacket(p); err != nil {
		return nil, 0, &wire.WriteError{Err: err}
	}
	return w.prefix, len(p), nil
}

// closesConnection reports errors after which the server closes the
// connection (a packet over its max_allowed_packet, a network error): the
// connection must not go back to the pool, where its next user would take
// the server for a dead one.
func closesConnection(num uint16) bool {
	switch num {
	case sqlerr.ErrNetPacketTooLarge, sqlerr.ErrNetReadError, sqlerr.ErrNetReadInterrupted, 1156, 1157, 1160, 1161:
		return true
	}
	return false
}

func isWriteErr(err error) bool {
	var we *wire.WriteError
	return errors.As(err, &we)
}

// errSessionLost ends a client connection whose transaction or pinned
// state died with its backend connection: like a MySQL client that lost
// its server, the client must reconnect rather than go on as if its
// transaction (or variables, or temporary tables) still existed.
var errSessionLost = errors.New("backend connection holding the session's transaction or state was lost")

// backendFailed handles an I/O failure in the middle of a statement: the
// backend connection is dropped and the client gets an error (a dead
// client ends the session). When the connection held the session's
// transaction or pinned state, the session ends after the error.
func (cu *cursor) backendFailed(bc *backend.Conn, err error) (result, error) {
	bc.MarkBroken()
	res := result{failed: true, backendErr: true}
	if isWriteErr(err) {
		return res, err
	}
	var ne net.Error
	var e *sqlerr.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		cu.srv.metrics.timeouts.Inc()
		e = sqlerr.Wrap(err, sqlerr.ErrQueryInterrupted,
			"Query execution was interrupted: the statement's time limit (limits.query_timeout) passed and backend %s did not answer; its connection was closed",
			bc.Addr())
	default:
		e = sqlerr.Wrap(err, sqlerr.ErrBackendUnavailable,
			"Lost connection to backend %s during query; the statement may or may not have run", bc.Addr())
	}
	if holds(cu.conns, bc) {
		return res, &lostError{e}
	}
	return res, e
}

// holds reports whether bc is a connection the session keeps.
func holds(conns []held, bc *backend.Conn) bool {
	for _, h := range conns {
		if h.bc == bc {
			return true
		}
	}
	return false
}

// lostError is an error for the client after which the session ends: the
// connection that held its transaction or state is gone.
type lostError struct{ err *sqlerr.Error }

func (e *lostError) Error() string { return e.err.Error() }
func (e *lostError) Unwrap() error { return e.err }
