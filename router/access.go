package router

import (
	"strings"

	"vitess.io/vitess/go/vt/sqlparser"
)

// accessOf lists the tables a statement reads and writes, and what kind
// of statement it is, for authorisation.
func (pl *Planner) accessOf(stmt sqlparser.Statement) ([]Access, Class) {
	var out []Access
	add := func(tn sqlparser.TableName, write bool) {
		if tn.Name.IsEmpty() {
			return
		}
		a := Access{DB: tn.Qualifier.String(), Table: strings.ToLower(tn.Name.String()), Write: write}
		for i := range out {
			if out[i].DB == a.DB && out[i].Table == a.Table {
				out[i].Write = out[i].Write || write
				return
			}
		}
		out = append(out, a)
	}
	writes := writtenTables(stmt)
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		if at, ok := n.(*sqlparser.AliasedTableExpr); ok {
			if tn, ok := at.Expr.(sqlparser.TableName); ok && !(tn.Qualifier.IsEmpty() && tn.Name.String() == "dual") {
				add(tn, writes[strings.ToLower(tn.Name.String())] || writes[strings.ToLower(at.As.String())])
			}
		}
		return true, nil
	}, stmt)
	for _, tn := range namedTables(stmt) {
		add(tn, writes[strings.ToLower(tn.Name.String())])
	}
	if readsFiles(stmt) {
		return out, ClassAdmin
	}
	return out, classOf(stmt)
}

// readsFiles reports whether a statement reads or writes the server's
// files: LOAD_FILE(), SELECT ... INTO OUTFILE or DUMPFILE.
func readsFiles(stmt sqlparser.Statement) bool {
	found := false
	_ = sqlparser.Walk(func(n sqlparser.SQLNode) (bool, error) {
		switch n := n.(type) {
		case *sqlparser.FuncExpr:
			found = found || n.Name.EqualString("load_file")
		case *sqlparser.SelectInto:
			found = found || n.Type == sqlparser.IntoOutfile || n.Type == sqlparser.IntoOutfileS3 || n.Type == sqlparser.IntoDumpfile
		}
		return !found, nil
	}, stmt)
	return found
}

// namedTables lists the tables a statement names outside table
// expressions (DDL, SHOW, DESCRIBE, LOAD DATA).
func namedTables(stmt sqlparser.Statement) []sqlparser.TableName {
	switch s := stmt.(type) {
	case sqlparser.DDLStatement:
		return s.AffectedTables()
	case *sqlparser.ExplainTab:
		return []sqlparser.TableName{s.Table}
	case *sqlparser.LockTables:
		var out []sqlparser.TableName
		for _, t := range s.Tables {
			if at, ok := t.Table.(*sqlparser.AliasedTableExpr); ok {
				if tn, ok := at.Expr.(sqlparser.TableName); ok {
					out = append(out, tn)
				}
			}
		}
		return out
	case *sqlparser.Show:
		switch in := s.Internal.(type) {
		case *sqlparser.ShowBasic:
			return []sqlparser.TableName{in.Tbl}
		case *sqlparser.ShowCreate:
			return []sqlparser.TableName{in.Op}
		}
	}
	return nil
}

// writtenTables names (lower case, by name or alias) the tables a
// statement writes.
func writtenTables(stmt sqlparser.Statement) map[string]bool {
	w := map[string]bool{}
	mark := func(tn sqlparser.TableName) { w[strings.ToLower(tn.Name.String())] = true }
	switch s := stmt.(type) {
	case *sqlparser.Insert:
		if tn, err := s.Table.TableName(); err == nil {
			mark(tn)
		}
	case *sqlparser.Update:
		for _, e := range s.Exprs {
			if q := e.Name.Qualifier.Name.String(); q != "" {
				w[strings.ToLower(q)] = true
			}
		}
		if len(s.TableExprs) == 1 {
			markFrom(s.TableExprs[0], w)
		}
	case *sqlparser.Delete:
		for _, t := range s.Targets {
			mark(t)
		}
		if len(s.Targets) == 0 && len(s.TableExprs) == 1 {
			markFrom(s.TableExprs[0], w)
		}
	case sqlparser.DDLStatement:
		for _, t := range s.AffectedTables() {
			mark(t)
		}
	case *sqlparser.Load:
		return map[string]bool{"": true}
	}
	return w
}

func markFrom(te sqlparser.TableExpr, w map[string]bool) {
	if at, ok := te.(*sqlparser.AliasedTableExpr); ok {
		if tn, ok := at.Expr.(sqlparser.TableName); ok {
			w[strings.ToLower(tn.Name.String())] = true
			if !at.As.IsEmpty() {
				w[strings.ToLower(at.As.String())] = true
			}
		}
	}
}

// classOf says what kind of statement stmt is.
func classOf(stmt sqlparser.Statement) Class {
	switch s := stmt.(type) {
	case *sqlparser.Select, *sqlparser.Union, *sqlparser.Show, *sqlparser.ExplainTab, *sqlparser.ExplainStmt:
		return ClassRead
	case *sqlparser.Insert, *sqlparser.Update, *sqlparser.Delete, *sqlparser.Load, *sqlparser.CallProc,
		*sqlparser.LockTables, *sqlparser.UnlockTables:
		return ClassWrite
	case sqlparser.DDLStatement:
		return ClassDDL
	case *sqlparser.Set:
		for _, e := range s.Exprs {
			switch e.Var.Scope {
			case sqlparser.GlobalScope, sqlparser.PersistSysScope, sqlparser.PersistOnlySysScope:
				return ClassAdmin
			}
		}
		return ClassRead
	case *sqlparser.Begin, *sqlparser.Commit, *sqlparser.Rollback, *sqlparser.Savepoint, *sqlparser.Release,
		*sqlparser.SRollback, *sqlparser.Use, *sqlparser.PrepareStmt, *sqlparser.ExecuteStmt, *sqlparser.DeallocateStmt:
		return ClassRead
	}
	return ClassAdmin
}
