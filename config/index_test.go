package config

import (
	"reflect"
	"testing"
)

// shardedYAML is a valid two-shard file; tests append `tables:` to it.
const shardedYAML = `
users: [{name: app, password: app}]
clusters:
  - {name: s0, user: u, password: p, primary: {address: "127.0.0.1:1"}}
  - {name: s1, user: u, password: p, primary: {address: "127.0.0.1:2"}}
default_cluster: s0
sharding:
  shards: [{range: "-80", cluster: s0}, {range: "80-", cluster: s1}]
`

func TestIndexDefaults(t *testing.T) {
	c := mustParse(t, shardedYAML+`  tables:
    - name: Orders
      key: order_id
      indexes:
        - column: User_ID
        - {column: code, table: orders_code, unique: true, key_type: string, sharded: false}
`)
	got := c.Sharding.Tables[0].Indexes
	want := []GlobalIndex{
		{Column: "User_ID", Table: "orders_by_user_id", KeyType: "int", Sharded: true},
		{Column: "code", Table: "orders_code", Unique: true, KeyType: "string", Sharded: false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("indexes = %+v\nwant %+v", got, want)
	}
}

// TestIndexValidation breaks one rule at a time; every problem names its key.
func TestIndexValidation(t *testing.T) {
	tests := []struct {
		name   string
		tables string
		want   []string
	}{
		{"valid", `
    - name: orders
      key: order_id
      indexes: [{column: user_id}, {column: rider_id, sharded: false}, {column: code, unique: true, key_type: string}]
    - {name: order_items, key: order_id, indexes: [{column: sku}]}`, nil},
		{"column missing", `
    - {name: orders, key: order_id, indexes: [{unique: true}]}`,
			[]string{"sharding.tables[0].indexes[0].column: required"}},
		{"column is the key", `
    - {name: orders, key: order_id, indexes: [{column: ORDER_ID}]}`,
			[]string{`sharding.tables[0].indexes[0].column: "ORDER_ID" is the sharding key`}},
		{"column indexed twice", `
    - {name: orders, key: order_id, indexes: [{column: user_id}, {column: user_id, table: other}]}`,
			[]string{`sharding.tables[0].indexes[1].column: "user_id" is also indexed by sharding.tables[0].indexes[0]`}},
		{"column not a name", `
    - {name: orders, key: order_id, indexes: [{column: "user id", table: ok}]}`,
			[]string{`sharding.tables[0].indexes[0].column: "user id" is not a plain column name`}},
		{"index on a reference table", `
    - {name: cities, type: reference, indexes: [{column: name}]}`,
			[]string{`sharding.tables[0].indexes: only sharded tables have global indexes; "cities" is reference`}},
		{"index table is a listed table", `
    - {name: orders, key: order_id, indexes: [{column: user_id, table: Order_Items}]}
    - {name: order_items, key: order_id}`,
			[]string{`sharding.tables[0].indexes[0].table: "Order_Items" is also sharding.tables[1]`}},
		{"index table is its own source", `
    - {name: orders, key: order_id, indexes: [{column: user_id, table: orders}]}`,
			[]string{`sharding.tables[0].indexes[0].table: "orders" is also sharding.tables[0]`}},
		{"two indexes share a table", `
    - {name: orders, key: order_id, indexes: [{column: user_id, table: lookup}]}
    - {name: order_items, key: order_id, indexes: [{column: sku, table: lookup}]}`,
			[]string{`sharding.tables[1].indexes[0].table: "lookup" is also sharding.tables[0].indexes[0].table`}},
		{"default names clash", `
    - {name: orders, key: order_id, indexes: [{column: user_id}]}
    - {name: orders_by_user_id, key: user_id}`,
			[]string{`sharding.tables[0].indexes[0].table: "orders_by_user_id" is also sharding.tables[1]`}},
		{"progress table reserved", `
    - {name: orders, key: order_id, indexes: [{column: user_id, table: courier_index_progress}]}`,
			[]string{`sharding.tables[0].indexes[0].table: "courier_index_progress" is also the table courierctl keeps`}},
		{"empty table", `
    - {name: orders, key: order_id, indexes: [{column: user_id, table: ""}]}`,
			[]string{`sharding.tables[0].indexes[0].table: empty; leave the key out for "orders_by_user_id"`}},
		{"table not a name", `
    - {name: orders, key: order_id, indexes: [{column: user_id, table: "shop.by_user"}]}`,
			[]string{`sharding.tables[0].indexes[0].table: "shop.by_user" is not a plain table name`}},
		{"key type", `
    - {name: orders, key: order_id, indexes: [{column: user_id, key_type: bigint}]}`,
			[]string{`sharding.tables[0].indexes[0].key_type: "bigint" is not a column type`}},
		{"every problem at once", `
    - {name: orders, key: order_id, indexes: [{column: order_id, table: orders, key_type: x}]}`,
			[]string{"indexes[0].column:", "indexes[0].table:", "indexes[0].key_type:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(shardedYAML + "  tables:" + tt.tables + "\n"))
			checkProblems(t, err, tt.want)
		})
	}
}

// TestShardingUnknownKeys: misspelt keys inside the optional sharding
// section are reported like any other.
func TestShardingUnknownKeys(t *testing.T) {
	_, err := Parse([]byte(shardedYAML + `  tables:
    - {name: orders, key: order_id, fuction: hash, indexes: [{column: user_id, uniqe: true}]}
`))
	checkProblems(t, err, []string{
		`unknown key "sharding.tables[0].fuction"; did you mean "function"?`,
		`unknown key "sharding.tables[0].indexes[0].uniqe"; did you mean "unique"?`,
	})
}
