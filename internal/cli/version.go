package cli

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/buildinfo"
)

func newVersionCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print tollgate's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "tollgate %s %s/%s %s\n", buildinfo.Version(), runtime.GOOS, runtime.GOARCH, runtime.Version())
			return nil
		},
	}
}
