package main

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseScatterFlags(t *testing.T) {
	o, err := parseScatterFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Shards, []int{2, 4, 8}) || o.Query != defaultScatterQuery || o.Duration != 5*time.Second ||
		!slices.Equal(o.Threads, []int{1, 16}) || o.ParamMin > o.ParamMax {
		t.Errorf("defaults: %+v", o)
	}
	q := "SELECT order_id, created_at FROM orders ORDER BY created_at DESC LIMIT 10"
	if o, err = parseScatterFlags([]string{"--query", q, "--shards", "8"}, io.Discard); err != nil || o.Query != q {
		t.Errorf("--query: %+v, %v", o, err)
	}
	for name, args := range map[string][]string{
		"no shards":        {"--shards", ""},
		"too many shards":  {"--shards", "2,64"},
		"empty query":      {"--query", " "},
		"inverted params":  {"--param-min", "10", "--param-max", "1"},
		"bad thread count": {"--threads", "0"},
		"stray argument":   {"run"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseScatterFlags(args, io.Discard); err == nil {
				t.Errorf("parseScatterFlags(%q) accepted", args)
			}
		})
	}
}

// TestScatterScriptOptions keeps the Lua script and the options the
// harness passes it in step: sysbench refuses options a script does not
// declare.
func TestScatterScriptOptions(t *testing.T) {
	for _, opt := range []string{"query =", "param_min =", "param_max =", "function event()"} {
		if !bytes.Contains(scatterScript, []byte(opt)) {
			t.Errorf("scatter.lua lacks %q", opt)
		}
	}
}

func TestWriteScatterTable(t *testing.T) {
	cr := cellResult{Cell: cell{Workload: scatterMode, Threads: 16, PSMode: "disable"}, Samples: []sample{
		{Subject: layoutSubject(2), Res: result{QPS: 6000, TotalQueries: 1}, P50: 2.3, P99: 9.4, ProxyCPU: 80, MysqldCPU: 160},
		{Subject: layoutSubject(4), Res: result{QPS: 3200, TotalQueries: 1}, P50: 4.5, P99: 10.8, ProxyCPU: 136, MysqldCPU: 360},
	}}
	var b bytes.Buffer
	writeScatterTable(&b, []cellResult{cr}, []int{2, 4}, 1)
	for _, want := range []string{
		"| 16 | 2 | 6000 | 6000–6000 | 2300 | 9400 | 80.0 | 40.0 | 160.0 | 0 |",
		"| 16 | 4 | 3200 | 3200–3200 | 4500 | 10800 | 136.0 | 34.0 | 360.0 | 0 |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	if !isCourier(layoutSubject(8)) {
		t.Error("errors through a scatter layout's Courier must fail the benchmark")
	}
}
