package dockerfile

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/sharedtest"
)

// BenchmarkLintCorpus lints the shared corpus (207 real Dockerfiles) in
// process: parse, shell parse of every RUN, every default rule, pragmas.
// It reports Dockerfiles per second of wall time (files/s) and per second of
// CPU time used by the process (files/cpu-s); run it on one core with
// -cpu 1. The second figure is the one-core throughput even when other
// processes compete for the machine.
func BenchmarkLintCorpus(b *testing.B) {
	root := sharedtest.Data(b, "dockerfiles")
	type file struct {
		name string
		src  []byte
	}
	var files []file
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "SOURCES.md" {
			return err
		}
		src, err := os.ReadFile(p)
		files = append(files, file{p, src})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	l := NewLinter(DefaultConfig())
	n := 0
	cpu0 := cpuTime(b)
	for b.Loop() {
		for _, f := range files {
			l.Lint(f.name, f.src)
			n++
		}
	}
	cpu := cpuTime(b) - cpu0
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "files/s")
	if cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), "files/cpu-s")
	}
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLintManyStages lints one large Dockerfile of 5,000 chained
// stages, with a stage pragma and a label schema: the rules that relate
// stages to each other must stay linear in the number of stages.
func BenchmarkLintManyStages(b *testing.B) {
	var src []byte
	src = append(src, "# hadolint stage ignore=DL3003\nFROM a:1 AS s0\n"...)
	for i := 1; i < 5000; i++ {
		src = fmt.Appendf(src, "FROM s%d AS s%d\nRUN cd /x && echo $(ls | wc -l)\nLABEL a=b\n", i-1, i)
	}
	cfg := DefaultConfig()
	cfg.LabelSchema = map[string]LabelType{"a": LabelText}
	cfg.Override.Info = []string{"DL3057"}
	l := NewLinter(cfg)
	for b.Loop() {
		if res := l.Lint("Dockerfile", src); res.ParseError != nil {
			b.Fatal(res.ParseError)
		}
	}
}
