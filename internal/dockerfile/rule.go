package dockerfile

import "fmt"

// Rule describes one check.
type Rule struct {
	// ID is the stable identifier: hadolint's DLxxxx codes, TGxxx for
	// tollgate's own rules.
	ID string
	// Name is a short name in CamelCase for SARIF, when the rule has one.
	Name string
	// Severity is the default severity.
	Severity Severity
	// Message is the text of a finding.
	Message string
	// Explain says why the rule matters.
	Explain string
	// Fix says how to satisfy the rule.
	Fix string
	// OnBuild reports that the rule also checks instructions inside
	// ONBUILD triggers.
	OnBuild bool
	// Fixable reports that `tollgate dockerfile fix` resolves the rule.
	Fixable bool
	// needs lists the configuration the rule needs to run at all.
	needs ruleNeed
	// newChecker returns a checker with fresh state for one pass over a
	// file; nil for DL1000, which the parser reports.
	newChecker func(env *ruleEnv) checker
}

type ruleNeed uint8

const (
	needNothing ruleNeed = iota
	needTrustedRegistries
	needLabelSchema
	needStrictLabels
)

// Tollgate reports whether the rule is one of tollgate's own.
func (r *Rule) Tollgate() bool { return len(r.ID) > 2 && r.ID[:2] == "TG" }

// ruleEnv is what a checker may consult besides the instructions.
type ruleEnv struct {
	cfg *Config
	// stages describes the stages of the whole file, for rules that need
	// to know what comes later (which stage is the final one). Nil for
	// the ONBUILD pass.
	stages *stageGraph
	// pragmas are the file's ignore pragmas. Nil for the ONBUILD pass.
	pragmas *pragmas
}

// checker sees the instructions of one file in order, then done.
type checker interface {
	check(in *Instruction, r *reporter)
	done(r *reporter)
}

// reporter collects a checker's findings.
type reporter struct {
	rule *Rule
	out  []Finding
}

// add reports a finding with the rule's message.
func (r *reporter) add(line int) {
	r.out = append(r.out, Finding{Line: line, Column: 1, Rule: r.rule.ID, Severity: r.rule.Severity, Message: r.rule.Message})
}

// addf reports a finding with its own message.
func (r *reporter) addf(line int, format string, args ...any) {
	r.out = append(r.out, Finding{Line: line, Column: 1, Rule: r.rule.ID, Severity: r.rule.Severity, Message: fmt.Sprintf(format, args...)})
}

// each adapts a stateless per-instruction check: ok returns false to report
// the instruction.
type each func(in *Instruction, env *ruleEnv) bool

type eachChecker struct {
	f   each
	env *ruleEnv
}

func (c eachChecker) check(in *Instruction, r *reporter) {
	if !c.f(in, c.env) {
		r.add(in.Line)
	}
}

func (eachChecker) done(*reporter) {}

func perInstruction(f each) func(*ruleEnv) checker {
	return func(env *ruleEnv) checker { return eachChecker{f: f, env: env} }
}

// funcChecker adapts a pair of closures.
type funcChecker struct {
	onCheck func(in *Instruction, r *reporter)
	onDone  func(r *reporter)
}

func (c funcChecker) check(in *Instruction, r *reporter) { c.onCheck(in, r) }

func (c funcChecker) done(r *reporter) {
	if c.onDone != nil {
		c.onDone(r)
	}
}

// atEnd adapts a check of the file as a whole (its stages, its pragmas),
// made once every instruction has been seen.
func atEnd(f func(env *ruleEnv, r *reporter)) func(*ruleEnv) checker {
	return func(env *ruleEnv) checker {
		return funcChecker{onCheck: func(*Instruction, *reporter) {}, onDone: func(r *reporter) { f(env, r) }}
	}
}

// runRule is a per-RUN check over the shell commands: ok returns false to
// report the RUN.
func runRule(ok func(in *Instruction) bool) func(*ruleEnv) checker {
	return perInstruction(func(in *Instruction, _ *ruleEnv) bool {
		if in.Kind != KindRun {
			return true
		}
		return ok(in)
	})
}
