package globalindex

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// RepairResult is what a repair found and did.
type RepairResult struct {
	// Report is what the first look found, as Verify would report it.
	Report
	// Added counts missing entries written.
	Added int64 `json:"added"`
	// Deleted counts orphan entries deleted after the second look; Kept
	// those that had a row by then (a write in flight at the first look).
	Deleted int64 `json:"deleted"`
	Kept    int64 `json:"kept"`
	// Conflicts counts rows of a unique index still left without their
	// entry because the value's entry points at another row that exists:
	// the data holds the value twice. ConflictSamples shows a few.
	Conflicts       int64      `json:"conflicts"`
	ConflictSamples []Conflict `json:"conflict_samples,omitempty"`
}

// Repair makes the index match the source table.
//
// Missing entries are added at once (INSERT IGNORE). Orphans are not
// deleted when first seen: Courier writes an entry before its row commits,
// so an entry can look orphaned while its write is in flight. Repair notes
// the orphans it sees, adds what is missing, waits until opt.Grace has
// passed since that first look, then takes a second look, batch by batch,
// re-reading each candidate's row right before deleting the batch, and
// deletes only entries orphaned both times. For a unique index, rows whose
// value's entry pointed at an orphan are indexed once the orphan is gone.
// The orphans of the first look are held in memory until the second.
//
// The risk left: a write whose transaction stays open longer than the
// grace period (entry written, row not yet committed) loses its entry,
// and its row, once committed, is missing from the index until the next
// repair. Keep Grace above the longest write transaction.
func (x *Index) Repair(ctx context.Context, opt Options) (*RepairResult, error) {
	opt = opt.withDefaults()
	res := &RepairResult{}

	// First look at the orphans.
	var mu sync.Mutex
	candidates := map[string][]Entry{}
	orphans := &samples[Entry]{max: opt.Samples}
	var err error
	res.Entries, err = x.findOrphans(ctx, opt, func(_ context.Context, ic string, es []Entry) error {
		orphans.add(es...)
		mu.Lock()
		candidates[ic] = append(candidates[ic], es...)
		mu.Unlock()
		return nil
	})
	res.Orphans, res.OrphanSamples = orphans.count, orphans.list
	if err != nil {
		return res, err
	}
	firstLook := time.Now()

	// Add what is missing; keep a unique index's conflicts for later.
	missing := &samples[Entry]{max: opt.Samples}
	var added atomic.Int64
	var conflicts []Conflict
	res.Rows, err = x.findMissing(ctx, opt, func(ctx context.Context, ic string, es []Entry) error {
		missing.add(es...)
		n, err := x.insertEntries(ctx, ic, es)
		added.Add(n)
		if err != nil || !x.ix.Unique || n == int64(len(es)) {
			return err
		}
		cs, err := x.conflicts(ctx, ic, es)
		mu.Lock()
		conflicts = append(conflicts, cs...)
		mu.Unlock()
		return err
	})
	res.Missing, res.MissingSamples = missing.count, missing.list
	res.Added = added.Load()
	if err != nil {
		return res, err
	}

	// Second look, after the grace period, and delete.
	if len(candidates) > 0 {
		opt.Progress(Progress{Phase: "grace"})
		if err := sleepUntil(ctx, firstLook.Add(opt.Grace)); err != nil {
			return res, err
		}
		if err := x.deleteOrphans(ctx, opt, candidates, res); err != nil {
			return res, err
		}
	}

	// A unique value whose entry was an orphan is free now.
	left := &samples[Conflict]{max: opt.Samples}
	err = x.retryConflicts(ctx, conflicts, opt, &res.Added, left)
	res.Conflicts, res.ConflictSamples = left.count, left.list
	return res, err
}

// deleteOrphans looks again at the entries found orphaned, after the
// grace period, and deletes those still orphaned.
func (x *Index) deleteOrphans(ctx context.Context, opt Options, candidates map[string][]Entry, res *RepairResult) error {
	var deleted, kept atomic.Int64
	var clusters []string
	for _, c := range x.indexClusters {
		if len(candidates[c]) > 0 {
			clusters = append(clusters, c)
		}
	}
	err := eachCluster(ctx, clusters, func(ctx context.Context, ic string) error {
		pr := Progress{Phase: "recheck", Cluster: ic}
		err := batches(candidates[ic], opt.Batch, func(es []Entry) error {
			still, err := x.orphansAmong(ctx, ic, es, opt.Batch)
			if err != nil {
				return err
			}
			kept.Add(int64(len(es) - len(still)))
			if len(still) > 0 {
				n, err := x.deleteEntries(ctx, ic, still)
				deleted.Add(n)
				if err != nil {
					return err
				}
			}
			pr.Rows += int64(len(es))
			pr.Chunks++
			opt.Progress(pr)
			return nil
		})
		pr.Done = true
		opt.Progress(pr)
		return err
	})
	res.Deleted, res.Kept = deleted.Load(), kept.Load()
	return err
}

// retryConflicts indexes again the rows of a unique index whose value's
// entry pointed elsewhere, if the row still has that value, and records
// those still in conflict.
func (x *Index) retryConflicts(ctx context.Context, cs []Conflict, opt Options, added *int64, left *samples[Conflict]) error {
	byData := map[string][]Entry{}
	for _, c := range cs {
		dc, err := x.dataCluster(c.Key)
		if err != nil {
			return err
		}
		byData[dc] = append(byData[dc], c.Entry)
	}
	for _, dc := range x.dataClusters {
		err := batches(byData[dc], opt.Batch, func(es []Entry) error {
			keys := make([]string, len(es))
			for i, e := range es {
				keys[i] = e.Key
			}
			rows, err := x.readRows(ctx, dc, keys)
			if err != nil {
				return err
			}
			var still []row
			for _, e := range es {
				if rows[e] {
					r := row{Key: e.Key}
					r.Value.String, r.Value.Valid = e.Value, true
					still = append(still, r)
				}
			}
			_, n, err := x.writeRows(ctx, still, opt, left)
			*added += n
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// sleepUntil waits until t or until ctx is done.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}
