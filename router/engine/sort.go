package engine

import (
	"context"
	"fmt"
)

// Sort buffers its input's rows (within the session's MaxRows and the
// process's row budget) and writes them sorted by Keys, stably.
type Sort struct {
	Input  Primitive
	Keys   []SortKey
	Hidden int
	Cat    *Catalog
}

func (s *Sort) Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error {
	return errTODO
}
func (s *Sort) Inputs() []Primitive { return []Primitive{s.Input} }
func (s *Sort) String() string      { return fmt.Sprintf("Sort %s", keysString(s.Keys)) }
