package proxy

import (
	"cmp"
	"hash/maphash"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/courier-proxy/courier/parser"
)

// Query digests: the statements' shapes (their values replaced by ?, as
// the plan cache normalises them; the text of a prepared statement; the
// kind of the others) with, per shape and user, how many ran, failed,
// the rows they sent or changed, the shards they reached and their
// latency. The store is bounded: past maxDigests shapes, new ones count
// under "(other)".
const (
	maxDigests    = 1000
	maxDigestText = 1024
	digestShards  = 8
	// Latency buckets: bucket i holds latencies up to 50 µs × 2^i.
	digestBuckets = 20
)

// kindDigests name the shapes of statements not planned by their shape:
// their kind, upper case ("SET", "BEGIN", ...).
var kindDigests = func() map[parser.Kind][]byte {
	m := map[parser.Kind][]byte{}
	for k := parser.Kind(0); k.String() != "unknown"; k++ {
		m[k] = []byte(strings.ToUpper(strings.ReplaceAll(k.String(), "_", " ")))
	}
	return m
}()

// digestStat is one shape's figures for one user.
type digestStat struct {
	text, user, class           string
	count, errors, rows, shards uint64
	total                       time.Duration
	buckets                     [digestBuckets]uint32
}

type digestShard struct {
	mu sync.Mutex
	m  map[string]map[string]*digestStat // user → shape → figures
}

type digests struct {
	seed   maphash.Seed
	shards [digestShards]digestShard
	n      atomic.Int64
}

func newDigests() *digests {
	d := &digests{seed: maphash.MakeSeed()}
	for i := range d.shards {
		d.shards[i].m = map[string]map[string]*digestStat{}
	}
	return d
}

// record adds one statement's figures.
func (d *digests) record(user, class string, text []byte, took time.Duration, failed bool, rows uint64, shards int) {
	if len(text) > maxDigestText {
		text = text[:maxDigestText]
	}
	sh := &d.shards[maphash.Bytes(d.seed, text)%digestShards]
	sh.mu.Lock()
	byShape := sh.m[user]
	if byShape == nil {
		byShape = map[string]*digestStat{}
		sh.m[user] = byShape
	}
	st := byShape[string(text)]
	if st == nil {
		st = d.add(byShape, string(text), user, class)
	}
	st.count++
	if failed {
		st.errors++
	}
	st.rows += rows
	st.shards += uint64(shards)
	st.total += took
	b := 0
	for lim := 50 * time.Microsecond; took > lim && b < digestBuckets-1; lim *= 2 {
		b++
	}
	st.buckets[b]++
	sh.mu.Unlock()
}

// add makes the figures of a new shape, or, once the store is full,
// returns the user's "(other)" (the bound may be passed by one per user
// and shard).
func (d *digests) add(byShape map[string]*digestStat, key, user, class string) *digestStat {
	if d.n.Load() >= maxDigests {
		key = "(other)"
		if st := byShape[key]; st != nil {
			return st
		}
	}
	d.n.Add(1)
	st := &digestStat{text: key, user: user, class: class}
	byShape[key] = st
	return st
}

// DigestStatus is one statement shape's figures for one user, as
// /digests serves them.
type DigestStatus struct {
	Digest string  `json:"digest"`
	User   string  `json:"user"`
	Class  string  `json:"class,omitempty"`
	Count  uint64  `json:"count"`
	Errors uint64  `json:"errors"`
	Rows   uint64  `json:"rows"`
	Shards float64 `json:"shards_avg"` // shards reached per statement
	Total  float64 `json:"total_ms"`
	Avg    float64 `json:"avg_ms"`
	P99    float64 `json:"p99_ms"` // the upper bound of the bucket holding the 99th percentile
}

// top returns the n shapes first by the given order: "total" (time, the
// default), "count", "errors" or "p99".
func (d *digests) top(n int, by string) []DigestStatus {
	var out []DigestStatus
	for i := range d.shards {
		sh := &d.shards[i]
		sh.mu.Lock()
		for _, byShape := range sh.m {
			for _, st := range byShape {
				out = append(out, st.status())
			}
		}
		sh.mu.Unlock()
	}
	key := func(s DigestStatus) float64 {
		switch by {
		case "count":
			return float64(s.Count)
		case "errors":
			return float64(s.Errors)
		case "p99":
			return s.P99
		}
		return s.Total
	}
	slices.SortFunc(out, func(a, b DigestStatus) int {
		return cmp.Or(cmp.Compare(key(b), key(a)), strings.Compare(a.Digest, b.Digest), strings.Compare(a.User, b.User))
	})
	return out[:min(n, len(out))]
}

func (st *digestStat) status() DigestStatus {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	s := DigestStatus{Digest: st.text, User: st.user, Class: st.class, Count: st.count, Errors: st.errors,
		Rows: st.rows, Total: ms(st.total)}
	if st.count > 0 {
		s.Avg = s.Total / float64(st.count)
		s.Shards = float64(st.shards) / float64(st.count)
		want, seen := (st.count*99+99)/100, uint64(0)
		for i, c := range st.buckets {
			if seen += uint64(c); seen >= want {
				s.P99 = ms(50 * time.Microsecond << i)
				break
			}
		}
	}
	return s
}

// handler serves GET /digests?top=N&by=total|count|errors|p99.
func (d *digests) handler(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(cmp.Or(r.URL.Query().Get("top"), "20"))
	by := cmp.Or(r.URL.Query().Get("by"), "total")
	if err != nil || n < 1 || !slices.Contains([]string{"total", "count", "errors", "p99"}, by) {
		writeError(w, http.StatusBadRequest, "top must be a positive number, by one of total, count, errors, p99")
		return
	}
	writeJSON(w, http.StatusOK, d.top(n, by))
}

// digestCollector exports the 20 shapes of most time to Prometheus, so
// the label sets stay bounded whatever the traffic.
type digestCollector struct{ d *digests }

const digestsExported = 20

var (
	digestCountDesc = prometheus.NewDesc("courier_digest_statements_total",
		"Statements of a shape (one of the 20 of most total time), by user and class.", []string{"digest", "user", "class"}, nil)
	digestErrorsDesc = prometheus.NewDesc("courier_digest_errors_total",
		"Failed statements of a shape (one of the 20 of most total time).", []string{"digest", "user", "class"}, nil)
	digestSecondsDesc = prometheus.NewDesc("courier_digest_seconds_total",
		"Time spent in statements of a shape (one of the 20 of most total time).", []string{"digest", "user", "class"}, nil)
)

func (c digestCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- digestCountDesc
	ch <- digestErrorsDesc
	ch <- digestSecondsDesc
}

func (c digestCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.d.top(digestsExported, "total") {
		text := s.Digest
		if len(text) > 120 {
			text = text[:120]
		}
		ch <- prometheus.MustNewConstMetric(digestCountDesc, prometheus.CounterValue, float64(s.Count), text, s.User, s.Class)
		ch <- prometheus.MustNewConstMetric(digestErrorsDesc, prometheus.CounterValue, float64(s.Errors), text, s.User, s.Class)
		ch <- prometheus.MustNewConstMetric(digestSecondsDesc, prometheus.CounterValue, s.Total/1000, text, s.User, s.Class)
	}
}
