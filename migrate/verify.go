package migrate

import (
	"context"
	"fmt"
	"slices"
)

// Difference is one row that differs between the sources and a target.
type Difference struct {
	Table  string `json:"table"`
	Target string `json:"target"`
	Key    string `json:"key"`  // the primary key, as encodeKey writes it
	What   string `json:"what"` // "missing on the target", "only on the target", "differs"
}

// Report is a verification's result for one table on one target.
type Report struct {
	Table       string       `json:"table"`
	Target      string       `json:"target"`
	SourceRows  int64        `json:"source_rows"`
	TargetRows  int64        `json:"target_rows"`
	Differences int64        `json:"differences"`
	Samples     []Difference `json:"samples,omitempty"` // the first few

	keys []pendingKey // every differing row, up to the bound asked for
}

// maxSamples bounds the differences a report lists.
const maxSamples = 20

// sum is an order-independent checksum of a set of rows.
type sum struct {
	rows     int64
	add, xor uint64
}

func (s *sum) put(h uint64) { s.rows++; s.add += h; s.xor ^= h }

// Verify compares, for every moved table and every target, the rows the
// sources hold for that target with the rows the target holds: a
// checksum over each side read in chunks, and where they differ, a row
// by row comparison naming the differences. It reads the primaries, so
// run it while writes to the tables are held (or stopped) for a result
// that means zero lost rows.
func (p *Plan) Verify(ctx context.Context, chunk int, progress func(Progress)) ([]Report, error) {
	return p.verify(ctx, chunk, progress, 0)
}

// verify is Verify keeping the keys of up to maxKeys differing rows per
// report.
func (p *Plan) verify(ctx context.Context, chunk int, progress func(Progress), maxKeys int) ([]Report, error) {
	return p.verifyWith(ctx, chunk, progress, maxKeys, nil)
}

// verifyWith is verify reading the clusters in dbs through those
// (connections in a consistent snapshot) rather than their pools.
func (p *Plan) verifyWith(ctx context.Context, chunk int, progress func(Progress), maxKeys int, dbs map[string]querier) ([]Report, error) {
	var out []Report
	for _, m := range p.Tables {
		want := map[string]*sum{}
		for _, t := range m.Targets {
			want[t] = &sum{}
		}
		err := p.each(ctx, m, m.Sources, chunk, dbs, progress, func(_ string, r row) error {
			ts, err := p.targetOf(m, r)
			for _, t := range ts {
				want[t].put(hashRow(r))
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, t := range m.Targets {
			var got sum
			if err := p.each(ctx, m, []string{t}, chunk, dbs, progress, func(_ string, r row) error {
				got.put(hashRow(r))
				return nil
			}); err != nil {
				return nil, err
			}
			rep := Report{Table: m.Table, Target: t, SourceRows: want[t].rows, TargetRows: got.rows}
			if got != *want[t] {
				if err := p.diff(ctx, m, t, chunk, maxKeys, dbs, &rep); err != nil {
					return nil, err
				}
			}
			out = append(out, rep)
		}
	}
	return out, nil
}

// each reads m's rows on clusters (through via's connection where it has
// one, else the cluster's pool) and hands each to fn.
func (p *Plan) each(ctx context.Context, m *Move, clusters []string, chunk int, via map[string]querier, progress func(Progress), fn func(string, row) error) error {
	for _, c := range clusters {
		var db querier = p.pools[c]
		if v := via[c]; v != nil {
			db = v
		}
		s := &scanner{db: db, m: m, chunk: chunk}
		var n int64
		for {
			batch, err := s.next(ctx)
			if err != nil {
				return on(c, err)
			}
			if batch == nil {
				break
			}
			for _, r := range batch {
				if err := fn(c, r); err != nil {
					return err
				}
			}
			n += int64(len(batch))
			progress(Progress{Phase: "verify", Table: m.Table, Cluster: c, Rows: n})
		}
	}
	return nil
}

// diff compares m's rows for target t row by row.
func (p *Plan) diff(ctx context.Context, m *Move, t string, chunk, maxKeys int, via map[string]querier, rep *Report) error {
	keyOf := func(r row) string {
		k := make([]any, len(m.pk))
		for i, j := range m.pk {
			k[i] = r[j]
		}
		return *encodeKey(k)
	}
	src := map[string]uint64{}
	err := p.each(ctx, m, m.Sources, chunk, via, func(Progress) {}, func(_ string, r row) error {
		ts, err := p.targetOf(m, r)
		if slices.Contains(ts, t) {
			src[keyOf(r)] = hashRow(r)
		}
		return err
	})
	if err != nil {
		return err
	}
	note := func(key, what string) {
		rep.Differences++
		if len(rep.Samples) < maxSamples {
			rep.Samples = append(rep.Samples, Difference{Table: m.Table, Target: t, Key: key, What: what})
		}
		if len(rep.keys) < maxKeys {
			k, _ := decodeKey(&key)
			rep.keys = append(rep.keys, pendingKey{m: m, target: t, key: k})
		}
	}
	err = p.each(ctx, m, []string{t}, chunk, via, func(Progress) {}, func(_ string, r row) error {
		k := keyOf(r)
		h, ok := src[k]
		switch {
		case !ok:
			note(k, "only on the target")
		case h != hashRow(r):
			note(k, "differs")
		}
		delete(src, k)
		return nil
	})
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(src))
	for k := range src {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		note(k, "missing on the target")
	}
	if rep.Differences == 0 && maxKeys == 0 { // a checksum collision would be astonishing; say so rather than hide it
		return fmt.Errorf("table %s on %s: checksums differ but every row matches", m.Table, t)
	}
	return nil
}
