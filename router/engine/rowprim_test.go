package engine

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/courier-proxy/courier/sqlerr"
)

// scanInput is a test input that reads its targets as a route would:
// Execute streams them one after another (fakeCursor.Stream), Streams
// opens one stream per target (fakeCursor.Open) for MergeSort. warnings,
// when set, are the streams' warning counts.
type scanInput struct {
	targets  []Target
	warnings []uint16
}

func (s *scanInput) Execute(ctx context.Context, c Cursor, _ *Bind, w ResultWriter) error {
	return c.Stream(ctx, s.targets, true, w)
}

func (s *scanInput) Streams(ctx context.Context, c Cursor, _ *Bind) ([]RowStream, error) {
	streams, err := c.Open(ctx, s.targets)
	if err != nil {
		return nil, err
	}
	for i := range streams {
		if i < len(s.warnings) {
			streams[i] = warnStream{streams[i], s.warnings[i]}
		}
	}
	return streams, nil
}

func (s *scanInput) Inputs() []Primitive { return nil }
func (s *scanInput) String() string      { return "Scan" }

func scanOf(sql string, clusters ...int) *scanInput {
	s := &scanInput{}
	for _, c := range clusters {
		s.targets = append(s.targets, Target{Cluster: c, SQL: sql})
	}
	return s
}

// warnStream is a stream that reports warnings at its end.
type warnStream struct {
	RowStream
	w uint16
}

func (s warnStream) Warnings() uint16 { return s.w }

// endRecorder is a recorder that also keeps End's warnings and counts
// the calls of End.
type endRecorder struct {
	recorder
	warnings uint16
	ends     int
}

func (r *endRecorder) End(w uint16) error {
	r.warnings, r.ends = w, r.ends+1
	return r.recorder.End(w)
}

// bufferedInput writes fixed rows, then End with warnings, as a primitive
// that buffered its rows does: when the reader stops it (errStop), it
// still ends the result with its warnings.
type bufferedInput struct {
	cols     []Column
	rows     []Row
	warnings uint16
}

func (b *bufferedInput) Execute(_ context.Context, _ Cursor, _ *Bind, w ResultWriter) error {
	return emit(w, b.cols, b.rows, b.warnings)
}
func (b *bufferedInput) Inputs() []Primitive { return nil }
func (b *bufferedInput) String() string      { return "Buffered" }

// execRows executes p against f and returns what reached the client.
func execRows(t *testing.T, p Primitive, f *fakeCursor, bv *Bind) (*endRecorder, error) {
	t.Helper()
	if bv == nil {
		bv = &Bind{}
	}
	w := &endRecorder{}
	err := p.Execute(context.Background(), f, bv, w)
	return w, err
}

// expectRows compares what reached the client and the cursor's calls.
func expectRows(t *testing.T, f *fakeCursor, w *endRecorder, wantCalls, wantRows []string) {
	t.Helper()
	if !slices.Equal(f.calls, wantCalls) {
		t.Errorf("calls:\n got %q\nwant %q", f.calls, wantCalls)
	}
	if !slices.Equal(w.rows, wantRows) {
		t.Errorf("rows:\n got %q\nwant %q", w.rows, wantRows)
	}
}

// errnoOf returns the MySQL error number of err: 0 for none, -1 for an
// uncoded error.
func errnoOf(err error) int {
	if err == nil {
		return 0
	}
	var e *sqlerr.Error
	if !errors.As(err, &e) {
		return -1
	}
	return int(e.Num)
}
