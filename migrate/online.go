package migrate

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// PhaseCatchingUp: online, copied; the sources' changes since their
// snapshots are being applied to the targets.
const PhaseCatchingUp = "catching-up"

// maxPending bounds the rows whose copies differ, under load, that a
// verification re-checks.
const maxPending = 100_000

// startOnline runs the online mode: each source copied from a consistent
// snapshot in throttled chunks while writes go on, then the changes made
// since the snapshot applied from its binlog and followed; a
// verification under the catch-up, its differences re-checked until they
// are gone; then the switch, writes held only while the targets catch
// up to the sources' last position and the differences still pending
// are re-checked.
//
// A run stopped during the copy starts the copy over (the snapshot is
// gone); one stopped during the catch-up follows again from the position
// it recorded.
func (m *Migration) startOnline(ctx context.Context, fresh bool) error {
	if m.State.Phase == PhaseCopying && !fresh {
		m.opt.Event("the earlier run stopped during its copy: copying again from a new snapshot")
		if err := m.Plan.clearTargets(ctx); err != nil {
			return err
		}
		if err := m.st.resetCheckpoints(ctx, m.State.Name); err != nil {
			return err
		}
		m.State.Positions = nil
	}
	if m.reverse && fresh {
		if err := m.Plan.clearTargets(ctx); err != nil {
			return err
		}
	}
	if err := m.rowBinlogs(ctx); err != nil {
		return err
	}
	followers := map[string]*follower{}
	defer func() {
		for _, f := range followers {
			f.stop()
		}
	}()
	if m.State.Phase == PhaseCopying {
		if err := m.snapshotCopy(ctx, followers); err != nil {
			return err
		}
		if err := m.save(ctx, PhaseCatchingUp, "catching up"); err != nil {
			return err
		}
	} else {
		m.opt.Event("following the sources' binary logs again from the recorded positions")
		applied, err := m.st.positions(ctx, m.State.Name)
		if err != nil {
			return err
		}
		for src, pos := range m.State.Positions {
			if p, ok := applied[src]; ok && pos.less(p) {
				pos = p
			}
			if err := m.follow(followers, src, pos); err != nil {
				return err
			}
		}
	}
	pending, err := m.verifyUnderLoad(ctx, followers)
	if err != nil {
		return err
	}
	if m.opt.NoSwitch {
		for src, f := range followers {
			f.stop()
			if err := m.st.savePosition(ctx, m.State.Name, src, f.position()); err != nil {
				return err
			}
		}
		m.opt.Event("caught up and verified under load: ready to switch (migrate switch); the targets fall behind until then, and catch up first")
		return nil
	}
	return m.cutOver(ctx, followers, pending)
}

// followFromSwitch starts a reverse in its catch-up: the new layout's
// binlogs followed from the positions recorded at the switch, into the
// old copies. When a binlog since the switch is gone it starts nothing,
// and the reverse copies back.
func (m *Migration) followFromSwitch(ctx context.Context, at map[string]binlogPos) error {
	for _, src := range m.sources() {
		pos, ok := at[src]
		if !ok {
			return fmt.Errorf("no binlog position of cluster %s recorded at the switch", src)
		}
		have, err := binlogFiles(ctx, m.Plan.pools[src])
		if err != nil {
			return on(src, err)
		}
		if !slices.Contains(have, pos.File) {
			m.opt.Event(fmt.Sprintf("cluster %s no longer has the binlog %s of the switch: copying back instead", src, pos.File))
			return nil
		}
	}
	m.State = &State{Name: m.opt.Name, DB: m.Plan.DB, Mode: "online", Admins: m.fleet.Admins,
		From: m.Plan.fromText, To: m.Plan.toText, Positions: at}
	m.opt.Event("the old copies are as they were at the switch: applying the changes made since, from the binlogs")
	return m.save(ctx, PhaseCatchingUp, "catching up from the switch")
}

// binlogFiles lists the binary logs a server still has.
func binlogFiles(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SHOW BINARY LOGS")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		var name string
		vals[0] = &name
		for i := 1; i < len(vals); i++ {
			vals[i] = new(sql.RawBytes)
		}
		if err := rows.Scan(vals...); err != nil {
			return nil, err
		}
		out = append(out, name)
	}
	return out, rows.Err()
}

// rowBinlogs checks that every source logs whole rows.
func (m *Migration) rowBinlogs(ctx context.Context) error {
	for _, src := range m.sources() {
		var format, image string
		if err := m.Plan.pools[src].QueryRowContext(ctx, "SELECT @@binlog_format, @@binlog_row_image").Scan(&format, &image); err != nil {
			return on(src, err)
		}
		if format != "ROW" || image != "FULL" {
			return fmt.Errorf("cluster %s logs binlog_format=%s, binlog_row_image=%s: the online mode needs ROW and FULL (or use --mode stop)", src, format, image)
		}
	}
	return nil
}

// snapshotCopy copies every source from a consistent snapshot and starts
// following it from the snapshot's binlog position.
func (m *Migration) snapshotCopy(ctx context.Context, followers map[string]*follower) error {
	var pace func(context.Context, int) error
	if m.opt.Rate > 0 {
		lim := rate.NewLimiter(rate.Limit(m.opt.Rate), max(m.opt.Chunk, int(m.opt.Rate)))
		pace = func(ctx context.Context, n int) error { return lim.WaitN(ctx, min(n, lim.Burst())) }
	}
	for _, src := range m.sources() {
		conn, err := m.Plan.pools[src].Conn(ctx)
		if err != nil {
			return on(src, err)
		}
		pos, err := snapshot(ctx, conn)
		if err != nil {
			endSnapshot(conn)
			return on(src, err)
		}
		for _, t := range m.Plan.Tables {
			if !slices.Contains(t.Sources, src) {
				continue
			}
			cp := checkpoint{Table: t.Table, Source: src}
			save := func(c checkpoint) error { return m.st.saveCheckpoint(ctx, m.State.Name, c) }
			if err := m.Plan.copyFrom(ctx, conn, t, src, cp, m.opt.Chunk, pace, save, m.opt.Progress); err != nil {
				endSnapshot(conn)
				return fmt.Errorf("copying %s from %s: %w", t.Table, src, err)
			}
		}
		endSnapshot(conn)
		if m.State.Positions == nil {
			m.State.Positions = map[string]binlogPos{}
		}
		m.State.Positions[src] = pos
		if err := m.save(ctx, PhaseCopying, "copied "+src); err != nil {
			return err
		}
		if err := m.follow(followers, src, pos); err != nil {
			return err
		}
		m.opt.Event(fmt.Sprintf("copied %s from its snapshot at %s; applying its changes since", src, pos))
	}
	return nil
}

// endSnapshot ends the snapshot (a read-only transaction) on conn and
// gives it back to its pool, which must not be handed a connection
// inside a transaction.
func endSnapshot(conn *sql.Conn) {
	_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
	conn.Close()
}

// snapshot opens a consistent snapshot on conn and returns the binlog
// position it is consistent with.
func snapshot(ctx context.Context, conn *sql.Conn) (binlogPos, error) {
	if _, err := conn.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT"); err != nil {
		return binlogPos{}, err
	}
	var pos binlogPos
	for _, v := range []struct {
		name string
		dst  any
	}{{"binlog_snapshot_file", &pos.File}, {"binlog_snapshot_position", &pos.Pos}} {
		var name string
		if err := conn.QueryRowContext(ctx, "SHOW STATUS LIKE '"+v.name+"'").Scan(&name, v.dst); err != nil {
			return binlogPos{}, fmt.Errorf("%s: %w", v.name, err)
		}
	}
	if pos.File == "" {
		return binlogPos{}, errors.New("the binary log is off (log_bin): the online mode follows it")
	}
	return pos, nil
}

// follow starts applying src's changes from pos, recording the position
// applied in the migration's state.
func (m *Migration) follow(followers map[string]*follower, src string, pos binlogPos) error {
	f, err := m.Plan.newFollower(src, func(p binlogPos) error {
		return m.st.savePosition(context.Background(), m.State.Name, src, p)
	})
	if err != nil {
		return err
	}
	if err := f.start(pos); err != nil {
		return err
	}
	followers[src] = f
	return nil
}

func (m *Migration) sources() []string {
	var out []string
	for _, t := range m.Plan.Tables {
		for _, s := range t.Sources {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}

// caughtUp waits until every follower has applied its source's changes
// up to now.
func (m *Migration) caughtUp(ctx context.Context, followers map[string]*follower) error {
	for src, f := range followers {
		pos, err := masterPos(ctx, m.Plan.pools[src])
		if err != nil {
			return on(src, err)
		}
		if err := f.wait(ctx, pos); err != nil {
			return err
		}
	}
	return nil
}

// pendingKey is a row whose copy differed from its source when last
// compared.
type pendingKey struct {
	m      *Move
	target string
	key    []any
}

// verifyUnderLoad compares sources and targets while writes go on, then
// re-checks the rows that differed, after each catch-up, until none do
// (or a few rounds pass: those left are checked again with writes held).
func (m *Migration) verifyUnderLoad(ctx context.Context, followers map[string]*follower) ([]pendingKey, error) {
	if err := m.caughtUp(ctx, followers); err != nil {
		return nil, err
	}
	pending, err := m.Plan.differing(ctx, m.opt.Chunk, m.opt.Progress)
	if err != nil {
		return nil, err
	}
	for round := 0; round < 5 && len(pending) > 0; round++ {
		if err := m.caughtUp(ctx, followers); err != nil {
			return nil, err
		}
		if pending, err = m.Plan.recheck(ctx, pending); err != nil {
			return nil, err
		}
	}
	m.opt.Event(fmt.Sprintf("verified under load: %d row(s) still changing, checked again at the switch", len(pending)))
	return pending, nil
}

// cutOver holds writes, lets the targets catch up, re-checks what is
// pending, records the layout and switches: the writes are held only
// for that.
func (m *Migration) cutOver(ctx context.Context, followers map[string]*follower, pending []pendingKey) error {
	heldAt := time.Now() // the first instance holds from its call on
	hs, err := m.fleet.hold(ctx, m.tables(), m.opt.Pause, m.opt.Drain)
	if err != nil {
		return err
	}
	m.State.Holds, m.State.HeldAt = map[string]uint64{}, heldAt
	steps := []string{"holding and draining " + since(heldAt)}
	mark := time.Now()
	step := func(what string) {
		steps = append(steps, what+" "+since(mark))
		mark = time.Now()
	}
	for a, h := range hs {
		m.State.Holds[a] = h.Hold
	}
	release := func(why error) error {
		m.fleet.release(context.WithoutCancel(ctx), hs)
		m.State.Holds = nil
		_ = m.save(ctx, PhaseCatchingUp, "switch refused: "+why.Error())
		return fmt.Errorf("not switched, writes released: %w", why)
	}
	cctx, cancel := context.WithTimeout(ctx, m.opt.Pause-switchMargin)
	defer cancel()
	if err := m.caughtUp(cctx, followers); err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			err = fmt.Errorf("the targets did not catch up within --pause (%s, less a %s margin to switch): %w; start again when the sources are quieter, or give a longer --pause", m.opt.Pause, switchMargin, err)
		}
		return release(err)
	}
	step("catching up")
	left, err := m.Plan.recheck(cctx, pending)
	if err != nil {
		return release(err)
	}
	step(fmt.Sprintf("re-checking %d row(s)", len(pending)))
	if len(left) > 0 {
		var keys []string
		for _, k := range left[:min(len(left), maxSamples)] {
			keys = append(keys, fmt.Sprintf("%s on %s key %s", k.m.Table, k.target, *encodeKey(k.key)))
		}
		return release(fmt.Errorf("%d rows differ with writes held: %s", len(left), strings.Join(keys, "; ")))
	}
	if m.State.Back, err = m.binlogPositions(cctx); err != nil {
		return release(err)
	}
	// The targets as they are at the switch, for the verification after
	// it: the sources receive no write once the layout is switched, so
	// comparing them with these snapshots is exact.
	snaps, err := m.targetSnapshots(cctx)
	defer func() {
		for _, c := range snaps {
			endSnapshot(c)
		}
	}()
	if err != nil {
		return release(err)
	}
	if err := m.fleet.stillHeld(ctx, m.State.Holds, switchMargin); err != nil {
		return release(err)
	}
	step("snapshots and checks")
	for _, f := range followers {
		f.stop()
	}
	if err := m.record(ctx); err != nil {
		return err
	}
	step("recording and switching")
	m.opt.Event("the writes' pause: " + strings.Join(steps, ", "))
	return m.verifySwitched(ctx, snaps)
}

// binlogPositions is where each cluster's binlog stands, with every
// change applied and none coming (writes held): a reverse follows the
// new layout from there.
func (m *Migration) binlogPositions(ctx context.Context) (map[string]binlogPos, error) {
	out := map[string]binlogPos{}
	for _, c := range clustersOf(m.Plan) {
		pos, err := masterPos(ctx, m.Plan.pools[c])
		if err != nil {
			return nil, on(c, err)
		}
		out[c] = pos
	}
	return out, nil
}

// verifySwitched compares the targets as they were at the switch (snaps)
// with the sources, which receive no write any more: exactly.
func (m *Migration) verifySwitched(ctx context.Context, snaps map[string]*sql.Conn) error {
	dbs := map[string]querier{}
	for c, conn := range snaps {
		dbs[c] = conn
	}
	reps, err := m.Plan.verifyWith(ctx, m.opt.Chunk, m.opt.Progress, 0, dbs)
	if err != nil {
		return fmt.Errorf("switched; the verification at the switch could not run: %w (run migrate verify)", err)
	}
	if bad := differences(reps); bad != "" {
		_ = m.save(ctx, PhaseSwitched, "the verification at the switch found differences")
		return fmt.Errorf("switched, but the targets at the switch differ from the sources:\n  %s", bad)
	}
	m.opt.Event(fmt.Sprintf("verified the targets as they were at the switch: %d table(s) on %d target(s), zero differences", len(m.Plan.Tables), len(reps)))
	return nil
}

// since is the time since t, rounded for a person.
func since(t time.Time) string { return time.Since(t).Round(time.Millisecond).String() }

// targetSnapshots opens a consistent snapshot on every target.
func (m *Migration) targetSnapshots(ctx context.Context) (map[string]*sql.Conn, error) {
	out := map[string]*sql.Conn{}
	for _, t := range m.Plan.Tables {
		for _, c := range t.Targets {
			if out[c] != nil {
				continue
			}
			conn, err := m.Plan.pools[c].Conn(ctx)
			if err != nil {
				return out, on(c, err)
			}
			out[c] = conn
			if _, err := conn.ExecContext(ctx, "START TRANSACTION WITH CONSISTENT SNAPSHOT"); err != nil {
				return out, on(c, err)
			}
		}
	}
	return out, nil
}

// differing runs a full verification and returns every row that
// differs (at most maxPending).
func (p *Plan) differing(ctx context.Context, chunk int, progress func(Progress)) ([]pendingKey, error) {
	var out []pendingKey
	reps, err := p.verify(ctx, chunk, progress, maxPending)
	if err != nil {
		return nil, err
	}
	for _, r := range reps {
		out = append(out, r.keys...)
		if r.Differences > int64(len(r.keys)) {
			return nil, fmt.Errorf("table %s on %s: more than %d rows differ under load: too many to re-check; try again at a quieter time", r.Table, r.Target, maxPending)
		}
	}
	return out, nil
}

// recheck reads each pending row on its source and its target again and
// returns those that still differ.
func (p *Plan) recheck(ctx context.Context, keys []pendingKey) ([]pendingKey, error) {
	var out []pendingKey
	for _, k := range keys {
		var want *uint64
		for _, src := range k.m.Sources {
			r, err := p.readKey(ctx, src, k.m, k.key)
			if err != nil {
				return nil, err
			}
			if r != nil {
				if ts, err := p.targetOf(k.m, r); err == nil && slices.Contains(ts, k.target) {
					h := hashRow(r)
					want = &h
				}
				break
			}
		}
		r, err := p.readKey(ctx, k.target, k.m, k.key)
		if err != nil {
			return nil, err
		}
		switch {
		case want == nil && r == nil:
		case want != nil && r != nil && hashRow(r) == *want:
		default:
			out = append(out, k)
		}
	}
	return out, nil
}

// readKey reads one row of m by primary key on a cluster (nil: none).
func (p *Plan) readKey(ctx context.Context, cluster string, m *Move, key []any) (row, error) {
	cols := make([]string, len(m.columns))
	for i, c := range m.columns {
		cols[i] = ident(c)
	}
	where := make([]string, len(m.pk))
	for i, j := range m.pk {
		where[i] = ident(m.columns[j]) + " = ?"
	}
	rs, err := p.pools[cluster].QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+ident(m.Table)+" WHERE "+strings.Join(where, " AND "), key...)
	if err != nil {
		return nil, on(cluster, err)
	}
	defer rs.Close()
	if !rs.Next() {
		return nil, on(cluster, rs.Err())
	}
	r := make(row, len(cols))
	ptrs := make([]any, len(cols))
	for i := range r {
		ptrs[i] = &r[i]
	}
	return r, on(cluster, rs.Scan(ptrs...))
}

// savePosition records the binlog position a follower has applied.
func (st *store) savePosition(ctx context.Context, name, source string, pos binlogPos) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	text, _ := json.Marshal(pos)
	_, err := st.db.ExecContext(ctx, "REPLACE INTO courier_control.migration_progress (name, tbl, source, state) VALUES (?, '', ?, ?)", name, source, string(text))
	return err
}

// positions reads the positions followers recorded.
func (st *store) positions(ctx context.Context, name string) (map[string]binlogPos, error) {
	rows, err := st.db.QueryContext(ctx, "SELECT source, state FROM courier_control.migration_progress WHERE name = ? AND tbl = ''", name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]binlogPos{}
	for rows.Next() {
		var src, text string
		if err := rows.Scan(&src, &text); err != nil {
			return nil, err
		}
		var p binlogPos
		if err := json.Unmarshal([]byte(text), &p); err != nil {
			return nil, err
		}
		out[src] = p
	}
	return out, rows.Err()
}
