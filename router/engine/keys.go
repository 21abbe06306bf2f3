package engine

import (
	"context"

	"github.com/courier-proxy/courier/sqlerr"
)

// columns prepares the comparisons of one result's columns, asking the
// catalog about each table column once. It belongs to one execution.
type columns struct {
	cat    *Catalog
	cols   []Column
	hidden int
	meta   []*ColumnMeta
	looked []bool
	sort   []*comparer // by position (ORDER BY)
	str    []*comparer // as strings (MIN, MAX, HAVING, equality)
}

func newColumns(cat *Catalog, cols []Column, hidden int) (*columns, error) {
	if hidden < 0 || hidden > len(cols) {
		return nil, sqlerr.New(sqlerr.ErrUnknown, "engine: %d hidden columns of %d", hidden, len(cols))
	}
	n := len(cols)
	return &columns{cat: cat, cols: cols, hidden: hidden, meta: make([]*ColumnMeta, n), looked: make([]bool, n),
		sort: make([]*comparer, n), str: make([]*comparer, n)}, nil
}

// index resolves a Col of the plan to a position in the rows.
func (s *columns) index(c Col) (int, error) {
	i := c.Index(len(s.cols), s.hidden)
	if c < 0 && int(-c) > s.hidden || i < 0 || i >= len(s.cols) {
		return 0, sqlerr.New(sqlerr.ErrUnknown, "engine: column %s of %d columns (%d hidden)", c, len(s.cols), s.hidden)
	}
	return i, nil
}

// comparer returns the comparison of column i: byPosition for ORDER BY,
// otherwise as strings (see newComparer).
func (s *columns) comparer(ctx context.Context, cur Cursor, i int, byPosition bool) (*comparer, error) {
	cache := s.str
	if byPosition {
		cache = s.sort
	}
	if cache[i] != nil {
		return cache[i], nil
	}
	if !s.looked[i] {
		md, err := s.cat.Meta(ctx, cur, &s.cols[i])
		if err != nil {
			return nil, err
		}
		s.meta[i], s.looked[i] = md, true
	}
	cmp, err := newComparer(&s.cols[i], s.meta[i], byPosition)
	if err != nil {
		return nil, err
	}
	cache[i] = cmp
	return cmp, nil
}

// keyCols resolves columns compared for equality (grouping, DISTINCT,
// the arguments of distinct aggregates).
func (s *columns) keyCols(ctx context.Context, cur Cursor, cs []Col) ([]keyCol, error) {
	out := make([]keyCol, len(cs))
	for j, c := range cs {
		i, err := s.index(c)
		if err != nil {
			return nil, err
		}
		cmp, err := s.comparer(ctx, cur, i, false)
		if err != nil {
			return nil, err
		}
		out[j] = keyCol{i: i, cmp: cmp}
	}
	return out, nil
}

// sortKeys resolves ORDER BY terms.
func (s *columns) sortKeys(ctx context.Context, cur Cursor, keys []SortKey) ([]sortKey, error) {
	out := make([]sortKey, len(keys))
	for j, k := range keys {
		i, err := s.index(k.Col)
		if err != nil {
			return nil, err
		}
		cmp, err := s.comparer(ctx, cur, i, true)
		if err != nil {
			return nil, err
		}
		out[j] = sortKey{i: i, cmp: cmp, desc: k.Desc}
	}
	return out, nil
}

// keyCol is a column compared for equality.
type keyCol struct {
	i   int
	cmp *comparer
}

// appendKey appends the equality class of the row's columns ks: rows
// equal over them append the same bytes, and NULL is a value of its own.
// null reports whether any of the values was NULL.
func appendKey(dst []byte, r Row, ks []keyCol) (key []byte, null bool) {
	for _, k := range ks {
		v := r[k.i]
		if v == nil {
			dst = append(dst, 0xff)
			null = true
			continue
		}
		start := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		dst = k.cmp.normal(dst, v)
		n := len(dst) - start - 4
		dst[start], dst[start+1], dst[start+2], dst[start+3] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
	}
	return dst, null
}

// sortKey is an ORDER BY term resolved to a position and a comparison.
type sortKey struct {
	i    int
	cmp  *comparer
	desc bool
}

// compareRows orders rows by keys as MariaDB does: NULL first ascending,
// last descending.
func compareRows(keys []sortKey, a, b Row) int {
	for _, k := range keys {
		c := k.cmp.compareNullable(a[k.i], b[k.i])
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}
