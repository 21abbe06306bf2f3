package proxy

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/router/engine"
)

// Metrics are the server's Prometheus collectors, in a registry of their
// own (no global state).
type Metrics struct {
	Registry *prometheus.Registry

	connections  prometheus.Gauge
	refused      prometheus.Counter
	authFailures prometheus.Counter
	errors       prometheus.Counter
	timeouts     prometheus.Counter
	cmdQuery     prometheus.Counter
	cmdExecute   prometheus.Counter
	cmdPrepare   prometheus.Counter
	cmdOther     prometheus.Counter
	latency      prometheus.Histogram
	slow         prometheus.Counter

	// loginsBlocked counts logins refused by login_throttle; doorClosed
	// counts unauthenticated sockets closed at limits.max_unauthenticated.
	loginsBlocked prometheus.Counter
	doorClosed    prometheus.Counter

	routedPrimary  prometheus.Counter
	routedReplica  prometheus.Counter
	routedFallback prometheus.Counter
	causalWaits    prometheus.Counter
	causalFallback prometheus.Counter
	retries        prometheus.Counter
	multiShard     prometheus.Counter

	indexLookups  *prometheus.CounterVec   // by index
	lookupKeys    prometheus.Histogram     // keys one lookup returned
	shardsTouched *prometheus.HistogramVec // shards a statement on sharded tables reached, by route
	shardsKey     prometheus.Observer
	shardsLookup  prometheus.Observer
	shardsScatter prometheus.Observer

	classQueued  *prometheus.CounterVec // statements that waited for a place in their class
	classRefused *prometheus.CounterVec // refused at their class's limit
	rateLimited  *prometheus.CounterVec // refused by their user's rate, by user
	classShed    *prometheus.CounterVec // refused by their class's shed_above
	consolidated prometheus.Counter     // reads answered with another's execution
}

// rateSeries makes the rate-refusal series of every user with a rate, so
// that they read 0 before the first refusal rather than nothing.
func (m *Metrics) rateSeries(users map[string]*account) {
	for name, a := range users {
		if a.rate != nil {
			m.rateLimited.WithLabelValues(name)
		}
	}
}

// classMetrics are one class of traffic's counters.
type classMetrics struct{ queued, refused, shed prometheus.Counter }

func (m *Metrics) class(name string) *classMetrics {
	return &classMetrics{queued: m.classQueued.WithLabelValues(name), refused: m.classRefused.WithLabelValues(name),
		shed: m.classShed.WithLabelValues(name)}
}

// classGauges exports how many statements each class runs now.
func (m *Metrics) classGauges(classes map[string]*trafficClass) {
	for name, c := range classes {
		m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "courier_class_running", Help: "Statements of a class of traffic running now.",
			ConstLabels: prometheus.Labels{"class": name}}, func() float64 { return float64(c.runningNow()) }))
	}
}

func newMetrics(s *Server) *Metrics {
	r := prometheus.NewRegistry()
	cmds := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "courier_commands_total", Help: "Client commands by kind.",
	}, []string{"command"})
	routes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "courier_routing_decisions_total",
		Help: "Where statements were routed: primary, replica, fallback (no usable replica), causal_wait " +
			"(waited for a replica to apply the session's write), causal_fallback (gave up waiting: primary), " +
			"retry (a read re-run after its replica failed before replying).",
	}, []string{"decision"})
	m := &Metrics{
		Registry:       r,
		routedPrimary:  routes.WithLabelValues("primary"),
		routedReplica:  routes.WithLabelValues("replica"),
		routedFallback: routes.WithLabelValues("fallback"),
		causalWaits:    routes.WithLabelValues("causal_wait"),
		causalFallback: routes.WithLabelValues("causal_fallback"),
		retries:        routes.WithLabelValues("retry"),
		multiShard:     routes.WithLabelValues("multi_shard"),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "courier_client_connections", Help: "Open client connections."}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "courier_client_connections_refused_total", Help: "Logins refused at limits.max_connections."}),
		authFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "courier_handshake_failures_total", Help: "Failed handshakes (bad password, bad packets, timeouts)."}),
		loginsBlocked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "courier_logins_blocked_total", Help: "Logins refused by login_throttle (a blocked client address or user)."}),
		doorClosed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "courier_unauthenticated_closed_total", Help: "Sockets closed before login to make room (limits.max_unauthenticated) or after waiting too long."}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "courier_errors_total", Help: "Errors generated by Courier itself (backend errors pass through uncounted)."}),
		timeouts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "courier_query_timeouts_total", Help: "Statements stopped by the query timeout."}),
		cmdQuery:   cmds.WithLabelValues("query"),
		cmdExecute: cmds.WithLabelValues("stmt_execute"),
		cmdPrepare: cmds.WithLabelValues("stmt_prepare"),
		cmdOther:   cmds.WithLabelValues("other"),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "courier_statement_duration_seconds", Help: "Time from reading a statement to its last reply byte.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2.5, 12)}),
		slow: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "courier_slow_statements_total", Help: "Statements slower than log.slow_query."}),
		indexLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "courier_index_lookups_total", Help: "Global index reads, by index (table.column)."}, []string{"index"}),
		lookupKeys: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "courier_index_lookup_keys", Help: "Sharding keys one global index read returned.",
			Buckets: []float64{0, 1, 2, 5, 10, 50, 100, 1000}}),
		shardsTouched: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "courier_shards_per_statement", Help: "Shards a statement on sharded tables reached, by route: key, lookup (global index) or scatter.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64}}, []string{"route"}),
	}
	m.governance(s)
	m.shardsKey = m.shardsTouched.WithLabelValues("key")
	m.shardsLookup = m.shardsTouched.WithLabelValues("lookup")
	m.shardsScatter = m.shardsTouched.WithLabelValues("scatter")
	r.MustRegister(m.indexLookups, m.lookupKeys, m.shardsTouched)
	r.MustRegister(m.loginsBlocked, m.doorClosed,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "courier_unauthenticated_connections", Help: "Sockets in their handshake (greeted, not logged in)."},
			func() float64 { n, _ := s.door.count(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "courier_waiting_connections", Help: "Sockets accepted and waiting for a place in the handshake."},
			func() float64 { _, n := s.door.count(); return float64(n) }))
	r.MustRegister(routes, cmds, m.connections, m.refused, m.authFailures, m.errors, m.timeouts, m.latency, m.slow,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}),
		&poolCollector{s: s}, digestCollector{d: s.digests})
	return m
}

// governance makes and registers the metrics of classes, rates,
// consolidation and admissions.
func (m *Metrics) governance(s *Server) {
	r := m.Registry
	m.classQueued = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "courier_class_queued_total", Help: "Statements that waited for a place in their class of traffic (classes[].max_concurrency)."}, []string{"class"})
	m.classRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "courier_class_refused_total", Help: "Statements refused at their class's limit (queue full or queue_timeout passed)."}, []string{"class"})
	m.rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "courier_rate_limited_total", Help: "Statements refused by their user's rate (users[].rate), by user."}, []string{"user"})
	m.classShed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "courier_class_shed_total", Help: "Statements refused because Courier ran more statements than their class's shed_above."}, []string{"class"})
	m.consolidated = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "courier_consolidated_reads_total", Help: "Reads answered with the answer of an identical read running at once (classes[].consolidate)."})
	r.MustRegister(m.classQueued, m.classRefused, m.rateLimited, m.classShed, m.consolidated,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "courier_statements_running", Help: "Statements running in Courier now (what shed_above compares)."},
			func() float64 { return float64(s.gov.running.Load()) }))
}

// statement records a statement's latency, the shards it reached and the
// global index it read, and logs it when slow.
func (m *Metrics) statement(start time.Time, st *statement, ss *session, stats *engine.Stats, ok bool) {
	d := time.Since(start)
	digest := st.digest
	if digest == nil {
		digest = kindDigests[st.info.Kind]
	}
	ss.srv.digests.record(ss.user.name, ss.user.class.name, digest, d, !ok, ss.w.rows, stats.Shards)
	m.latency.Observe(d.Seconds())
	switch stats.Route {
	case "key":
		m.shardsKey.Observe(float64(stats.Shards))
	case "lookup":
		m.shardsLookup.Observe(float64(stats.Shards))
	case "scatter":
		m.shardsScatter.Observe(float64(stats.Shards))
	}
	if stats.Shards > 1 {
		m.multiShard.Inc()
	}
	if stats.Index != "" {
		m.indexLookups.WithLabelValues(stats.Index).Inc()
		m.lookupKeys.Observe(float64(stats.LookupKeys))
	}
	if slow := ss.srv.conf().Log.SlowQuery; slow > 0 && d >= slow {
		m.slow.Inc()
		sql := st.text
		if st.stmt != nil {
			sql = st.stmt.text
		}
		ss.logger().Warn("slow statement", zap.Duration("duration", d), zap.ByteString("sql", truncate(sql, 512)))
	}
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// poolCollector reports backend pool state at scrape time.
type poolCollector struct{ s *Server }

var (
	poolOpenDesc = prometheus.NewDesc("courier_backend_connections_open",
		"Open connections to a backend.", []string{"backend"}, nil)
	poolIdleDesc = prometheus.NewDesc("courier_backend_connections_idle",
		"Idle pooled connections to a backend.", []string{"backend"}, nil)
	poolUpDesc = prometheus.NewDesc("courier_backend_up",
		"1 when the backend passed its last health check.", []string{"backend"}, nil)
	poolDialsDesc = prometheus.NewDesc("courier_backend_dials_total",
		"Connections dialled to a backend.", []string{"backend"}, nil)
	poolDialErrDesc = prometheus.NewDesc("courier_backend_dial_errors_total",
		"Failed dials to a backend.", []string{"backend"}, nil)
	poolWaitsDesc = prometheus.NewDesc("courier_backend_pool_waits_total",
		"Times a session waited for a free backend connection.", []string{"backend"}, nil)
	poolWaitTimeoutsDesc = prometheus.NewDesc("courier_backend_pool_wait_timeouts_total",
		"Times a session gave up waiting for a backend connection.", []string{"backend"}, nil)
	queriesDesc = prometheus.NewDesc("courier_backend_queries_total",
		"Statements run on a backend.", []string{"backend"}, nil)
	queryErrorsDesc = prometheus.NewDesc("courier_backend_errors_total",
		"Statements that failed because the backend did (lost connection, timeout).", []string{"backend"}, nil)
	inFlightDesc = prometheus.NewDesc("courier_backend_in_flight",
		"Statements running on a backend now.", []string{"backend"}, nil)
	rotationDesc = prometheus.NewDesc("courier_replica_in_rotation",
		"1 when the replica serves reads.", []string{"backend"}, nil)
	shareDesc = prometheus.NewDesc("courier_replica_warmup_share",
		"Share of its weight a replica gets while warming up (0 out of rotation, 1 full).", []string{"backend"}, nil)
	lagDesc = prometheus.NewDesc("courier_replica_lag_seconds",
		"Replication lag at the last check (heartbeat, else Seconds_Behind_Master; -1 unknown).", []string{"backend"}, nil)
	breakerDesc = prometheus.NewDesc("courier_backend_breaker_state",
		"A backend's circuit breaker: 0 closed, 1 open (statements fail at once).", []string{"backend"}, nil)
	breakerOpensDesc = prometheus.NewDesc("courier_backend_breaker_opens_total",
		"Times a backend's circuit breaker opened.", []string{"backend"}, nil)
	waitingDesc = prometheus.NewDesc("courier_backend_pool_waiting",
		"Sessions waiting for a connection to a backend now, by class of traffic (\"(none)\": users of no class).", []string{"backend", "class"}, nil)
	waitedDesc = prometheus.NewDesc("courier_backend_pool_wait_seconds_total",
		"Time sessions have waited for a connection to a backend, by class of traffic.", []string{"backend", "class"}, nil)
	busyDesc = prometheus.NewDesc("courier_backend_connections_busy",
		"Connections to a backend handed out now, by class of traffic (with classes configured; \"(none)\": users of no class).", []string{"backend", "class"}, nil)
)

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolOpenDesc, poolIdleDesc, poolUpDesc, poolDialsDesc,
		poolDialErrDesc, poolWaitsDesc, poolWaitTimeoutsDesc, queriesDesc, queryErrorsDesc, inFlightDesc,
		rotationDesc, shareDesc, lagDesc, busyDesc, breakerDesc, breakerOpensDesc, waitingDesc, waitedDesc} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.s.pools {
		open, idle := p.Stats()
		up := 0.0
		if ok, _ := p.Healthy(); ok {
			up = 1
		}
		n := p.Name()
		ch <- prometheus.MustNewConstMetric(poolOpenDesc, prometheus.GaugeValue, float64(open), n)
		ch <- prometheus.MustNewConstMetric(poolIdleDesc, prometheus.GaugeValue, float64(idle), n)
		ch <- prometheus.MustNewConstMetric(poolUpDesc, prometheus.GaugeValue, up, n)
		ch <- prometheus.MustNewConstMetric(poolDialsDesc, prometheus.CounterValue, float64(p.Dials.Load()), n)
		ch <- prometheus.MustNewConstMetric(poolDialErrDesc, prometheus.CounterValue, float64(p.DialErrors.Load()), n)
		ch <- prometheus.MustNewConstMetric(poolWaitsDesc, prometheus.CounterValue, float64(p.Waits.Load()), n)
		ch <- prometheus.MustNewConstMetric(poolWaitTimeoutsDesc, prometheus.CounterValue, float64(p.WaitTimeouts.Load()), n)
		ch <- prometheus.MustNewConstMetric(queriesDesc, prometheus.CounterValue, float64(p.Queries.Load()), n)
		ch <- prometheus.MustNewConstMetric(queryErrorsDesc, prometheus.CounterValue, float64(p.Errors.Load()), n)
		ch <- prometheus.MustNewConstMetric(inFlightDesc, prometheus.GaugeValue, float64(p.InFlight.Load()), n)
		opens, _, _ := p.BreakerTimes()
		ch <- prometheus.MustNewConstMetric(breakerDesc, prometheus.GaugeValue, float64(p.BreakerState()), n)
		ch <- prometheus.MustNewConstMetric(breakerOpensDesc, prometheus.CounterValue, float64(opens), n)
		waiting, waited := p.Waiting()
		for k := range waiting {
			cls := p.ShareName(k)
			ch <- prometheus.MustNewConstMetric(waitingDesc, prometheus.GaugeValue, float64(waiting[k]), n, cls)
			ch <- prometheus.MustNewConstMetric(waitedDesc, prometheus.CounterValue, waited[k].Seconds(), n, cls)
		}
		for k, b := range p.Busy() {
			ch <- prometheus.MustNewConstMetric(busyDesc, prometheus.GaugeValue, float64(b), n, p.ShareName(k))
		}
	}
	for _, r := range c.s.replicaStatus() {
		in := 0.0
		if r.InRotation {
			in = 1
		}
		ch <- prometheus.MustNewConstMetric(rotationDesc, prometheus.GaugeValue, in, r.Name)
		ch <- prometheus.MustNewConstMetric(shareDesc, prometheus.GaugeValue, r.Share, r.Name)
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, replicaLag(r.State).Seconds(), r.Name)
	}
}

// replicaLag is the lag a check measured, or -1s when unknown.
func replicaLag(st backend.ReplicaState) time.Duration {
	switch {
	case st.LagMeasured:
		return st.Lag
	case st.SecondsBehind >= 0:
		return time.Duration(st.SecondsBehind) * time.Second
	}
	return -time.Second
}
