package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/migrate"
)

// migrateFlags are the flags the "migrate" subcommands share.
type migrateFlags struct {
	config, to, schema, name string
	admins                   []string
	token, output            string
	opt                      migrate.Options
}

// newMigrateCmd returns "courierctl migrate", which moves tables' rows
// from one layout to another (package migrate).
func newMigrateCmd() *cobra.Command {
	var f migrateFlags
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Move tables between layouts: plan, start, status, verify, switch, reverse, complete, abort",
		Long: "Moves the rows of the tables whose placement differs between the layout of --config\n" +
			"(the one Courier serves) and that of --to: a shard split or merge onto new clusters,\n" +
			"an unsharded table sharded or moved to another cluster, global index and reference\n" +
			"tables with them. The new clusters must already be configured in the running\n" +
			"Courier instances (--admin).\n" +
			"--mode stop holds writes to the moved tables on every instance, copies, verifies to\n" +
			"zero differences, records the new layout in " + config.LayoutsTable + " on\n" +
			"default_cluster and switches every instance. --mode online copies from consistent\n" +
			"snapshots while writes go on, applies the changes since from the sources' binlogs,\n" +
			"verifies under load, and holds writes only while the targets catch up for the switch;\n" +
			"the targets as they were at the switch are then verified against the sources.\n" +
			"With --no-switch it stops before the switch; migrate switch does it later.\n" +
			"State lives in " + config.ControlSchema + ": a stopped run resumes when started again.\n" +
			"Exit status: 0 when all is well, 2 when verify finds differences, 1 when the command\n" +
			"could not run.",
	}
	p := cmd.PersistentFlags()
	p.StringVar(&f.config, "config", "", "Courier configuration file, of the layout served now (required)")
	p.StringVar(&f.name, "name", "migration", "the migration's name in the control schema")
	p.StringVar(&f.token, "admin-token", os.Getenv("COURIER_ADMIN_TOKEN"), "the instances' admin_token (default $COURIER_ADMIN_TOKEN)")
	p.IntVar(&f.opt.Chunk, "chunk", 1000, "rows read per query")
	p.StringVar(&f.output, "output", "text", "text or json: the command's result as one JSON document on stdout (the migration's state for start, switch, reverse, complete and abort; their steps then go to stderr)")
	_ = cmd.MarkPersistentFlagRequired("config")
	cmd.AddCommand(migratePlanCmd(&f), migrateStartCmd(&f), migrateStatusCmd(&f), migrateVerifyCmd(&f),
		migrateEndCmd(&f, "switch", "Switch an online migration started with --no-switch: catch up, verify, hold writes briefly, switch",
			func(ctx context.Context, m *migrate.Migration) error { return m.Switch(ctx) }),
		migrateEndCmd(&f, "reverse", "Switch a switched migration back to the old layout, verified (online: replaying the changes since the switch)",
			func(ctx context.Context, m *migrate.Migration) error { return m.Reverse(ctx) }),
		migrateEndCmd(&f, "complete", "Delete the moved tables' old copies after the switch",
			func(ctx context.Context, m *migrate.Migration) error { return m.Complete(ctx) }),
		migrateEndCmd(&f, "abort", "Stop a migration that has not switched: holds released, targets emptied",
			func(ctx context.Context, m *migrate.Migration) error { return m.Abort(ctx) }))
	return cmd
}

func (f *migrateFlags) files() (from, to []byte, err error) {
	if from, err = os.ReadFile(f.config); err != nil {
		return nil, nil, err
	}
	if to, err = os.ReadFile(f.to); err != nil {
		return nil, nil, err
	}
	return from, to, nil
}

// events prints the migration's steps on the command's stdout, or its
// stderr when stdout has the JSON result.
func (f *migrateFlags) events(cmd *cobra.Command) {
	w := cmd.OutOrStdout()
	if f.output == "json" {
		w = cmd.ErrOrStderr()
	}
	f.opt.Event = func(s string) { fmt.Fprintf(w, "%s %s\n", time.Now().Format("15:04:05"), s) }
}

// result prints, with --output json, the migration's state after a
// command that runs it, then returns err.
func (f *migrateFlags) result(cmd *cobra.Command, m *migrate.Migration, err error) error {
	if f.output == "json" && m.State != nil {
		if jerr := json.NewEncoder(cmd.OutOrStdout()).Encode(m.State); jerr != nil && err == nil {
			err = jerr
		}
	}
	return err
}

// resume opens the recorded migration and runs fn on it.
func (f *migrateFlags) resume(cmd *cobra.Command, fn func(context.Context, *migrate.Migration) error) error {
	cmd.SilenceUsage = true
	cfg, err := os.ReadFile(f.config)
	if err != nil {
		return err
	}
	ctx, stop := signalContext(cmd)
	defer stop()
	f.events(cmd)
	pr := newMigrateProgress(cmd.ErrOrStderr())
	f.opt.Progress = pr.report
	defer pr.finish()
	m, err := migrate.Resume(ctx, cfg, f.name, f.token, f.opt)
	if err != nil {
		return err
	}
	defer m.Close()
	return fn(ctx, m)
}

func migratePlanCmd(f *migrateFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Dry run: what moves where, row estimates, checks of the targets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			from, to, err := f.files()
			if err != nil {
				return err
			}
			fc, err := config.Parse(from)
			if err != nil {
				return err
			}
			tc, err := config.Parse(to)
			if err != nil {
				return err
			}
			p, err := migrate.NewPlan(fc, tc, f.schema)
			if err != nil {
				return err
			}
			defer p.Close()
			ctx, stop := signalContext(cmd)
			defer stop()
			checkErr := p.Check(ctx, false)
			out := cmd.OutOrStdout()
			if f.output == "json" {
				doc := planJSON{Tables: []planTable{}, Ready: checkErr == nil, Problems: []string{}}
				for _, m := range p.Tables {
					doc.Tables = append(doc.Tables, planTable{m.Table, m.Sources, m.Targets, m.Estimate})
				}
				if checkErr != nil {
					doc.Problems = strings.Split(checkErr.Error(), "\n")
				}
				if err := json.NewEncoder(out).Encode(doc); err != nil {
					return err
				}
				if checkErr != nil {
					return &findingsError{"the targets are not ready"}
				}
				return nil
			}
			for _, m := range p.Tables {
				fmt.Fprintf(out, "%-24s %s → %s  (%d rows)\n", m.Table, strings.Join(m.Sources, ","), strings.Join(m.Targets, ","), m.Estimate)
			}
			if checkErr != nil {
				return fmt.Errorf("the targets are not ready:\n%w", checkErr)
			}
			if len(p.Tables) == 0 {
				fmt.Fprintln(out, "no table changes placement: start records the new layout and switches the instances")
				return nil
			}
			fmt.Fprintln(out, "ready: the targets exist with the same definitions and are empty")
			return nil
		},
	}
	cmd.Flags().StringVar(&f.to, "to", "", "configuration file with the new layout (required)")
	cmd.Flags().StringVar(&f.schema, "schema", "", "MySQL schema (database) holding the tables on every cluster (required)")
	_ = cmd.MarkFlagRequired("to")
	_ = cmd.MarkFlagRequired("schema")
	return cmd
}

func migrateStartCmd(f *migrateFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Run (or resume) a migration: hold, copy, verify, record, switch",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			from, to, err := f.files()
			if err != nil {
				return err
			}
			ctx, stop := signalContext(cmd)
			defer stop()
			f.events(cmd)
			pr := newMigrateProgress(cmd.ErrOrStderr())
			f.opt.Progress = pr.report
			f.opt.Name = f.name
			m, err := migrate.Open(ctx, from, to, f.schema, migrate.NewFleet(f.admins, f.token), f.opt)
			if err != nil {
				return err
			}
			defer m.Close()
			err = m.Start(ctx)
			pr.finish()
			if ctx.Err() != nil {
				err = fmt.Errorf("stopped (%w); run the same command again to resume", err)
			}
			return f.result(cmd, m, err)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.to, "to", "", "configuration file with the new layout (required)")
	fl.StringVar(&f.schema, "schema", "", "MySQL schema (database) holding the tables on every cluster (required)")
	fl.StringSliceVar(&f.admins, "admin", nil, "admin address (host:port) of every Courier instance serving the data (required)")
	fl.StringVar(&f.opt.Mode, "mode", "stop", "stop: writes to the moved tables held during the copy; online: copy and binlog catch-up while writes go on, held only for the switch")
	fl.Float64Var(&f.opt.Rate, "rate", 0, "online: rows copied per second at most (0: no bound)")
	fl.BoolVar(&f.opt.NoSwitch, "no-switch", false, "online: stop once copied, caught up and verified under load; run migrate switch when ready")
	fl.DurationVar(&f.opt.Pause, "pause", 30*time.Second, "longest the writes may be held (at most 1m)")
	fl.DurationVar(&f.opt.Drain, "drain", 5*time.Second, "longest wait for the statements and transactions in flight")
	for _, n := range []string{"to", "schema", "admin"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

func migrateStatusCmd(f *migrateFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Phase, copy progress per table and source, the layout each instance serves",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.resume(cmd, func(ctx context.Context, m *migrate.Migration) error {
				st, err := m.Status(ctx)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if f.output == "json" {
					enc := json.NewEncoder(out)
					enc.SetIndent("", "  ")
					return enc.Encode(st)
				}
				printMigrateStatus(out, st)
				return nil
			})
		},
	}
	return cmd
}

func printMigrateStatus(out io.Writer, st *migrate.Status) {
	s := st.State
	fmt.Fprintf(out, "migration %s (%s, schema %s): %s", s.Name, s.Mode, s.DB, s.Phase)
	if s.Message != "" && s.Message != s.Phase {
		fmt.Fprintf(out, " — %s", s.Message)
	}
	fmt.Fprintln(out)
	if s.Version != 0 {
		fmt.Fprintf(out, "layout version %d", s.Version)
		if s.Pause > 0 {
			fmt.Fprintf(out, ", writes held %s", s.Pause.Round(time.Millisecond))
		}
		fmt.Fprintln(out)
	}
	for _, t := range st.Tables {
		frac := 1.0
		if t.Estimate > 0 && !t.Done {
			frac = min(1, float64(t.Rows)/float64(t.Estimate))
		}
		bar := strings.Repeat("#", int(frac*20)) + strings.Repeat("-", 20-int(frac*20))
		fmt.Fprintf(out, "  %-24s from %-6s [%s] %3.0f%%  %d/%d rows\n", t.Table, t.Source, bar, 100*frac, t.Rows, t.Estimate)
	}
	for _, c := range st.CatchUp {
		behind := "in another binlog file"
		if c.BytesBehind >= 0 {
			behind = fmt.Sprintf("%d bytes behind", c.BytesBehind)
		}
		fmt.Fprintf(out, "  catch-up of %-6s applied to %s, source at %s: %s\n", c.Source, c.AppliedAt, c.At, behind)
	}
	admins := make([]string, 0, len(st.Instances))
	for a := range st.Instances {
		admins = append(admins, a)
	}
	slices.Sort(admins)
	for _, a := range admins {
		l := st.Instances[a]
		held := ""
		if l.Hold != nil {
			held = fmt.Sprintf(", holding writes to %s until %s", strings.Join(l.Hold.Tables, ","), l.Hold.Until.Format(time.TimeOnly))
		}
		fmt.Fprintf(out, "  Courier %s: layout version %d%s\n", a, l.Version, held)
	}
}

// planJSON is migrate plan --output json.
type planJSON struct {
	Tables   []planTable `json:"tables"`
	Ready    bool        `json:"ready"`
	Problems []string    `json:"problems"`
}

type planTable struct {
	Table    string   `json:"table"`
	Sources  []string `json:"sources"`
	Targets  []string `json:"targets"`
	Estimate int64    `json:"rows"`
}

func migrateVerifyCmd(f *migrateFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Compare the sources' rows with the targets', row by row where checksums differ",
		Long: "Reads the primaries: the result means zero lost rows while writes to the tables\n" +
			"are held or stopped; after the switch the sources no longer receive writes.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.resume(cmd, func(ctx context.Context, m *migrate.Migration) error {
				if err := m.Plan.Check(ctx, true); err != nil {
					return err
				}
				reps, err := m.Plan.Verify(ctx, f.opt.Chunk, f.opt.Progress)
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				var diffs int64
				for _, r := range reps {
					diffs += r.Differences
				}
				if f.output == "json" {
					if err := json.NewEncoder(out).Encode(reps); err != nil {
						return err
					}
					if diffs > 0 {
						return &findingsError{fmt.Sprintf("%d differences", diffs)}
					}
					return nil
				}
				for _, r := range reps {
					fmt.Fprintf(out, "%-24s on %-6s %d source rows, %d target rows, %d differences\n", r.Table, r.Target, r.SourceRows, r.TargetRows, r.Differences)
					for _, d := range r.Samples {
						fmt.Fprintf(out, "    key %s: %s\n", d.Key, d.What)
					}
				}
				if diffs > 0 {
					return &findingsError{fmt.Sprintf("%d differences", diffs)}
				}
				return nil
			})
		},
	}
	return cmd
}

func migrateEndCmd(f *migrateFlags, use, short string, fn func(context.Context, *migrate.Migration) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.resume(cmd, func(ctx context.Context, m *migrate.Migration) error {
				return f.result(cmd, m, fn(ctx, m))
			})
		},
	}
	if use == "reverse" || use == "switch" {
		cmd.Flags().DurationVar(&f.opt.Pause, "pause", 30*time.Second, "longest the writes may be held (at most 1m)")
	}
	if use == "switch" {
		cmd.Flags().DurationVar(&f.opt.Drain, "drain", 5*time.Second, "longest wait for the statements and transactions in flight")
	}
	return cmd
}

// migrateProgress prints a copy's or verification's progress at most
// once a second: rows per source, rate and, for a copy, the time left.
type migrateProgress struct {
	mu    sync.Mutex
	w     io.Writer
	last  time.Time
	seen  map[string]migrate.Progress
	first map[string]time.Time // when each table and source was first reported
}

func newMigrateProgress(w io.Writer) *migrateProgress {
	return &migrateProgress{w: w, seen: map[string]migrate.Progress{}, first: map[string]time.Time{}}
}

func (p *migrateProgress) report(pr migrate.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := pr.Phase + " " + pr.Table + " from " + pr.Cluster
	p.seen[k] = pr
	if _, ok := p.first[k]; !ok {
		p.first[k] = time.Now()
	}
	if pr.Done || time.Since(p.last) >= time.Second {
		p.print()
	}
}

func (p *migrateProgress) print() {
	p.last = time.Now()
	keys := make([]string, 0, len(p.seen))
	for k := range p.seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		pr := p.seen[k]
		secs := max(time.Since(p.first[k]).Seconds(), 0.001)
		line := fmt.Sprintf("%-40s %8d rows", k, pr.Rows)
		if pr.Total > 0 {
			line += fmt.Sprintf(" of ~%d", pr.Total)
		}
		rate := float64(pr.Rows) / secs
		line += fmt.Sprintf("  %.0f rows/s", rate)
		switch {
		case pr.Done:
			line += "  done"
		case pr.Total > pr.Rows && rate > 0:
			line += fmt.Sprintf("  ETA %s", time.Duration(float64(pr.Total-pr.Rows)/rate*float64(time.Second)).Round(time.Second))
		}
		fmt.Fprintln(p.w, line)
	}
	p.seen = map[string]migrate.Progress{}
}

func (p *migrateProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.seen) > 0 {
		p.print()
	}
}
