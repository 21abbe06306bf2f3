package difftest

import (
	"fmt"
	"strconv"
	"strings"
)

// This file makes the shapes that are scripts of one session: a
// transaction of several statements by key, multi-statement batches, and
// writes read back at once (which a replica that has not applied them
// yet would answer wrongly).

// scripts makes the shapes of this file.
type scripts struct{ *generator }

// keyOn returns an existing key other than k, owned by k's shard (same)
// or by another shard.
func (g *generator) keyOn(k int64, same bool) int64 {
	for range 10_000 {
		c := g.existing()
		if c != k && (g.shardOf(c) == g.shardOf(k)) == same {
			return c
		}
	}
	panic("difftest: no key on the wanted shard")
}

// freshOn is a new order on the same shard as key k, or on another.
func (g *generator) freshOn(k int64, same bool) Order {
	for {
		o := g.freshOrder()
		if (g.shardOf(o.ID) == g.shardOf(k)) == same {
			return o
		}
	}
}

// insertOrders is a multi-row INSERT of orders naming every column.
func insertOrders(os ...Order) string {
	rows := make([]string, len(os))
	for i, o := range os {
		rows[i] = "(" + strings.Join(o.Literals(), ", ") + ")"
	}
	return "INSERT INTO orders (" + strings.Join(OrderColumns, ", ") + ") VALUES " + strings.Join(rows, ", ")
}

// keyText is keys as an SQL list.
func keyText(ks ...int64) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = strconv.FormatInt(k, 10)
	}
	return strings.Join(s, ", ")
}

// txnKeys: a transaction as an application writes one, each statement by
// key: lock an order, change it (and its items), change another order,
// on another shard or on the same one, commit; then read both back.
func (g scripts) txnKeys() Query {
	a := g.existing()
	same := g.chance(30)
	b := g.keyOn(a, same)
	steps := []Query{
		{SQL: fmt.Sprintf("SELECT order_id, status, total_cents FROM orders WHERE order_id = %d FOR UPDATE", a)},
		{Write: true, SQL: fmt.Sprintf("UPDATE orders SET status = '%s', total_cents = total_cents + %d WHERE order_id = %d", pick(g.r, Statuses...), 1+g.r.IntN(500), a)},
	}
	if g.chance(40) {
		steps = append(steps, Query{Write: true, SQL: fmt.Sprintf("UPDATE order_items SET qty = qty + 1 WHERE order_id = %d AND line_no = 1", a)})
	}
	second := Query{Write: true, SQL: fmt.Sprintf("UPDATE orders SET rider_id = %d, total_cents = total_cents - %d WHERE order_id = %d", 1+g.r.IntN(g.d.Sizes.Riders), 1+g.r.IntN(100), b)}
	if g.chance(30) {
		o := g.freshOn(a, same)
		b = o.ID
		second = Query{Write: true, SQL: insertOrders(o)}
	}
	second.SecondShard = !same
	steps = append(steps, second)
	if g.chance(50) {
		steps = append(steps, Query{SQL: fmt.Sprintf("SELECT order_id, status, total_cents, rider_id FROM orders WHERE order_id = %d", a)})
	}
	return Query{Txn: true, Steps: steps, OneShard: same}.readBack(a, b)
}

// batch: several statements in one COM_QUERY (multiStatements): a
// transaction over two shards, DO with an INSERT, two reads of different
// shards, and a write followed by a read of it.
func (g scripts) batch() Query {
	a := g.existing()
	b := g.keyOn(a, false)
	switch g.r.IntN(4) {
	case 0:
		return Query{Batch: true, Steps: []Query{
			{Write: true, SQL: "BEGIN"},
			{Write: true, SQL: fmt.Sprintf("UPDATE orders SET total_cents = total_cents + %d WHERE order_id = %d", 1+g.r.IntN(100), a)},
			{Write: true, SQL: fmt.Sprintf("UPDATE orders SET status = '%s' WHERE order_id = %d", pick(g.r, Statuses...), b)},
			{Write: true, SQL: "COMMIT"},
		}}.readBack(a, b)
	case 1:
		o := g.freshOrder()
		rows := []Order{o}
		if g.chance(50) {
			rows = append(rows, g.freshOn(o.ID, false))
		}
		var ks []int64
		for _, r := range rows {
			ks = append(ks, r.ID)
		}
		return Query{Batch: true, Steps: []Query{
			{Write: true, SQL: "DO 1"},
			{Write: true, SQL: insertOrders(rows...)},
		}}.readBack(ks...)
	case 2:
		return Query{Batch: true, Steps: []Query{
			{SQL: fmt.Sprintf("SELECT %s FROM orders WHERE order_id = %d", pick(g.r, orderSelect...), a)},
			{SQL: fmt.Sprintf("SELECT line_no, item, qty FROM order_items WHERE order_id = %d ORDER BY line_no", b), Ordered: true},
		}}
	}
	return Query{Batch: true, Steps: []Query{
		{Write: true, SQL: fmt.Sprintf("UPDATE orders SET total_cents = total_cents + 1 WHERE order_id = %d", a)},
		{SQL: fmt.Sprintf("SELECT order_id, total_cents FROM orders WHERE order_id = %d", a)},
		{SQL: fmt.Sprintf("SELECT order_id, status FROM orders WHERE order_id = %d", b)},
	}}.readBack(a, b)
}

// readYourWrites: two new orders of a new user, on different shards,
// inserted and read back at once in the same session: by key, by both
// keys and by the user (a global index). Reads may go to replicas; with
// causal consistency they must see the session's writes all the same.
func (g scripts) readYourWrites() Query {
	a := g.freshOrder()
	b := g.freshOn(a.ID, false)
	a.UserID, b.UserID = g.nextUser, g.nextUser
	g.nextUser++
	var steps []Query
	if g.chance(25) {
		steps = []Query{{Write: true, SQL: insertOrders(a, b)}}
	} else {
		steps = []Query{{Write: true, SQL: insertOrders(a)}, {Write: true, SQL: insertOrders(b)}}
	}
	reads := []Query{
		{SQL: fmt.Sprintf("SELECT * FROM orders WHERE order_id = %d", a.ID)},
		{SQL: fmt.Sprintf("SELECT * FROM orders WHERE order_id = %d", b.ID)},
		{SQL: fmt.Sprintf("SELECT order_id, user_id, status FROM orders WHERE order_id IN (%s)", keyText(a.ID, b.ID))},
		{SQL: fmt.Sprintf("SELECT order_id, user_id, total_cents FROM orders WHERE user_id = %d", a.UserID)},
	}
	steps = append(steps, reads...)
	return Query{Steps: steps, Then: reads[2:], Keys: []int64{a.ID, b.ID}}
}
