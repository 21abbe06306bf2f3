package router

import (
	"errors"
	"strconv"
	"strings"
	"sync"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/courier-proxy/courier/router/topo"
	"github.com/courier-proxy/courier/router/vindex"
)

// Template is a statement planned once for all its executions. What does
// not depend on the values bound to its placeholders is decided when it
// is built; an execution only maps its key values to a shard, without
// parsing. Executions it cannot route alone (several shards, a value that
// is not a key) are planned in full.
type Template struct {
	topo    *topo.Topology
	fixed   *Plan  // the plan whatever the values (unsharded, any shard)
	table   *Table // keyed: the table whose key the placeholders give
	keyArgs []int  // keyed: the placeholders that hold key values
	write   bool
	generic bool // plan every execution in full
}

// Template builds the template of a statement with ? placeholders.
func (pl *Planner) Template(sql string) *Template {
	t := &Template{topo: pl.schema.Topo}
	stmt, err := pl.parser.Parse(sql)
	if err != nil {
		t.generic = true
		return t
	}
	switch stmt.(type) {
	case *sqlparser.Select, *sqlparser.Update, *sqlparser.Delete:
	default:
		t.generic = true
		return t
	}
	p, err := pl.planStmt(stmt, sql, &binder{template: t})
	switch {
	case err != nil || t.generic:
		t.generic = true
	case t.table != nil:
	case p.Kind == RouteUnsharded || p.Kind == RouteAnyShard:
		t.fixed = p
	default:
		t.generic = true
	}
	if t.generic {
		t.table, t.keyArgs, t.fixed = nil, nil, nil
	}
	return t
}

// keyedBy records, while the template is built, that the statement is
// routed by key predicate kp; it is a keyed template when every key value
// is a placeholder.
func (t *Template) keyedBy(tb *Table, kp *keyPredicate, write bool) *Plan {
	for _, a := range kp.args {
		if a < 0 {
			t.generic = true
			return &Plan{Kind: RouteScatter, Write: write}
		}
	}
	t.table, t.keyArgs, t.write = tb, kp.args, write
	return &Plan{Kind: RouteShards, Write: write}
}

// Route returns where an execution with args runs when the template
// alone decides it: the route kind and, for RouteShards, the one shard.
// ok is false when the execution must be planned in full.
func (t *Template) Route(args []vindex.Value) (kind RouteKind, shard *topo.Shard, ok bool) {
	switch {
	case t == nil || t.generic:
		return 0, nil, false
	case t.fixed != nil:
		return t.fixed.Kind, nil, true
	}
	for _, a := range t.keyArgs {
		if a >= len(args) {
			return 0, nil, false
		}
		id, err := t.table.Func.Map(t.table.KeyType, args[a])
		if errors.Is(err, vindex.ErrNotAKey) {
			continue
		} else if err != nil {
			return 0, nil, false
		}
		sh := t.topo.Shard(id)
		if shard != nil && sh != shard {
			return 0, nil, false // several shards: split and merged by the full plan
		}
		shard = sh
	}
	if shard == nil { // no value can be a key: any one shard answers (empty)
		shard = &t.topo.Shards()[0]
	}
	return RouteShards, shard, true
}

// maxTemplates bounds the templates kept for text statements; past it the
// cache starts over.
const maxTemplates = 10000

// templates caches the templates of text statements by their text with
// integer and string literals replaced by ?.
type templates struct {
	mu sync.RWMutex
	m  map[string]*Template
}

// RouteText routes a text statement without parsing it when a statement
// of the same shape was planned before: its literals are read as the
// values of placeholders. ok is false when it must be planned in full.
func (pl *Planner) RouteText(sql string) (kind RouteKind, shard *topo.Shard, ok bool) {
	shape, args, ok := pl.normalize(sql)
	if !ok {
		return 0, nil, false
	}
	pl.cache.mu.RLock()
	t := pl.cache.m[shape]
	pl.cache.mu.RUnlock()
	if t == nil {
		t = pl.Template(shape)
		pl.cache.mu.Lock()
		if len(pl.cache.m) >= maxTemplates || pl.cache.m == nil {
			pl.cache.m = make(map[string]*Template)
		}
		pl.cache.m[shape] = t
		pl.cache.mu.Unlock()
	}
	return t.Route(args)
}

// normalize replaces the integer and string literals of sql with ? and
// returns them as values, in order.
func (pl *Planner) normalize(sql string) (string, []vindex.Value, bool) {
	tk := pl.parser.NewStringTokenizer(sql)
	var b strings.Builder
	b.Grow(len(sql))
	var args []vindex.Value
	end := 0
	for {
		typ, val := tk.Scan()
		switch typ {
		case 0:
			b.WriteString(sql[end:])
			return b.String(), args, true
		case sqlparser.LEX_ERROR, '?', ';':
			return "", nil, false
		case sqlparser.INTEGRAL, sqlparser.STRING:
			raw := sql[end:tk.Pos]
			start := end + len(raw) - len(strings.TrimLeft(raw, " \t\r\n"))
			b.WriteString(sql[end:start])
			b.WriteByte('?')
			if typ == sqlparser.STRING {
				args = append(args, vindex.StrValue(val))
			} else if i, err := strconv.ParseInt(val, 10, 64); err == nil {
				args = append(args, vindex.IntValue(i))
			} else if u, err := strconv.ParseUint(val, 10, 64); err == nil {
				args = append(args, vindex.UintValue(u))
			} else {
				return "", nil, false
			}
		default:
			b.WriteString(sql[end:tk.Pos])
		}
		end = tk.Pos
	}
}
