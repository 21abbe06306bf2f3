package proxy

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/sqlerr"
)

// result is what the proxy learns from relaying one reply.
type result struct {
	status   uint16
	warnings uint16
	insertID uint64
	failed   bool // the reply ended with an error
	// backendErr: the backend failed (I/O), not the statement.
	backendErr bool
}

// prefixLen is how much of each packet the relay looks at: enough for the
// longest OK packet header (1 + 9 + 9 + 2 + 2).
const prefixLen = 23

// relay streams a reply to COM_QUERY or COM_STMT_EXECUTE (several results
// when the server says more follow) from bc to the client, packet by
// packet and unchanged, and flushes it.
func (ss *session) relay(ctx context.Context, bc *backend.Conn, retryable bool) (result, error) {
	var res result
	for first := true; ; first = false {
		prefix, _, err := ss.forward(ctx, bc)
		if err != nil {
			if first && retryable && !isWriteErr(err) {
				bc.MarkBroken()
				return result{failed: true, backendErr: true}, &errRetry{err}
			}
			return ss.backendFailed(bc, err)
		}
		more := false
		switch prefix[0] {
		case wire.OKHeader:
			ok, err := wire.ParseOK(prefix)
			if err != nil {
				return ss.backendFailed(bc, err)
			}
			res.status, res.warnings = ok.Status, ok.Warnings
			if ok.InsertID != 0 {
				res.insertID = ok.InsertID
			}
			more = ok.Status&wire.StatusMoreResults != 0
		case wire.ErrHeader:
			res.failed = true
			res.status = ss.status &^ wire.StatusMoreResults
		case wire.LocalInfile:
			// LOAD DATA LOCAL: the request went to the client (which
			// asked for local files, or query refused the statement);
			// its file follows, then the server's reply.
			if err := ss.relayLocalFile(bc); err != nil {
				return ss.backendFailed(bc, err)
			}
			more = true
		default:
			n, _, _, err := wire.ReadLenEncInt(prefix)
			if err != nil {
				return ss.backendFailed(bc, err)
			}
			if more, err = ss.relayResultSet(ctx, bc, int(n), &res); err != nil {
				return res, err
			}
		}
		if !more {
			break
		}
	}
	ss.noteResult(bc, res)
	if err := ss.c.Flush(); err != nil {
		bc.MarkBroken()
		return res, err
	}
	return res, nil
}

// relayLocalFile copies the file a client sends for LOAD DATA LOCAL to the
// backend, packet by packet, up to the empty packet that ends it.
func (ss *session) relayLocalFile(bc *backend.Conn) error {
	if err := ss.c.Flush(); err != nil {
		return &wire.WriteError{Err: err}
	}
	for {
		_, n, err := ss.c.ForwardPacket(bc.Wire(), 0)
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
func (ss *session) relayResultSet(ctx context.Context, bc *backend.Conn, columns int, res *result) (more bool, err error) {
	for range columns + 1 { // definitions and their EOF
		if _, _, err := ss.forward(ctx, bc); err != nil {
			_, err = ss.backendFailed(bc, err)
			res.failed = true
			return false, err
		}
	}
	return ss.relayRows(ctx, bc, res)
}

// relayRows streams row packets up to the EOF or ERR that ends them.
func (ss *session) relayRows(ctx context.Context, bc *backend.Conn, res *result) (more bool, err error) {
	continuation := false
	for {
		prefix, n, err := ss.forward(ctx, bc)
		if err != nil {
			_, err = ss.backendFailed(bc, err)
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
			return false, nil
		}
	}
}

// noteResult records what a finished reply tells about the session.
func (ss *session) noteResult(bc *backend.Conn, res result) {
	ss.status = res.status
	if res.insertID != 0 {
		ss.lastInsertID = res.insertID
		bc.LastInsertID = res.insertID
	}
}

// forward copies one packet from the backend to the client. When the
// statement's deadline passes it asks the backend to kill the query and
// gives it a little longer to answer with its own interruption error.
func (ss *session) forward(ctx context.Context, bc *backend.Conn) ([]byte, int, error) {
	killed := false
	for {
		prefix, n, err := bc.Wire().ForwardPacket(ss.c, prefixLen)
		if err == nil {
			if n == 0 {
				return []byte{0}, 0, nil
			}
			return prefix, n, nil
		}
		var ne net.Error
		if killed || !errors.As(err, &ne) || !ne.Timeout() || isWriteErr(err) {
			return nil, 0, err
		}
		killed = true
		ss.srv.metrics.timeouts.Inc()
		kctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		kerr := bc.Pool().KillQuery(kctx, bc.ThreadID)
		cancel()
		if kerr != nil {
			return nil, 0, err
		}
		bc.SetDeadline(time.Now().Add(2 * time.Second))
	}
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
// backend connection is dropped; a dead client ends the session; a dead
// or hung backend gives the client an error, and the session goes on
// unless its transaction or pinned state was on that connection.
func (ss *session) backendFailed(bc *backend.Conn, err error) (result, error) {
	lost := ss.bc == bc && (ss.status&wire.StatusInTrans != 0 || ss.pinned)
	bc.MarkBroken()
	res := result{failed: true, status: ss.status &^ (wire.StatusInTrans | wire.StatusMoreResults)}
	if isWriteErr(err) {
		return res, err
	}
	res.backendErr = true
	var ne net.Error
	var e *sqlerr.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		e = sqlerr.New(sqlerr.ErrQueryInterrupted,
			"Query execution was interrupted: query_timeout (%s) exceeded and backend %s did not answer; its connection was closed",
			ss.srv.queryTimeout(), bc.Addr())
	default:
		e = sqlerr.Wrap(err, sqlerr.ErrBackendUnavailable,
			"Lost connection to backend %s during query; the statement may or may not have run", bc.Addr())
	}
	ss.status = res.status
	if werr := ss.writeErr(e); werr != nil || !lost {
		return res, werr
	}
	return res, errSessionLost
}
