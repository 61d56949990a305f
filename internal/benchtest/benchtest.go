// Package benchtest helps benchmarks report figures that hold while other
// jobs share the machine.
package benchtest

import (
	"syscall"
	"testing"
	"time"
)

// CPUTime is the user and system CPU time the process has used (from
// getrusage). The difference over a benchmark loop, divided by the work
// done, is the one-core throughput even on a loaded machine.
func CPUTime(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
