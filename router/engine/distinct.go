package engine

import "context"

// Distinct passes each distinct row (compared over the visible columns,
// as the columns' types and collations compare) once.
type Distinct struct {
	Input  Primitive
	Hidden int
	Cat    *Catalog
}

// Execute runs the input and passes the first row of each distinct
// value. The values seen are held (within MaxRows and the row budget)
// until the execution ends.
func (d *Distinct) Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error {
	dw := &distinctWriter{ResultWriter: w, d: d, ctx: ctx, cur: c, seen: map[string]struct{}{},
		held: newHolding(c.Session(), "distinct rows")}
	defer dw.held.release()
	return d.Input.Execute(ctx, c, bv, dw)
}

// Inputs implements Primitive.
func (d *Distinct) Inputs() []Primitive { return []Primitive{d.Input} }

// String implements Primitive.
func (d *Distinct) String() string { return "Distinct" }

// distinctWriter is the writer a Distinct gives its input. It lives for
// one execution and keeps that execution's context for the catalog reads
// the column definitions need.
type distinctWriter struct {
	ResultWriter // End and OK pass through
	d            *Distinct
	ctx          context.Context
	cur          Cursor
	keys         []keyCol
	seen         map[string]struct{}
	key          []byte
	held         holding
}

func (dw *distinctWriter) Fields(cols []Column) error {
	s, err := newColumns(dw.d.Cat, cols, dw.d.Hidden)
	if err != nil {
		return err
	}
	visible := make([]Col, len(cols)-dw.d.Hidden)
	for i := range visible {
		visible[i] = Col(i)
	}
	if dw.keys, err = s.keyCols(dw.ctx, dw.cur, visible); err != nil {
		return err
	}
	return dw.ResultWriter.Fields(cols)
}

func (dw *distinctWriter) Row(r Row) error {
	dw.key, _ = appendKey(dw.key[:0], r, dw.keys)
	if _, dup := dw.seen[string(dw.key)]; dup {
		return nil
	}
	if err := dw.held.take(1, int64(len(dw.key))+rowOverhead); err != nil {
		return err
	}
	dw.seen[string(dw.key)] = struct{}{}
	return dw.ResultWriter.Row(r)
}
