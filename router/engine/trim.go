package engine

import (
	"context"
	"fmt"
)

// Trim drops the last Hidden columns (those the shards returned only for
// the proxy) from its input's column definitions and rows.
type Trim struct {
	Input  Primitive
	Hidden int
}

func (t *Trim) Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error {
	return errTODO
}
func (t *Trim) Inputs() []Primitive { return []Primitive{t.Input} }
func (t *Trim) String() string      { return fmt.Sprintf("Trim %d hidden", t.Hidden) }
