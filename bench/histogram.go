package main

import "math"

// bucket is one line of sysbench's latency histogram: Count events took
// about Ms milliseconds. sysbench's buckets are logarithmic, about 1.8 %
// wide, so percentiles are exact to that resolution at best.
type bucket struct {
	Ms    float64
	Count int64
}

// percentile returns the latency in milliseconds below which pct percent of
// the events fall, computed the way sysbench computes its own "95th
// percentile" line (sb_histogram_getpct): the value of the first bucket at
// which the running count reaches round(total*pct/100). It returns NaN for
// an empty histogram. Buckets must be in ascending order, as sysbench prints
// them.
func percentile(hist []bucket, pct float64) float64 {
	var total int64
	for _, b := range hist {
		total += b.Count
	}
	if total == 0 {
		return math.NaN()
	}
	target := max(int64(math.Floor(float64(total)*pct/100+0.5)), 1)
	var seen int64
	for _, b := range hist {
		seen += b.Count
		if seen >= target {
			return b.Ms
		}
	}
	return hist[len(hist)-1].Ms
}
