package engine

import "sync"

// Catalog remembers what the shards' catalog says about table columns
// that primitives compare (collation, ENUM members), asked through the
// cursor once per column. One Catalog serves every plan of a schema; DDL
// through Courier clears it.
type Catalog struct {
	// Cluster is the cluster whose information_schema is asked (the
	// first shard: every shard holds the same definitions).
	Cluster int

	mu sync.Mutex
	m  map[string]*ColumnMeta
}

// ColumnMeta is what the catalog says about one table column.
type ColumnMeta struct {
	Collation string
	Enum      []string // ENUM members in order
}

// Clear forgets everything (after DDL).
func (c *Catalog) Clear() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}
