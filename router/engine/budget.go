package engine

import "sync/atomic"

// RowBudget bounds the memory all statements together may hold in rows
// the proxy buffers (groups, distinct values, sorted rows), in bytes. It
// is safe for concurrent use; a nil *RowBudget has no bound.
type RowBudget struct {
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
