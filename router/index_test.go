package router

import (
	"strings"
	"testing"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/router/vindex"
)

func TestSchemaFromConfigIndexes(t *testing.T) {
	c, err := config.Load("../testdata/courier.sharded.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := SchemaFromConfig(c.Sharding)
	if err != nil {
		t.Fatal(err)
	}
	orders := s.Table("ORDERS")
	if len(orders.Indexes) != 3 {
		t.Fatalf("orders has %d indexes", len(orders.Indexes))
	}
	ix := orders.Index("User_Id")
	want := GlobalIndex{Source: "orders", Column: "user_id", Key: "order_id", Table: "orders_by_user_id",
		KeyType: vindex.Int, Sharded: true}
	if ix == nil || *ix != want {
		t.Fatalf("Index(user_id) = %+v, want %+v", ix, want)
	}
	it := s.IndexTable(ix)
	if it.Name != "orders_by_user_id" || it.Kind != Sharded || it.Key != "user_id" ||
		it.Func.Name() != "hash" || it.KeyType != vindex.Int || it.IndexOf != ix {
		t.Errorf("index table = %+v", it)
	}
	if orders.Index("status") != nil || orders.Index("order_id") != nil {
		t.Error("Index found an index that is not configured")
	}
	if got := s.Table("order_items"); len(got.Indexes) != 0 || got.IndexOf != nil {
		t.Errorf("order_items = %+v", got)
	}
	if n := len(s.Topo.Shards()); n != 2 || s.Topo.Shards()[1].Cluster != "s1" {
		t.Errorf("topology = %+v", s.Topo.Shards())
	}
}

func TestIndexTableKinds(t *testing.T) {
	tp, _ := topo.New([]topo.Shard{{Name: "-", Cluster: "s0"}})
	s, err := NewSchema([]Table{{
		Name: "Orders", Kind: Sharded, Key: "Order_ID", Func: vindex.Hash{},
		Indexes: []GlobalIndex{
			{Column: "Code", Table: "Orders_By_Code", Unique: true, KeyType: vindex.Bytes, Sharded: true},
			{Column: "rider_id", Table: "orders_by_rider", KeyType: vindex.Uint},
		},
	}}, tp)
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
}

func TestNewSchemaIndexErrors(t *testing.T) {
	tp, _ := topo.New([]topo.Shard{{Name: "-", Cluster: "s0"}})
	orders := func(ix ...GlobalIndex) Table {
		return Table{Name: "orders", Kind: Sharded, Key: "order_id", Func: vindex.Hash{}, Indexes: ix}
	}
	tests := []struct {
		name   string
		tables []Table
		want   string
	}{
		{"index on the key", []Table{orders(GlobalIndex{Column: "ORDER_ID", Table: "x"})}, "sharding key"},
		{"column twice", []Table{orders(GlobalIndex{Column: "a", Table: "x"}, GlobalIndex{Column: "A", Table: "y"})}, "two global indexes"},
		{"no index table", []Table{orders(GlobalIndex{Column: "a"})}, "needs a column and an index table"},
		{"clash with a table", []Table{orders(GlobalIndex{Column: "a", Table: "Cities"}), {Name: "cities", Kind: Reference}}, "another table's name"},
		{"clash between indexes", []Table{orders(GlobalIndex{Column: "a", Table: "x"}, GlobalIndex{Column: "b", Table: "x"})}, "another table's name"},
		{"reference table", []Table{{Name: "cities", Kind: Reference, Indexes: []GlobalIndex{{Column: "a", Table: "x"}}}}, "only sharded tables"},
		{"index table listed", []Table{{Name: "x", IndexOf: &GlobalIndex{}}}, "registered from their source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSchema(tt.tables, tp)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
