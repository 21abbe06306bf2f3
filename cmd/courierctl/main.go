// Command courierctl is Courier's admin CLI: configuration checks, local
// MariaDB clusters for development and tests, the demo's sample data, and
// the status of a running Courier.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{
		Use:           "courierctl",
		Short:         "Administer Courier, the MySQL sharding proxy",
		SilenceErrors: true,
	}
	root.AddCommand(newConfigCmd(), newLocalCmd(), newStatusCmd(), newDemoCmd())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "courierctl:", err)
		os.Exit(1)
	}
}
