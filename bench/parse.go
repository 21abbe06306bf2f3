package main

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// result is what one sysbench run reports, parsed from its text output.
type result struct {
	QPS          float64  // "queries:" per-second figure
	TotalQueries int64    // "queries performed: ... total:"
	Transactions int64    // "transactions:" count (one event = one transaction)
	IgnoredErrs  int64    // "ignored errors:" count
	Reconnects   int64    // "reconnects:" count
	Hist         []bucket // --histogram=on latency histogram, in milliseconds
	Fatal        []string // "FATAL:" lines, in order
}

// errorCount is the number of errors sysbench counted without failing the run.
func (r result) errorCount() int64 { return r.IgnoredErrs + r.Reconnects }

// complete reports whether out had the statistics block of a finished run.
func (r result) complete() bool { return r.TotalQueries > 0 && r.QPS > 0 }

// parseOutput extracts the figures we use from sysbench 1.0's output of
// `run` with --histogram=on. Missing sections leave zero values; callers
// check complete(). Lines it does not know are ignored.
func parseOutput(out []byte) (result, error) {
	var r result
	inHist, inPerformed := false, false
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "Latency histogram"):
			inHist = true
			continue
		case inHist:
			if strings.HasPrefix(line, "value") {
				continue
			}
			b, ok, err := parseBucket(line)
			if err != nil {
				return r, err
			}
			if ok {
				r.Hist = append(r.Hist, b)
				continue
			}
			inHist = false // the blank line after the histogram
		}
		key, rest, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		rest = strings.TrimSpace(rest)
		var err error
		switch key {
		case "FATAL":
			r.Fatal = append(r.Fatal, rest)
		case "queries performed":
			inPerformed = true
		case "total":
			if inPerformed {
				r.TotalQueries, err = firstInt(rest)
				inPerformed = false
			}
		case "transactions":
			r.Transactions, err = firstInt(rest)
		case "queries":
			r.QPS, err = perSec(rest)
		case "ignored errors":
			r.IgnoredErrs, err = firstInt(rest)
		case "reconnects":
			r.Reconnects, err = firstInt(rest)
		}
		if err != nil {
			return r, fmt.Errorf("sysbench output: %q: %w", line, err)
		}
	}
	return r, sc.Err()
}

// parseBucket parses a histogram line such as "1.007 |*****   233". ok is
// false for a line that is not a bucket.
func parseBucket(line string) (b bucket, ok bool, err error) {
	value, bar, found := strings.Cut(line, "|")
	if !found {
		return b, false, nil
	}
	fields := strings.Fields(bar)
	if len(fields) == 0 {
		return b, false, fmt.Errorf("sysbench histogram: no count in %q", line)
	}
	if b.Ms, err = strconv.ParseFloat(strings.TrimSpace(value), 64); err != nil {
		return b, false, fmt.Errorf("sysbench histogram: %q: %w", line, err)
	}
	if b.Count, err = strconv.ParseInt(fields[len(fields)-1], 10, 64); err != nil {
		return b, false, fmt.Errorf("sysbench histogram: %q: %w", line, err)
	}
	return b, true, nil
}

// firstInt parses the first field of s, as in "82780  (27479.59 per sec.)".
func firstInt(s string) (int64, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, fmt.Errorf("no number")
	}
	return strconv.ParseInt(f[0], 10, 64)
}

// perSec parses the rate in parentheses, as in "82780  (27479.59 per sec.)".
func perSec(s string) (float64, error) {
	_, rest, ok := strings.Cut(s, "(")
	if !ok {
		return 0, fmt.Errorf("no per-second figure")
	}
	num, _, ok := strings.Cut(rest, " per sec")
	if !ok {
		return 0, fmt.Errorf("no per-second figure")
	}
	return strconv.ParseFloat(strings.TrimSpace(num), 64)
}
