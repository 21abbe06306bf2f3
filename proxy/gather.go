package proxy

import (
	"context"
	"errors"

	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/router/engine"
	"github.com/courier-proxy/courier/sqlerr"
)

// gather runs a read on every target (a replica where the routing rules
// allow, caught up with the session's writes on that cluster) and relays
// the rows as one result: the first target's column definitions, every
// target's rows, one closing EOF. Every target gets its statement before
// any reply is read, so they all work at once; replies are then relayed
// one target after another (those not read yet wait in their sockets:
// memory stays bounded).
func (cu *cursor) gather(ctx context.Context, targets []engine.Target, read bool, w *clientWriter) error {
	parts := make([]gatherPart, 0, len(targets))
	for _, t := range targets {
		bc, _, err := cu.acquire(ctx, t.Cluster, read)
		if err != nil {
			cu.abandon(parts)
			return err
		}
		pkt, err := cu.packet(ctx, bc, t.SQL)
		if err != nil {
			cu.abandon(parts)
			return err
		}
		bc.Pool().Queries.Add(1)
		cu.run.add(bc)
		parts = append(parts, gatherPart{bc: bc, sent: bc.WriteCommand(pkt)})
	}
	var warnings uint16
	w.started = true
	for i, p := range parts {
		n, err := w.gatherOne(p.bc, p.sent, i == 0)
		cu.run.remove(p.bc)
		if err != nil {
			cu.abandon(parts[i+1:])
			return err
		}
		warnings += n
	}
	return w.End(warnings)
}

// gatherPart is one target of a gather: its connection and whether
// sending it the statement failed.
type gatherPart struct {
	bc   *backend.Conn
	sent error
}

// abandon drops the connections whose replies will not be read.
func (cu *cursor) abandon(parts []gatherPart) {
	for _, p := range parts {
		p.bc.MarkBroken()
		cu.run.remove(p.bc)
	}
}

// gatherOne forwards one target's rows (and, for the first target, its
// column definitions), renumbered into the merged reply; sent is the
// error of sending it the statement. It returns the target's warning
// count. An ERR from the target ends the client's reply as an error
// (ERR packets may end a result at any point, so the client stays in
// step).
func (w *clientWriter) gatherOne(bc *backend.Conn, sent error, first bool) (uint16, error) {
	cu := w.ss.cur
	src, dst := bc.Wire(), w.ss.c
	if sent != nil {
		return 0, cu.shardFailed(bc, sent)
	}
	head, err := src.Peek(prefixLen)
	if err != nil {
		return 0, cu.shardFailed(bc, err)
	}
	switch head.Payload[0] {
	case wire.ErrHeader:
		p, err := src.ReadPacket(1 << 20)
		if err != nil {
			return 0, cu.shardFailed(bc, err)
		}
		return 0, serverError(p)
	case wire.OKHeader:
		_, _, _ = src.SkipPacket(0)
		bc.MarkBroken() // more results may follow; do not reuse it
		return 0, sqlerr.New(sqlerr.ErrUnknown, "shard backend %s answered a query that reaches several shards without rows", bc.Addr())
	}
	n, _, _, _ := wire.ReadLenEncInt(head.Payload)
	move := src.SkipPacket
	if first {
		move = func(want int) ([]byte, int, error) { return src.ForwardPacketRenumbered(dst, want) }
	}
	for range int(n) + 2 { // the column count, the definitions and their EOF
		if _, _, err := move(0); err != nil {
			return 0, cu.gatherFailed(bc, err)
		}
	}
	continuation := false
	for {
		p, err := src.Peek(prefixLen)
		if err != nil {
			return 0, cu.shardFailed(bc, err)
		}
		switch {
		case !continuation && wire.IsEOF(p.Payload, p.Length):
			warnings, _ := wire.ParseEOF(p.Payload)
			if _, _, err := src.SkipPacket(0); err != nil {
				return 0, cu.shardFailed(bc, err)
			}
			return warnings, nil
		case !continuation && p.Length > 0 && p.Payload[0] == wire.ErrHeader:
			e, err := src.ReadPacket(1 << 20)
			if err != nil {
				return 0, cu.shardFailed(bc, err)
			}
			return 0, serverError(e)
		}
		continuation = p.Length == wire.MaxPayload
		if _, _, err := src.ForwardPacketRenumbered(dst, 0); err != nil {
			return 0, cu.gatherFailed(bc, err)
		}
	}
}

// gatherFailed is shardFailed for a relay, where the failure may be the
// client's (the session then ends).
func (cu *cursor) gatherFailed(bc *backend.Conn, err error) error {
	var we *wire.WriteError
	if errors.As(err, &we) {
		bc.MarkBroken()
		return err
	}
	return cu.shardFailed(bc, err)
}
