package engine

import "context"

// Filter passes the rows for which Cond is true (a HAVING clause over
// folded groups).
type Filter struct {
	Input  Primitive
	Cond   Expr
	Hidden int
	Cat    *Catalog
}

func (f *Filter) Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error {
	return errTODO
}
func (f *Filter) Inputs() []Primitive { return []Primitive{f.Input} }
func (f *Filter) String() string      { return "Filter" }
