package difftest

import (
	"fmt"
	"strings"
)

// This file makes the reads that one shard (or the default cluster)
// answers alone, or whose answer is every shard's rows appended: by key,
// by a list of keys, without the key, joined with items or the reference
// table, and of unsharded tables.

// directReads makes the shapes of this file.
type directReads struct{ *generator }

func (g directReads) point() Query {
	id := g.orderID()
	switch g.r.IntN(6) {
	case 0:
		return Query{SQL: fmt.Sprintf("SELECT * FROM order_items WHERE order_id = %d", id), OneShard: true}
	case 1:
		return Query{SQL: fmt.Sprintf("SELECT %s FROM orders WHERE order_id = '%d'", pick(g.r, orderSelect...), id), OneShard: true}
	}
	return Query{SQL: fmt.Sprintf("SELECT %s FROM orders WHERE order_id = %d", pick(g.r, orderSelect...), id), OneShard: true}
}

// pointSingleShard: sorting, limits and aggregates that one shard answers
// because the key pins the rows to it.
func (g directReads) pointSingleShard() Query {
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

func (g directReads) inList() Query {
	list := g.idList(2 + g.r.IntN(30))
	switch g.r.IntN(5) {
	case 0:
		return Query{SQL: fmt.Sprintf("SELECT * FROM order_items WHERE order_id IN (%s) AND line_no <= 2", list)}
	case 1:
		return Query{SQL: fmt.Sprintf("SELECT %s FROM orders WHERE status <> 'cancelled' AND order_id IN (%s)", pick(g.r, orderSelect...), list)}
	case 2:
		return Query{SQL: fmt.Sprintf("SELECT %s FROM orders WHERE order_id IN (%s) AND total_cents > %d", pick(g.r, orderSelect...), list, 1000+g.r.IntN(5000))}
	}
	return Query{SQL: fmt.Sprintf("SELECT %s FROM orders WHERE order_id IN (%s)", pick(g.r, orderSelect...), list)}
}

func (g directReads) orKeys() Query {
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
	return Query{SQL: fmt.Sprintf("SELECT %s FROM orders WHERE %s", pick(g.r, orderSelect...), where)}
}

// scatter: reads without the key and without anything to merge; every
// shard's rows are the answer.
func (g directReads) scatter() Query {
	switch g.r.IntN(8) {
	case 0:
		return Query{SQL: "SELECT * FROM order_items WHERE " + g.itemPred("")}
	case 1:
		return Query{SQL: fmt.Sprintf("SELECT order_id, user_id FROM orders WHERE user_id = %d AND order_id NOT IN (%s)", g.user(), g.idList(5))}
	case 2:
		return Query{SQL: fmt.Sprintf("SELECT %s FROM orders WHERE %d = order_id", pick(g.r, orderSelect...), g.orderID())}
	case 3:
		return Query{SQL: "SELECT o.order_id, o.created_at FROM orders AS o WHERE " + g.pred("o.")}
	}
	return Query{SQL: fmt.Sprintf("SELECT %s FROM orders WHERE %s", pick(g.r, orderSelect...), g.pred(""))}
}

// keyOrPred is a WHERE condition on orders aliased o: its key, a list of
// keys, or a condition without the key.
func (g directReads) keyOrPred() string {
	switch g.r.IntN(3) {
	case 0:
		return fmt.Sprintf("o.order_id = %d", g.orderID())
	case 1:
		return fmt.Sprintf("o.order_id IN (%s)", g.idList(2+g.r.IntN(10)))
	}
	return g.pred("o.")
}

// joinItems: orders with their items, a join each shard answers alone.
func (g directReads) joinItems() Query {
	switch g.r.IntN(5) {
	case 0:
		return Query{SQL: "SELECT o.order_id, o.status, i.line_no, i.item, i.qty FROM orders o LEFT JOIN order_items i ON i.order_id = o.order_id WHERE " + g.keyOrPred()}
	case 1:
		return Query{SQL: fmt.Sprintf("SELECT i.*, o.user_id FROM order_items i JOIN orders o ON o.order_id = i.order_id WHERE %s AND o.status = '%s'", g.itemPred("i."), pick(g.r, Statuses...))}
	case 2:
		return Query{SQL: fmt.Sprintf("SELECT o.order_id, i.item FROM orders o, order_items i WHERE o.order_id = i.order_id AND o.user_id = %d", g.user())}
	case 3:
		return Query{SQL: fmt.Sprintf("SELECT o.total_cents, i.price_cents * i.qty AS line FROM orders o JOIN order_items i ON o.order_id = i.order_id WHERE i.order_id IN (%s)", g.idList(2+g.r.IntN(10)))}
	}
	return Query{SQL: "SELECT o.order_id, o.status, i.line_no, i.item, i.qty FROM orders o JOIN order_items i ON i.order_id = o.order_id WHERE " + g.keyOrPred()}
}

// joinCities: orders with the reference table, which every shard holds.
func (g directReads) joinCities() Query {
	switch g.r.IntN(4) {
	case 0:
		return Query{SQL: fmt.Sprintf("SELECT o.order_id, o.total_cents, c.timezone FROM cities c JOIN orders o ON o.city_id = c.city_id WHERE c.country = '%s' AND o.user_id = %d",
			pick(g.r, "PT", "ES", "BR", "DE"), g.user())}
	case 1:
		return Query{SQL: "SELECT o.order_id, i.item, c.name FROM orders o JOIN order_items i ON i.order_id = o.order_id JOIN cities c ON c.city_id = o.city_id WHERE " + g.keyOrPred()}
	}
	return Query{SQL: "SELECT o.order_id, c.name, c.country FROM orders o JOIN cities c ON c.city_id = o.city_id WHERE " + g.keyOrPred()}
}

func (g directReads) reference() Query {
	return pick(g.r,
		Query{SQL: "SELECT * FROM cities"},
		Query{SQL: fmt.Sprintf("SELECT name, timezone FROM cities WHERE country = '%s'", pick(g.r, "PT", "ES", "NO", "XX"))},
		Query{SQL: "SELECT country, COUNT(*) FROM cities GROUP BY country"},
		Query{SQL: fmt.Sprintf("SELECT name FROM cities ORDER BY name DESC LIMIT %d", 1+g.r.IntN(5)), Ordered: true},
		Query{SQL: "SELECT DISTINCT timezone FROM cities"},
	)
}

func (g directReads) unsharded() Query {
	return pick(g.r,
		Query{SQL: fmt.Sprintf("SELECT user_id, name, email FROM users WHERE city_id = %d ORDER BY created_at DESC, user_id LIMIT %d", 1+g.r.IntN(orderCities), 1+g.r.IntN(20)), Ordered: true},
		Query{SQL: "SELECT vehicle, COUNT(*) FROM riders GROUP BY vehicle"},
		Query{SQL: "SELECT * FROM merchants WHERE rating IS NULL OR rating > 4.5"},
		Query{SQL: "SELECT AVG(rating), COUNT(rating), COUNT(*) FROM merchants"},
		Query{SQL: "SELECT COUNT(DISTINCT city_id) FROM users"},
	)
}
