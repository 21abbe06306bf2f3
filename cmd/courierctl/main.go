// Command courierctl is Courier's admin CLI: configuration checks, local
// MariaDB clusters for development and tests, the demo's sample data, the
// status of a running Courier, and global index tables (create, backfill,
// verify, repair).
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "courierctl:", err)
		os.Exit(exitCode(err))
	}
}

// newRootCmd returns the courierctl command with all its subcommands.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "courierctl",
		Short:         "Administer Courier, the MySQL sharding proxy",
		SilenceErrors: true,
	}
	root.AddCommand(newConfigCmd(), newLocalCmd(), newStatusCmd(), newIndexCmd(), newMigrateCmd(), newDemoCmd(),
		newTopCmd(), newReadOnlyCmd(), newReloadCmd(), newClassesCmd(), newReplicaCmd(), newHealthCmd())
	return root
}

// exitCode is 1 for an error, or the code the error carries (see
// exitFindings).
func exitCode(err error) int {
	var c interface{ ExitCode() int }
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	return 1
}
