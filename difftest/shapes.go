package difftest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// This file makes one statement of each shape. Shapes that one shard (or
// the default cluster) answers alone come first, then those whose rows
// must be merged across shards.

func (g *generator) point() Query {
	id := g.orderID()
	switch g.r.IntN(6) {
	case 0:
		return Query{SQL: fmt.Sprintf("SELECT * FROM order_items WHERE order_id = %d", id), OneShard: true}
	case 1:
		return Query{SQL: fmt.Sprintf("SELECT %s FROM orders WHERE order_id = '%d'", pick(g, orderSelect...), id), OneShard: true}
	}
	return Query{SQL: fmt.Sprintf("SELECT %s FROM orders WHERE order_id = %d", pick(g, orderSelect...), id), OneShard: true}
}

// pointSingleShard: sorting, limits and aggregates that one shard answers
// because the key pins the rows to it.
func (g *generator) pointSingleShard() Query {
	id := g.orderID()
	switch g.r.IntN(5) {
	case 0:
		return Query{SQL: fmt.Sprintf("SELECT * FROM order_items WHERE order_id = %d ORDER BY line_no DESC LIMIT %d", id, 1+g.r.IntN(3)), Ordered: true, OneShard: true}
	case 1:
		return Query{SQL: fmt.Sprintf("SELECT COUNT(*), SUM(qty * price_cents), MAX(item), AVG(qty) FROM order_items WHERE order_id = %d", id), OneShard: true}
	case 2:
		return Query{SQL: fmt.Sprintf("SELECT status, COUNT(*), SUM(total_cents) FROM orders WHERE order_id = %d GROUP BY status", id), OneShard: true}
	case 3:
		return Query{SQL: fmt.Sprintf("SELECT DISTINCT qty FROM order_items WHERE order_id = %d", id), OneShard: true}
	}
	return Query{SQL: fmt.Sprintf("SELECT line_no, item FROM order_items WHERE order_id = %d AND qty > 1 ORDER BY line_no LIMIT 1 OFFSET 1", id), Ordered: true, OneShard: true}
}

func (g *generator) inList() Query {
	list := g.idList(2 + g.r.IntN(30))
	switch g.r.IntN(5) {
	case 0:
		return Query{SQL: fmt.Sprintf("SELECT * FROM order_items WHERE order_id IN (%s) AND line_no <= 2", list)}
	case 1:
		return Query{SQL: fmt.Sprintf("SELECT %s FROM orders WHERE status <> 'cancelled' AND order_id IN (%s)", pick(g, orderSelect...), list)}
	case 2:
		return Query{SQL: fmt.Sprintf("SELECT %s FROM orders WHERE order_id IN (%s) AND total_cents > %d", pick(g, orderSelect...), list, 1000+g.r.IntN(5000))}
	}
	return Query{SQL: fmt.Sprintf("SELECT %s FROM orders WHERE order_id IN (%s)", pick(g, orderSelect...), list)}
}

func (g *generator) orKeys() Query {
	var terms []string
	for range 2 + g.r.IntN(4) {
		terms = append(terms, fmt.Sprintf("order_id = %d", g.orderID()))
	}
	where := strings.Join(terms, " OR ")
	switch g.r.IntN(3) {
	case 0:
		where = "(" + where + ") AND total_cents > 0"
	case 1:
		where += fmt.Sprintf(" OR order_id IN (%s)", g.idList(2))
	}
	return Query{SQL: fmt.Sprintf("SELECT %s FROM orders WHERE %s", pick(g, orderSelect...), where)}
}

// scatter: reads without the key and without anything to merge; every
// shard's rows are the answer.
func (g *generator) scatter() Query {
	switch g.r.IntN(8) {
	case 0:
		return Query{SQL: "SELECT * FROM order_items WHERE " + g.itemPred("")}
	case 1:
		return Query{SQL: fmt.Sprintf("SELECT order_id, user_id FROM orders WHERE user_id = %d AND order_id NOT IN (%s)", g.user(), g.idList(5))}
	case 2:
		return Query{SQL: fmt.Sprintf("SELECT %s FROM orders WHERE %d = order_id", pick(g, orderSelect...), g.orderID())}
	case 3:
		return Query{SQL: "SELECT o.order_id, o.created_at FROM orders AS o WHERE " + g.pred("o.")}
	}
	return Query{SQL: fmt.Sprintf("SELECT %s FROM orders WHERE %s", pick(g, orderSelect...), g.pred(""))}
}

// keyOrPred is a WHERE condition on orders aliased o: its key, a list of
// keys, or a condition without the key.
func (g *generator) keyOrPred() string {
	switch g.r.IntN(3) {
	case 0:
		return fmt.Sprintf("o.order_id = %d", g.orderID())
	case 1:
		return fmt.Sprintf("o.order_id IN (%s)", g.idList(2+g.r.IntN(10)))
	}
	return g.pred("o.")
}

// joinItems: orders with their items, a join each shard answers alone.
func (g *generator) joinItems() Query {
	switch g.r.IntN(5) {
	case 0:
		return Query{SQL: "SELECT o.order_id, o.status, i.line_no, i.item, i.qty FROM orders o LEFT JOIN order_items i ON i.order_id = o.order_id WHERE " + g.keyOrPred()}
	case 1:
		return Query{SQL: fmt.Sprintf("SELECT i.*, o.user_id FROM order_items i JOIN orders o ON o.order_id = i.order_id WHERE %s AND o.status = '%s'", g.itemPred("i."), pick(g, Statuses...))}
	case 2:
		return Query{SQL: fmt.Sprintf("SELECT o.order_id, i.item FROM orders o, order_items i WHERE o.order_id = i.order_id AND o.user_id = %d", g.user())}
	case 3:
		return Query{SQL: fmt.Sprintf("SELECT o.total_cents, i.price_cents * i.qty AS line FROM orders o JOIN order_items i ON o.order_id = i.order_id WHERE i.order_id IN (%s)", g.idList(2+g.r.IntN(10)))}
	}
	return Query{SQL: "SELECT o.order_id, o.status, i.line_no, i.item, i.qty FROM orders o JOIN order_items i ON i.order_id = o.order_id WHERE " + g.keyOrPred()}
}

// joinCities: orders with the reference table, which every shard holds.
func (g *generator) joinCities() Query {
	switch g.r.IntN(4) {
	case 0:
		return Query{SQL: fmt.Sprintf("SELECT o.order_id, o.total_cents, c.timezone FROM cities c JOIN orders o ON o.city_id = c.city_id WHERE c.country = '%s' AND o.user_id = %d",
			pick(g, "PT", "ES", "BR", "DE"), g.user())}
	case 1:
		return Query{SQL: "SELECT o.order_id, i.item, c.name FROM orders o JOIN order_items i ON i.order_id = o.order_id JOIN cities c ON c.city_id = o.city_id WHERE " + g.keyOrPred()}
	}
	return Query{SQL: "SELECT o.order_id, c.name, c.country FROM orders o JOIN cities c ON c.city_id = o.city_id WHERE " + g.keyOrPred()}
}

func (g *generator) reference() Query {
	return pick(g,
		Query{SQL: "SELECT * FROM cities"},
		Query{SQL: fmt.Sprintf("SELECT name, timezone FROM cities WHERE country = '%s'", pick(g, "PT", "ES", "NO", "XX"))},
		Query{SQL: "SELECT country, COUNT(*) FROM cities GROUP BY country"},
		Query{SQL: fmt.Sprintf("SELECT name FROM cities ORDER BY name DESC LIMIT %d", 1+g.r.IntN(5)), Ordered: true},
		Query{SQL: "SELECT DISTINCT timezone FROM cities"},
	)
}

func (g *generator) unsharded() Query {
	return pick(g,
		Query{SQL: fmt.Sprintf("SELECT user_id, name, email FROM users WHERE city_id = %d ORDER BY created_at DESC, user_id LIMIT %d", 1+g.r.IntN(orderCities), 1+g.r.IntN(20)), Ordered: true},
		Query{SQL: "SELECT vehicle, COUNT(*) FROM riders GROUP BY vehicle"},
		Query{SQL: "SELECT * FROM merchants WHERE rating IS NULL OR rating > 4.5"},
		Query{SQL: "SELECT AVG(rating), COUNT(rating), COUNT(*) FROM merchants"},
		Query{SQL: "SELECT COUNT(DISTINCT city_id) FROM users"},
	)
}

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

func (g *generator) updateKey() Query {
	id := g.orderID()
	keys, list := g.keyList(2 + g.r.IntN(8))
	switch g.r.IntN(5) {
	case 0:
		return Query{Write: true, SQL: fmt.Sprintf("UPDATE orders SET total_cents = total_cents + %d, rider_id = NULL WHERE order_id IN (%s)", 1+g.r.IntN(100), list), OneShard: g.oneShard(keys...)}.readBack(keys...)
	case 1:
		return Query{Write: true, SQL: fmt.Sprintf("UPDATE order_items SET qty = qty + 1, item = %s WHERE order_id IN (%s) AND line_no = 1", Quote(pick(g, itemNames...)), list), OneShard: g.oneShard(keys...)}.readBack(keys...)
	case 2:
		id2 := g.orderID()
		return Query{Write: true, SQL: fmt.Sprintf("UPDATE orders SET status = 'cancelled' WHERE order_id = %d OR order_id = %d", id, id2), OneShard: g.oneShard(id, id2)}.readBack(id, id2)
	case 3:
		return Query{Write: true, SQL: fmt.Sprintf("UPDATE orders SET status = status WHERE order_id = %d", id), OneShard: true}.readBack(id)
	}
	return Query{Write: true, SQL: fmt.Sprintf("UPDATE orders SET status = '%s', rider_id = %d WHERE order_id = %d", pick(g, Statuses...), 1+g.r.IntN(g.d.Sizes.Riders), id),
		OneShard: true}.readBack(id)
}

func (g *generator) deleteKey() Query {
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
		CityID: 1 + g.r.IntN(orderCities), Status: pick(g, Statuses...), TotalCents: 300 + g.r.IntN(9000),
	}
	if g.chance(80) {
		o.RiderID = 1 + g.r.Int64N(int64(g.d.Sizes.Riders))
	}
	o.CreatedAt = g.d.Start.Add(secondsDur(g.r.Int64N(180 * 86400)))
	return o
}

func (g *generator) insertMulti() Query {
	switch {
	case len(g.fresh) > 0 && g.chance(40):
		n := min(len(g.fresh), 1+g.r.IntN(6))
		ids := g.fresh[:n]
		g.fresh = g.fresh[n:]
		var rows []string
		for _, id := range ids {
			for line := range 1 + g.r.IntN(3) {
				it := Item{OrderID: id, LineNo: line + 1, Name: pick(g, itemNames...), Qty: 1 + g.r.IntN(4), Price: 100 + 50*g.r.IntN(60)}
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

// unsupported: joins of sharded rows with rows that live elsewhere (an
// unsharded table, or another order's items) that Courier cannot run on
// any one shard; it must refuse them and keep the connection usable.
// (COUNT(DISTINCT ...) used to be here; it is answered now: distinct_agg.)
func (g *generator) unsupported() Query {
	q := pick(g,
		fmt.Sprintf("SELECT o.order_id, u.name FROM orders o JOIN users u ON u.user_id = o.user_id WHERE o.user_id = %d", g.user()),
		fmt.Sprintf("SELECT o.order_id, u.email FROM orders o JOIN users u ON u.user_id = o.user_id WHERE o.order_id = %d", g.orderID()),
		fmt.Sprintf("SELECT o.order_id, i.order_id, i.item FROM orders o JOIN order_items i ON i.price_cents = o.total_cents WHERE o.user_id = %d", g.user()),
	)
	return Query{SQL: q, Refuse: ErrNotSupported}
}

// mergeWhere is a WHERE clause for shapes that merge: nothing, a
// condition without the key, or a list of keys on several shards.
func (g *generator) mergeWhere() string {
	if g.chance(25) {
		return fmt.Sprintf(" WHERE order_id IN (%s)", g.idList(5+g.r.IntN(20)))
	}
	return g.broadPred("")
}

func (g *generator) limit() string {
	return fmt.Sprintf(" LIMIT %d", pick(g, 0, 1, 1+g.r.IntN(10), 1+g.r.IntN(50)))
}

func (g *generator) orderLimit() Query {
	switch g.r.IntN(5) {
	case 0:
		return Query{SQL: fmt.Sprintf("SELECT * FROM order_items WHERE %s ORDER BY item%s, order_id%s, line_no%s", g.itemPred(""), g.dir(), g.dir(), g.dir()) + g.limit(), Ordered: true}
	case 1:
		return Query{SQL: fmt.Sprintf("SELECT o.order_id, i.line_no, i.item FROM orders o JOIN order_items i ON i.order_id = o.order_id WHERE %s ORDER BY i.price_cents DESC, o.order_id, i.line_no", g.pred("o.")) + g.limit(), Ordered: true}
	}
	return Query{SQL: fmt.Sprintf("SELECT %s FROM orders%s%s", pick(g, orderSelect...), g.mergeWhere(), g.orderBy("")) + g.limit(), Ordered: true}
}

func (g *generator) orderOffset() Query {
	n, off := 1+g.r.IntN(30), pick(g, 1, g.r.IntN(20), g.r.IntN(300), 5000)
	lim := fmt.Sprintf(" LIMIT %d OFFSET %d", n, off)
	if g.chance(30) {
		lim = fmt.Sprintf(" LIMIT %d, %d", off, n)
	}
	if g.chance(20) {
		return Query{SQL: "SELECT order_id, total_cents FROM orders" + g.orderBy("") + lim, Ordered: true}
	}
	return Query{SQL: fmt.Sprintf("SELECT %s FROM orders%s%s", pick(g, orderSelect...), g.mergeWhere(), g.orderBy("")) + lim, Ordered: true}
}

func (g *generator) orderOnly() Query {
	where := " WHERE " + g.pred("")
	if g.chance(30) {
		// Not total: ties are in no defined order, so compare as sets.
		return Query{SQL: fmt.Sprintf("SELECT order_id, status, total_cents FROM orders%s ORDER BY %s%s", where, pick(g, sortable...), g.dir())}
	}
	return Query{SQL: fmt.Sprintf("SELECT %s FROM orders%s%s", pick(g, orderSelect...), where, g.orderBy("")), Ordered: true}
}

// orderAggs and itemAggs are aggregates of one table's columns.
var (
	orderAggs = []string{"COUNT(*)", "COUNT(rider_id)", "SUM(total_cents)", "MIN(total_cents)", "MAX(total_cents)",
		"MIN(created_at)", "MAX(created_at)", "MIN(status)", "MAX(status)", "SUM(rider_id)", "MAX(rider_id)", "COUNT(1)"}
	itemAggs = []string{"COUNT(*)", "SUM(qty)", "SUM(qty * price_cents)", "MIN(price_cents)", "MAX(line_no)"}
)

// aggs picks one to four aggregates.
func (g *generator) aggs(from []string) string {
	xs := slices.Clone(from)
	g.r.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
	return strings.Join(xs[:1+g.r.IntN(4)], ", ")
}

func (g *generator) aggregate() Query {
	if g.chance(25) {
		where := ""
		if g.chance(60) {
			where = " WHERE " + g.itemPred("")
		}
		return Query{SQL: "SELECT " + g.aggs(itemAggs) + " FROM order_items" + where}
	}
	return Query{SQL: "SELECT " + g.aggs(orderAggs) + " FROM orders" + g.mergeWhere()}
}

func (g *generator) avg() Query {
	if g.chance(25) {
		return Query{SQL: fmt.Sprintf("SELECT AVG(qty), AVG(price_cents), COUNT(*) FROM order_items WHERE order_id IN (%s)", g.idList(10+g.r.IntN(20)))}
	}
	sel := pick(g, "AVG(total_cents)", "AVG(rider_id)", "AVG(total_cents), COUNT(*)", "SUM(total_cents), AVG(total_cents), AVG(city_id)")
	return Query{SQL: "SELECT " + sel + " FROM orders" + g.mergeWhere()}
}

// groupCols are the GROUP BY columns of orders; each is unique in the
// grouped result.
var groupCols = []string{"user_id", "status", "city_id", "merchant_id", "status, city_id", "rider_id"}

func (g *generator) groupSelect() (cols, sel string) {
	cols = pick(g, groupCols...)
	aggs := g.aggs(append(slices.Clone(orderAggs), "AVG(total_cents)"))
	return cols, cols + ", " + aggs
}

func (g *generator) groupBy() Query {
	cols, sel := g.groupSelect()
	return Query{SQL: fmt.Sprintf("SELECT %s FROM orders%s GROUP BY %s", sel, g.mergeWhere(), cols)}
}

func (g *generator) groupHaving() Query {
	cols, sel := g.groupSelect()
	having := pick(g,
		fmt.Sprintf("COUNT(*) > %d", g.r.IntN(40)),
		fmt.Sprintf("SUM(total_cents) > %d", g.r.IntN(500000)),
		fmt.Sprintf("MAX(total_cents) < %d", 2000+g.r.IntN(10000)),
		fmt.Sprintf("AVG(total_cents) > %d", 2000+g.r.IntN(4000)),
		fmt.Sprintf("COUNT(rider_id) < COUNT(*) AND MIN(created_at) > '%s'", g.timestamp()),
	)
	return Query{SQL: fmt.Sprintf("SELECT %s FROM orders%s GROUP BY %s HAVING %s", sel, g.broadPred(""), cols, having)}
}

func (g *generator) groupOrderLimit() Query {
	cols := pick(g, groupCols...)
	desc := strings.ReplaceAll(cols, ",", g.dir()+",") + g.dir()
	switch g.r.IntN(3) {
	case 0:
		return Query{SQL: fmt.Sprintf("SELECT %s, COUNT(*) AS n, SUM(total_cents) AS s FROM orders%s GROUP BY %s ORDER BY n DESC, %s", cols, g.broadPred(""), cols, desc) + g.limit(), Ordered: true}
	case 1:
		return Query{SQL: fmt.Sprintf("SELECT %s, AVG(total_cents) AS a, MAX(created_at) FROM orders%s GROUP BY %s ORDER BY a%s, %s", cols, g.mergeWhere(), cols, g.dir(), desc) + g.limit(), Ordered: true}
	}
	return Query{SQL: fmt.Sprintf("SELECT %s, SUM(total_cents) FROM orders%s GROUP BY %s ORDER BY %s", cols, g.mergeWhere(), cols, desc), Ordered: true}
}

func (g *generator) distinct() Query {
	switch g.r.IntN(5) {
	case 0:
		return Query{SQL: "SELECT DISTINCT status FROM orders" + g.mergeWhere()}
	case 1:
		return Query{SQL: fmt.Sprintf("SELECT DISTINCT rider_id FROM orders WHERE city_id = %d AND status = 'placed' ORDER BY rider_id%s", 1+g.r.IntN(orderCities), g.dir()), Ordered: true}
	case 2:
		return Query{SQL: "SELECT DISTINCT qty, price_cents FROM order_items WHERE " + g.itemPred("")}
	}
	return Query{SQL: "SELECT DISTINCT user_id, city_id FROM orders WHERE " + g.pred("")}
}

func (g *generator) joinMerge() Query {
	switch g.r.IntN(3) {
	case 0:
		return Query{SQL: fmt.Sprintf("SELECT c.name, COUNT(*), SUM(i.qty * i.price_cents) FROM orders o JOIN order_items i ON i.order_id = o.order_id JOIN cities c ON c.city_id = o.city_id WHERE o.status = '%s' GROUP BY c.name", pick(g, Statuses...))}
	case 1:
		users := []string{}
		for _, u := range g.d.HeavyUsers[:5] {
			users = append(users, strconv.FormatInt(u, 10))
		}
		return Query{SQL: fmt.Sprintf("SELECT o.user_id, SUM(i.qty) AS q FROM orders o JOIN order_items i ON i.order_id = o.order_id WHERE o.user_id IN (%s) GROUP BY o.user_id ORDER BY q DESC, o.user_id LIMIT %d", strings.Join(users, ", "), 1+g.r.IntN(5)), Ordered: true}
	}
	return Query{SQL: "SELECT c.country, AVG(o.total_cents), COUNT(*) FROM orders o JOIN cities c ON c.city_id = o.city_id" + g.broadPred("o.") + " GROUP BY c.country"}
}

// secondary: reads by a column with a global index (user_id, rider_id,
// merchant_id): a lookup, then only the shards holding the rows, with
// the merge rules on top.
func (g *generator) secondary() Query {
	col, val := "user_id", g.user()
	switch g.r.IntN(3) {
	case 1:
		col, val = "rider_id", int64(1+g.r.IntN(g.d.Sizes.Riders))
	case 2:
		col, val = "merchant_id", int64(1+g.r.IntN(g.d.Sizes.Merchants))
	}
	pred := fmt.Sprintf("%s = %d", col, val)
	if g.r.IntN(3) == 0 {
		pred = fmt.Sprintf("%s IN (%d, %d)", col, val, val+1+int64(g.r.IntN(5)))
	}
	switch g.r.IntN(6) {
	case 0:
		return Query{SQL: fmt.Sprintf("SELECT order_id, status, total_cents FROM orders WHERE %s", pred)}
	case 1:
		return Query{SQL: fmt.Sprintf("SELECT order_id, created_at FROM orders WHERE %s AND status <> 'cancelled' ORDER BY created_at DESC, order_id LIMIT %d", pred, 1+g.r.IntN(10)), Ordered: true}
	case 2:
		return Query{SQL: fmt.Sprintf("SELECT COUNT(*), SUM(total_cents), MIN(created_at), MAX(total_cents) FROM orders WHERE %s", pred)}
	case 3:
		return Query{SQL: fmt.Sprintf("SELECT status, COUNT(*), AVG(total_cents) FROM orders WHERE %s GROUP BY status", pred)}
	case 4:
		return Query{SQL: fmt.Sprintf("SELECT o.order_id, i.item, i.qty FROM orders o JOIN order_items i ON i.order_id = o.order_id WHERE o.%s ORDER BY o.order_id, i.item, i.qty LIMIT 20", pred)}
	}
	return Query{SQL: fmt.Sprintf("SELECT DISTINCT city_id FROM orders WHERE %s ORDER BY city_id", pred), Ordered: true}
}
