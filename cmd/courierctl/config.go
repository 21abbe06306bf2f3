package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/courier-proxy/courier/config"
)

// newConfigCmd returns "courierctl config", which works with Courier's
// configuration file.
func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Work with Courier configuration files",
	}
	cmd.AddCommand(newConfigCheckCmd())
	return cmd
}

// newConfigCheckCmd returns "courierctl config check FILE". It loads FILE
// exactly as the proxy would and prints either a one-line summary or every
// problem, one per line, returning an error in the latter case so the
// process exits non-zero.
func newConfigCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check FILE",
		Short: "Validate a configuration file and list every problem in it",
		Example: "  courierctl config check /etc/courier/courier.yaml\n" +
			"  courierctl config check testdata/courier.example.yaml",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SilenceUsage = true // the arguments were fine; the file is not
			path := args[0]
			c, err := config.Load(path)
			if err != nil {
				problems := []error{err}
				if j, ok := err.(interface{ Unwrap() []error }); ok {
					problems = j.Unwrap()
				}
				for _, p := range problems {
					fmt.Fprintln(cmd.ErrOrStderr(), p)
				}
				return fmt.Errorf("%s: %d problem(s) found", path, len(problems))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%d clusters, %d users)\n", path, len(c.Clusters), len(c.Users))
			return nil
		},
	}
}
