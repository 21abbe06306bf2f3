package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Subject names: where sysbench connects.
const (
	subjectDirect  = "direct"  // MariaDB itself
	subjectRelay   = "relay"   // the null TCP relay in front of MariaDB
	subjectCourier = "courier" // Courier in front of MariaDB
	// subjectCourierRW is Courier splitting reads from writes over the
	// primary and two replicas (asking for it starts the replicas).
	subjectCourierRW = "courier-rw"
	// subjectCourierSharded is Courier sharding the sysbench tables by id
	// over four shard primaries of their own (no replicas in its
	// configuration); sysbench prepares them through it.
	subjectCourierSharded = "courier-sharded"
	// subjectCourierShardedRW is Courier over the same four shards, each
	// with a replica (GTID replication) that it reads from, with causal
	// consistency, the default.
	subjectCourierShardedRW = "courier-sharded-rw"
)

// baseSuffix marks the twin of a Courier subject that runs the baseline
// binary (--baseline) with the same configuration over the same servers.
const baseSuffix = "@base"

// allSubjects returns every subject that can be asked for, in the default
// (and report) order. Twins are not asked for: --baseline adds them.
func allSubjects() []string {
	return []string{subjectDirect, subjectRelay, subjectCourier, subjectCourierRW, subjectCourierSharded, subjectCourierShardedRW}
}

// isCourier reports whether subject is one of Courier's (every subject but
// direct and relay, also the scatter mode's and the twins): its errors
// fail the benchmark.
func isCourier(subject string) bool {
	return subject != subjectDirect && subject != subjectRelay
}

// twin names the baseline twin of a Courier subject.
func twin(subject string) string { return subject + baseSuffix }

// ofTwin returns the subject a twin is the twin of, and whether subject
// is a twin at all.
func ofTwin(subject string) (string, bool) { return strings.CutSuffix(subject, baseSuffix) }

// isSharded reports whether subject (or the subject it is the twin of)
// serves the sharded layout, whose tables are loaded through Courier.
func isSharded(subject string) bool {
	s, _ := ofTwin(subject)
	return s == subjectCourierSharded || s == subjectCourierShardedRW
}

// withTwins returns subjects with the twin of every Courier subject right
// after it.
func withTwins(subjects []string) []string {
	var out []string
	for _, s := range subjects {
		out = append(out, s)
		if isCourier(s) {
			out = append(out, twin(s))
		}
	}
	return out
}

// rwPointWorkload is the harness's own sysbench workload (rw_point.lua):
// per event an UPDATE of a random row by id, then point SELECTs of that
// row and of another random one, each statement in autocommit.
const rwPointWorkload = "rw_point"

// scriptWorkloads are the workloads that are Lua scripts of the harness,
// not sysbench's own.
var scriptWorkloads = []string{rwPointWorkload}

// shardedWorkloads are the workloads the sharded subjects can run: every
// statement of them names one id. The others need merges across shards
// (ORDER BY, SUM, DISTINCT over id ranges) or span shards in a transaction.
var shardedWorkloads = []string{"oltp_point_select", rwPointWorkload}

// defaultSubjects are the subjects of a run that does not name them.
func defaultSubjects() []string { return []string{subjectDirect, subjectRelay, subjectCourier} }

// options are the harness flags.
type options struct {
	Workloads []string
	Threads   []int
	PSModes   []string
	Subjects  []string
	Rounds    int
	Duration  time.Duration
	Warmup    time.Duration
	Tables    int
	TableSize int
	SkipTrx   bool // sysbench --skip_trx=on: autocommit statements
	Out       string
	Keep      bool
	Src       string // module root to build Courier from
	// Baseline is a git revision to build a second Courier from; every
	// Courier subject then gets a twin running it (Subjects holds them).
	Baseline string
}

// parseFlags parses the harness command line (without the program name).
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	workloads := fs.String("workloads", "oltp_point_select,oltp_read_only,oltp_read_write",
		"comma-separated sysbench workloads: oltp_* ones, or rw_point (the harness's own: per event an UPDATE by id, "+
			"then a point SELECT of that row and of another, autocommit)")
	threads := fs.String("threads", "1,16,64", "comma-separated sysbench thread counts")
	psModes := fs.String("ps-modes", "disable,auto", "comma-separated --db-ps-mode values (disable, auto)")
	subjects := fs.String("subjects", strings.Join(defaultSubjects(), ","),
		"comma-separated subjects: direct, relay, courier, courier-rw (Courier over the primary and two replicas), "+
			"courier-sharded (Courier sharding the tables by id over 4 primaries; oltp_point_select and rw_point only), "+
			"courier-sharded-rw (the same 4 shards, each with a replica Courier reads from; the same workloads)")
	fs.IntVar(&o.Rounds, "rounds", 3, "rounds; every subject runs once per round, interleaved")
	duration := fs.Int("duration", 10, "seconds per sysbench run")
	warmup := fs.Int("warmup", 2, "seconds of unrecorded oltp_point_select per subject before measuring (0: none)")
	fs.IntVar(&o.Tables, "tables", 4, "sysbench --tables")
	fs.IntVar(&o.TableSize, "table-size", 10000, "sysbench --table-size (rows per table)")
	fs.BoolVar(&o.SkipTrx, "skip-trx", false, "run the oltp_* workloads with sysbench --skip_trx=on (autocommit statements, so that reads can go to replicas)")
	fs.StringVar(&o.Out, "out", "", "also write the Markdown report, with an environment header, to this file")
	fs.BoolVar(&o.Keep, "keep", false, "leave the MariaDB cluster and work dir in place at the end (for debugging)")
	fs.StringVar(&o.Src, "src", ".", "Courier module root (where go.mod is) to build ./cmd/courier from")
	fs.StringVar(&o.Baseline, "baseline", "", "git revision of --src to build a second Courier from (in a temporary worktree); "+
		"every Courier subject S gets a twin S@base running it with the same configuration over the same servers, "+
		"interleaved with the others, and the report compares the two")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: bench [flags]\n\nRuns sysbench against MariaDB directly, through a null TCP relay and through Courier.\n"+
			"With --baseline REV, also through Courier built from REV, in the same rounds.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o.Workloads = splitList(*workloads)
	o.PSModes = splitList(*psModes)
	o.Subjects = splitList(*subjects)
	o.Duration = time.Duration(*duration) * time.Second
	o.Warmup = time.Duration(*warmup) * time.Second
	var err error
	if o.Threads, err = intList(*threads); err != nil {
		return o, fmt.Errorf("-threads: %w", err)
	}
	if err := o.validate(); err != nil {
		return o, err
	}
	if o.Baseline != "" {
		o.Subjects = withTwins(o.Subjects)
	}
	return o, nil
}

// validate checks the options after parsing.
func (o options) validate() error {
	var errs []error
	if len(o.Workloads) == 0 {
		errs = append(errs, errors.New("-workloads is empty"))
	}
	for _, w := range o.Workloads {
		if (!strings.HasPrefix(w, "oltp_") || strings.ContainsAny(w, "/ ")) && !slices.Contains(scriptWorkloads, w) {
			errs = append(errs, fmt.Errorf("-workloads: %q is neither a sysbench oltp_* workload nor %s", w, strings.Join(scriptWorkloads, ", ")))
		}
	}
	if len(o.PSModes) == 0 {
		errs = append(errs, errors.New("-ps-modes is empty"))
	}
	for _, m := range o.PSModes {
		if m != "disable" && m != "auto" {
			errs = append(errs, fmt.Errorf("-ps-modes: %q is neither disable nor auto", m))
		}
	}
	if len(o.Subjects) == 0 {
		errs = append(errs, errors.New("-subjects is empty"))
	}
	for _, s := range o.Subjects {
		if _, ok := ofTwin(s); ok {
			errs = append(errs, fmt.Errorf("-subjects: %q: twins are added by -baseline, not named", s))
		} else if !slices.Contains(allSubjects(), s) {
			errs = append(errs, fmt.Errorf("-subjects: unknown subject %q (want %s)", s, strings.Join(allSubjects(), ", ")))
		}
	}
	if sharded := slices.IndexFunc(o.Subjects, isSharded); sharded >= 0 {
		for _, w := range o.Workloads {
			if !slices.Contains(shardedWorkloads, w) {
				errs = append(errs, fmt.Errorf("-subjects %s runs only %s; %s reaches several shards with statements Courier does not merge yet",
					o.Subjects[sharded], strings.Join(shardedWorkloads, ", "), w))
			}
		}
	}
	if strings.HasPrefix(o.Baseline, "-") || strings.ContainsAny(o.Baseline, " \t\n") {
		errs = append(errs, fmt.Errorf("-baseline: %q is not a git revision", o.Baseline))
	}
	if o.Baseline != "" && !slices.ContainsFunc(o.Subjects, isCourier) {
		errs = append(errs, errors.New("-baseline needs a Courier subject to compare"))
	}
	if len(o.Threads) == 0 {
		errs = append(errs, errors.New("-threads is empty"))
	}
	for _, t := range o.Threads {
		if t < 1 || t > 1024 {
			errs = append(errs, fmt.Errorf("-threads: %d is not in 1..1024", t))
		}
	}
	if o.Rounds < 1 || o.Rounds > 100 {
		errs = append(errs, fmt.Errorf("-rounds: %d is not in 1..100", o.Rounds))
	}
	if o.Duration < time.Second || o.Duration > time.Hour {
		errs = append(errs, fmt.Errorf("-duration: %s is not in 1s..1h", o.Duration))
	}
	if o.Warmup < 0 || o.Warmup > 10*time.Minute {
		errs = append(errs, fmt.Errorf("-warmup: %s is not in 0..10m", o.Warmup))
	}
	if o.Tables < 1 || o.TableSize < 1 {
		errs = append(errs, errors.New("-tables and -table-size must be >= 1"))
	}
	return errors.Join(errs...)
}

// runs is the number of measured sysbench runs the options ask for.
func (o options) runs() int {
	return len(o.Workloads) * len(o.Threads) * len(o.PSModes) * o.Rounds * len(o.Subjects)
}

// splitList splits a comma-separated list, dropping blanks and duplicates.
func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// intList parses a comma-separated list of integers.
func intList(s string) ([]int, error) {
	var out []int
	for _, f := range splitList(s) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", f)
		}
		out = append(out, n)
	}
	return out, nil
}
