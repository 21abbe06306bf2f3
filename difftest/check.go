package difftest

import (
	"context"
	"database/sql"
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

// Verdict is the outcome of one query and, unless it matched, what
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

// queryTimeout bounds one query on both servers, so that a statement
// that hangs (a lock a leaked transaction holds, a pool that ran dry)
// costs one verdict, not the run.
const queryTimeout = 15 * time.Second

// Check runs q in way w on the reference server and on Courier and
// compares the answers: every statement of q (each step of a script, the
// writes and then the reads that follow them), the transaction's BEGIN
// and COMMIT when w or q has one. After a difference, both sides' sessions
// are rolled back (a transaction left open would hold its locks) and a
// session either server closed is replaced.
func Check(ctx context.Context, ref, courier *Side, q Query, w Way) Verdict {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var v Verdict
	if q.Refuse != 0 {
		v = checkRefusal(ctx, ref.session(q.Batch), courier.session(q.Batch), q, w)
	} else {
		v = (&script{ctx: ctx, q: q, w: w, ref: ref.session(q.Batch), cour: courier.session(q.Batch)}).run()
	}
	if v.Outcome != Matched {
		if err := ref.repair(ctx); err != nil {
			v.Detail += "\n  reconnecting to the reference server: " + err.Error()
		}
		if err := courier.repair(ctx); err != nil {
			v.Detail += "\n  reconnecting to Courier: " + err.Error()
		}
	}
	v.Elapsed = time.Since(start)
	return v
}

// script runs one query on both sides, statement by statement.
type script struct {
	ctx       context.Context
	q         Query
	w         Way
	ref, cour *sql.Conn
	// refTx and courTx are the open transactions of the txn ways
	// (database/sql's Tx); a text BEGIN runs on the sessions themselves.
	refTx, courTx *sql.Tx
	rows          int
}

// on are the connections statements run on now: the transactions while
// they are open, else the sessions.
func (s *script) on() (ref, cour Conn) {
	if s.refTx != nil {
		return s.refTx, s.courTx
	}
	return s.ref, s.cour
}

func (s *script) run() Verdict {
	q, w := s.q, s.w
	txn := w.inTxn() || q.Txn
	if txn {
		if v, ok := s.begin(); !ok {
			return v
		}
	}
	var v Verdict
	var ok bool
	switch {
	case q.Batch && w != Prepared:
		v, ok = s.batch()
	default:
		v, ok = s.steps(q.statements())
	}
	if ok && q.Steps == nil && w.inTxn() {
		// A write's reads, inside its transaction first.
		v, ok = s.steps(q.Then)
	}
	if !ok {
		if txn {
			s.rollback()
		}
		return v
	}
	if txn {
		if v, ok := s.commit(); !ok {
			return v
		}
	}
	if v, ok := s.steps(q.Then); !ok {
		if q.Steps == nil && w.inTxn() {
			v.Reason = "after COMMIT: " + v.Reason
		}
		return v
	}
	return Verdict{Outcome: Matched, Rows: s.rows}
}

// begin starts the transaction: database/sql's BeginTx in the txn ways
// (START TRANSACTION as text), a text BEGIN otherwise.
func (s *script) begin() (Verdict, bool) {
	if s.w.inTxn() && !s.q.Batch {
		var rerr, cerr error
		s.refTx, rerr = s.ref.BeginTx(s.ctx, nil)
		s.courTx, cerr = s.cour.BeginTx(s.ctx, nil)
		if rerr != nil || cerr != nil {
			if s.refTx != nil {
				s.refTx.Rollback()
			}
			if s.courTx != nil {
				s.courTx.Rollback()
			}
			s.refTx, s.courTx = nil, nil
			return s.verdict(Mismatched, "BEGIN failed", "START TRANSACTION", Result{Err: rerr}, Result{Err: cerr}), false
		}
		return Verdict{}, true
	}
	stmt := "BEGIN"
	if s.w.inTxn() {
		stmt = "START TRANSACTION"
	}
	return s.steps([]Query{{SQL: stmt, Write: true}})
}

// commit ends the transaction on both sides.
func (s *script) commit() (Verdict, bool) {
	if s.refTx != nil {
		rerr, cerr := s.refTx.Commit(), s.courTx.Commit()
		s.refTx, s.courTx = nil, nil
		if want, got := (Result{Err: rerr}), (Result{Err: cerr}); Diff(want, got, false) != "" {
			return s.verdict(Mismatched, "COMMIT: "+Diff(want, got, false), "COMMIT", want, got), false
		}
		return Verdict{}, true
	}
	return s.steps([]Query{{SQL: "COMMIT", Write: true}})
}

// rollback ends a transaction that went wrong on both sides, so that
// the data stays the same on both and the sessions usable.
func (s *script) rollback() {
	if s.refTx != nil {
		s.refTx.Rollback()
		s.courTx.Rollback()
		s.refTx, s.courTx = nil, nil
		return
	}
	Run(s.ctx, s.ref, "ROLLBACK", true)
	Run(s.ctx, s.cour, "ROLLBACK", true)
}

// steps runs statements one by one in the way's form and compares each
// answer.
func (s *script) steps(stmts []Query) (Verdict, bool) {
	ref, cour := s.on()
	for _, st := range stmts {
		if st.SecondShard && s.w == TxnReject {
			// The reference runs the transaction without it.
			got := runIn(s.ctx, cour, st, true)
			if got.Errno() != ErrNotSupported {
				return s.verdict(Mismatched, "a statement that reaches a second shard not refused with 1235 (multi_shard_transactions: reject)",
					st.SQL, Result{Err: fmt.Errorf("error %d", ErrNotSupported)}, got), false
			}
			continue
		}
		want := runIn(s.ctx, ref, st, s.w.prepared())
		got := runIn(s.ctx, cour, st, s.w.prepared())
		switch {
		case want.Err != nil && want.Errno() != 1062:
			return s.verdict(Mismatched, "the reference server failed (a bad generated statement)", st.SQL, want, got), false
		case !st.Write && got.Errno() == ErrNotSupported && want.Err == nil:
			return s.verdict(Refused, "refused", st.SQL, want, got), false
		}
		if d := Diff(want, got, st.Ordered); d != "" {
			return s.verdict(Mismatched, d, st.SQL, want, got), false
		}
		s.rows += len(want.Rows)
	}
	return Verdict{}, true
}

// batch sends the steps as one multi-statement COM_QUERY.
func (s *script) batch() (Verdict, bool) {
	var texts []string
	var ordered []bool // of each result set
	for _, st := range s.q.Steps {
		texts = append(texts, st.SQL)
		if !st.Write {
			ordered = append(ordered, st.Ordered)
		}
	}
	text := strings.Join(texts, "; ")
	want := RunBatch(s.ctx, s.ref, text, ordered != nil)
	got := RunBatch(s.ctx, s.cour, text, ordered != nil)
	if want.Err != nil {
		return s.verdict(Mismatched, "the reference server failed (a bad generated statement)", text, want, got), false
	}
	d := Diff(Result{Err: want.Err, AllAffected: want.AllAffected}, Result{Err: got.Err, AllAffected: got.AllAffected}, false)
	if d == "" && len(want.Sets) != len(got.Sets) {
		d = fmt.Sprintf("%d result sets, want %d", len(got.Sets), len(want.Sets))
	}
	for i := 0; d == "" && i < len(want.Sets); i++ {
		if d = Diff(want.Sets[i], got.Sets[i], ordered[i]); d != "" {
			d = fmt.Sprintf("result set %d: %s", i+1, d)
		}
	}
	if d != "" {
		return s.verdict(Mismatched, d, text, want, got), false
	}
	for _, set := range want.Sets {
		s.rows += len(set.Rows)
	}
	return Verdict{}, true
}

// verdict describes a difference in statement sql of the script.
func (s *script) verdict(o Outcome, why, sql string, want, got Result) Verdict {
	where := sql
	if s.q.Steps != nil || len(s.q.Then) > 0 || s.w.inTxn() {
		where = fmt.Sprintf("%s\n  in %s", sql, s.describe())
	}
	return Verdict{Outcome: o, Reason: why, Rows: s.rows,
		Detail: fmt.Sprintf("%s: %s\n  want %s\n  got  %s", why, where, Format(want, maxReportRows), Format(got, maxReportRows))}
}

// Describe is q as it runs in way w, for a report.
func Describe(q Query, w Way) string { return (&script{q: q, w: w}).describe() }

// describe is the whole query as it ran, for a report.
func (s *script) describe() string {
	var parts []string
	for _, st := range s.q.statements() {
		parts = append(parts, st.SQL)
	}
	if s.q.Batch && s.w != Prepared {
		parts = []string{"[" + strings.Join(parts, "; ") + "]"}
	}
	if s.w.inTxn() || s.q.Txn {
		parts = append(append([]string{"BEGIN"}, parts...), "COMMIT")
	}
	for _, st := range s.q.Then {
		parts = append(parts, st.SQL)
	}
	return fmt.Sprintf("(%s) %s", s.w, strings.Join(parts, "; "))
}

// checkRefusal checks that Courier refuses q with q.Refuse, in way w
// (inside a transaction, which must then still commit, in the txn
// ways), and that the same connection then still answers.
func checkRefusal(ctx context.Context, ref, courier *sql.Conn, q Query, w Way) Verdict {
	if r := validate(ctx, ref, q.SQL, w.prepared()); r.Err != nil {
		return Verdict{Outcome: Mismatched, Reason: "the reference server failed (a bad generated statement)",
			Detail: fmt.Sprintf("the reference server failed (a bad generated statement): %s\n  %s", q.SQL, Format(r, 0))}
	}
	var on Conn = courier
	var tx *sql.Tx
	if w.inTxn() {
		var err error
		if tx, err = courier.BeginTx(ctx, nil); err != nil {
			return Verdict{Outcome: Mismatched, Reason: "BEGIN failed", Detail: fmt.Sprintf("BEGIN before %s (%s): %v", q.SQL, w, err)}
		}
		defer tx.Rollback()
		on = tx
	}
	got := runIn(ctx, on, q, w.prepared())
	if got.Errno() != q.Refuse {
		return Verdict{Outcome: Mismatched, Reason: fmt.Sprintf("not refused with %d", q.Refuse),
			Detail: fmt.Sprintf("want error %d: %s (%s)\n  got %s", q.Refuse, q.SQL, w, Format(got, maxReportRows))}
	}
	if after := runIn(ctx, on, Query{SQL: "SELECT 1"}, w.prepared()); after.Err != nil || len(after.Rows) != 1 || after.Rows[0][0].String != "1" {
		return Verdict{Outcome: Mismatched, Reason: "connection unusable after a refusal",
			Detail: fmt.Sprintf("SELECT 1 after refusing %s (%s)\n  got %s", q.SQL, w, Format(after, maxReportRows))}
	}
	if tx != nil {
		if err := tx.Commit(); err != nil {
			return Verdict{Outcome: Mismatched, Reason: "COMMIT failed after a refusal",
				Detail: fmt.Sprintf("COMMIT after refusing %s (%s): %v", q.SQL, w, err)}
		}
	}
	return Verdict{Outcome: Matched}
}

// validate checks on the reference server that a statement Courier must
// refuse is valid: EXPLAIN as text, a prepare of its parameterized form.
// Neither runs it (a join Courier cannot run on one shard may be slow on
// one server too).
func validate(ctx context.Context, ref *sql.Conn, q string, prepared bool) Result {
	if !prepared {
		return Run(ctx, ref, "EXPLAIN "+q, false)
	}
	text, _ := Parameterize(q)
	st, err := ref.PrepareContext(ctx, text)
	if err != nil {
		return Result{Err: err}
	}
	return Result{Err: st.Close()}
}
