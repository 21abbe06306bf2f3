package engine

import (
	"context"
	"strings"
)

// Primitive is one step of a plan. A plan is a tree of primitives; its
// root's Execute runs the statement and writes the client's answer to w.
// Primitives are immutable and shared by every execution of their plan:
// what belongs to one execution lives in bv, the cursor and w.
type Primitive interface {
	// Execute runs the step (and its inputs) for one execution.
	Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error
	// Inputs are the primitives this one runs, for printing and walking.
	Inputs() []Primitive
	// String describes the step on one line (without its inputs).
	String() string
}

// Format prints a plan as an indented tree, one primitive per line, for
// EXPLAIN-style output and golden tests.
func Format(p Primitive) string {
	var b strings.Builder
	format(&b, p, 0)
	return b.String()
}

func format(b *strings.Builder, p Primitive, depth int) {
	for range depth {
		b.WriteString("  ")
	}
	b.WriteString(p.String())
	b.WriteByte('\n')
	for _, in := range p.Inputs() {
		format(b, in, depth+1)
	}
}
