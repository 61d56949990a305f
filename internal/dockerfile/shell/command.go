package shell

import (
	"path"
	"slices"
	"strings"
)

// HasArg reports whether any argument equals one of values.
func (c *Command) HasArg(values ...string) bool {
	for _, a := range c.Args {
		if slices.Contains(values, a) {
			return true
		}
	}
	return false
}

// HasArgPrefix reports whether any argument starts with prefix.
func (c *Command) HasArgPrefix(prefix string) bool {
	for _, a := range c.Args {
		if strings.HasPrefix(a, prefix) {
			return true
		}
	}
	return false
}

// Is reports whether the command is named name and has at least one argument
// equal to one of args (any, not all). With no args it only checks the name.
func (c *Command) Is(name string, args ...string) bool {
	if c.Name != name {
		return false
	}
	return len(args) == 0 || c.HasArg(args...)
}

// IsFlag reports whether argument i is a flag word.
func (c *Command) IsFlag(i int) bool {
	return c.flags != nil && len(c.flags[i]) > 0
}

// Flags returns every flag name the arguments spell, in order, with
// repetitions ("-qq" gives "q" twice).
func (c *Command) Flags() []string {
	var out []string
	for _, f := range c.flags {
		out = append(out, f...)
	}
	return out
}

// HasFlag reports whether any argument spells one of the flags names.
func (c *Command) HasFlag(names ...string) bool {
	for _, f := range c.flags {
		for _, n := range f {
			if slices.Contains(names, n) {
				return true
			}
		}
	}
	return false
}

// FlagCount counts how often the flag name is spelled.
func (c *Command) FlagCount(name string) int {
	n := 0
	for _, f := range c.flags {
		for _, x := range f {
			if x == name {
				n++
			}
		}
	}
	return n
}

// ArgsNoFlags returns the arguments that are not flag words ("-" and "--"
// are kept).
func (c *Command) ArgsNoFlags() []string {
	out := make([]string, 0, len(c.Args))
	for i, a := range c.Args {
		if !c.IsFlag(i) {
			out = append(out, a)
		}
	}
	return out
}

// DropFlagValues returns a copy of the command without the values of the
// given flags: the word after a flag word that spells one of names is
// removed, unless the flag word carries its value itself ("--flag=value").
func (c *Command) DropFlagValues(names ...string) Command {
	var drop []bool
	for i := range c.Args {
		if !c.IsFlag(i) || i+1 >= len(c.Args) || strings.Contains(c.Args[i], "=") {
			continue
		}
		for _, f := range c.flags[i] {
			if slices.Contains(names, f) {
				if drop == nil {
					drop = make([]bool, len(c.Args))
				}
				drop[i+1] = true
				break
			}
		}
	}
	if drop == nil {
		return *c
	}
	out := Command{Name: c.Name, Args: make([]string, 0, len(c.Args)), flags: make([][]string, 0, len(c.Args))}
	for i, a := range c.Args {
		if !drop[i] {
			out.Args = append(out.Args, a)
			out.flags = append(out.flags, c.flags[i])
		}
	}
	return out
}

// Base returns the last path element of the command name ("/usr/bin/bash"
// gives "bash").
func (c *Command) Base() string {
	return path.Base(c.Name)
}

// AnyCommand reports whether some command of the script satisfies f. A nil
// script has no commands.
func (s *Script) AnyCommand(f func(*Command) bool) bool {
	return s.Index(f) >= 0
}

// Index returns the position of the first command satisfying f, or -1. A
// nil script has no commands.
func (s *Script) Index(f func(*Command) bool) int {
	if s == nil {
		return -1
	}
	for i := range s.Commands {
		if f(&s.Commands[i]) {
			return i
		}
	}
	return -1
}
