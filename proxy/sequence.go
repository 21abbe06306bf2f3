package proxy

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/courier-proxy/courier/proxy/backend"
	"github.com/courier-proxy/courier/router/engine"
	"github.com/courier-proxy/courier/sqlerr"
)

// sequences hands out keys for INSERTs into sharded tables that leave the
// key out. Each sequence is a one-row table on the default cluster's
// primary holding the next free id; Courier reserves a block of ids at a
// time under a row lock, so several Courier processes never hand out the
// same id. Ids of a block still unused when Courier stops are skipped.
type sequences struct {
	mu     sync.Mutex
	blocks map[string]*idBlock // by database.table
}

type idBlock struct {
	mu        sync.Mutex
	next, end int64 // [next, end) is reserved and unused
	ready     bool  // the sequence table and its row exist
}

// sequenceDDL creates a sequence table; its one row starts at 1.
const sequenceDDL = "CREATE TABLE IF NOT EXISTS %s (id TINYINT UNSIGNED NOT NULL PRIMARY KEY, next_id BIGINT NOT NULL) ENGINE=InnoDB COMMENT 'Courier sequence'"

// nextIDs returns the first of n consecutive unused ids of sequence t in
// database db (when the sequence's name is not qualified).
func (s *Server) nextIDs(ctx context.Context, db string, t *engine.Sequence, n int) (int64, error) {
	seq := t.Table
	if db == "" && !strings.Contains(seq, ".") {
		return 0, sqlerr.New(sqlerr.ErrNoDB, "No database selected (needed to find sequence table %s)", seq)
	}
	name := quoteIdent(db) + "." + quoteIdent(seq)
	if i := strings.IndexByte(seq, '.'); i >= 0 {
		name = quoteIdent(seq[:i]) + "." + quoteIdent(seq[i+1:])
	}
	s.seqs.mu.Lock()
	if s.seqs.blocks == nil {
		s.seqs.blocks = map[string]*idBlock{}
	}
	b := s.seqs.blocks[name]
	if b == nil {
		b = &idBlock{}
		s.seqs.blocks[name] = b
	}
	s.seqs.mu.Unlock()

	b.mu.Lock()
	defer b.mu.Unlock()
	if b.end-b.next >= int64(n) {
		first := b.next
		b.next += int64(n)
		return first, nil
	}
	size := int64(max(n, s.snapshot().sequenceBlock()))
	tableDB := db
	if i := strings.IndexByte(seq, '.'); i >= 0 && db == "" {
		tableDB = seq[:i]
	}
	first, err := s.reserve(ctx, name, size, b.ready, func() (int64, error) { return s.maxKey(ctx, tableDB, t) })
	if err != nil {
		return 0, err
	}
	b.next, b.end, b.ready = first+int64(n), first+size, true
	return first, nil
}

// reserve takes size ids from the sequence table name on the default
// cluster's primary, creating the table on first use; a new sequence
// starts after the largest key (from maxKey) the table already holds.
func (s *Server) reserve(ctx context.Context, name string, size int64, ready bool, maxKey func() (int64, error)) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, backend.InternalTimeout)
	defer cancel()
	bc, err := s.primary.Get(ctx, backend.FlavourPlain, 0)
	if err != nil {
		return 0, err
	}
	defer s.primary.Put(bc)
	fail := func(err error) (int64, error) {
		bc.MarkBroken() // a transaction may be open on it
		return 0, sqlerr.Wrap(err, sqlerr.ErrUnknown, "cannot take ids from sequence %s: %v", name, err)
	}
	if !ready {
		if err := s.createSequence(ctx, bc, name, maxKey); err != nil {
			return fail(err)
		}
	}
	if err := bc.Exec(ctx, "BEGIN"); err != nil {
		return fail(err)
	}
	rows, err := bc.Query(ctx, "SELECT next_id FROM "+name+" WHERE id = 0 FOR UPDATE")
	if err != nil || len(rows) != 1 {
		return fail(fmt.Errorf("reading the next id: %v", err))
	}
	var first int64
	if _, err := fmt.Sscan(rows[0][0].Text, &first); err != nil {
		return fail(err)
	}
	for _, q := range []string{fmt.Sprintf("UPDATE %s SET next_id = next_id + %d WHERE id = 0", name, size), "COMMIT"} {
		if err := bc.Exec(ctx, q); err != nil {
			return fail(err)
		}
	}
	return first, nil
}

// createSequence makes the sequence table name and its row, which starts
// after the largest key the table holds (from maxKey), unless they exist.
func (s *Server) createSequence(ctx context.Context, bc *backend.Conn, name string, maxKey func() (int64, error)) error {
	if err := bc.Exec(ctx, fmt.Sprintf(sequenceDDL, name)); err != nil {
		return err
	}
	rows, err := bc.Query(ctx, "SELECT 1 FROM "+name+" WHERE id = 0")
	if err != nil || len(rows) > 0 {
		return err
	}
	top, err := maxKey()
	if err != nil {
		return err
	}
	return bc.Exec(ctx, fmt.Sprintf("INSERT IGNORE INTO %s VALUES (0, %d)", name, top+1))
}

// maxKey is the largest key of sequence t's table over every shard (0
// when empty).
func (s *Server) maxKey(ctx context.Context, db string, t *engine.Sequence) (int64, error) {
	var top int64
	ks := s.snapshot().schema.Keyspace()
	for i := range ks.Shards() {
		pool := s.clusterList[ks.Clusters[i]].Primary
		bc, err := pool.Get(ctx, backend.FlavourPlain, 0)
		if err != nil {
			return 0, err
		}
		rows, err := bc.Query(ctx, fmt.Sprintf("SELECT COALESCE(MAX(%s), 0) FROM %s.%s", quoteIdent(t.Key), quoteIdent(db), quoteIdent(t.Source)))
		if err != nil {
			bc.MarkBroken()
		}
		pool.Put(bc)
		if err != nil {
			return 0, err
		}
		var n int64
		if len(rows) == 1 {
			_, _ = fmt.Sscan(rows[0][0].Text, &n)
		}
		top = max(top, n)
	}
	return top, nil
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }
