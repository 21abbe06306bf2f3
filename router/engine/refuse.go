package engine

import "context"

// Refuse answers with an error: the plan of a case that cannot run (a
// route's fallback for values that reach several shards, when the
// statement cannot be merged).
type Refuse struct {
	Err error
}

// Execute implements Primitive.
func (r *Refuse) Execute(context.Context, Cursor, *Bind, ResultWriter) error { return r.Err }

// Inputs implements Primitive.
func (r *Refuse) Inputs() []Primitive { return nil }

// String implements Primitive.
func (r *Refuse) String() string { return "Refuse: " + r.Err.Error() }
