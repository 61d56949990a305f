package dockerfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/sharedtest"
)

// seedExample is the example of the notes the project started from; the
// repository ships it as examples/python-web/Dockerfile.
const seedExample = "../../examples/python-web/Dockerfile"

func findingSet(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%d:%s", f.Line, f.Rule))
	}
	return out
}

// TestSeedExample checks the findings the issue requires on the seed's
// python web Dockerfile, and the non-root rule on a variant without USER.
func TestSeedExample(t *testing.T) {
	src, err := os.ReadFile(seedExample)
	if err != nil {
		t.Fatal(err)
	}
	res := NewLinter(DefaultConfig()).Lint("Dockerfile", src)
	if res.ParseError != nil {
		t.Fatal(res.ParseError)
	}
	got := findingSet(res.Findings)
	want := []string{
		"1:DL3006", // untagged base
		"1:TG104",  // minimal base
		"3:DL3059", // RUN mkdir right after RUN useradd
		"5:TG106",  // COPY then RUN chown -R
		"6:DL3059",
		"6:DL3013", // unpinned pip
		"6:DL3042", // pip cache
		"6:TG102",  // cache cleanup
		"9:DL3025", // shell-form CMD
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing finding %s; got %v", w, got)
		}
	}
	if slices.Contains(got, "8:TG105") || slices.ContainsFunc(got, func(s string) bool { return strings.HasSuffix(s, ":TG105") }) {
		t.Errorf("TG105 reported although the image ends with USER python: %v", got)
	}
	for _, f := range res.Findings {
		if f.Rule == "TG106" && !strings.Contains(f.Message, "COPY --chown") {
			t.Errorf("TG106 message does not say to use COPY --chown: %q", f.Message)
		}
	}

	noUser := strings.Replace(string(src), "USER python\n", "", 1)
	if noUser == string(src) {
		t.Fatal("the example has no USER python line to remove")
	}
	res = NewLinter(DefaultConfig()).Lint("Dockerfile", []byte(noUser))
	if got := findingSet(res.Findings); !slices.Contains(got, "1:TG105") {
		t.Errorf("variant without USER: missing the non-root rule TG105 at the FROM line; got %v", got)
	}
}

// TestSharedCorpus lints every Dockerfile of the shared corpus: none may
// crash or fail to parse (Windows and PowerShell files included).
func TestSharedCorpus(t *testing.T) {
	root := sharedtest.Data(t, "dockerfiles")
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() != "SOURCES.md" {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 200 {
		t.Fatalf("found %d Dockerfiles under %s, expected the whole corpus (207)", len(files), root)
	}
	cfg := DefaultConfig()
	cfg.Override.Info = []string{"DL1001", "DL3057"}
	cfg.TrustedRegistries = []string{"docker.io"}
	cfg.LabelSchema = map[string]LabelType{"maintainer": LabelEmail}
	cfg.StrictLabels = true
	l := NewLinter(cfg)
	total := 0
	for _, p := range files {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: linter panicked: %v", rel, r)
				}
			}()
			res := l.Lint(rel, src)
			if res.ParseError != nil {
				t.Errorf("%s: parse error: %v", rel, res.ParseError)
			}
			total += len(res.Findings)
		}()
	}
	t.Logf("%d Dockerfiles, %d findings", len(files), total)
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line      int
		msg       string
	}{
		{"unknown instruction", "FROM alpine:3.20\nRUN true\nFROB x\n", 3, "unknown instruction"},
		{"FROM with two words", "FROM alpine:3.20 builder\n", 1, "FROM takes"},
		{"COPY without destination", "FROM alpine:3.20\n\nCOPY onlyone\n", 3, "COPY needs"},
		{"JSON array of non-strings", "FROM alpine:3.20\nCMD [\"a\", 1]\n", 2, "JSON"},
		{"unterminated heredoc", "FROM alpine:3.20\nRUN <<EOF\necho hi\n", 2, "heredoc"},
		{"empty ONBUILD", "FROM alpine:3.20\nONBUILD\n", 2, "ONBUILD"},
		{"bad escape directive", "# escape=x\nFROM alpine:3.20\n", 1, "escape"},
		{"line too long", "FROM alpine:3.20\nRUN " + strings.Repeat("a", 70000) + "\n", 2, "max allowed size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("dir/Dockerfile", []byte(tt.src))
			pe, ok := errors.AsType[*ParseError](err)
			if !ok {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			if pe.File != "dir/Dockerfile" || pe.Line < 1 {
				t.Errorf("error location %s:%d", pe.File, pe.Line)
			}
			if pe.Line != tt.line {
				t.Errorf("line = %d, want %d (%v)", pe.Line, tt.line, pe)
			}
			if !strings.Contains(pe.Error(), tt.msg) || !strings.HasPrefix(pe.Error(), fmt.Sprintf("dir/Dockerfile:%d: ", pe.Line)) {
				t.Errorf("error %q does not start with file:line or lacks %q", pe.Error(), tt.msg)
			}

			res := NewLinter(DefaultConfig()).Lint("dir/Dockerfile", []byte(tt.src))
			if res.ParseError == nil || len(res.Findings) != 1 || res.Findings[0].Rule != ParseErrorRule || !res.Failed(SeverityError) {
				t.Errorf("Lint result for a parse error = %+v", res)
			}
		})
	}
}

func TestParseStructure(t *testing.T) {
	src := "\ufeff# syntax=docker/dockerfile:1\r\n" +
		"ARG V=1\r\n" +
		"FROM alpine:3.20 AS build\r\n" +
		"# a comment\r\n" +
		"RUN apk add \\\r\n" +
		"  # comment inside continuation\r\n" +
		"  curl\r\n" +
		"ONBUILD RUN sudo x\r\n" +
		"COPY --chown=1:1 [\"a b\", \"/c/\"]\r\n" +
		"COPY \"C:\\Program Files\\x.tar\" 'd e' /f/\r\n" +
		"LABEL a=\"x y\" b='z'\r\n" +
		"ENV OLD form value\r\n"
	f, err := Parse("Dockerfile", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, in := range f.Instructions {
		kinds = append(kinds, fmt.Sprintf("%d-%d:%s", in.Line, in.EndLine, in.Kind))
	}
	want := []string{"2-2:ARG", "3-3:FROM", "5-7:RUN", "8-8:ONBUILD", "9-9:COPY", "10-10:COPY", "11-11:LABEL", "12-12:ENV"}
	if !slices.Equal(kinds, want) {
		t.Errorf("instructions %v, want %v", kinds, want)
	}
	if len(f.Comments) != 2 || f.Comments[0].Line != 1 || f.Comments[1].Line != 4 || f.Comments[1].Text != "a comment" {
		t.Errorf("comments = %+v (the one inside the RUN is not a comment line of its own)", f.Comments)
	}
	run := f.Instructions[2]
	if cmds := run.Commands(); len(cmds) != 1 || !slices.Equal(cmds[0].Args, []string{"add", "curl"}) {
		t.Errorf("RUN commands = %+v", cmds)
	}
	ob := f.Instructions[3]
	if ob.Inner == nil || ob.Inner.Kind != KindRun || ob.Inner.Line != 8 || len(ob.Inner.Commands()) != 2 || ob.Inner.Commands()[0].Name != "sudo" || ob.Inner.Commands()[1].Name != "x" {
		t.Errorf("ONBUILD inner = %+v", ob.Inner)
	}
	if c := f.Instructions[4].Copy; !slices.Equal(c.Sources, []string{"a b"}) || c.Dest != "/c/" || c.Chown != "1:1" {
		t.Errorf("JSON COPY = %+v", c)
	}
	if c := f.Instructions[5].Copy; !slices.Equal(c.Sources, []string{`"C:\Program Files\x.tar"`, "'d e'"}) || c.Dest != "/f/" {
		t.Errorf("quoted COPY = %+v", c)
	}
	if p := f.Instructions[6].Pairs; len(p) != 2 || p[0] != (Pair{"a", "x y", true}) || p[1] != (Pair{"b", "z", true}) {
		t.Errorf("LABEL pairs = %+v", p)
	}
	if p := f.Instructions[7].Pairs; len(p) != 1 || p[0].Key != "OLD" || p[0].Value != "form value" {
		t.Errorf("old-style ENV = %+v", p)
	}

	empty, err := Parse("Dockerfile", []byte("# only a comment\n\n"))
	if err != nil || len(empty.Instructions) != 0 || len(empty.Comments) != 1 {
		t.Errorf("comment-only file: %+v, %v", empty, err)
	}
}

func TestParseImageRef(t *testing.T) {
	tests := []struct {
		ref                         string
		registry, name, tag, digest string
	}{
		{"alpine", "", "alpine", "", ""},
		{"alpine:3.20", "", "alpine", "3.20", ""},
		{"library/alpine:3.20@sha256:ab", "", "library/alpine", "3.20", "sha256:ab"},
		{"gcr.io/distroless/static:nonroot", "gcr.io", "distroless/static", "nonroot", ""},
		{"localhost:5000/app", "localhost:5000", "app", "", ""},
		{"localhost/app:1", "localhost", "app", "1", ""},
		{"${REG}/app:${TAG}", "", "${REG}/app", "${TAG}", ""},
		{"ruby@sha256:f1", "", "ruby", "", "sha256:f1"},
	}
	for _, tt := range tests {
		f := parseImageRef(tt.ref)
		if f.Registry != tt.registry || f.Name != tt.name || f.Tag != tt.tag || f.Digest != tt.digest {
			t.Errorf("parseImageRef(%q) = %+v", tt.ref, f)
		}
	}
}

func TestParsePragma(t *testing.T) {
	tests := []struct {
		text string
		ok   bool
		kind pragmaKind
		list []string
	}{
		{"hadolint ignore=DL3008,DL3015", true, pragmaIgnore, []string{"DL3008", "DL3015"}},
		{"  hadolint ignore = DL3008 , DL3015  # why", true, pragmaIgnore, []string{"DL3008", "DL3015"}},
		{"tollgate ignore=TG101", true, pragmaIgnore, []string{"TG101"}},
		{"hadolint global ignore=DL3006", true, pragmaGlobalIgnore, []string{"DL3006"}},
		{"hadolint stage ignore=DL3011,SC2086", true, pragmaStageIgnore, []string{"DL3011", "SC2086"}},
		{"hadolint shell = powershell.exe", true, pragmaShell, nil},
		{"hadolint ignore=crazy,DL3002", false, 0, nil},
		{"hadolint ignore=DL3002 DL3003", false, 0, nil},
		{"hadolint ignore=", false, 0, nil},
		{"hadolintignore=DL3002", false, 0, nil},
		{"just a comment", false, 0, nil},
	}
	for _, tt := range tests {
		p, ok := parsePragma(tt.text)
		if ok != tt.ok || (ok && (p.kind != tt.kind || !slices.Equal(p.rules, tt.list))) {
			t.Errorf("parsePragma(%q) = %+v, %v", tt.text, p, ok)
		}
	}
}

func TestRulesMetadata(t *testing.T) {
	rules := Rules()
	seen := map[string]bool{}
	dl := 0
	for _, r := range rules {
		if seen[r.ID] {
			t.Errorf("duplicate rule %s", r.ID)
		}
		seen[r.ID] = true
		if r.Message == "" || r.Explain == "" || r.Fix == "" {
			t.Errorf("%s lacks message, explanation or fix", r.ID)
		}
		if strings.HasPrefix(r.ID, "DL") {
			dl++
		}
		if (r.newChecker == nil) != (r.ID == ParseErrorRule) {
			t.Errorf("%s: checker %v (only DL1000, the parse error, has none)", r.ID, r.newChecker != nil)
		}
	}
	if dl != 72 {
		t.Errorf("%d DL rules, want hadolint's 71 checks and DL1000", dl)
	}
	for _, id := range []string{"DL3005", "DL3017", "DL3031", "DL3039", "DL4002"} {
		if seen[id] {
			t.Errorf("%s does not exist in hadolint", id)
		}
	}
}
