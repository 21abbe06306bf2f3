package backend

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// State is the session state a proxy session wants its backend
// connection to have. It is immutable once shared: sessions make a new
// State when theirs changes, so a Conn can remember what was applied by
// pointer and compare cheaply.
type State struct {
	Schema string
	// Vars are session variables that differ from a fresh connection's,
	// sorted by Name, each with a literal that restores its value.
	Vars []Var
	// NoMultiStatements: the client did not enable multi-statements.
	NoMultiStatements bool
}

// Var is one session variable and a SQL literal of its value.
type Var struct {
	Name  string
	Value string
}

// initialState is what a freshly dialled connection has.
var initialState State

// unknownSchema marks a connection whose current schema is not known.
const unknownSchema = "\x00?"

// Equal reports whether two states are the same.
func (s *State) Equal(o *State) bool {
	return s == o || (s.Schema == o.Schema && s.NoMultiStatements == o.NoMultiStatements &&
		slices.Equal(s.Vars, o.Vars))
}

// WithSchema returns a copy of s with another schema.
func (s *State) WithSchema(schema string) *State {
	n := *s
	n.Schema = schema
	return &n
}

// WithMultiStatements returns a copy of s with the multi-statement option.
func (s *State) WithMultiStatements(on bool) *State {
	n := *s
	n.NoMultiStatements = !on
	return &n
}

// WithVars returns a copy of s with the given variables set (replacing
// earlier values of the same names).
func (s *State) WithVars(vars ...Var) *State {
	n := *s
	n.Vars = slices.Clone(s.Vars)
	for _, v := range vars {
		i, found := slices.BinarySearchFunc(n.Vars, v.Name, func(a Var, name string) int {
			return strings.Compare(a.Name, name)
		})
		if found {
			n.Vars[i] = v
		} else {
			n.Vars = slices.Insert(n.Vars, i, v)
		}
	}
	return &n
}

// Var returns the value recorded for name.
func (s *State) Var(name string) (string, bool) {
	for _, v := range s.Vars {
		if v.Name == name {
			return v.Value, true
		}
	}
	return "", false
}

// Applied returns the state last applied to the connection.
func (c *Conn) Applied() *State { return c.applied }

// SetApplied records that the connection now has state s (after the
// session ran a statement that changed both in step).
func (c *Conn) SetApplied(s *State) { c.applied = s }

// Sync brings the connection to state want with as few round trips as it
// can: nothing when it already has it; otherwise USE, one SET for the
// variables that differ (those want does not name go back to a fresh
// connection's value), and the multi-statement option.
func (c *Conn) Sync(ctx context.Context, want *State) error {
	have := c.applied
	if have == want {
		return nil
	}
	if have.Equal(want) {
		c.applied = want
		return nil
	}
	c.deadline(ctx)
	defer c.SetDeadline(time.Time{})
	if want.Schema != have.Schema && want.Schema != "" {
		if err := c.command(mysql.COM_INIT_DB, want.Schema); err != nil {
			return err
		}
	}
	var set strings.Builder
	for _, v := range have.Vars { // back to a fresh connection's value
		if _, ok := want.Var(v.Name); !ok {
			appendAssign(&set, v.Name, freshValue(v.Name))
		}
	}
	for _, v := range want.Vars {
		if old, ok := have.Var(v.Name); ok && old == v.Value {
			continue
		}
		appendAssign(&set, v.Name, v.Value)
	}
	if set.Len() > 0 {
		if _, err := c.Query(ctx, set.String()); err != nil {
			return err
		}
		c.deadline(ctx)
	}
	if want.NoMultiStatements != have.NoMultiStatements {
		opt := "\x00\x00" // MYSQL_OPTION_MULTI_STATEMENTS_ON
		if want.NoMultiStatements {
			opt = "\x01\x00"
		}
		if err := c.command(mysql.COM_SET_OPTION, opt); err != nil {
			return err
		}
	}
	c.applied = want
	return nil
}

func appendAssign(set *strings.Builder, name, value string) {
	if set.Len() == 0 {
		set.WriteString("SET ")
	} else {
		set.WriteString(", ")
	}
	set.WriteString("@@session.")
	set.WriteString(name)
	set.WriteString(" = ")
	set.WriteString(value)
}

// freshValue is the literal that gives a variable the value a freshly
// dialled connection has: the global default, except for the charset
// variables, which the handshake's collation sets.
func freshValue(name string) string {
	switch name {
	case "character_set_client", "character_set_results", "character_set_connection":
		return "'utf8mb4'"
	case "collation_connection":
		return "'utf8mb4_general_ci'"
	}
	return "DEFAULT"
}

// Reset returns the connection to a fresh session (COM_RESET_CONNECTION):
// variables, temporary tables, locks, open transaction and prepared
// statements are dropped.
func (c *Conn) Reset(ctx context.Context) error {
	c.deadline(ctx)
	defer c.SetDeadline(time.Time{})
	if err := c.command(mysql.COM_RESET_CONNECTION, ""); err != nil {
		c.broken.Store(true)
		return err
	}
	c.stmts = nil
	c.LastInsertID = 0
	c.applied = &State{Schema: unknownSchema, NoMultiStatements: c.applied.NoMultiStatements}
	return nil
}
