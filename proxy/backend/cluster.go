package backend

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// ReplicationConfig configures how a cluster uses its replicas.
type ReplicationConfig struct {
	MaxLag        time.Duration
	CheckInterval time.Duration
	Warmup        time.Duration
	Heartbeat     bool
}

// heartbeatTable is where Courier writes its heartbeat on primaries.
const heartbeatTable = "courier_heartbeat.heartbeat"

// Replica is one replica of a cluster with its health and load.
type Replica struct {
	Pool   *Pool
	weight int

	// Guarded by the cluster's mutex.
	inRotation bool
	reason     string // why it is out of rotation
	since      time.Time
	current    float64 // smooth weighted round-robin state
	state      ReplicaState

	gtidPos atomic.Pointer[string] // gtid_slave_pos at the last check
}

// ReplicaState is what the last check saw.
type ReplicaState struct {
	Reachable     bool
	IORunning     bool
	SQLRunning    bool
	SecondsBehind int64 // -1 when NULL
	Lag           time.Duration
	LagMeasured   bool // Lag comes from the heartbeat
	GTIDSlavePos  string
	CheckedAt     time.Time
}

// Cluster is a primary and its replicas.
type Cluster struct {
	Name     string
	Primary  *Pool
	Replicas []*Replica
	cfg      ReplicationConfig
	log      *zap.Logger

	mu sync.Mutex

	lastBeat  time.Time // when the latest heartbeat was written
	primaryUp bool      // the last check reached the primary
	started   bool

	stop chan struct{}
	done chan struct{}
}

// NewReplica wraps a replica's pool with its read weight.
func NewReplica(p *Pool, weight int) *Replica {
	return &Replica{Pool: p, weight: weight, inRotation: true, state: ReplicaState{SecondsBehind: -1}}
}

// SetWeight changes replica i's read weight (a reload).
func (c *Cluster) SetWeight(i, weight int) {
	c.mu.Lock()
	c.Replicas[i].weight = weight
	c.mu.Unlock()
}

// NewCluster returns a cluster; Start begins checking its replicas.
func NewCluster(name string, primary *Pool, replicas []*Replica, cfg ReplicationConfig, log *zap.Logger) *Cluster {
	if cfg.CheckInterval <= 0 {
		cfg.CheckInterval = time.Second
	}
	return &Cluster{Name: name, Primary: primary, Replicas: replicas, cfg: cfg, log: log.With(zap.String("cluster", name)),
		stop: make(chan struct{}), done: make(chan struct{})}
}

// Start runs one check now and then keeps checking until Close.
func (c *Cluster) Start(ctx context.Context) {
	c.mu.Lock()
	if c.started || len(c.Replicas) == 0 {
		c.mu.Unlock()
		return
	}
	c.started = true
	c.mu.Unlock()
	c.checkAll(ctx, true)
	go c.loop()
}

// Close stops the checker, if it runs.
func (c *Cluster) Close() {
	c.mu.Lock()
	started := c.started
	c.started = true // a later Start does nothing
	c.mu.Unlock()
	select {
	case <-c.stop:
		return
	default:
		close(c.stop)
	}
	if started && len(c.Replicas) > 0 {
		<-c.done
	}
}

func (c *Cluster) loop() {
	defer close(c.done)
	t := time.NewTicker(c.cfg.CheckInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		c.checkAll(context.Background(), false)
	}
}

// checkTimeout bounds the check of one backend: two check intervals and
// at least 2s, so that a busy server is not taken for a hung one.
func (c *Cluster) checkTimeout() time.Duration { return max(2*c.cfg.CheckInterval, 2*time.Second) }

// Pick chooses a replica for a read: smooth weighted round-robin over the
// replicas in rotation, weights scaled down while a replica warms up,
// fewest statements in flight breaking ties. It returns nil when no
// replica is usable; exclude (may be nil) is skipped.
func (c *Cluster) Pick(exclude *Replica) *Replica {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	var best *Replica
	total := 0.0
	for _, r := range c.Replicas {
		if !r.inRotation || r == exclude || r.weight <= 0 {
			continue
		}
		w := float64(r.weight) * c.ramp(r, now)
		r.current += w
		total += w
		if best == nil || r.current > best.current ||
			(r.current == best.current && r.Pool.InFlight.Load() < best.Pool.InFlight.Load()) {
			best = r
		}
	}
	if best != nil {
		best.current -= total
	}
	return best
}

// ramp is the share of its weight a replica gets while warming up.
func (c *Cluster) ramp(r *Replica, now time.Time) float64 {
	if c.cfg.Warmup <= 0 || r.since.IsZero() {
		return 1
	}
	f := float64(now.Sub(r.since)) / float64(c.cfg.Warmup)
	return math.Max(0.05, math.Min(1, f))
}

// Fail takes a replica out of rotation at once after a failed statement or
// dial; the next successful check brings it back (with warm-up).
func (c *Cluster) Fail(r *Replica, err error) {
	r.Pool.MarkDown(err)
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.inRotation {
		r.inRotation = false
		r.reason = "failed: " + err.Error()
		c.log.Warn("replica out of rotation", zap.String("replica", r.Pool.Name()), zap.Error(err))
	}
}

// GTIDPos returns the replica's gtid_slave_pos as last checked.
func (r *Replica) GTIDPos() string {
	if p := r.gtidPos.Load(); p != nil {
		return *p
	}
	return ""
}

// ReplicaStatus is a replica's state for status pages and metrics.
type ReplicaStatus struct {
	Name       string
	InRotation bool
	Reason     string
	Weight     int
	Share      float64 // warm-up factor, 0..1
	State      ReplicaState
}

// Status reports every replica's state.
func (c *Cluster) Status() []ReplicaStatus {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]ReplicaStatus, 0, len(c.Replicas))
	for _, r := range c.Replicas {
		share := 0.0
		if r.inRotation {
			share = c.ramp(r, now)
		}
		out = append(out, ReplicaStatus{Name: r.Pool.Name(), InRotation: r.inRotation, Reason: r.reason,
			Weight: r.weight, Share: share, State: r.state})
	}
	return out
}

// checkAll writes the heartbeat and checks every replica, all at once and
// each under a deadline of its own, so that a hung primary (or replica)
// costs the others nothing. A replica's verdict waits for the primary's,
// which it depends on.
func (c *Cluster) checkAll(ctx context.Context, first bool) {
	c.mu.Lock()
	lastBeat := c.lastBeat // the probes measure lag against the heartbeat written before this round
	c.mu.Unlock()
	beaten := make(chan struct{})
	go func() {
		defer close(beaten)
		bctx, cancel := context.WithTimeout(ctx, c.checkTimeout())
		defer cancel()
		c.beat(bctx)
	}()
	var wg sync.WaitGroup
	for _, r := range c.Replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, c.checkTimeout())
			st := c.probe(pctx, r, lastBeat)
			cancel()
			<-beaten
			c.verdict(r, st, first)
		}()
	}
	wg.Wait()
	<-beaten
}

// beat writes the heartbeat row on the primary (or, without heartbeat,
// only checks that the primary answers) and records whether it answered:
// an error from the server counts as an answer, a failed dial or a
// connection that timed out or broke does not.
func (c *Cluster) beat(ctx context.Context) {
	conn, err := Dial(ctx, c.Primary.opts, FlavourPlain)
	if err == nil {
		err = c.writeBeat(ctx, conn)
		if err != nil && !conn.Broken() {
			err = nil // the server answered: it is up, whatever it said
		}
		conn.Close()
	}
	c.mu.Lock()
	c.primaryUp = err == nil
	c.mu.Unlock()
	if err != nil {
		c.Primary.MarkDown(err)
	}
}

// writeBeat writes the heartbeat on conn, creating its table on first use.
func (c *Cluster) writeBeat(ctx context.Context, conn *Conn) error {
	if !c.cfg.Heartbeat {
		return nil
	}
	const write = "INSERT INTO " + heartbeatTable + " (id, ts) VALUES (1, NOW(6)) ON DUPLICATE KEY UPDATE ts = VALUES(ts)"
	err := conn.Exec(ctx, write)
	if err != nil && !conn.Broken() {
		err = conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS courier_heartbeat; "+
			"CREATE TABLE IF NOT EXISTS "+heartbeatTable+" (id INT PRIMARY KEY, ts DATETIME(6) NOT NULL)")
		if err != nil {
			if !conn.Broken() {
				c.log.Warn("cannot create the heartbeat table; lag falls back to Seconds_Behind_Master", zap.Error(err))
			}
			return err
		}
		err = conn.Exec(ctx, write)
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.lastBeat = time.Now()
	c.mu.Unlock()
	return nil
}

// probe asks a replica how its replication is doing; lastBeat is when the
// newest heartbeat it may have applied was written.
func (c *Cluster) probe(ctx context.Context, r *Replica, lastBeat time.Time) ReplicaState {
	st := ReplicaState{SecondsBehind: -1, CheckedAt: time.Now()}
	conn, err := Dial(ctx, r.Pool.opts, FlavourPlain)
	if err != nil {
		return st
	}
	defer conn.Close()
	st.Reachable = true
	names, rows, err := conn.QueryColumns(ctx, "SHOW SLAVE STATUS")
	if err != nil || len(rows) == 0 {
		return st
	}
	for i, n := range names {
		v := rows[0][i]
		switch n {
		case "Slave_IO_Running":
			st.IORunning = v.Text == "Yes"
		case "Slave_SQL_Running":
			st.SQLRunning = v.Text == "Yes"
		case "Seconds_Behind_Master":
			if !v.Null {
				st.SecondsBehind, _ = strconv.ParseInt(v.Text, 10, 64)
			}
		}
	}
	if rows, err := conn.Query(ctx, "SELECT @@gtid_slave_pos"); err == nil && len(rows) == 1 {
		st.GTIDSlavePos = rows[0][0].Text
	}
	if c.cfg.Heartbeat && !lastBeat.IsZero() {
		rows, err := conn.Query(ctx, "SELECT TIMESTAMPDIFF(MICROSECOND, ts, NOW(6)) FROM "+heartbeatTable+" WHERE id = 1")
		if err == nil && len(rows) == 1 && !rows[0][0].Null {
			us, _ := strconv.ParseInt(rows[0][0].Text, 10, 64)
			sinceBeat := time.Since(lastBeat)
			// The applied heartbeat's age, less the age of the newest one
			// written: zero when the replica has applied the newest.
			st.Lag = max(0, time.Duration(us)*time.Microsecond-sinceBeat)
			st.LagMeasured = true
		}
	}
	return st
}

// verdict puts a replica in or out of rotation after a check.
func (c *Cluster) verdict(r *Replica, st ReplicaState, first bool) {
	reason := ""
	lag := time.Duration(st.SecondsBehind) * time.Second
	if st.LagMeasured {
		lag = max(lag, st.Lag)
	}
	c.mu.Lock()
	primaryDown := !c.primaryUp
	c.mu.Unlock()
	switch {
	case !st.Reachable:
		reason = "unreachable"
	case primaryDown && st.SQLRunning:
		// The replica cannot replicate because the primary is gone: its
		// data is as fresh as it can be, and reads must keep working.
	case !st.IORunning || !st.SQLRunning:
		reason = fmt.Sprintf("replication stopped (IO %v, SQL %v)", yesNo(st.IORunning), yesNo(st.SQLRunning))
	case st.SecondsBehind < 0:
		reason = "Seconds_Behind_Master is NULL"
	case lag > c.cfg.MaxLag:
		reason = fmt.Sprintf("lag %s exceeds max_replica_lag %s", lag.Round(time.Millisecond), c.cfg.MaxLag)
	}
	if st.Reachable {
		r.Pool.brk.reached()
	}
	if reason == "" {
		r.Pool.healthy.Store(true)
	} else {
		r.Pool.markDown(fmt.Errorf("%s", reason))
	}
	pos := st.GTIDSlavePos
	r.gtidPos.Store(&pos)
	c.mu.Lock()
	defer c.mu.Unlock()
	r.state = st
	switch {
	case reason != "" && r.inRotation:
		r.inRotation, r.reason = false, reason
		c.log.Warn("replica out of rotation", zap.String("replica", r.Pool.Name()), zap.String("reason", reason))
	case reason != "":
		r.reason = reason
	case !r.inRotation:
		r.inRotation, r.reason, r.since = true, "", time.Now()
		r.current = 0
		c.log.Info("replica back in rotation", zap.String("replica", r.Pool.Name()), zap.Duration("warmup", c.cfg.Warmup))
	case first:
		r.since = time.Time{} // healthy from the start: no warm-up
	}
}

func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// GTIDCovered reports whether a replica's gtid_slave_pos (a list of
// domain-server-seq) includes gtid (one domain-server-seq).
func GTIDCovered(pos, gtid string) bool {
	d, _, seq, ok := splitGTID(gtid)
	if !ok {
		return false
	}
	for _, p := range strings.Split(pos, ",") {
		pd, _, pseq, ok := splitGTID(strings.TrimSpace(p))
		if ok && pd == d {
			return pseq >= seq
		}
	}
	return false
}

func splitGTID(g string) (domain, server, seq uint64, ok bool) {
	parts := strings.Split(g, "-")
	if len(parts) != 3 {
		return 0, 0, 0, false
	}
	var err [3]error
	domain, err[0] = strconv.ParseUint(parts[0], 10, 32)
	server, err[1] = strconv.ParseUint(parts[1], 10, 32)
	seq, err[2] = strconv.ParseUint(parts[2], 10, 64)
	return domain, server, seq, err[0] == nil && err[1] == nil && err[2] == nil
}
