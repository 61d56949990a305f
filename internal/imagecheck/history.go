package imagecheck

import (
	"encoding/json"
	"strings"
)

// Step is one history entry's created_by line read back as the build
// instruction that made it.
type Step struct {
	// Instruction is the upper-case Dockerfile keyword (RUN, COPY, ADD,
	// ENV, …), or "" when the line is not in a known builder's shape
	// (apko, ko, "Imported from -", free text).
	Instruction string
	// Args is the instruction's text after the keyword; for RUN, the
	// command given to the shell (without "/bin/sh -c" and build args).
	Args string
	// BuildArgs are the NAME=value build arguments a RUN was given (the
	// "|2 A=1 B=2" prefix Docker and buildah write).
	BuildArgs []string
	// Exec reports a RUN in exec form (a JSON array), whose Args are the
	// array's words joined by spaces.
	Exec bool
	// Raw is the created_by line as recorded.
	Raw string
}

// knownInstructions are the keywords history lines carry.
var knownInstructions = map[string]bool{
	"ADD": true, "ARG": true, "CMD": true, "COPY": true, "ENTRYPOINT": true, "ENV": true,
	"EXPOSE": true, "HEALTHCHECK": true, "LABEL": true, "MAINTAINER": true, "ONBUILD": true,
	"RUN": true, "SHELL": true, "STOPSIGNAL": true, "USER": true, "VOLUME": true, "WORKDIR": true,
}

// ParseHistory reads a created_by line in the shapes builders write:
//
//	/bin/sh -c #(nop)  ENV A=b               Docker's classic builder, buildah
//	/bin/sh -c apt-get update                the same builders' RUN
//	|2 A=1 B=2 /bin/sh -c make               RUN with build arguments
//	RUN /bin/sh -c apt-get update # buildkit BuildKit
//	RUN |1 A=1 /bin/sh -c make # buildkit    BuildKit RUN with build arguments
//	COPY app /app # buildkit                 BuildKit (and kaniko, without the comment)
//	RUN apt-get update                       kaniko
//
// Anything else gives a Step with only Raw set.
func ParseHistory(createdBy string) Step {
	st := Step{Raw: createdBy}
	s := strings.TrimSpace(createdBy)
	s = strings.TrimSpace(strings.TrimSuffix(s, "# buildkit"))
	if s == "" {
		return st
	}
	// BuildKit and kaniko: the keyword first.
	if kw, rest, _ := strings.Cut(s, " "); knownInstructions[kw] {
		st.Instruction, st.Args = kw, strings.TrimSpace(rest)
		if kw == "RUN" {
			st.BuildArgs, st.Args, st.Exec = runCommand(st.Args)
		}
		return st
	}
	// Classic builder and buildah: a shell invocation, "#(nop)" for
	// instructions that run nothing.
	args, cmd, ok := cutShell(s)
	if !ok {
		return st
	}
	if rest, ok := strings.CutPrefix(cmd, "#(nop)"); ok {
		rest = strings.TrimSpace(rest)
		kw, after, _ := strings.Cut(rest, " ")
		if knownInstructions[strings.ToUpper(kw)] {
			st.Instruction, st.Args = strings.ToUpper(kw), strings.TrimSpace(after)
		}
		return st
	}
	st.Instruction, st.Args, st.BuildArgs = "RUN", cmd, args
	return st
}

// runCommand takes a RUN's text apart: build arguments, the command, and
// whether it was in exec form.
func runCommand(s string) (buildArgs []string, cmd string, exec bool) {
	if strings.HasPrefix(s, "[") {
		var words []string
		if err := json.Unmarshal([]byte(s), &words); err == nil {
			return nil, strings.Join(words, " "), true
		}
	}
	if args, cmd, ok := cutShell(s); ok {
		return args, cmd, false
	}
	return nil, s, false
}

// shells are the interpreters builders put before a RUN's command.
var shells = []string{"/bin/sh -c ", "/bin/bash -c ", "/bin/ash -c ", "sh -c ", "bash -c ", "/bin/sh -o pipefail -c ", "/bin/bash -o pipefail -c "}

// cutShell splits "[|N A=1 …] SHELL -c CMD" into the build arguments and
// CMD.
func cutShell(s string) (buildArgs []string, cmd string, ok bool) {
	if strings.HasPrefix(s, "|") {
		n, rest, _ := strings.Cut(s[1:], " ")
		count := 0
		for _, c := range n {
			if c < '0' || c > '9' || count > 1000 {
				return nil, "", false
			}
			count = count*10 + int(c-'0')
		}
		for i := 0; i < count; i++ {
			var word string
			word, rest, _ = strings.Cut(rest, " ")
			if !strings.Contains(word, "=") {
				return nil, "", false
			}
			buildArgs = append(buildArgs, word)
		}
		s = rest
	}
	for _, sh := range shells {
		if rest, found := strings.CutPrefix(s, sh); found {
			return buildArgs, strings.TrimSpace(rest), true
		}
	}
	return nil, "", false
}

// addSources returns the sources of an ADD or COPY step's arguments:
// flags dropped, the destination (last word, or what follows " in " in the
// classic shape) left out, JSON form understood.
func addSources(args string) []string {
	args = strings.TrimSpace(args)
	if strings.HasPrefix(args, "[") {
		var words []string
		if err := json.Unmarshal([]byte(args), &words); err == nil && len(words) > 1 {
			return words[:len(words)-1]
		}
	}
	if src, _, ok := strings.Cut(args, " in "); ok {
		return strings.Fields(src)
	}
	var words []string
	for _, w := range strings.Fields(args) {
		if !strings.HasPrefix(w, "--") {
			words = append(words, w)
		}
	}
	if len(words) < 2 {
		return nil
	}
	return words[:len(words)-1]
}
