package proxy

import (
	"context"
	"fmt"
	"time"

	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/router/engine"
	"github.com/courier-proxy/courier/sqlerr"
)

// maxRowPacket bounds one packet read from a shard for a merge.
const maxRowPacket = 256 << 20

// shardStream is one target's reply read as decoded text rows (an
// engine.RowStream), for primitives that combine rows.
type shardStream struct {
	cu       *cursor
	bc       *backend.Conn
	cols     []engine.Column
	row      engine.Row
	ok       *engine.Result // the reply was an OK, not rows
	done     bool           // the reply was read to its end
	warnings uint16
	status   uint16
}

var _ engine.RowStream = (*shardStream)(nil)

// Open implements engine.Cursor.
func (cu *cursor) Open(ctx context.Context, targets []engine.Target) ([]engine.RowStream, error) {
	ss, err := cu.open(ctx, targets, true)
	if err != nil {
		return nil, err
	}
	out := make([]engine.RowStream, len(ss))
	for i, s := range ss {
		if s.ok != nil {
			return nil, sqlerr.New(sqlerr.ErrUnknown, "shard backend %s answered a query that reaches several shards without rows", s.bc.Addr())
		}
		out[i] = s
	}
	return out, nil
}

// open sends each target its statement, all before reading any reply,
// and reads each reply's head (its column definitions, or its OK).
func (cu *cursor) open(ctx context.Context, targets []engine.Target, read bool) ([]*shardStream, error) {
	out := make([]*shardStream, 0, len(targets))
	for _, t := range targets {
		bc, _, err := cu.acquire(ctx, t.Cluster, read)
		if err != nil {
			return nil, err
		}
		if t.SQL == "" && cu.cur.stmt != nil {
			return nil, sqlerr.New(sqlerr.ErrUnknown, "internal error: a prepared execution's rows cannot be combined; please report the statement")
		}
		pkt, err := cu.packet(ctx, bc, t.SQL)
		if err != nil {
			return nil, err
		}
		s := &shardStream{cu: cu, bc: bc}
		cu.streams = append(cu.streams, s)
		bc.Pool().Queries.Add(1)
		cu.run.add(bc)
		if err := bc.WriteCommand(pkt); err != nil {
			s.done = true
			return nil, cu.shardFailed(bc, err)
		}
		out = append(out, s)
	}
	for _, s := range out {
		if err := s.readHead(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readHead reads the reply's column definitions (or its OK or ERR).
func (s *shardStream) readHead() error {
	w := s.bc.Wire()
	p, err := w.ReadPacket(maxRowPacket)
	if err != nil {
		s.done = true
		return s.cu.shardFailed(s.bc, err)
	}
	switch p[0] {
	case wire.ErrHeader:
		s.finished()
		return serverError(p)
	case wire.OKHeader:
		ok, err := wire.ParseOK(p)
		if err != nil {
			s.done = true
			return s.cu.shardFailed(s.bc, err)
		}
		s.ok = &engine.Result{Affected: ok.AffectedRows, InsertID: ok.InsertID, Warnings: ok.Warnings}
		s.status = ok.Status
		if ok.Status&wire.StatusMoreResults != 0 {
			s.bc.MarkBroken() // more results follow that nobody reads
		}
		s.finished()
		return nil
	}
	n, _, _, err := wire.ReadLenEncInt(p)
	if err != nil {
		s.done = true
		return s.cu.shardFailed(s.bc, err)
	}
	for range n {
		p, err := w.ReadPacket(maxRowPacket)
		if err != nil {
			s.done = true
			return s.cu.shardFailed(s.bc, err)
		}
		c, err := engine.ParseColumn(p)
		if err != nil {
			s.done = true
			return s.cu.shardFailed(s.bc, err)
		}
		s.cols = append(s.cols, c)
	}
	if _, err := w.ReadPacket(maxRowPacket); err != nil { // the EOF after the definitions
		s.done = true
		return s.cu.shardFailed(s.bc, err)
	}
	return nil
}

// Fields implements engine.RowStream.
func (s *shardStream) Fields() []engine.Column { return s.cols }

// Warnings implements engine.RowStream.
func (s *shardStream) Warnings() uint16 { return s.warnings }

// Next implements engine.RowStream.
func (s *shardStream) Next() (engine.Row, error) {
	if s.done {
		return nil, nil
	}
	p, err := s.bc.Wire().ReadPacket(maxRowPacket)
	if err != nil {
		s.done = true
		return nil, s.cu.shardFailed(s.bc, err)
	}
	switch {
	case wire.IsEOF(p, len(p)):
		s.warnings, s.status = wire.ParseEOF(p)
		if s.status&wire.StatusMoreResults != 0 {
			s.bc.MarkBroken()
		}
		s.finished()
		return nil, nil
	case len(p) > 0 && p[0] == wire.ErrHeader:
		s.finished()
		return nil, serverError(p)
	}
	s.row = s.row[:0]
	for len(p) > 0 {
		if p[0] == 0xfb {
			s.row = append(s.row, nil)
			p = p[1:]
			continue
		}
		v, n, err := wire.ReadLenEncString(p)
		if err != nil {
			s.done = true
			s.bc.MarkBroken()
			return nil, sqlerr.Wrap(err, sqlerr.ErrMalformedPacket, "malformed row from backend %s", s.bc.Addr())
		}
		if v == nil {
			v = []byte{}
		}
		s.row = append(s.row, v)
		p = p[n:]
	}
	return s.row, nil
}

// finished marks the reply read to its end.
func (s *shardStream) finished() {
	s.done = true
	s.cu.run.remove(s.bc)
}

// drain reads what the stream still holds (after a LIMIT was reached, or
// an error elsewhere), so its connection can be reused; a connection
// that does not answer within a few seconds is dropped instead.
func (s *shardStream) drain() {
	if s.done {
		return
	}
	s.bc.SetDeadline(time.Now().Add(5 * time.Second))
	for !s.done {
		if _, err := s.Next(); err != nil {
			break
		}
	}
	if !s.bc.Broken() {
		s.bc.SetDeadline(time.Time{})
	}
	s.cu.run.remove(s.bc)
}

// shardFailed turns an I/O failure on one target's connection into the
// client's error.
func (cu *cursor) shardFailed(bc *backend.Conn, err error) error {
	cu.run.remove(bc)
	_, e := cu.backendFailed(bc, err)
	return e
}

// serverError decodes a backend's ERR packet into the error it carries,
// unchanged (number, SQLSTATE, message).
func serverError(p []byte) error {
	num, state, msg := wire.ParseErr(p)
	return &sqlerr.Error{Num: num, State: state, Message: msg}
}

// decode runs targets and writes their replies to w as one result, rows
// decoded (for writers that are not the client's own).
func (cu *cursor) decode(ctx context.Context, targets []engine.Target, read bool, w engine.ResultWriter) error {
	streams, err := cu.open(ctx, targets, read)
	if err != nil {
		return err
	}
	if streams[0].ok != nil {
		results := make([]engine.Result, len(streams))
		for i, s := range streams {
			if s.ok == nil {
				return sqlerr.New(sqlerr.ErrUnknown, "shards answered one statement with rows and without")
			}
			results[i] = *s.ok
		}
		return w.OK(engine.Sum(results))
	}
	if err := w.Fields(streams[0].cols); err != nil {
		return err
	}
	var warnings uint16
	for _, s := range streams {
		if len(s.cols) != len(streams[0].cols) {
			return sqlerr.New(sqlerr.ErrUnknown, "shards answered with different columns (%d and %d); is the table's schema the same on every shard?",
				len(streams[0].cols), len(s.cols))
		}
		for {
			r, err := s.Next()
			if err != nil {
				return err
			}
			if r == nil {
				break
			}
			if err := w.Row(r); err != nil {
				return err
			}
		}
		warnings += s.warnings
	}
	return w.End(warnings)
}

var _ = fmt.Sprint
