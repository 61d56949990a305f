package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tollgate-dev/tollgate/internal/sharedtest"
)

var update = flag.Bool("update", false, "rewrite the golden files inside testdata/script/*.txtar")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"tollgate": func() { os.Exit(run()) },
	})
}

// TestScript runs the CLI end-to-end scripts under testdata/script.
// $SHARED points at ../shared/data when it is present (scripts that need it
// start with `[!shared] skip`).
func TestScript(t *testing.T) {
	shared := sharedDataDir()
	scanCmds := newScanScriptCmds(t)
	testscript.Run(t, testscript.Params{
		Dir:           filepath.Join("testdata", "script"),
		UpdateScripts: *update,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":    cmdExits,
			"vulndb":   scanCmds.vulndb,
			"registry": scanCmds.registry,
			"imagetar": scanCmds.imagetar,
		},
		// [shared] holds when the shared data directory exists; scripts
		// that need it start with `[!shared] skip 'shared data absent'`
		// (testscript conditions are single words, so `[!exists $SHARED]`
		// cannot be written).
		Condition: func(cond string) (bool, error) {
			if cond == "shared" {
				_, err := os.Stat(shared)
				return err == nil, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Setup: func(env *testscript.Env) error {
			env.Setenv("SHARED", shared)
			env.Setenv("NO_COLOR", "")
			return nil
		},
	})
}

// sharedDataDir is the shared data directory, or a path that does not
// exist when it is absent (scripts test it with `[!exists $SHARED] skip`).
func sharedDataDir() string {
	if root := sharedtest.Root(); root != "" {
		return filepath.Join(root, "data")
	}
	return filepath.Join(os.TempDir(), "tollgate-no-shared-data")
}

// cmdExits runs a command and checks its exit code: `exits 2 tollgate foo`.
// Its stdout and stderr are kept for the following stdout/stderr checks.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE COMMAND [ARG...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}
