package parser

import (
	"fmt"
	"strings"

	"vitess.io/vitess/go/vt/sqlparser"
)

// Parser wraps one sqlparser.Parser; it is safe for concurrent use.
type Parser struct {
	p *sqlparser.Parser
}

// New returns a Parser for the given MySQL server version ("" for the
// default).
func New(serverVersion string) (*Parser, error) {
	p, err := sqlparser.New(sqlparser.Options{MySQLServerVersion: serverVersion})
	if err != nil {
		return nil, fmt.Errorf("sql parser: %w", err)
	}
	return &Parser{p: p}, nil
}

// SQLParser returns the underlying sqlparser.Parser (for the planner).
func (p *Parser) SQLParser() *sqlparser.Parser { return p.p }

// SetEffect says what a SET statement does to the session.
type SetEffect struct {
	// Vars are the session system variables it assigns, lower case,
	// without scope prefix, in statement order. SET NAMES and SET
	// CHARACTER SET appear as the variables they change.
	Vars []string
	// Global: it assigns a global variable (session state unchanged).
	Global bool
	// Sticky: it changes state that cannot be replayed on another
	// connection by assigning session variables: user variables, or
	// characteristics of the next transaction only.
	Sticky bool
	// Courier holds assignments to Courier's own session variables
	// (courier_*), which never reach a backend.
	Courier []Assignment
}

// Assignment is one variable set to a constant.
type Assignment struct {
	Name  string
	Value string // "" with Valid false when the value is not a constant
	Valid bool
}

// Charset variables changed by SET NAMES and SET CHARACTER SET.
var (
	namesVars   = []string{"character_set_client", "character_set_results", "collation_connection"}
	charsetVars = []string{"character_set_client", "character_set_results", "collation_connection"}
)

// ParseSet parses a SET statement and returns its effect on the session.
func (p *Parser) ParseSet(sql string) (SetEffect, error) {
	var eff SetEffect
	stmt, err := p.p.Parse(sql)
	if err != nil {
		return eff, err
	}
	set, ok := stmt.(*sqlparser.Set)
	if !ok {
		return eff, fmt.Errorf("not a SET statement")
	}
	for _, e := range set.Exprs {
		name := e.Var.Name.Lowered()
		if strings.HasPrefix(name, "courier_") && e.Var.Scope != sqlparser.VariableScope {
			eff.Courier = append(eff.Courier, constant(name, e.Expr))
			continue
		}
		switch e.Var.Scope {
		case sqlparser.GlobalScope, sqlparser.PersistSysScope, sqlparser.PersistOnlySysScope:
			eff.Global = true
		case sqlparser.VariableScope, sqlparser.NextTxScope, sqlparser.VitessMetadataScope:
			eff.Sticky = true
		default:
			switch name {
			case "names":
				eff.Vars = append(eff.Vars, namesVars...)
			case "charset", "character set":
				eff.Vars = append(eff.Vars, charsetVars...)
			default:
				if strings.ContainsAny(name, " .") {
					eff.Sticky = true
					continue
				}
				eff.Vars = append(eff.Vars, name)
			}
		}
	}
	return eff, nil
}

func constant(name string, e sqlparser.Expr) Assignment {
	switch v := e.(type) {
	case *sqlparser.Literal:
		return Assignment{Name: name, Value: v.Val, Valid: true}
	case *sqlparser.ColName:
		return Assignment{Name: name, Value: v.Name.String(), Valid: true}
	}
	return Assignment{Name: name}
}

// ParseUse returns the schema named by a USE statement.
func (p *Parser) ParseUse(sql string) (string, error) {
	stmt, err := p.p.Parse(sql)
	if err != nil {
		return "", err
	}
	use, ok := stmt.(*sqlparser.Use)
	if !ok {
		return "", fmt.Errorf("not a USE statement")
	}
	return use.DBName.String(), nil
}
