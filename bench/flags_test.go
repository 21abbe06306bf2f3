package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

func TestParseFlagsBaseline(t *testing.T) {
	args := []string{"--subjects", "direct,relay,courier,courier-sharded,courier-sharded-rw", "--workloads", "oltp_point_select,rw_point",
		"--baseline", "d04ccaa"}
	o, err := parseFlags(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"direct", "relay", "courier", "courier@base", "courier-sharded", "courier-sharded@base",
		"courier-sharded-rw", "courier-sharded-rw@base"}
	if o.Baseline != "d04ccaa" || !slices.Equal(o.Subjects, want) {
		t.Errorf("baseline %q, subjects %q; want every Courier subject followed by its twin %q", o.Baseline, o.Subjects, want)
	}
	if got := o.runs(); got != 2*3*2*3*8 {
		t.Errorf("runs() = %d; twins are measured like any subject", got)
	}
	if l := loader(o.Subjects); l != subjectCourierSharded {
		t.Errorf("loader = %q; want the data loaded through the new Courier", l)
	}
	if l := loader([]string{"courier", "courier@base", "courier-sharded-rw@base", "courier-sharded-rw"}); l != subjectCourierShardedRW {
		t.Errorf("loader = %q; want courier-sharded-rw, never a twin", l)
	}
	o, err = parseFlags([]string{"--subjects", "courier"}, io.Discard)
	if err != nil || !slices.Equal(o.Subjects, []string{"courier"}) {
		t.Errorf("without --baseline: subjects %q, %v; want no twins", o.Subjects, err)
	}
}

func TestParseFlagsBaselineRejects(t *testing.T) {
	for name, args := range map[string][]string{
		"twin named":           {"--subjects", "courier,courier@base"},
		"no Courier subject":   {"--subjects", "direct,relay", "--baseline", "main"},
		"an option":            {"--subjects", "courier", "--baseline", "--output=x"},
		"blank in revision":    {"--subjects", "courier", "--baseline", "a b"},
		"rw_point is not oltp": {"--workloads", "rw_point.lua"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseFlags(args, io.Discard); err == nil {
				t.Errorf("parseFlags(%q) accepted", args)
			}
		})
	}
}

func TestParseFlagsShardedRW(t *testing.T) {
	args := []string{"--subjects", "courier-sharded,courier-sharded-rw", "--workloads", "oltp_point_select,rw_point"}
	if _, err := parseFlags(args, io.Discard); err != nil {
		t.Fatalf("point selects and rw_point over the shards: %v", err)
	}
	args[1] = "courier-sharded-rw"
	args[3] = "oltp_read_write"
	if _, err := parseFlags(args, io.Discard); err == nil {
		t.Fatal("courier-sharded-rw accepted oltp_read_write, whose ranges and transactions span shards")
	}
}

func TestSubjectNames(t *testing.T) {
	for _, tc := range []struct {
		subject              string
		courier, sharded, rw bool
		of                   string
		isTwin               bool
	}{
		{"direct", false, false, false, "direct", false},
		{"courier", true, false, false, "courier", false},
		{"courier@base", true, false, false, "courier", true},
		{"courier-sharded@base", true, true, false, "courier-sharded", true},
		{"courier-sharded-rw", true, true, true, "courier-sharded-rw", false},
		{"courier-sharded-rw@base", true, true, true, "courier-sharded-rw", true},
	} {
		of, isTwin := ofTwin(tc.subject)
		if isCourier(tc.subject) != tc.courier || isSharded(tc.subject) != tc.sharded || withReplicas(tc.subject) != tc.rw ||
			of != tc.of || isTwin != tc.isTwin {
			t.Errorf("%s: courier %v, sharded %v, replicas %v, twin of %q (%v)", tc.subject,
				isCourier(tc.subject), isSharded(tc.subject), withReplicas(tc.subject), of, isTwin)
		}
	}
}

// TestScriptRun checks that rw_point runs the harness's script with the
// tables' options and without the oltp_* scripts' --skip_trx.
func TestScriptRun(t *testing.T) {
	dir := t.TempDir()
	scripts, err := writeScripts(dir, []string{"oltp_point_select", rwPointWorkload})
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) != 1 || scripts[rwPointWorkload].Path != filepath.Join(dir, "rw_point.lua") {
		t.Fatalf("scripts = %+v", scripts)
	}
	if b, err := os.ReadFile(scripts[rwPointWorkload].Path); err != nil || !strings.Contains(string(b), "function event()") {
		t.Fatalf("rw_point.lua not written: %v", err)
	}
	r := &runner{opts: options{SkipTrx: true}, scripts: scripts}
	args := runArgs(sbTarget{Port: 1, Tables: 4, TableSize: 100}, r.sbRun(cell{Workload: rwPointWorkload, Threads: 1, PSMode: "auto"}, time.Second))
	line := strings.Join(args, " ")
	if args[0] != scripts[rwPointWorkload].Path || !strings.Contains(line, "--tables=4 --table-size=100") ||
		!strings.Contains(line, "--db-ps-mode=auto") || strings.Contains(line, "skip_trx") {
		t.Errorf("sysbench %s", line)
	}
	args = runArgs(sbTarget{Port: 1}, r.sbRun(cell{Workload: "oltp_read_write", Threads: 1, PSMode: "auto"}, time.Second))
	if !slices.Contains(args, "--skip_trx=on") {
		t.Errorf("oltp_read_write lost --skip-trx: %q", args)
	}
}
