package cli

import (
	"bufio"
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
		bw := bufio.NewWriterSize(stdout, 64<<10)
		if err := write(bw); err != nil {
			bw.Flush() // what was written before the error still shows
			return err
		}
		return bw.Flush()
	}
	return outfile.Run(path, write)
}
