package engine

import (
	"context"
	"fmt"
)

// Limit passes rows Offset+1 to Offset+Count of its input. When Upper is
// a bind slot (>= 0), it is set to Offset+Count before the input runs:
// the shards' own LIMIT.
type Limit struct {
	Input         Primitive
	Count, Offset Count
	Upper         int
}

func (l *Limit) Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error {
	return errTODO
}
func (l *Limit) Inputs() []Primitive { return []Primitive{l.Input} }
func (l *Limit) String() string {
	return fmt.Sprintf("Limit %s offset %s", l.Count, l.Offset)
}
