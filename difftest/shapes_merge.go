package difftest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// This file makes the reads whose rows must be merged across shards:
// sorted and limited, aggregated, grouped or de-duplicated (and, in
// shapes_distinct.go, aggregates of distinct values), and reads by a
// column with a global index.

// mergeReads makes the shapes of this file and of shapes_distinct.go.
type mergeReads struct{ *generator }

// mergeWhere is a WHERE clause for shapes that merge: nothing, a
// condition without the key, or a list of keys on several shards.
func (g mergeReads) mergeWhere() string {
	if g.chance(25) {
		return fmt.Sprintf(" WHERE order_id IN (%s)", g.idList(5+g.r.IntN(20)))
	}
	return g.broadPred("")
}

func (g mergeReads) limit() string {
	return fmt.Sprintf(" LIMIT %d", pick(g.r, 0, 1, 1+g.r.IntN(10), 1+g.r.IntN(50)))
}

func (g mergeReads) orderLimit() Query {
	switch g.r.IntN(5) {
	case 0:
		return Query{SQL: fmt.Sprintf("SELECT * FROM order_items WHERE %s ORDER BY item%s, order_id%s, line_no%s", g.itemPred(""), g.dir(), g.dir(), g.dir()) + g.limit(), Ordered: true}
	case 1:
		return Query{SQL: fmt.Sprintf("SELECT o.order_id, i.line_no, i.item FROM orders o JOIN order_items i ON i.order_id = o.order_id WHERE %s ORDER BY i.price_cents DESC, o.order_id, i.line_no", g.pred("o.")) + g.limit(), Ordered: true}
	}
	return Query{SQL: fmt.Sprintf("SELECT %s FROM orders%s%s", pick(g.r, orderSelect...), g.mergeWhere(), g.orderBy("")) + g.limit(), Ordered: true}
}

func (g mergeReads) orderOffset() Query {
	n, off := 1+g.r.IntN(30), pick(g.r, 1, g.r.IntN(20), g.r.IntN(300), 5000)
	lim := fmt.Sprintf(" LIMIT %d OFFSET %d", n, off)
	if g.chance(30) {
		lim = fmt.Sprintf(" LIMIT %d, %d", off, n)
	}
	if g.chance(20) {
		return Query{SQL: "SELECT order_id, total_cents FROM orders" + g.orderBy("") + lim, Ordered: true}
	}
	return Query{SQL: fmt.Sprintf("SELECT %s FROM orders%s%s", pick(g.r, orderSelect...), g.mergeWhere(), g.orderBy("")) + lim, Ordered: true}
}

func (g mergeReads) orderOnly() Query {
	where := " WHERE " + g.pred("")
	if g.chance(30) {
		// Not total: ties are in no defined order, so compare as sets.
		return Query{SQL: fmt.Sprintf("SELECT order_id, status, total_cents FROM orders%s ORDER BY %s%s", where, pick(g.r, sortable...), g.dir())}
	}
	return Query{SQL: fmt.Sprintf("SELECT %s FROM orders%s%s", pick(g.r, orderSelect...), where, g.orderBy("")), Ordered: true}
}

// orderAggs and itemAggs are aggregates of one table's columns.
var (
	orderAggs = []string{"COUNT(*)", "COUNT(rider_id)", "SUM(total_cents)", "MIN(total_cents)", "MAX(total_cents)",
		"MIN(created_at)", "MAX(created_at)", "MIN(status)", "MAX(status)", "SUM(rider_id)", "MAX(rider_id)", "COUNT(1)"}
	itemAggs = []string{"COUNT(*)", "SUM(qty)", "SUM(qty * price_cents)", "MIN(price_cents)", "MAX(line_no)"}
)

// aggs picks one to four aggregates.
func (g mergeReads) aggs(from []string) string {
	xs := slices.Clone(from)
	g.r.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
	return strings.Join(xs[:1+g.r.IntN(4)], ", ")
}

func (g mergeReads) aggregate() Query {
	if g.chance(25) {
		where := ""
		if g.chance(60) {
			where = " WHERE " + g.itemPred("")
		}
		return Query{SQL: "SELECT " + g.aggs(itemAggs) + " FROM order_items" + where}
	}
	return Query{SQL: "SELECT " + g.aggs(orderAggs) + " FROM orders" + g.mergeWhere()}
}

func (g mergeReads) avg() Query {
	if g.chance(25) {
		return Query{SQL: fmt.Sprintf("SELECT AVG(qty), AVG(price_cents), COUNT(*) FROM order_items WHERE order_id IN (%s)", g.idList(10+g.r.IntN(20)))}
	}
	sel := pick(g.r, "AVG(total_cents)", "AVG(rider_id)", "AVG(total_cents), COUNT(*)", "SUM(total_cents), AVG(total_cents), AVG(city_id)")
	return Query{SQL: "SELECT " + sel + " FROM orders" + g.mergeWhere()}
}

// groupCols are the GROUP BY columns of orders; each is unique in the
// grouped result.
var groupCols = []string{"user_id", "status", "city_id", "merchant_id", "status, city_id", "rider_id"}

func (g mergeReads) groupSelect() (cols, sel string) {
	cols = pick(g.r, groupCols...)
	aggs := g.aggs(append(slices.Clone(orderAggs), "AVG(total_cents)"))
	return cols, cols + ", " + aggs
}

func (g mergeReads) groupBy() Query {
	cols, sel := g.groupSelect()
	return Query{SQL: fmt.Sprintf("SELECT %s FROM orders%s GROUP BY %s", sel, g.mergeWhere(), cols)}
}

func (g mergeReads) groupHaving() Query {
	cols, sel := g.groupSelect()
	having := pick(g.r,
		fmt.Sprintf("COUNT(*) > %d", g.r.IntN(40)),
		fmt.Sprintf("SUM(total_cents) > %d", g.r.IntN(500000)),
		fmt.Sprintf("MAX(total_cents) < %d", 2000+g.r.IntN(10000)),
		fmt.Sprintf("AVG(total_cents) > %d", 2000+g.r.IntN(4000)),
		fmt.Sprintf("COUNT(rider_id) < COUNT(*) AND MIN(created_at) > '%s'", g.timestamp()),
	)
	return Query{SQL: fmt.Sprintf("SELECT %s FROM orders%s GROUP BY %s HAVING %s", sel, g.broadPred(""), cols, having)}
}

func (g mergeReads) groupOrderLimit() Query {
	cols := pick(g.r, groupCols...)
	desc := strings.ReplaceAll(cols, ",", g.dir()+",") + g.dir()
	switch g.r.IntN(3) {
	case 0:
		return Query{SQL: fmt.Sprintf("SELECT %s, COUNT(*) AS n, SUM(total_cents) AS s FROM orders%s GROUP BY %s ORDER BY n DESC, %s", cols, g.broadPred(""), cols, desc) + g.limit(), Ordered: true}
	case 1:
		return Query{SQL: fmt.Sprintf("SELECT %s, AVG(total_cents) AS a, MAX(created_at) FROM orders%s GROUP BY %s ORDER BY a%s, %s", cols, g.mergeWhere(), cols, g.dir(), desc) + g.limit(), Ordered: true}
	}
	return Query{SQL: fmt.Sprintf("SELECT %s, SUM(total_cents) FROM orders%s GROUP BY %s ORDER BY %s", cols, g.mergeWhere(), cols, desc), Ordered: true}
}

func (g mergeReads) distinct() Query {
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

func (g mergeReads) joinMerge() Query {
	switch g.r.IntN(3) {
	case 0:
		return Query{SQL: fmt.Sprintf("SELECT c.name, COUNT(*), SUM(i.qty * i.price_cents) FROM orders o JOIN order_items i ON i.order_id = o.order_id JOIN cities c ON c.city_id = o.city_id WHERE o.status = '%s' GROUP BY c.name", pick(g.r, Statuses...))}
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
func (g mergeReads) secondary() Query {
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
