package proxy

import (
	"github.com/courier-proxy/courier/proxy/wire"
	"github.com/courier-proxy/courier/router/engine"
)

// clientWriter writes one statement's answer to the client: what the
// engine produces (column definitions, decoded rows, OKs), encoded in the
// text protocol or, for a COM_STMT_EXECUTE, the binary one; backend
// replies the cursor relays as they come go around it, straight to the
// client's connection, and are noted here. It learns what the answer
// says about the session: insert id, warnings, and whether any of it was
// written (after which a failed read can no longer be retried).
type clientWriter struct {
	ss     *session
	binary bool // rows in the binary protocol
	// batch: the statement is part of a multi-statement batch, so relayed
	// packets get the client's sequence numbers; more: statements follow
	// it, so its last packet says more results exist.
	batch, more bool
	cols        []engine.Column
	started     bool // some of the answer is in the client's buffer
	done        bool // the answer is complete
	insertID    uint64
	warnings    uint16
	failed      bool   // the answer was an error
	errNum      uint16 // its number, when a backend sent it
	prefix      []byte // a relayed packet's head, as the backend sent it
	rows        uint64 // rows sent or affected (for the digests)
	// tee, set by a consolidated read's leader, collects the answer's
	// packets; nil again once it outgrows maxShared or a packet could not
	// be kept.
	tee *[]byte
}

var _ engine.ResultWriter = (*clientWriter)(nil)

// reset prepares w for the next statement's answer.
func (w *clientWriter) reset(binary, batch, more bool) {
	*w = clientWriter{ss: w.ss, binary: binary, batch: batch, more: more, cols: w.cols[:0], prefix: w.prefix[:0]}
}

// status is the server status the answer's last packet reports.
func (w *clientWriter) status() uint16 {
	st := w.ss.clientStatus()
	if w.more {
		st |= wire.StatusMoreResults
	}
	return st
}

// Fields implements engine.ResultWriter.
func (w *clientWriter) Fields(cols []engine.Column) error {
	ss := w.ss
	w.started = true
	w.cols = append(w.cols[:0], cols...)
	ss.scratch = wire.AppendLenEncInt(ss.scratch[:0], uint64(len(cols)))
	if err := ss.c.WritePacket(ss.scratch); err != nil {
		return err
	}
	for i := range cols {
		if err := ss.c.WritePacket(cols[i].Packet); err != nil {
			return err
		}
	}
	ss.scratch = wire.AppendEOF(ss.scratch[:0], 0, w.status()&^wire.StatusMoreResults)
	return ss.c.WritePacket(ss.scratch)
}

// Row implements engine.ResultWriter.
func (w *clientWriter) Row(r engine.Row) error {
	ss := w.ss
	w.rows++
	if w.binary {
		ss.scratch = appendBinaryRow(ss.scratch[:0], w.cols, r)
	} else {
		ss.scratch = appendTextRow(ss.scratch[:0], r)
	}
	return ss.c.WritePacket(ss.scratch)
}

// End implements engine.ResultWriter.
func (w *clientWriter) End(warnings uint16) error {
	ss := w.ss
	w.warnings, w.done = warnings, true
	ss.scratch = wire.AppendEOF(ss.scratch[:0], warnings, w.status())
	return ss.c.WritePacket(ss.scratch)
}

// OK implements engine.ResultWriter.
func (w *clientWriter) OK(r engine.Result) error {
	ss := w.ss
	w.started, w.done = true, true
	w.insertID, w.warnings = r.InsertID, r.Warnings
	w.rows += r.Affected
	ss.scratch = wire.AppendOK(ss.scratch[:0], r.Affected, r.InsertID, w.status(), r.Warnings)
	return ss.c.WritePacket(ss.scratch)
}

// relayed notes a backend reply the cursor relayed to the client.
func (w *clientWriter) relayed(res result) {
	w.started, w.done = true, true
	w.warnings = res.warnings
	w.failed, w.errNum = res.failed, res.errNum
	if res.insertID != 0 {
		w.insertID = res.insertID
	}
}
