package migrate

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	gomysql "github.com/go-sql-driver/mysql"

	"github.com/courier-proxy/courier/config"
)

// binlogPos is a position in a server's binary log.
type binlogPos struct {
	File string `json:"file"`
	Pos  uint32 `json:"pos"`
}

func (a binlogPos) less(b binlogPos) bool {
	return a.File < b.File || (a.File == b.File && a.Pos < b.Pos)
}

func (a binlogPos) String() string { return fmt.Sprintf("%s:%d", a.File, a.Pos) }

// masterPos is a source's binlog position now (after every transaction
// committed so far).
func masterPos(ctx context.Context, db *sql.DB) (binlogPos, error) {
	rows, err := db.QueryContext(ctx, "SHOW MASTER STATUS")
	if err != nil {
		return binlogPos{}, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if !rows.Next() {
		return binlogPos{}, errors.New("the binary log is off (log_bin): the online mode follows it")
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return binlogPos{}, err
	}
	pos, err := strconv.ParseUint(string(vals[1]), 10, 32)
	return binlogPos{File: string(vals[0]), Pos: uint32(pos)}, err
}

// follower applies a source's row changes to the moved tables, from a
// binlog position on, to their targets in the new layout: an insert or
// an update as REPLACE of the row after, a delete (or an update that
// moves a row's key) as a DELETE by primary key, each source transaction
// in one transaction per target. Applying is idempotent, so following
// again from an earlier position changes nothing in the end.
type follower struct {
	p      *Plan
	source string
	cl     *config.Cluster
	tables map[string]*Move
	save   func(binlogPos) error // records the position applied (at most once a second)

	pools map[string]*sql.DB // its own, to each target (the follower's goroutine only)

	mu      sync.Mutex
	applied binlogPos
	err     error
	changed chan struct{} // closed and replaced whenever applied moves
	cancel  context.CancelFunc
	done    chan struct{}
}

// op is one change to apply on a target.
type op struct {
	m      *Move
	del    bool
	row    row
	target string
}

func (p *Plan) newFollower(source string, save func(binlogPos) error) (*follower, error) {
	cl := p.From.Cluster(source)
	if cl == nil {
		return nil, fmt.Errorf("cluster %q is not configured", source)
	}
	f := &follower{p: p, source: source, cl: cl, tables: map[string]*Move{}, save: save, changed: make(chan struct{}), done: make(chan struct{})}
	for _, m := range p.Tables {
		if slices.Contains(m.Sources, source) {
			if m.generated {
				return nil, fmt.Errorf("table %s has generated columns: the online mode does not move it yet (use --mode stop)", m.Table)
			}
			f.tables[strings.ToLower(m.Table)] = m
		}
	}
	return f, nil
}

// start follows the source from pos until stop.
func (f *follower) start(pos binlogPos) error {
	host, port, err := net.SplitHostPort(f.cl.Primary.Address)
	if err != nil {
		return err
	}
	pn, _ := strconv.Atoi(port)
	var id [4]byte
	_, _ = rand.Read(id[:])
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: 1_000_000 + binary.LittleEndian.Uint32(id[:])%1_000_000_000,
		Flavor:   mysql.MariaDBFlavor, Host: host, Port: uint16(pn), User: f.cl.User, Password: f.cl.Password,
		TimestampStringLocation: time.UTC, HeartbeatPeriod: time.Second, ReadTimeout: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	streamer, err := syncer.StartSync(mysql.Position{Name: pos.File, Pos: pos.Pos})
	if err != nil {
		syncer.Close()
		return fmt.Errorf("following cluster %s's binary log: %w", f.source, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.setApplied(pos)
	go func() {
		defer close(f.done)
		defer syncer.Close()
		defer func() {
			for _, db := range f.pools {
				db.Close()
			}
		}()
		err := f.run(ctx, streamer, pos)
		f.mu.Lock()
		if ctx.Err() == nil {
			f.err = fmt.Errorf("following cluster %s's binary log: %w", f.source, err)
		}
		close(f.changed)
		f.changed = make(chan struct{})
		f.mu.Unlock()
	}()
	return nil
}

// stop stops following and waits for the follower to end.
func (f *follower) stop() {
	if f.cancel != nil {
		f.cancel()
		<-f.done
	}
}

func (f *follower) setApplied(p binlogPos) {
	f.mu.Lock()
	f.applied = p
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

// position is the source position the follower has applied up to.
func (f *follower) position() binlogPos {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applied
}

// wait waits until the follower has applied everything before pos.
func (f *follower) wait(ctx context.Context, pos binlogPos) error {
	for {
		f.mu.Lock()
		applied, err, ch := f.applied, f.err, f.changed
		f.mu.Unlock()
		switch {
		case err != nil:
			return err
		case !applied.less(pos):
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("cluster %s's changes were applied up to %s, not yet %s: %w", f.source, applied, pos, ctx.Err())
		}
	}
}

// Source transactions are applied in batches: the changes of those that
// follow each other closely (within flushAfter, up to flushOps changes)
// go to each target in one transaction, which is the same in the end
// since nothing reads the targets before the switch.
const (
	flushAfter = 5 * time.Millisecond
	flushOps   = 2000
)

func (f *follower) run(ctx context.Context, streamer *replication.BinlogStreamer, pos binlogPos) error {
	var g groups
	var batchPos binlogPos
	lastSave := time.Now()
	flush := func() error {
		if err := f.apply(ctx, g.batch); err != nil {
			return err
		}
		g.batch = g.batch[:0]
		f.setApplied(batchPos)
		if time.Since(lastSave) >= time.Second {
			if err := f.save(batchPos); err != nil {
				return err
			}
			lastSave = time.Now()
		}
		return nil
	}
	for {
		var ev *replication.BinlogEvent
		var err error
		if len(g.batch) > 0 && len(g.pending) == 0 {
			wctx, cancel := context.WithTimeout(ctx, flushAfter)
			ev, err = streamer.GetEvent(wctx)
			cancel()
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				if err := flush(); err != nil {
					return err
				}
				continue
			}
		} else {
			ev, err = streamer.GetEvent(ctx)
		}
		if err != nil {
			return err
		}
		if e, ok := ev.Event.(*replication.RotateEvent); ok {
			pos = binlogPos{File: string(e.NextLogName), Pos: uint32(e.Position)}
			if len(g.pending) == 0 && len(g.batch) == 0 {
				f.setApplied(pos)
			}
			continue
		}
		if err := f.take(&g, ev); err != nil {
			return err
		}
		if ev.Header.LogPos > 0 {
			pos.Pos = ev.Header.LogPos
		}
		if !g.inGroup && len(g.pending) == 0 {
			batchPos = pos
			if len(g.batch) >= flushOps || len(g.batch) == 0 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
}

// groups is where a follower stands in its source's event groups: the
// changes of the group open (pending), those of the groups committed and
// not applied yet (batch), and whether it is inside a group: between its
// first event (its GTID, or BEGIN) and its end (XID, COMMIT, or the one
// statement of a standalone group). Only the positions between groups
// are places to apply up to and to follow again from: a position inside
// one would start with rows events whose table maps came before it.
type groups struct {
	pending, batch []op
	inGroup        bool
}

// take reads one event into g.
func (f *follower) take(g *groups, ev *replication.BinlogEvent) error {
	switch e := ev.Event.(type) {
	case *replication.RowsEvent:
		m := f.tables[strings.ToLower(string(e.Table.Table))]
		if m == nil || string(e.Table.Schema) != f.p.DB {
			return nil
		}
		ops, err := f.p.opsOf(m, ev.Header.EventType, e.Rows)
		if err != nil {
			return err
		}
		g.pending = append(g.pending, ops...)
	case *replication.MariadbGTIDEvent, *replication.GTIDEvent:
		g.inGroup = true
	case *replication.QueryEvent:
		q := strings.ToUpper(strings.TrimSpace(string(e.Query)))
		if q != "BEGIN" && q != "COMMIT" && string(e.Schema) == f.p.DB && f.mentionsMoved(q) {
			return fmt.Errorf("a statement changed a moved table during the online migration (%.80s): abort it and start again", e.Query)
		}
		switch q {
		case "BEGIN":
			g.inGroup = true
		case "COMMIT":
			g.batch, g.pending = append(g.batch, g.pending...), g.pending[:0]
			g.inGroup = false
		default: // a standalone statement ends its group
			g.inGroup = false
		}
	case *replication.XIDEvent:
		g.batch, g.pending = append(g.batch, g.pending...), g.pending[:0]
		g.inGroup = false
	}
	return nil
}

// mentionsMoved reports whether a statement (DDL) names a moved table.
func (f *follower) mentionsMoved(upper string) bool {
	for t := range f.tables {
		if strings.Contains(upper, strings.ToUpper(t)) {
			return true
		}
	}
	return false
}

// opsOf turns a rows event into the changes to apply.
func (p *Plan) opsOf(m *Move, t replication.EventType, rows [][]any) ([]op, error) {
	var out []op
	add := func(del bool, image []any) error {
		r, err := m.fromBinlog(image)
		if err != nil {
			return err
		}
		targets, err := p.targetOf(m, r)
		if err != nil {
			return err
		}
		for _, tg := range targets {
			out = append(out, op{m: m, del: del, row: r, target: tg})
		}
		return nil
	}
	switch t {
	case replication.WRITE_ROWS_EVENTv0, replication.WRITE_ROWS_EVENTv1, replication.WRITE_ROWS_EVENTv2:
		for _, image := range rows {
			if err := add(false, image); err != nil {
				return nil, err
			}
		}
	case replication.DELETE_ROWS_EVENTv0, replication.DELETE_ROWS_EVENTv1, replication.DELETE_ROWS_EVENTv2:
		for _, image := range rows {
			if err := add(true, image); err != nil {
				return nil, err
			}
		}
	case replication.UPDATE_ROWS_EVENTv0, replication.UPDATE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv2:
		for i := 0; i+1 < len(rows); i += 2 {
			before, err := m.fromBinlog(rows[i])
			if err != nil {
				return nil, err
			}
			after, err := m.fromBinlog(rows[i+1])
			if err != nil {
				return nil, err
			}
			// The row after replaces the one before unless its key (or
			// its target) changed: then the row before goes first.
			if !m.sameKey(before, after) {
				if err := add(true, rows[i]); err != nil {
					return nil, err
				}
			}
			if err := add(false, rows[i+1]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// sameKey reports whether two rows of m have the same primary key and
// sharding key.
func (m *Move) sameKey(a, b row) bool {
	for _, j := range m.pk {
		if encodeValue(a[j]) != encodeValue(b[j]) {
			return false
		}
	}
	return m.key < 0 || encodeValue(a[m.key]) == encodeValue(b[m.key])
}

// fromBinlog converts a binlog row image to a row as the binary protocol
// gives it (the types the copy and the verification read).
func (m *Move) fromBinlog(image []any) (row, error) {
	if len(image) != len(m.columns) {
		return nil, fmt.Errorf("table %s: a binlog row has %d columns, the table %d: its definition changed during the migration", m.Table, len(image), len(m.columns))
	}
	r := make(row, len(image))
	for i, v := range image {
		switch v := v.(type) {
		case nil:
		case int8:
			r[i] = m.integer(i, int64(v), uint64(uint8(v)))
		case int16:
			r[i] = m.integer(i, int64(v), uint64(uint16(v)))
		case int32:
			r[i] = m.integer(i, int64(v), uint64(uint32(v)))
		case int64:
			r[i] = m.integer(i, v, uint64(v))
		case uint64:
			r[i] = v
		case float32, float64:
			r[i] = v
		case string:
			r[i] = []byte(v)
		case []byte:
			r[i] = slices.Clone(v)
		default:
			r[i] = []byte(fmt.Sprint(v))
		}
	}
	return r, nil
}

// integer is a binlog integer as its column's type reads it.
func (m *Move) integer(i int, signed int64, unsigned uint64) any {
	if m.unsigned[i] {
		if unsigned <= 1<<63-1 {
			return int64(unsigned)
		}
		return unsigned
	}
	return signed
}

// apply runs a batch of source transactions' changes, one transaction
// per target.
func (f *follower) apply(ctx context.Context, ops []op) error {
	if len(ops) == 0 {
		return nil
	}
	if last, ok := coalesce(ops); ok {
		ops = last
	}
	byTarget := map[string][]op{}
	var order []string
	for _, o := range ops {
		if _, seen := byTarget[o.target]; !seen {
			order = append(order, o.target)
		}
		byTarget[o.target] = append(byTarget[o.target], o)
	}
	for _, t := range order {
		if err := f.applyOn(ctx, t, byTarget[t]); err != nil {
			return err
		}
	}
	return nil
}

// coalesce reduces a batch to the last change of each row, deletes
// first, each kind grouped by table: a handful of statements instead of
// one per run of changes. The result is the same because every change is
// a whole row image or a delete by primary key (the last one decides),
// and rows deleted in the batch are gone before the images that may
// reuse their unique values arrive. It declines (false) when a primary
// key is not made of integers: keys equal under a collation but not in
// bytes must keep their order.
func coalesce(ops []op) ([]op, bool) {
	type rowKey struct {
		m      *Move
		target string
		key    string
	}
	last := make(map[rowKey]int, len(ops))
	var b []byte
	for i, o := range ops {
		b = b[:0]
		for _, j := range o.m.pk {
			switch v := o.row[j].(type) {
			case int64:
				b = strconv.AppendInt(b, v, 10)
			case uint64:
				b = strconv.AppendUint(b, v, 10)
			default:
				return nil, false
			}
			b = append(b, ',')
		}
		last[rowKey{o.m, o.target, string(b)}] = i
	}
	keep := make([]bool, len(ops))
	for _, i := range last {
		keep[i] = true
	}
	var tables []*Move
	for _, o := range ops {
		if !slices.Contains(tables, o.m) {
			tables = append(tables, o.m)
		}
	}
	out := make([]op, 0, len(last))
	for _, del := range []bool{true, false} {
		for _, m := range tables {
			for i, o := range ops {
				if keep[i] && o.del == del && o.m == m {
					out = append(out, o)
				}
			}
		}
	}
	return out, true
}

// applyOn applies ops on a target in one transaction, in order, each run
// of changes of one kind to one table as one statement (a multi-row
// REPLACE, or a DELETE of a list of keys). A transaction cut short (an
// error, the follower stopped) is rolled back and its connection
// discarded.
func (f *follower) applyOn(ctx context.Context, target string, ops []op) error {
	tx, err := f.pool(target).BeginTx(ctx, nil)
	if err != nil {
		return on(target, err)
	}
	for len(ops) > 0 {
		n := 1
		for n < len(ops) && ops[n].m == ops[0].m && ops[n].del == ops[0].del && n*len(ops[0].m.columns) < maxPlaceholders {
			n++
		}
		if err := runOps(ctx, tx, ops[:n]); err != nil {
			_ = tx.Rollback()
			return on(target, err)
		}
		ops = ops[n:]
	}
	return on(target, tx.Commit())
}

// pool is the follower's own pool to a target, whose sessions are in
// UTC (the binlog's TIMESTAMP values are written in UTC); no other
// writer shares it.
func (f *follower) pool(target string) *sql.DB {
	if db := f.pools[target]; db != nil {
		return db
	}
	cl := f.p.To.Cluster(target)
	if cl == nil {
		cl = f.p.From.Cluster(target)
	}
	mc := gomysql.NewConfig()
	mc.User, mc.Passwd = cl.User, cl.Password
	mc.Net, mc.Addr, mc.DBName = "tcp", cl.Primary.Address, f.p.DB
	mc.Timeout = cl.Pool.ConnectTimeout
	mc.Params = map[string]string{"time_zone": "'+00:00'"}
	conn, _ := gomysql.NewConnector(mc)
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(2)
	if f.pools == nil {
		f.pools = map[string]*sql.DB{}
	}
	f.pools[target] = db
	return db
}

// runOps runs changes of one kind to one table as one statement.
func runOps(ctx context.Context, conn *sql.Tx, ops []op) error {
	m := ops[0].m
	var args []any
	if ops[0].del {
		pk := make([]string, len(m.pk))
		for i, j := range m.pk {
			pk[i] = ident(m.columns[j])
		}
		one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(pk)), ", ") + ")"
		for _, o := range ops {
			for _, j := range m.pk {
				args = append(args, o.row[j])
			}
		}
		_, err := conn.ExecContext(ctx, "DELETE FROM "+ident(m.Table)+" WHERE ("+strings.Join(pk, ", ")+") IN ("+
			strings.TrimSuffix(strings.Repeat(one+", ", len(ops)), ", ")+")", args...)
		return err
	}
	cols := make([]string, len(m.columns))
	for i, c := range m.columns {
		cols[i] = ident(c)
	}
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	for _, o := range ops {
		args = append(args, o.row...)
	}
	_, err := conn.ExecContext(ctx, "REPLACE INTO "+ident(m.Table)+" ("+strings.Join(cols, ", ")+") VALUES "+
		strings.TrimSuffix(strings.Repeat(one+", ", len(ops)), ", "), args...)
	return err
}
