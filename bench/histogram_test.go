package main

import (
	"math"
	"testing"
)

func TestPercentile(t *testing.T) {
	hist := []bucket{{1.0, 10}, {2.0, 40}, {3.0, 49}, {10.0, 1}} // 100 events
	tests := []struct {
		name string
		hist []bucket
		pct  float64
		want float64
	}{
		{"p50 lands in the second bucket", hist, 50, 2.0},
		{"p10 is the last event of the first bucket", hist, 10, 1.0},
		{"p11 moves to the next bucket", hist, 11, 2.0},
		{"p99 excludes the single outlier", hist, 99, 3.0},
		{"p100 is the largest bucket", hist, 100, 10.0},
		{"p0 is the smallest bucket", hist, 0, 1.0},
		{"empty buckets are skipped", []bucket{{1.0, 0}, {2.0, 3}}, 1, 2.0},
		{"single event", []bucket{{4.5, 1}}, 99, 4.5},
		{"rounding as sysbench: 3 events, p50 -> 2nd", []bucket{{1, 1}, {2, 1}, {3, 1}}, 50, 2.0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.hist, tc.pct); got != tc.want {
				t.Errorf("percentile(%v) = %v, want %v", tc.pct, got, tc.want)
			}
		})
	}
	if got := percentile(nil, 50); !math.IsNaN(got) {
		t.Errorf("percentile of an empty histogram = %v, want NaN", got)
	}
}
