package parser

import (
	"slices"
	"testing"
)

func TestParseSet(t *testing.T) {
	p, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		sql    string
		vars   []string
		global bool
		sticky bool
	}{
		{"SET autocommit=0", []string{"autocommit"}, false, false},
		{"SET @@session.sql_mode='ANSI', time_zone = '+00:00'", []string{"sql_mode", "time_zone"}, false, false},
		{"SET SESSION wait_timeout = 10", []string{"wait_timeout"}, false, false},
		{"SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci", namesVars, false, false},
		{"SET CHARACTER SET latin1", charsetVars, false, false},
		{"SET @a = 1", nil, false, true},
		{"SET GLOBAL max_connections = 10", nil, true, false},
		{"SET @@transaction_isolation = 'READ-COMMITTED'", nil, false, true},
		{"SET SESSION transaction_isolation = 'READ-COMMITTED'", []string{"transaction_isolation"}, false, false},
		{"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", []string{"transaction_isolation"}, false, false},
		{"SET TRANSACTION ISOLATION LEVEL READ COMMITTED", nil, false, true},
		{"SET @@session.tx_isolation = 'READ-COMMITTED'", []string{"tx_isolation"}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.sql, func(t *testing.T) {
			eff, err := p.ParseSet(tc.sql)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(eff.Vars, tc.vars) || eff.Global != tc.global || eff.Sticky != tc.sticky {
				t.Fatalf("ParseSet(%q) = %+v", tc.sql, eff)
			}
		})
	}
}

func TestParseSetCourier(t *testing.T) {
	p, _ := New("")
	for _, sql := range []string{"SET @@courier_consistency = 'causal'", "SET courier_consistency = causal",
		"SET SESSION courier_consistency = \"causal\""} {
		eff, err := p.ParseSet(sql)
		if err != nil {
			t.Fatal(err)
		}
		if len(eff.Courier) != 1 || eff.Courier[0] != (Assignment{"courier_consistency", "causal", true}) || len(eff.Vars) != 0 {
			t.Fatalf("%s: %+v", sql, eff)
		}
	}
	eff, _ := p.ParseSet("SET courier_consistency = CONCAT('a', 'b'), autocommit = 1")
	if len(eff.Courier) != 1 || eff.Courier[0].Valid || len(eff.Vars) != 1 {
		t.Fatalf("%+v", eff)
	}
}

func TestParseUse(t *testing.T) {
	p, _ := New("")
	for sql, want := range map[string]string{"USE delivery": "delivery", "use `my db`": "my db"} {
		got, err := p.ParseUse(sql)
		if err != nil || got != want {
			t.Fatalf("ParseUse(%q) = %q, %v", sql, got, err)
		}
	}
}
