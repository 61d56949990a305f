package fix

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
	"github.com/tollgate-dev/tollgate/internal/sharedtest"
)

// corpus returns every Dockerfile of the shared corpus and of the
// repository, by path.
func corpus(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	add := func(root string, keep func(path string) bool) {
		err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() {
				if e.Name() == ".git" {
					return filepath.SkipDir
				}
				return nil
			}
			if keep(p) {
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				out[p] = b
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	add("../../..", func(p string) bool { return strings.Contains(filepath.Base(p), "Dockerfile") })
	add(sharedtest.Data(t, "dockerfiles"), func(p string) bool { return !strings.HasSuffix(p, ".md") })
	return out
}

// countRuns counts RUN instructions.
func countRuns(f *dockerfile.File) int {
	n := 0
	for _, in := range f.Instructions {
		if in.Kind == dockerfile.KindRun {
			n++
		}
	}
	return n
}

// nonRun lists the instructions other than RUN, as written, without the
// USER lines the user fix adds.
func nonRun(f *dockerfile.File) []dockerfile.Kind {
	var out []dockerfile.Kind
	for _, in := range f.Instructions {
		if in.Kind != dockerfile.KindRun && in.Kind != dockerfile.KindUser {
			out = append(out, in.Kind)
		}
	}
	return out
}

func lintCounts(src []byte) map[string]int {
	res := dockerfile.NewLinter(dockerfile.DefaultConfig()).Lint("x", src)
	out := map[string]int{}
	for _, f := range res.Findings {
		out[f.Rule]++
	}
	return out
}

// TestCorpusProperties checks fix's promises over every Dockerfile of the
// shared corpus and of the repository.
func TestCorpusProperties(t *testing.T) {
	files := corpus(t)
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	sharedDir := sharedtest.Data(t, "dockerfiles")
	fixed, nShared := 0, 0
	var runsBefore, runsAfter int
	before, after := map[string]int{}, map[string]int{}
	for _, name := range names {
		src := files[name]
		t.Run(filepath.Base(filepath.Dir(name))+"/"+filepath.Base(name), func(t *testing.T) {
			in, err := dockerfile.Parse(name, src)
			if err != nil {
				t.Skipf("input does not parse: %v", err)
			}
			res, err := Fix(name, src, Options{})
			if err != nil {
				t.Fatal(err)
			}
			out, err := dockerfile.Parse(name, res.Output)
			if err != nil {
				t.Fatalf("output does not parse: %v\n%s", err, res.Output)
			}
			again, err := Fix(name, res.Output, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if string(again.Output) != string(res.Output) {
				t.Errorf("not a fixed point:\n--- first\n%s\n--- second\n%s", res.Output, again.Output)
			}
			if res.Changed() != (string(res.Output) != string(src)) || res.Changed() != (len(res.Applied) > 0) {
				t.Errorf("Changed() = %v with %d changes listed, output differs: %v", res.Changed(), len(res.Applied), string(res.Output) != string(src))
			}
			if !strings.HasPrefix(name, sharedDir) {
				return // the figures are the shared corpus's
			}
			nShared++
			if res.Changed() {
				fixed++
			}
			runsBefore += countRuns(in)
			runsAfter += countRuns(out)
			for r, n := range lintCounts(src) {
				before[r] += n
			}
			for r, n := range lintCounts(res.Output) {
				after[r] += n
			}
			// TG103 is opt-in: count what it leaves when asked for.
			if withDebug, err := Fix(name, src, Options{Rules: []string{"TG103"}}); err == nil {
				after["TG103 (with --rules TG103)"] += lintCounts(withDebug.Output)["TG103"]
			}
			if !slices.Equal(nonRun(in), nonRun(out)) {
				t.Errorf("non-RUN instructions changed order: %v -> %v", nonRun(in), nonRun(out))
			}
			if before, after := countRuns(in), countRuns(out); after > before && !(after == before+1 && addedUserRun(res)) {
				t.Errorf("RUN count grew from %d to %d", before, after)
			}
			for _, rule := range residual(t, res.Output) {
				t.Errorf("a finding the fixes address remains: %s", rule)
			}
		})
	}
	t.Logf("shared corpus: %d of %d files changed; RUN instructions %d before, %d after", fixed, nShared, runsBefore, runsAfter)
	var rows []string
	for _, r := range Rules() {
		rows = append(rows, fmt.Sprintf("| %s | %d | %d |", r.ID, before[r.ID], after[r.ID]))
		if r.ID == "TG103" {
			rows = append(rows, fmt.Sprintf("| TG103 with --rules TG103 | %d | %d |", before[r.ID], after["TG103 (with --rules TG103)"]))
		}
	}
	t.Logf("findings over the corpus, default fixes:\n| rule | before | after |\n|---|---|---|\n%s", strings.Join(rows, "\n"))
}

func addedUserRun(r *Result) bool {
	return slices.ContainsFunc(r.Applied, func(n Note) bool { return n.Rule == "TG105" && strings.Contains(n.Message, "created user") })
}

// residual returns the findings of the default fixes left in a fixed file,
// except those the fixes leave on purpose, each checked here on its own:
// a RUN fix does not edit (exec form, heredoc, a pragma above it, non-POSIX
// shell), and TG106 for chmod.
func residual(t *testing.T, src []byte) []string {
	t.Helper()
	f, err := dockerfile.Parse("x", src)
	if err != nil {
		t.Fatal(err)
	}
	d := newDoc(src, f)
	res := dockerfile.NewLinter(dockerfile.DefaultConfig()).Lint("x", src)
	sel, _ := selection(nil)
	var out []string
	for _, fd := range res.Findings {
		if !sel[fd.Rule] || fd.Rule == "DL3006" || fd.Rule == "DL3007" || fd.Rule == "TG104" {
			continue // reported, never changed without --base
		}
		idx := slices.IndexFunc(f.Instructions, func(in *dockerfile.Instruction) bool { return in.Line == fd.Line })
		if idx < 0 {
			out = append(out, fd.Rule+": "+fd.Message)
			continue
		}
		in := f.Instructions[idx]
		if why := leftOnPurpose(d, idx, fd); why != "" {
			t.Logf("left: %s line %d (%s): %s", fd.Rule, fd.Line, why, strings.SplitN(d.text(in), "\n", 2)[0])
			continue
		}
		out = append(out, fmt.Sprintf("%s line %d: ", fd.Rule, fd.Line)+fd.Message+"\n"+d.text(in))
	}
	return out
}

// leftOnPurpose says why a finding may stay, or "".
func leftOnPurpose(d *doc, idx int, fd dockerfile.Finding) string {
	in := d.file.Instructions[idx]
	editable := func(i int) bool { _, ok := d.shellRunAt(i); return ok }
	editableHeredoc := func(i int) bool { _, ok := d.editableRun(i); return ok }
	switch fd.Rule {
	case "TG101", "DL3059":
		prev := idx - 1
		for prev >= 0 && passThrough(d.file.Instructions[prev].Kind) {
			prev--
		}
		if !editable(idx) || prev < 0 || !editable(prev) {
			return "a RUN fix does not edit"
		}
		if runFlags(d.file.Instructions[prev]) != runFlags(in) {
			return "different flags"
		}
	case "TG106":
		if strings.Contains(fd.Message, "chmod") {
			return "chmod has no safe COPY --chmod equivalent for every builder"
		}
		if !ownerMadeBefore(d, fd.Message) {
			return "the owner does not exist yet at the COPY"
		}
	case "DL3025":
		text := in.Text()
		if in.Kind == dockerfile.KindHealthcheck && len(in.Args) == 2 {
			text = in.Args[1]
		}
		if in.Kind == dockerfile.KindEntrypoint && stageHasCmd(d.file, idx) {
			return "ENTRYPOINT with a CMD: exec form would pass CMD to it"
		}
		if _, ok := plainCommand(text); !ok {
			return "the command needs a shell"
		}
	case "TG105":
		if strings.Contains(fd.Message, "(USER") {
			return "USER root set on purpose"
		}
	}
	if in.Kind == dockerfile.KindRun && !editableHeredoc(idx) {
		return "a RUN fix does not edit"
	}
	return ""
}

// ownerMadeBefore reads a TG106 message ("RUN chown -R OWNER … COPY added
// at line N") and reports whether OWNER's user is numeric or created by a
// RUN before line N.
func ownerMadeBefore(d *doc, msg string) bool {
	f := strings.Fields(msg)
	if len(f) < 4 {
		return false
	}
	user, _, _ := strings.Cut(f[3], ":")
	if strings.Trim(user, "0123456789") == "" {
		return true
	}
	_, rest, _ := strings.Cut(msg, "added at line ")
	n := 0
	for _, c := range rest {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	for _, in := range d.file.Instructions {
		if in.Line >= n {
			break
		}
		for _, c := range in.Commands() {
			if (c.Name == "useradd" || c.Name == "adduser") && slices.Contains(c.Args, user) {
				return true
			}
		}
	}
	return false
}
