package proxy

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/layout"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/sqlerr"
)

// snapshot is one layout Courier serves: the schema statements are
// planned against, its view of the plan cache, and its sharding settings.
// It is immutable; Layouts.Swap replaces the server's snapshot as a whole.
// A session takes the current snapshot when a statement starts outside a
// transaction, and keeps it while its transaction has branches, so that
// statements and transactions in flight finish on the layout they
// started with.
type snapshot struct {
	version  uint64
	schema   *router.Schema
	plans    *router.Plans
	sharding *config.Sharding // nil: nothing sharded
	internal map[string]bool  // Courier's own tables (index, sequence, progress), lower case
}

// Layouts is what a Courier instance knows of layouts: the one it
// serves (a snapshot, swapped whole), the write holds of a layout
// change, and the newest layout a migration recorded. Server.Layouts
// returns it; the admin API's /layout calls are its methods.
type Layouts struct {
	s      *Server
	rt     atomic.Pointer[snapshot]
	swapMu sync.Mutex // serialises Swap
	holds  writeHolds // write holds of layout changes
}

// Layouts returns the server's layouts.
func (s *Server) Layouts() *Layouts { return &s.layouts }

// build builds the snapshot of cfg's layout, planning through a view of
// plans (nil: a new cache).
func (l *Layouts) build(cfg *config.Config, version uint64, plans *router.Plans) (*snapshot, error) {
	s := l.s
	schema, err := layout.Schema(cfg)
	if err != nil {
		return nil, err
	}
	if len(schema.Clusters) != len(s.clusterList) {
		return nil, fmt.Errorf("the layout names %d clusters; Courier serves %d", len(schema.Clusters), len(s.clusterList))
	}
	for i, name := range schema.Clusters {
		if s.clusterList[i].Name != name {
			return nil, fmt.Errorf("cluster %q is not configured in the running Courier (clusters change with a restart)", name)
		}
	}
	pl := router.NewPlanner(schema, s.parser.SQLParser())
	if plans == nil {
		plans = router.NewPlans(pl, s.parser.SQLParser(), int64(s.cfg.Limits.PlanCache))
	} else {
		plans = plans.With(pl)
	}
	rt := &snapshot{version: version, schema: schema, plans: plans, sharding: cfg.Sharding,
		internal: map[string]bool{strings.ToLower(config.IndexProgressTable): true}}
	if sh := cfg.Sharding; sh != nil {
		for _, t := range sh.Tables {
			if t.Sequence != "" {
				rt.internal[strings.ToLower(t.Sequence[strings.LastIndexByte(t.Sequence, '.')+1:])] = true
			}
			for _, ix := range t.Indexes {
				rt.internal[strings.ToLower(ix.Table)] = true
			}
		}
	}
	return rt, nil
}

// internalTable reports whether a table is one of Courier's own: a global
// index table, a sequence table or a backfill checkpoint table.
func (rt *snapshot) internalTable(name string) bool {
	return rt.internal[strings.ToLower(name)]
}

// maxMergeRows bounds the rows one statement may hold while merging.
func (rt *snapshot) maxMergeRows() int {
	if rt.sharding != nil {
		return rt.sharding.MaxMergeRows
	}
	return 1000000
}

// bestEffort reports whether a transaction may reach several shards.
func (rt *snapshot) bestEffort() bool {
	return rt.sharding != nil && rt.sharding.MultiShardTransactions == "best_effort"
}

// sequenceBlock is how many ids a sequence reserves at a time.
func (rt *snapshot) sequenceBlock() int {
	if rt.sharding != nil {
		return rt.sharding.SequenceBlock
	}
	return 1000
}

// snapshot returns the layout now served.
func (s *Server) snapshot() *snapshot { return s.layouts.rt.Load() }

// Version is the version of the layout now served: 1 at start,
// one more at every switch.
func (l *Layouts) Version() uint64 { return l.s.snapshot().version }

// Swap switches the layout to the sharding section of next, a
// whole configuration validated as such, whose clusters and default
// cluster must be the running ones. Statements already running, and
// transactions that have reached a backend, finish on the layout they
// started with; a write in such a transaction after the switch is
// refused (1412), since its rows may have moved. When hold is not 0, it
// must be the write hold in place (see Hold), which the switch then
// releases: the writes it held run on the new layout.
//
// version is the new layout's version (0: one more than the current); a
// switch to the version already served changes nothing, so a switch can
// be retried.
func (l *Layouts) Swap(next *config.Config, hold, version uint64) (uint64, error) {
	s := l.s
	l.swapMu.Lock()
	defer l.swapMu.Unlock()
	if next.DefaultCluster != s.cfg.DefaultCluster {
		return 0, fmt.Errorf("default_cluster is %q, the running Courier's is %q (it changes with a restart)", next.DefaultCluster, s.cfg.DefaultCluster)
	}
	old := s.snapshot()
	switch {
	case version == 0:
		version = old.version + 1
	case version == old.version:
		if h := l.holds.current(); hold != 0 && h != nil && h.gen == hold {
			l.holds.release(h)
		}
		return version, nil
	case version < old.version:
		return 0, fmt.Errorf("layout version %d is older than the one served, %d", version, old.version)
	}
	rt, err := l.build(next, version, old.plans)
	if err != nil {
		return 0, err
	}
	if hold != 0 {
		h := l.holds.current()
		if h == nil || h.gen != hold {
			return 0, fmt.Errorf("write hold %d is not in place (it was released or lapsed): the layout was not switched", hold)
		}
		l.rt.Store(rt)
		l.holds.release(h)
	} else {
		l.rt.Store(rt)
	}
	s.log.Info("layout switched", zap.Uint64("version", rt.version))
	return rt.version, nil
}

// ErrRecordedLayout is the error of a Courier that cannot serve the
// layout a migration recorded (the data is laid out that way): it must
// not serve its file's layout instead.
var ErrRecordedLayout = errors.New("the recorded layout cannot be served")

// adoptRecorded serves the newest layout a migration recorded in
// config.LayoutsTable on the default cluster, when it is newer than the
// one served: a Courier started (or whose write hold lapsed) after a
// switch serves the layout the data is in, whatever its file says.
func (l *Layouts) adoptRecorded(ctx context.Context) error {
	bc, err := l.s.primary.Get(ctx, backend.FlavourPlain, 0)
	if err != nil {
		return err
	}
	defer l.s.primary.Put(bc)
	return l.adoptRecordedOn(ctx, bc)
}

// adoptRecordedOn is adoptRecorded reading on bc, a connection to the
// default cluster's primary.
func (l *Layouts) adoptRecordedOn(ctx context.Context, bc *backend.Conn) error {
	s := l.s
	rows, err := bc.Query(ctx, "SELECT version, config FROM "+config.LayoutsTable+" ORDER BY version DESC LIMIT 1")
	if err != nil {
		if se, ok := sqlerr.From(err); ok && (se.Num == sqlerr.ErrNoSuchTable || se.Num == sqlerr.ErrBadDB) { // never recorded
			return nil
		}
		bc.MarkBroken()
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	version, err := strconv.ParseUint(rows[0][0].Text, 10, 64)
	if err != nil {
		return fmt.Errorf("%s: version %q", config.LayoutsTable, rows[0][0].Text)
	}
	if version <= l.Version() {
		return nil
	}
	next, err := config.Parse([]byte(rows[0][1].Text))
	if err != nil {
		return fmt.Errorf("%w: version %d in %s is not valid: %w", ErrRecordedLayout, version, config.LayoutsTable, err)
	}
	if _, err := l.Swap(next, 0, version); err != nil {
		return fmt.Errorf("%w: version %d in %s: %w (configure the clusters it names)", ErrRecordedLayout, version, config.LayoutsTable, err)
	}
	s.log.Info("serving the recorded layout", zap.Uint64("version", version))
	return nil
}
