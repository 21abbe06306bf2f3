package engine

import (
	"context"
	"errors"
	"fmt"
)

// errTODO marks execution not written yet.
var errTODO = errors.New("engine: not implemented")

// MergeSort interleaves the rows of several shards, each sorted by Keys,
// into one sorted result, holding one row per shard.
type MergeSort struct {
	Input  Primitive // a Streamer
	Keys   []SortKey
	Hidden int
	Cat    *Catalog
}

func (m *MergeSort) Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error {
	return errTODO
}
func (m *MergeSort) Inputs() []Primitive { return []Primitive{m.Input} }
func (m *MergeSort) String() string      { return fmt.Sprintf("MergeSort %s", keysString(m.Keys)) }
