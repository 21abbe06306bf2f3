package main

import (
	"bytes"
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// scatterMode is the first argument that selects the scatter benchmark.
const scatterMode = "scatter"

// scatterScript is the sysbench workload of the scatter mode.
//
//go:embed scatter.lua
var scatterScript []byte

// defaultScatterQuery reaches every shard and needs no merge: its rows
// are concatenated. --query measures others, such as an ORDER BY ...
// LIMIT that Courier merges from the shards' sorted rows.
const defaultScatterQuery = "SELECT order_id FROM orders WHERE total_cents = ?"

// scatterOptions are the flags of the scatter mode.
type scatterOptions struct {
	Shards             []int
	Query              string
	ParamMin, ParamMax int
	Rows               int
	Users              int
	Threads            []int
	Rounds             int
	Duration, Warmup   time.Duration
	Out                string
	Keep               bool
	Src                string
	// Index, when not "", is a column of orders that every shard count
	// also runs with a global index on (lookupSubject).
	Index string
}

// parseScatterFlags parses the scatter mode's command line (after
// "scatter").
func parseScatterFlags(args []string, stderr io.Writer) (scatterOptions, error) {
	var o scatterOptions
	fs := flag.NewFlagSet("bench scatter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	shards := fs.String("shards", "2,4,8", "comma-separated shard counts; one Courier and data set each")
	fs.StringVar(&o.Query, "query", defaultScatterQuery, "statement to measure, sent as text; each ? becomes a random integer")
	fs.IntVar(&o.ParamMin, "param-min", 500, "smallest integer put in place of ? (total_cents runs from 500 to 10499)")
	fs.IntVar(&o.ParamMax, "param-max", 10499, "largest integer put in place of ?")
	fs.IntVar(&o.Rows, "rows", 20000, "rows of orders, spread over the shards by order_id")
	fs.IntVar(&o.Users, "users", 2000, "user_id of each row is a uniform random integer in 1..users")
	fs.StringVar(&o.Index, "index", "", "also run every shard count through a Courier with a global index on this column "+
		"of orders (user_id or total_cents), to compare lookup with scatter; the default query becomes "+
		"a lookup by that column, with ? in 1..users for user_id")
	threads := fs.String("threads", "1,16", "comma-separated sysbench thread counts")
	fs.IntVar(&o.Rounds, "rounds", 3, "rounds; every shard count runs once per round, interleaved")
	duration := fs.Int("duration", 5, "seconds per sysbench run")
	warmup := fs.Int("warmup", 2, "seconds of unrecorded queries per shard count before measuring (0: none)")
	fs.StringVar(&o.Out, "out", "", "also write the Markdown report, with an environment header, to this file")
	fs.BoolVar(&o.Keep, "keep", false, "leave the MariaDB servers and work dir in place at the end (for debugging)")
	fs.StringVar(&o.Src, "src", ".", "Courier module root (where go.mod is) to build ./cmd/courier from")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: bench scatter [flags]\n\n"+
			"Runs one query that reaches every shard through Courier sharding an orders table over\n"+
			"each of --shards primaries, and reports QPS, latency and Courier's CPU per query.\n"+
			"With --index user_id, it compares a lookup by user through a global index with the\n"+
			"same query sent to every shard, at each shard count.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.indexDefaults(set)
	o.Duration = time.Duration(*duration) * time.Second
	o.Warmup = time.Duration(*warmup) * time.Second
	var err error
	if o.Shards, err = intList(*shards); err != nil {
		return o, fmt.Errorf("-shards: %w", err)
	}
	if o.Threads, err = intList(*threads); err != nil {
		return o, fmt.Errorf("-threads: %w", err)
	}
	return o, o.validate()
}

// validate checks the options after parsing.
func (o scatterOptions) validate() error {
	var errs []error
	if len(o.Shards) == 0 {
		errs = append(errs, errors.New("-shards is empty"))
	}
	for _, n := range o.Shards {
		if n < 1 || n > 16 {
			errs = append(errs, fmt.Errorf("-shards: %d is not in 1..16", n))
		}
	}
	if strings.TrimSpace(o.Query) == "" {
		errs = append(errs, errors.New("-query is empty"))
	}
	if o.ParamMin > o.ParamMax {
		errs = append(errs, fmt.Errorf("-param-min %d is above -param-max %d", o.ParamMin, o.ParamMax))
	}
	if o.Rows < 1 || o.Rows > 10_000_000 {
		errs = append(errs, fmt.Errorf("-rows: %d is not in 1..10000000", o.Rows))
	}
	if o.Users < 1 {
		errs = append(errs, fmt.Errorf("-users: %d is below 1", o.Users))
	}
	if _, ok := indexColumns[o.Index]; o.Index != "" && !ok {
		errs = append(errs, fmt.Errorf("-index: %q is not user_id or total_cents", o.Index))
	}
	// The rest is checked as the sysbench mode checks it.
	base := options{Workloads: []string{"oltp_point_select"}, PSModes: []string{"disable"}, Subjects: []string{subjectCourier},
		Threads: o.Threads, Rounds: o.Rounds, Duration: o.Duration, Warmup: o.Warmup, Tables: 1, TableSize: 1}
	if err := base.validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// layoutSubject names the Courier sharding over n primaries.
func layoutSubject(n int) string { return fmt.Sprintf("courier-%dshards", n) }

// layoutDB is the schema holding the data of the n-shard layout on its
// primaries: every layout shares the first primaries, with rows of its own.
func layoutDB(n int) string { return fmt.Sprintf("scatter%d", n) }

// scatterBench runs the scatter mode: max(--shards) primaries, one Courier
// per shard count over the first n of them, an orders table loaded
// through each, then rounds of sysbench running --query through every
// Courier in turn.
func scatterBench(ctx context.Context, o scatterOptions, command string, stdout, logw io.Writer) error {
	sbVersion, err := sysbenchVersion(ctx)
	if err != nil {
		return err
	}
	h := newHeader(ctx, options{Src: o.Src}, command)
	h.Sysbench = sbVersion
	h.ClkTck, h.ClkTckAssumed = clockTicks(ctx)
	e := &env{}
	defer e.close(o.Keep, logw)
	if err := e.setupScatter(ctx, o, logw); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	var subjects []string
	for _, n := range o.Shards {
		subjects = append(subjects, layoutSubject(n))
		if o.Index == "" {
			if err := e.loadOrders(ctx, layoutSubject(n), o, logw); err != nil {
				return err
			}
			continue
		}
		// Loaded through the indexed Courier, which writes the entries;
		// the other reads the same rows without knowing the index.
		subjects = append(subjects, lookupSubject(n))
		if err := e.loadOrders(ctx, lookupSubject(n), o, logw); err != nil {
			return err
		}
		if err := e.checkLookup(ctx, n, o, logw); err != nil {
			return err
		}
	}
	if h.Mariadbd, err = querySubjectVersion(ctx, e, subjects[0]); err != nil {
		return err
	}
	script := filepath.Join(e.dir, "scatter.lua")
	if err := os.WriteFile(script, scatterScript, 0o644); err != nil {
		return err
	}
	ro := options{Workloads: []string{scatterMode}, Threads: o.Threads, PSModes: []string{"disable"}, Subjects: subjects,
		Rounds: o.Rounds, Duration: o.Duration, Warmup: o.Warmup}
	r := &runner{env: e, opts: ro, hz: h.ClkTck, logw: logw, count: o.Index != "", scripts: map[string]sbScript{scatterMode: {Path: script, Options: []string{
		"--query=" + o.Query, "--param_min=" + strconv.Itoa(o.ParamMin), "--param_max=" + strconv.Itoa(o.ParamMax)}}}}
	fmt.Fprintf(logw, "bench: %d measured runs of %s each\n", ro.runs(), o.Duration)
	r.warmup(ctx)
	results, runErr := r.matrix(ctx)
	h.End, h.LoadEnd = time.Now(), loadavg()

	var md bytes.Buffer
	if o.Index != "" {
		writeLookupTables(&md, results, o.Shards, o.Rounds)
	} else {
		writeScatterTable(&md, results, o.Shards, o.Rounds)
	}
	ps := problems(results)
	writeProblems(&md, ps)
	if _, err := stdout.Write(md.Bytes()); err != nil {
		return err
	}
	header := func(w io.Writer) { writeScatterHeader(w, h, o) }
	if err := writeReport(o.Out, header, md.Bytes(), logw); err != nil {
		return err
	}
	if runErr != nil {
		return fmt.Errorf("interrupted: %w (the table holds the runs finished before)", runErr)
	}
	return verdict(ps, e, logw)
}

// setupScatter starts the primaries, creates the sysbench account and one
// schema per layout, and starts one Courier per shard count, each sharding
// orders by order_id over the first n primaries; with --index, a second
// one per shard count with the global index, over the same primaries and
// schema. Every Courier serves its admin address, whose metrics say how
// statements were routed.
func (e *env) setupScatter(ctx context.Context, o scatterOptions, logw io.Writer) error {
	if err := e.begin(ctx, "courier-bench-scatter-", logw); err != nil {
		return err
	}
	most := slices.Max(o.Shards)
	fmt.Fprintf(logw, "bench: starting MariaDB (%d primaries) in %s\n", most, e.dir)
	c, err := e.startCluster(ctx, "shards", most, 0, logw)
	if err != nil {
		return err
	}
	fmt.Fprintf(logw, "bench: building Courier from %s\n", o.Src)
	bin, err := buildCourier(ctx, o.Src, e.dir)
	if err != nil {
		return err
	}
	primaries := c.Primaries()
	for _, n := range o.Shards {
		used := primaries[:n]
		sets := make([]backendSet, n)
		for i, p := range used {
			if err := createSysbenchUser(ctx, c, p, layoutDB(n)); err != nil {
				return err
			}
			sets[i] = backendSet{primary: p.Addr}
		}
		couriers := []struct{ subject, index string }{{layoutSubject(n), ""}}
		if o.Index != "" {
			couriers = append(couriers, struct{ subject, index string }{lookupSubject(n), o.Index})
		}
		for _, cr := range couriers {
			subject, index := cr.subject, cr.index
			admin, _, err := freeAddr()
			if err != nil {
				return err
			}
			cfg := func(listen string) string {
				return courierConfig(listen, admin, c.Spec.User, c.Spec.Password, sets,
					shardingYAML(n, []string{"orders"}, "order_id", index))
			}
			if err := e.startCourier(ctx, subject, bin, cfg, shardPIDs(used), logw); err != nil {
				return err
			}
			se := e.subjects[subject]
			se.db, se.shards, se.shardsOf, se.admin = layoutDB(n), used, c, admin
		}
	}
	return nil
}

// scatterTable is the table the scatter mode queries, indexed so that
// each shard answers the default query, a query by user_id and an ORDER
// BY created_at DESC, order_id DESC LIMIT query (the secondary index ends
// with the primary key) from an index.
const scatterTable = `CREATE TABLE IF NOT EXISTS orders (
  order_id    BIGINT      NOT NULL PRIMARY KEY,
  user_id     BIGINT      NOT NULL,
  total_cents INT         NOT NULL,
  created_at  DATETIME(3) NOT NULL,
  KEY idx_total (total_cents),
  KEY idx_user (user_id),
  KEY idx_created (created_at)
) ENGINE=InnoDB`

// loadOrders creates orders (and with --index its index table) through
// the subject's Courier (the DDL runs on every shard) and loads o.Rows
// rows with multi-row INSERTs that name each order_id, so Courier splits
// each batch by shard and, with the index, writes its entries. The rows
// are the same for every layout. It then checks that every shard holds
// some and that the query runs.
func (e *env) loadOrders(ctx context.Context, subject string, o scatterOptions, logw io.Writer) error {
	se := e.subjects[subject]
	db, err := subjectDB(se)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, scatterTable); err != nil {
		return fmt.Errorf("%s: create orders: %w", subject, err)
	}
	tables := []string{"orders"}
	if o.Index != "" {
		// Through Courier: the index table is sharded, so it is created
		// on every shard.
		if _, err := db.ExecContext(ctx, indexTableDDL(o.Index)); err != nil {
			return fmt.Errorf("%s: create %s: %w", subject, indexTable(o.Index), err)
		}
		tables = append(tables, indexTable(o.Index))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	placed := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	const batch = 1000
	var rows []string
	for id := 1; id <= o.Rows; id++ {
		at := placed.Add(time.Duration(id) * 7 * time.Second).Format("2006-01-02 15:04:05.000")
		rows = append(rows, fmt.Sprintf("(%d, %d, %d, '%s')", id, 1+rng.IntN(o.Users), 500+rng.IntN(10000), at))
		if len(rows) == batch || id == o.Rows {
			q := "INSERT INTO orders (order_id, user_id, total_cents, created_at) VALUES " + strings.Join(rows, ", ")
			if _, err := db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%s: load orders: %w", subject, err)
			}
			rows = rows[:0]
		}
	}
	for _, t := range tables {
		counts, err := shardCounts(ctx, se, t)
		if err != nil {
			return fmt.Errorf("%s: %w", subject, err)
		}
		fmt.Fprintf(logw, "bench: %s: %s loaded through Courier, rows per shard %v\n", subject, t, counts)
	}
	if err := analyzeShards(ctx, se, tables...); err != nil {
		return fmt.Errorf("%s: %w", subject, err)
	}
	q := strings.ReplaceAll(o.Query, "?", strconv.Itoa(o.ParamMin))
	if _, err := countRows(ctx, se, q); err != nil {
		return fmt.Errorf("%s: the query fails before any measurement: %s: %w", subject, q, err)
	}
	return nil
}

// analyzeShards runs ANALYZE TABLE on every shard primary behind se.
// Statistics of a freshly loaded table are recomputed in the background
// some seconds later; until then the optimizer may sort the whole table
// for an ORDER BY ... LIMIT that an index answers, and the first rounds
// would measure that instead.
func analyzeShards(ctx context.Context, se *subjectEnv, tables ...string) error {
	for _, p := range se.shards {
		db, err := sql.Open("mysql", se.shardsOf.DSN(p, se.db))
		if err != nil {
			return err
		}
		for _, t := range tables {
			// ANALYZE TABLE answers with a result set, errors included.
			var table, op, typ, text string
			err = db.QueryRowContext(ctx, "ANALYZE TABLE "+t).Scan(&table, &op, &typ, &text)
			if err == nil && typ == "error" {
				err = errors.New(text)
			}
			if err != nil {
				break
			}
		}
		db.Close()
		if err != nil {
			return fmt.Errorf("analyze on %s: %w", p.Name, err)
		}
	}
	return nil
}

// querySubjectVersion returns SELECT VERSION() through subject.
func querySubjectVersion(ctx context.Context, e *env, subject string) (string, error) {
	var v string
	err := querySubject(ctx, e.subjects[subject], "SELECT VERSION()", &v)
	return v, err
}

// writeScatterHeader renders the scatter report's header.
func writeScatterHeader(w io.Writer, h header, o scatterOptions) {
	h.writeCommon(w, "Courier scatter benchmark: one query on every shard, at several shard counts")
	if strings.Contains(o.Query, "?") {
		fmt.Fprintf(w, "- query: `%s`, each ? a uniform random integer in %d..%d, sent as text\n", o.Query, o.ParamMin, o.ParamMax)
	} else {
		fmt.Fprintf(w, "- query: `%s`, sent as text\n", o.Query)
	}
	fmt.Fprintf(w, "- data: orders, %d rows sharded by order_id (hash) over n even key ranges, one primary per shard (no replicas), "+
		"loaded through Courier; every n shares the first n primaries, with a schema of its own; user_id uniform in 1..%d\n", o.Rows, o.Users)
	if o.Index != "" {
		writeLookupHeader(w, o)
	}
	fmt.Fprintf(w, "- sysbench: %d s per run, %d round(s), shard counts run interleaved (the first rotates per round), %d s warmup each; "+
		"latency per query from sysbench's histogram (~1.8 %% buckets)\n", int(o.Duration/time.Second), o.Rounds, int(o.Warmup/time.Second))
	fmt.Fprintln(w)
}

// writeScatterTable writes one row per (threads, shard count): the
// medians of QPS, latency and CPU per query, and Courier's CPU per query
// divided by the shard count.
func writeScatterTable(w io.Writer, results []cellResult, shards []int, rounds int) {
	fmt.Fprintf(w, "## Scatter query through Courier (median of %d round(s))\n\n", rounds)
	fmt.Fprintln(w, "| threads | shards | QPS | QPS min–max | p50 µs | p99 µs | proxy CPU µs/q | proxy CPU µs/q per shard | mysqld CPU µs/q (all shards) | errors |")
	fmt.Fprintln(w, "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, cr := range results {
		for _, n := range shards {
			st := summarize(cr, layoutSubject(n))
			spread := "–"
			if st.Runs > st.Failed {
				spread = num(st.QPSMin, 0) + "–" + num(st.QPSMax, 0)
			}
			fmt.Fprintf(w, "| %d | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", cr.Cell.Threads, n,
				num(st.QPS, 0), spread, num(st.P50*1000, 0), num(st.P99*1000, 0),
				num(st.ProxyCPU, 1), num(st.ProxyCPU/float64(n), 1), num(st.MysqldCPU, 1), errCell(st))
		}
	}
	fmt.Fprintln(w)
}
