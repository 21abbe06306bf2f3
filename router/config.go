package router

import (
	"fmt"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/router/vindex"
)

// SchemaFromConfig builds the schema a validated configuration's sharding
// section describes: the topology (each shard's range and cluster), the
// tables with their global indexes, and the index tables.
func SchemaFromConfig(sh *config.Sharding) (*Schema, error) {
	var shards []topo.Shard
	for _, c := range sh.Shards {
		r, err := topo.ParseKeyRange(c.Range)
		if err != nil {
			return nil, fmt.Errorf("sharding.shards: %w", err)
		}
		shards = append(shards, topo.Shard{Name: c.Range, Range: r, Cluster: c.Cluster})
	}
	tp, err := topo.New(shards)
	if err != nil {
		return nil, fmt.Errorf("sharding.shards: %w", err)
	}
	var tables []Table
	for _, t := range sh.Tables {
		tb := Table{Name: t.Name, Kind: Sharded, Key: t.Key, KeyType: keyType(t.KeyType), Sequence: t.Sequence}
		if t.Type == "reference" {
			tb.Kind = Reference
		}
		if tb.Kind == Sharded {
			if tb.Func, err = vindex.ByName(t.Function, len(shards)); err != nil {
				return nil, fmt.Errorf("sharding.tables %s: %w", t.Name, err)
			}
		}
		for _, ix := range t.Indexes {
			tb.Indexes = append(tb.Indexes, GlobalIndex{
				Column: ix.Column, Table: ix.Table, Unique: ix.Unique,
				KeyType: keyType(ix.KeyType), Sharded: ix.Sharded,
			})
		}
		tables = append(tables, tb)
	}
	s, err := NewSchema(tables, tp)
	if err != nil {
		return nil, fmt.Errorf("sharding: %w", err)
	}
	return s, nil
}

// keyType reads a configured key type; validation has allowed only these.
func keyType(name string) vindex.KeyType {
	switch name {
	case "uint":
		return vindex.Uint
	case "string":
		return vindex.Bytes
	}
	return vindex.Int
}
