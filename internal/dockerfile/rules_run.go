package dockerfile

import (
	"slices"
	"strings"
	"unicode"

	"github.com/tollgate-dev/tollgate/internal/dockerfile/shell"
)

type cmd = shell.Command

// anyCommand reports whether some command of a RUN satisfies f.
func anyCommand(in *Instruction, f func(c *cmd) bool) bool {
	return in.Run != nil && in.Run.Script.AnyCommand(f)
}

// firstIndex returns the index of the first command of in satisfying f, or -1.
func firstIndex(in *Instruction, f func(c *cmd) bool) int {
	if in.Run == nil {
		return -1
	}
	return in.Run.Script.Index(f)
}

func usesCommand(in *Instruction, name string) bool {
	return anyCommand(in, func(c *cmd) bool { return c.Name == name })
}

func checkPointlessCommands(in *Instruction) bool {
	return !anyCommand(in, func(c *cmd) bool {
		switch c.Name {
		case "free", "kill", "mount", "ps", "service", "shutdown", "ssh", "top", "vim":
			return true
		}
		return false
	})
}

// argsAfter returns the words of args after the first occurrence of word.
func argsAfter(args []string, word string) []string {
	i := slices.Index(args, word)
	if i < 0 {
		return nil
	}
	return args[i+1:]
}

func without(args []string, drop ...string) []string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		if !slices.Contains(drop, a) {
			out = append(out, a)
		}
	}
	return out
}

// --- apt -------------------------------------------------------------------

func isAptGetInstall(c *cmd) bool { return c.Is("apt-get", "install") }

func checkAptPinned(in *Instruction) bool {
	return !anyCommand(in, func(c *cmd) bool {
		if !isAptGetInstall(c) {
			return false
		}
		d := c.DropFlagValues("t", "target-release")
		for _, p := range without(d.ArgsNoFlags(), "install") {
			if !strings.ContainsAny(p, "=/") && !strings.HasSuffix(p, ".deb") {
				return true
			}
		}
		return false
	})
}

func checkAptYes(in *Instruction) bool {
	return !anyCommand(in, func(c *cmd) bool {
		if !isAptGetInstall(c) {
			return false
		}
		yes := c.HasFlag("y", "yes", "qq", "assume-yes") || c.FlagCount("q") == 2 ||
			c.FlagCount("quiet") == 2 || c.HasArg("-q=2")
		return !yes
	})
}

func checkAptNoRecommends(in *Instruction) bool {
	return !anyCommand(in, func(c *cmd) bool {
		return isAptGetInstall(c) && !c.HasFlag("no-install-recommends") && !c.HasArg("APT::Install-Recommends=false")
	})
}

// aptListsLeft reports a RUN that updates apt lists without removing them.
func aptListsLeft(in *Instruction) bool {
	update := anyCommand(in, func(c *cmd) bool {
		return c.Is("apt-get", "update") || c.Is("apt", "update") || c.Is("aptitude", "update")
	})
	if !update {
		return false
	}
	if anyCommand(in, func(c *cmd) bool { return c.Is("rm", "-rf", "/var/lib/apt/lists/*") }) {
		return false
	}
	if in.CacheMountTargetContains("/var/lib/apt/lists") {
		return false
	}
	if in.CacheMountTargetContains("/var/lib/apt") && in.CacheMountTargetContains("/var/cache/apt") {
		return false
	}
	return true
}

// stageReported is the reporting shape of DL3009 and DL3060: a problem in a
// RUN counts only if the RUN's stage ends up in an image that is used: the
// last stage, or a stage another FROM builds upon.
type stageReported struct {
	bad       func(in *Instruction) bool
	stage     int             // index of the current stage, -1 before any FROM
	aliases   []string        // alias of each stage
	usedAsImg map[string]bool // image names of every FROM
	lines     []struct{ line, stage int }
}

func newStageReported(bad func(in *Instruction) bool) func(*ruleEnv) checker {
	return func(*ruleEnv) checker {
		return &stageReported{bad: bad, stage: -1, usedAsImg: map[string]bool{}}
	}
}

func (s *stageReported) check(in *Instruction, _ *reporter) {
	switch in.Kind {
	case KindFrom:
		s.stage++
		s.aliases = append(s.aliases, in.From.Alias)
		s.usedAsImg[in.From.Image()] = true
	case KindRun:
		if s.bad(in) {
			s.lines = append(s.lines, struct{ line, stage int }{in.Line, s.stage})
		}
	}
}

func (s *stageReported) done(r *reporter) {
	last := len(s.aliases) - 1
	for _, l := range s.lines {
		switch {
		case l.stage == last:
			r.add(l.line)
		case l.stage >= 0 && s.aliases[l.stage] != "" && s.usedAsImg[s.aliases[l.stage]]:
			r.add(l.line)
		}
	}
}

func newAptListsCleanup(env *ruleEnv) checker { return newStageReported(aptListsLeft)(env) }

func yarnCacheLeft(in *Instruction) bool {
	install := firstIndex(in, func(c *cmd) bool { return c.Is("yarn", "install") })
	if install < 0 {
		return false
	}
	if in.CacheMountTargetContains(".cache/yarn") {
		return false
	}
	clean := firstIndex(in, func(c *cmd) bool { return c.Is("yarn", "cache", "clean") })
	return clean < 0 || clean < install
}

func newYarnCacheClean(env *ruleEnv) checker { return newStageReported(yarnCacheLeft)(env) }

// --- pip -------------------------------------------------------------------

// isPipInstall recognises pip install and python -m pip install.
func isPipInstall(c *cmd) bool {
	if strings.HasPrefix(c.Name, "pip") && !strings.HasPrefix(c.Name, "pipenv") && c.HasArg("install") {
		return true
	}
	if strings.HasPrefix(c.Name, "python") {
		for i := 0; i+2 < len(c.Args); i++ {
			if c.Args[i] == "-m" && c.Args[i+1] == "pip" && c.Args[i+2] == "install" {
				return true
			}
		}
	}
	return false
}

// pipValueFlags are the pip install options that take a value.
var pipValueFlags = []string{
	"abi", "b", "build", "e", "editable", "extra-index-url", "f", "find-links", "i",
	"index-url", "implementation", "no-binary", "only-binary", "platform", "prefix",
	"progress-bar", "proxy", "python", "python-version", "root", "root-user-action", "src",
	"t", "target", "trusted-host", "upgrade-strategy",
}

func checkPipPinned(in *Instruction) bool {
	return !anyCommand(in, func(c *cmd) bool {
		if !isPipInstall(c) {
			return false
		}
		if c.HasArg("--requirement", "-r", ".") || c.HasFlag("c", "constraint") {
			return false
		}
		d := c.DropFlagValues(pipValueFlags...)
		for _, p := range argsAfter(d.ArgsNoFlags(), "install") {
			if !pipPinned(p) {
				return true
			}
		}
		return false
	})
}

func pipPinned(p string) bool {
	if containsAny(p, "==", ">=", "<=", ">", "<", "!=", "~=") {
		return true
	}
	vcs := hasAnyPrefix(p, "git", "hg+", "svn", "bzr+")
	if vcs {
		return strings.Contains(p, "@")
	}
	return hasAnySuffix(p, ".whl", ".tar.gz") || strings.Contains(p, "/")
}

// pipNoCache is DL3042. ENV PIP_NO_CACHE_DIR carries over to stages built
// FROM the stage that sets it.
type pipNoCache struct {
	stageOn map[string]bool
	stage   string
	on      bool
}

func newPipNoCache(*ruleEnv) checker { return &pipNoCache{stageOn: map[string]bool{}} }

func (p *pipNoCache) check(in *Instruction, r *reporter) {
	switch in.Kind {
	case KindFrom:
		p.on = p.stageOn[in.From.Image()]
		p.stage = in.From.StageName()
		p.stageOn[p.stage] = p.on
	case KindEnv:
		for _, kv := range in.Pairs {
			if kv.Key == "PIP_NO_CACHE_DIR" {
				p.on = isTruthy(kv.Value)
				p.stageOn[p.stage] = p.on
			}
		}
	case KindRun:
		if p.on || in.CacheMountTargetContains(".cache/pip") || setsTruthy(in.Run.Text, "PIP_NO_CACHE_DIR") {
			return
		}
		if anyCommand(in, func(c *cmd) bool {
			return isPipInstall(c) && !c.HasArg("--no-cache-dir") && !isPipWrapper(c)
		}) {
			r.add(in.Line)
		}
	}
}

func (p *pipNoCache) done(*reporter) {}

// isPipWrapper recognises pipx and pipenv, which manage their own caches.
func isPipWrapper(c *cmd) bool {
	if strings.Contains(c.Name, "pipx") || strings.Contains(c.Name, "pipenv") {
		return true
	}
	if strings.HasPrefix(c.Name, "python") {
		for i := 0; i+1 < len(c.Args); i++ {
			if c.Args[i] == "-m" && (c.Args[i+1] == "pipx" || c.Args[i+1] == "pipenv") {
				return true
			}
		}
	}
	return false
}

// --- npm, gem, go -------------------------------------------------------------

func checkNpmPinned(in *Instruction) bool {
	return !anyCommand(in, func(c *cmd) bool {
		if !c.Is("npm", "install") {
			return false
		}
		d := c.DropFlagValues("loglevel", "registry")
		args := d.ArgsNoFlags()
		if len(args) == 0 || args[0] != "install" {
			return false
		}
		for len(args) > 0 && args[0] == "install" {
			args = args[1:]
		}
		for _, p := range args {
			if !npmPinned(p) {
				return true
			}
		}
		return false
	})
}

func npmPinned(p string) bool {
	switch {
	case hasAnyPrefix(p, "git://", "git+ssh://", "git+http://", "git+https://"):
		return strings.Contains(p, "#")
	case hasAnySuffix(p, ".tar", ".tar.gz", ".tgz"):
		return true
	case hasAnyPrefix(p, "/", "./", "../", "~/"):
		return true
	}
	if strings.HasPrefix(p, "@") {
		if i := strings.Index(p, "/"); i >= 0 {
			p = p[i:]
		} else {
			p = ""
		}
	}
	return strings.Contains(p, "@")
}

func checkGemPinned(in *Instruction) bool {
	return !anyCommand(in, func(c *cmd) bool {
		if !c.Is("gem", "install", "i") {
			return false
		}
		if c.HasArg("-v", "--version") || c.HasArgPrefix("--version=") {
			return false
		}
		for i := 0; i < len(c.Args); i++ {
			a := c.Args[i]
			if a == "--" {
				break
			}
			if strings.HasPrefix(a, "-") {
				i++ // the option's value
				continue
			}
			if a == "install" || a == "i" {
				continue
			}
			if !strings.Contains(a, ":") {
				return true
			}
		}
		return false
	})
}

func checkGoPinned(in *Instruction) bool {
	return !anyCommand(in, func(c *cmd) bool {
		if c.Name != "go" {
			return false
		}
		args := c.ArgsNoFlags()
		if len(args) == 0 {
			return false
		}
		var pkgs []string
		switch args[0] {
		case "run":
			if len(args) > 1 {
				pkgs = args[1:2]
			}
		case "install", "get":
			pkgs = without(args[1:], "install", "get", "tool")
		default:
			return false
		}
		for _, p := range pkgs {
			if !goPinned(p) {
				return true
			}
		}
		return false
	})
}

func goPinned(p string) bool {
	if p == "." || hasAnyPrefix(p, "/", ".") {
		return true
	}
	return strings.Contains(p, "@") && !hasAnySuffix(p, "@latest", "@none")
}

// --- apk -------------------------------------------------------------------

func checkApkPinned(in *Instruction) bool {
	return !anyCommand(in, func(c *cmd) bool {
		if !c.Is("apk", "add") {
			return false
		}
		d := c.DropFlagValues("t", "virtual", "repository", "X")
		for _, p := range without(d.ArgsNoFlags(), "add") {
			if !strings.ContainsAny(p, "=~><") && !strings.HasSuffix(p, ".apk") {
				return true
			}
		}
		return false
	})
}

func checkApkNoCache(in *Instruction) bool {
	if in.CacheMountTargetContains("/var/cache/apk") {
		return true
	}
	return !anyCommand(in, func(c *cmd) bool { return c.Is("apk", "add") && !c.HasFlag("no-cache") })
}

// --- yum, dnf, zypper ------------------------------------------------------------

func yumYes(names ...string) func(in *Instruction) bool {
	return func(in *Instruction) bool {
		return !anyCommand(in, func(c *cmd) bool {
			return slices.Contains(names, c.Name) && c.HasArg("install", "groupinstall", "localinstall") &&
				!c.HasFlag("y", "assumeyes")
		})
	}
}

func checkYumClean(in *Instruction) bool {
	install := firstIndex(in, func(c *cmd) bool { return c.Is("yum", "install") })
	if install < 0 {
		return true
	}
	clean := firstIndex(in, func(c *cmd) bool { return c.Is("yum", "clean", "all") || c.Is("rm", "-rf", "/var/cache/yum/*") })
	return clean >= 0 && install < clean
}

func checkDnfClean(in *Instruction) bool {
	if in.CacheMountTargetContains("/var/cache/libdnf5") || in.CacheMountTargetContains(".cache/libdnf5") {
		return true
	}
	for _, name := range []string{"dnf", "microdnf"} {
		install := firstIndex(in, func(c *cmd) bool {
			return c.Is(name, "install", "in", "upgrade", "up", "upgrade-minimal", "up-min", "reinstall", "rei")
		})
		if install < 0 {
			continue
		}
		clean := firstIndex(in, func(c *cmd) bool {
			return c.Is(name, "clean", "all") || c.Is("rm", "-rf") || (c.Name == "rm" && c.HasArgPrefix("/var/cache/libdnf5"))
		})
		if clean < 0 || clean < install {
			return false
		}
	}
	return true
}

func checkZypperNonInteractive(in *Instruction) bool {
	return !anyCommand(in, func(c *cmd) bool {
		return c.Is("zypper", "install", "in", "remove", "rm", "source-install", "si", "patch") &&
			!c.HasFlag("non-interactive", "n", "no-confirm", "y")
	})
}

func checkZypperClean(in *Instruction) bool {
	if in.CacheMountTargetContains("/var/cache/zypp") {
		return true
	}
	install := firstIndex(in, func(c *cmd) bool { return c.Is("zypper", "install", "in") })
	if install < 0 {
		return true
	}
	clean := firstIndex(in, func(c *cmd) bool { return c.Is("zypper", "clean", "cc") })
	return clean >= 0 && install < clean
}

func checkZypperPinned(in *Instruction) bool {
	return !anyCommand(in, func(c *cmd) bool {
		if !c.Is("zypper", "install", "in") {
			return false
		}
		for _, p := range without(c.ArgsNoFlags(), "install", "in") {
			if !strings.ContainsAny(p, "=<>") && !strings.HasSuffix(p, ".rpm") {
				return true
			}
		}
		return false
	})
}

// rpmPinned is DL3033 (yum) and DL3041 (dnf, microdnf). A package given
// with a variable counts as pinned when the variable is defined by ENV in
// the stage (or the stage it is built FROM) or by an earlier ARG.
type rpmPinned struct {
	id       string
	names    []string
	args     map[string]bool
	stageEnv map[string]map[string]bool
	env      map[string]bool
	stage    string
}

func newRPMPinned(id string, names []string) func(*ruleEnv) checker {
	return func(*ruleEnv) checker {
		return &rpmPinned{id: id, names: names, args: map[string]bool{}, stageEnv: map[string]map[string]bool{}, env: map[string]bool{}}
	}
}

func (p *rpmPinned) check(in *Instruction, r *reporter) {
	switch in.Kind {
	case KindFrom:
		p.env = map[string]bool{}
		for k := range p.stageEnv[in.From.Image()] {
			p.env[k] = true
		}
		p.stage = in.From.StageName()
		p.stageEnv[p.stage] = p.env
	case KindArg:
		for _, kv := range in.Pairs {
			p.args[kv.Key] = true
		}
	case KindEnv:
		for _, kv := range in.Pairs {
			p.env[kv.Key] = true
		}
		p.stageEnv[p.stage] = p.env
	case KindRun:
		if !p.ok(in) {
			r.add(in.Line)
		}
	}
}

func (p *rpmPinned) done(*reporter) {}

func (p *rpmPinned) ok(in *Instruction) bool {
	for _, c := range in.Commands() {
		if !slices.Contains(p.names, c.Name) || !c.HasArg("install") {
			continue
		}
		subcommand := c.HasArg("module") || (p.id == "DL3041" && c.HasArg("group"))
		for _, a := range without(c.ArgsNoFlags(), "install", "module") {
			if c.HasArg("module") {
				if !strings.Contains(a, ":") {
					return false
				}
				continue
			}
			if subcommand {
				continue
			}
			if !p.packagePinned(a) {
				return false
			}
		}
	}
	return true
}

func (p *rpmPinned) packagePinned(pkg string) bool {
	parts := strings.Split(pkg, "-")
	if len(parts) <= 1 {
		return false
	}
	if strings.HasSuffix(pkg, ".rpm") {
		return true
	}
	if strings.Contains(pkg, "$") {
		for name := range p.env {
			if strings.Contains(pkg, "${"+name+"}") {
				return true
			}
		}
		for name := range p.args {
			if strings.Contains(pkg, "${"+name+"}") {
				return true
			}
		}
		return false
	}
	digit := false
	for _, part := range parts[1:] {
		for _, c := range part {
			if !(c < unicode.MaxASCII && (unicode.IsLetter(c) || unicode.IsDigit(c))) && !strings.ContainsRune(".~^_:+", c) {
				return false
			}
		}
		if part != "" && part[0] >= '0' && part[0] <= '9' {
			digit = true
		}
	}
	return digit
}

// --- users, downloads ----------------------------------------------------------

func checkUseraddLogInit(in *Instruction) bool {
	return !anyCommand(in, func(c *cmd) bool {
		if c.Name != "useradd" || c.HasFlag("l", "no-log-init") || !c.HasFlag("u", "uid") {
			return false
		}
		for i, a := range c.Args {
			var v string
			switch {
			case (a == "-u" || a == "--uid") && i+1 < len(c.Args):
				v = c.Args[i+1]
			case strings.HasPrefix(a, "--uid="):
				v = strings.TrimPrefix(a, "--uid=")
			default:
				continue
			}
			if len(v) > 5 {
				return true
			}
		}
		return false
	})
}

func checkWgetProgress(in *Instruction) bool {
	return !anyCommand(in, func(c *cmd) bool {
		return c.Name == "wget" && !c.HasFlag("progress") &&
			!c.HasFlag("q", "quiet", "o", "output-file", "a", "append-output", "no-verbose") && !c.HasArg("-nv")
	})
}

// curlAndWget is DL4001.
type curlAndWget struct{ seen map[string]bool }

func newCurlAndWget(*ruleEnv) checker { return &curlAndWget{seen: map[string]bool{}} }

func (c *curlAndWget) check(in *Instruction, r *reporter) {
	switch in.Kind {
	case KindFrom:
		c.seen = map[string]bool{}
	case KindRun:
		uses := false
		for _, x := range in.Commands() {
			if x.Name == "curl" || x.Name == "wget" {
				c.seen[x.Name] = true
				uses = true
			}
		}
		if uses && c.seen["curl"] && c.seen["wget"] {
			r.add(in.Line)
		}
	}
}

func (c *curlAndWget) done(*reporter) {}

// pipefail is DL4006.
type pipefail struct{ ok bool }

func newPipefail(*ruleEnv) checker { return &pipefail{} }

func (p *pipefail) check(in *Instruction, r *reporter) {
	switch in.Kind {
	case KindFrom:
		p.ok = false
	case KindShell:
		p.ok = isNonPOSIXShell(in.Text()) || in.ShellCmd.AnyCommand(func(c *cmd) bool {
			switch c.Base() {
			case "bash", "zsh", "ash":
				return c.HasFlag("o") && c.HasArg("pipefail")
			}
			return false
		})
	case KindRun:
		if !p.ok && in.Run.Script != nil && in.Run.Script.HasPipe {
			r.add(in.Line)
		}
	}
}

func (p *pipefail) done(*reporter) {}

// consecutiveRuns is DL3059.
type consecutiveRuns struct {
	have  bool
	flags string
	count int
}

func newConsecutiveRuns(*ruleEnv) checker { return &consecutiveRuns{} }

func runFlagsKey(in *Instruction) string {
	var mounts []string
	mounts = append(mounts, in.FlagValues("mount")...)
	slices.Sort(mounts)
	return strings.Join(mounts, "\x00") + "\x01" + in.Run.Network + "\x01" + in.Run.Security
}

func (c *consecutiveRuns) check(in *Instruction, r *reporter) {
	if in.Kind != KindRun {
		c.have = false
		return
	}
	// hadolint counts the commands a RUN writes; those reached through
	// sudo or bash -c do not make it longer.
	count := 0
	if in.Run != nil && in.Run.Script != nil {
		count = in.Run.Script.Written()
	}
	flags := runFlagsKey(in)
	if c.have && c.flags == flags && count <= 1 && c.count <= 1 {
		r.add(in.Line)
		return
	}
	c.have, c.flags, c.count = true, flags, count
}

func (c *consecutiveRuns) done(*reporter) {}

// copyThenExtract is DL3010.
type copyThenExtract struct {
	archives map[string][]archiveCopy // by base name
	found    map[archiveCopy]bool
	order    []archiveCopy
}

type archiveCopy struct {
	line int
	name string
}

var archiveExtensions = []string{".tar", ".Z", ".bz2", ".gz", ".lz", ".lzma", ".tZ", ".tb2", ".tbz", ".tbz2", ".tgz", ".tlz", ".tpz", ".txz", ".xz"}

func isArchive(p string) bool { return hasAnySuffix(dropQuotes(p), archiveExtensions...) }

// baseName is the last element of a Linux or Windows path, quotes dropped.
func baseName(p string) string {
	p = dropQuotes(p)
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

func newCopyThenExtract(*ruleEnv) checker {
	return &copyThenExtract{archives: map[string][]archiveCopy{}, found: map[archiveCopy]bool{}}
}

func (c *copyThenExtract) remember(line int, name string) {
	c.archives[name] = append(c.archives[name], archiveCopy{line, name})
}

func (c *copyThenExtract) check(in *Instruction, _ *reporter) {
	switch in.Kind {
	case KindFrom:
		clear(c.archives)
	case KindCopy:
		if in.Copy.From != "" {
			return
		}
		if isArchive(in.Copy.Dest) {
			c.remember(in.Line, baseName(in.Copy.Dest))
			return
		}
		for _, s := range in.Copy.Sources {
			if isArchive(baseName(s)) {
				c.remember(in.Line, baseName(s))
			}
		}
	case KindRun:
		if len(c.archives) == 0 {
			return
		}
		for _, x := range in.Commands() {
			if !isExtraction(&x) {
				continue
			}
			for _, a := range x.ArgsNoFlags() {
				for _, ac := range c.archives[baseName(a)] {
					if !c.found[ac] {
						c.found[ac] = true
						c.order = append(c.order, ac)
					}
				}
			}
		}
	}
}

// isExtraction recognises tar -x (or --extract, --get) and the
// decompressors.
func isExtraction(c *cmd) bool {
	switch c.Name {
	case "tar":
		return slices.ContainsFunc(c.Args, func(a string) bool {
			return a == "--extract" || a == "--get" || (strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "x"))
		})
	case "unzip", "gunzip", "bunzip2", "unlzma", "unxz", "zgz", "uncompress", "zcat", "gzcat":
		return true
	}
	return false
}

func (c *copyThenExtract) done(r *reporter) {
	for _, a := range c.order {
		r.add(a.line)
	}
}
