package difftest

import (
	"fmt"
	"strconv"
	"strings"
)

// This file makes the shapes that are easy to get subtly wrong over
// shards: keys written in unusual ways, statements whose text a router
// may rewrite, and reads whose meaning changes when each shard answers
// for its own rows only; and the statements Courier must or may refuse.

// edgeReads makes the shapes of this file.
type edgeReads struct{ *generator }

// existing returns a key that exists, sometimes a negative one.
func (g *generator) existing() int64 {
	if g.chance(10) {
		return g.d.Orders[len(g.d.Orders)-1-g.r.IntN(50)].ID
	}
	return g.d.Orders[1+g.r.IntN(len(g.d.Orders)-1)].ID
}

// keyLiteral: the key compared with literals MariaDB converts (strings
// compare as numbers, so '12.0' and '12abc' both find key 12, and a
// string that is no number finds key 0).
func (g edgeReads) keyLiteral() Query {
	id := g.existing()
	n := strconv.FormatInt(id, 10)
	lit := pick(g.r, "'"+n+"'", "' "+n+"'", "'"+n+" '", "'0"+n+"'", "'"+n+".0'", "'"+n+"abc'", n+".0", n+" + 0",
		"'abc'", "''", fmt.Sprintf("0x%x", max(id, 0)), "'"+strconv.FormatInt(id, 10)+"e0'")
	if strings.HasPrefix(n, "-") {
		lit = pick(g.r, n, "'"+n+"'", "("+n+")", "-'"+n[1:]+"'")
	}
	sel := pick(g.r, "order_id, status", "*")
	if g.chance(40) {
		return Query{SQL: fmt.Sprintf("SELECT %s FROM orders WHERE order_id IN (%s, %d, %s)", sel, lit, g.existing(), pick(g.r, "'abc'", "'1e3'", strconv.FormatInt(g.existing(), 10)))}
	}
	return Query{SQL: fmt.Sprintf("SELECT %s FROM orders WHERE order_id = %s", sel, lit)}
}

// exprs are select-list expressions without an alias: the client sees
// their text as the column name.
var exprs = []string{
	"total_cents DIV 3", "total_cents MOD 7", "CAST(total_cents AS CHAR)", "IF(rider_id IS NULL, 'none', 'some')",
	"COALESCE(rider_id, -1)", "created_at + INTERVAL 1 DAY", "DATE_FORMAT(created_at, '%Y-%m')", "status = 'placed'",
	"NOT (total_cents > 5000)", "CASE WHEN total_cents > 5000 THEN 'big' ELSE 'small' END", "UPPER(status)",
	"total_cents / 100", "ROUND(total_cents / 3, 2)", "x'41'", "b'101'", "\"quoted\"", "total_cents BETWEEN 1000 AND 2000",
}

// exprColumns: expressions read from several shards, whose column names
// must be the client's text.
func (g edgeReads) exprColumns() Query {
	var sel []string
	for range 1 + g.r.IntN(3) {
		sel = append(sel, pick(g.r, exprs...))
	}
	where := fmt.Sprintf("order_id IN (%s)", g.idList(4+g.r.IntN(10)))
	if g.chance(30) {
		where = fmt.Sprintf("order_id = %d OR order_id = %d OR order_id = %d", g.orderID(), g.orderID(), g.orderID())
	}
	return Query{SQL: fmt.Sprintf("SELECT order_id, %s FROM orders WHERE %s", strings.Join(sel, ", "), where)}
}

func (g edgeReads) union() Query {
	all := pick(g.r, " UNION ", " UNION ALL ")
	switch g.r.IntN(4) {
	case 0:
		return Query{SQL: fmt.Sprintf("SELECT order_id, status FROM orders WHERE order_id = %d%sSELECT order_id, status FROM orders WHERE order_id = %d", g.existing(), all, g.existing())}
	case 1:
		return Query{SQL: fmt.Sprintf("SELECT order_id FROM orders WHERE user_id = %d%sSELECT order_id FROM orders WHERE merchant_id = %d", g.user(), all, 1+g.r.IntN(g.d.Sizes.Merchants))}
	case 2:
		return Query{SQL: fmt.Sprintf("SELECT order_id FROM orders WHERE order_id = %d%sSELECT 1", g.existing(), all)}
	}
	return Query{SQL: fmt.Sprintf("SELECT city_id FROM cities%sSELECT city_id FROM orders WHERE user_id = %d", all, g.user())}
}

// subquery: subqueries in reads that reach several shards. Some are
// right on every shard (correlated on the key, or over a reference
// table); others need every shard's rows (an aggregate, a derived table
// that groups, a lookup of a key that lives on one shard).
func (g edgeReads) subquery() Query {
	switch g.r.IntN(8) {
	case 0:
		return Query{SQL: fmt.Sprintf("SELECT order_id, total_cents FROM orders WHERE city_id = %d AND total_cents > (SELECT AVG(total_cents) * 2 FROM orders)", 1+g.r.IntN(orderCities))}
	case 1:
		return Query{SQL: fmt.Sprintf("SELECT order_id FROM orders WHERE total_cents = (SELECT MAX(total_cents) FROM orders WHERE user_id = %d)", g.user())}
	case 2:
		return Query{SQL: fmt.Sprintf("SELECT * FROM (SELECT user_id, COUNT(*) AS n FROM orders GROUP BY user_id) t WHERE n > %d", 10+g.r.IntN(100))}
	case 3:
		return Query{SQL: fmt.Sprintf("SELECT t.order_id, t.user_id FROM (SELECT order_id, user_id FROM orders WHERE user_id = %d) t", g.user())}
	case 4:
		return Query{SQL: fmt.Sprintf("SELECT o.order_id FROM orders o WHERE o.user_id = %d AND EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.order_id AND i.qty > 1)", g.user())}
	case 5:
		return Query{SQL: fmt.Sprintf("SELECT o.order_id FROM orders o WHERE o.user_id = %d AND o.city_id IN (SELECT city_id FROM cities WHERE country = 'PT')", g.user())}
	case 6:
		return Query{SQL: fmt.Sprintf("SELECT order_id, status FROM orders WHERE user_id IN (SELECT user_id FROM orders WHERE order_id = %d)", g.existing())}
	}
	return Query{SQL: fmt.Sprintf("SELECT order_id FROM orders WHERE user_id = %d AND total_cents > ALL (SELECT total_cents FROM orders WHERE user_id = %d)", g.user(), g.user())}
}

// window: window functions over rows of several shards.
func (g edgeReads) window() Query {
	return pick(g.r,
		Query{SQL: fmt.Sprintf("SELECT order_id, ROW_NUMBER() OVER (ORDER BY order_id) FROM orders WHERE user_id = %d", g.user())},
		Query{SQL: fmt.Sprintf("SELECT order_id, RANK() OVER (PARTITION BY city_id ORDER BY total_cents DESC, order_id) FROM orders WHERE user_id = %d", g.user())},
		Query{SQL: fmt.Sprintf("SELECT order_id, LAG(order_id) OVER (ORDER BY created_at, order_id) FROM orders WHERE order_id IN (%s)", g.idList(8))},
		Query{SQL: fmt.Sprintf("SELECT order_id, COUNT(*) OVER () FROM orders WHERE user_id = %d", g.user())},
	)
}

// referenceOuter: a reference table's rows with what the sharded tables
// hold about them; every shard holds every city, but only some orders.
func (g edgeReads) referenceOuter() Query {
	u := g.user()
	return pick(g.r,
		Query{SQL: fmt.Sprintf("SELECT c.name, o.order_id FROM cities c LEFT JOIN orders o ON o.city_id = c.city_id AND o.user_id = %d", u)},
		Query{SQL: fmt.Sprintf("SELECT o.order_id, c.name FROM orders o RIGHT JOIN cities c ON c.city_id = o.city_id AND o.user_id = %d", u)},
		Query{SQL: fmt.Sprintf("SELECT c.name FROM cities c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.city_id = c.city_id AND o.user_id = %d)", u)},
		Query{SQL: fmt.Sprintf("SELECT c.name FROM cities c WHERE c.city_id IN (SELECT city_id FROM orders WHERE user_id = %d)", u)},
		Query{SQL: "SELECT c.name, (SELECT COUNT(*) FROM orders o WHERE o.city_id = c.city_id AND o.status = 'placed') FROM cities c"},
	)
}

// unsupported: joins of sharded rows with rows that live elsewhere (an
// unsharded table, or another order's items) that Courier cannot run on
// any one shard; it must refuse them and keep the connection usable.
// (COUNT(DISTINCT ...) used to be here; it is answered now: distinct_agg.)
func (g edgeReads) unsupported() Query {
	q := pick(g.r,
		fmt.Sprintf("SELECT o.order_id, u.name FROM orders o JOIN users u ON u.user_id = o.user_id WHERE o.user_id = %d", g.user()),
		fmt.Sprintf("SELECT o.order_id, u.email FROM orders o JOIN users u ON u.user_id = o.user_id WHERE o.order_id = %d", g.orderID()),
		fmt.Sprintf("SELECT o.order_id, i.order_id, i.item FROM orders o JOIN order_items i ON i.price_cents = o.total_cents WHERE o.user_id = %d", g.user()),
	)
	return Query{SQL: q, Refuse: ErrNotSupported}
}
