package main

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{"odd", []float64{3, 1, 2}, 2},
		{"even takes the mean of the middle two", []float64{4, 1, 3, 2}, 2.5},
		{"NaN ignored", []float64{nan, 5, 1, 3}, 3},
		{"single", []float64{7}, 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := median(tc.in); got != tc.want {
				t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
	for _, in := range [][]float64{nil, {nan, nan}} {
		if got := median(in); !math.IsNaN(got) {
			t.Errorf("median(%v) = %v, want NaN", in, got)
		}
	}
}

func TestRotate(t *testing.T) {
	s := []string{"a", "b", "c"}
	for round, want := range [][]string{{"a", "b", "c"}, {"b", "c", "a"}, {"c", "a", "b"}, {"a", "b", "c"}} {
		if got := rotate(s, round); !slices.Equal(got, want) {
			t.Errorf("rotate(round %d) = %v, want %v", round, got, want)
		}
	}
	if !slices.Equal(s, []string{"a", "b", "c"}) {
		t.Errorf("rotate modified its input: %v", s)
	}
}

// testCell is a cell with two rounds of three subjects; round 2 of Courier
// failed and round 1 of Courier counted errors.
func testCell() cellResult {
	smp := func(subject string, round int, qps, p50 float64, errs int64, err error) sample {
		return sample{Subject: subject, Round: round, Res: result{QPS: qps, TotalQueries: 1000, IgnoredErrs: errs},
			P50: p50, P99: p50 * 2, ProxyCPU: 10, MysqldCPU: 20, Err: err}
	}
	return cellResult{Cell: cell{Workload: "oltp_point_select", Threads: 16, PSMode: "auto"}, Samples: []sample{
		smp(subjectDirect, 0, 1000, 1.0, 0, nil),
		smp(subjectRelay, 0, 900, 1.1, 0, nil),
		smp(subjectCourier, 0, 800, 1.25, 3, nil),
		smp(subjectRelay, 1, 700, 1.3, 0, nil),
		smp(subjectCourier, 1, 0, math.NaN(), 0, errors.New("sysbench: exit status 1")),
		smp(subjectDirect, 1, 1200, 0.8, 0, nil),
	}}
}

func TestSummarize(t *testing.T) {
	cr := testCell()
	d := summarize(cr, subjectDirect)
	if d.QPS != 1100 || d.QPSMin != 1000 || d.QPSMax != 1200 || d.P50 != 0.9 || d.Runs != 2 || d.Failed != 0 {
		t.Errorf("direct: %+v", d)
	}
	c := summarize(cr, subjectCourier)
	if c.QPS != 800 || c.Runs != 2 || c.Failed != 1 || c.Errors != 3 || c.P50 != 1.25 {
		t.Errorf("courier: %+v; want the failed round left out of the medians", c)
	}
}

func TestWriteTables(t *testing.T) {
	var b bytes.Buffer
	writeTables(&b, []cellResult{testCell()}, allSubjects(), 2)
	out := b.String()
	for _, want := range []string{
		"| oltp_point_select | 16 | auto | direct | 1100 | 1000–1200 | 900 | 1800 | 10.0 | 20.0 | 0 |",
		"| oltp_point_select | 16 | auto | courier | 800 | 800–800 | 1250 | 2500 | 10.0 | 20.0 | **3** (**1/2 runs failed**) |",
		// 800/1100, 800/800, 800/1100; p50 1250-900 and 1250-1200
		"| oltp_point_select | 16 | auto | 0.727 | 1.000 | 0.727 | +350 | +50 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tables lack %q:\n%s", want, out)
		}
	}
}

func TestProblems(t *testing.T) {
	ps := problems([]cellResult{testCell()})
	if len(ps) != 2 || !ps[0].Fatal || !ps[1].Fatal {
		t.Fatalf("problems = %+v; want Courier's errors and its failed run, both fatal", ps)
	}
	relayErrs := cellResult{Samples: []sample{{Subject: subjectRelay, Res: result{QPS: 1, TotalQueries: 1, IgnoredErrs: 1}}}}
	if ps := problems([]cellResult{relayErrs}); len(ps) != 1 || ps[0].Fatal {
		t.Errorf("problems = %+v; want one non-fatal problem for ignored errors outside Courier", ps)
	}
}

func TestWriteShardedTable(t *testing.T) {
	cr := testCell()
	cr.Samples = append(cr.Samples,
		sample{Subject: subjectCourierSharded, Res: result{QPS: 720, TotalQueries: 1000}, P50: 1.5, P99: 3, ProxyCPU: 12.5, MysqldCPU: 30})
	var b bytes.Buffer
	writeTables(&b, []cellResult{cr}, []string{subjectDirect, subjectCourier, subjectCourierSharded}, 2)
	// 720/800, 720/1100, p50 1500-1250, proxy CPU 12.5-10
	if want := "| oltp_point_select | 16 | auto | 0.900 | 0.655 | +250 | +2.5 |"; !strings.Contains(b.String(), want) {
		t.Errorf("tables lack %q:\n%s", want, b.String())
	}
}

// TestWriteBaselineTables checks the comparisons with the twins: every
// subject against its baseline twin, and the sharded subjects with
// replicas against without, for both binaries.
func TestWriteBaselineTables(t *testing.T) {
	smp := func(subject string, qps, p50, p99, proxy float64) sample {
		return sample{Subject: subject, Res: result{QPS: qps, TotalQueries: 1000}, P50: p50, P99: p99, ProxyCPU: proxy, MysqldCPU: 50}
	}
	cr := cellResult{Cell: cell{Workload: rwPointWorkload, Threads: 1, PSMode: "disable"}, Samples: []sample{
		smp(subjectCourierSharded, 3000, 1.0, 2.0, 70),
		smp(twin(subjectCourierSharded), 2500, 1.2, 2.5, 80),
		smp(subjectCourierShardedRW, 2000, 1.5, 3.0, 90),
		smp(twin(subjectCourierShardedRW), 40, 2.4, 204.0, 400),
	}}
	subjects := withTwins([]string{subjectCourierSharded, subjectCourierShardedRW})
	var b bytes.Buffer
	writeTables(&b, []cellResult{cr}, subjects, 1)
	out := b.String()
	for _, want := range []string{
		"| rw_point | 1 | disable | courier-sharded@base | 2500 | 2500–2500 | 1200 | 2500 | 80.0 | 50.0 | 0 |",
		// 3000/2500, 1000-1200, 2000-2500, 70-80
		"| rw_point | 1 | disable | courier-sharded | 1.200 | -200 | -500 | -10.0 |",
		"| rw_point | 1 | disable | courier-sharded-rw | 50.000 | -900 | -201000 | -310.0 |",
		// 1.5/1.0, 3.0/2.0, 2000/3000, 1500-1000, 90-70
		"| rw_point | 1 | disable | new | 1.500 | 1.500 | 0.667 | +500 | +20.0 |",
		"| rw_point | 1 | disable | base | 2.000 | 81.600 | 0.016 | +1200 | +320.0 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tables lack %q:\n%s", want, out)
		}
	}
	for _, absent := range []string{"courier/direct QPS", "courier-sharded/courier QPS"} {
		if strings.Contains(out, absent) {
			t.Errorf("tables compare with subjects that did not run (%q):\n%s", absent, out)
		}
	}
	b.Reset()
	writeTables(&b, []cellResult{cr}, []string{subjectCourierSharded, subjectCourierShardedRW}, 1)
	if out := b.String(); strings.Contains(out, "against its baseline") || !strings.Contains(out, "| new |") || strings.Contains(out, "| base |") {
		t.Errorf("without twins: no baseline table and only the new binary's with/without row:\n%s", out)
	}
}
