package engine

import (
	"context"
	"fmt"
)

// SequenceFill gives the rows of an INSERT whose key is NULL (or left
// out) keys from a sequence: it takes as many consecutive ids as there
// are NULL slots among Slots, sets them in order, and puts the first in
// slot First, which the INSERT reports as its insert id (as MySQL
// reports an AUTO_INCREMENT id). It writes nothing to the client.
type SequenceFill struct {
	Seq   *Sequence
	Slots []int
	First int
}

// Execute implements Primitive.
func (f *SequenceFill) Execute(ctx context.Context, c Cursor, bv *Bind, _ ResultWriter) error {
	n := 0
	for _, s := range f.Slots {
		if bv.Value(s).IsNull() {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	first, err := c.NextIDs(ctx, f.Seq, n)
	if err != nil {
		return err
	}
	next := first
	for _, s := range f.Slots {
		if bv.Value(s).IsNull() {
			bv.SetInt(s, next)
			next++
		}
	}
	bv.SetInt(f.First, first)
	return nil
}

// Inputs implements Primitive.
func (f *SequenceFill) Inputs() []Primitive { return nil }

// String implements Primitive.
func (f *SequenceFill) String() string {
	return fmt.Sprintf("SequenceFill %s slots %v first :%d", f.Seq.Table, f.Slots, f.First)
}
