package engine

import (
	"errors"
	"slices"

	"vitess.io/vitess/go/sqltypes"

	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/router/vindex"
)

// Keyspace is the shards that sharded tables are split over: their key
// ranges, and the cluster holding each.
type Keyspace struct {
	Topo *topo.Topology
	// Clusters holds each shard's cluster (an index into the schema's
	// clusters), in Topo.Shards() order.
	Clusters []int
}

// Shards is how many shards there are.
func (k *Keyspace) Shards() int { return len(k.Clusters) }

// Name returns shard i's name.
func (k *Keyspace) Name(i int) string { return k.Topo.Shards()[i].Name }

// Vindex is how one table's key values map to shards: its sharding
// function and key type.
type Vindex struct {
	Func vindex.Func
	Type vindex.KeyType
}

// Outcomes of mapping one key value to a shard.
const (
	noShard   = -1 // no row can have the value (NULL, or not a value of the key's type)
	allShards = -2 // the value equals keys of several shards (a decimal, a huge number as a string)
)

// shard returns the shard (an index into the keyspace) that owns key
// value v, or noShard or allShards.
func (k *Keyspace) shard(vx Vindex, v sqltypes.Value) (int, error) {
	if v.IsNull() {
		return noShard, nil
	}
	key, ok := KeyOf(v)
	if !ok {
		return allShards, nil
	}
	id, err := vx.Func.Map(vx.Type, key)
	switch {
	case errors.Is(err, vindex.ErrNotAKey):
		return noShard, nil
	case errors.Is(err, vindex.ErrAmbiguous):
		return allShards, nil
	case err != nil:
		return 0, err
	}
	return k.Topo.Index(id), nil
}

// shardsOf returns the shards owning the values in slots, each once, in
// key-space order (into bv's scratch space); all is true when some value
// equals keys on several shards.
func (k *Keyspace) shardsOf(vx Vindex, bv *Bind, slots []int) (shards []int, all bool, err error) {
	shards = bv.shards[:0]
	for _, s := range slots {
		i, err := k.shard(vx, bv.Value(s))
		switch {
		case err != nil:
			return nil, false, err
		case i == allShards:
			return nil, true, nil
		case i >= 0 && !slices.Contains(shards, i):
			shards = append(shards, i)
		}
	}
	slices.Sort(shards)
	bv.shards = shards
	return shards, false, nil
}

// targetsOf returns one target per shard in shards, each running sql,
// in bv's scratch space.
func (k *Keyspace) targetsOf(bv *Bind, shards []int, sql string) []Target {
	ts := bv.targets[:0]
	for _, i := range shards {
		ts = append(ts, Target{Cluster: k.Clusters[i], SQL: sql})
	}
	bv.targets = ts
	return ts
}

// all returns every shard's index, in key-space order.
func (k *Keyspace) all(bv *Bind) []int {
	shards := bv.shards[:0]
	for i := range k.Clusters {
		shards = append(shards, i)
	}
	bv.shards = shards
	return shards
}
