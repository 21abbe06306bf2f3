package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestParseScatterFlagsIndex(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		query    string
		min, max int
	}{
		{"lookup by user", []string{"--index", "user_id"}, "SELECT order_id, total_cents FROM orders WHERE user_id = ?", 1, 2000},
		{"fewer users", []string{"--index", "user_id", "--users", "500"}, "SELECT order_id, total_cents FROM orders WHERE user_id = ?", 1, 500},
		{"explicit range kept", []string{"--index", "user_id", "--param-min", "7", "--param-max", "9"}, "SELECT order_id, total_cents FROM orders WHERE user_id = ?", 7, 9},
		{"explicit query kept", []string{"--index", "user_id", "--query", "SELECT 1 FROM orders WHERE user_id IN (?, ?)"},
			"SELECT 1 FROM orders WHERE user_id IN (?, ?)", 1, 2000},
		{"total_cents keeps its range", []string{"--index", "total_cents"}, "SELECT order_id, total_cents FROM orders WHERE total_cents = ?", 500, 10499},
		{"no index", nil, defaultScatterQuery, 500, 10499},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseScatterFlags(tc.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if o.Query != tc.query || o.ParamMin != tc.min || o.ParamMax != tc.max {
				t.Errorf("query %q, params %d..%d; want %q, %d..%d", o.Query, o.ParamMin, o.ParamMax, tc.query, tc.min, tc.max)
			}
		})
	}
	for name, args := range map[string][]string{
		"not an integer column": {"--index", "created_at"},
		"the sharding key":      {"--index", "order_id"},
		"no users":              {"--users", "0"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseScatterFlags(args, io.Discard); err == nil {
				t.Errorf("parseScatterFlags(%q) accepted", args)
			}
		})
	}
}

func TestIndexTableDDL(t *testing.T) {
	want := "CREATE TABLE IF NOT EXISTS orders_by_user_id (\n  user_id BIGINT NOT NULL,\n  order_id BIGINT NOT NULL,\n" +
		"  PRIMARY KEY (user_id, order_id)\n) ENGINE=InnoDB"
	if got := indexTableDDL("user_id"); got != want {
		t.Errorf("indexTableDDL:\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(scatterTable, "user_id     BIGINT") {
		t.Error("the index table's column type must follow orders.user_id")
	}
}

func TestWriteLookupTables(t *testing.T) {
	cr := cellResult{Cell: cell{Workload: scatterMode, Threads: 16, PSMode: "disable"}, Samples: []sample{
		{Subject: layoutSubject(4), Res: result{QPS: 4000, TotalQueries: 1}, P50: 3.5, P99: 9.0, ProxyCPU: 100, MysqldCPU: 300,
			Counts: routeCounts{Selects: 4, IndexReads: 0, Shards: 4}},
		{Subject: lookupSubject(4), Res: result{QPS: 3000, TotalQueries: 1}, P50: 4.0, P99: 12.5, ProxyCPU: 120, MysqldCPU: 310,
			Counts: routeCounts{Selects: 4.78, IndexReads: 1, Shards: 3.78}},
	}}
	var b bytes.Buffer
	writeLookupTables(&b, []cellResult{cr}, []int{4}, 1)
	for _, want := range []string{
		"| 16 | 4 | scatter | 4000 | 4000–4000 | 3500 | 9000 | 100.0 | 300.0 | 4.00 | 0.00 | 4.00 | 0 |",
		"| 16 | 4 | lookup | 3000 | 3000–3000 | 4000 | 12500 | 120.0 | 310.0 | 4.78 | 1.00 | 3.78 | 0 |",
		"| 16 | 4 | 0.750 | +500 | +3500 | +20.0 | +10.0 | +0.78 |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("tables lack %q:\n%s", want, b.String())
		}
	}
}
