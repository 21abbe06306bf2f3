package difftest

import (
	"fmt"
	"strings"
)

// This file makes the writes by key and the INSERTs of new orders (and
// of the items of orders inserted before), each read back at once.

// writes makes the shapes of this file.
type writes struct{ *generator }

// readBack is q, a write of the orders with keys ks (or of their items),
// followed by reads of those orders and their items.
func (q Query) readBack(ks ...int64) Query {
	list := keyText(ks...)
	q.Keys = ks
	q.Then = []Query{
		{SQL: fmt.Sprintf("SELECT * FROM orders WHERE order_id IN (%s)", list)},
		{SQL: fmt.Sprintf("SELECT * FROM order_items WHERE order_id IN (%s)", list)},
	}
	return q
}

func (g writes) updateKey() Query {
	id := g.orderID()
	keys, list := g.keyList(2 + g.r.IntN(8))
	switch g.r.IntN(5) {
	case 0:
		return Query{Write: true, SQL: fmt.Sprintf("UPDATE orders SET total_cents = total_cents + %d, rider_id = NULL WHERE order_id IN (%s)", 1+g.r.IntN(100), list), OneShard: g.oneShard(keys...)}.readBack(keys...)
	case 1:
		return Query{Write: true, SQL: fmt.Sprintf("UPDATE order_items SET qty = qty + 1, item = %s WHERE order_id IN (%s) AND line_no = 1", Quote(pick(g.r, itemNames...)), list), OneShard: g.oneShard(keys...)}.readBack(keys...)
	case 2:
		id2 := g.orderID()
		return Query{Write: true, SQL: fmt.Sprintf("UPDATE orders SET status = 'cancelled' WHERE order_id = %d OR order_id = %d", id, id2), OneShard: g.oneShard(id, id2)}.readBack(id, id2)
	case 3:
		return Query{Write: true, SQL: fmt.Sprintf("UPDATE orders SET status = status WHERE order_id = %d", id), OneShard: true}.readBack(id)
	}
	return Query{Write: true, SQL: fmt.Sprintf("UPDATE orders SET status = '%s', rider_id = %d WHERE order_id = %d", pick(g.r, Statuses...), 1+g.r.IntN(g.d.Sizes.Riders), id),
		OneShard: true}.readBack(id)
}

func (g writes) deleteKey() Query {
	if g.chance(50) {
		id := g.orderID()
		return Query{Write: true, SQL: fmt.Sprintf("DELETE FROM order_items WHERE order_id = %d AND line_no > 1", id), OneShard: true}.readBack(id)
	}
	keys, list := g.keyList(2 + g.r.IntN(4))
	return Query{Write: true, SQL: fmt.Sprintf("DELETE FROM orders WHERE order_id IN (%s)", list), OneShard: g.oneShard(keys...)}.readBack(keys...)
}

// freshOrder is a new order with a key no other row has.
func (g *generator) freshOrder() Order {
	g.nextID += 1 + g.r.Int64N(1000)
	o := Order{
		ID: g.nextID, UserID: g.user(), MerchantID: 1 + g.r.Int64N(int64(g.d.Sizes.Merchants)),
		CityID: 1 + g.r.IntN(orderCities), Status: pick(g.r, Statuses...), TotalCents: 300 + g.r.IntN(9000),
	}
	if g.chance(80) {
		o.RiderID = 1 + g.r.Int64N(int64(g.d.Sizes.Riders))
	}
	o.CreatedAt = g.d.Start.Add(secondsDur(g.r.Int64N(180 * 86400)))
	return o
}

func (g writes) insertMulti() Query {
	switch {
	case len(g.fresh) > 0 && g.chance(40):
		n := min(len(g.fresh), 1+g.r.IntN(6))
		ids := g.fresh[:n]
		g.fresh = g.fresh[n:]
		var rows []string
		for _, id := range ids {
			for line := range 1 + g.r.IntN(3) {
				it := Item{OrderID: id, LineNo: line + 1, Name: pick(g.r, itemNames...), Qty: 1 + g.r.IntN(4), Price: 100 + 50*g.r.IntN(60)}
				rows = append(rows, "("+strings.Join(it.Literals(), ", ")+")")
			}
		}
		return Query{Write: true, SQL: "INSERT INTO order_items (" + strings.Join(ItemColumns, ", ") + ") VALUES " + strings.Join(rows, ", ")}.readBack(ids...)
	case g.chance(25):
		// Rows that may exist already: IGNORE or ON DUPLICATE KEY UPDATE,
		// whose affected-row counts must add up across shards.
		var rows []string
		var ks []int64
		for i := range 3 + g.r.IntN(4) {
			o := g.freshOrder()
			if i%2 == 0 {
				o.ID = g.orderID()
			} else {
				g.fresh = append(g.fresh, o.ID)
			}
			ks = append(ks, o.ID)
			rows = append(rows, "("+strings.Join(o.Literals(), ", ")+")")
		}
		verb, tail := "INSERT IGNORE", ""
		if g.chance(50) {
			verb, tail = "INSERT", " ON DUPLICATE KEY UPDATE total_cents = total_cents + 1, status = VALUES(status)"
		}
		return Query{Write: true, SQL: verb + " INTO orders (" + strings.Join(OrderColumns, ", ") + ") VALUES " + strings.Join(rows, ", ") + tail}.readBack(ks...)
	}
	// New orders, the columns named in a shuffled order.
	perm := g.r.Perm(len(OrderColumns))
	cols := make([]string, len(perm))
	for i, p := range perm {
		cols[i] = OrderColumns[p]
	}
	var rows []string
	var ks []int64
	for range 2 + g.r.IntN(12) {
		o := g.freshOrder()
		g.fresh = append(g.fresh, o.ID)
		ks = append(ks, o.ID)
		lit := o.Literals()
		vals := make([]string, len(perm))
		for i, p := range perm {
			vals[i] = lit[p]
		}
		rows = append(rows, "("+strings.Join(vals, ", ")+")")
	}
	return Query{Write: true, SQL: "INSERT INTO orders (" + strings.Join(cols, ", ") + ") VALUES " + strings.Join(rows, ", ")}.readBack(ks...)
}
