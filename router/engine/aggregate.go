package engine

import (
	"context"
	"fmt"
	"strings"
)

// Aggregate folds the shards' partial groups into whole ones: rows with
// equal GroupBy columns (compared as their types and collations compare;
// one group when GroupBy is empty) become one row, each column folded by
// its Fold. Groups are written in the order they were first seen; a Sort
// above orders them.
type Aggregate struct {
	Input   Primitive
	GroupBy []Col
	Folds   []Fold // one per input column, hidden ones included
	Hidden  int
	Cat     *Catalog
}

// FoldKind is how a column's values from several rows become one.
type FoldKind uint8

// Fold kinds.
const (
	FoldAny           FoldKind = iota // a value from one of the rows (a group column, or an ungrouped one as MariaDB allows)
	FoldCount                         // sum of the shards' counts
	FoldSum                           // sum of the shards' sums
	FoldMin                           // least of the shards' minimums
	FoldMax                           // greatest of the shards' maximums
	FoldAvg                           // Sum / Count, from the hidden SUM and COUNT columns
	FoldCountDistinct                 // distinct non-NULL tuples of Args
	FoldSumDistinct                   // sum of the distinct non-NULL values of Args[0]
	FoldAvgDistinct                   // average of the distinct non-NULL values of Args[0]
	FoldGroupConcat                   // the shards' partial concatenations, ordered by Order, joined by Separator
)

var foldNames = [...]string{"any", "count", "sum", "min", "max", "avg", "count_distinct", "sum_distinct",
	"avg_distinct", "group_concat"}

func (k FoldKind) String() string { return foldNames[k] }

// Fold folds one column.
type Fold struct {
	Kind       FoldKind
	Sum, Count Col // FoldAvg
	// Args are the hidden columns holding the values a distinct aggregate
	// or a GROUP_CONCAT(DISTINCT ...) is over.
	Args []Col
	// Order sorts a GROUP_CONCAT's partial concatenations (its ORDER BY,
	// over hidden columns); Separator joins them.
	Order     []SortKey
	Separator string
	Distinct  bool // GROUP_CONCAT(DISTINCT ...)
}

func (f Fold) String() string {
	switch f.Kind {
	case FoldAvg:
		return fmt.Sprintf("avg(%s/%s)", f.Sum, f.Count)
	case FoldCountDistinct, FoldSumDistinct, FoldAvgDistinct:
		return fmt.Sprintf("%s(%s)", f.Kind, colsString(f.Args))
	case FoldGroupConcat:
		s := "group_concat("
		if f.Distinct {
			s += "distinct "
		}
		s += colsString(f.Args)
		if len(f.Order) > 0 {
			s += " order by " + keysString(f.Order)
		}
		return s + fmt.Sprintf(" separator %q)", f.Separator)
	}
	return f.Kind.String()
}

func colsString(cs []Col) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.String()
	}
	return strings.Join(parts, ",")
}

func (a *Aggregate) Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error {
	return errTODO
}
func (a *Aggregate) Inputs() []Primitive { return []Primitive{a.Input} }
func (a *Aggregate) String() string {
	folds := make([]string, len(a.Folds))
	for i, f := range a.Folds {
		folds[i] = f.String()
	}
	return fmt.Sprintf("Aggregate group by [%s] folds [%s]", colsString(a.GroupBy), strings.Join(folds, ", "))
}
