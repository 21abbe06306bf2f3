package engine

import (
	"sync/atomic"

	"github.com/courier-proxy/courier/sqlerr"
)

// ErrOutOfResources is the error number of a statement that would hold
// more rows or bytes in the proxy than allowed (ER_OUT_OF_RESOURCES).
const ErrOutOfResources = 1041

// RowBudget bounds the memory all statements together may hold in rows
// the proxy buffers (groups, distinct values, sorted rows), in bytes. It
// is safe for concurrent use; a nil *RowBudget has no bound.
type RowBudget struct {
	// Limit is the bound in bytes (limits.merge_memory); 0 or less for
	// none.
	Limit int64
	used  atomic.Int64
}

// Used reports the bytes held now.
func (b *RowBudget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// Take reserves n bytes, or refuses with error 1041 when that would
// exceed the limit (and then reserves nothing).
func (b *RowBudget) Take(n int64) error {
	if b == nil {
		return nil
	}
	used := b.used.Add(n)
	if b.Limit > 0 && used > b.Limit {
		b.used.Add(-n)
		return sqlerr.New(ErrOutOfResources,
			"Out of resources: the proxy's merge memory (limits.merge_memory, %d bytes) is exhausted by queries across shards; narrow the query with a WHERE clause or the sharding key, or retry later",
			b.Limit)
	}
	return nil
}

// Give returns n bytes taken before.
func (b *RowBudget) Give(n int64) {
	if b != nil {
		b.used.Add(-n)
	}
}

// What one held value and row cost beyond their bytes, roughly (slice
// headers, map entries).
const (
	valueOverhead = 16
	rowOverhead   = 32
)

// rowCost is the approximate memory of a held row.
func rowCost(r Row) int64 {
	n := int64(rowOverhead)
	for _, v := range r {
		n += int64(len(v)) + valueOverhead
	}
	return n
}

// holding accounts for what one primitive holds during one execution:
// entries (rows, groups, distinct values) against the session's MaxRows
// and bytes against the process's RowBudget. release gives everything
// back; call it when the primitive finishes, whatever the outcome.
type holding struct {
	budget  *RowBudget
	maxRows int
	what    string // what the entries are, for the error: "sorted rows"
	entries int
	bytes   int64
}

func newHolding(s *Session, what string) holding {
	return holding{budget: s.Budget, maxRows: s.MaxRows, what: what}
}

// take accounts for entries more entries of bytes bytes in all.
func (h *holding) take(entries int, bytes int64) error {
	if h.maxRows > 0 && h.entries+entries > h.maxRows {
		return sqlerr.New(ErrOutOfResources,
			"Out of resources: a query across shards needs more than %d %s held in the proxy (sharding.max_merge_rows); narrow it with a WHERE clause or the sharding key",
			h.maxRows, h.what)
	}
	if err := h.budget.Take(bytes); err != nil {
		return err
	}
	h.entries += entries
	h.bytes += bytes
	return nil
}

// release gives back everything held.
func (h *holding) release() {
	h.budget.Give(h.bytes)
	h.entries, h.bytes = 0, 0
}

// copyRow copies r into one allocation.
func copyRow(r Row) Row {
	n := 0
	for _, v := range r {
		n += len(v)
	}
	buf := make([]byte, 0, n)
	out := make(Row, len(r))
	for i, v := range r {
		if v != nil {
			start := len(buf)
			buf = append(buf, v...)
			out[i] = buf[start:len(buf):len(buf)]
		}
	}
	return out
}
