package proxy

import (
	"strings"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/sqlerr"
)

// systemSchemas hold the servers' own data (users and their password
// hashes, server state), Courier's heartbeat and its control schema
// (migrations, recorded layouts): only accounts that administer may
// reach them.
var systemSchemas = [...]string{"mysql", "performance_schema", "sys", "courier_heartbeat", config.ControlSchema}

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
	switch class := classOf(p.Class, info.Kind); {
	case class == router.ClassAdmin && !a.admin:
		return a.mayAdminister(strings.ToUpper(info.Kind.String()) + " statements")
	case class > a.access:
		return a.denied(info, p.Access, session, class)
	}
	for _, t := range p.Access {
		db := t.DB
		if db == "" {
			db = session
		}
		if strings.EqualFold(db, "information_schema") && strings.EqualFold(t.Table, "processlist") && !a.admin {
			// The backends' threads are every client's statements, run by
			// Courier's connections: SHOW PROCESSLIST lists the account's.
			return sqlerr.New(1227, "Access denied; you need (at least one of) the PROCESS privilege(s) for this operation (SHOW PROCESSLIST lists the account's own sessions)")
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

// denied is the error for a statement beyond the account's access level:
// MySQL's "command denied" for its first table (1142), or for statements
// without one, 1227.
func (a *account) denied(info parser.Info, tables []router.Access, session string, class router.Class) error {
	cmd := strings.ToUpper(info.Kind.String())
	if info.Kind == parser.KindCall {
		return sqlerr.New(1370, "execute command denied to user '%s'@'%%' for routine (the account's access is %s; CALL needs read_write)",
			a.name, levelName(a.access))
	}
	for _, t := range tables {
		db := t.DB
		if db == "" {
			db = session
		}
		if t.Write || len(tables) == 1 {
			return sqlerr.New(1142, "%s command denied to user '%s'@'%%' for table `%s`.`%s` (the account's access is %s)",
				cmd, a.name, db, t.Table, levelName(a.access))
		}
	}
	return sqlerr.New(1227, "Access denied; you need (at least one of) the %s privilege(s) for this operation (the account's access is %s)",
		strings.ToUpper(class.String()), levelName(a.access))
}

// levelName is an access level as configuration names it.
func levelName(c router.Class) string {
	return [...]string{"read_only", "read_write", "ddl", "admin"}[c]
}

// classOf is what a statement does: the planner's class, refined by its
// kind for the statements the planner keeps no detail of (DO, CALL, LOAD
// DATA, LOCK TABLES, HANDLER read or write rows; DDL on other objects than
// tables). A SELECT, SHOW or row write the planner calls administrative
// (it reads or writes the server's files) stays so.
func classOf(c router.Class, k parser.Kind) router.Class {
	if c != router.ClassAdmin {
		return c
	}
	switch k {
	case parser.KindDo, parser.KindCall, parser.KindLoad, parser.KindLock, parser.KindHandler:
		return router.ClassWrite
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
	if administers(text, mode) {
		return a.mayAdminister("statements that administer the server")
	}
	if a.access < router.ClassDDL {
		return sqlerr.New(1142, "command denied to user '%s'@'%%': Courier cannot tell what this statement does, and the account's access is %s", a.name, levelName(a.access))
	}
	if a.schemas != nil {
		return sqlerr.New(1142, "command denied to user '%s'@'%%': Courier cannot tell which tables this statement uses, and the account may use only some schemas", a.name)
	}
	return nil
}

// mayAdminister refuses what needs an administering account.
func (a *account) mayAdminister(what string) error {
	if a.admin {
		return nil
	}
	return sqlerr.New(1227, "Access denied; you need (at least one of) the SUPER privilege(s) for this operation (%s need an account with access: admin)", what)
}
