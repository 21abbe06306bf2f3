package proxy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/router"
	"github.com/courier-proxy/courier/sqlerr"
)

// MaxHold is the longest a write hold may last: a hold whose holder
// (courierctl migrate) went away lapses by then and the writes it held
// run (see lapse).
const MaxHold = time.Minute

// writeHolds are the write holds of a layout change. While a hold is in
// place, a statement that writes one of its tables waits, without an
// error, until the hold is released (by the switch that needed it, or
// explicitly) or lapses; statements and transactions already in flight
// when it was placed finish first, and placing it waits for them
// (drains). One hold at a time.
//
// In flight is told by each session's mark: the hold generation it saw
// (plus one) when its current unit of work began — a statement that may
// write, or a transaction from its first statement until it ends; 0 when
// idle. A session stores its mark and then looks for a hold; Hold
// publishes the hold and then reads the marks: so either the session
// sees the hold, or the hold sees the session in flight.
type writeHolds struct {
	gen atomic.Uint64 // generation of the latest hold
	cur atomic.Pointer[hold]
	mu  sync.Mutex // serialises placing and releasing
}

// hold is one write hold.
type hold struct {
	gen    uint64
	tables map[string]bool // lower case; sharding table names, any schema
	until  time.Time
	done   chan struct{} // closed when released or lapsed
	timer  *time.Timer
}

// HoldStatus describes a write hold.
type HoldStatus struct {
	Hold   uint64    `json:"hold"`
	Tables []string  `json:"tables"`
	Until  time.Time `json:"until"`
	// Drained is how long placing it waited for statements and
	// transactions in flight; Waited how many sessions it waited for.
	Drained time.Duration `json:"drained_ns,omitempty"`
	Waited  int           `json:"waited,omitempty"`
}

func (h *hold) status() *HoldStatus {
	st := &HoldStatus{Hold: h.gen, Until: h.until}
	for t := range h.tables {
		st.Tables = append(st.Tables, t)
	}
	slices.Sort(st.Tables)
	return st
}

func (hs *writeHolds) current() *hold { return hs.cur.Load() }

// release ends h if it is still the hold in place.
func (hs *writeHolds) release(h *hold) bool {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if hs.cur.Load() != h {
		return false
	}
	hs.cur.Store(nil)
	h.timer.Stop()
	close(h.done)
	return true
}

// Hold holds writes to tables for at most pause (≤ MaxHold), after the
// statements and transactions in flight have finished, waiting for them
// at most drain. If they do not finish in time the hold is released and
// the error names the sessions still in flight.
func (l *Layouts) Hold(ctx context.Context, tables []string, pause, drain time.Duration) (*HoldStatus, error) {
	if len(tables) == 0 {
		return nil, errors.New("a hold needs at least one table")
	}
	if pause <= 0 || pause > MaxHold {
		return nil, fmt.Errorf("a hold's pause must be more than 0 and at most %s", MaxHold)
	}
	hs := &l.holds
	hs.mu.Lock()
	if cur := hs.cur.Load(); cur != nil {
		hs.mu.Unlock()
		return nil, fmt.Errorf("write hold %d is in place: release it first", cur.gen)
	}
	h := &hold{gen: hs.gen.Load() + 1, tables: map[string]bool{}, until: time.Now().Add(pause), done: make(chan struct{})}
	for _, t := range tables {
		h.tables[strings.ToLower(t)] = true
	}
	h.timer = time.AfterFunc(pause, func() { l.lapse(h) })
	// The hold is visible before the generation moves: a session that
	// did not see it (its check of cur came first) read the generation
	// before the move too, so its mark is at most h.gen and the drain
	// below waits for it. (The other order let a statement that had just
	// missed the hold run on the old layout undrained, after the copy
	// had read its row: a lost write.)
	hs.cur.Store(h)
	hs.gen.Store(h.gen)
	hs.mu.Unlock()

	start := time.Now()
	deadline := start.Add(drain)
	var waited map[uint32]bool
	for {
		busy := l.inFlight(h.gen)
		if len(busy) == 0 {
			break
		}
		if waited == nil {
			waited = map[uint32]bool{}
		}
		for _, id := range busy {
			waited[id] = true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			hs.release(h)
			return nil, fmt.Errorf("sessions %v were still running statements or transactions after %s: the hold was released", busy, drain)
		}
		time.Sleep(time.Millisecond)
	}
	st := h.status()
	st.Drained, st.Waited = time.Since(start), len(waited)
	return st, nil
}

// lapse ends hold h when its pause has passed without a release (its
// holder, courierctl migrate, went away). First it serves the newest
// recorded layout: if the migration recorded its switch before going
// away, the writes held run on the layout the data is in now. While the
// record cannot be read, the writes stay held (each bounded by its
// statement's time limit).
func (l *Layouts) lapse(h *hold) {
	s := l.s
	for l.holds.current() == h && !s.closing.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := l.adoptRecorded(ctx)
		cancel()
		if err == nil {
			if l.holds.release(h) {
				s.log.Warn("write hold lapsed", zap.Uint64("hold", h.gen), zap.Uint64("layout", l.Version()))
			}
			return
		}
		s.log.Warn("write hold lapsed, but the recorded layout cannot be read: writes stay held", zap.Error(err))
		time.Sleep(time.Second)
	}
}

// Release releases write hold gen.
func (l *Layouts) Release(gen uint64) error {
	if h := l.holds.current(); h != nil && h.gen == gen && l.holds.release(h) {
		return nil
	}
	return fmt.Errorf("write hold %d is not in place", gen)
}

// inFlight lists the sessions whose unit of work began before hold gen.
func (l *Layouts) inFlight(gen uint64) []uint32 {
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []uint32
	for id, ss := range s.sessions {
		if m := ss.mark.Load(); m != 0 && m <= gen {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// admit lets a statement of ss that writes access (every table it names
// when ddl, any table when unknown) run, waiting while a hold covers one
// of them. A transaction that was in flight when the hold was placed is
// not held. It reports whether the statement waited: the layout may have
// changed meanwhile, and the statement must be planned again.
func (hs *writeHolds) admit(ctx context.Context, ss *session, access []router.Access, ddl, unknown bool) (bool, error) {
	h := hs.cur.Load()
	if h == nil || !h.covers(access, ddl, unknown) {
		return false, nil
	}
	cu := ss.cur
	if cu.tx.branches > 0 && ss.mark.Load() <= h.gen {
		return false, nil // in flight: the hold waits for it
	}
	if cu.tx.branches == 0 {
		ss.mark.Store(0) // not in flight while it waits
	}
	select {
	case <-h.done:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	if cu.tx.branches == 0 {
		ss.mark.Store(hs.gen.Load() + 1)
	}
	return true, nil
}

// admitPlan admits a statement that writes by its plan p (see admit),
// and refuses it (1412) in a transaction begun on a layout switched
// since. It reports whether the statement must be planned again.
func (hs *writeHolds) admitPlan(ctx context.Context, ss *session, p *router.Plan) (bool, error) {
	waited, err := hs.admit(ctx, ss, p.Access, p.DDL, false)
	if err != nil || waited {
		if waited && ss.cur.tx.branches == 0 {
			ss.snap = ss.srv.snapshot()
		}
		return waited, err
	}
	if ss.cur.tx.branches > 0 && ss.snap != ss.srv.snapshot() {
		return false, errLayoutChanged()
	}
	return false, nil
}

// enter begins a statement of ss of kind k: outside a transaction it
// plans on the layout now served, and a statement that may write, or any
// in a transaction, marks the session in flight.
func (hs *writeHolds) enter(ss *session, k parser.Kind) {
	if ss.cur.tx.branches == 0 {
		ss.snap = ss.srv.snapshot()
	}
	if ss.mark.Load() == 0 && (mayWrite(k) || ss.cur.tx.active(ss)) {
		ss.mark.Store(hs.gen.Load() + 1)
	}
}

// leave ends a statement of ss: unless a transaction is open on a
// backend, the session is no longer in flight.
func (hs *writeHolds) leave(ss *session) {
	if ss.cur.tx.branches == 0 && ss.mark.Load() != 0 {
		ss.mark.Store(0)
	}
}

// covers reports whether a statement writing access falls under h.
func (h *hold) covers(access []router.Access, ddl, unknown bool) bool {
	if unknown {
		return true
	}
	for _, a := range access {
		if (a.Write || ddl) && h.tables[a.Table] {
			return true
		}
	}
	return false
}

// writes reports whether a plan writes a table (or changes one).
func writes(p *router.Plan) bool {
	if p.DDL {
		return true
	}
	for _, a := range p.Access {
		if a.Write {
			return true
		}
	}
	return false
}

// errLayoutChanged refuses a write in a transaction begun on a layout
// that has been switched since.
func errLayoutChanged() error {
	return sqlerr.New(sqlerr.ErrTableDefChanged, "Table definition has changed, please retry transaction (the sharding layout was switched while the transaction was open; roll it back and run it again)")
}
