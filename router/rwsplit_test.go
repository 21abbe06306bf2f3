package router

import (
	"testing"

	"github.com/courier-proxy/courier/parser"
)

func TestDecide(t *testing.T) {
	base := Session{ReplicaReads: true}
	tests := []struct {
		name   string
		sql    string
		s      Session
		target Target
		cons   Consistency
	}{
		{"autocommit read", "SELECT * FROM orders WHERE id = 1", base, Replica, Eventual},
		{"read with CTE", "WITH x AS (SELECT 1) SELECT * FROM x", base, Replica, Eventual},
		{"insert", "INSERT INTO orders VALUES (1)", base, Primary, Eventual},
		{"update", "UPDATE orders SET a = 1", base, Primary, Eventual},
		{"ddl", "CREATE TABLE t (a INT)", base, Primary, Eventual},
		{"show", "SHOW TABLES", base, Primary, Eventual},
		{"for update", "SELECT * FROM t WHERE id = 1 FOR UPDATE", base, Primary, Eventual},
		{"share mode", "SELECT * FROM t LOCK IN SHARE MODE", base, Primary, Eventual},
		{"get_lock", "SELECT GET_LOCK('a', 1)", base, Primary, Eventual},
		{"last_insert_id", "SELECT LAST_INSERT_ID()", base, Primary, Eventual},
		{"user variable", "SELECT @a", base, Primary, Eventual},
		{"found_rows", "SELECT FOUND_ROWS()", base, Primary, Eventual},
		{"nextval", "SELECT NEXTVAL(seq)", base, Primary, Eventual},
		{"outfile", "SELECT * FROM t INTO OUTFILE '/tmp/x'", base, Primary, Eventual},
		{"system variable read", "SELECT @@sql_mode", base, Replica, Eventual},
		{"in transaction", "SELECT 1", Session{ReplicaReads: true, InTransaction: true}, Primary, Eventual},
		{"pinned", "SELECT 1", Session{ReplicaReads: true, Pinned: true}, Primary, Eventual},
		{"reads on primary", "SELECT 1", Session{}, Primary, Eventual},
		{"primary consistency", "SELECT 1", Session{ReplicaReads: true, Consistency: PrimaryReads}, Primary, PrimaryReads},
		{"causal", "SELECT 1", Session{ReplicaReads: true, Consistency: Causal}, Replica, Causal},
		{"hint ignored", "/* courier:primary */ SELECT 1", base, Replica, Eventual},
		{"hint primary", "/* courier:primary */ SELECT 1", Session{ReplicaReads: true, AllowHints: true}, Primary, Eventual},
		{"hint replica beats consistency", "/* courier:replica */ SELECT 1",
			Session{ReplicaReads: true, AllowHints: true, Consistency: PrimaryReads}, Replica, Eventual},
		{"hint replica never moves a write", "/* courier:replica */ DELETE FROM t",
			Session{ReplicaReads: true, AllowHints: true}, Primary, Eventual},
		{"hint replica not in a transaction", "/* courier:replica */ SELECT 1",
			Session{ReplicaReads: true, AllowHints: true, InTransaction: true}, Primary, Eventual},
		{"hint causal", "SELECT 1 /* courier:consistency=causal */", Session{ReplicaReads: true, AllowHints: true}, Replica, Causal},
		{"hint consistency primary", "SELECT 1 /* courier:consistency=primary */", Session{ReplicaReads: true, AllowHints: true}, Primary, Eventual},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target, cons := Decide(parser.Classify([]byte(tc.sql)), tc.s)
			if target != tc.target || (target == Replica && cons != tc.cons) {
				t.Fatalf("Decide(%q) = %v/%v, want %v/%v", tc.sql, target, cons, tc.target, tc.cons)
			}
		})
	}
}

// BenchmarkClassifyAndDecide is the per-statement routing cost: classify
// the text, then decide primary or replica.
func BenchmarkClassifyAndDecide(b *testing.B) {
	q := []byte("SELECT c FROM sbtest1 WHERE id=4711")
	s := Session{ReplicaReads: true, Consistency: Causal}
	b.ReportAllocs()
	for b.Loop() {
		Decide(parser.Classify(q), s)
	}
}
