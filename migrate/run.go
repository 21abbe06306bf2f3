package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/courier-proxy/courier/config"
)

// Options are a migration's settings.
type Options struct {
	// Name identifies the migration in the control schema (default
	// "migration").
	Name string
	// Mode is "stop" (stop-the-world) or "online" (copy from snapshots
	// and binlog catch-up while writes go on; writes held only for the
	// switch).
	Mode string
	// Rate bounds the online copy's rows per second (0: no bound).
	Rate float64
	// Chunk is how many rows a copy or verification reads at a time.
	Chunk int
	// NoSwitch (online) stops once the targets have caught up and
	// verified under load, without holding writes: Switch, later, follows
	// the binlogs again from where this run stopped and switches.
	NoSwitch bool
	// Pause bounds the write hold (at most a minute, Courier's MaxHold),
	// Drain the wait for statements and transactions in flight.
	Pause, Drain time.Duration
	// Progress receives progress; Event one line per step.
	Progress func(Progress)
	Event    func(string)
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = "migration"
	}
	if o.Mode == "" {
		o.Mode = "stop"
	}
	if o.Chunk <= 0 {
		o.Chunk = 1000
	}
	if o.Pause <= 0 {
		o.Pause = 30 * time.Second
	}
	if o.Drain <= 0 {
		o.Drain = 5 * time.Second
	}
	if o.Progress == nil {
		o.Progress = func(Progress) {}
	}
	if o.Event == nil {
		o.Event = func(string) {}
	}
	return o
}

// switchMargin is the hold time that must remain on every instance to
// record and switch the layout.
const switchMargin = 3 * time.Second

// Migration is one migration between two layouts, its plan and its
// durable state.
type Migration struct {
	Plan  *Plan
	State *State
	fleet *Fleet
	opt   Options
	st    *store
	// reverse: the targets hold the old layout's copies, emptied before
	// the copy.
	reverse bool
}

// Open opens the migration named in opt from the layout of the file
// from to that of the file to, over the MySQL schema db, with the
// Courier instances of fleet. An existing migration of that name must be
// between the same files.
func Open(ctx context.Context, from, to []byte, db string, fleet *Fleet, opt Options) (*Migration, error) {
	opt = opt.withDefaults()
	if opt.Mode != "stop" && opt.Mode != "online" {
		return nil, fmt.Errorf("mode %q: the modes are stop (stop-the-world) and online", opt.Mode)
	}
	fc, err := config.Parse(from)
	if err != nil {
		return nil, fmt.Errorf("the current configuration: %w", err)
	}
	tc, err := config.Parse(to)
	if err != nil {
		return nil, fmt.Errorf("the new configuration: %w", err)
	}
	p, err := NewPlan(fc, tc, db)
	if err != nil {
		return nil, err
	}
	p.fromText, p.toText = string(from), string(to)
	m := &Migration{Plan: p, fleet: fleet, opt: opt, st: &store{db: p.pools[fc.DefaultCluster]}}
	if err := m.st.init(ctx); err != nil {
		p.Close()
		return nil, err
	}
	if m.State, err = m.st.load(ctx, opt.Name); err != nil {
		p.Close()
		return nil, err
	}
	if m.State != nil && (m.State.From != string(from) || m.State.To != string(to) || m.State.DB != db) {
		p.Close()
		return nil, fmt.Errorf("migration %s exists between other files or schema (phase %s); give this one another --name", opt.Name, m.State.Phase)
	}
	return m, nil
}

// Resume opens the migration named name, recorded on the default cluster
// of the configuration file cfg, from its recorded files, with the
// Courier instances it recorded (token: their admin_token).
func Resume(ctx context.Context, cfg []byte, name, token string, opt Options) (*Migration, error) {
	c, err := config.Parse(cfg)
	if err != nil {
		return nil, err
	}
	cl := c.Cluster(c.DefaultCluster)
	db := openPool(cl, "")
	defer db.Close()
	st := &store{db: db}
	if err := st.init(ctx); err != nil {
		return nil, err
	}
	s, err := st.load(ctx, name)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, fmt.Errorf("no migration named %s on cluster %s", name, c.DefaultCluster)
	}
	opt.Name = name
	return Open(ctx, []byte(s.From), []byte(s.To), s.DB, NewFleet(s.Admins, token), opt)
}

// Close closes the migration's connections.
func (m *Migration) Close() { m.Plan.Close() }

func (m *Migration) tables() []string {
	var out []string
	for _, t := range m.Plan.Tables {
		out = append(out, t.Table)
	}
	return out
}

func (m *Migration) save(ctx context.Context, phase, msg string) error {
	m.State.Phase, m.State.Message = phase, msg
	return m.st.save(context.WithoutCancel(ctx), m.State)
}

// Start runs the stop-the-world migration, or resumes it where a stopped
// run left it: hold writes to the moved tables on every instance, copy,
// verify to zero differences, record the new layout, switch every
// instance (which releases the holds). A run stopped before the switch
// resumes its copy from the checkpoints if every hold is still in
// place, and otherwise (writes may have reached the sources) empties the
// targets and starts the copy over.
func (m *Migration) Start(ctx context.Context) error {
	fresh := m.State == nil
	if fresh {
		if err := m.Plan.Check(ctx, m.reverse); err != nil {
			return err
		}
		m.State = &State{Name: m.opt.Name, DB: m.Plan.DB, Mode: m.opt.Mode, Admins: m.fleet.Admins}
		m.State.From, m.State.To = m.Plan.fromText, m.Plan.toText
		if err := m.save(ctx, PhaseCopying, "planned"); err != nil {
			return err
		}
	} else if err := m.Plan.Check(ctx, true); err != nil { // columns and keys; the targets hold our copy
		return err
	}
	if m.State.Mode != m.opt.Mode {
		return fmt.Errorf("migration %s runs in mode %s, not %s", m.State.Name, m.State.Mode, m.opt.Mode)
	}
	switch m.State.Phase {
	case PhaseSwitching:
		return m.switchAll(ctx)
	case PhaseSwitched, PhaseCompleted:
		return fmt.Errorf("migration %s is %s already", m.State.Name, m.State.Phase)
	case PhaseAborted, PhaseReversed:
		return fmt.Errorf("migration %s was %s; start a new one with another --name", m.State.Name, m.State.Phase)
	}
	if len(m.Plan.Tables) == 0 {
		m.State.Holds, m.State.HeldAt = nil, time.Now()
		m.opt.Event("no table changes placement: recording the new layout and switching the instances")
		return m.record(ctx)
	}
	if m.opt.Mode == "online" {
		return m.startOnline(ctx, fresh)
	}
	if m.opt.NoSwitch {
		return errors.New("--no-switch is for the online mode: stop-the-world holds writes until it switches")
	}
	if err := m.holdWrites(ctx, fresh); err != nil {
		return err
	}
	if err := m.copyAll(ctx); err != nil {
		return err
	}
	if err := m.verify(ctx); err != nil {
		return err
	}
	if err := m.fleet.stillHeld(ctx, m.State.Holds, switchMargin); err != nil {
		return fmt.Errorf("not switched: %w; run start again to copy again under a new hold", err)
	}
	return m.record(ctx)
}

// holdWrites places the holds, or keeps those of a stopped run that are
// still in place. Under new holds, whatever a stopped run copied may be
// stale (writes reached the sources between its holds and these): the
// targets are emptied and the copy starts over; so are a reverse's
// targets, which hold the old layout's copies.
func (m *Migration) holdWrites(ctx context.Context, fresh bool) error {
	if len(m.State.Holds) > 0 {
		err := m.fleet.stillHeld(ctx, m.State.Holds, switchMargin)
		if err == nil {
			m.opt.Event("resuming under the holds still in place")
			return nil
		}
		m.opt.Event("the earlier run's holds are gone (" + err.Error() + "): copying again from the start")
		m.State.Holds = nil
	}
	if !fresh || m.reverse {
		if err := m.Plan.clearTargets(ctx); err != nil {
			return err
		}
		if err := m.st.resetCheckpoints(ctx, m.State.Name); err != nil {
			return err
		}
	}
	heldAt := time.Now() // the first instance holds from its call on
	hs, err := m.fleet.hold(ctx, m.tables(), m.opt.Pause, m.opt.Drain)
	if err != nil {
		return err
	}
	m.State.Holds, m.State.HeldAt = map[string]uint64{}, heldAt
	for a, h := range hs {
		m.State.Holds[a] = h.Hold
	}
	m.opt.Event(fmt.Sprintf("writes to %s held on %d Courier instance(s)", strings.Join(m.tables(), ", "), len(hs)))
	return m.save(ctx, PhaseCopying, "copying")
}

// copyAll copies every source of every table from its checkpoint.
func (m *Migration) copyAll(ctx context.Context) error {
	cps, err := m.st.checkpoints(ctx, m.State.Name)
	if err != nil {
		return err
	}
	for _, t := range m.Plan.Tables {
		for _, src := range t.Sources {
			cp := cps[[2]string{t.Table, src}]
			cp.Table, cp.Source = t.Table, src
			if cp.Done {
				continue
			}
			save := func(c checkpoint) error { return m.st.saveCheckpoint(ctx, m.State.Name, c) }
			if err := m.Plan.copySource(ctx, t, src, cp, m.opt.Chunk, save, m.opt.Progress); err != nil {
				return fmt.Errorf("copying %s from %s: %w", t.Table, src, err)
			}
		}
	}
	return nil
}

// verify compares sources and targets; any difference stops the
// migration before the switch, with the holds released.
func (m *Migration) verify(ctx context.Context) error {
	reps, err := m.Plan.Verify(ctx, m.opt.Chunk, m.opt.Progress)
	if err != nil {
		return err
	}
	if bad := differences(reps); bad != "" {
		m.fleet.release(context.WithoutCancel(ctx), m.heldMap())
		_ = m.save(ctx, PhaseCopying, "verification found differences")
		return fmt.Errorf("verification found differences; writes released, nothing switched:\n  %s", bad)
	}
	m.opt.Event(fmt.Sprintf("verified: %d table(s) on %d target(s), zero differences", len(m.Plan.Tables), len(reps)))
	return m.save(ctx, PhaseCopied, "verified")
}

// differences describes the reports that found differences ("" when
// none did).
func differences(reps []Report) string {
	var bad []string
	for _, r := range reps {
		if r.Differences > 0 {
			s := fmt.Sprintf("%s on %s: %d differences", r.Table, r.Target, r.Differences)
			for _, d := range r.Samples {
				s += fmt.Sprintf("\n    key %s %s", d.Key, d.What)
			}
			bad = append(bad, s)
		}
	}
	return strings.Join(bad, "\n  ")
}

func (m *Migration) heldMap() map[string]held {
	out := map[string]held{}
	for a, h := range m.State.Holds {
		out[a] = held{Hold: h}
	}
	return out
}

// record records the new layout (the commit point: from then on it is
// the layout, and an instance whose hold lapses reads it) and switches.
func (m *Migration) record(ctx context.Context) error {
	v, err := m.st.latestLayout(ctx)
	if err != nil {
		return err
	}
	ls, err := m.fleet.Layouts(ctx)
	if err != nil {
		return err
	}
	for _, l := range ls {
		v = max(v, l.Version)
	}
	m.State.Version = v + 1
	if err := m.st.recordLayout(ctx, m.State.Version, m.State.To, m.State.Name); err != nil {
		return err
	}
	if err := m.save(ctx, PhaseSwitching, "layout recorded"); err != nil {
		return err
	}
	return m.switchAll(ctx)
}

func (m *Migration) switchAll(ctx context.Context) error {
	if err := m.fleet.switchAll(ctx, []byte(m.State.To), m.State.Version, m.State.Holds); err != nil {
		return fmt.Errorf("the new layout is recorded (version %d) but not every instance switched: %w; run start again to retry", m.State.Version, err)
	}
	m.State.Pause = time.Since(m.State.HeldAt)
	m.opt.Event(fmt.Sprintf("switched %d instance(s) to layout version %d; writes were held for %s", len(m.fleet.Admins), m.State.Version, m.State.Pause.Round(time.Millisecond)))
	return m.save(ctx, PhaseSwitched, "switched")
}

// Abort stops a migration that has not switched: holds released, the
// targets emptied.
func (m *Migration) Abort(ctx context.Context) error {
	if m.State == nil {
		return fmt.Errorf("no migration named %s", m.opt.Name)
	}
	switch m.State.Phase {
	case PhaseCopying, PhaseCopied:
	default:
		return fmt.Errorf("migration %s is %s: only one that has not switched can be aborted (use reverse after a switch)", m.State.Name, m.State.Phase)
	}
	m.fleet.release(ctx, m.heldMap())
	if err := m.Plan.clearTargets(ctx); err != nil {
		return err
	}
	if err := m.st.resetCheckpoints(ctx, m.State.Name); err != nil {
		return err
	}
	m.State.Holds = nil
	return m.save(ctx, PhaseAborted, "aborted")
}

// Complete deletes the moved tables' rows from the clusters that held
// them in the old layout, after the switch. Reverse is then a migration
// like any other.
func (m *Migration) Complete(ctx context.Context) error {
	if m.State == nil || m.State.Phase != PhaseSwitched {
		return fmt.Errorf("migration %s has not switched: nothing to complete", m.opt.Name)
	}
	for _, t := range m.Plan.Tables {
		for _, c := range t.Holders {
			if err := deleteAll(ctx, m.Plan.pools[c], c, t.Table); err != nil {
				return err
			}
			m.opt.Event(fmt.Sprintf("deleted the old copy of %s on %s", t.Table, c))
		}
	}
	return m.save(ctx, PhaseCompleted, "completed")
}

// Reverse switches a switched migration back to the old layout, the same
// way (stop-the-world): writes held, the old copies emptied, the rows
// copied back, verified, switched. The reverse is recorded as migration
// "<name>.reverse".
// Switch switches an online migration started with NoSwitch: the
// targets catch up from the recorded positions, are verified under load
// again, and the layout is switched with writes held only for the last
// catch-up.
func (m *Migration) Switch(ctx context.Context) error {
	if m.State == nil || m.State.Mode != "online" || m.State.Phase != PhaseCatchingUp {
		phase := "not started"
		if m.State != nil {
			phase = m.State.Mode + ", " + m.State.Phase
		}
		return fmt.Errorf("migration %s is %s: switch continues an online migration that has copied and caught up (start --mode online --no-switch)", m.opt.Name, phase)
	}
	m.opt.Mode, m.opt.NoSwitch = "online", false
	return m.Start(ctx)
}

// Reverse switches a switched migration back to the old layout. After an
// online migration it runs online and copies nothing: the old copies
// catch up from the binlog positions recorded at the switch (unless the
// binlogs since are gone: then they are emptied and copied again).
// Otherwise it runs as the migration did, copying back.
func (m *Migration) Reverse(ctx context.Context) error {
	if m.State == nil || m.State.Phase != PhaseSwitched {
		return fmt.Errorf("migration %s has not switched (or was completed): nothing to reverse", m.opt.Name)
	}
	opt := m.opt
	opt.Name, opt.Mode, opt.NoSwitch = m.State.Name+".reverse", m.State.Mode, false
	back, err := Open(ctx, []byte(m.State.To), []byte(m.State.From), m.State.DB, m.fleet, opt)
	if err != nil {
		return err
	}
	defer back.Close()
	back.reverse = true
	if back.State != nil && back.State.Phase == PhaseSwitched {
		return errors.New("already reversed")
	}
	if back.State == nil && m.State.Mode == "online" && m.State.Back != nil {
		// The old copies are as they were at the switch: applying the
		// new layout's changes since brings them up to date.
		if err := back.followFromSwitch(ctx, m.State.Back); err != nil {
			return err
		}
	}
	if err := back.Start(ctx); err != nil {
		return err
	}
	m.State.Holds = nil
	return m.save(ctx, PhaseReversed, "reversed as "+opt.Name)
}

// Status is a migration's state with its copy's progress.
type Status struct {
	State     *State
	Tables    []TableStatus
	Instances map[string]Layout
	// CatchUp is, online, how far each source's changes have been applied
	// (as last recorded, at most a second old while start runs).
	CatchUp []CatchUp `json:",omitempty"`
}

// CatchUp is one source's catch-up: the binlog position applied, the
// source's own, and the bytes between them when in the same file (-1
// otherwise).
type CatchUp struct {
	Source      string
	AppliedAt   string
	At          string
	BytesBehind int64
}

// TableStatus is the copy's progress for one table and source.
type TableStatus struct {
	Table, Source string
	Rows          int64
	Estimate      int64
	Done          bool
}

// Status reads the migration's state, its checkpoints and what every
// instance serves.
func (m *Migration) Status(ctx context.Context) (*Status, error) {
	if m.State == nil {
		return nil, fmt.Errorf("no migration named %s", m.opt.Name)
	}
	cps, err := m.st.checkpoints(ctx, m.State.Name)
	if err != nil {
		return nil, err
	}
	st := &Status{State: m.State}
	_ = m.Plan.Check(ctx, true) // estimates, when the servers answer
	for _, t := range m.Plan.Tables {
		for _, src := range t.Sources {
			cp := cps[[2]string{t.Table, src}]
			st.Tables = append(st.Tables, TableStatus{Table: t.Table, Source: src, Rows: cp.Rows, Estimate: t.Estimates[src], Done: cp.Done})
		}
	}
	slices.SortFunc(st.Tables, func(a, b TableStatus) int { return strings.Compare(a.Table+a.Source, b.Table+b.Source) })
	st.Instances, _ = m.fleet.Layouts(ctx)
	if m.State.Mode == "online" && (m.State.Phase == PhaseCopying || m.State.Phase == PhaseCatchingUp) {
		applied, err := m.st.positions(ctx, m.State.Name)
		if err != nil {
			return nil, err
		}
		for _, src := range m.sources() {
			pos, ok := m.State.Positions[src]
			if !ok {
				continue // not copied yet
			}
			if p, ok := applied[src]; ok && pos.less(p) {
				pos = p
			}
			now, err := masterPos(ctx, m.Plan.pools[src])
			if err != nil {
				return nil, on(src, err)
			}
			c := CatchUp{Source: src, AppliedAt: pos.String(), At: now.String(), BytesBehind: -1}
			if now.File == pos.File && !now.less(pos) {
				c.BytesBehind = int64(now.Pos - pos.Pos)
			}
			st.CatchUp = append(st.CatchUp, c)
		}
	}
	return st, nil
}
