package difftest_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/courier-proxy/courier/difftest"
	"github.com/courier-proxy/courier/testbed"
)

// maxHeld is how many backend connections Courier may hold between two
// statements of the run (two sessions, each keeping at most one per
// shard for the diagnostics of its last statement, and some slack).
// Past it Courier is keeping connections it no longer needs: the run
// records that and restarts Courier, or it would run out of connections.
// It restarts Courier too after ending a transaction Courier left open
// (by killing its backend connection, which Courier's pool still holds).
const maxHeld = 32

// leaking reports whether a shape's statements in one way, n of them,
// left Courier holding more backend connections than it held before
// them, kept in all, often enough to fail the run. A connection kept for
// a statement's diagnostics (its warnings) is given back by the next
// statement, which may be of another shape, so a shape whose statements
// warn counts up to one per statement without leaking; it leaks when it
// keeps more than one for every two statements.
func leaking(kept, n int) bool { return kept >= 5 && 2*kept > n }

// run is one differential run: the reference's side of the comparison,
// the outcomes so far and what the suite did to keep one defect from
// spoiling the statements after it.
type run struct {
	ctx   context.Context
	t     *testing.T
	e     *env
	ref   *difftest.Side
	refDB *sql.DB
	h     *healer
	seed  uint64

	tally   difftest.Tally
	failed  map[wayShape]int
	reasons map[string]int // failures by kind, numbers elided
	seen    map[string]int // failures reported in full, by kind, shape and way
	// kept is the backend connections Courier held after a shape's
	// statements less those it held before them (a connection kept for
	// one statement's diagnostics is given back by the next).
	kept map[wayShape]int
	// courierDBs are the pools of the sessions to the Courier in use.
	courierDBs   []*sql.DB
	replicaReads int64
	lostSessions int
	restarts     int
	restartTime  time.Duration
	leakTime     time.Duration
	healTime     time.Duration
	start        time.Time
}

type wayShape struct {
	shape string
	way   difftest.Way
}

func newRun(ctx context.Context, t *testing.T, e *env, ref *sql.DB, seed uint64) *run {
	return &run{ctx: ctx, t: t, e: e, refDB: ref, seed: seed, start: time.Now(),
		ref:   newSide(ctx, t, ref, e.referenceDB(t, "delivery", batchParams)),
		h:     newHealer(t, e, ref),
		tally: difftest.Tally{}, failed: map[wayShape]int{}, reasons: map[string]int{}, seen: map[string]int{}, kept: map[wayShape]int{},
	}
}

// courierFor is the Courier a way runs against.
func (r *run) courierFor(w difftest.Way) **testbed.Courier {
	if w == difftest.TxnReject {
		return &r.e.reject
	}
	return &r.e.courier
}

// fresh restarts *c and opens sessions to it: each way starts on a
// Courier of its own, so that what one way leaves behind (connections,
// transactions) cannot fail the next.
func (r *run) fresh(c **testbed.Courier, old *difftest.Side) *difftest.Side {
	if old != nil {
		r.lostSessions += old.Lost
		old.Close()
	}
	for _, db := range r.courierDBs {
		db.Close() // no session left for the restart to wait for
	}
	r.replicaReads += replicaQueries(*c)
	began := time.Now()
	if err := r.e.restart(c); err != nil {
		r.t.Fatal(err)
	}
	r.restartTime += time.Since(began)
	r.courierDBs = []*sql.DB{r.e.open(r.t, (*c).DSN("app", "app", "delivery", driverParams)), r.e.open(r.t, (*c).DSN("app", "app", "delivery", batchParams))}
	return newSide(r.ctx, r.t, r.courierDBs[0], r.courierDBs[1])
}

// way runs the statements in way w: the same statements in every way
// (same seed), each way's new rows with keys of their own.
func (r *run) way(d *difftest.Dataset, w difftest.Way) {
	c := r.courierFor(w)
	side := r.fresh(c, nil)
	queries := difftest.Queries(d, difftest.Options{Seed: r.seed, N: statements, FirstKey: 500_000_000 + 100_000_000*int64(w), ShardOf: shardOf})
	start := time.Now()
	for i, q := range queries {
		if !difftest.Runs(q, w) {
			continue
		}
		before := held(*c)
		v := difftest.Check(r.ctx, r.ref, side, q, w)
		began := time.Now()
		n, err := r.h.endLeaked(r.ctx)
		r.leakTime += time.Since(began)
		if err != nil {
			r.t.Fatal(err)
		} else if n > 0 {
			v = difftest.Verdict{Outcome: difftest.Mismatched, Reason: "transactions left open on the shards", Elapsed: v.Elapsed,
				Detail: fmt.Sprintf("Courier left %d transactions open on the shards after %s (the suite ended them)\n  %s", n, difftest.Describe(q, w), v.Detail)}
		}
		after := held(*c)
		r.kept[wayShape{q.Shape, w}] += after - before
		if after > maxHeld {
			v = difftest.Verdict{Outcome: difftest.Mismatched, Reason: "backend connections held", Elapsed: v.Elapsed,
				Detail: fmt.Sprintf("Courier holds %d backend connections after %s (the suite restarts it)\n  %s", after, difftest.Describe(q, w), v.Detail)}
		}
		if n > 0 || after > maxHeld {
			// A pool holding connections the suite killed, or holding too
			// many, would fail the statements after this one.
			side = r.fresh(c, side)
			r.restarts++
		}
		r.tally.Add(q.Shape, w, v)
		if v.Outcome != difftest.Matched && len(q.Keys) > 0 {
			began := time.Now()
			err := r.h.heal(r.ctx, r.t, q.Keys)
			r.healTime += time.Since(began)
			if err != nil {
				r.t.Errorf("setting orders %v right after statement %d (%s, %s): %v", q.Keys, i, q.Shape, w, err)
			}
		}
		r.judge(i, q, w, v)
	}
	r.lostSessions += side.Lost
	side.Close()
	r.t.Logf("%s: %d statements in %v", w, len(queries), time.Since(start).Round(time.Millisecond))
}

// judge records a verdict that fails the run and reports the first few
// of each kind in full.
func (r *run) judge(i int, q difftest.Query, w difftest.Way, v difftest.Verdict) {
	reason := digits.ReplaceAllString(v.Reason, "N")
	switch {
	case v.Outcome == difftest.Matched:
		return
	case v.Outcome == difftest.Refused && difftest.Refusable(q.Shape):
		return
	case v.Outcome == difftest.Refused && difftest.NeedsMerge(q.Shape) && mergeAbsent:
		return
	case v.Outcome == difftest.Refused:
		reason = "refused with 1235"
	}
	r.failed[wayShape{q.Shape, w}]++
	r.reasons[reason]++
	k := reason + "\x00" + q.Shape + "\x00" + w.String()
	if r.seen[k]++; r.seen[k] <= shown {
		r.t.Errorf("statement %d (%s, %s, %d shards): %s", i, q.Shape, w, shards, v.Detail)
	}
}

// report logs the table of outcomes, checks the rows the run leaves on
// the shards, and fails the test with a summary of what differed.
func (r *run) report(ways []difftest.Way) {
	t := r.t
	r.replicaReads += replicaQueries(r.e.courier) + replicaQueries(r.e.reject)
	var kept []string
	for _, s := range difftest.Shapes() {
		for _, w := range ways {
			n := r.kept[wayShape{s, w}]
			if n > 0 {
				kept = append(kept, fmt.Sprintf("%s/%s %d", s, w, n))
			}
			if c := r.tally[s][w]; c != nil && leaking(n, c.Queries) {
				r.failed[wayShape{s, w}]++
				r.reasons["backend connections kept"]++
				t.Errorf("Courier kept %d backend connections after the %s statements (%s) that it had not held before them", n, s, w)
			}
		}
	}
	if len(kept) == 0 {
		kept = []string{"none"}
	}
	t.Logf("query seed %d in %v, merge engine required: %v; %d statements went to replicas; Courier closed %d sessions, the reference %d; "+
		"%d orders set right after failed writes (in %v); %d transactions Courier left open ended (looking took %v); Courier restarted %d times after leaving transactions open or holding connections (restarts took %v); "+
		"backend connections kept, by shape: %s\n%s",
		r.seed, time.Since(r.start).Round(time.Millisecond), !mergeAbsent, r.replicaReads, r.lostSessions, r.ref.Lost,
		r.h.Healed, r.healTime.Round(time.Millisecond), r.h.Ended, r.leakTime.Round(time.Millisecond), r.restarts, r.restartTime.Round(time.Millisecond), strings.Join(kept, ", "), r.tally.String(ways...))
	r.e.checkRows(t, r.refDB)
	if r.replicaReads == 0 {
		t.Errorf("no statement went to a replica: the run did not test reads from replicas")
	}
	if len(r.failed) == 0 {
		return
	}
	var parts []string
	for _, s := range difftest.Shapes() {
		for _, w := range ways {
			if n := r.failed[wayShape{s, w}]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s/%s %d", s, w, n))
			}
		}
	}
	var kinds []string
	for k, n := range r.reasons {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	slices.Sort(kinds)
	t.Fatalf("Courier over %d shards answered differently from one server: %s\nby kind: %s",
		shards, strings.Join(parts, ", "), strings.Join(kinds, ", "))
}

// held is how many backend connections c has in use (open, not idle).
func held(c *testbed.Courier) int {
	n := 0
	for _, b := range c.Server.Status().Backends {
		n += b.Open - b.Idle
	}
	return n
}

// newSide opens the sessions of one side of the comparison.
func newSide(ctx context.Context, t *testing.T, db, multi *sql.DB) *difftest.Side {
	s, err := difftest.NewSide(ctx, db, multi)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}
