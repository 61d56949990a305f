package dockerfile

import (
	"strings"

	"github.com/tollgate-dev/tollgate/internal/dockerfile/shell"
)

// Kind is the type of a Dockerfile instruction.
type Kind uint8

// The instruction kinds.
const (
	KindUnknown Kind = iota
	KindAdd
	KindArg
	KindCmd
	KindCopy
	KindEntrypoint
	KindEnv
	KindExpose
	KindFrom
	KindHealthcheck
	KindLabel
	KindMaintainer
	KindOnbuild
	KindRun
	KindShell
	KindStopsignal
	KindUser
	KindVolume
	KindWorkdir
)

var kindByKeyword = map[string]Kind{
	"add":         KindAdd,
	"arg":         KindArg,
	"cmd":         KindCmd,
	"copy":        KindCopy,
	"entrypoint":  KindEntrypoint,
	"env":         KindEnv,
	"expose":      KindExpose,
	"from":        KindFrom,
	"healthcheck": KindHealthcheck,
	"label":       KindLabel,
	"maintainer":  KindMaintainer,
	"onbuild":     KindOnbuild,
	"run":         KindRun,
	"shell":       KindShell,
	"stopsignal":  KindStopsignal,
	"user":        KindUser,
	"volume":      KindVolume,
	"workdir":     KindWorkdir,
}

var kindNames = [...]string{
	KindUnknown: "UNKNOWN", KindAdd: "ADD", KindArg: "ARG", KindCmd: "CMD", KindCopy: "COPY",
	KindEntrypoint: "ENTRYPOINT", KindEnv: "ENV", KindExpose: "EXPOSE", KindFrom: "FROM",
	KindHealthcheck: "HEALTHCHECK", KindLabel: "LABEL", KindMaintainer: "MAINTAINER",
	KindOnbuild: "ONBUILD", KindRun: "RUN", KindShell: "SHELL", KindStopsignal: "STOPSIGNAL",
	KindUser: "USER", KindVolume: "VOLUME", KindWorkdir: "WORKDIR",
}

// String returns the instruction keyword in upper case.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "UNKNOWN"
}

// Instruction is one instruction of a Dockerfile.
type Instruction struct {
	Kind Kind
	// Keyword is the instruction keyword as written ("Run", "RUN").
	Keyword string
	// Line and EndLine are the 1-based lines where the instruction starts
	// and ends (continuation lines and heredocs included).
	Line, EndLine int
	// Original is the instruction text with continuation lines joined.
	Original string
	// Flags are the builder flags as written ("--from=build").
	Flags []string
	// Args are the arguments after the flags. In JSON (exec) form each
	// array element is one argument; in shell form RUN, CMD, ENTRYPOINT,
	// SHELL, USER, WORKDIR, MAINTAINER and STOPSIGNAL have the whole text as
	// one argument and the other kinds are split on whitespace.
	Args []string
	// JSON reports the exec (JSON array) form.
	JSON bool
	// Heredocs holds the here-documents attached to the instruction.
	Heredocs []Heredoc
	// Inner is the instruction an ONBUILD wraps.
	Inner *Instruction

	// Kind-specific views, set by the parser.
	From  *From  // FROM
	Copy  *Copy  // COPY and ADD
	Run   *Run   // RUN
	Pairs []Pair // ENV, LABEL, ARG
	// ShellCmd is the SHELL instruction's command parsed as shell.
	ShellCmd *shell.Script
}

// Heredoc is a here-document attached to an instruction.
type Heredoc struct {
	Name    string
	Content string
}

// Flag returns the value of the builder flag --name and whether it is set.
// A flag given without a value ("--link") has the value "".
func (in *Instruction) Flag(name string) (string, bool) {
	for _, f := range in.Flags {
		n, v, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if n == name {
			return v, true
		}
	}
	return "", false
}

// FlagValues returns every value of a repeatable builder flag.
func (in *Instruction) FlagValues(name string) []string {
	var out []string
	for _, f := range in.Flags {
		n, v, _ := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if n == name {
			out = append(out, v)
		}
	}
	return out
}

// Text returns the argument text: the JSON elements or words joined by
// spaces.
func (in *Instruction) Text() string {
	return strings.Join(in.Args, " ")
}

// From is the parsed FROM instruction.
type From struct {
	// Ref is the image reference as written (variables unexpanded).
	Ref string
	// Registry is the registry host when the reference names one
	// ("gcr.io" in "gcr.io/distroless/static").
	Registry string
	// Name is the image name without registry, tag and digest.
	Name   string
	Tag    string
	Digest string
	// Alias is the stage name given with AS.
	Alias    string
	Platform string
}

// Image returns the image reference without tag and digest.
func (f *From) Image() string {
	if f.Registry != "" {
		return f.Registry + "/" + f.Name
	}
	return f.Name
}

// StageName is the name other stages use to refer to this one: its alias,
// or else the image name.
func (f *From) StageName() string {
	if f.Alias != "" {
		return f.Alias
	}
	return f.Image()
}

// Copy is the parsed COPY or ADD instruction.
type Copy struct {
	// Sources and Dest are as written; quotes are kept.
	Sources []string
	Dest    string
	// From is the value of --from ("" when absent).
	From  string
	Chown string
}

// Pair is one key/value of ENV, LABEL or ARG, with quotes removed.
type Pair struct {
	Key   string
	Value string
	// HasValue is false for "ARG name" without a default.
	HasValue bool
}

// Run is the shell view of a RUN instruction.
type Run struct {
	// Text is the shell text; in exec form the elements joined by spaces.
	Text string
	// Script is the parsed shell text. It has no commands when the stage
	// runs a non-POSIX shell (PowerShell, cmd), which cannot be parsed.
	Script *shell.Script
	Mounts []Mount
	// Network and Security are the values of --network and --security.
	Network, Security string
}

// Mount is one --mount flag of RUN.
type Mount struct {
	Type   string // bind (default), cache, tmpfs, secret, ssh
	Target string
	From   string
	Source string
	ID     string
}

// IsCacheOrTmpfs reports whether the mount keeps its target out of the
// image layer.
func (m Mount) IsCacheOrTmpfs() bool {
	return m.Type == "cache" || m.Type == "tmpfs"
}

// Commands returns the shell commands of a RUN, or nil.
func (in *Instruction) Commands() []shell.Command {
	if in.Run == nil || in.Run.Script == nil {
		return nil
	}
	return in.Run.Script.Commands
}

// CacheMountTargetContains reports whether a cache or tmpfs mount of the RUN
// has a target containing dir.
func (in *Instruction) CacheMountTargetContains(dir string) bool {
	if in.Run == nil {
		return false
	}
	for _, m := range in.Run.Mounts {
		if m.IsCacheOrTmpfs() && strings.Contains(m.Target, dir) {
			return true
		}
	}
	return false
}
