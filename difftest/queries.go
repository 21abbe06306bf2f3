package difftest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Query is one generated statement, or a short script of statements on
// one session, and how its answers are judged.
type Query struct {
	// Shape names what the statement exercises (see Shapes).
	Shape string
	// SQL is the statement; empty when Steps hold a script.
	SQL string
	// Ordered says the statement's ORDER BY is total (it ends with a
	// unique column), so rows are compared in order; otherwise they are
	// compared as multisets.
	Ordered bool
	// Write marks a statement that changes data: its error and affected
	// row count are compared, then the reads in Then.
	Write bool
	Then  []Query
	// Refuse, when not 0, is the error number Courier must answer with
	// (the reference is only asked to check that the statement is valid).
	Refuse uint16

	// Steps are a script's statements, run in order on one session and
	// each answer compared; Then follows them.
	Steps []Query
	// Txn makes Steps one transaction in every way: BEGIN, the steps,
	// COMMIT.
	Txn bool
	// Batch sends Steps as one COM_QUERY of several statements (the client
	// set multiStatements), comparing every statement's affected rows, or
	// every result set in order when the batch reads; prepared, its steps
	// go one by one on the same connection.
	Batch bool
	// OneShard says every statement (Steps and Then included) reaches one
	// shard only, by its key.
	OneShard bool
	// Keys are the orders a write changes (its items included), so that a
	// test can set them right again after a write that went wrong.
	Keys []int64
	// SecondShard marks the step of a transaction that first reaches a
	// second shard: a Courier that rejects multi-shard transactions must
	// refuse it with 1235 and keep the transaction.
	SecondShard bool
}

// statements are the statements q runs before Then: its steps, or itself.
func (q Query) statements() []Query {
	if q.Steps != nil {
		return q.Steps
	}
	return []Query{q}
}

// ErrNotSupported is MySQL's "not supported" error number, Courier's
// answer to what it cannot run correctly over shards.
const ErrNotSupported = 1235

// shape is a kind of statement and how to make one.
type shape struct {
	name   string
	weight int // its share of the generated statements
	// make makes one statement; of builds it from a family's method.
	make func(g *generator) Query
	// refusable: Courier may answer 1235 instead (a correct answer needs
	// more than any shard can give); when it answers, it must be right.
	refusable bool
}

// family is a family of shapes: the generator seen through a type whose
// methods make statements of related shapes (directReads, writes,
// edgeReads, scripts, mergeReads, each in a shapes file of its own),
// while the generator's own methods draw what they share: keys, users,
// conditions, orderings and new orders.
type family interface{ ~struct{ *generator } }

// of is the make of a family's method m.
func of[F family](m func(F) Query) func(*generator) Query {
	return func(g *generator) Query { return m(F{g}) }
}

// shapes are every shape, in report order: first what one shard (or the
// default cluster) answers, or what needs only every shard's rows
// appended; then statements that are easy to get subtly wrong; then
// those whose rows must be merged across shards.
var shapes = []shape{
	{name: "point", weight: 12, make: of(directReads.point)},
	{name: "point_single_shard", weight: 5, make: of(directReads.pointSingleShard)},
	{name: "in_list", weight: 9, make: of(directReads.inList)},
	{name: "or_keys", weight: 4, make: of(directReads.orKeys)},
	{name: "scatter", weight: 8, make: of(directReads.scatter)},
	{name: "join_items", weight: 6, make: of(directReads.joinItems)},
	{name: "join_cities", weight: 5, make: of(directReads.joinCities)},
	{name: "reference", weight: 2, make: of(directReads.reference)},
	{name: "unsharded", weight: 2, make: of(directReads.unsharded)},
	{name: "update_key", weight: 4, make: of(writes.updateKey)},
	{name: "delete_key", weight: 2, make: of(writes.deleteKey)},
	{name: "insert_multi", weight: 3, make: of(writes.insertMulti)},
	{name: "unsupported", weight: 2, make: of(edgeReads.unsupported)},
	{name: "key_literal", weight: 3, make: of(edgeReads.keyLiteral)},
	{name: "expr_columns", weight: 2, make: of(edgeReads.exprColumns)},
	{name: "txn_keys", weight: 5, make: of(scripts.txnKeys)},
	{name: "batch", weight: 4, make: of(scripts.batch)},
	{name: "read_your_writes", weight: 16, make: of(scripts.readYourWrites)},
	{name: "union", weight: 1, make: of(edgeReads.union), refusable: true},
	{name: "subquery", weight: 2, make: of(edgeReads.subquery), refusable: true},
	{name: "window", weight: 1, make: of(edgeReads.window), refusable: true},
	{name: "reference_outer", weight: 1, make: of(edgeReads.referenceOuter), refusable: true},
	{name: "order_limit", weight: 7, make: of(mergeReads.orderLimit)},
	{name: "order_offset", weight: 5, make: of(mergeReads.orderOffset)},
	{name: "order_only", weight: 2, make: of(mergeReads.orderOnly)},
	{name: "aggregate", weight: 6, make: of(mergeReads.aggregate)},
	{name: "avg", weight: 3, make: of(mergeReads.avg)},
	{name: "group_by", weight: 4, make: of(mergeReads.groupBy)},
	{name: "group_having", weight: 3, make: of(mergeReads.groupHaving)},
	{name: "group_order_limit", weight: 4, make: of(mergeReads.groupOrderLimit)},
	{name: "secondary", weight: 6, make: of(mergeReads.secondary)},
	{name: "distinct", weight: 3, make: of(mergeReads.distinct)},
	{name: "join_merge", weight: 2, make: of(mergeReads.joinMerge)},
	{name: "distinct_agg", weight: 6, make: of(mergeReads.distinctAgg)},
}

// needsMerge are the shapes whose answer must be merged across shards
// (sorted, limited, aggregated, grouped or de-duplicated), beyond
// appending each shard's rows.
var needsMerge = map[string]bool{
	"order_limit": true, "order_offset": true, "order_only": true,
	"aggregate": true, "avg": true,
	"group_by": true, "group_having": true, "group_order_limit": true,
	"distinct": true, "join_merge": true, "distinct_agg": true,
}

// Shapes lists the shape names in report order.
func Shapes() []string {
	var out []string
	for _, s := range shapes {
		out = append(out, s.name)
	}
	return out
}

// NeedsMerge reports whether a shape's answer must be merged across
// shards.
func NeedsMerge(shape string) bool { return needsMerge[shape] }

// Refusable reports whether Courier may refuse a shape's statements with
// 1235 (rather than answer them).
func Refusable(shape string) bool {
	for _, s := range shapes {
		if s.name == shape {
			return s.refusable
		}
	}
	return false
}

// Options say what Queries generates.
type Options struct {
	// Seed picks the statements; N is how many.
	Seed uint64
	N    int
	// FirstKey is where the keys of new orders start (and, offset by
	// FirstKey/100, the ids of new users): lists run on the same servers
	// must be given ranges that do not meet. Default 500,000,000.
	FirstKey int64
	// ShardOf is the shard that owns an order key, so that statements can
	// be made to reach one shard or two on purpose. Nil means one shard.
	ShardOf func(key int64) int
}

// Queries generates o.N statements over d from o.Seed, shapes drawn by
// weight. Writes change d's rows only on the servers: later statements
// are still generated from d's original keys, which keeps the list
// independent of the answers. The same seed with another FirstKey gives
// the same statements with other new keys.
func Queries(d *Dataset, o Options) []Query {
	if o.FirstKey == 0 {
		o.FirstKey = 500_000_000
	}
	if o.ShardOf == nil {
		o.ShardOf = func(int64) int { return 0 }
	}
	seed, n := o.Seed, o.N
	g := &generator{
		r:        rand.New(rand.NewPCG(seed, seed^0x2545f4914f6cdd1d)),
		d:        d,
		nextID:   o.FirstKey,
		nextUser: o.FirstKey / 100,
		shardOf:  o.ShardOf,
	}
	g.present = make(map[int64]bool, len(d.Orders))
	for _, o := range d.Orders {
		g.present[o.ID] = true
	}
	total := 0
	for _, s := range shapes {
		total += s.weight
	}
	out := make([]Query, 0, n)
	for range n {
		pick := g.r.IntN(total)
		for _, s := range shapes {
			if pick < s.weight {
				q := s.make(g)
				q.Shape = s.name
				for i := range q.Then {
					q.Then[i].Shape = s.name
				}
				for i := range q.Steps {
					q.Steps[i].Shape = s.name
				}
				out = append(out, q)
				break
			}
			pick -= s.weight
		}
	}
	return out
}

// generator holds the random source and what the statements so far have
// created. Its methods draw the pieces that the shape families share;
// each family (see family) makes its shapes from them.
type generator struct {
	r       *rand.Rand
	d       *Dataset
	present map[int64]bool
	nextID  int64   // the next fresh order id for INSERTs
	fresh   []int64 // inserted orders that have no items yet
	// nextUser is the next user id no order has (read-your-writes rounds).
	nextUser int64
	shardOf  func(int64) int
}

// oneShard reports whether every key is owned by the same shard.
func (g *generator) oneShard(keys ...int64) bool {
	for _, k := range keys[1:] {
		if g.shardOf(k) != g.shardOf(keys[0]) {
			return false
		}
	}
	return true
}

// pick returns one of xs, drawn from r.
func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

// chance is true with probability p percent.
func (g *generator) chance(p int) bool { return g.r.IntN(100) < p }

// orderID returns a key: mostly one that exists, sometimes one between
// existing keys that does not.
func (g *generator) orderID() int64 {
	if g.chance(90) {
		return g.d.Orders[g.r.IntN(len(g.d.Orders))].ID
	}
	for {
		id := 1000 + g.r.Int64N(4*int64(len(g.d.Orders)))
		if !g.present[id] {
			return id
		}
	}
}

// idList returns n keys (occasionally repeating one) as an SQL list.
func (g *generator) idList(n int) string {
	_, list := g.keyList(n)
	return list
}

// keyList is idList with its keys.
func (g *generator) keyList(n int) ([]int64, string) {
	keys := make([]int64, 0, n)
	ids := make([]string, 0, n)
	for range n {
		var k int64
		if len(keys) > 0 && g.chance(3) {
			k = keys[g.r.IntN(len(keys))]
		} else {
			k = g.orderID()
		}
		keys = append(keys, k)
		ids = append(ids, strconv.FormatInt(k, 10))
	}
	return keys, strings.Join(ids, ", ")
}

func (g *generator) user() int64 {
	if g.chance(60) {
		return pick(g.r, g.d.HeavyUsers...)
	}
	return 1 + g.r.Int64N(int64(g.d.Sizes.Users))
}

func (g *generator) timestamp() string {
	span := g.d.End.Unix() - g.d.Start.Unix()
	return Timestamp(g.d.Start.Add(secondsDur(g.r.Int64N(span))))
}

// createdWindow is a created_at range of a few hours to a few days.
func (g *generator) createdWindow() string {
	from := g.d.Start.Add(secondsDur(g.r.Int64N(170 * 86400)))
	to := from.Add(secondsDur(3600 + g.r.Int64N(4*86400)))
	return fmt.Sprintf("created_at >= '%s' AND created_at < '%s'", Timestamp(from), Timestamp(to))
}

// pred is a WHERE condition on orders that does not name the key; q
// qualifies its columns ("o." or "").
func (g *generator) pred(q string) string {
	c := func(s string) string { return strings.ReplaceAll(s, "@", q) }
	switch g.r.IntN(12) {
	case 0, 1:
		return c(fmt.Sprintf("@user_id = %d", g.user()))
	case 2:
		return c(fmt.Sprintf("@merchant_id = %d", 1+g.r.IntN(g.d.Sizes.Merchants)))
	case 3:
		return c(fmt.Sprintf("@rider_id = %d", 1+g.r.IntN(g.d.Sizes.Riders)))
	case 4:
		return c(fmt.Sprintf("@rider_id IS NULL AND @city_id = %d", 1+g.r.IntN(orderCities)))
	case 5:
		return c(fmt.Sprintf("@status = '%s' AND @city_id = %d AND @total_cents > %d", pick(g.r, Statuses...), 1+g.r.IntN(orderCities), 1000+g.r.IntN(9000)))
	case 6:
		return c(fmt.Sprintf("@status IN ('placed', 'accepted') AND @total_cents > %d", 2000+g.r.IntN(15000)))
	case 7:
		lo := 300 + g.r.IntN(15000)
		return c(fmt.Sprintf("@total_cents BETWEEN %d AND %d", lo, lo+g.r.IntN(100)))
	case 8:
		return c(strings.ReplaceAll(g.createdWindow(), "created_at", "@created_at"))
	case 9:
		return c(fmt.Sprintf("(@user_id = %d OR @merchant_id = %d) AND @status <> 'delivered'", g.user(), 1+g.r.IntN(g.d.Sizes.Merchants)))
	case 10:
		return c(fmt.Sprintf("@rider_id > %d AND @status = 'picked_up' AND @city_id IN (%d, %d)", g.r.IntN(g.d.Sizes.Riders), 1+g.r.IntN(orderCities), 1+g.r.IntN(orderCities)))
	default:
		return c(fmt.Sprintf("@user_id = %d AND @total_cents >= %d", g.user(), 300+g.r.IntN(5000)))
	}
}

// broadPred is a WHERE clause of pred, or nothing (every row), or a
// condition no row meets; q qualifies its columns.
func (g *generator) broadPred(q string) string {
	switch g.r.IntN(10) {
	case 0, 1:
		return ""
	case 2:
		return " WHERE " + q + "total_cents < 0"
	case 3:
		return fmt.Sprintf(" WHERE %sstatus = '%s'", q, pick(g.r, Statuses...))
	}
	return " WHERE " + g.pred(q)
}

// orderSelect are select lists of orders.
var orderSelect = []string{
	"*",
	"order_id, status",
	"order_id, user_id, total_cents, created_at",
	"order_id, rider_id, city_id",
	"user_id, merchant_id, status",
	"order_id, total_cents / 100 AS total, DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f') AS at",
	"order_id, CONCAT(status, '/', city_id) AS tag, IF(rider_id IS NULL, 'none', rider_id) AS rider",
	"order_id AS id, user_id AS uid, created_at + INTERVAL 1 DAY AS next_day",
}

// sortable are orders' columns an ORDER BY may name.
var sortable = []string{"user_id", "merchant_id", "rider_id", "city_id", "status", "total_cents", "created_at"}

// orderBy returns an ORDER BY of one to three columns, each ASC or DESC,
// that ends with the key, so it is total.
func (g *generator) orderBy(q string) string {
	cols := slices.Clone(sortable)
	g.r.Shuffle(len(cols), func(i, j int) { cols[i], cols[j] = cols[j], cols[i] })
	var terms []string
	for _, c := range cols[:g.r.IntN(3)] {
		terms = append(terms, q+c+g.dir())
	}
	terms = append(terms, q+"order_id"+g.dir())
	return " ORDER BY " + strings.Join(terms, ", ")
}

func (g *generator) dir() string { return pick(g.r, "", " ASC", " DESC", " DESC") }

// itemPred is a WHERE condition on order_items without the key.
func (g *generator) itemPred(q string) string {
	switch g.r.IntN(4) {
	case 0:
		return fmt.Sprintf("%sitem = %s AND %sqty > %d", q, Quote(pick(g.r, itemNames...)), q, g.r.IntN(3))
	case 1:
		return fmt.Sprintf("%sitem LIKE %s", q, Quote(pick(g.r, "caf%", "%juice", "pizza%", "%\\_%", "%🍣%", "%'%")))
	case 2:
		return fmt.Sprintf("%sprice_cents = %d AND %sline_no = %d", q, 100+50*g.r.IntN(60), q, 1+g.r.IntN(4))
	}
	return fmt.Sprintf("%sqty * %sprice_cents > %d", q, q, 6000+g.r.IntN(8000))
}

func secondsDur(s int64) time.Duration { return time.Duration(s) * time.Second }
