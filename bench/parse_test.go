package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// readSample returns a captured sysbench 1.0.20 output from testdata.
func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseOutput(t *testing.T) {
	tests := []struct {
		file        string
		qps         float64
		total, txns int64
		buckets     int
		first, last bucket
	}{
		{"point_select_16t.txt", 22651.12, 45425, 45425, 270, bucket{0.052, 2}, bucket{20.002, 1}},
		{"read_write_4t.txt", 27479.59, 82780, 4139, 126, bucket{0.937, 5}, bucket{17.319, 1}},
		{"read_write_64t.txt", 14877.06, 45800, 2290, 0, bucket{}, bucket{}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			r, err := parseOutput(readSample(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if r.QPS != tc.qps || r.TotalQueries != tc.total || r.Transactions != tc.txns {
				t.Errorf("qps, total, transactions = %v, %d, %d; want %v, %d, %d", r.QPS, r.TotalQueries, r.Transactions, tc.qps, tc.total, tc.txns)
			}
			if r.IgnoredErrs != 0 || r.Reconnects != 0 || len(r.Fatal) != 0 || !r.complete() {
				t.Errorf("errors %d, reconnects %d, fatal %q, complete %v; want a clean run", r.IgnoredErrs, r.Reconnects, r.Fatal, r.complete())
			}
			var events int64
			for _, b := range r.Hist {
				events += b.Count
			}
			if events != tc.txns {
				t.Errorf("histogram holds %d events, want one per transaction (%d)", events, tc.txns)
			}
			if tc.buckets == 0 {
				return
			}
			if len(r.Hist) != tc.buckets || r.Hist[0] != tc.first || r.Hist[len(r.Hist)-1] != tc.last {
				t.Errorf("histogram: %d buckets from %v to %v; want %d from %v to %v",
					len(r.Hist), r.Hist[0], r.Hist[len(r.Hist)-1], tc.buckets, tc.first, tc.last)
			}
		})
	}
}

func TestParseOutputFailures(t *testing.T) {
	tests := []struct {
		file  string
		fatal string // first FATAL line
	}{
		{"connect_refused.txt", "unable to connect to MySQL server on host '127.0.0.1', port 41599, aborting..."},
		{"missing_table.txt", "mysql_stmt_prepare() failed"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			r, err := parseOutput(readSample(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if r.complete() || len(r.Hist) != 0 {
				t.Errorf("complete=%v with %d buckets; want an incomplete result", r.complete(), len(r.Hist))
			}
			if len(r.Fatal) == 0 || r.Fatal[0] != tc.fatal {
				t.Errorf("fatal lines %q; want first %q", r.Fatal, tc.fatal)
			}
		})
	}
}

// TestParseOutputErrors uses a hand-edited statistics block, since the
// captured runs had no errors.
func TestParseOutputErrors(t *testing.T) {
	out := `SQL statistics:
    queries performed:
        read:                            57946
        write:                           16556
        other:                           8278
        total:                           82780
    transactions:                        4139   (1373.98 per sec.)
    queries:                             82780  (27479.59 per sec.)
    ignored errors:                      7      (2.33 per sec.)
    reconnects:                          2      (0.66 per sec.)

General statistics:
    total time:                          3.0120s
    total number of events:              4139
`
	r, err := parseOutput([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if r.IgnoredErrs != 7 || r.Reconnects != 2 || r.errorCount() != 9 || r.TotalQueries != 82780 {
		t.Errorf("got %+v; want 7 ignored errors, 2 reconnects, 82780 queries", r)
	}
}

func TestParseOutputRejectsGarbledHistogram(t *testing.T) {
	out := "Latency histogram (values are in milliseconds)\n       value  ---- distribution ---- count\n       x.1 |****   12\n"
	if _, err := parseOutput([]byte(out)); err == nil {
		t.Fatal("want an error for a non-numeric bucket value")
	}
}

// TestPercentileMatchesSysbench checks percentile against the "95th
// percentile" sysbench itself printed for the same histogram.
func TestPercentileMatchesSysbench(t *testing.T) {
	for _, file := range []string{"point_select_16t.txt", "read_write_4t.txt", "read_write_64t.txt"} {
		t.Run(file, func(t *testing.T) {
			out := readSample(t, file)
			r, err := parseOutput(out)
			if err != nil {
				t.Fatal(err)
			}
			want := printedP95(t, out)
			if got := percentile(r.Hist, 95); strconv.FormatFloat(got, 'f', 2, 64) != want {
				t.Errorf("p95 = %.3f; sysbench printed %s", got, want)
			}
		})
	}
}

// printedP95 returns sysbench's "95th percentile:" figure as printed.
func printedP95(t *testing.T, out []byte) string {
	t.Helper()
	for l := range strings.SplitSeq(string(out), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), ":"); ok && k == "95th percentile" {
			return strings.TrimSpace(v)
		}
	}
	t.Fatal("no 95th percentile line")
	return ""
}
