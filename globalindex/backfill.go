package globalindex

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
)

// BackfillResult is what one backfill run did.
type BackfillResult struct {
	// Rows counts the source rows read in this run; Entries those with a
	// value (NULLs have no entry); Inserted the entries that were new.
	Rows     int64 `json:"rows"`
	Entries  int64 `json:"entries"`
	Inserted int64 `json:"inserted"`
	// Finished lists the data clusters a previous run had already done;
	// they were not read again.
	Finished []string `json:"finished,omitempty"`
	// Conflicts counts rows of a unique index whose value already has an
	// entry for another key; the entry is left alone (verify and repair
	// tell whether it is an orphan). ConflictSamples shows a few.
	Conflicts       int64      `json:"conflicts"`
	ConflictSamples []Conflict `json:"conflict_samples,omitempty"`
}

// Conflict is a row whose value's unique entry points at another key.
type Conflict struct {
	Entry           // the row's value and key
	Existing string `json:"existing"` // the key the existing entry points at
}

// Backfill writes an entry for every row of the source table, reading each
// data cluster in chunks in key order, concurrently, at most opt.Rate rows
// a second in all. Entries are grouped by index cluster and written with
// INSERT IGNORE, so it is safe while Courier serves writes (Courier writes
// an entry before its row; a row read here is older than its entry or
// the entry is written now; a row updated or deleted meanwhile may leave
// an orphan entry, which readers skip and repair removes).
//
// Each data cluster's progress is checkpointed after every chunk (see
// Checkpoints), so a run stopped by an error or by cancelling ctx resumes
// where it stopped; opt.Restart starts over.
func (x *Index) Backfill(ctx context.Context, opt Options) (*BackfillResult, error) {
	opt = opt.withDefaults()
	if err := x.resetCheckpoints(ctx, opt.Restart); err != nil {
		return nil, err
	}
	cps, err := x.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	res := &BackfillResult{}
	var mu sync.Mutex
	conflicts := &samples[Conflict]{max: opt.Samples}
	var todo []string
	for _, c := range x.dataClusters {
		if cps[c].Done {
			res.Finished = append(res.Finished, c)
		} else {
			todo = append(todo, c)
		}
	}
	rate := opt.Rate / float64(max(len(todo), 1))
	err = eachCluster(ctx, todo, func(ctx context.Context, cluster string) error {
		cp := cps[cluster]
		cp.Cluster = cluster
		s := &rowScanner{x: x, cluster: cluster, chunk: opt.Chunk, after: cp.LastKey}
		p := newPacer(rate)
		pr := Progress{Phase: "backfill", Cluster: cluster}
		for {
			rows, err := s.next(ctx)
			if err != nil {
				return err
			}
			if rows == nil {
				cp.Done = true
				pr.Done = true
				opt.Progress(pr)
				return x.saveCheckpoint(ctx, cp)
			}
			entries, inserted, err := x.writeRows(ctx, rows, opt, conflicts)
			if err != nil {
				return err
			}
			cp.LastKey, cp.Rows = s.after, cp.Rows+int64(len(rows))
			if err := x.saveCheckpoint(ctx, cp); err != nil {
				return err
			}
			mu.Lock()
			res.Rows += int64(len(rows))
			res.Entries += entries
			res.Inserted += inserted
			mu.Unlock()
			pr.Rows += int64(len(rows))
			pr.Chunks++
			opt.Progress(pr)
			if err := p.wait(ctx, len(rows)); err != nil {
				return err
			}
		}
	})
	res.Conflicts, res.ConflictSamples = conflicts.count, conflicts.list
	return res, err
}

// writeRows writes the entries of rows (those with a value) to their index
// clusters in batches, and for a unique index records the rows whose value
// already points at another key. It returns the entries there should be
// and how many were new.
func (x *Index) writeRows(ctx context.Context, rows []row, opt Options, conflicts *samples[Conflict]) (entries, inserted int64, err error) {
	byCluster := map[string][]Entry{}
	for _, r := range rows {
		if !r.Value.Valid {
			continue
		}
		c, err := x.indexCluster(r.Value.String)
		if err != nil {
			return 0, 0, err
		}
		byCluster[c] = append(byCluster[c], Entry{Value: r.Value.String, Key: r.Key})
		entries++
	}
	for _, c := range x.indexClusters {
		err := batches(byCluster[c], opt.Batch, func(es []Entry) error {
			n, err := x.insertEntries(ctx, c, es)
			inserted += n
			if err != nil || !x.ix.Unique || n == int64(len(es)) {
				return err
			}
			found, err := x.conflicts(ctx, c, es)
			conflicts.add(found...)
			return err
		})
		if err != nil {
			return entries, inserted, err
		}
	}
	return entries, inserted, nil
}

// conflicts returns the entries of a unique index whose value has an
// entry in cluster pointing at another key.
func (x *Index) conflicts(ctx context.Context, cluster string, es []Entry) ([]Conflict, error) {
	found, err := x.readEntries(ctx, cluster, es)
	if err != nil {
		return nil, err
	}
	byValue := make(map[string]string, len(found))
	for e := range found {
		byValue[e.Value] = e.Key
	}
	var out []Conflict
	for _, e := range es {
		if k, ok := byValue[e.Value]; ok && k != e.Key {
			out = append(out, Conflict{Entry: e, Existing: k})
		}
	}
	slices.SortFunc(out, func(a, b Conflict) int { return compareEntries(a.Entry, b.Entry) })
	return out, nil
}

func compareEntries(a, b Entry) int {
	return cmp.Or(strings.Compare(a.Value, b.Value), strings.Compare(a.Key, b.Key))
}
