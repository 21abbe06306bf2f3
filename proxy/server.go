package proxy

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/layout"
	"github.com/courier-proxy/courier/parser"
	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/router/engine"
	"github.com/courier-proxy/courier/sqlerr"
)

// Server is a running Courier front end.
type Server struct {
	cfg     *config.Config
	log     *zap.Logger
	parser  *parser.Parser
	metrics *Metrics

	clusters map[string]*clusterInfo
	def      *clusterInfo     // the default cluster
	primary  *backend.Pool    // the default cluster's primary
	cluster  *backend.Cluster // the default cluster
	pools    []*backend.Pool  // every backend of every cluster

	// layouts holds the layout statements are planned against (see
	// Layouts); clusterList every cluster by index, the default cluster
	// first, the same in every layout.
	layouts      Layouts
	clusterList  []*clusterInfo
	budget       *engine.RowBudget // rows all merges together may hold
	readOnly     *readOnly         // the admin switch refusing writes
	gov          governor          // admissions: statements running, shedding
	digests      *digests          // statement shapes' figures
	consolidator consolidator      // identical reads sharing one execution
	seqs         sequences         // reserved blocks of sequence ids

	// users are the accounts by name, live the configuration's settings
	// that change with a reload (see Reload); cfg is the configuration
	// the server started with, for the rest.
	users    atomic.Pointer[map[string]*account]
	shapes   atomic.Pointer[map[string]*limiter] // rate_limits, by shape
	live     atomic.Pointer[config.Config]
	classes  map[string]*trafficClass // by name; guarded by reloadMu
	writes   map[string]*userWrites   // each user's latest writes, by name; guarded by reloadMu
	reloadMu sync.Mutex
	reloader func() (*config.Config, error)
	tlsConf  *tls.Config
	rsaKey   *rsa.PrivateKey
	rsaPub   []byte // PEM, sent to clients that ask for it

	serverVersion string
	collations    *collations

	door     *door     // sockets not logged in yet (limits.max_unauthenticated)
	throttle *throttle // failed logins (login_throttle)
	nextID   atomic.Uint32
	clients  atomic.Int64 // connected clients, authenticated or not
	loggedIn atomic.Int64 // sessions past login, bounded by limits.max_connections
	mu       sync.Mutex
	sessions map[uint32]*session
	ln       net.Listener
	wg       sync.WaitGroup
	closing  atomic.Bool
	drain    drainState
}

// New builds a server from a validated configuration. It dials nothing.
func New(cfg *config.Config, log *zap.Logger) (*Server, error) {
	p, err := parser.New("")
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, parser: p, sessions: make(map[uint32]*session),
		collations: newCollations()}
	s.digests = newDigests()
	s.metrics = newMetrics(s)
	s.gov.metrics = s.metrics
	// As many sockets may wait for a greeting as may log in (a burst that
	// fits max_connections waits rather than fails), no fewer than may be
	// greeted, each for twice the handshake timeout at most.
	lobby := max(cfg.Limits.MaxConnections, cfg.Limits.MaxUnauthenticated)
	s.door = newDoor(cfg.Limits.MaxUnauthenticated, lobby, 2*cfg.Limits.HandshakeTimeout, s.metrics.doorClosed.Inc)
	s.throttle = newThrottle(cfg.LoginThrottle)
	s.classes = newClasses(cfg.Classes, s.metrics)
	s.metrics.classGauges(s.classes)
	users, err := loadAccounts(cfg.Users, s.classes)
	if err != nil {
		return nil, err
	}
	s.writes = map[string]*userWrites{}
	attachWrites(s.writes, users, len(s.cfg.Clusters), cfg.CausalScope)
	s.metrics.rateSeries(users)
	s.users.Store(&users)
	shapes := shapeLimiters(cfg.RateLimits)
	s.shapes.Store(&shapes)
	s.live.Store(cfg)
	if cfg.TLS.Cert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLS.Cert, cfg.TLS.Key)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		s.tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if s.rsaKey, s.rsaPub, err = newRSAKey(); err != nil {
		return nil, err
	}
	s.clusters = make(map[string]*clusterInfo, len(cfg.Clusters))
	for i := range cfg.Clusters {
		s.clusters[cfg.Clusters[i].Name] = s.newCluster(&cfg.Clusters[i])
	}
	s.def = s.clusters[cfg.DefaultCluster]
	if s.def == nil {
		return nil, fmt.Errorf("default_cluster %q is not configured", cfg.DefaultCluster)
	}
	s.primary, s.cluster = s.def.Primary, s.def.Cluster
	if err := s.newPlanner(p); err != nil {
		return nil, err
	}
	s.nextID.Store(uint32(time.Now().Unix()%100000) * 10)
	return s, nil
}

// clusterInfo is a cluster with its read/write-split settings.
type clusterInfo struct {
	*backend.Cluster
	replicaReads bool          // reads go to replicas
	fallbackErr  bool          // no usable replica: fail reads instead of using the primary
	causalWait   time.Duration // bound on MASTER_GTID_WAIT for causal reads
}

func (s *Server) newCluster(cl *config.Cluster) *clusterInfo {
	primary := s.newPool(cl, cl.Primary, true)
	s.pools = append(s.pools, primary)
	var replicas []*backend.Replica
	for _, r := range cl.Replicas {
		p := s.newPool(cl, r, false) // the cluster checks replicas
		s.pools = append(s.pools, p)
		replicas = append(replicas, backend.NewReplica(p, r.Weight))
	}
	rc := cl.Replication
	ci := &clusterInfo{
		Cluster: backend.NewCluster(cl.Name, primary, replicas, backend.ReplicationConfig{
			MaxLag: rc.MaxReplicaLag, CheckInterval: rc.CheckInterval, Warmup: rc.Warmup, Heartbeat: rc.Heartbeat,
		}, s.log),
		replicaReads: len(replicas) > 0 && rc.Reads == "replicas",
		fallbackErr:  rc.Fallback == "error",
		causalWait:   rc.CausalWait,
	}
	return ci
}

func (s *Server) newPool(cl *config.Cluster, b config.Backend, check bool) *backend.Pool {
	interval := time.Duration(0)
	if check {
		interval = 2 * time.Second
	}
	return backend.NewPool(b.Name, backend.Options{
		Addr: b.Address, User: cl.User, Password: cl.Password, ConnectTimeout: cl.Pool.ConnectTimeout,
	}, backend.PoolConfig{
		MaxOpen: cl.Pool.MaxOpen, MaxIdle: cl.Pool.MaxIdle, MinIdle: cl.Pool.MinIdle, IdleTimeout: cl.Pool.IdleTimeout,
		WaitTimeout: cl.Pool.WaitTimeout, CheckInterval: interval, QueryTimeout: s.clusterQueryTimeout(cl),
		Shares:  shares(s.cfg.Classes, cl.Pool.MaxOpen),
		Breaker: backend.BreakerConfig{Failures: cl.Breaker.Failures, OpenFor: cl.Breaker.OpenFor},
	}, s.log)
}

// clusterQueryTimeout is the statement time bound on cl's servers.
func (s *Server) clusterQueryTimeout(cl *config.Cluster) time.Duration {
	if cl.Pool.QueryTimeout > 0 {
		return cl.Pool.QueryTimeout
	}
	return s.cfg.Limits.QueryTimeout
}

// queryTimeout is the statement time bound for the default cluster.
func (s *Server) queryTimeout() time.Duration {
	if cl := s.cfg.Cluster(s.cfg.DefaultCluster); cl != nil && cl.Pool.QueryTimeout > 0 {
		return cl.Pool.QueryTimeout
	}
	return s.conf().Limits.QueryTimeout
}

// ddlTimeout is the time bound of DDL statements (limits.ddl_timeout).
func (s *Server) ddlTimeout() time.Duration { return s.conf().Limits.DDLTimeout }

// Prepare connects to the primary once to learn its version and
// collations, and serves the newest layout a migration recorded there
// (see adoptRecorded). It is optional: without it the first client does
// the rest.
func (s *Server) Prepare(ctx context.Context) error {
	bc, err := s.primary.Get(ctx, backend.FlavourPlain, 0)
	if err != nil {
		return err
	}
	defer s.primary.Put(bc)
	s.serverVersion = s.cfg.ServerVersion
	if s.serverVersion == "" {
		s.serverVersion = bc.ServerVersion
	}
	if err := s.collations.load(ctx, bc); err != nil {
		return err
	}
	if err := s.layouts.adoptRecordedOn(ctx, bc); err != nil {
		return fmt.Errorf("reading the recorded layout: %w", err)
	}
	s.startCluster(ctx)
	warm(ctx, s)
	return nil
}

// warm opens every pool's min_idle connections (a warm start), all at
// once; a server that cannot be reached is logged and left to warm as it
// is used.
func warm(ctx context.Context, s *Server) {
	var wg sync.WaitGroup
	for _, cl := range s.cfg.Clusters {
		if cl.Pool.MinIdle <= 0 {
			continue
		}
		ci := s.clusters[cl.Name]
		pools := []*backend.Pool{ci.Primary}
		for _, r := range ci.Replicas {
			pools = append(pools, r.Pool)
		}
		for _, p := range pools {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := p.Warm(ctx, cl.Pool.MinIdle); err != nil {
					s.log.Warn("warm-up: backend not reached", zap.String("backend", p.Name()), zap.Error(err))
				}
			}()
		}
	}
	wg.Wait()
}

// startCluster starts checking replicas (Prepare or the first client
// does it; later calls do nothing).
func (s *Server) startCluster(ctx context.Context) {
	for _, c := range s.clusters {
		c.Start(ctx)
	}
}

// Metrics returns the server's metrics (for the admin HTTP server).
func (s *Server) Metrics() *Metrics { return s.metrics }

// Serve accepts clients on ln until Shutdown or ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	go s.startCluster(ctx) // when Prepare could not (the primary was down)
	s.openDoor(ctx)
	s.log.Info("listening", zap.String("addr", ln.Addr().String()))
	var tempDelay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() || s.drain.on.Load() || ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				tempDelay = min(max(2*tempDelay, 5*time.Millisecond), time.Second)
				time.Sleep(tempDelay)
				continue
			}
			return err
		}
		tempDelay = 0
		s.welcome(nc) // serveConn runs once the door admits it
	}
}

// Shutdown stops accepting, closes every client connection and the pools.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
	}
	for _, ss := range s.sessions {
		ss.cmd.cancel(errKilled)
		ss.nc.Close()
	}
	s.mu.Unlock()
	s.door.closeAll()

	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	for _, c := range s.clusters {
		c.Close()
	}
	for _, p := range s.pools {
		p.Close()
	}
	s.snapshot().plans.Close()
	return ctx.Err()
}

// startLogin takes a place under limits.max_connections for a client that
// has just authenticated; register's session gives it back in unregister,
// and endLogin gives it back when the login fails after all.
func (s *Server) startLogin() error {
	if limit := s.conf().Limits.MaxConnections; s.loggedIn.Add(1) > int64(limit) {
		s.loggedIn.Add(-1)
		s.metrics.refused.Inc()
		return sqlerr.New(sqlerr.ErrTooManyConnections, "Too many connections (limits.max_connections = %d)", limit)
	}
	return nil
}

func (s *Server) endLogin() { s.loggedIn.Add(-1) }

// register makes an authenticated session visible to KILL and status.
func (s *Server) register(ss *session) {
	s.mu.Lock()
	s.sessions[ss.id] = ss
	s.mu.Unlock()
}

func (s *Server) unregister(ss *session) {
	s.mu.Lock()
	delete(s.sessions, ss.id)
	s.mu.Unlock()
	s.endLogin()
}

func (s *Server) session(id uint32) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}

// Pools returns the backend pools (for status and metrics).
func (s *Server) Pools() []*backend.Pool { return s.pools }

// newPlanner builds the first layout: the schema, the planner and the
// plan cache.
func (s *Server) newPlanner(p *parser.Parser) error {
	schema, err := layout.Schema(s.cfg)
	if err != nil {
		return err
	}
	for _, name := range schema.Clusters {
		ci := s.clusters[name]
		if ci == nil {
			return fmt.Errorf("cluster %q is not configured", name)
		}
		s.clusterList = append(s.clusterList, ci)
	}
	s.readOnly = newReadOnly(schema.Clusters)
	s.layouts.s = s
	rt, err := s.layouts.build(s.cfg, 1, nil)
	if err != nil {
		return err
	}
	s.layouts.rt.Store(rt)
	s.budget = &engine.RowBudget{Limit: int64(s.cfg.Limits.MergeMemory)}
	return nil
}
