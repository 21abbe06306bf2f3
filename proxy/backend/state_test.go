package backend

import (
	"slices"
	"testing"
)

func TestStateWithVars(t *testing.T) {
	s := (&State{}).WithVars(Var{"time_zone", "'+00:00'"}, Var{"autocommit", "0"})
	s2 := s.WithVars(Var{"time_zone", "'UTC'"}, Var{"sql_mode", "''"})
	if got := s.Vars; !slices.Equal(got, []Var{{"autocommit", "0"}, {"time_zone", "'+00:00'"}}) {
		t.Fatalf("s.Vars = %v (must be sorted, and not changed by s2)", got)
	}
	if got := s2.Vars; !slices.Equal(got, []Var{{"autocommit", "0"}, {"sql_mode", "''"}, {"time_zone", "'UTC'"}}) {
		t.Fatalf("s2.Vars = %v", got)
	}
	if v, ok := s2.Var("sql_mode"); !ok || v != "''" {
		t.Fatal("Var lookup")
	}
	if s.Equal(s2) || !s2.Equal(s.WithVars(Var{"time_zone", "'UTC'"}, Var{"sql_mode", "''"})) {
		t.Fatal("Equal")
	}
	if s.WithSchema("a").Equal(s) || s.WithMultiStatements(false).Equal(s) {
		t.Fatal("schema and multi-statements are part of the state")
	}
}

func TestQuoteString(t *testing.T) {
	tests := map[string]string{"": "''", "a'b": `'a\'b'`, `c\d`: `'c\\d'`, "x\x00\n\r\x1a": `'x\0\n\r\Z'`}
	for in, want := range tests {
		if got := QuoteString(in); got != want {
			t.Errorf("QuoteString(%q) = %s, want %s", in, got, want)
		}
	}
}
