package shell

import (
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// maxNesting bounds how deep scripts inside scripts are followed
// (bash -c "sh -c '…'"), so a hostile RUN cannot make the linter recurse
// without end.
const maxNesting = 4

// Commands reached through another command are seen by the rules too: a
// wrapper runs the command of its arguments (sudo apt-get install vim runs
// apt-get), a shell runs the script of its -c argument or of the
// here-document on its standard input. Each is added after the command
// that reaches it, the wrapper or shell itself staying in the list
// (DL3004 looks for sudo).

// unwrapped returns the command a wrapper runs ("sudo -u app apt-get
// install" runs "apt-get install"), or false when c is no wrapper or names
// no command.
func unwrapped(c Command) (Command, bool) {
	i, ok := WrappedIndex(c.Name, c.Args)
	if !ok {
		return Command{}, false
	}
	return commandAt(c.Args, i)
}

// WrappedIndex returns the index in args of the name of the command that
// the wrapper name runs with those arguments ("sudo -u app apt-get install":
// 2), or false when name is no wrapper or its arguments name no command.
// The fixer uses it to edit the wrapped command in place.
func WrappedIndex(name string, args []string) (int, bool) {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	spec, ok := wrappers[name]
	if !ok {
		return 0, false
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return commandIndex(args, i+1)
		case spec.assignments && strings.Contains(a, "=") && !strings.HasPrefix(a, "-"):
			continue // env NAME=value
		case strings.HasPrefix(a, "-") && a != "-":
			if slices.Contains(spec.withValue, a) {
				i++ // the option's value
			}
			continue
		case spec.positional > 0:
			// timeout DURATION cmd, chroot DIR cmd: skip the operands
			// that come before the command.
			return commandIndex(args, i+spec.positional)
		}
		return commandIndex(args, i)
	}
	return 0, false
}

func commandIndex(args []string, i int) (int, bool) {
	if i >= len(args) || args[i] == "" || strings.HasPrefix(args[i], "${") {
		return 0, false
	}
	return i, true
}

func commandAt(args []string, i int) (Command, bool) {
	return newCommand(args[i], slices.Clone(args[i+1:])), true
}

// wrapper describes how a wrapper command finds the command it runs.
type wrapper struct {
	withValue   []string // options that take the next word as their value
	assignments bool     // NAME=value words come before the command (env)
	positional  int      // operands before the command (timeout's duration)
}

// wrappers are the commands that run another command given as their
// arguments.
var wrappers = map[string]wrapper{
	"sudo":    {withValue: []string{"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "--user", "--group", "--chdir", "--host", "--prompt", "--role", "--type", "--other-user", "--command-timeout", "--close-from"}},
	"doas":    {withValue: []string{"-u", "-C"}},
	"env":     {withValue: []string{"-u", "-C", "-S", "--unset", "--chdir", "--split-string"}, assignments: true},
	"nice":    {withValue: []string{"-n", "--adjustment"}},
	"ionice":  {withValue: []string{"-c", "-n", "-p", "-P", "-u", "--class", "--classdata"}},
	"nohup":   {},
	"time":    {withValue: []string{"-f", "-o", "--format", "--output"}},
	"setsid":  {},
	"stdbuf":  {withValue: []string{"-i", "-o", "-e"}},
	"chroot":  {withValue: []string{"--userspec", "--groups"}, positional: 1},
	"timeout": {withValue: []string{"-s", "-k", "--signal", "--kill-after"}, positional: 1},
	"xargs":   {withValue: []string{"-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s", "--arg-file", "--delimiter", "--max-args", "--max-procs", "--max-lines", "--max-chars", "--replace"}},
	"su-exec": {positional: 1},
	"gosu":    {positional: 1},
	"unshare": {},
	"strace":  {withValue: []string{"-e", "-o", "-p", "-s", "-u"}},
}

// shells are the interpreters whose scripts are shell.
var shells = []string{"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "busybox sh"}

// isShell reports whether name runs shell scripts ("/bin/bash" too).
func isShell(name string) bool {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return slices.Contains(shells, name)
}

// shellScript returns the script a shell command runs from its -c
// argument ("bash -ec 'apt-get …'"), or false.
func shellScript(c Command) (string, bool) {
	if !isShell(c.Name) {
		return "", false
	}
	for i, a := range c.Args {
		if !strings.HasPrefix(a, "-") || strings.HasPrefix(a, "--") {
			if strings.HasPrefix(a, "--") {
				continue
			}
			return "", false // a script file: its commands are not in the Dockerfile
		}
		if strings.ContainsRune(a[1:], 'c') && i+1 < len(c.Args) {
			return c.Args[i+1], true
		}
	}
	return "", false
}

// readsStdinScript reports whether a shell command reads its script from
// standard input: no -c and no script file among its arguments.
func readsStdinScript(c Command) bool {
	if !isShell(c.Name) {
		return false
	}
	for i := 0; i < len(c.Args); i++ {
		a := c.Args[i]
		switch {
		case a == "-s" || a == "--":
			return true
		case a == "-o" || a == "+o":
			i++ // the option's name: bash -o pipefail
		case strings.HasPrefix(a, "-") || strings.HasPrefix(a, "+"):
			if strings.ContainsRune(a[1:], 'c') {
				return false
			}
		default:
			return false // a script file
		}
	}
	return true
}

// heredocScripts returns the bodies of the here-documents that feed a
// shell's standard input in st ("bash <<EOF", "sh -e <<-EOF"), as source
// text.
func heredocScripts(st *syntax.Stmt, src string) []string {
	var out []string
	for _, r := range st.Redirs {
		if r == nil || r.Hdoc == nil || (r.Op != syntax.Hdoc && r.Op != syntax.DashHdoc) {
			continue
		}
		if r.N != nil && r.N.Value != "0" {
			continue
		}
		start, end := int(r.Hdoc.Pos().Offset()), int(r.Hdoc.End().Offset())
		if start < 0 || end > len(src) || start >= end {
			continue
		}
		body := src[start:end]
		if delim, ok := literal(r.Word); ok { // the body may run up to the delimiter line
			trimmed := strings.TrimRight(body, "\n")
			if i := strings.LastIndexByte(trimmed, '\n'); strings.TrimSpace(trimmed[i+1:]) == delim {
				body = trimmed[:i+1]
			}
		}
		if r.Op == syntax.DashHdoc {
			body = stripTabs(body)
		}
		out = append(out, body)
	}
	return out
}

func stripTabs(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, "\t")
	}
	return strings.Join(lines, "\n")
}
