package cli

import (
	"io"

	"github.com/tollgate-dev/tollgate/internal/outfile"
)

// writeReport runs a command's work, write, against its report: the -o
// file when path is set, else standard output. Every command with -o goes
// through it, so whether an earlier report survives is decided once (see
// outfile.Keeps): a run ending with findings replaces it, a usage error,
// an unreadable input or a signal leaves it as it was.
func writeReport(stdout io.Writer, path string, write func(io.Writer) error) error {
	if path == "" {
		return write(stdout)
	}
	return outfile.Run(path, write)
}
