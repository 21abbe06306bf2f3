package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// defaultClkTck is the USER_HZ assumed when `getconf CLK_TCK` fails; it is
// 100 on every mainstream Linux build.
const defaultClkTck = 100

// clockTicks returns CLK_TCK (USER_HZ), the unit of the CPU times in
// /proc/PID/stat, from `getconf CLK_TCK`. assumed is true when getconf
// failed and defaultClkTck is returned instead.
func clockTicks(ctx context.Context) (hz int64, assumed bool) {
	out, err := exec.CommandContext(ctx, "getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && v > 0 {
			return v, false
		}
	}
	return defaultClkTck, true
}

// cpuTicks returns utime+stime of process pid (all its threads), in clock
// ticks, from /proc/PID/stat.
func cpuTicks(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu time of pid %d: %w", pid, err)
	}
	return parseStatTicks(string(data))
}

// parseStatTicks sums fields 14 (utime) and 15 (stime) of a /proc/PID/stat
// line. Field 2, the command name in parentheses, may itself contain spaces
// and parentheses, so fields are counted from the last ')'.
func parseStatTicks(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc stat: no command name in %q", stat)
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3 (state)
	const utime, stime = 14 - 3, 15 - 3
	if len(f) <= stime {
		return 0, fmt.Errorf("/proc stat: only %d fields after the command name", len(f))
	}
	u, err := strconv.ParseInt(f[utime], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("/proc stat utime: %w", err)
	}
	s, err := strconv.ParseInt(f[stime], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("/proc stat stime: %w", err)
	}
	return u + s, nil
}

// cpuMeter measures the CPU a set of processes uses during one run. A role
// may stand for several processes (the primaries of every shard); their
// times are added up.
type cpuMeter struct {
	hz     int64
	pids   map[string][]int // role ("proxy", "mysqld") → pids
	before map[string]int64 // ticks at start
}

// ticks returns the CPU ticks of every process of role, added up.
func (m *cpuMeter) ticks(role string) (int64, error) {
	var sum int64
	for _, pid := range m.pids[role] {
		t, err := cpuTicks(pid)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", role, err)
		}
		sum += t
	}
	return sum, nil
}

// start records the current CPU ticks of every role.
func (m *cpuMeter) start() error {
	m.before = make(map[string]int64, len(m.pids))
	for role := range m.pids {
		t, err := m.ticks(role)
		if err != nil {
			return err
		}
		m.before[role] = t
	}
	return nil
}

// perQuery returns, for every role, the CPU microseconds its processes used
// since start divided by queries.
func (m *cpuMeter) perQuery(queries int64) (map[string]float64, error) {
	out := make(map[string]float64, len(m.pids))
	for role := range m.pids {
		t, err := m.ticks(role)
		if err != nil {
			return nil, err
		}
		if queries > 0 {
			out[role] = float64(t-m.before[role]) * 1e6 / float64(m.hz) / float64(queries)
		}
	}
	return out, nil
}
