package dockerfile

import (
	"slices"
	"strings"
)

type pragmaKind uint8

const (
	pragmaIgnore       pragmaKind = iota + 1 // ignore the rules on the next line
	pragmaGlobalIgnore                       // ignore the rules in the whole file
	pragmaStageIgnore                        // ignore the rules in the stage whose FROM follows
	pragmaShell                              // the shell RUN bodies are written in
)

// pragma is a "# hadolint ..." or "# tollgate ..." comment.
type pragma struct {
	kind  pragmaKind
	rules []string
	shell string
}

// parsePragma parses the text of a comment (without '#'). The grammar is
// hadolint's: "hadolint" (or "tollgate"), then "ignore=", "global ignore=",
// "stage ignore=" with a comma-separated rule list, or "shell=" with a shell
// name; spaces are allowed around '=' and ','; a trailing "# comment" is
// allowed. A list with a malformed rule name is not a pragma at all.
func parsePragma(text string) (pragma, bool) {
	rest, ok := cutWord(text, "hadolint")
	if !ok {
		rest, ok = cutWord(text, "tollgate")
	}
	if !ok {
		return pragma{}, false
	}
	kind := pragmaIgnore
	if r, ok := cutWord(rest, "global"); ok {
		kind, rest = pragmaGlobalIgnore, r
	} else if r, ok := cutWord(rest, "stage"); ok {
		kind, rest = pragmaStageIgnore, r
	} else if r, ok := cutKey(rest, "shell"); ok {
		name, _ := stripInlineComment(r)
		if name == "" || strings.ContainsAny(name, " \t") {
			return pragma{}, false
		}
		return pragma{kind: pragmaShell, shell: name}, true
	}
	list, ok := cutKey(rest, "ignore")
	if !ok {
		return pragma{}, false
	}
	rules, ok := parseRuleList(list)
	if !ok {
		return pragma{}, false
	}
	return pragma{kind: kind, rules: rules}, true
}

// cutWord strips leading blanks, then word, then at least one blank.
func cutWord(s, word string) (string, bool) {
	s = strings.TrimLeft(s, " \t")
	if !strings.HasPrefix(s, word) {
		return "", false
	}
	rest := s[len(word):]
	if rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
		return "", false
	}
	return strings.TrimLeft(rest, " \t"), true
}

// cutKey strips key, optional blanks, '=', optional blanks.
func cutKey(s, key string) (string, bool) {
	if !strings.HasPrefix(s, key) {
		return "", false
	}
	rest := strings.TrimLeft(s[len(key):], " \t")
	if !strings.HasPrefix(rest, "=") {
		return "", false
	}
	return strings.TrimLeft(rest[1:], " \t"), true
}

func stripInlineComment(s string) (string, bool) {
	before, _, found := strings.Cut(s, "#")
	return strings.TrimRight(before, " \t"), found
}

// ruleNameChars are the characters a rule name in a pragma may use:
// hadolint's (DL and SC codes) plus T and G for tollgate's own rules.
const ruleNameChars = "DLSCTG0123456789"

func parseRuleList(s string) ([]string, bool) {
	s, _ = stripInlineComment(s)
	if s == "" {
		return nil, false
	}
	parts := strings.Split(s, ",")
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		p = strings.Trim(p, " \t")
		if p == "" {
			return nil, false
		}
		for _, c := range p {
			if !strings.ContainsRune(ruleNameChars, c) {
				return nil, false
			}
		}
		out = append(out, p)
	}
	return out, true
}

// pragmas holds the ignore pragmas of one file.
type pragmas struct {
	inline map[int][]string // instruction line -> rules
	stage  map[int][]string // FROM line -> rules
	// fromLines are the keys of stage, sorted.
	fromLines []int
	global    []string
	// inlineLines are the lines of inline ignore pragmas (for DL1001).
	inlineLines []int
}

func collectPragmas(f *File) *pragmas {
	p := &pragmas{}
	for _, c := range f.Comments {
		pr, ok := parsePragma(c.Text)
		if !ok {
			continue
		}
		switch pr.kind {
		case pragmaIgnore:
			if p.inline == nil {
				p.inline = map[int][]string{}
			}
			p.inline[c.Line+1] = append(p.inline[c.Line+1], pr.rules...)
			p.inlineLines = append(p.inlineLines, c.Line)
		case pragmaGlobalIgnore:
			p.global = append(p.global, pr.rules...)
		case pragmaStageIgnore:
			if p.stage == nil {
				// Every FROM starts a stage, with or without a pragma.
				p.stage = map[int][]string{}
				for _, in := range f.Instructions {
					if in.Kind == KindFrom {
						p.stage[in.Line] = nil
					}
				}
			}
			if _, isFrom := p.stage[c.Line+1]; isFrom {
				p.stage[c.Line+1] = append(p.stage[c.Line+1], pr.rules...)
			}
		}
	}
	for line := range p.stage {
		p.fromLines = append(p.fromLines, line)
	}
	slices.Sort(p.fromLines)
	return p
}

// ignores reports whether a finding of rule at line is silenced.
func (p *pragmas) ignores(rule string, line int) bool {
	if contains(p.global, rule) || contains(p.inline[line], rule) {
		return true
	}
	if len(p.stage) == 0 {
		return false
	}
	// The stage of a finding is the last FROM strictly before its line.
	i, _ := slices.BinarySearch(p.fromLines, line)
	return i > 0 && contains(p.stage[p.fromLines[i-1]], rule)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
