package layout

import (
	"fmt"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/router/vindex"
)

// Schema builds the schema cfg describes. Its clusters are every
// configured cluster, the default one first, then in the file's order,
// whatever the shards name: so a cluster keeps its index (Target.Cluster)
// in every layout over the same clusters, and a session's connections and
// causal positions stay valid when the layout is switched. Without a
// sharding section every table is unsharded on the default cluster.
func Schema(cfg *config.Config) (*router.Schema, error) {
	clusters := []string{cfg.DefaultCluster}
	for _, c := range cfg.Clusters {
		if !contains(clusters, c.Name) {
			clusters = append(clusters, c.Name)
		}
	}
	sh := cfg.Sharding
	if sh == nil {
		return router.NewSchema(nil, nil, clusters)
	}
	if len(sh.Shards) == 0 { // unsharded tables on clusters of their own only
		tables, err := Tables(sh, 0)
		if err != nil {
			return nil, err
		}
		return router.NewSchema(tables, nil, clusters)
	}
	var shards []topo.Shard
	for _, c := range sh.Shards {
		r, err := topo.ParseKeyRange(c.Range)
		if err != nil {
			return nil, fmt.Errorf("sharding.shards: %w", err)
		}
		shards = append(shards, topo.Shard{Name: c.Range, Range: r, Cluster: c.Cluster})
		if !contains(clusters, c.Cluster) {
			clusters = append(clusters, c.Cluster)
		}
	}
	tp, err := topo.New(shards)
	if err != nil {
		return nil, fmt.Errorf("sharding.shards: %w", err)
	}
	tables, err := Tables(sh, len(shards))
	if err != nil {
		return nil, err
	}
	s, err := router.NewSchema(tables, tp, clusters)
	if err != nil {
		return nil, fmt.Errorf("sharding: %w", err)
	}
	s.ScatterWrites = sh.ScatterWrites
	return s, nil
}

// Tables reads the tables of a sharding section (over n shards).
func Tables(sh *config.Sharding, n int) ([]router.Table, error) {
	var tables []router.Table
	for _, t := range sh.Tables {
		tb := router.Table{Name: t.Name, Kind: router.Sharded, Key: t.Key, KeyType: keyType(t.KeyType), Sequence: t.Sequence}
		switch t.Type {
		case "reference":
			tb.Kind = router.Reference
		case "unsharded":
			tb.Kind, tb.Key, tb.Cluster = router.Unsharded, "", t.Cluster
		}
		if tb.Kind == router.Sharded {
			var err error
			if tb.Func, err = vindex.ByName(t.Function, n); err != nil {
				return nil, fmt.Errorf("sharding.tables %s: %w", t.Name, err)
			}
		}
		for _, ix := range t.Indexes {
			tb.Indexes = append(tb.Indexes, router.GlobalIndex{
				Column: ix.Column, Table: ix.Table, Unique: ix.Unique,
				KeyType: keyType(ix.KeyType), Sharded: ix.Sharded,
			})
		}
		tables = append(tables, tb)
	}
	return tables, nil
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

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
