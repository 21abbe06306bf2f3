package engine

import "context"

// Seq runs steps in order: every step but the last prepares (keys from a
// sequence, global index entries) and writes nothing to the client; the
// last answers.
type Seq struct {
	Steps []Primitive
}

// Execute implements Primitive.
func (s *Seq) Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error {
	last := len(s.Steps) - 1
	for _, p := range s.Steps[:last] {
		if err := p.Execute(ctx, c, bv, discard{}); err != nil {
			return err
		}
	}
	return s.Steps[last].Execute(ctx, c, bv, w)
}

// Inputs implements Primitive.
func (s *Seq) Inputs() []Primitive { return s.Steps }

// String implements Primitive.
func (s *Seq) String() string { return "Seq" }

// discard is the writer of steps that must not answer.
type discard struct{}

func (discard) Fields([]Column) error { return nil }
func (discard) Row(Row) error         { return nil }
func (discard) End(uint16) error      { return nil }
func (discard) OK(Result) error       { return nil }
