package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// routeCounts are cumulative counters that say what a subject's
// statements cost beyond Courier itself: the SELECTs its shard primaries
// executed and, from Courier's metrics, the global index reads and the
// shards its statements reached. A run's figures are the difference of
// two readings divided by the queries sysbench counted (since).
type routeCounts struct {
	Selects    float64 // Com_select summed over the subject's shard primaries
	IndexReads float64 // courier_index_lookups_total, every index
	Shards     float64 // courier_shards_per_statement_sum, every route
}

// noCounts is the value of a run whose counters were not read.
func noCounts() routeCounts { return routeCounts{math.NaN(), math.NaN(), math.NaN()} }

// since returns (c - before) / queries, field by field.
func (c routeCounts) since(before routeCounts, queries int64) routeCounts {
	if queries <= 0 {
		return noCounts()
	}
	q := float64(queries)
	return routeCounts{(c.Selects - before.Selects) / q, (c.IndexReads - before.IndexReads) / q, (c.Shards - before.Shards) / q}
}

// readRouteCounts reads the counters of se: Com_select from every shard
// primary (the health checks of the Couriers are pings, which it does not
// count) and, when Courier serves an admin address, its metrics (NaN
// otherwise).
func readRouteCounts(ctx context.Context, se *subjectEnv) (routeCounts, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c := noCounts()
	c.Selects = 0
	for _, p := range se.shards {
		db, err := sql.Open("mysql", se.shardsOf.DSN(p, se.db))
		if err != nil {
			return c, err
		}
		var name string
		var n float64
		err = db.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'Com_select'").Scan(&name, &n)
		db.Close()
		if err != nil {
			return c, fmt.Errorf("Com_select on %s: %w", p.Name, err)
		}
		c.Selects += n
	}
	if se.admin == "" {
		return c, nil
	}
	m, err := fetchMetrics(ctx, se.admin)
	if err != nil {
		return c, err
	}
	c.IndexReads = promSum(m, "courier_index_lookups_total")
	c.Shards = promSum(m, "courier_shards_per_statement_sum")
	return c, nil
}

// fetchMetrics returns the Prometheus text Courier serves at
// http://admin/metrics.
func fetchMetrics(ctx context.Context, admin string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+admin+"/metrics", nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("Courier metrics: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("Courier metrics: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("Courier metrics: %s", resp.Status)
	}
	return string(body), nil
}

// promSum adds up the samples of metric name, whatever their labels, in
// Prometheus text exposition; a metric that is absent counts 0 (Courier
// shows a labelled counter only once it has counted).
func promSum(text, name string) float64 {
	var sum float64
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		end := strings.IndexAny(line, "{ ")
		if end < 0 || line[:end] != name {
			continue
		}
		rest := line[end:]
		if rest[0] == '{' { // labels, whose values may hold spaces
			rest = rest[strings.LastIndexByte(rest, '}')+1:]
		}
		f := strings.Fields(rest) // value, then an optional timestamp
		if len(f) == 0 {
			continue
		}
		if v, err := strconv.ParseFloat(f[0], 64); err == nil {
			sum += v
		}
	}
	return sum
}
