package engine

import "context"

// Distinct passes each distinct row (compared over the visible columns,
// as the columns' types and collations compare) once.
type Distinct struct {
	Input  Primitive
	Hidden int
	Cat    *Catalog
}

func (d *Distinct) Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error {
	return errTODO
}
func (d *Distinct) Inputs() []Primitive { return []Primitive{d.Input} }
func (d *Distinct) String() string      { return "Distinct" }
