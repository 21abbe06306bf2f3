package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Sort buffers its input's rows (within the session's MaxRows and the
// process's row budget) and writes them sorted by Keys, stably.
type Sort struct {
	Input  Primitive
	Keys   []SortKey
	Hidden int
	Cat    *Catalog
}

// Execute runs the input, then writes its rows sorted. Nothing reaches w
// before the input ended, so an error on the way (a shard's, too many
// rows) is the whole answer.
func (s *Sort) Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error {
	sw := &sortWriter{s: s, ctx: ctx, cur: c, held: newHolding(c.Session(), "sorted rows")}
	defer sw.held.release()
	if err := s.Input.Execute(ctx, c, bv, sw); err != nil {
		return err
	}
	if sw.ok != nil {
		return w.OK(*sw.ok)
	}
	if sw.cols == nil {
		return nil
	}
	slices.SortStableFunc(sw.rows, func(a, b Row) int { return compareRows(sw.keys, a, b) })
	return emit(w, sw.cols, sw.rows, sw.warnings)
}

// Inputs implements Primitive.
func (s *Sort) Inputs() []Primitive { return []Primitive{s.Input} }

// String implements Primitive.
func (s *Sort) String() string { return fmt.Sprintf("Sort %s", keysString(s.Keys)) }

// sortWriter is the writer a Sort gives its input: it keeps the rows. It
// lives for one execution and keeps that execution's context for the
// catalog reads the column definitions need.
type sortWriter struct {
	s        *Sort
	ctx      context.Context
	cur      Cursor
	cols     []Column
	keys     []sortKey
	rows     []Row
	warnings uint16
	ok       *Result
	held     holding
}

func (sw *sortWriter) Fields(cols []Column) error {
	s, err := newColumns(sw.s.Cat, cols, sw.s.Hidden)
	if err != nil {
		return err
	}
	if sw.keys, err = s.sortKeys(sw.ctx, sw.cur, sw.s.Keys); err != nil {
		return err
	}
	sw.cols = cols
	return nil
}

func (sw *sortWriter) Row(r Row) error {
	if err := sw.held.take(1, rowCost(r)); err != nil {
		return err
	}
	sw.rows = append(sw.rows, copyRow(r))
	return nil
}

func (sw *sortWriter) End(warnings uint16) error { sw.warnings = warnings; return nil }
func (sw *sortWriter) OK(r Result) error         { sw.ok = &r; return nil }

// emit writes a buffered result: its columns, rows and End. When the
// reader wants no more rows (errStop), End still reports the warnings.
func emit(w ResultWriter, cols []Column, rows []Row, warnings uint16) error {
	if err := w.Fields(cols); err != nil {
		return err
	}
	for _, r := range rows {
		if err := w.Row(r); err != nil {
			if errors.Is(err, errStop) {
				break
			}
			return err
		}
	}
	return w.End(warnings)
}
