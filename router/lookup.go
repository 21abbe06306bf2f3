package router

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/router/vindex"
	"github.com/courier-proxy/courier/sqlerr"
)

// Lookup reads a global index: the sharding keys of the rows whose
// indexed column has the statement's values.
type Lookup struct {
	Index *GlobalIndex
	// Queries are the index reads: one per index shard (Shard nil: the
	// index table is unsharded, on the default cluster). Each returns one
	// column, the sharding key.
	Queries []ShardQuery
}

func (l *Lookup) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "lookup %s.%s", l.Index.Source, l.Index.Column)
	for _, q := range l.Queries {
		name := "default"
		if q.Shard != nil {
			name = q.Shard.Name
		}
		fmt.Fprintf(&b, "\n    %s: %s", name, q.SQL)
	}
	return b.String()
}

// findLookup looks for col = v, col IN (...) or an OR of col equalities
// on a column with a global index, among the conjuncts of where.
func (pl *Planner) findLookup(where sqlparser.Expr, sharded []tableRef, b *binder) *Lookup {
	for _, c := range splitAnd(where) {
		for _, r := range sharded {
			for i := range r.t.Indexes {
				ix := &r.t.Indexes[i]
				vals, ok := columnValues(c, r, ix.Column, sharded, b)
				if !ok {
					continue
				}
				if l := pl.lookup(ix, r.db, vals); l != nil {
					return l
				}
			}
		}
	}
	return nil
}

// columnValues reads the values a predicate pins column col of table r to.
func columnValues(e sqlparser.Expr, r tableRef, col string, sharded []tableRef, b *binder) ([]vindex.Value, bool) {
	isCol := func(x sqlparser.Expr) bool {
		c, ok := x.(*sqlparser.ColName)
		if !ok || c.Name.Lowered() != col {
			return false
		}
		q := strings.ToLower(c.Qualifier.Name.String())
		if q != "" {
			return q == r.name
		}
		for _, o := range sharded { // unqualified: must not be ambiguous
			if o.name != r.name && o.t.Index(col) != nil {
				return false
			}
		}
		return true
	}
	switch e := e.(type) {
	case *sqlparser.ComparisonExpr:
		if !isCol(e.Left) {
			return nil, false
		}
		switch e.Operator {
		case sqlparser.EqualOp:
			v, ok := b.value(e.Right)
			return []vindex.Value{v}, ok
		case sqlparser.InOp:
			tuple, ok := e.Right.(sqlparser.ValTuple)
			if !ok {
				return nil, false
			}
			var out []vindex.Value
			for _, x := range tuple {
				v, ok := b.value(x)
				if !ok {
					return nil, false
				}
				out = append(out, v)
			}
			return out, true
		}
	case *sqlparser.OrExpr:
		l, lok := columnValues(e.Left, r, col, sharded, b)
		rv, rok := columnValues(e.Right, r, col, sharded, b)
		if lok && rok {
			return append(l, rv...), true
		}
	}
	return nil, false
}

// lookup builds the index reads for vals, grouped by index shard; nil when
// a value cannot be looked up exactly (the statement then scatters).
func (pl *Planner) lookup(ix *GlobalIndex, db string, vals []vindex.Value) *Lookup {
	table := quoteName(ix.Table)
	if db != "" {
		table = quoteName(db) + "." + table
	}
	it := pl.schema.IndexTable(ix)
	byShard := map[*topo.Shard][]string{}
	var order []*topo.Shard
	for _, v := range vals {
		lit, ok := literal(ix.KeyType, v)
		if !ok {
			return nil
		}
		var sh *topo.Shard
		if it.Kind == Sharded {
			id, err := it.Func.Map(it.KeyType, v)
			if errors.Is(err, vindex.ErrNotAKey) {
				continue // no row has it
			} else if err != nil {
				return nil
			}
			sh = pl.schema.Topo.Shard(id)
		}
		if _, seen := byShard[sh]; !seen {
			order = append(order, sh)
		}
		byShard[sh] = append(byShard[sh], lit)
	}
	l := &Lookup{Index: ix}
	for _, sh := range order {
		l.Queries = append(l.Queries, ShardQuery{Shard: sh, SQL: fmt.Sprintf("SELECT %s FROM %s WHERE %s IN (%s)",
			quoteName(ix.Key), table, quoteName(ix.Column), strings.Join(byShard[sh], ", "))})
	}
	return l
}

// literal prints a lookup value as SQL; a string for an integer column is
// converted as MySQL compares them (no exact value: not looked up).
func literal(t vindex.KeyType, v vindex.Value) (string, bool) {
	switch {
	case t == vindex.Bytes && (v.IsInt || v.IsUint):
		return "", false // a string column compared with a number: '42' and '042' both match
	case t == vindex.Bytes:
		return sqlparser.String(sqlparser.NewStrLiteral(v.Str)), true
	case v.IsInt:
		return strconv.FormatInt(v.Int, 10), true
	case v.IsUint:
		return strconv.FormatUint(v.Uint, 10), true
	}
	if i, err := strconv.ParseInt(strings.TrimSpace(v.Str), 10, 64); err == nil {
		return strconv.FormatInt(i, 10), true
	}
	return "", false
}

func quoteName(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// ShardsOfKeys names the shards that own the given keys of table (in key
// space order, each once).
func (pl *Planner) ShardsOfKeys(table string, keys []vindex.Value) []*topo.Shard {
	t := pl.schema.Table(table)
	seen := map[*topo.Shard]bool{}
	var out []*topo.Shard
	for _, k := range keys {
		id, err := t.Func.Map(t.KeyType, k)
		if err != nil {
			continue
		}
		sh := pl.schema.Topo.Shard(id)
		if !seen[sh] {
			seen[sh] = true
			out = append(out, sh)
		}
	}
	return out
}

// Shard returns the shard named name.
func (pl *Planner) Shard(name string) *topo.Shard {
	shards := pl.schema.Topo.Shards()
	for i := range shards {
		if shards[i].Name == name {
			return &shards[i]
		}
	}
	return nil
}

// IndexWrite is a set of global index entries to write, on one index
// shard, before the statement that needs them runs: so a row never
// commits without its entry.
type IndexWrite struct {
	Index *GlobalIndex
	Shard *topo.Shard // nil: the index table is on the default cluster
	Table string      // the index table, quoted, qualified when the statement was
	Src   string      // the source table, likewise
	// Entries are (column value, key) pairs as SQL literals.
	Entries [][2]string
}

// SQL is the statement that writes the entries of a non-unique index
// (entries already there are kept).
func (w *IndexWrite) SQL() string {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT IGNORE INTO %s (%s, %s) VALUES ", w.Table, quoteName(w.Index.Column), quoteName(w.Index.Key))
	for i, e := range w.Entries {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%s, %s)", e[0], e[1])
	}
	return b.String()
}

// indexEntries collects the entries for rows of t: for each index, the
// pairs (value, key) with a non-NULL value. values(col) gives a row's
// value of a column (nil: NULL or not given).
type entrySet struct {
	pl     *Planner
	t      *Table
	db     string
	writes map[*GlobalIndex]map[*topo.Shard]*IndexWrite
	order  []*IndexWrite
}

func (pl *Planner) newEntrySet(t *Table, db string) *entrySet {
	return &entrySet{pl: pl, t: t, db: db, writes: map[*GlobalIndex]map[*topo.Shard]*IndexWrite{}}
}

// add records the entry (v, key) of index ix.
func (es *entrySet) add(ix *GlobalIndex, v, key vindex.Value) error {
	lit, ok := literal(ix.KeyType, v)
	if !ok {
		return sqlerr.NotSupported(fmt.Sprintf("a value of indexed column %s.%s that is not exactly a %s", es.t.Name, ix.Column, keyTypeName(ix.KeyType)), "")
	}
	klit, ok := literal(es.t.KeyType, key)
	if !ok {
		return sqlerr.NotSupported(fmt.Sprintf("a %s value that is not exactly a key", es.t.Key), "")
	}
	var sh *topo.Shard
	if it := es.pl.schema.IndexTable(ix); it.Kind == Sharded {
		id, err := it.Func.Map(it.KeyType, v)
		if err != nil {
			return sqlerr.NotSupported(fmt.Sprintf("indexed column %s value %s: %v", ix.Column, lit, err), "")
		}
		sh = es.pl.schema.Topo.Shard(id)
	}
	byShard := es.writes[ix]
	if byShard == nil {
		byShard = map[*topo.Shard]*IndexWrite{}
		es.writes[ix] = byShard
	}
	w := byShard[sh]
	if w == nil {
		w = &IndexWrite{Index: ix, Shard: sh, Table: qualified(es.db, ix.Table), Src: qualified(es.db, es.t.Name)}
		byShard[sh] = w
		es.order = append(es.order, w)
	}
	w.Entries = append(w.Entries, [2]string{lit, klit})
	return nil
}

func qualified(db, name string) string {
	if db == "" {
		return quoteName(name)
	}
	return quoteName(db) + "." + quoteName(name)
}

func keyTypeName(t vindex.KeyType) string {
	switch t {
	case vindex.Uint:
		return "uint"
	case vindex.Bytes:
		return "string"
	}
	return "int"
}

// insertEntries plans the index entries of an INSERT's rows (keys
// already filled in).
func (pl *Planner) insertEntries(s *sqlparser.Insert, t *Table, db string, rows sqlparser.Values, keyAt int, b *binder) ([]*IndexWrite, error) {
	if len(t.Indexes) == 0 {
		return nil, nil
	}
	es := pl.newEntrySet(t, db)
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		at := slices.IndexFunc(s.Columns, func(c sqlparser.IdentifierCI) bool { return c.Lowered() == ix.Column })
		if at < 0 {
			return nil, sqlerr.NotSupported(fmt.Sprintf("an INSERT into %s that leaves out indexed column %s", t.Name, ix.Column),
				"list "+ix.Column+" (NULL when it has no value), so its global index can be kept")
		}
		odku := constantAssignment(s.OnDup, ix.Column)
		if odku == errAssign {
			return nil, sqlerr.NotSupported(fmt.Sprintf("ON DUPLICATE KEY UPDATE of indexed column %s with an expression", ix.Column), "assign a constant")
		}
		for _, row := range rows {
			key, _ := b.value(row[keyAt])
			for _, e := range []sqlparser.Expr{row[at], odku} {
				if e == nil || isNullLiteral(e) {
					continue
				}
				v, ok := b.value(e)
				if !ok {
					return nil, sqlerr.NotSupported(fmt.Sprintf("a value of indexed column %s.%s that is not a constant", t.Name, ix.Column), "")
				}
				if err := es.add(ix, v, key); err != nil {
					return nil, err
				}
			}
		}
	}
	return es.order, nil
}

var errAssign = &sqlparser.NullVal{} // marks an assignment that is not a constant

// constantAssignment returns the constant an ON DUPLICATE KEY UPDATE
// assigns to col (nil when it does not, or assigns VALUES(col)), or
// errAssign for any other expression.
func constantAssignment(exprs sqlparser.OnDup, col string) sqlparser.Expr {
	for _, u := range exprs {
		if u.Name.Name.Lowered() != col {
			continue
		}
		switch e := u.Expr.(type) {
		case *sqlparser.Literal, *sqlparser.Argument, *sqlparser.NullVal:
			return e
		case *sqlparser.ValuesFuncExpr:
			if e.Name.Name.Lowered() == col {
				return nil
			}
		}
		return errAssign
	}
	return nil
}

// updateEntries plans the index entries an UPDATE of indexed columns
// needs: the new value for every key it may change, which must be known
// from the WHERE clause.
func (pl *Planner) updateEntries(s *sqlparser.Update, t *Table, db string, keys []vindex.Value, b *binder) ([]*IndexWrite, error) {
	es := pl.newEntrySet(t, db)
	for _, u := range s.Exprs {
		ix := t.Index(u.Name.Name.Lowered())
		if ix == nil || isNullLiteral(u.Expr) {
			continue
		}
		if keys == nil {
			return nil, sqlerr.NotSupported(fmt.Sprintf("an UPDATE of indexed column %s.%s without the sharding key %s in the WHERE clause", t.Name, ix.Column, t.Key),
				"update by "+t.Key)
		}
		v, ok := b.value(u.Expr)
		if !ok {
			return nil, sqlerr.NotSupported(fmt.Sprintf("setting indexed column %s.%s to an expression", t.Name, ix.Column), "set it to a constant")
		}
		for _, k := range keys {
			if err := es.add(ix, v, k); err != nil {
				return nil, err
			}
		}
	}
	return es.order, nil
}
