package kube

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/sharedtest"
)

// differencesDoc lists the documents where tollgate deliberately scores
// differently from kubesec v2.14.2, each with its reason.
const differencesDoc = "../../docs/kubesec-differences.md"

// kubesecReport is the part of a kubesec report the parity test compares.
type kubesecReport struct {
	Object  string `json:"object"`
	Valid   bool   `json:"valid"`
	Message string `json:"message"`
	Score   int    `json:"score"`
	Scoring struct {
		Critical []kubesecRule `json:"critical"`
		Passed   []kubesecRule `json:"passed"`
		Advise   []kubesecRule `json:"advise"`
	} `json:"scoring"`
}

type kubesecRule struct {
	ID       string `json:"id"`
	Selector string `json:"selector"`
	Points   int    `json:"points"`
}

// TestKubesecParity scores the shared corpus and compares every document
// kubesec v2.14.2 scored (valid, a kind it supports, not its phantom
// "Unknown" report for comment-only documents) with tollgate's report for
// the same file and object: same score, same rule IDs in the same order in
// critical, passed and advise. Every difference must be listed, with its
// reason, in docs/kubesec-differences.md; a listed difference that no
// longer occurs fails the test too.
func TestKubesecParity(t *testing.T) {
	manifests := sharedtest.Data(t, "manifests")
	outDir := sharedtest.Data(t, "kubesec-out")
	listed := readListedDifferences(t)

	s, err := NewScanner(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var compared, same int
	seen := map[string]bool{}
	kubesecRules := map[string]kubesecRule{}
	err = filepath.WalkDir(outDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		rel, _ := filepath.Rel(outDir, path)
		rel = strings.TrimSuffix(filepath.ToSlash(rel), ".json")
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var want []kubesecReport
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Errorf("%s: kubesec output: %v", rel, err)
			return nil
		}
		data, err := os.ReadFile(filepath.Join(manifests, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		got := s.Scan(data, rel)
		used := map[string]int{} // object -> reports of ours consumed
		for _, w := range want {
			if !w.Valid || w.Object == "Unknown" || strings.Contains(w.Message, "not supported") {
				continue
			}
			for _, l := range [][]kubesecRule{w.Scoring.Critical, w.Scoring.Passed, w.Scoring.Advise} {
				for _, r := range l {
					kubesecRules[r.ID] = r
				}
			}
			compared++
			key := rel + " " + w.Object
			diff := compareReport(w, nthObject(got, w.Object, used[w.Object]))
			used[w.Object]++
			switch {
			case diff == "" && listed[key] != "":
				t.Errorf("%s: listed in %s but tollgate now agrees with kubesec; remove it", key, filepath.Base(differencesDoc))
			case diff == "":
				same++
			case listed[key] == "":
				t.Errorf("%s: unlisted difference from kubesec: %s", key, diff)
			default:
				seen[key] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for key := range listed {
		if !seen[key] {
			t.Errorf("%s: listed in %s but not a compared document with a difference", key, filepath.Base(differencesDoc))
		}
	}
	if compared == 0 {
		t.Fatal("no document compared: is the shared corpus empty?")
	}
	// Every rule kubesec reported has our ID, selector and points.
	ours := map[string]Rule{}
	for _, r := range Rules() {
		ours[r.ID] = r
	}
	for id, k := range kubesecRules {
		r, ok := ours[id]
		switch {
		case !ok:
			t.Errorf("kubesec rule %s: unknown to tollgate", id)
		case r.Extended || r.Selector != k.Selector || r.Points != k.Points:
			t.Errorf("rule %s: tollgate selector %q points %d extended %v; kubesec %q %d", id, r.Selector, r.Points, r.Extended, k.Selector, k.Points)
		}
	}
	t.Logf("%d of kubesec's 26 rules appear in the corpus; their selectors and points match", len(kubesecRules))
	t.Logf("kubesec parity: %d of %d scored documents identical (%.1f%%); %d differ, each listed with its reason in %s",
		same, compared, 100*float64(same)/float64(compared), len(seen), filepath.Base(differencesDoc))
}

// nthObject returns our n-th valid report for object, or nil.
func nthObject(got []Report, object string, n int) *Report {
	for i := range got {
		if got[i].Object == object {
			if n == 0 {
				return &got[i]
			}
			n--
		}
	}
	return nil
}

func compareReport(w kubesecReport, g *Report) string {
	if g == nil {
		return "no tollgate report for this object"
	}
	if !g.Valid {
		return "tollgate: invalid: " + g.Message
	}
	var diffs []string
	if g.Score != w.Score {
		diffs = append(diffs, fmt.Sprintf("score %d, kubesec %d", g.Score, w.Score))
	}
	ids := func(rs []RuleResult) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.ID
		}
		return out
	}
	if g.Message != w.Message {
		diffs = append(diffs, fmt.Sprintf("message %q, kubesec %q", g.Message, w.Message))
	}
	wids := func(rs []kubesecRule) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.ID
		}
		return out
	}
	for _, l := range []struct {
		name      string
		got, want []string
	}{
		{"critical", ids(g.Scoring.Critical), wids(w.Scoring.Critical)},
		{"passed", ids(g.Scoring.Passed), wids(w.Scoring.Passed)},
		{"advise", ids(g.Scoring.Advise), wids(w.Scoring.Advise)},
	} {
		if !slices.Equal(l.got, l.want) {
			diffs = append(diffs, fmt.Sprintf("%s %v, kubesec %v", l.name, l.got, l.want))
		}
	}
	return strings.Join(diffs, "; ")
}

// differencesHeading starts the section of docs/kubesec-differences.md
// holding the table of corpus documents that differ.
const differencesHeading = "## Documents of the shared corpus that score differently"

// readListedDifferences reads the rows "| `file` | `object` | reason |" of
// the table under differencesHeading, keyed "file object".
func readListedDifferences(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(differencesDoc)
	if err != nil {
		t.Fatalf("reading the list of differences: %v", err)
	}
	defer f.Close()
	listed := map[string]string{}
	sc := bufio.NewScanner(f)
	inSection := false
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "## ") {
			inSection = sc.Text() == differencesHeading
		}
		if !inSection {
			continue
		}
		cells := strings.Split(sc.Text(), "|")
		if len(cells) < 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		file := strings.Trim(strings.TrimSpace(cells[1]), "`")
		object := strings.Trim(strings.TrimSpace(cells[2]), "`")
		reason := strings.TrimSpace(cells[3])
		if reason == "" {
			t.Errorf("%s: difference %s %s has no reason", differencesDoc, file, object)
		}
		listed[file+" "+object] = reason
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(listed) == 0 {
		t.Fatalf("%s: no table under %q", differencesDoc, differencesHeading)
	}
	return listed
}
