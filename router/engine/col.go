package engine

import (
	"fmt"
	"strings"
)

// Col is a column of the rows a primitive reads: its position when >= 0,
// or hidden column k (counted from the first hidden column) as -(k+1).
// Hidden columns are trailing columns the shards return only for the
// proxy (sort keys not selected, the SUM and COUNT behind an AVG); with
// SELECT * the visible column count is known only from the result, so
// they are counted from the end.
type Col int

// Index is the column's position in a row of total columns of which the
// last hidden are hidden.
func (c Col) Index(total, hidden int) int {
	if c >= 0 {
		return int(c)
	}
	return total - hidden + int(-c-1)
}

// String prints a position as is and hidden column k as hk.
func (c Col) String() string {
	if c >= 0 {
		return fmt.Sprint(int(c))
	}
	return fmt.Sprintf("h%d", int(-c-1))
}

// SortKey is one ORDER BY term.
type SortKey struct {
	Col  Col
	Desc bool
}

// String prints the term as plans do: the column, then desc if so.
func (k SortKey) String() string {
	if k.Desc {
		return k.Col.String() + " desc"
	}
	return k.Col.String()
}

func keysString(keys []SortKey) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k.String()
	}
	return strings.Join(parts, ", ")
}

// Count is a LIMIT or OFFSET value: a constant, or a bind slot.
type Count struct {
	Slot  int   // >= 0: the bind slot holding it
	Value int64 // when Slot < 0
}

// Const is a constant Count.
func Const(n int64) Count { return Count{Slot: -1, Value: n} }

// String prints a constant as is and a bind slot as :N.
func (n Count) String() string {
	if n.Slot >= 0 {
		return fmt.Sprintf(":%d", n.Slot)
	}
	return fmt.Sprint(n.Value)
}
