package router

import (
	"fmt"
	"slices"
	"strings"

	"github.com/courier-proxy/courier/router/vindex"
)

// GlobalIndex is a global secondary index of a sharded table: an index
// table, kept in MySQL, that maps values of Column to the source table's
// sharding key, so a query by Column looks the keys up first and then
// reads only the shards that own them.
//
// The index table has exactly two columns, typed like the source's:
//
//	CREATE TABLE <Table> (
//	  <Column> <column type> NOT NULL,
//	  <Key>    <key type>    NOT NULL,
//	  PRIMARY KEY (<Column>, <Key>))   -- non-unique: one entry per (value, key)
//
// and for a unique index PRIMARY KEY (<Column>) instead, so a value has
// one entry. A row whose Column is NULL has no entry (WHERE Column = v never
// matches NULL). Entries are written before the row commits and removed
// only after the row's delete commits, so an entry may point at a row that
// does not exist (an orphan, which readers skip when they find no such
// row), but a committed row always has its entry.
//
// When Sharded, the index table is sharded by Column with the hash
// function (KeyType) over the same shards as the data, so one lookup reads
// one shard; otherwise it is unsharded and lives on the default cluster.
type GlobalIndex struct {
	Source  string         // the indexed table, lower case
	Column  string         // the indexed column of Source, lower case
	Key     string         // Source's sharding key column, lower case: the index table's second column
	Table   string         // the index table, lower case
	Unique  bool           // at most one row per Column value
	KeyType vindex.KeyType // the type of Column
	Sharded bool           // index table sharded by Column (hash) rather than unsharded
}

// addIndexes completes t's indexes (names in lower case, Source and Key
// filled in) and registers their index tables.
func (s *Schema) addIndexes(t *Table) error {
	if len(t.Indexes) == 0 {
		return nil
	}
	if t.Kind != Sharded {
		return fmt.Errorf("table %s: only sharded tables have global indexes", t.Name)
	}
	t.Indexes = slices.Clone(t.Indexes)
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		ix.Source, ix.Key = t.Name, t.Key
		ix.Column, ix.Table = strings.ToLower(ix.Column), strings.ToLower(ix.Table)
		switch {
		case ix.Column == "" || ix.Table == "":
			return fmt.Errorf("table %s: a global index needs a column and an index table", t.Name)
		case ix.Column == t.Key:
			return fmt.Errorf("table %s: global index on its sharding key %s", t.Name, t.Key)
		case t.Index(ix.Column) != ix:
			return fmt.Errorf("table %s: two global indexes on %s", t.Name, ix.Column)
		}
		if _, dup := s.tables[ix.Table]; dup {
			return fmt.Errorf("table %s: index table %s is another table's name", t.Name, ix.Table)
		}
		it := &Table{Name: ix.Table, Kind: Unsharded, IndexOf: ix}
		if ix.Sharded {
			it.Kind, it.Key, it.KeyType, it.Func = Sharded, ix.Column, ix.KeyType, vindex.Hash{}
		}
		s.tables[ix.Table] = it
	}
	return nil
}
