package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/courier-proxy/courier/config"
	"github.com/courier-proxy/courier/globalindex"
)

// exitFindings is the exit status of "index verify" when it finds missing
// or orphan entries, and of "index backfill" and "index repair" when rows
// of a unique index conflict. Failures to run exit with 1.
const exitFindings = 2

// findingsError is returned when a command ran but found problems in the
// index; main exits with its code.
type findingsError struct{ msg string }

func (e *findingsError) Error() string { return e.msg }
func (e *findingsError) ExitCode() int { return exitFindings }

// indexFlags are the flags every "index" subcommand takes.
type indexFlags struct {
	config, schema, table, column string
	output                        string
	opt                           globalindex.Options
}

// newIndexCmd returns "courierctl index", which builds, checks and
// repairs global index tables (package globalindex).
func newIndexCmd() *cobra.Command {
	var f indexFlags
	cmd := &cobra.Command{
		Use:   "index",
		Short: "Create, backfill, verify and repair global index tables",
		Long: "Works on one global index of the configuration (--table, --column), talking to\n" +
			"the primaries of the configured clusters directly, while Courier serves traffic.\n" +
			"Exit status: 0 when all is well, 2 when verify finds missing or orphan entries or\n" +
			"a unique index has rows sharing a value, 1 when the command could not run.",
	}
	p := cmd.PersistentFlags()
	p.StringVar(&f.config, "config", "", "Courier configuration file (required)")
	p.StringVar(&f.schema, "schema", "", "MySQL schema (database) holding the tables on every cluster (required)")
	p.StringVar(&f.table, "table", "", "the sharded table, e.g. orders (required)")
	p.StringVar(&f.column, "column", "", "the indexed column, e.g. user_id (required)")
	p.IntVar(&f.opt.Chunk, "chunk", globalindex.DefaultChunk, "rows (or entries) read per query")
	p.IntVar(&f.opt.Batch, "batch", globalindex.DefaultBatch, "values per lookup IN list, INSERT or DELETE")
	p.IntVar(&f.opt.Samples, "samples", globalindex.DefaultSamples, "examples shown of each problem")
	p.StringVar(&f.output, "output", "text", "text or json: the command's result as one JSON document on stdout")
	for _, name := range []string{"config", "schema", "table", "column"} {
		_ = cmd.MarkPersistentFlagRequired(name)
	}
	cmd.AddCommand(indexCreateCmd(&f), indexBackfillCmd(&f), indexVerifyCmd(&f), indexRepairCmd(&f))
	return cmd
}

// run opens the index and runs fn with a context cancelled by SIGINT or
// SIGTERM.
func (f *indexFlags) run(cmd *cobra.Command, fn func(ctx context.Context, x *globalindex.Index) error) error {
	cmd.SilenceUsage = true
	cfg, err := config.Load(f.config)
	if err != nil {
		return err
	}
	x, err := globalindex.Open(cfg, f.schema, f.table, f.column)
	if err != nil {
		return err
	}
	defer x.Close()
	ctx, stop := signalContext(cmd)
	defer stop()
	return fn(ctx, x)
}

func indexCreateCmd(f *indexFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "create",
		Short: "Create the index table where it is missing, typed like the source columns",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd, func(ctx context.Context, x *globalindex.Index) error {
				ddl, err := x.CreateStatement(ctx)
				if err != nil {
					return err
				}
				created, err := x.Create(ctx)
				out := cmd.OutOrStdout()
				if f.output == "json" {
					doc := map[string]any{"index": x.Name(), "ddl": ddl, "clusters": map[string]string{}}
					for _, c := range x.IndexClusters() {
						state := "exists"
						if slices.Contains(created, c) {
							state = "created"
						}
						doc["clusters"].(map[string]string)[c] = state
					}
					if jerr := json.NewEncoder(out).Encode(doc); jerr != nil {
						return jerr
					}
					return err
				}
				fmt.Fprintf(out, "%s\n%s\n", x.Name(), ddl)
				for _, c := range x.IndexClusters() {
					state := "exists"
					if slices.Contains(created, c) {
						state = "created"
					}
					fmt.Fprintf(out, "  %s: %s\n", c, state)
				}
				return err
			})
		},
	}
}

func indexBackfillCmd(f *indexFlags) *cobra.Command {
	var rate float64
	cmd := &cobra.Command{
		Use:   "backfill",
		Short: "Write an entry for every existing row, online, resumable",
		Long: "Reads each data cluster in chunks of --chunk rows in key order, at most --rate\n" +
			"rows a second in all, and writes the entries with INSERT IGNORE, safe while Courier\n" +
			"serves writes. Progress is checkpointed per data cluster in the table\n" +
			config.IndexProgressTable + " on default_cluster: a stopped run (Ctrl-C, error)\n" +
			"continues where it stopped when run again; --restart starts over.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd, func(ctx context.Context, x *globalindex.Index) error {
				opt := f.opt
				opt.Rate = rate
				pr := newProgressPrinter(cmd.ErrOrStderr(), "backfill "+x.Name())
				opt.Progress = pr.report
				res, err := x.Backfill(ctx, opt)
				pr.finish()
				if res != nil && f.output == "json" {
					if jerr := json.NewEncoder(cmd.OutOrStdout()).Encode(res); jerr != nil {
						return jerr
					}
					if err == nil && res.Conflicts > 0 {
						err = &findingsError{fmt.Sprintf("%d rows share a unique value with another row", res.Conflicts)}
					}
				} else if res != nil {
					out := cmd.OutOrStdout()
					fmt.Fprintf(out, "%s: read %d rows, %d with a value, %d entries written\n", x.Name(), res.Rows, res.Entries, res.Inserted)
					if len(res.Finished) > 0 {
						fmt.Fprintf(out, "already done by an earlier run: %s (--restart to read them again)\n", strings.Join(res.Finished, ", "))
					}
					if err == nil && res.Conflicts > 0 {
						printConflicts(out, x, res.Conflicts, res.ConflictSamples)
						err = &findingsError{fmt.Sprintf("%d rows share a unique value with another row", res.Conflicts)}
					}
				}
				if errors.Is(err, context.Canceled) {
					return errors.New("stopped; run the same command again to resume")
				}
				return err
			})
		},
	}
	cmd.Flags().Float64Var(&rate, "rate", 10000, "rows read per second over all shards; 0 for no limit")
	cmd.Flags().BoolVar(&f.opt.Restart, "restart", false, "forget the checkpoints and read every row again")
	return cmd
}

func indexVerifyCmd(f *indexFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Report missing and orphan entries; exit 2 if there are any",
		Long: "A missing entry is a row with a value but no entry pointing at its key; an orphan\n" +
			"is an entry whose key has no row, or whose row holds another value, or that sits\n" +
			"on an index shard lookups never read. Orphans are harmless to queries (Courier\n" +
			"checks the rows) and may be writes in flight; missing entries hide rows from\n" +
			"queries by the column. Exit status 2 when anything is found.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd, func(ctx context.Context, x *globalindex.Index) error {
				opt := f.opt
				pr := newProgressPrinter(cmd.ErrOrStderr(), "verify "+x.Name())
				opt.Progress = pr.report
				rep, err := x.Verify(ctx, opt)
				pr.finish()
				if err != nil {
					return err
				}
				if f.output == "json" {
					if err := json.NewEncoder(cmd.OutOrStdout()).Encode(rep); err != nil {
						return err
					}
				} else {
					printReport(cmd.OutOrStdout(), x, rep)
				}
				if !rep.Clean() {
					return &findingsError{fmt.Sprintf("%d missing, %d orphan entries", rep.Missing, rep.Orphans)}
				}
				return nil
			})
		},
	}
}

func indexRepairCmd(f *indexFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "repair",
		Short: "Add missing entries and delete orphans seen twice, --grace apart",
		Long: "Adds missing entries at once. An entry that looks orphaned may be a write in\n" +
			"flight (Courier writes the entry before the row commits), so orphans are deleted\n" +
			"only when still orphaned --grace after they were first seen, their rows re-read\n" +
			"right before the delete. A write transaction open longer than --grace would lose\n" +
			"its entry: keep --grace above your longest write transaction.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd, func(ctx context.Context, x *globalindex.Index) error {
				opt := f.opt
				pr := newProgressPrinter(cmd.ErrOrStderr(), "repair "+x.Name())
				opt.Progress = pr.report
				res, err := x.Repair(ctx, opt)
				pr.finish()
				if res == nil {
					return err
				}
				out := cmd.OutOrStdout()
				if f.output == "json" {
					if err := json.NewEncoder(out).Encode(res); err != nil {
						return err
					}
					if err == nil && res.Conflicts > 0 {
						err = &findingsError{fmt.Sprintf("%d rows share a unique value with another row", res.Conflicts)}
					}
					return err
				}
				printReport(out, x, &res.Report)
				fmt.Fprintf(out, "added %d missing entries; deleted %d orphans, kept %d that had their row by the second look\n",
					res.Added, res.Deleted, res.Kept)
				if err == nil && res.Conflicts > 0 {
					printConflicts(out, x, res.Conflicts, res.ConflictSamples)
					err = &findingsError{fmt.Sprintf("%d rows share a unique value with another row", res.Conflicts)}
				}
				return err
			})
		},
	}
	cmd.Flags().DurationVar(&f.opt.Grace, "grace", globalindex.DefaultGrace, "wait between the two looks at an orphan")
	return cmd
}

func printReport(w io.Writer, x *globalindex.Index, r *globalindex.Report) {
	ix := x.Layout()
	fmt.Fprintf(w, "%s: %d rows, %d entries\n", x.Name(), r.Rows, r.Entries)
	fmt.Fprintf(w, "missing entries: %d\n", r.Missing)
	for _, e := range r.MissingSamples {
		fmt.Fprintf(w, "  %s=%s %s=%s\n", ix.Column, e.Value, ix.Key, e.Key)
	}
	fmt.Fprintf(w, "orphan entries: %d\n", r.Orphans)
	for _, e := range r.OrphanSamples {
		fmt.Fprintf(w, "  %s=%s %s=%s\n", ix.Column, e.Value, ix.Key, e.Key)
	}
}

func printConflicts(w io.Writer, x *globalindex.Index, n int64, cs []globalindex.Conflict) {
	ix := x.Layout()
	fmt.Fprintf(w, "unique conflicts: %d rows whose %s already has an entry for another row\n", n, ix.Column)
	for _, c := range cs {
		fmt.Fprintf(w, "  %s=%s %s=%s (entry points at %s=%s)\n", ix.Column, c.Value, ix.Key, c.Key, ix.Key, c.Existing)
	}
}

// progressPrinter shows progress on one stderr line per second at most:
// rows read per cluster, the total and the rate since the start.
type progressPrinter struct {
	mu    sync.Mutex
	w     io.Writer
	title string
	start time.Time
	last  time.Time
	phase string
	rows  map[string]int64
}

func newProgressPrinter(w io.Writer, title string) *progressPrinter {
	now := time.Now()
	return &progressPrinter{w: w, title: title, start: now, last: now, rows: map[string]int64{}}
}

func (p *progressPrinter) report(pr globalindex.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pr.Phase != p.phase {
		if p.phase != "" {
			p.print()
		}
		p.phase, p.rows, p.start = pr.Phase, map[string]int64{}, time.Now()
		if pr.Phase == "grace" {
			fmt.Fprintf(p.w, "%s: waiting before the second look at orphans\n", p.title)
			return
		}
	}
	if pr.Cluster != "" {
		p.rows[pr.Cluster] = pr.Rows
	}
	if time.Since(p.last) >= time.Second {
		p.print()
	}
}

func (p *progressPrinter) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.phase != "" && p.phase != "grace" {
		p.print()
	}
}

func (p *progressPrinter) print() {
	p.last = time.Now()
	clusters := make([]string, 0, len(p.rows))
	var total int64
	for c, n := range p.rows {
		clusters = append(clusters, c)
		total += n
	}
	slices.Sort(clusters)
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", p.title, p.phase)
	for _, c := range clusters {
		fmt.Fprintf(&b, " %s=%d", c, p.rows[c])
	}
	rate := float64(total) / max(time.Since(p.start).Seconds(), 0.001)
	fmt.Fprintf(&b, " total=%d (%.0f/s)\n", total, rate)
	io.WriteString(p.w, b.String())
}
