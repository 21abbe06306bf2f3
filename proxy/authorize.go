package proxy

import (
	"strings"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/sqlerr"
)

// systemSchemas hold the servers' own data (users and their password
// hashes, server state) and Courier's heartbeat: only accounts that
// administer may reach them.
var systemSchemas = [...]string{"mysql", "performance_schema", "sys", "courier_heartbeat"}

func systemSchema(db string) bool {
	for _, s := range systemSchemas {
		if strings.EqualFold(db, s) {
			return true
		}
	}
	return false
}

// authorize checks a planned statement against the account's grants: the
// schemas it may use (every table the statement names, in whatever
// database), and Courier's and the servers' own tables, which only
// accounts that administer may reach.
// The session's database is db; internal reports Courier's own tables.
func (a *account) authorize(p *router.Plan, info parser.Info, session string, internal func(string) bool) error {
	if classOf(p.Class, info.Kind) == router.ClassAdmin && !a.admin {
		return a.mayAdminister(strings.ToUpper(info.Kind.String()) + " statements")
	}
	for _, t := range p.Access {
		db := t.DB
		if db == "" {
			db = session
		}
		internal := systemSchema(db) || internal(t.Table)
		if (internal && !a.admin) || (!a.mayUse(db) && !strings.EqualFold(db, "information_schema")) {
			cmd := "SELECT"
			if t.Write {
				cmd = "UPDATE"
			}
			return sqlerr.New(1142, "%s command denied to user '%s'@'%%' for table `%s`.`%s`", cmd, a.name, db, t.Table)
		}
	}
	return nil
}

// classOf is what a statement does: the planner's class, refined by its
// kind for the statements the parser keeps no detail of (DO, CALL, LOAD
// DATA, LOCK TABLES, HANDLER read or write rows; SHOW only reads).
func classOf(c router.Class, k parser.Kind) router.Class {
	if c != router.ClassAdmin {
		return c
	}
	switch k {
	case parser.KindDo, parser.KindCall, parser.KindLoad, parser.KindLock, parser.KindHandler,
		parser.KindInsert, parser.KindUpdate, parser.KindDelete, parser.KindReplace:
		return router.ClassWrite
	case parser.KindShow, parser.KindExplain, parser.KindSelect:
		return router.ClassRead
	case parser.KindDDL:
		return router.ClassDDL
	}
	return c
}

// adminWords are the first words of statements that administer a server
// (users and grants, replication, plugins, logs, shutdown).
var adminWords = map[string]bool{
	"grant": true, "revoke": true, "install": true, "uninstall": true, "shutdown": true, "purge": true,
	"reset": true, "change": true, "start": true, "stop": true, "binlog": true, "flush": true, "backup": true,
	"restart": true, "cache": true, "load": true,
}

// adminDDL are the objects whose CREATE, ALTER, DROP and RENAME administer
// the server rather than a schema.
var adminDDL = map[string]bool{"user": true, "role": true, "server": true, "database": true, "schema": true,
	"logfile": true, "tablespace": true}

// administers reports whether a statement the planner could not read
// administers the server, from its first words.
func administers(text []byte, mode parser.Mode) bool {
	w, ok := parser.FirstWords(text, 3, mode)
	switch {
	case !ok:
		return true // read otherwise by the server than by Courier: only for accounts that administer
	case len(w) == 0:
		return false
	case adminWords[w[0]] && !(w[0] == "start" && len(w) > 1 && w[1] == "transaction") && !(w[0] == "load" && len(w) > 1 && w[1] == "data"):
		return true
	case (w[0] == "create" || w[0] == "drop" || w[0] == "alter" || w[0] == "rename") && len(w) > 1:
		if w[1] == "or" && len(w) > 2 { // CREATE OR REPLACE ...
			return adminDDL[w[2]]
		}
		return adminDDL[w[1]]
	case w[0] == "set" && len(w) > 1 && (w[1] == "password" || w[1] == "role" || w[1] == "global" || w[1] == "default"):
		return true
	}
	return false
}

// authorizeUnparsed checks a statement the planner could not read: only
// accounts that administer, or whose schemas are not restricted and whose
// statement is not an administrative one, may run it.
func (a *account) authorizeUnparsed(text []byte, mode parser.Mode) error {
	if a.admin {
		return nil
	}
	if a.schemas != nil {
		return sqlerr.New(1142, "command denied to user '%s'@'%%': Courier cannot tell which tables this statement uses, and the account may use only some schemas", a.name)
	}
	if administers(text, mode) {
		return a.mayAdminister("statements that administer the server")
	}
	return nil
}

// mayAdminister refuses what needs an administering account.
func (a *account) mayAdminister(what string) error {
	if a.admin {
		return nil
	}
	return sqlerr.New(1227, "Access denied; you need (at least one of) the SUPER privilege(s) for this operation (%s need an account with admin: true)", what)
}

// internalTable reports whether a table is one of Courier's own: a global
// index table or a sequence table.
func (s *Server) internalTable(name string) bool {
	return s.internal[strings.ToLower(name)]
}
