package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// stats summarises one subject's samples in one cell: medians over the
// rounds that succeeded.
type stats struct {
	Runs, Failed   int
	QPS            float64 // median
	QPSMin, QPSMax float64
	P50, P99       float64     // median, ms
	ProxyCPU       float64     // median µs/query; NaN for direct
	MysqldCPU      float64     // median µs/query
	Counts         routeCounts // medians per query; NaN when not counted
	Errors         int64       // ignored errors + reconnects, summed over all rounds
}

// summarize computes the stats of subject in cr.
func summarize(cr cellResult, subject string) stats {
	var qps, p50, p99, pcpu, mcpu, selects, reads, shards []float64
	st := stats{}
	for _, s := range cr.Samples {
		if s.Subject != subject {
			continue
		}
		st.Runs++
		st.Errors += s.Res.errorCount()
		if s.Err != nil {
			st.Failed++
			continue
		}
		qps = append(qps, s.Res.QPS)
		p50, p99 = append(p50, s.P50), append(p99, s.P99)
		pcpu, mcpu = append(pcpu, s.ProxyCPU), append(mcpu, s.MysqldCPU)
		selects, reads, shards = append(selects, s.Counts.Selects), append(reads, s.Counts.IndexReads), append(shards, s.Counts.Shards)
	}
	st.QPS, st.P50, st.P99 = median(qps), median(p50), median(p99)
	st.ProxyCPU, st.MysqldCPU = median(pcpu), median(mcpu)
	st.Counts = routeCounts{median(selects), median(reads), median(shards)}
	st.QPSMin, st.QPSMax = math.NaN(), math.NaN()
	if len(qps) > 0 {
		st.QPSMin, st.QPSMax = slices.Min(qps), slices.Max(qps)
	}
	return st
}

// median returns the median of the non-NaN values in vs (the mean of the
// two middle ones for an even count), or NaN if there are none.
func median(vs []float64) float64 {
	var xs []float64
	for _, v := range vs {
		if !math.IsNaN(v) {
			xs = append(xs, v)
		}
	}
	if len(xs) == 0 {
		return math.NaN()
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// writeTables writes the per-subject table and the comparison table.
func writeTables(w io.Writer, results []cellResult, subjects []string, rounds int) {
	fmt.Fprintf(w, "## Per subject (median of %d round(s))\n\n", rounds)
	fmt.Fprintln(w, "| workload | threads | ps | subject | QPS | QPS min–max | p50 µs | p99 µs | proxy CPU µs/q | mysqld CPU µs/q | errors |")
	fmt.Fprintln(w, "|---|--:|---|---|--:|--:|--:|--:|--:|--:|--:|")
	for _, cr := range results {
		for _, s := range subjects {
			st := summarize(cr, s)
			spread := "–"
			if !math.IsNaN(st.QPSMin) {
				spread = num(st.QPSMin, 0) + "–" + num(st.QPSMax, 0)
			}
			fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				cr.Cell.Workload, cr.Cell.Threads, cr.Cell.PSMode, s,
				num(st.QPS, 0), spread,
				num(st.P50*1000, 0), num(st.P99*1000, 0),
				num(st.ProxyCPU, 1), num(st.MysqldCPU, 1), errCell(st))
		}
	}
	fmt.Fprintln(w)
	if twins := twinned(subjects); len(twins) > 0 {
		writeBaselineTable(w, results, twins)
	}
	if slices.Contains(subjects, subjectCourierSharded) && slices.Contains(subjects, subjectCourierShardedRW) {
		writeReplicasTable(w, results, subjects)
	}
	if slices.Contains(subjects, subjectCourier) {
		fmt.Fprintln(w, "## Courier against the baselines (ratios of the medians above)")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| workload | threads | ps | courier/direct QPS | courier/relay QPS | relay/direct QPS | courier − direct p50 µs | courier − relay p50 µs |")
		fmt.Fprintln(w, "|---|--:|---|--:|--:|--:|--:|--:|")
		for _, cr := range results {
			d, r, c := summarize(cr, subjectDirect), summarize(cr, subjectRelay), summarize(cr, subjectCourier)
			fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s |\n",
				cr.Cell.Workload, cr.Cell.Threads, cr.Cell.PSMode,
				num(c.QPS/d.QPS, 3), num(c.QPS/r.QPS, 3), num(r.QPS/d.QPS, 3),
				signed((c.P50-d.P50)*1000), signed((c.P50-r.P50)*1000))
		}
		fmt.Fprintln(w)
	}
	if slices.Contains(subjects, subjectCourierRW) {
		writeRWTable(w, results)
	}
	if slices.Contains(subjects, subjectCourierSharded) && (slices.Contains(subjects, subjectCourier) || slices.Contains(subjects, subjectDirect)) {
		writeShardedTable(w, results)
	}
}

// twinned lists the subjects among subjects whose twin is there too.
func twinned(subjects []string) []string {
	var out []string
	for _, s := range subjects {
		if _, isTwin := ofTwin(s); !isTwin && slices.Contains(subjects, twin(s)) {
			out = append(out, s)
		}
	}
	return out
}

// writeBaselineTable compares every subject in subjects with its twin,
// which runs the baseline binary in the same rounds.
func writeBaselineTable(w io.Writer, results []cellResult, subjects []string) {
	fmt.Fprintln(w, "## Courier against its baseline (new = this tree, base = --baseline; medians above, same rounds)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| workload | threads | ps | subject | new/base QPS | new − base p50 µs | new − base p99 µs | new − base proxy CPU µs/q |")
	fmt.Fprintln(w, "|---|--:|---|---|--:|--:|--:|--:|")
	for _, cr := range results {
		for _, s := range subjects {
			n, b := summarize(cr, s), summarize(cr, twin(s))
			fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s |\n", cr.Cell.Workload, cr.Cell.Threads, cr.Cell.PSMode, s,
				num(n.QPS/b.QPS, 3), signed((n.P50-b.P50)*1000), signed((n.P99-b.P99)*1000), signedPrec(n.ProxyCPU-b.ProxyCPU, 1))
		}
	}
	fmt.Fprintln(w)
}

// writeReplicasTable compares Courier over the shards with their replicas
// (courier-sharded-rw) with Courier over the same shards' primaries alone
// (courier-sharded), for this tree's Courier and, when both twins ran, for
// the baseline's.
func writeReplicasTable(w io.Writer, results []cellResult, subjects []string) {
	type pair struct{ label, with, without string }
	pairs := []pair{{"new", subjectCourierShardedRW, subjectCourierSharded}}
	if slices.Contains(subjects, twin(subjectCourierShardedRW)) && slices.Contains(subjects, twin(subjectCourierSharded)) {
		pairs = append(pairs, pair{"base", twin(subjectCourierShardedRW), twin(subjectCourierSharded)})
	}
	fmt.Fprintln(w, "## With replicas / without (courier-sharded-rw against courier-sharded: the same shards, reads on their replicas or not)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| workload | threads | ps | Courier | p50 with/without | p99 with/without | QPS with/without | with − without p50 µs | with − without proxy CPU µs/q |")
	fmt.Fprintln(w, "|---|--:|---|---|--:|--:|--:|--:|--:|")
	for _, cr := range results {
		for _, p := range pairs {
			rw, sh := summarize(cr, p.with), summarize(cr, p.without)
			fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", cr.Cell.Workload, cr.Cell.Threads, cr.Cell.PSMode, p.label,
				num(rw.P50/sh.P50, 3), num(rw.P99/sh.P99, 3), num(rw.QPS/sh.QPS, 3),
				signed((rw.P50-sh.P50)*1000), signedPrec(rw.ProxyCPU-sh.ProxyCPU, 1))
		}
	}
	fmt.Fprintln(w)
}

// writeRWTable compares read/write splitting with the primary alone.
func writeRWTable(w io.Writer, results []cellResult) {
	fmt.Fprintln(w, "## Read/write splitting against the primary alone (ratios of the medians above)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| workload | threads | ps | courier-rw/direct QPS | courier-rw/courier QPS | courier-rw − direct p50 µs |")
	fmt.Fprintln(w, "|---|--:|---|--:|--:|--:|")
	for _, cr := range results {
		d, c, rw := summarize(cr, subjectDirect), summarize(cr, subjectCourier), summarize(cr, subjectCourierRW)
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s |\n", cr.Cell.Workload, cr.Cell.Threads, cr.Cell.PSMode,
			num(rw.QPS/d.QPS, 3), num(rw.QPS/c.QPS, 3), signed((rw.P50-d.P50)*1000))
	}
	fmt.Fprintln(w)
}

// writeShardedTable compares Courier routing by sharding key over four
// shards with Courier in front of one server.
func writeShardedTable(w io.Writer, results []cellResult) {
	fmt.Fprintln(w, "## Sharded key routing against the unsharded proxy (ratios of the medians above)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| workload | threads | ps | courier-sharded/courier QPS | courier-sharded/direct QPS | courier-sharded − courier p50 µs | courier-sharded − courier proxy CPU µs/q |")
	fmt.Fprintln(w, "|---|--:|---|--:|--:|--:|--:|")
	for _, cr := range results {
		d, c, sh := summarize(cr, subjectDirect), summarize(cr, subjectCourier), summarize(cr, subjectCourierSharded)
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s |\n", cr.Cell.Workload, cr.Cell.Threads, cr.Cell.PSMode,
			num(sh.QPS/c.QPS, 3), num(sh.QPS/d.QPS, 3), signed((sh.P50-c.P50)*1000), signedPrec(sh.ProxyCPU-c.ProxyCPU, 1))
	}
	fmt.Fprintln(w)
}

// errCell renders the error count and failed runs of a stats.
func errCell(st stats) string {
	if st.Runs == 0 {
		return "–"
	}
	s := fmt.Sprint(st.Errors)
	if st.Errors > 0 {
		s = "**" + s + "**"
	}
	if st.Failed > 0 {
		s += fmt.Sprintf(" (**%d/%d runs failed**)", st.Failed, st.Runs)
	}
	return s
}

// num formats v with prec decimals, or "–" for NaN and infinities.
func num(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

// signed formats a latency difference in whole µs with its sign.
func signed(v float64) string { return signedPrec(v, 0) }

// signedPrec formats a difference with prec decimals and its sign.
func signedPrec(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf("%+.*f", prec, v)
}

// problem is one thing the reader must not miss.
type problem struct {
	Fatal bool // a failed run, or errors in a Courier run: the harness exits non-zero
	Text  string
}

// problems lists failed runs and runs that counted errors. Errors in a
// Courier run are marked; so are failures of any subject, since the table
// then has holes.
func problems(results []cellResult) []problem {
	var out []problem
	for _, cr := range results {
		for _, s := range cr.Samples {
			where := fmt.Sprintf("%s round %d %s", cr.Cell, s.Round+1, s.Subject)
			switch {
			case s.Err != nil:
				out = append(out, problem{Fatal: true, Text: fmt.Sprintf("%s: run FAILED: %v", where, s.Err)})
			case s.Res.errorCount() > 0:
				out = append(out, problem{Fatal: isCourier(s.Subject), Text: fmt.Sprintf("%s: %d ignored error(s), %d reconnect(s)",
					where, s.Res.IgnoredErrs, s.Res.Reconnects)})
			}
		}
	}
	return out
}

// writeProblems writes the problems section, if there are any.
func writeProblems(w io.Writer, ps []problem) {
	if len(ps) == 0 {
		return
	}
	fmt.Fprintln(w, "## Problems")
	fmt.Fprintln(w)
	for _, p := range ps {
		first, rest, _ := strings.Cut(strings.TrimSpace(p.Text), "\n")
		fmt.Fprintf(w, "- %s\n", first)
		if rest != "" {
			fmt.Fprintf(w, "\n  ```\n  %s\n  ```\n\n", strings.ReplaceAll(rest, "\n", "\n  "))
		}
	}
	fmt.Fprintln(w)
}
