package main

import (
	"os"
	"testing"
)

func TestParseStatTicks(t *testing.T) {
	tests := []struct {
		name string
		stat string
		want int64
		err  bool
	}{
		{"plain", "1234 (courier) S 1 1234 1234 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 9 0 100 0 0", 325, false},
		{"name with spaces and parens", "77 (a b) (c)) R 1 77 77 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 5 0 0", 10, false},
		{"truncated", "77 (x) R 1 2 3", 0, true},
		{"no name", "77 x R", 0, true},
		{"not a number", "77 (x) R 1 77 77 0 -1 0 0 0 0 0 u 3 0", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatTicks(tc.stat)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("got %d, %v; want %d, error %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestCPUTicksOfSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	before, err := cpuTicks(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	x := 0
	for i := range 50_000_000 { // ~tens of ms of CPU
		x ^= i
	}
	after, err := cpuTicks(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after < before {
		t.Errorf("CPU ticks went backwards: %d then %d (x=%d)", before, after, x)
	}
}
