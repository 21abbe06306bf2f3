package engine

import (
	"context"
	"fmt"

	"github.com/courier-proxy/courier/sqlerr"
)

// Trim drops the last Hidden columns (those the shards returned only for
// the proxy) from its input's column definitions and rows.
type Trim struct {
	Input  Primitive
	Hidden int
}

// Execute runs the input without its hidden columns.
func (t *Trim) Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error {
	if t.Hidden <= 0 {
		return t.Input.Execute(ctx, c, bv, w)
	}
	return t.Input.Execute(ctx, c, bv, &trimWriter{ResultWriter: w, hidden: t.Hidden})
}

// Inputs implements Primitive.
func (t *Trim) Inputs() []Primitive { return []Primitive{t.Input} }

// String implements Primitive.
func (t *Trim) String() string { return fmt.Sprintf("Trim %d hidden", t.Hidden) }

// trimWriter is the writer a Trim gives its input.
type trimWriter struct {
	ResultWriter // End and OK pass through
	hidden       int
	visible      int
}

func (tw *trimWriter) Fields(cols []Column) error {
	if tw.hidden > len(cols) {
		return sqlerr.New(sqlerr.ErrUnknown, "engine: %d hidden columns of %d", tw.hidden, len(cols))
	}
	tw.visible = len(cols) - tw.hidden
	return tw.ResultWriter.Fields(cols[:tw.visible:tw.visible])
}

func (tw *trimWriter) Row(r Row) error {
	return tw.ResultWriter.Row(r[:min(tw.visible, len(r)):min(tw.visible, len(r))])
}
