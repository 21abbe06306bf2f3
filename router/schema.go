package router

import (
	"fmt"
	"slices"
	"strings"

	"github.com/courier-proxy/courier/router/engine"
	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/router/vindex"
)

// TableKind is how a logical table is laid out.
type TableKind uint8

// Table kinds.
const (
	// Unsharded tables live whole on one cluster: the default one, or
	// the table's Cluster.
	Unsharded TableKind = iota
	// Sharded tables are split across the shards by a key column.
	Sharded
	// Reference tables are small and copied to every shard: reads go to
	// any shard, writes to all of them.
	Reference
)

// Table is a logical table of a sharded keyspace.
type Table struct {
	Name    string // lower case
	Kind    TableKind
	Key     string // sharded: the key column, lower case
	KeyType vindex.KeyType
	Func    vindex.Func
	// Sequence is the table INSERTs without a key take one from ("": none).
	Sequence string
	// Cluster names the cluster an unsharded table lives on ("": the
	// default cluster).
	Cluster string
	// Indexes are the table's global indexes (sharded tables only).
	Indexes []GlobalIndex
	// IndexOf is set on an index table: the index it holds. NewSchema
	// registers index tables itself; callers leave this nil.
	IndexOf *GlobalIndex

	home int // an unsharded table's cluster, as an index of Schema.Clusters
}

// Index returns the table's global index on column, or nil.
func (t *Table) Index(column string) *GlobalIndex {
	column = strings.ToLower(column)
	for i := range t.Indexes {
		if t.Indexes[i].Column == column {
			return &t.Indexes[i]
		}
	}
	return nil
}

// group names the tables whose rows with equal keys share a shard: same
// function, same key type.
func (t *Table) group() string {
	return fmt.Sprintf("%s/%d", t.Func.Name(), t.KeyType)
}

func (t *Table) vindex() engine.Vindex { return engine.Vindex{Func: t.Func, Type: t.KeyType} }

// Schema is the layout planning works from: the clusters, the shards and
// the logical tables. It is immutable once built and shared by every
// session.
type Schema struct {
	tables map[string]*Table
	// Topo is the shards (nil when nothing is sharded).
	Topo *topo.Topology
	// Clusters names the clusters statements go to; Clusters[0] is the
	// default cluster, where unsharded tables live unless placed on
	// another (Table.Cluster).
	Clusters []string
	// ScatterWrites lets UPDATE and DELETE without the sharding key run
	// on every shard.
	ScatterWrites bool

	keyspace *engine.Keyspace
	catalog  *engine.Catalog
}

// NewSchema builds a schema; tables not listed are unsharded. The index
// table of every global index is registered too (see GlobalIndex).
// clusters names the clusters, the default one first; nil takes the
// shards' clusters in key order.
func NewSchema(tables []Table, t *topo.Topology, clusters []string) (*Schema, error) {
	s := &Schema{tables: make(map[string]*Table, len(tables)), Topo: t, Clusters: clusters}
	if err := s.addTopology(); err != nil {
		return nil, err
	}
	for i := range tables {
		tb := tables[i]
		tb.Name, tb.Key = strings.ToLower(tb.Name), strings.ToLower(tb.Key)
		switch {
		case tb.Kind == Sharded && (tb.Key == "" || tb.Func == nil):
			return nil, fmt.Errorf("table %s: a sharded table needs a key column and a sharding function", tb.Name)
		case tb.Kind != Unsharded && t == nil:
			return nil, fmt.Errorf("table %s: sharded and reference tables need shards", tb.Name)
		case tb.Kind != Unsharded && tb.Cluster != "":
			return nil, fmt.Errorf("table %s: only an unsharded table is placed on a cluster", tb.Name)
		case tb.IndexOf != nil:
			return nil, fmt.Errorf("table %s: index tables are registered from their source table's Indexes", tb.Name)
		}
		if tb.Cluster != "" {
			if tb.home = slices.Index(s.Clusters, tb.Cluster); tb.home < 0 {
				return nil, fmt.Errorf("table %s: cluster %q is not one of %v", tb.Name, tb.Cluster, s.Clusters)
			}
		}
		if _, dup := s.tables[tb.Name]; dup {
			return nil, fmt.Errorf("table %s listed twice", tb.Name)
		}
		s.tables[tb.Name] = &tb
	}
	// Index tables second, so a clash with any listed table is seen
	// whatever the order.
	for i := range tables {
		if err := s.addIndexes(s.tables[strings.ToLower(tables[i].Name)]); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// addTopology checks the clusters against the shards and builds the
// keyspace primitives route over.
func (s *Schema) addTopology() error {
	if s.Topo == nil {
		if len(s.Clusters) == 0 {
			s.Clusters = []string{"default"}
		}
		return nil
	}
	shards := s.Topo.Shards()
	if s.Clusters == nil {
		for _, sh := range shards {
			if !slices.Contains(s.Clusters, sh.Cluster) {
				s.Clusters = append(s.Clusters, sh.Cluster)
			}
		}
	}
	ks := &engine.Keyspace{Topo: s.Topo}
	for _, sh := range shards {
		i := slices.Index(s.Clusters, sh.Cluster)
		switch {
		case i < 0:
			return fmt.Errorf("shard %s: cluster %q is not one of %v", sh.Name, sh.Cluster, s.Clusters)
		case slices.Contains(ks.Clusters, i):
			return fmt.Errorf("shard %s: cluster %s holds another shard too; every shard needs a cluster of its own", sh.Name, sh.Cluster)
		}
		ks.Clusters = append(ks.Clusters, i)
	}
	s.keyspace = ks
	s.catalog = &engine.Catalog{Cluster: ks.Clusters[0]}
	return nil
}

// IndexTable returns the layout of ix's index table: sharded by ix.Column
// with the hash function, or unsharded.
func (s *Schema) IndexTable(ix *GlobalIndex) *Table { return s.Table(ix.Table) }

// Table returns the layout of a logical table (unsharded when unlisted).
func (s *Schema) Table(name string) *Table {
	if t := s.tables[strings.ToLower(name)]; t != nil {
		return t
	}
	return &Table{Name: strings.ToLower(name), Kind: Unsharded}
}

// Sharded reports whether any table is laid out (sharded, a reference
// table, or unsharded on a cluster of its own): statements must then be
// read by the planner to be routed.
func (s *Schema) Sharded() bool { return len(s.tables) > 0 }

// ClusterOf names the cluster an unsharded table lives on.
func (s *Schema) ClusterOf(t *Table) string { return s.Clusters[t.home] }

// Keyspace returns the shards as primitives route over (nil when nothing
// is sharded).
func (s *Schema) Keyspace() *engine.Keyspace { return s.keyspace }

// Catalog returns the catalog cache merges compare columns by; DDL
// through Courier clears it.
func (s *Schema) Catalog() *engine.Catalog { return s.catalog }

// ShardCluster returns the cluster index of shard i (in key order).
func (s *Schema) ShardCluster(i int) int { return s.keyspace.Clusters[i] }
