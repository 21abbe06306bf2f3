package parser

import "testing"

func TestClassify(t *testing.T) {
	tests := []struct {
		sql   string
		kind  Kind
		flags Flags
	}{
		{"SELECT c FROM sbtest1 WHERE id=1", KindSelect, 0},
		{"  /* hi */ select 1", KindSelect, 0},
		{"-- comment\nSELECT 1", KindSelect, 0},
		{"# comment\nINSERT INTO t VALUES (1)", KindInsert, 0},
		{"(SELECT 1) UNION (SELECT 2)", KindSelect, 0},
		{"WITH x AS (SELECT 1) SELECT * FROM x", KindSelect, 0},
		{"update t set a=1", KindUpdate, 0},
		{"DELETE FROM t", KindDelete, 0},
		{"REPLACE INTO t VALUES (1)", KindReplace, 0},
		{"SET NAMES utf8mb4", KindSet, 0},
		{"SET @a = 1", KindSet, FlagUserVar},
		{"SET TRANSACTION ISOLATION LEVEL READ COMMITTED", KindSetTransaction, 0},
		{"SET SESSION TRANSACTION READ ONLY", KindSet, 0},
		{"SET SESSION sql_mode = ''", KindSet, 0},
		{"SET @@session.autocommit = 0", KindSet, FlagSysVar},
		{"use `db`", KindUse, 0},
		{"BEGIN", KindBegin, 0},
		{"begin work", KindBegin, 0},
		{"START TRANSACTION READ ONLY", KindBegin, 0},
		{"COMMIT", KindCommit, 0},
		{"ROLLBACK", KindRollback, 0},
		{"ROLLBACK TO SAVEPOINT s1", KindSavepoint, 0},
		{"ROLLBACK WORK TO s1", KindSavepoint, 0},
		{"SAVEPOINT s1", KindSavepoint, 0},
		{"RELEASE SAVEPOINT s1", KindSavepoint, 0},
		{"SHOW TABLES", KindShow, 0},
		{"SHOW WARNINGS", KindShow, FlagDiagnostics},
		{"show count(*) errors", KindShow, FlagDiagnostics},
		{"SELECT @@warning_count", KindSelect, FlagSysVar | FlagDiagnostics},
		{"SELECT FOUND_ROWS()", KindSelect, FlagDiagnostics},
		{"SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 1", KindSelect, FlagCalcFoundRows},
		{"SELECT LAST_INSERT_ID()", KindSelect, FlagLastInsertID},
		{"SELECT @@identity", KindSelect, FlagSysVar | FlagLastInsertID},
		{"SELECT @@session.last_insert_id", KindSelect, FlagSysVar | FlagLastInsertID},
		{"SELECT GET_LOCK('x', 1)", KindSelect, FlagLockFunc},
		{"CREATE TEMPORARY TABLE t (a int)", KindDDL, FlagTemporary},
		{"SELECT * FROM t WHERE id = 1 FOR UPDATE", KindSelect, FlagLockingRead},
		{"SELECT * FROM t LOCK IN SHARE MODE", KindSelect, FlagLockingRead},
		{"SELECT 1; SELECT 2", KindSelect, FlagMulti},
		{"SELECT 1;", KindSelect, 0},
		{"SELECT 1; ", KindSelect, 0},
		{"SELECT ';@x' FROM t", KindSelect, 0},
		{`SELECT "a\"@b" FROM t`, KindSelect, 0},
		{"SELECT 'it''s @x'", KindSelect, 0},
		{"SELECT `@weird``name` FROM t", KindSelect, 0},
		{"SELECT /* @x; */ 1", KindSelect, 0},
		{"SELECT /*!40001 SQL_NO_CACHE */ 1", KindSelect, FlagExecComment},
		{"/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */", KindSet, FlagExecComment | FlagUserVar | FlagSysVar},
		{"SELECT @a := 1", KindSelect, FlagUserVar},
		{"SELECT 1 INTO @x", KindSelect, FlagUserVar},
		{"LOCK TABLES t WRITE", KindLock, 0},
		{"PREPARE s FROM 'SELECT 1'", KindPrepare, 0},
		{"CALL p()", KindCall, 0},
		{"KILL QUERY 5", KindKill, 0},
		{"XA START 'x'", KindXA, 0},
		{"", KindEmpty, 0},
		{"  -- nothing\n", KindEmpty, 0},
		{";", KindEmpty, 0},
		{"SELECT 1 -- trailing", KindSelect, 0},
		{"SELECT 1--1", KindSelect, 0},
		{"BEGIN NOT ATOMIC SELECT 1; END", KindOther, FlagMulti},
		{"SELECT NEXTVAL(s)", KindSelect, FlagSideEffect},
		{"SELECT NEXT VALUE FOR s", KindSelect, FlagSideEffect},
		{"SELECT * FROM t INTO OUTFILE '/tmp/x'", KindSelect, FlagSideEffect},
		{"SELECT value FROM next", KindSelect, 0},
		{"/* courier:primary */ SELECT 1", KindSelect, FlagHintPrimary},
		{"SELECT /*courier:replica*/ 1", KindSelect, FlagHintReplica},
		{"SELECT 1 /* courier:consistency=causal */", KindSelect, FlagHintCausal},
		{"SELECT 1 /* courier:consistency=eventual */", KindSelect, FlagHintEventual},
		{"SELECT 1 /* courier:bogus */", KindSelect, 0},
		{"SELECT '/* courier:primary */'", KindSelect, 0},
	}
	for _, tc := range tests {
		t.Run(tc.sql, func(t *testing.T) {
			got := Classify([]byte(tc.sql))
			if got.Kind != tc.kind || got.Flags != tc.flags {
				t.Fatalf("Classify(%q) = {%v %b}, want {%v %b}", tc.sql, got.Kind, got.Flags, tc.kind, tc.flags)
			}
		})
	}
}

func TestClassifyAllocs(t *testing.T) {
	q := []byte("SELECT c FROM sbtest1 WHERE id=4711 /* x */ AND k IN ('a', 'b')")
	if n := testing.AllocsPerRun(100, func() { Classify(q) }); n != 0 {
		t.Fatalf("Classify allocates %.0f times per call", n)
	}
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"SELECT 1", "/*!1 SET @a=1*/", "'unterminated", "@@", "@", "/*"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { Classify(b) })
}

func BenchmarkClassify(b *testing.B) {
	q := []byte("SELECT c FROM sbtest1 WHERE id=4711")
	b.ReportAllocs()
	for b.Loop() {
		Classify(q)
	}
}

func TestClassifyMode(t *testing.T) {
	tests := []struct {
		mode  Mode
		sql   string
		kind  Kind
		flags Flags
	}{
		{0, `SELECT 'a\'; INSERT INTO otherdb.t VALUES (77, 0x73); -- '`, KindSelect, 0},
		{nbe, `SELECT 'a\'; INSERT INTO otherdb.t VALUES (77, 0x73); -- '`, KindSelect, FlagMulti},
		{nbe, `SELECT "a\"; DELETE FROM t`, KindSelect, FlagMulti},
		{nbe, `SELECT 'a\''; DELETE FROM t; '`, KindSelect, 0},
		{0, `SELECT "@x;"`, KindSelect, 0},
		{ansi, `SELECT "@x;"`, KindSelect, 0},
		{ansi, `SELECT "a\"; SET @x = 1; -- "`, KindSelect, FlagMulti | FlagUserVar},
		{0, `SELECT "a\"; SET @x = 1; -- "`, KindSelect, 0},
		{ansi, `SELECT @"x"`, KindSelect, FlagUserVar},
		{mb, "SELECT '\x81\\'; DELETE FROM t; -- '", KindSelect, FlagMulti},
		{mb, "SELECT '\x81'", KindSelect, 0},
		{mb | nbe, "SELECT '\x81\\'", KindSelect, 0},
		{0, "SELECT 1 /*!50700 ; DELETE FROM t */", KindSelect, FlagExecComment},
		{0, "SELECT 1 /*M!50700 ; DELETE FROM t */", KindSelect, FlagExecComment | FlagMulti},
		{0, "SELECT 1 /*!99999 , @x */", KindSelect, FlagExecComment},
		{0, "SELECT 1 /*!100000 , @x */", KindSelect, FlagExecComment | FlagUserVar},
		{0, "SELECT 1 /*!101150 , 2 */", KindSelect, FlagExecComment | FlagMulti},
		{0, "SELECT 1 /*!99999 ' */ ; DELETE FROM t; -- '", KindSelect, FlagExecComment | FlagMulti},
		{0, "SELECT 1 /*! /*! */ ; DELETE FROM t", KindSelect, FlagExecComment | FlagMulti},
		{0, "SELECT 1 --;", KindSelect, 0},
		{0, "SELECT 1 # x\x00; DELETE FROM t", KindSelect, FlagMulti},
		{Oracle | ansi, "BEGIN UPDATE t SET a = 1; END", KindOther, FlagMulti},
		{Oracle | ansi, "BEGIN", KindBegin, 0},
		{Oracle | ansi, "BEGIN WORK", KindBegin, 0},
	}
	for _, tc := range tests {
		t.Run(tc.sql, func(t *testing.T) {
			got := ClassifyMode([]byte(tc.sql), tc.mode)
			if got.Kind != tc.kind || got.Flags != tc.flags {
				t.Fatalf("ClassifyMode(%q, %v) = {%v %b}, want {%v %b}", tc.sql, tc.mode, got.Kind, got.Flags, tc.kind, tc.flags)
			}
		})
	}
}

func TestModeOf(t *testing.T) {
	tests := []struct {
		sqlMode, charset string
		want             Mode
	}{
		{"", "", 0},
		{"STRICT_TRANS_TABLES,NO_BACKSLASH_ESCAPES", "utf8mb4", NoBackslashEscapes},
		{"'ansi_quotes'", "latin1", AnsiQuotes},
		{"REAL_AS_FLOAT,PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ANSI", "", AnsiQuotes | PipesAsConcat},
		{"PIPES_AS_CONCAT,ANSI_QUOTES,IGNORE_SPACE,ORACLE,NO_KEY_OPTIONS", "", AnsiQuotes | PipesAsConcat | Oracle},
		{"HIGH_NOT_PRECEDENCE", "GBK", HighNotPrecedence | MultibyteEscapes},
		{"", "sjis", MultibyteEscapes},
	}
	for _, tc := range tests {
		if got := ModeOf(tc.sqlMode, tc.charset); got != tc.want {
			t.Errorf("ModeOf(%q, %q) = %b, want %b", tc.sqlMode, tc.charset, got, tc.want)
		}
	}
}
