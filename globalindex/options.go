package globalindex

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Options tune a backfill, verify or repair. Zero fields take defaults.
type Options struct {
	// Chunk is how many rows (or entries) one scan query reads. Default 1000.
	Chunk int
	// Batch is how many values one lookup's IN list, one INSERT or one
	// DELETE carries. Default 500.
	Batch int
	// Rate caps the rows read per second over all data clusters together;
	// 0 means no cap. Backfill only.
	Rate float64
	// Restart makes a backfill ignore its checkpoints and start over.
	Restart bool
	// Grace is how long repair waits between the two looks at an orphan
	// entry before it deletes it. Default 10s.
	Grace time.Duration
	// Samples is how many examples a report keeps of each problem.
	// Default 10.
	Samples int
	// Progress, if set, is called after every chunk, from the goroutine
	// scanning that cluster (so concurrently for different clusters).
	Progress func(Progress)
}

// Defaults.
const (
	DefaultChunk   = 1000
	DefaultBatch   = 500
	DefaultGrace   = 10 * time.Second
	DefaultSamples = 10
)

func (o Options) withDefaults() Options {
	if o.Chunk <= 0 {
		o.Chunk = DefaultChunk
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Grace <= 0 {
		o.Grace = DefaultGrace
	}
	if o.Samples <= 0 {
		o.Samples = DefaultSamples
	}
	if o.Progress == nil {
		o.Progress = func(Progress) {}
	}
	return o
}

// Progress reports one step of a scan.
type Progress struct {
	// Phase is "backfill", "rows" (verify and repair reading the source
	// rows), "entries" (reading the index entries), "grace" (repair waiting
	// before its second look at orphans) or "recheck" (that second look).
	Phase string
	// Cluster is the cluster scanned.
	Cluster string
	// Rows counts the rows or entries this phase has read on Cluster in
	// this run; Chunks the chunks.
	Rows, Chunks int64
	// Done is set on the cluster's last report of the phase.
	Done bool
}

// eachCluster runs fn for every cluster, each in its own goroutine, and
// waits for all. The first error cancels the others; every cluster's
// error is returned, joined.
func eachCluster(ctx context.Context, clusters []string, fn func(ctx context.Context, cluster string) error) error {
	if len(clusters) == 1 {
		return fn(ctx, clusters[0])
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, c := range clusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx, c); err != nil {
				mu.Lock()
				// Once one cluster failed, the others' cancellations are noise.
				if len(errs) == 0 || !errors.Is(err, context.Canceled) {
					errs = append(errs, err)
				}
				mu.Unlock()
				cancel()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// pacer spaces work so that n units take at least n/rate seconds.
type pacer struct {
	rate  float64
	start time.Time
	done  float64
}

func newPacer(rate float64) *pacer { return &pacer{rate: rate, start: time.Now()} }

// wait records n more units and sleeps until they are within the rate.
func (p *pacer) wait(ctx context.Context, n int) error {
	if p.rate <= 0 {
		return ctx.Err()
	}
	p.done += float64(n)
	return sleepUntil(ctx, p.start.Add(time.Duration(p.done/p.rate*float64(time.Second))))
}

// samples counts problems and keeps the first few.
type samples[T any] struct {
	mu    sync.Mutex
	max   int
	count int64
	list  []T
}

func (s *samples[T]) add(items ...T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count += int64(len(items))
	for _, it := range items {
		if len(s.list) >= s.max {
			break
		}
		s.list = append(s.list, it)
	}
}
