package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// header describes the machine and software a report was measured on.
type header struct {
	Start, End    time.Time
	Command       string
	Nproc         string
	Kernel        string
	GoVersion     string
	Mariadbd      string
	Sysbench      string
	CourierRev    string
	Baseline      string // "REV = COMMIT (describe)" of --baseline; "" without
	ClkTck        int64
	ClkTckAssumed bool
	LoadStart     string
	LoadEnd       string
	Opts          options
}

// newHeader collects what it can; a failed probe shows as "?".
func newHeader(ctx context.Context, o options, command string) header {
	return header{
		Start:      time.Now(),
		Command:    command,
		Nproc:      probe(ctx, "", "nproc"),
		Kernel:     probe(ctx, "", "uname", "-sr"),
		GoVersion:  runtime.Version(),
		CourierRev: probe(ctx, o.Src, "git", "describe", "--always", "--dirty"),
		LoadStart:  loadavg(),
		Opts:       o,
	}
}

// probe returns the trimmed output of a command run in dir, or "?".
func probe(ctx context.Context, dir, name string, args ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

// loadavg returns the first three fields of /proc/loadavg, or "?".
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// write renders the header of a sysbench report as Markdown.
func (h header) write(w io.Writer) {
	o := h.Opts
	h.writeCommon(w, "Courier benchmark: sysbench against MariaDB direct, a null TCP relay, and Courier")
	fmt.Fprintf(w, "- sysbench: %d tables × %d rows, %d s per run, %d round(s), subjects run interleaved (starting subject rotates per round), "+
		"`--rand-type=uniform --histogram=on`, %d s warmup per subject\n",
		o.Tables, o.TableSize, int(o.Duration/time.Second), o.Rounds, int(o.Warmup/time.Second))
	if h.Baseline != "" {
		fmt.Fprintf(w, "- baseline: Courier built from %s in a temporary git worktree; each Courier subject S has a twin S@base "+
			"running it with the same configuration over the same servers and data, in the same rounds\n", h.Baseline)
	}
	if slices.ContainsFunc(o.Subjects, isSharded) {
		fmt.Fprintf(w, "- sharded subjects: the tables sharded by id over %d even key ranges, one shard primary each, loaded through Courier "+
			"(`--auto-inc=off`)", shardedShards)
		if slices.ContainsFunc(o.Subjects, withReplicas) {
			fmt.Fprint(w, "; every shard has one replica (GTID replication), which courier-sharded-rw reads from with causal consistency "+
				"and courier-sharded ignores")
		}
		fmt.Fprintln(w)
	}
	if slices.ContainsFunc(o.Subjects, func(s string) bool { n, _ := ofTwin(s); return n == subjectCourierRW || n == subjectCourierShardedRW }) {
		fmt.Fprintln(w, "- replicas: before every run of a subject that reads from replicas, they have caught up with their primaries "+
			"(MASTER_GTID_WAIT on the primary's gtid_binlog_pos)")
	}
	fmt.Fprintln(w, "- latency: sysbench's per-event histogram, where an event is one transaction "+
		"(oltp_point_select: 1 query; oltp_read_only: 16; oltp_read_write: 20 with BEGIN/COMMIT; "+
		"rw_point: 3 autocommit statements, an UPDATE by id and two point SELECTs); "+
		"buckets are ~1.8 % wide, so smaller differences are below resolution")
	fmt.Fprintln(w)
}

// writeCommon renders the title and the lines every report has: when,
// what command, on what machine and software, how CPU is counted.
func (h header) writeCommon(w io.Writer, title string) {
	tck := fmt.Sprint(h.ClkTck)
	if h.ClkTckAssumed {
		tck += " (assumed: `getconf CLK_TCK` failed)"
	}
	fmt.Fprintf(w, "# %s\n\n", title)
	fmt.Fprintf(w, "- date: %s (took %s)\n", h.Start.Format(time.RFC3339), h.End.Sub(h.Start).Round(time.Second))
	fmt.Fprintf(w, "- command: `%s`\n", h.Command)
	fmt.Fprintf(w, "- machine: nproc %s, %s, load average %s at start, %s at end\n", h.Nproc, h.Kernel, h.LoadStart, h.LoadEnd)
	fmt.Fprintf(w, "- mariadbd: %s; sysbench: %s; %s; Courier tree: %s\n", h.Mariadbd, h.Sysbench, h.GoVersion, h.CourierRev)
	fmt.Fprintf(w, "- CPU per query: (utime+stime) from /proc/PID/stat over the run ÷ total queries; CLK_TCK %s; "+
		"mysqld of a sharded subject: its shard primaries added up (replicas are not counted)\n", tck)
}
