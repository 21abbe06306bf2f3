package main

import (
	"io"
	"slices"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"--rounds", "1", "--duration", "2", "--threads", "1, 16,16", "--workloads", "oltp_point_select"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Rounds != 1 || o.Duration != 2*time.Second || !slices.Equal(o.Threads, []int{1, 16}) ||
		!slices.Equal(o.Workloads, []string{"oltp_point_select"}) || !slices.Equal(o.PSModes, []string{"disable", "auto"}) ||
		!slices.Equal(o.Subjects, defaultSubjects()) {
		t.Errorf("got %+v", o)
	}
	if got := o.runs(); got != 1*2*2*1*3 {
		t.Errorf("runs() = %d, want 12", got)
	}
}

func TestParseFlagsRejects(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown subject":  {"--subjects", "direct,proxysql"},
		"bad ps mode":      {"--ps-modes", "always"},
		"bad thread count": {"--threads", "0"},
		"not a number":     {"--threads", "x"},
		"no rounds":        {"--rounds", "0"},
		"not a workload":   {"--workloads", "../evil"},
		"stray argument":   {"run"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseFlags(args, io.Discard); err == nil {
				t.Errorf("parseFlags(%q) accepted", args)
			}
		})
	}
}

func TestParseFlagsSharded(t *testing.T) {
	args := []string{"--subjects", "direct,courier,courier-sharded", "--workloads", "oltp_point_select"}
	if _, err := parseFlags(args, io.Discard); err != nil {
		t.Fatalf("point selects through courier-sharded: %v", err)
	}
	args[3] = "oltp_point_select,oltp_read_only"
	if _, err := parseFlags(args, io.Discard); err == nil {
		t.Fatal("courier-sharded accepted oltp_read_only, whose range queries need merges across shards")
	}
}
