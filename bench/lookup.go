package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// indexColumns are the columns of orders --index accepts, with their
// types (the index table's column has the same).
var indexColumns = map[string]string{"user_id": "BIGINT", "total_cents": "INT"}

// lookupQueryFormat is the default query of a run with --index: the
// orders of one value of the indexed column.
const lookupQueryFormat = "SELECT order_id, total_cents FROM orders WHERE %s = ?"

// lookupSubject names the Courier over n primaries whose configuration
// declares the global index; layoutSubject(n) serves the same schema
// without it.
func lookupSubject(n int) string { return layoutSubject(n) + "-index" }

// indexTable is the index table of the global index on orders.column,
// under Courier's default name.
func indexTable(column string) string { return "orders_by_" + column }

// indexTableDDL creates the index table: one entry (value, order_id) per
// row, keyed by both, as Courier expects a non-unique index.
func indexTableDDL(column string) string {
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (\n  %s %s NOT NULL,\n  order_id BIGINT NOT NULL,\n"+
		"  PRIMARY KEY (%s, order_id)\n) ENGINE=InnoDB", indexTable(column), column, indexColumns[column], column)
}

// indexDefaults fills in, for a run with --index, the query and parameter
// range the flags in set did not give: a lookup by the indexed column, and
// for user_id every user.
func (o *scatterOptions) indexDefaults(set map[string]bool) {
	if o.Index == "" {
		return
	}
	if !set["query"] {
		o.Query = fmt.Sprintf(lookupQueryFormat, o.Index)
	}
	if o.Index == "user_id" {
		if !set["param-min"] {
			o.ParamMin = 1
		}
		if !set["param-max"] {
			o.ParamMax = o.Users
		}
	}
}

// checkLookup makes sure, before any measurement, that the two Couriers
// over n shards give the query the same answer and route it as the
// comparison assumes: the indexed one reads the index once per query, the
// other asks every shard without reading it.
func (e *env) checkLookup(ctx context.Context, n int, o scatterOptions, logw io.Writer) error {
	q := strings.ReplaceAll(o.Query, "?", strconv.Itoa(o.ParamMin+(o.ParamMax-o.ParamMin)/2))
	var rows []int
	for _, s := range []string{layoutSubject(n), lookupSubject(n)} {
		se := e.subjects[s]
		before, err := readRouteCounts(ctx, se)
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
		got, err := countRows(ctx, se, q)
		if err != nil {
			return fmt.Errorf("%s: the query fails before any measurement: %s: %w", s, q, err)
		}
		after, err := readRouteCounts(ctx, se)
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
		d := after.since(before, 1)
		fmt.Fprintf(logw, "bench: %s: %s: %d rows, %g index read(s), %g shard(s) asked, %g SELECT(s) on the shards\n",
			s, q, got, d.IndexReads, d.Shards, d.Selects)
		switch {
		case s == lookupSubject(n) && d.IndexReads != 1:
			return fmt.Errorf("%s: %s read the global index %g times, want once", s, q, d.IndexReads)
		case s == layoutSubject(n) && (d.IndexReads != 0 || d.Shards != float64(n)):
			return fmt.Errorf("%s: %s read the index %g times and asked %g shards, want 0 and %d", s, q, d.IndexReads, d.Shards, n)
		}
		rows = append(rows, got)
	}
	if rows[0] != rows[1] {
		return fmt.Errorf("%s: %d rows through %s, %d through %s", q, rows[0], layoutSubject(n), rows[1], lookupSubject(n))
	}
	return nil
}

// writeLookupHeader adds the lines of the report's header that describe a
// run with --index.
func writeLookupHeader(w io.Writer, o scatterOptions) {
	fmt.Fprintf(w, "- global index: every shard count runs through two Couriers over the same primaries and schema: "+
		"courier-Nshards-index (route lookup) declares `indexes: [{column: %s}]` on orders (the index table %s, sharded by %s "+
		"over the same shards, created through it before loading; it wrote the entries while loading), courier-Nshards "+
		"(route scatter) does not, so it asks every shard\n", o.Index, indexTable(o.Index), o.Index)
	fmt.Fprintln(w, "- backend SELECTs/q: Com_select of the shard primaries over the run ÷ queries (an index read counts one); "+
		"index reads/q and shards/q: courier_index_lookups_total and courier_shards_per_statement_sum from Courier's /metrics ÷ queries")
}

// writeLookupTables writes, per (threads, shard count), the scatter and
// lookup rows side by side, then their ratios.
func writeLookupTables(w io.Writer, results []cellResult, shards []int, rounds int) {
	fmt.Fprintf(w, "## Lookup by global index against scatter (median of %d round(s))\n\n", rounds)
	fmt.Fprintln(w, "| threads | shards | route | QPS | QPS min–max | p50 µs | p99 µs | proxy CPU µs/q | mysqld CPU µs/q (all shards) | backend SELECTs/q | index reads/q | shards/q | errors |")
	fmt.Fprintln(w, "|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, cr := range results {
		for _, n := range shards {
			for _, route := range []struct{ name, subject string }{{"scatter", layoutSubject(n)}, {"lookup", lookupSubject(n)}} {
				st := summarize(cr, route.subject)
				spread := "–"
				if !math.IsNaN(st.QPSMin) {
					spread = num(st.QPSMin, 0) + "–" + num(st.QPSMax, 0)
				}
				fmt.Fprintf(w, "| %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", cr.Cell.Threads, n, route.name,
					num(st.QPS, 0), spread, num(st.P50*1000, 0), num(st.P99*1000, 0), num(st.ProxyCPU, 1), num(st.MysqldCPU, 1),
					num(st.Counts.Selects, 2), num(st.Counts.IndexReads, 2), num(st.Counts.Shards, 2), errCell(st))
			}
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "## Lookup against scatter (ratios and differences of the medians above)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| threads | shards | lookup/scatter QPS | lookup − scatter p50 µs | lookup − scatter p99 µs | lookup − scatter proxy CPU µs/q | lookup − scatter mysqld CPU µs/q | lookup − scatter backend SELECTs/q |")
	fmt.Fprintln(w, "|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, cr := range results {
		for _, n := range shards {
			s, l := summarize(cr, layoutSubject(n)), summarize(cr, lookupSubject(n))
			fmt.Fprintf(w, "| %d | %d | %s | %s | %s | %s | %s | %s |\n", cr.Cell.Threads, n, num(l.QPS/s.QPS, 3),
				signed((l.P50-s.P50)*1000), signed((l.P99-s.P99)*1000), signedPrec(l.ProxyCPU-s.ProxyCPU, 1),
				signedPrec(l.MysqldCPU-s.MysqldCPU, 1), signedPrec(l.Counts.Selects-s.Counts.Selects, 2))
		}
	}
	fmt.Fprintln(w)
}
