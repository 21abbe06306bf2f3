package router

import (
	"fmt"
	"slices"

	"vitess.io/vitess/go/vt/sqlparser"

	"github.com/courier-proxy/courier/router/engine"
	"github.com/courier-proxy/courier/sqlerr"
)

// insertPlan plans an INSERT or REPLACE: into an unsharded table on its
// cluster, into a reference table on every shard, into a sharded
// table row by row on the shards the keys name, with keys taken from the
// table's sequence for rows that leave them out, and global index entries
// written first.
func (b *build) insertPlan(s *sqlparser.Insert) (engine.Primitive, error) {
	tn, err := s.Table.TableName()
	if err != nil {
		return nil, sqlerr.NotSupported("this INSERT target", "")
	}
	t := b.pl.schema.Table(tn.Name.String())
	switch t.Kind {
	case Unsharded:
		sharded, reference, unsharded := kinds(b.pl.tables(s))
		if len(sharded)+len(reference) > 0 {
			return nil, sqlerr.NotSupported("INSERT ... SELECT across clusters", "")
		}
		return b.fixed(unsharded, false)
	case Reference:
		return &engine.WriteAll{Keyspace: b.pl.schema.keyspace, Table: t.Name}, nil
	}
	rows, ok := s.Rows.(sqlparser.Values)
	if !ok {
		return nil, sqlerr.NotSupported(fmt.Sprintf("INSERT ... SELECT into sharded table %s", t.Name), "insert the rows with VALUES")
	}
	for _, u := range s.OnDup {
		if u.Name.Name.Lowered() == t.Key && !keepsKey(u.Expr, t) {
			return nil, sqlerr.NotSupported(fmt.Sprintf("changing the sharding key %s of %s in ON DUPLICATE KEY UPDATE", t.Key, t.Name), "")
		}
	}
	keyAt, rewritten, err := b.keyColumn(s, rows, t)
	if err != nil {
		return nil, err
	}
	keySlots, nullable, err := b.rowKeys(rows, keyAt, t)
	if err != nil {
		return nil, err
	}
	var steps []engine.Primitive
	insertID := -1
	if t.Sequence != "" && nullable {
		insertID = b.newSlot()
		steps = append(steps, &engine.SequenceFill{Slots: keySlots, First: insertID,
			Seq: &engine.Sequence{DB: tn.Qualifier.String(), Table: t.Sequence, Source: t.Name, Key: t.Key}})
	}
	writes, err := b.insertEntries(s, t, tn.Qualifier.String(), rows, keySlots)
	if err != nil {
		return nil, err
	}
	steps = append(steps, writes...)
	ins := &engine.Insert{Keyspace: b.pl.schema.keyspace, Vindex: t.vindex(), Table: t.Name, Keys: keySlots,
		Rewritten: rewritten, InsertID: insertID}
	head := *s
	head.Rows, head.OnDup = sqlparser.Values{}, nil
	ins.Prefix = b.text(&head) + "values "
	for _, row := range rows {
		ins.Rows = append(ins.Rows, b.sql(row, nil, nil))
	}
	if len(s.OnDup) > 0 {
		ins.Suffix = b.sql(s.OnDup, nil, nil)
	}
	if len(steps) == 0 {
		return ins, nil
	}
	return &engine.Seq{Steps: append(steps, ins)}, nil
}

// keepsKey reports whether an ON DUPLICATE KEY UPDATE of t's key to e
// leaves every row on its shard: key = key changes nothing, and key =
// VALUES(key) gives the row the inserted row's key, whose shard is the
// one the statement runs on (as ORMs write it for associations). With a
// global index the entries would have to follow: not then.
func keepsKey(e sqlparser.Expr, t *Table) bool {
	switch e := e.(type) {
	case *sqlparser.ColName:
		return e.Name.Lowered() == t.Key
	case *sqlparser.ValuesFuncExpr:
		return e.Name != nil && e.Name.Name.Lowered() == t.Key && len(t.Indexes) == 0
	}
	return false
}

// keyColumn finds the key column among the INSERT's columns, adding it
// (as NULL in every row, for the sequence to fill) when the table has a
// sequence and the statement leaves it out.
func (b *build) keyColumn(s *sqlparser.Insert, rows sqlparser.Values, t *Table) (at int, added bool, err error) {
	at = slices.IndexFunc(s.Columns, func(c sqlparser.IdentifierCI) bool { return c.Lowered() == t.Key })
	if at < 0 && len(s.Columns) > 0 && t.Sequence != "" {
		s.Columns = append(s.Columns, sqlparser.NewIdentifierCI(t.Key))
		for i := range rows {
			rows[i] = append(rows[i], &sqlparser.NullVal{})
		}
		return len(s.Columns) - 1, true, nil
	}
	if at < 0 {
		return 0, false, sqlerr.NotSupported(fmt.Sprintf("INSERT into sharded table %s without naming its key column %s", t.Name, t.Key),
			"list the columns and give every row its "+t.Key+", or configure a sequence for the table")
	}
	return at, false, nil
}

// rowKeys gives each row's key a bind slot (a placeholder keeps its own;
// a literal becomes a constant) and puts the slot's placeholder in the
// row, so the shards run the values the sequence may fill in. nullable
// reports whether some key may be NULL when the statement runs.
func (b *build) rowKeys(rows sqlparser.Values, keyAt int, t *Table) (slots []int, nullable bool, err error) {
	for i, row := range rows {
		if keyAt >= len(row) {
			return nil, false, sqlerr.New(1136, "Column count doesn't match value count at row %d", i+1)
		}
		e := row[keyAt]
		s, ok := b.slotOf(e)
		if !ok {
			return nil, false, sqlerr.NotSupported(fmt.Sprintf("a %s that is not a constant in an INSERT into %s", t.Key, t.Name), "")
		}
		switch e.(type) {
		case *sqlparser.Argument, *sqlparser.NullVal:
			nullable = true
		}
		if f, ok := e.(*sqlparser.FuncExpr); ok { // LAST_INSERT_ID(v): keep it, it sets the session's id
			f.Exprs[0] = argExpr(s)
		} else {
			row[keyAt] = argExpr(s)
		}
		slots = append(slots, s)
	}
	return slots, nullable, nil
}

// updatePlan plans an UPDATE (see writePlan); an UPDATE of an indexed
// column writes the new entries first.
func (b *build) updatePlan(s *sqlparser.Update) (engine.Primitive, error) {
	for _, ref := range s.TableExprs {
		at, ok := ref.(*sqlparser.AliasedTableExpr)
		if !ok {
			continue
		}
		if tn, ok := at.Expr.(sqlparser.TableName); ok {
			t := b.pl.schema.Table(tn.Name.String())
			for _, u := range s.Exprs {
				if t.Kind == Sharded && u.Name.Name.Lowered() == t.Key {
					return nil, sqlerr.NotSupported("changing the sharding key "+t.Name+"."+t.Key,
						"delete the row and insert it with the new key")
				}
			}
		}
	}
	return b.writePlan(s, s.TableExprs, s.Where, s.Limit != nil, func(t *Table, db string, keys []int) ([]engine.Primitive, error) {
		return b.updateEntries(s, t, db, keys)
	})
}

// deletePlan plans a DELETE (see writePlan).
func (b *build) deletePlan(s *sqlparser.Delete) (engine.Primitive, error) {
	if len(s.Targets) > 0 {
		return b.multiTableWrite(s)
	}
	return b.writePlan(s, s.TableExprs, s.Where, s.Limit != nil, nil)
}

// multiTableWrite routes a multi-table UPDATE or DELETE: on unsharded
// tables of one cluster only.
func (b *build) multiTableWrite(stmt sqlparser.Statement) (engine.Primitive, error) {
	sharded, reference, unsharded := kinds(b.pl.tables(stmt))
	if len(sharded)+len(reference) > 0 {
		return nil, sqlerr.NotSupported("a multi-table UPDATE or DELETE on sharded or reference tables", "write each table separately")
	}
	return b.fixed(unsharded, false)
}

// writePlan routes an UPDATE or DELETE: unsharded tables on their
// cluster, reference tables on every shard, sharded tables by key, by a
// global index, or (when allowed) on every shard.
func (b *build) writePlan(stmt sqlparser.Statement, from []sqlparser.TableExpr, where *sqlparser.Where, limited bool,
	entries func(t *Table, db string, keys []int) ([]engine.Primitive, error)) (engine.Primitive, error) {
	sharded, reference, unsharded := kinds(b.pl.tables(stmt))
	switch {
	case len(sharded) == 0 && len(reference) == 0:
		return b.fixed(unsharded, false)
	case len(unsharded) > 0:
		return nil, sqlerr.NotSupported("a write mixing sharded or reference tables with unsharded ones", "")
	case len(from) == 1 && len(sharded)+len(reference) > 1:
		other := append(sharded, reference...)[1]
		return nil, sqlerr.NotSupported(fmt.Sprintf("a subquery on sharded or reference table %s in an UPDATE or DELETE", other.t.Name),
			"read the value with a SELECT first, then write it")
	case len(from) != 1 || len(sharded)+len(reference) != 1:
		return nil, sqlerr.NotSupported("a multi-table UPDATE or DELETE on sharded or reference tables", "write each table separately")
	case len(reference) == 1:
		return &engine.WriteAll{Keyspace: b.pl.schema.keyspace, Table: reference[0].name}, nil
	}
	if err := b.pl.checkSubqueries(stmt); err != nil {
		return nil, err
	}
	t := sharded[0].t
	kp := b.findKeyPredicate(whereOf(where), sharded)
	var steps []engine.Primitive
	if entries != nil {
		var keys []int
		if kp != nil {
			keys = kp.slots
		}
		var err error
		if steps, err = entries(t, sharded[0].db, keys); err != nil {
			return nil, err
		}
	}
	r := &engine.Route{Keyspace: b.pl.schema.keyspace, Vindex: t.vindex(), Write: true, Table: t.Name}
	var root engine.Primitive = r
	switch {
	case kp != nil:
		r.Op, r.Keys = engine.ByKey, kp.slots
		if kp.in != nil {
			r.InList, r.Query = true, b.sql(stmt, kp.in, kp.slots)
		}
	case limited:
		return nil, sqlerr.NotSupported("UPDATE or DELETE with LIMIT on every shard", "add the sharding key to the WHERE clause")
	default:
		r.Op = engine.Scatter
		if l := b.findLookup(whereOf(where), sharded); l != nil {
			l.Source, root = r, l
		} else if !b.pl.schema.ScatterWrites {
			return nil, sqlerr.NotSupported("UPDATE or DELETE without the sharding key (a write to every shard)",
				"add the sharding key to the WHERE clause, or set sharding.scatter_writes")
		}
	}
	if len(steps) == 0 {
		return root, nil
	}
	return &engine.Seq{Steps: append(steps, root)}, nil
}
