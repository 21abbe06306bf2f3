package merge

import (
	"container/heap"
	"fmt"
	"slices"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/sqlerr"
)

// Row is one text-protocol row: a value per column, nil for NULL.
type Row [][]byte

// Source yields one shard's rows in order. The row returned stays valid
// until the next call; Next returns nil, nil at the end.
type Source interface {
	Next() (Row, error)
}

// ErrTooManyRows reports a merge that would hold more rows in memory than
// allowed.
const ErrTooManyRows = 1041 // ER_OUT_OF_RESOURCES

// Merger merges the rows of one multi-shard SELECT.
type Merger struct {
	spec    *router.Merge
	cols    []Column
	total   int
	visible int
	maxRows int
	cmp     []*comparer // per column; nil where no comparison is needed
	order   []sortKey
	groupBy []int
	shown   []int // the visible columns
}

type sortKey struct {
	col  int
	desc bool
}

// New prepares the merge of rows with columns cols (as every shard
// returned them, hidden columns included). meta, when not nil, looks up a
// table column's collation and ENUM members. maxRows bounds the rows
// (groups, distinct values, sorted groups) held in memory.
func New(spec *router.Merge, cols []Column, maxRows int, meta func(*Column) (*Meta, error)) (*Merger, error) {
	m := &Merger{spec: spec, cols: cols, total: len(cols), visible: len(cols) - spec.Hidden, maxRows: maxRows,
		cmp: make([]*comparer, len(cols))}
	if m.visible < 0 {
		return nil, fmt.Errorf("merge: %d columns, %d hidden", len(cols), spec.Hidden)
	}
	// need prepares the comparison of column c. MIN and MAX of an ENUM
	// compare its members as strings, as MariaDB does.
	need := func(c router.Col, asString bool) (int, error) {
		i := c.Index(m.total, spec.Hidden)
		if i < 0 || i >= m.total {
			return 0, fmt.Errorf("merge: column %d of %d", i, m.total)
		}
		if m.cmp[i] == nil {
			col := cols[i]
			if asString {
				col.Flags &^= mysql.ENUM_FLAG | mysql.SET_FLAG
			}
			var md *Meta
			if meta != nil && col.OrgTable != "" {
				var err error
				if md, err = meta(&col); err != nil {
					return 0, err
				}
				if asString {
					md = &Meta{Collation: md.Collation}
				}
			}
			cmp, err := newComparer(&col, md)
			if err != nil {
				return 0, err
			}
			m.cmp[i] = cmp
		}
		return i, nil
	}
	if spec.Aggregate && len(spec.Folds) != m.total {
		return nil, fmt.Errorf("merge: %d folds for %d columns", len(spec.Folds), m.total)
	}
	for i, f := range spec.Folds {
		if f.Kind == router.FoldMin || f.Kind == router.FoldMax {
			if _, err := need(router.Col(i), true); err != nil {
				return nil, err
			}
		}
	}
	for _, k := range spec.OrderBy {
		i, err := need(k.Col, false)
		if err != nil {
			return nil, err
		}
		m.order = append(m.order, sortKey{col: i, desc: k.Desc})
	}
	for _, c := range spec.GroupBy {
		i, err := need(c, false)
		if err != nil {
			return nil, err
		}
		m.groupBy = append(m.groupBy, i)
	}
	if spec.Distinct {
		for i := range m.visible {
			if _, err := need(router.Col(i), false); err != nil {
				return nil, err
			}
			m.shown = append(m.shown, i)
		}
	}
	if spec.Having != nil {
		var err error
		walkCols(spec.Having, func(c router.Col) {
			if err == nil {
				_, err = need(c, false)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Visible is the number of columns the client sees.
func (m *Merger) Visible() int { return m.visible }

// Run merges the sources' rows and hands each result row to emit (the
// row is valid during the call only). It stops reading as soon as the
// LIMIT is reached; the caller drains what the sources still hold.
func (m *Merger) Run(srcs []Source, emit func(Row) error) error {
	if m.spec.Aggregate {
		return m.aggregate(srcs, emit)
	}
	out := m.limiter(emit)
	if m.spec.Distinct {
		out = m.distinct(out)
	}
	var err error
	if len(m.order) > 0 {
		err = m.mergeSorted(srcs, out)
	} else {
		err = concat(srcs, out)
	}
	if err == errDone {
		return nil
	}
	return err
}

// errDone stops the pipeline once LIMIT rows were emitted.
var errDone = fmt.Errorf("merge: limit reached")

// limiter applies OFFSET and LIMIT.
func (m *Merger) limiter(emit func(Row) error) func(Row) error {
	skip, left := m.spec.Offset, m.spec.Limit
	return func(r Row) error {
		if left == 0 {
			return errDone
		}
		if skip > 0 {
			skip--
			return nil
		}
		if err := emit(r); err != nil {
			return err
		}
		if left > 0 {
			left--
			if left == 0 {
				return errDone
			}
		}
		return nil
	}
}

// distinct passes each distinct row (over the visible columns) once.
func (m *Merger) distinct(next func(Row) error) func(Row) error {
	seen := map[string]struct{}{}
	var key []byte
	return func(r Row) error {
		key = m.key(key[:0], r, m.shown)
		if _, dup := seen[string(key)]; dup {
			return nil
		}
		if len(seen) >= m.maxRows {
			return m.tooMany("distinct rows")
		}
		seen[string(key)] = struct{}{}
		return next(r)
	}
}

// key appends the equality class of the row's columns cols.
func (m *Merger) key(dst []byte, r Row, cols []int) []byte {
	for _, i := range cols {
		v := r[i]
		if v == nil {
			dst = append(dst, 0xff)
			continue
		}
		start := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		dst = m.cmp[i].normal(dst, v)
		n := len(dst) - start - 4
		dst[start], dst[start+1], dst[start+2], dst[start+3] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
	}
	return dst
}

func (m *Merger) tooMany(what string) error {
	return sqlerr.New(ErrTooManyRows, "Out of resources: a query across shards needs more than %d %s held in the proxy (sharding.max_merge_rows); narrow it with a WHERE clause or the sharding key",
		m.maxRows, what)
}

// compareRows orders rows by the ORDER BY keys; NULL sorts first.
func (m *Merger) compareRows(a, b Row) int {
	for _, k := range m.order {
		x, y := a[k.col], b[k.col]
		var c int
		switch {
		case x == nil && y == nil:
		case x == nil:
			c = -1
		case y == nil:
			c = 1
		default:
			c = m.cmp[k.col].compare(x, y)
		}
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func concat(srcs []Source, emit func(Row) error) error {
	for _, s := range srcs {
		for {
			r, err := s.Next()
			if err != nil {
				return err
			}
			if r == nil {
				break
			}
			if err := emit(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// mergeSorted interleaves sorted sources: one row of each is held at a
// time.
func (m *Merger) mergeSorted(srcs []Source, emit func(Row) error) error {
	h := &rowHeap{m: m}
	for i, s := range srcs {
		r, err := s.Next()
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
		if err := emit(top.row); err != nil {
			return err
		}
		r, err := srcs[top.src].Next()
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
	return nil
}

type heapItem struct {
	row Row
	src int
}

type rowHeap struct {
	m     *Merger
	items []heapItem
}

func (h *rowHeap) Len() int { return len(h.items) }
func (h *rowHeap) Less(i, j int) bool {
	if c := h.m.compareRows(h.items[i].row, h.items[j].row); c != 0 {
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

// aggregate folds every shard's partial groups, then filters, sorts and
// limits the groups.
func (m *Merger) aggregate(srcs []Source, emit func(Row) error) error {
	groups := map[string]*group{}
	var order []*group
	var key []byte
	for _, s := range srcs {
		for {
			r, err := s.Next()
			if err != nil {
				return err
			}
			if r == nil {
				break
			}
			key = m.key(key[:0], r, m.groupBy)
			g := groups[string(key)]
			if g == nil {
				if len(groups) >= m.maxRows {
					return m.tooMany("groups")
				}
				if g, err = m.newGroup(r); err != nil {
					return err
				}
				groups[string(key)] = g
				order = append(order, g)
				continue
			}
			if err := m.add(g, r); err != nil {
				return err
			}
		}
	}
	rows := make([]Row, 0, len(order))
	for _, g := range order {
		r, err := m.finish(g)
		if err != nil {
			return err
		}
		if m.spec.Having != nil {
			ok, err := m.truth(m.spec.Having, r)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		rows = append(rows, r)
	}
	if len(m.order) > 0 {
		slices.SortStableFunc(rows, m.compareRows)
	}
	out := m.limiter(emit)
	if m.spec.Distinct {
		out = m.distinct(out)
	}
	for _, r := range rows {
		if err := out(r); err != nil {
			if err == errDone {
				return nil
			}
			return err
		}
	}
	return nil
}
