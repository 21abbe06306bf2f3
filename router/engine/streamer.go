package engine

import "context"

// Streamer is implemented by primitives that can hand their rows over as
// one stream per shard, each in the order its shard sorted them (a route
// over several shards, a global index lookup), for MergeSort.
type Streamer interface {
	Streams(ctx context.Context, c Cursor, bv *Bind) ([]RowStream, error)
}
