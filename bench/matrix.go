package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// settle is the pause between runs, so one run's connection teardown does
// not overlap the next run's start.
const settle = 300 * time.Millisecond

// cell is one configuration of the matrix; every subject runs it once per
// round.
type cell struct {
	Workload string
	Threads  int
	PSMode   string
}

func (c cell) String() string {
	return fmt.Sprintf("%s threads=%d ps=%s", c.Workload, c.Threads, c.PSMode)
}

// sample is one measured run of one subject.
type sample struct {
	Subject   string
	Round     int
	Res       result
	P50, P99  float64 // per-event latency from the histogram, ms
	ProxyCPU  float64 // proxy CPU µs per query; NaN for direct
	MysqldCPU float64 // mariadbd CPU µs per query
	// Counts are the subject's routeCounts per query, when the runner
	// counts (NaN otherwise).
	Counts routeCounts
	Err    error // the run failed; Res may be partial
}

// cellResult holds every sample of one cell, in run order.
type cellResult struct {
	Cell    cell
	Samples []sample
}

// runner runs sysbench against the subjects of an env.
type runner struct {
	env  *env
	opts options
	hz   int64 // CLK_TCK
	logw io.Writer
	// scripts maps workload names that are not sysbench's own to the Lua
	// script that runs them and its options.
	scripts map[string]sbScript
	// count reads every subject's routeCounts around each run.
	count bool
}

// sbScript is a sysbench Lua script with its options.
type sbScript struct {
	Path    string
	Options []string
}

// matrix runs every cell: for each, Rounds rounds, and in each round every
// subject once, the starting subject rotating from round to round so that
// drifting background load hits all subjects alike. It returns what was
// measured so far when ctx ends.
func (r *runner) matrix(ctx context.Context) ([]cellResult, error) {
	var out []cellResult
	total, done := r.opts.runs(), 0
	width := 0 // of the subject column of the progress lines
	for _, s := range r.opts.Subjects {
		width = max(width, len(s))
	}
	for _, w := range r.opts.Workloads {
		for _, t := range r.opts.Threads {
			for _, ps := range r.opts.PSModes {
				cr := cellResult{Cell: cell{Workload: w, Threads: t, PSMode: ps}}
				for round := range r.opts.Rounds {
					for _, s := range rotate(r.opts.Subjects, round) {
						if err := ctx.Err(); err != nil {
							return append(out, cr), err
						}
						done++
						smp := r.measure(ctx, cr.Cell, s, round)
						if err := ctx.Err(); err != nil {
							return append(out, cr), err // an interrupted run measures nothing
						}
						fmt.Fprintf(r.logw, "bench: [%d/%d] %s round %d %-*s %s\n", done, total, cr.Cell, round+1, width, s, smp.summary())
						cr.Samples = append(cr.Samples, smp)
						sleepCtx(ctx, settle)
					}
				}
				out = append(out, cr)
			}
		}
	}
	return out, nil
}

// warmup runs unrecorded oltp_point_select (or the script workload being
// measured) through every subject, so that caches, backend pools and the
// CPU frequency governor are warm before the first measurement.
func (r *runner) warmup(ctx context.Context) {
	if r.opts.Warmup <= 0 {
		return
	}
	c := cell{Workload: "oltp_point_select", Threads: slices.Max(r.opts.Threads), PSMode: "disable"}
	if _, ok := r.scripts[r.opts.Workloads[0]]; ok {
		c.Workload = r.opts.Workloads[0]
	}
	fmt.Fprintf(r.logw, "bench: warmup: %s for %s through each subject (not recorded)\n", c, r.opts.Warmup)
	for _, s := range r.opts.Subjects {
		_, err := run(ctx, r.target(s), r.sbRun(c, r.opts.Warmup))
		if err != nil {
			fmt.Fprintf(r.logw, "bench: warmup through %s failed: %v\n", s, err)
		}
	}
}

// target is where sysbench connects for subject s.
func (r *runner) target(s string) sbTarget {
	se := r.env.subjects[s]
	return sbTarget{Port: se.port, DB: se.db, Tables: r.opts.Tables, TableSize: r.opts.TableSize}
}

// sbRun is the sysbench run of cell c for d.
func (r *runner) sbRun(c cell, d time.Duration) sbRun {
	sb := sbRun{Workload: c.Workload, Threads: c.Threads, PSMode: c.PSMode, Duration: d, SkipTrx: r.opts.SkipTrx}
	if sc, ok := r.scripts[c.Workload]; ok { // a script of the harness's own: its statements are what it says
		sb.Workload, sb.Options, sb.SkipTrx = sc.Path, sc.Options, false
	}
	return sb
}

// measure runs one cell through one subject, metering the proxy's and
// mariadbd's CPU time.
func (r *runner) measure(ctx context.Context, c cell, subject string, round int) sample {
	smp := sample{Subject: subject, Round: round, ProxyCPU: math.NaN(), MysqldCPU: math.NaN(), P50: math.NaN(), P99: math.NaN(),
		Counts: noCounts()}
	se := r.env.subjects[subject]
	if se.replicasOf != nil { // every run starts with the replicas caught up, whatever ran before
		if err := waitCaughtUp(ctx, se.replicasOf, runCatchUp); err != nil {
			smp.Err = err
			return smp
		}
	}
	var before routeCounts
	if r.count { // read before the CPU meter starts: the reading costs mariadbd some
		var err error
		if before, err = readRouteCounts(ctx, se); err != nil {
			smp.Err = err
			return smp
		}
	}
	proxy := se.proxy
	m := cpuMeter{hz: r.hz, pids: map[string][]int{"mysqld": se.mysqld}}
	if proxy != nil {
		m.pids["proxy"] = []int{proxy.pid()}
	}
	if err := m.start(); err != nil {
		smp.Err = err
		if proxy != nil && !proxy.alive() {
			smp.Err = errors.New(proxy.describeExit())
		}
		return smp
	}
	smp.Res, smp.Err = run(ctx, r.target(subject), r.sbRun(c, r.opts.Duration))
	if len(smp.Res.Hist) > 0 {
		smp.P50, smp.P99 = percentile(smp.Res.Hist, 50), percentile(smp.Res.Hist, 99)
	}
	if proxy != nil && !proxy.alive() {
		smp.Err = errors.Join(smp.Err, errors.New(proxy.describeExit()))
		return smp
	}
	cpu, err := m.perQuery(smp.Res.TotalQueries)
	if err != nil && smp.Err == nil {
		smp.Err = err
	}
	if v, ok := cpu["proxy"]; ok {
		smp.ProxyCPU = v
	}
	if v, ok := cpu["mysqld"]; ok {
		smp.MysqldCPU = v
	}
	if r.count {
		after, err := readRouteCounts(ctx, se)
		if err != nil && smp.Err == nil {
			smp.Err = err
		}
		if err == nil {
			smp.Counts = after.since(before, smp.Res.TotalQueries)
		}
	}
	return smp
}

// summary is the one-line progress report of a sample.
func (s sample) summary() string {
	if s.Err != nil {
		return fmt.Sprintf("FAILED: %v", s.Err)
	}
	line := fmt.Sprintf("%9.1f qps  p50 %7.0fµs  p99 %7.0fµs  mysqld %5.1fµs/q", s.Res.QPS, s.P50*1000, s.P99*1000, s.MysqldCPU)
	if !math.IsNaN(s.ProxyCPU) {
		line += fmt.Sprintf("  proxy %5.1fµs/q", s.ProxyCPU)
	}
	if c := s.Counts; !math.IsNaN(c.Selects) {
		line += fmt.Sprintf("  SELECTs %.2f/q", c.Selects)
		if !math.IsNaN(c.IndexReads) {
			line += fmt.Sprintf("  index reads %.2f/q  shards %.2f/q", c.IndexReads, c.Shards)
		}
	}
	if n := s.Res.errorCount(); n > 0 {
		line += fmt.Sprintf("  ERRORS %d (ignored %d, reconnects %d)", n, s.Res.IgnoredErrs, s.Res.Reconnects)
	}
	return line
}

// rotate returns subjects starting at index round (mod len).
func rotate(subjects []string, round int) []string {
	k := round % len(subjects)
	return append(slices.Clone(subjects[k:]), subjects[:k]...)
}

// sleepCtx pauses for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
