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

// Execute runs the input and passes the rows that satisfy Cond.
func (f *Filter) Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error {
	return f.Input.Execute(ctx, c, bv, &filterWriter{ResultWriter: w, f: f, ctx: ctx, cur: c, ev: evaluator{bv: bv}})
}

// Inputs implements Primitive.
func (f *Filter) Inputs() []Primitive { return []Primitive{f.Input} }

// String implements Primitive.
func (f *Filter) String() string { return "Filter" }

// filterWriter is the writer a Filter gives its input. It lives for one
// execution and keeps that execution's context for the catalog reads
// the column definitions need.
type filterWriter struct {
	ResultWriter // End and OK pass through
	f            *Filter
	ctx          context.Context
	cur          Cursor
	ev           evaluator
	total        int
}

func (fw *filterWriter) Fields(cols []Column) error {
	s, err := newColumns(fw.f.Cat, cols, fw.f.Hidden)
	if err != nil {
		return err
	}
	if err := fw.ev.prepare(fw.ctx, fw.cur, s, fw.f.Cond); err != nil {
		return err
	}
	fw.total = len(cols)
	return fw.ResultWriter.Fields(cols)
}

func (fw *filterWriter) Row(r Row) error {
	if !fw.ev.truth(fw.f.Cond, r, fw.total, fw.f.Hidden) {
		return nil
	}
	return fw.ResultWriter.Row(r)
}
