package difftest

import (
	"fmt"
	"strings"
	"time"
)

// Counts are one shape's outcomes in one way, and the rows its reads
// returned.
type Counts struct {
	Queries, Matched, Mismatched, Refused, Rows int
	Elapsed                                     time.Duration
}

func (c *Counts) add(o Counts) {
	c.Queries += o.Queries
	c.Matched += o.Matched
	c.Mismatched += o.Mismatched
	c.Refused += o.Refused
	c.Rows += o.Rows
	c.Elapsed += o.Elapsed
}

// Tally counts outcomes per shape and way.
type Tally map[string]map[Way]*Counts

// Add counts one verdict.
func (t Tally) Add(shape string, w Way, v Verdict) {
	if t[shape] == nil {
		t[shape] = map[Way]*Counts{}
	}
	c := t[shape][w]
	if c == nil {
		c = &Counts{}
		t[shape][w] = c
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

// String is the tally as a table, one line per shape in Shapes order and
// one column per way in ways: each cell is matched/queries, then xN for
// N mismatched answers and rN for N refusals (1235), "-" when the way
// ran none of the shape. "kind" marks shapes that need a merge across
// shards and shapes that Courier may refuse; the last column is the
// seconds both servers took over the shape in every way. The last lines
// total each way, with the rows the reference answered and the seconds.
func (t Tally) String(ways ...Way) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-19s %-10s", "shape", "kind")
	for _, w := range ways {
		fmt.Fprintf(&b, " %-17s", w)
	}
	b.WriteString(" seconds\n")
	total := map[Way]*Counts{}
	for _, w := range ways {
		total[w] = &Counts{}
	}
	for _, s := range Shapes() {
		kind := ""
		switch {
		case NeedsMerge(s):
			kind = "merge"
		case Refusable(s):
			kind = "may refuse"
		}
		fmt.Fprintf(&b, "%-19s %-10s", s, kind)
		var secs time.Duration
		for _, w := range ways {
			c := t[s][w]
			if c == nil || c.Queries == 0 {
				fmt.Fprintf(&b, " %-17s", "-")
				continue
			}
			fmt.Fprintf(&b, " %-17s", cell(c))
			total[w].add(*c)
			secs += c.Elapsed
		}
		fmt.Fprintf(&b, " %7.1f\n", secs.Seconds())
	}
	fmt.Fprintf(&b, "%-30s", "total")
	for _, w := range ways {
		fmt.Fprintf(&b, " %-17s", cell(total[w]))
	}
	fmt.Fprintf(&b, "\n%-30s", "rows")
	for _, w := range ways {
		fmt.Fprintf(&b, " %-17d", total[w].Rows)
	}
	fmt.Fprintf(&b, "\n%-30s", "seconds")
	for _, w := range ways {
		fmt.Fprintf(&b, " %-17.1f", total[w].Elapsed.Seconds())
	}
	b.WriteString("\n")
	return b.String()
}

func cell(c *Counts) string {
	s := fmt.Sprintf("%d/%d", c.Matched, c.Queries)
	if c.Mismatched > 0 {
		s += fmt.Sprintf(" x%d", c.Mismatched)
	}
	if c.Refused > 0 {
		s += fmt.Sprintf(" r%d", c.Refused)
	}
	return s
}
