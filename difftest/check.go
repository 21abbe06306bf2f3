package difftest

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Outcome is how Courier's answer to one statement compares with the
// reference server's.
type Outcome int

// Outcomes.
const (
	// Matched: the same answer (or, for a statement Courier must refuse,
	// the refusal, with the connection still usable).
	Matched Outcome = iota
	// Mismatched: a different answer.
	Mismatched
	// Refused: Courier answered 1235 (not supported) to a read the
	// reference answered; whether that is acceptable depends on the shape.
	Refused
)

// Verdict is the outcome of one statement and, unless it matched, what
// differed: the statement and both answers.
type Verdict struct {
	Outcome Outcome
	// Reason is the difference in a few words ("different column names",
	// "12 rows, want 14", ...), to count mismatches by kind.
	Reason string
	Detail string
	// Rows is how many rows the reference answered (reads only), to show
	// that the statements are not vacuous.
	Rows int
	// Elapsed is the time both servers took.
	Elapsed time.Duration
}

// maxReportRows is how many rows of each answer a report shows.
const maxReportRows = 8

// Check runs q on the reference server and on Courier and compares the
// answers. Writes run on both, then the reads that follow them.
func Check(ctx context.Context, ref, courier Conn, q Query) Verdict {
	start := time.Now()
	v := check(ctx, ref, courier, q)
	v.Elapsed = time.Since(start)
	return v
}

func check(ctx context.Context, ref, courier Conn, q Query) Verdict {
	if q.Refuse != 0 {
		return checkRefusal(ctx, ref, courier, q)
	}
	want := Run(ctx, ref, q.SQL, q.Write)
	got := Run(ctx, courier, q.SQL, q.Write)
	verdict := func(o Outcome, why string) Verdict {
		return Verdict{Outcome: o, Reason: why, Rows: len(want.Rows),
			Detail: fmt.Sprintf("%s: %s\n  want %s\n  got  %s", why, q.SQL, Format(want, maxReportRows), Format(got, maxReportRows))}
	}
	switch {
	case want.Err != nil:
		return verdict(Mismatched, "the reference server failed (a bad generated statement)")
	case !q.Write && got.Errno() == ErrNotSupported:
		return verdict(Refused, "refused")
	}
	if d := Diff(want, got, q.Ordered); d != "" {
		return verdict(Mismatched, d)
	}
	rows := len(want.Rows)
	for _, then := range q.Then {
		v := check(ctx, ref, courier, then)
		if v.Outcome != Matched {
			return Verdict{Outcome: Mismatched, Reason: "after a write: " + v.Reason, Detail: "after " + q.SQL + "\n  " + v.Detail, Rows: rows}
		}
		rows += v.Rows
	}
	return Verdict{Outcome: Matched, Rows: rows}
}

// checkRefusal checks that Courier refuses q with q.Refuse and that the
// same connection then still answers.
func checkRefusal(ctx context.Context, ref, courier Conn, q Query) Verdict {
	if r := Run(ctx, ref, q.SQL, false); r.Err != nil {
		return Verdict{Outcome: Mismatched, Reason: "the reference server failed (a bad generated statement)",
			Detail: fmt.Sprintf("the reference server failed (a bad generated statement): %s\n  %s", q.SQL, Format(r, 0))}
	}
	got := Run(ctx, courier, q.SQL, q.Write)
	if got.Errno() != q.Refuse {
		return Verdict{Outcome: Mismatched, Reason: fmt.Sprintf("not refused with %d", q.Refuse),
			Detail: fmt.Sprintf("want error %d: %s\n  got %s", q.Refuse, q.SQL, Format(got, maxReportRows))}
	}
	if after := Run(ctx, courier, "SELECT 1", false); after.Err != nil || len(after.Rows) != 1 || after.Rows[0][0].String != "1" {
		return Verdict{Outcome: Mismatched, Reason: "connection unusable after a refusal",
			Detail: fmt.Sprintf("SELECT 1 after refusing %s\n  got %s", q.SQL, Format(after, maxReportRows))}
	}
	return Verdict{Outcome: Matched}
}

// Counts are one shape's outcomes, and the rows its reads returned.
type Counts struct {
	Queries, Matched, Mismatched, Refused, Rows int
	Elapsed                                     time.Duration
}

// Tally counts outcomes per shape.
type Tally map[string]*Counts

// Add counts one verdict.
func (t Tally) Add(shape string, v Verdict) {
	c := t[shape]
	if c == nil {
		c = &Counts{}
		t[shape] = c
	}
	c.Queries++
	c.Rows += v.Rows
	c.Elapsed += v.Elapsed
	switch v.Outcome {
	case Matched:
		c.Matched++
	case Mismatched:
		c.Mismatched++
	case Refused:
		c.Refused++
	}
}

// String is the tally as a table, one line per shape in Shapes order;
// "kind" marks shapes that need a merge across shards and shapes that
// Courier may refuse.
func (t Tally) String() string {
	var b strings.Builder
	line := func(shape, kind string, c *Counts) {
		fmt.Fprintf(&b, "%-19s %-10s %7d %7d %10d %5d %8d %8.1f\n", shape, kind, c.Queries, c.Matched, c.Mismatched, c.Refused, c.Rows, c.Elapsed.Seconds())
	}
	fmt.Fprintf(&b, "%-19s %-10s %7s %7s %10s %5s %8s %8s\n", "shape", "kind", "queries", "matched", "mismatched", "1235", "rows", "seconds")
	var total Counts
	for _, s := range Shapes() {
		c := t[s]
		if c == nil {
			c = &Counts{}
		}
		kind := ""
		switch {
		case NeedsMerge(s):
			kind = "merge"
		case Refusable(s):
			kind = "may refuse"
		}
		line(s, kind, c)
		total.Queries += c.Queries
		total.Matched += c.Matched
		total.Mismatched += c.Mismatched
		total.Refused += c.Refused
		total.Rows += c.Rows
		total.Elapsed += c.Elapsed
	}
	line("total", "", &total)
	return b.String()
}
