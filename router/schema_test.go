package router

import (
	"strings"
	"testing"

	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/router/vindex"
)

func TestIndexTableKinds(t *testing.T) {
	tp, _ := topo.New([]topo.Shard{{Name: "-", Cluster: "s0"}})
	s, err := NewSchema([]Table{{
		Name: "Orders", Kind: Sharded, Key: "Order_ID", Func: vindex.Hash{},
		Indexes: []GlobalIndex{
			{Column: "Code", Table: "Orders_By_Code", Unique: true, KeyType: vindex.Bytes, Sharded: true},
			{Column: "rider_id", Table: "orders_by_rider", KeyType: vindex.Uint},
		},
	}}, tp, nil)
	if err != nil {
		t.Fatal(err)
	}
	code := s.Table("orders").Index("code")
	if code == nil || code.Table != "orders_by_code" || code.Key != "order_id" || !code.Unique {
		t.Fatalf("code index = %+v", code)
	}
	if it := s.IndexTable(code); it.Kind != Sharded || it.Key != "code" || it.KeyType != vindex.Bytes {
		t.Errorf("sharded index table = %+v", it)
	}
	rider := s.Table("orders").Index("rider_id")
	if it := s.IndexTable(rider); it.Kind != Unsharded || it.Func != nil || it.IndexOf != rider {
		t.Errorf("unsharded index table = %+v", it)
	}
	if !s.Sharded() || s.Keyspace().Shards() != 1 || s.ShardCluster(0) != 0 || s.Catalog() == nil {
		t.Errorf("schema %+v", s)
	}
}

func TestNewSchemaErrors(t *testing.T) {
	tp, _ := topo.New([]topo.Shard{{Name: "-", Cluster: "s0"}})
	orders := func(ix ...GlobalIndex) Table {
		return Table{Name: "orders", Kind: Sharded, Key: "order_id", Func: vindex.Hash{}, Indexes: ix}
	}
	tests := []struct {
		name     string
		tables   []Table
		clusters []string
		want     string
	}{
		{"index on the key", []Table{orders(GlobalIndex{Column: "ORDER_ID", Table: "x"})}, nil, "sharding key"},
		{"column twice", []Table{orders(GlobalIndex{Column: "a", Table: "x"}, GlobalIndex{Column: "A", Table: "y"})}, nil, "two global indexes"},
		{"no index table", []Table{orders(GlobalIndex{Column: "a"})}, nil, "needs a column and an index table"},
		{"clash with a table", []Table{orders(GlobalIndex{Column: "a", Table: "Cities"}), {Name: "cities", Kind: Reference}}, nil, "another table's name"},
		{"reference table", []Table{{Name: "cities", Kind: Reference, Indexes: []GlobalIndex{{Column: "a", Table: "x"}}}}, nil, "only sharded tables"},
		{"index table listed", []Table{{Name: "x", IndexOf: &GlobalIndex{}}}, nil, "registered from their source"},
		{"no key", []Table{{Name: "x", Kind: Sharded}}, nil, "needs a key column"},
		{"listed twice", []Table{{Name: "x"}, {Name: "X"}}, nil, "listed twice"},
		{"unknown cluster", nil, []string{"main"}, "is not one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSchema(tt.tables, tp, tt.clusters)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	two, _ := topo.New([]topo.Shard{{Name: "-80", Range: topo.Even(2)[0], Cluster: "s0"}, {Name: "80-", Range: topo.Even(2)[1], Cluster: "s0"}})
	if _, err := NewSchema(nil, two, nil); err == nil || !strings.Contains(err.Error(), "holds another shard") {
		t.Fatalf("two shards on one cluster: %v", err)
	}
	if _, err := NewSchema([]Table{{Name: "x", Kind: Reference}}, nil, nil); err == nil {
		t.Fatal("a reference table without shards")
	}
	s, err := NewSchema(nil, nil, nil)
	if err != nil || s.Sharded() || len(s.Clusters) != 1 {
		t.Fatalf("unsharded schema %+v, %v", s, err)
	}
}

func TestConsistencyNames(t *testing.T) {
	for _, n := range []string{"eventual", "causal", "primary"} {
		c, ok := ParseConsistency(n)
		if !ok || c.String() != n {
			t.Errorf("%s: %v %v", n, c, ok)
		}
	}
	if _, ok := ParseConsistency("x"); ok {
		t.Error("x is a consistency")
	}
	if Primary.String() != "primary" || Replica.String() != "replica" {
		t.Error("target names")
	}
}
