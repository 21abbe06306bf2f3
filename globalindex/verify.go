package globalindex

import (
	"context"
	"slices"
	"sync/atomic"
)

// Report is what a verify found.
type Report struct {
	// Rows counts the source rows read, Entries the index entries read.
	Rows    int64 `json:"rows"`
	Entries int64 `json:"entries"`
	// Missing counts rows with a value but no entry pointing at their key
	// (for a unique index: the value's entry points elsewhere, or there is
	// none). MissingSamples shows a few, as the entry that should exist.
	Missing        int64   `json:"missing"`
	MissingSamples []Entry `json:"missing_samples,omitempty"`
	// Orphans counts entries that point at no row with their value: the
	// key has no row, its row holds another value, or the entry sits on an
	// index cluster where lookups never read it. OrphanSamples shows a few.
	Orphans       int64   `json:"orphans"`
	OrphanSamples []Entry `json:"orphan_samples,omitempty"`
}

// Clean reports whether nothing is missing and nothing is orphaned.
func (r *Report) Clean() bool { return r.Missing == 0 && r.Orphans == 0 }

// Verify compares the index with the source table in two scans: every
// row's entry is looked up (in IN lists of opt.Batch), then every entry's
// row. A row that looks unindexed is read again, and its entry again,
// before it counts as missing, so a row deleted during the scan is not
// reported. On a table that is being written an orphan may be a write in
// flight (Courier writes the entry before the row commits); repair tells
// the two apart.
func (x *Index) Verify(ctx context.Context, opt Options) (*Report, error) {
	opt = opt.withDefaults()
	missing := &samples[Entry]{max: opt.Samples}
	orphans := &samples[Entry]{max: opt.Samples}
	rep := &Report{}
	var err error
	rep.Rows, err = x.findMissing(ctx, opt, func(_ context.Context, _ string, es []Entry) error {
		missing.add(es...)
		return nil
	})
	if err == nil {
		rep.Entries, err = x.findOrphans(ctx, opt, func(_ context.Context, _ string, es []Entry) error {
			orphans.add(es...)
			return nil
		})
	}
	rep.Missing, rep.MissingSamples = missing.count, missing.list
	rep.Orphans, rep.OrphanSamples = orphans.count, orphans.list
	return rep, err
}

// found receives problems on one index cluster, from concurrent scans.
type found func(ctx context.Context, indexCluster string, es []Entry) error

// findMissing reads every data cluster's rows and hands the entries that
// should exist but do not to found. It returns the rows read.
func (x *Index) findMissing(ctx context.Context, opt Options, fn found) (int64, error) {
	var total atomic.Int64
	err := eachCluster(ctx, x.dataClusters, func(ctx context.Context, cluster string) error {
		s := &rowScanner{x: x, cluster: cluster, chunk: opt.Chunk}
		pr := Progress{Phase: "rows", Cluster: cluster}
		for {
			rows, err := s.next(ctx)
			if err != nil {
				return err
			}
			if rows == nil {
				pr.Done = true
				opt.Progress(pr)
				return nil
			}
			byCluster := map[string][]Entry{}
			for _, r := range rows {
				if r.Value.Valid {
					c, err := x.indexCluster(r.Value.String)
					if err != nil {
						return err
					}
					byCluster[c] = append(byCluster[c], Entry{Value: r.Value.String, Key: r.Key})
				}
			}
			for _, ic := range x.indexClusters {
				err := batches(byCluster[ic], opt.Batch, func(es []Entry) error {
					absent, err := x.absent(ctx, ic, es)
					if err == nil && len(absent) > 0 {
						absent, err = x.confirmMissing(ctx, cluster, ic, absent)
					}
					if err == nil && len(absent) > 0 {
						err = fn(ctx, ic, absent)
					}
					return err
				})
				if err != nil {
					return err
				}
			}
			total.Add(int64(len(rows)))
			pr.Rows += int64(len(rows))
			pr.Chunks++
			opt.Progress(pr)
		}
	})
	return total.Load(), err
}

// absent returns the entries of es that the index cluster does not hold.
func (x *Index) absent(ctx context.Context, cluster string, es []Entry) ([]Entry, error) {
	got, err := x.readEntries(ctx, cluster, es)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(slices.Clone(es), func(e Entry) bool { return got[e] }), nil
}

// confirmMissing reads the rows of entries that looked missing again, and
// then their entries: only a row still there with its value, whose entry
// is still absent after that, is missing. (Had the row been written again
// in between, its entry would have been written first.)
func (x *Index) confirmMissing(ctx context.Context, dataCluster, indexCluster string, es []Entry) ([]Entry, error) {
	keys := make([]string, len(es))
	for i, e := range es {
		keys[i] = e.Key
	}
	rows, err := x.readRows(ctx, dataCluster, keys)
	if err != nil {
		return nil, err
	}
	es = slices.DeleteFunc(es, func(e Entry) bool { return !rows[e] })
	if len(es) == 0 {
		return nil, nil
	}
	return x.absent(ctx, indexCluster, es)
}

// findOrphans reads every index cluster's entries and hands those that
// point at no row with their value to found. It returns the entries read.
func (x *Index) findOrphans(ctx context.Context, opt Options, fn found) (int64, error) {
	var total atomic.Int64
	err := eachCluster(ctx, x.indexClusters, func(ctx context.Context, cluster string) error {
		s := &entryScanner{x: x, cluster: cluster, chunk: opt.Chunk}
		pr := Progress{Phase: "entries", Cluster: cluster}
		for {
			es, err := s.next(ctx)
			if err != nil {
				return err
			}
			if es == nil {
				pr.Done = true
				opt.Progress(pr)
				return nil
			}
			orphans, err := x.orphansAmong(ctx, cluster, es, opt.Batch)
			if err == nil && len(orphans) > 0 {
				err = fn(ctx, cluster, orphans)
			}
			if err != nil {
				return err
			}
			total.Add(int64(len(es)))
			pr.Rows += int64(len(es))
			pr.Chunks++
			opt.Progress(pr)
		}
	})
	return total.Load(), err
}

// orphansAmong returns the entries of es, read from indexCluster, that
// point at no row with their value, or that lookups never read because
// their value belongs on another index cluster.
func (x *Index) orphansAmong(ctx context.Context, indexCluster string, es []Entry, batch int) ([]Entry, error) {
	var orphans []Entry
	byCluster := map[string][]Entry{}
	for _, e := range es {
		ic, err := x.indexCluster(e.Value)
		if err != nil || ic != indexCluster {
			orphans = append(orphans, e)
			continue
		}
		dc, err := x.dataCluster(e.Key)
		if err != nil {
			orphans = append(orphans, e)
			continue
		}
		byCluster[dc] = append(byCluster[dc], e)
	}
	for _, dc := range x.dataClusters {
		err := batches(byCluster[dc], batch, func(es []Entry) error {
			keys := make([]string, 0, len(es))
			for _, e := range es {
				keys = append(keys, e.Key)
			}
			slices.Sort(keys)
			rows, err := x.readRows(ctx, dc, slices.Compact(keys))
			if err != nil {
				return err
			}
			for _, e := range es {
				if !rows[e] {
					orphans = append(orphans, e)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return orphans, nil
}
