package engine

import (
	"context"
	"fmt"
)

// WriteAll runs one statement on every shard's primary at once (DDL on
// sharded or reference tables, writes to reference tables) and answers
// with the first shard's OK: every shard ran a copy of the same
// statement. A shard that fails is named in the error; the others keep
// what they did.
type WriteAll struct {
	Keyspace *Keyspace
	// Clusters, when set, are the clusters to run on instead of every
	// shard's (CREATE DATABASE: the default cluster too).
	Clusters []int
	Query    *SQL // nil: the client's statement
	Table    string
}

// Execute implements Primitive.
func (a *WriteAll) Execute(ctx context.Context, c Cursor, bv *Bind, w ResultWriter) error {
	sql := ""
	if a.Query != nil {
		sql = a.Query.RenderString(bv, c.Session(), nil)
	}
	var targets []Target
	if a.Clusters != nil {
		for _, cl := range a.Clusters {
			targets = append(targets, Target{Cluster: cl, SQL: sql})
		}
	} else {
		targets = a.Keyspace.targetsOf(bv, a.Keyspace.all(bv), sql)
	}
	c.Session().Stats.Shards = len(targets)
	results, err := c.Exec(ctx, targets)
	if err != nil {
		return err
	}
	return w.OK(results[0])
}

// Inputs implements Primitive.
func (a *WriteAll) Inputs() []Primitive { return nil }

// String implements Primitive.
func (a *WriteAll) String() string {
	q := "<client statement>"
	if a.Query != nil {
		q = a.Query.String()
	}
	return fmt.Sprintf("WriteAll %s: %s", a.Table, q)
}
