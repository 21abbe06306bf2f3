package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
	"vitess.io/vitess/go/sqlescape"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/layout"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/router/vindex"
	"github.com/courier-proxy/courier/sqlerr"
)

// Plan is what a migration from one layout to another moves: every table
// whose placement differs (sharded, reference, global index tables, and
// unsharded tables that become sharded or move to another cluster), with the clusters that hold its
// rows now (Sources) and those that will (Targets).
type Plan struct {
	DB       string // the MySQL schema (database) holding the tables on every cluster
	From, To *config.Config
	Tables   []*Move

	to               *router.Schema
	pools            map[string]*sql.DB // cluster → its primary
	fromText, toText string             // the files, as given
}

// Move is one table of a plan.
type Move struct {
	Table   string
	Sources []string // clusters holding its rows now (one, for a reference table: each has them all)
	Targets []string // clusters that will
	Holders []string // every cluster holding its rows now ("complete" deletes them there)
	// Estimate is the source rows to copy, when Check counted them, and
	// Estimates the same per source.
	Estimate  int64
	Estimates map[string]int64

	to       *router.Table // its layout after the migration
	columns  []string      // copied columns, in order
	unsigned []bool        // of each column: an unsigned integer
	pk       []int         // positions of the primary key in columns
	key      int           // position of the sharding key after (sharded), -1 otherwise
	// generated: the table has generated columns (not copied; the online
	// mode, which reads whole row images from the binlog, refuses them).
	generated bool
}

// NewPlan compares two layouts over db. Targets must hold none of a
// moved table's rows now: a migration copies into clusters that do not
// serve the table in the current layout (the old copies stay on the
// sources, for reverse, until "complete" deletes them).
func NewPlan(from, to *config.Config, db string) (*Plan, error) {
	if db == "" {
		return nil, errors.New("name the MySQL schema (database) that holds the tables (--schema)")
	}
	if from.DefaultCluster != to.DefaultCluster {
		return nil, fmt.Errorf("default_cluster differs (%s, %s): it holds Courier's own tables and does not move", from.DefaultCluster, to.DefaultCluster)
	}
	fs, err := layout.Schema(from)
	if err != nil {
		return nil, fmt.Errorf("current layout: %w", err)
	}
	ts, err := layout.Schema(to)
	if err != nil {
		return nil, fmt.Errorf("new layout: %w", err)
	}
	p := &Plan{DB: db, From: from, To: to, to: ts, pools: map[string]*sql.DB{}}
	for _, name := range tableNames(from, to) {
		src, dst := placement(fs, name), placement(ts, name)
		if slices.Equal(src.shards, dst.shards) && src.kind == dst.kind && src.key == dst.key && src.fn == dst.fn {
			continue
		}
		m := &Move{Table: name, Sources: src.clusters, Targets: dst.clusters, to: ts.Table(name), key: -1}
		if src.kind == router.Sharded && dst.kind == router.Sharded && src.key == dst.key && src.fn == dst.fn {
			// The same sharding, other shards: only the shards that change
			// move, each whole (a cluster holds one shard).
			m.Sources, m.Targets = changed(src, dst), changed(dst, src)
		}
		if src.kind == router.Reference && dst.kind == router.Reference {
			// Every cluster has every row: copy to the clusters that join,
			// from one that has them; those that leave keep a copy until
			// "complete".
			m.Sources, m.Targets = src.clusters[:1], without(dst.clusters, src.clusters)
			m.Holders = without(src.clusters, dst.clusters)
			p.Tables = append(p.Tables, m)
			continue
		}
		for _, c := range m.Targets {
			if slices.Contains(src.clusters, c) {
				return nil, fmt.Errorf("table %s: cluster %s holds some of its rows now and would hold others after; a migration copies into clusters that hold none of them (give the new shards clusters of their own)", name, c)
			}
		}
		m.Holders = m.Sources
		if src.kind == router.Reference {
			m.Sources = src.clusters[:1] // each has every row
		}
		p.Tables = append(p.Tables, m)
	}
	if len(p.Tables) == 0 && reflect.DeepEqual(from.Sharding, to.Sharding) {
		return nil, errors.New("the two files have the same layout: nothing to migrate")
	}
	// With no table to move (a setting of the sharding section changed),
	// the migration records the new layout and switches the instances.
	for _, c := range clustersOf(p) {
		cl := to.Cluster(c)
		if cl == nil {
			cl = from.Cluster(c)
		}
		if cl == nil {
			p.Close()
			return nil, fmt.Errorf("cluster %q is not configured", c)
		}
		p.pools[c] = openPool(cl, db)
	}
	return p, nil
}

// Close closes the plan's connections.
func (p *Plan) Close() {
	for _, db := range p.pools {
		db.Close()
	}
}

// tableNames lists the tables either layout places (with their index
// tables), in lower case, sorted.
func tableNames(cfgs ...*config.Config) []string {
	var out []string
	for _, c := range cfgs {
		if c.Sharding == nil {
			continue
		}
		for _, t := range c.Sharding.Tables {
			out = append(out, strings.ToLower(t.Name))
			for _, ix := range t.Indexes {
				out = append(out, strings.ToLower(ix.Table))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// where is a table's placement in one layout.
type where struct {
	kind          router.TableKind
	key, fn       string
	shards        []string // "range=cluster" in key order (sharded), or the clusters
	shardClusters []string // the cluster of each of shards
	clusters      []string
}

func placement(s *router.Schema, name string) where {
	t := s.Table(name)
	w := where{kind: t.Kind}
	switch t.Kind {
	case router.Unsharded:
		w.clusters = []string{s.ClusterOf(t)}
		w.shards = w.clusters
	default:
		for _, sh := range s.Topo.Shards() {
			w.shards = append(w.shards, sh.Name+"="+sh.Cluster)
			w.shardClusters = append(w.shardClusters, sh.Cluster)
			if !slices.Contains(w.clusters, sh.Cluster) {
				w.clusters = append(w.clusters, sh.Cluster)
			}
		}
		if t.Kind == router.Sharded {
			w.key, w.fn = t.Key, t.Func.Name()
		} else {
			w.shards = w.clusters
		}
	}
	return w
}

// without is a without the elements of b.
func without(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// changed lists the clusters of a's shards that b does not have (the
// same range on the same cluster).
func changed(a, b where) []string {
	var out []string
	for i, sh := range a.shards {
		if !slices.Contains(b.shards, sh) && !slices.Contains(out, a.shardClusters[i]) {
			out = append(out, a.shardClusters[i])
		}
	}
	return out
}

func clustersOf(p *Plan) []string {
	var out []string
	for _, m := range p.Tables {
		for _, c := range append(slices.Clone(m.Sources), m.Targets...) {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	if !slices.Contains(out, p.From.DefaultCluster) {
		out = append(out, p.From.DefaultCluster)
	}
	return out
}

// openPool opens a pool to a cluster's primary; statements with
// arguments are prepared, so rows come in the binary protocol, alike on
// every side of a comparison.
func openPool(cl *config.Cluster, db string) *sql.DB {
	mc := mysql.NewConfig()
	mc.User, mc.Passwd = cl.User, cl.Password
	mc.Net, mc.Addr, mc.DBName = "tcp", cl.Primary.Address, db
	mc.Timeout = cl.Pool.ConnectTimeout
	conn, _ := mysql.NewConnector(mc) // fails only on TLS settings we do not set
	p := sql.OpenDB(conn)
	p.SetMaxOpenConns(8)
	p.SetMaxIdleConns(8)
	return p
}

// Check reads every table of the plan on every cluster: it must exist
// with the same definition on the sources and the targets, have a
// primary key, and (unless targetsMayHoldRows) be empty on the targets.
// It fills in the columns copied and each move's row estimate.
func (p *Plan) Check(ctx context.Context, targetsMayHoldRows bool) error {
	var problems []error
	for _, m := range p.Tables {
		var ref string
		for _, c := range append(slices.Clone(m.Sources), m.Targets...) {
			def, err := p.definition(ctx, c, m.Table)
			if err != nil {
				problems = append(problems, err)
				continue
			}
			if ref == "" {
				ref = def
			} else if def != ref {
				problems = append(problems, fmt.Errorf("table %s: its definition on cluster %s differs from cluster %s's (SHOW CREATE TABLE); make them the same first", m.Table, c, m.Sources[0]))
			}
		}
		if err := p.readColumns(ctx, m); err != nil {
			problems = append(problems, err)
			continue
		}
		if !targetsMayHoldRows {
			for _, c := range m.Targets {
				var one int
				err := p.pools[c].QueryRowContext(ctx, "SELECT 1 FROM "+ident(m.Table)+" LIMIT 1").Scan(&one)
				switch {
				case err == nil:
					problems = append(problems, fmt.Errorf("table %s on cluster %s is not empty: a migration copies into empty tables", m.Table, c))
				case !errors.Is(err, sql.ErrNoRows):
					problems = append(problems, on(c, err))
				}
			}
		}
		m.Estimate, m.Estimates = 0, map[string]int64{}
		for _, c := range m.Sources {
			var n int64
			if err := p.pools[c].QueryRowContext(ctx, "SELECT COUNT(*) FROM "+ident(m.Table)).Scan(&n); err != nil {
				problems = append(problems, on(c, err))
			}
			m.Estimate += n
			m.Estimates[c] = n
		}
	}
	return errors.Join(problems...)
}

var autoIncrement = regexp.MustCompile(` AUTO_INCREMENT=\d+`)

// definition is a table's CREATE TABLE on a cluster, without its
// AUTO_INCREMENT counter.
func (p *Plan) definition(ctx context.Context, cluster, table string) (string, error) {
	var name, def string
	err := p.pools[cluster].QueryRowContext(ctx, "SHOW CREATE TABLE "+ident(table)).Scan(&name, &def)
	if err != nil {
		if me, ok := errors.AsType[*mysql.MySQLError](err); ok && me.Number == sqlerr.ErrNoSuchTable {
			return "", fmt.Errorf("table %s does not exist on cluster %s: create it there (the same definition as on the sources) first", table, cluster)
		}
		return "", on(cluster, err)
	}
	return autoIncrement.ReplaceAllString(def, ""), nil
}

// readColumns reads a table's stored columns and primary key (from its
// first source).
func (p *Plan) readColumns(ctx context.Context, m *Move) error {
	c := m.Sources[0]
	rows, err := p.pools[c].QueryContext(ctx, "SELECT COLUMN_NAME, COLUMN_TYPE, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION", p.DB, m.Table)
	if err != nil {
		return on(c, err)
	}
	defer rows.Close()
	m.columns, m.unsigned, m.pk, m.key, m.generated = nil, nil, nil, -1, false
	for rows.Next() {
		var name, typ, extra string
		if err := rows.Scan(&name, &typ, &extra); err != nil {
			return on(c, err)
		}
		if strings.Contains(strings.ToUpper(extra), "GENERATED") {
			m.generated = true
			continue // computed by the server on the target too
		}
		if strings.EqualFold(name, m.to.Key) && m.to.Kind == router.Sharded {
			m.key = len(m.columns)
		}
		m.columns = append(m.columns, name)
		m.unsigned = append(m.unsigned, strings.Contains(strings.ToLower(typ), "unsigned"))
	}
	if err := rows.Err(); err != nil {
		return on(c, err)
	}
	pk, err := p.primaryKey(ctx, c, m.Table)
	if err != nil {
		return err
	}
	for _, col := range pk {
		i := slices.IndexFunc(m.columns, func(s string) bool { return strings.EqualFold(s, col) })
		if i < 0 {
			return fmt.Errorf("table %s: primary key column %s is generated", m.Table, col)
		}
		m.pk = append(m.pk, i)
	}
	if len(m.pk) == 0 {
		return fmt.Errorf("table %s has no primary key: a migration copies and compares rows by it; add one first", m.Table)
	}
	if m.to.Kind == router.Sharded && m.key < 0 {
		return fmt.Errorf("table %s has no column %s, its sharding key in the new layout", m.Table, m.to.Key)
	}
	return nil
}

func (p *Plan) primaryKey(ctx context.Context, cluster, table string) ([]string, error) {
	rows, err := p.pools[cluster].QueryContext(ctx, "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION", p.DB, table)
	if err != nil {
		return nil, on(cluster, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, on(cluster, err)
		}
		out = append(out, c)
	}
	return out, on(cluster, rows.Err())
}

// targetOf returns the clusters a row of m goes to in the new layout.
func (p *Plan) targetOf(m *Move, r row) ([]string, error) {
	switch m.to.Kind {
	case router.Reference:
		return m.Targets, nil
	case router.Unsharded:
		return m.Targets[:1], nil
	}
	var raw string
	switch k := r[m.key].(type) {
	case nil:
		return nil, fmt.Errorf("table %s: a row has a NULL sharding key %s; no shard can hold it", m.Table, m.to.Key)
	case int64:
		raw = strconv.FormatInt(k, 10)
	case uint64:
		raw = strconv.FormatUint(k, 10)
	case []byte:
		raw = string(k)
	default:
		raw = fmt.Sprint(k)
	}
	v, err := vindex.ParseValue(m.to.KeyType, raw)
	if err != nil {
		return nil, fmt.Errorf("table %s, %s %q: %w", m.Table, m.to.Key, raw, err)
	}
	id, err := m.to.Func.Map(m.to.KeyType, v)
	if err != nil {
		return nil, fmt.Errorf("table %s, %s %q: %w", m.Table, m.to.Key, raw, err)
	}
	c := p.to.Topo.Shard(id).Cluster
	if !slices.Contains(m.Targets, c) {
		return nil, fmt.Errorf("table %s: the row with %s %q belongs to cluster %s, whose shard does not change: it is outside its own shard's range on its source", m.Table, m.to.Key, raw, c)
	}
	return []string{c}, nil
}

func ident(name string) string { return sqlescape.EscapeID(name) }

// on names the cluster an error came from.
func on(cluster string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("cluster %s: %w", cluster, err)
}
