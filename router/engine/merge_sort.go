package engine

import (
	"container/heap"
	"context"
	"fmt"

	"github.com/courier-proxy/courier/sqlerr"
)

// MergeSort interleaves the rows of several shards, each sorted by Keys,
// into one sorted result, holding one row per shard.
type MergeSort struct {
	Input  Primitive // a Streamer
	Keys   []SortKey
	Hidden int
	Cat    *Catalog
}

// Execute opens the input's streams and writes their rows merged: the
// first stream's column definitions, the rows in Keys order (NULL first
// ascending; equal rows in stream order), End with the streams' warnings
// summed. It reads a stream's next row only once its current one was
// written.
func (m *MergeSort) Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error {
	st, ok := m.Input.(Streamer)
	if !ok {
		return sqlerr.New(sqlerr.ErrUnknown, "engine: MergeSort over %s, which has no streams", m.Input)
	}
	streams, err := st.Streams(ctx, c, bv)
	if err != nil {
		return err
	}
	if len(streams) == 0 {
		return sqlerr.New(sqlerr.ErrUnknown, "engine: MergeSort over no streams")
	}
	cols := streams[0].Fields()
	s, err := newColumns(m.Cat, cols, m.Hidden)
	if err != nil {
		return err
	}
	h := &rowHeap{}
	if h.keys, err = s.sortKeys(ctx, c, m.Keys); err != nil {
		return err
	}
	if err := w.Fields(cols); err != nil {
		return err
	}
	for i, st := range streams {
		r, err := st.Next()
		if err != nil {
			return err
		}
		if r != nil {
			h.items = append(h.items, heapItem{row: r, src: i})
		}
	}
	heap.Init(h)
	for h.Len() > 0 {
		top := &h.items[0]
		if err := w.Row(top.row); err != nil {
			return err
		}
		r, err := streams[top.src].Next()
		if err != nil {
			return err
		}
		if r == nil {
			heap.Pop(h)
			continue
		}
		top.row = r
		heap.Fix(h, 0)
	}
	var warnings uint16
	for _, st := range streams {
		warnings = addWarnings(warnings, st.Warnings())
	}
	return w.End(warnings)
}

// Inputs implements Primitive.
func (m *MergeSort) Inputs() []Primitive { return []Primitive{m.Input} }

// String implements Primitive.
func (m *MergeSort) String() string { return fmt.Sprintf("MergeSort %s", keysString(m.Keys)) }

// heapItem is a stream's current row.
type heapItem struct {
	row Row
	src int
}

// rowHeap orders the streams' current rows: by the keys, then by stream.
type rowHeap struct {
	keys  []sortKey
	items []heapItem
}

func (h *rowHeap) Len() int { return len(h.items) }
func (h *rowHeap) Less(i, j int) bool {
	if c := compareRows(h.keys, h.items[i].row, h.items[j].row); c != 0 {
		return c < 0
	}
	return h.items[i].src < h.items[j].src
}
func (h *rowHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *rowHeap) Push(x any)    { h.items = append(h.items, x.(heapItem)) }
func (h *rowHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
