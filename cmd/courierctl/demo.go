package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/spf13/cobra"
)

// newDemoCmd returns `courierctl demo`, which works with the demo's sample
// data (see scripts/demo.sh).
func newDemoCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Work with the demo's sample delivery data",
	}
	cmd.AddCommand(newDemoLoadCmd())
	return cmd
}

// demoLoad is what `courierctl demo load` connects to and generates.
type demoLoad struct {
	Addr, User, Password, DB string
	Seed                     uint64
	Size                     demoSize
	Batch                    int // rows per INSERT
}

func newDemoLoadCmd() *cobra.Command {
	o := demoLoad{Size: defaultDemoSize}
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Load the sample delivery data through Courier with multi-row INSERTs",
		Long: "Generates the delivery schema's rows (testdata/delivery/schema.sql must be loaded\n" +
			"first) from --seed, always the same rows for the same flags, and inserts them\n" +
			"through the server at --addr: normally Courier, which sends each order to its\n" +
			"shard, copies cities to every shard and keeps users, merchants and riders on\n" +
			"the default cluster. Every INSERT names its columns, the sharding key included,\n" +
			"and uses IGNORE, so loading twice changes nothing.",
		Example:      "  courierctl demo load --addr 127.0.0.1:3307 --user app --password app",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signalContext(cmd)
			defer stop()
			return loadDemo(ctx, o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Addr, "addr", "127.0.0.1:3307", "host:port of Courier (or of any MySQL server)")
	f.StringVar(&o.User, "user", "app", "user to log in as")
	f.StringVar(&o.Password, "password", "app", "password of --user")
	f.StringVar(&o.DB, "db", "delivery", "schema holding the delivery tables")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the generator; the same seed gives the same rows")
	f.IntVar(&o.Size.Orders, "orders", defaultDemoSize.Orders, "orders to generate (each with 1-4 lines)")
	f.IntVar(&o.Size.Users, "users", defaultDemoSize.Users, "users to generate")
	f.IntVar(&o.Batch, "batch", 500, "rows per INSERT statement")
	return cmd
}

// loadDemo inserts the generated data set through o.Addr, table by table,
// and reports the rows of each.
func loadDemo(ctx context.Context, o demoLoad, out io.Writer) error {
	if o.Batch < 1 || o.Size.Orders < 1 || o.Size.Users < 1 {
		return errors.New("--batch, --orders and --users must be at least 1")
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.DBName = o.User, o.Password, o.DB
	cfg.Net, cfg.Addr = "tcp", o.Addr
	cfg.Timeout = 5 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	db.SetMaxOpenConns(1)
	began := time.Now()
	total := 0
	for _, t := range generateDemo(o.Seed, o.Size) {
		for _, q := range t.inserts(o.Batch) {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("load %s through %s: %w", t.Name, o.Addr, err)
			}
		}
		total += len(t.Rows)
		fmt.Fprintf(out, "%-12s %6d rows\n", t.Name, len(t.Rows))
	}
	fmt.Fprintf(out, "loaded %d rows into %s through %s in %s\n", total, o.DB, o.Addr, time.Since(began).Round(time.Millisecond))
	return nil
}
