package globalindex

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/layout"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/router/vindex"
)

// Index is one global index opened for maintenance: its layout from the
// configuration and a connection pool to the primary of every cluster
// that holds the source table's rows or the index table's entries.
// Its methods may run concurrently; Close it when done.
type Index struct {
	ix     *router.GlobalIndex
	src    *router.Table
	schema *router.Schema
	db     string // the MySQL schema holding both tables on every cluster
	// dataClusters hold the source rows, indexClusters the entries; each
	// in shard order, every cluster once (a cluster holding several shards
	// keeps their rows in one table).
	dataClusters, indexClusters []string
	defaultCluster              string
	pools                       map[string]*sql.DB // cluster → its primary
}

// Entry is one index entry: a column value and the sharding key of the
// row it points at, both as MySQL prints them.
type Entry struct {
	Value string `json:"value"`
	Key   string `json:"key"`
}

// Open looks up the index on table.column in cfg's sharding section and
// opens pools to the primaries involved. db is the MySQL schema (database)
// the tables are in, on every cluster. No connection is made yet.
func Open(cfg *config.Config, db, table, column string) (*Index, error) {
	if cfg.Sharding == nil {
		return nil, errors.New("the configuration has no sharding section, so no global indexes")
	}
	if db == "" {
		return nil, errors.New("name the MySQL schema (database) that holds the tables")
	}
	s, err := layout.Schema(cfg)
	if err != nil {
		return nil, err
	}
	src := s.Table(table)
	ix := src.Index(column)
	if ix == nil {
		var have []string
		for _, t := range cfg.Sharding.Tables {
			for _, i := range t.Indexes {
				have = append(have, strings.ToLower(t.Name+"."+i.Column))
			}
		}
		if len(have) == 0 {
			return nil, fmt.Errorf("no global index on %s.%s: the configuration defines none", table, column)
		}
		return nil, fmt.Errorf("no global index on %s.%s; the configuration defines %s", table, column, strings.Join(have, ", "))
	}
	x := &Index{ix: ix, src: src, schema: s, db: db, defaultCluster: cfg.DefaultCluster, pools: map[string]*sql.DB{}}
	for _, sh := range s.Topo.Shards() {
		if !slices.Contains(x.dataClusters, sh.Cluster) {
			x.dataClusters = append(x.dataClusters, sh.Cluster)
		}
	}
	x.indexClusters = x.dataClusters
	if !ix.Sharded {
		x.indexClusters = []string{cfg.DefaultCluster}
	}
	for _, name := range append(slices.Clone(x.dataClusters), cfg.DefaultCluster) {
		if x.pools[name] != nil {
			continue
		}
		cl := cfg.Cluster(name)
		if cl == nil {
			x.Close()
			return nil, fmt.Errorf("cluster %q is not in the configuration", name)
		}
		x.pools[name] = openPool(cl, db, len(x.dataClusters))
	}
	return x, nil
}

// openPool opens a pool to a cluster's primary. Parameters are
// interpolated by the driver, so a batch is one round trip rather than a
// prepare, an execute and a close.
func openPool(cl *config.Cluster, db string, shards int) *sql.DB {
	mc := mysql.NewConfig()
	mc.User, mc.Passwd = cl.User, cl.Password
	mc.Net, mc.Addr, mc.DBName = "tcp", cl.Primary.Address, db
	mc.InterpolateParams = true
	mc.Timeout = cl.Pool.ConnectTimeout
	conn, _ := mysql.NewConnector(mc) // fails only on TLS settings we do not set
	p := sql.OpenDB(conn)
	// One connection per concurrent scanner that may write here, plus one.
	p.SetMaxOpenConns(shards + 2)
	p.SetMaxIdleConns(shards + 2)
	return p
}

// Close closes the pools.
func (x *Index) Close() error {
	var errs []error
	for _, p := range x.pools {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}

// Name is the index's name for messages: "orders.user_id (orders_by_user_id)".
func (x *Index) Name() string {
	return fmt.Sprintf("%s.%s (%s)", x.ix.Source, x.ix.Column, x.ix.Table)
}

// Layout is the index as the schema describes it.
func (x *Index) Layout() router.GlobalIndex { return *x.ix }

// DataClusters and IndexClusters name the clusters scanned for rows and
// for entries, in shard order.
func (x *Index) DataClusters() []string  { return slices.Clone(x.dataClusters) }
func (x *Index) IndexClusters() []string { return slices.Clone(x.indexClusters) }

// indexCluster is the cluster whose index table holds v's entries.
func (x *Index) indexCluster(v string) (string, error) {
	if !x.ix.Sharded {
		return x.defaultCluster, nil
	}
	return x.clusterOf(vindex.Hash{}, x.ix.KeyType, v, x.ix.Column)
}

// dataCluster is the cluster that holds the rows with sharding key k.
func (x *Index) dataCluster(k string) (string, error) {
	return x.clusterOf(x.src.Func, x.src.KeyType, k, x.src.Key)
}

func (x *Index) clusterOf(f vindex.Func, t vindex.KeyType, v, column string) (string, error) {
	val, err := vindex.ParseValue(t, v)
	if err == nil {
		var id vindex.KeyspaceID
		if id, err = f.Map(t, val); err == nil {
			return x.schema.Topo.Shard(id).Cluster, nil
		}
	}
	return "", fmt.Errorf("%s value %q: %w", column, v, err)
}

// param is a value as a statement argument of the column's type, so an
// integer column is compared with a number, not a string.
func param(t vindex.KeyType, s string) any {
	switch t {
	case vindex.Int:
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	case vindex.Uint:
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return n
		}
	}
	return s
}

func (x *Index) keyParam(k string) any   { return param(x.src.KeyType, k) }
func (x *Index) valueParam(v string) any { return param(x.ix.KeyType, v) }

// errNoSuchTable is MySQL's ER_NO_SUCH_TABLE.
const errNoSuchTable = 1146

// errNumber is the MySQL error number in err, or 0.
func errNumber(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

// on wraps a cluster's error with the cluster's name and, for a missing
// table, what to do about it.
func on(cluster string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errNumber(err) == errNoSuchTable {
		return fmt.Errorf("cluster %s: %w (create the index table with \"courierctl index create\")", cluster, err)
	}
	return fmt.Errorf("cluster %s: %w", cluster, err)
}
