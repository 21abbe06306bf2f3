package difftest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// distinctAggs are aggregates over distinct values of orders' columns,
// and GROUP_CONCAT: no sum of the shards' answers gives them, Courier
// needs the values themselves (and MariaDB's collation and ENUM order to
// tell which are the same and how they sort). Mixed with plain ones.
var distinctAggs = []string{
	"COUNT(DISTINCT user_id)", "COUNT(DISTINCT rider_id)", "COUNT(DISTINCT status)",
	"COUNT(DISTINCT rider_id, city_id)", "COUNT(DISTINCT user_id, status)",
	"SUM(DISTINCT total_cents)", "AVG(DISTINCT total_cents)", "SUM(DISTINCT city_id)", "AVG(DISTINCT rider_id)",
	"GROUP_CONCAT(DISTINCT status ORDER BY status)", "GROUP_CONCAT(DISTINCT city_id ORDER BY city_id DESC SEPARATOR '|')",
	"COUNT(*)", "MAX(total_cents)",
}

// itemDistinctAggs are the same over order_items; item names that differ
// only by case or accent are one value under the default collation.
var itemDistinctAggs = []string{
	"COUNT(DISTINCT item)", "COUNT(DISTINCT qty, price_cents)", "AVG(DISTINCT price_cents)", "SUM(DISTINCT qty)",
	"GROUP_CONCAT(DISTINCT qty ORDER BY qty DESC)", "COUNT(*)",
}

// distinctAgg: COUNT, SUM and AVG of DISTINCT values and GROUP_CONCAT
// over several shards, alone or grouped, with HAVING and ORDER BY ...
// LIMIT on top.
func (g mergeReads) distinctAgg() Query {
	switch g.r.IntN(7) {
	case 0, 1:
		return Query{SQL: "SELECT " + g.aggs(distinctAggs) + " FROM orders" + g.mergeWhere()}
	case 2:
		cols := pick(g.r, "status", "city_id", "status, city_id")
		return Query{SQL: fmt.Sprintf("SELECT %s, %s FROM orders%s GROUP BY %s", cols, g.aggs(distinctAggs), g.mergeWhere(), cols)}
	case 3:
		col := pick(g.r, "status", "city_id", "merchant_id")
		return Query{SQL: fmt.Sprintf("SELECT %s, COUNT(DISTINCT user_id) AS users, SUM(DISTINCT total_cents) AS s, AVG(DISTINCT total_cents) FROM orders%s GROUP BY %s HAVING COUNT(DISTINCT user_id) > %d ORDER BY users%s, %s%s",
			col, g.broadPred(""), col, g.r.IntN(30), g.dir(), col, g.dir()) + g.limit(), Ordered: true}
	case 4:
		return Query{SQL: fmt.Sprintf("SELECT COUNT(*), GROUP_CONCAT(order_id ORDER BY created_at DESC, order_id SEPARATOR ',') FROM orders WHERE user_id = %d", g.user())}
	case 5:
		users := slices.Clone(g.d.HeavyUsers[:3+g.r.IntN(5)])
		users = append(users, g.user())
		list := make([]string, len(users))
		for i, u := range users {
			list[i] = strconv.FormatInt(u, 10)
		}
		if g.chance(50) {
			return Query{SQL: fmt.Sprintf("SELECT user_id, COUNT(DISTINCT city_id), GROUP_CONCAT(DISTINCT status ORDER BY status DESC) FROM orders WHERE user_id IN (%s) GROUP BY user_id", strings.Join(list, ", "))}
		}
		return Query{SQL: fmt.Sprintf("SELECT city_id, GROUP_CONCAT(status ORDER BY total_cents DESC, order_id SEPARATOR ' ') FROM orders WHERE %s GROUP BY city_id HAVING COUNT(DISTINCT status) > 1 ORDER BY city_id", g.pred("")), Ordered: true}
	}
	where := ""
	if g.chance(60) {
		where = " WHERE " + g.itemPred("")
	}
	if g.chance(40) {
		return Query{SQL: fmt.Sprintf("SELECT line_no, %s FROM order_items%s GROUP BY line_no", g.aggs(itemDistinctAggs), where)}
	}
	return Query{SQL: "SELECT " + g.aggs(itemDistinctAggs) + " FROM order_items" + where}
}
