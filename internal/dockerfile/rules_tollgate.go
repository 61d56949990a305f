package dockerfile

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/tollgate-dev/tollgate/internal/secret"
)

// tollgateRules are tollgate's own rules for the five image practices,
// plus COPY-then-chown. They look only at the stages that end up in the
// final image: the last stage and the stages it is built FROM. Layers of
// other build stages are thrown away, so their size does not matter.
func tollgateRules() []*Rule {
	return []*Rule{
		{ID: "TG101", Severity: SeverityInfo,
			Message:    "This RUN follows another RUN; each one adds a layer to the final image.",
			Explain:    "Every RUN in the final image commits a layer. Files written in one layer and deleted in a later one still take space, and many small layers slow pulls down.",
			Fix:        "Join consecutive RUN instructions with && (and a backslash-newline for readability), or move build-only steps to an earlier stage.",
			newChecker: newFewerLayers},
		{ID: "TG102", Severity: SeverityWarning,
			Message:    "Package manager cache left in this layer.",
			Explain:    "Package managers keep downloaded indexes and packages (apt lists, yum/dnf metadata, the apk index, pip and npm caches). Unless they are removed in the same RUN they stay in the layer for good; a later RUN that deletes them only hides them.",
			Fix:        "Clean up in the same RUN: rm -rf /var/lib/apt/lists/* (apt), yum/dnf clean all, apk add --no-cache, pip install --no-cache-dir, npm cache clean --force; or use RUN --mount=type=cache for the cache directory.",
			newChecker: newCacheLeft},
		{ID: "TG103", Severity: SeverityWarning,
			Message:    "Debugging or network tool installed in the final image.",
			Explain:    "Editors, debuggers, packet sniffers, remote shells and sudo are not needed to run an application, and they are exactly what an attacker who gets into the container would want.",
			Fix:        "Do not install the tool in the final image; if the build needs it, install it in a build stage or remove it (apt-get purge, apk del) in the same RUN. Debug live containers with an ephemeral debug container instead.",
			newChecker: newDebugTools},
		{ID: "TG104", Severity: SeverityInfo,
			Message:    "The final image is built on a full distribution image; use a minimal one.",
			Explain:    "A full distribution base brings a shell, a package manager and hundreds of packages the application never uses: more to download, more to patch, more vulnerabilities to triage.",
			Fix:        "Build in a full image if needed, then copy the result into a minimal base: an -alpine or -slim variant, a distroless image (gcr.io/distroless/...), or scratch for static binaries.",
			newChecker: atEnd(checkMinimalBase)},
		{ID: "TG105", Severity: SeverityWarning,
			Message:    "The final image runs as root.",
			Explain:    "Without a USER instruction (or with USER root) the container's process runs as UID 0; a container escape then starts with root privileges, and Kubernetes' runAsNonRoot refuses the image.",
			Fix:        "Create an unprivileged user and switch to it at the end of the final stage: RUN useradd -r -u 10001 app, then USER 10001.",
			newChecker: atEnd(checkNonRoot)},
		{ID: "TG106", Severity: SeverityWarning,
			Message:    "RUN chown -R on files an earlier COPY added; use COPY --chown.",
			Explain:    "Changing the owner or mode of copied files in a later RUN rewrites every one of them into a new layer, so the image carries them twice.",
			Fix:        "Set owner and mode while copying: COPY --chown=app:app --chmod=755 src /dest, and drop the chown/chmod RUN.",
			newChecker: newCopyChown},
		{ID: "TG107", Severity: SeverityError,
			Message:    "Credential-shaped value in the Dockerfile.",
			Explain:    "An ENV value ends up in the image config (docker inspect shows it), an ARG default and a RUN line in the image history (docker history shows them), for anyone who can pull the image. The values are matched with the rules of tollgate's secret scanner (cloud keys, registry and forge tokens, private keys, passwords in URLs, NAME_PASSWORD=... assignments).",
			Fix:        "Revoke the credential; pass it at build time with RUN --mount=type=secret,id=... (read from /run/secrets/...) or at run time from a Kubernetes secret, and leave only a reference (${TOKEN}) in the Dockerfile.",
			newChecker: newCredentials()},
	}
}

// finalStageTracker follows which stage an instruction belongs to and
// whether that stage is part of the final image.
type finalStageTracker struct {
	env   *ruleEnv
	final map[int]bool
	cur   int
}

func newFinalStageTracker(env *ruleEnv) finalStageTracker {
	t := finalStageTracker{env: env, final: map[int]bool{}, cur: -1}
	for _, s := range env.stages.chain() {
		t.final[s.index] = true
	}
	return t
}

// step advances on FROM and reports whether in belongs to the final image.
func (t *finalStageTracker) step(in *Instruction) bool {
	if in.Kind == KindFrom {
		t.cur++
	}
	return t.final[t.cur]
}

// --- TG101 fewer layers ----------------------------------------------------------

type fewerLayers struct {
	finalStageTracker
	prevRun bool
	flags   string
}

func newFewerLayers(env *ruleEnv) checker {
	return &fewerLayers{finalStageTracker: newFinalStageTracker(env)}
}

func (f *fewerLayers) check(in *Instruction, r *reporter) {
	inFinal := f.step(in)
	if in.Kind != KindRun {
		f.prevRun = false
		return
	}
	flags := runFlagsKey(in)
	if inFinal && f.prevRun && flags == f.flags {
		r.add(in.Line)
	}
	f.prevRun, f.flags = true, flags
}

func (f *fewerLayers) done(*reporter) {}

// --- TG102 caches ----------------------------------------------------------------

type cacheLeft struct {
	finalStageTracker
	pipOff map[int]bool // stages with ENV PIP_NO_CACHE_DIR set
}

func newCacheLeft(env *ruleEnv) checker {
	return &cacheLeft{finalStageTracker: newFinalStageTracker(env), pipOff: map[int]bool{}}
}

func (c *cacheLeft) check(in *Instruction, r *reporter) {
	if !c.step(in) {
		return
	}
	switch in.Kind {
	case KindEnv:
		for _, kv := range in.Pairs {
			if kv.Key == "PIP_NO_CACHE_DIR" {
				c.pipOff[c.cur] = isTruthy(kv.Value)
			}
		}
	case KindRun:
		if left := c.leftovers(in); len(left) > 0 {
			r.addf(in.Line, "Package manager cache left in this layer: %s.", strings.Join(left, "; "))
		}
	}
}

func (c *cacheLeft) done(*reporter) {}

// removesAfter reports whether a command after position i deletes (rm -r)
// a path starting with one of prefixes. ~ and $HOME count as /root, the
// home of the user builds run as by default.
func removesAfter(in *Instruction, i int, prefixes ...string) bool {
	cmds := in.Commands()
	for j := i + 1; j < len(cmds); j++ {
		c := &cmds[j]
		if c.Name != "rm" || !c.HasFlag("r", "R", "recursive") {
			continue
		}
		for _, a := range c.ArgsNoFlags() {
			for _, home := range []string{"~", "${HOME}"} {
				if rest, ok := strings.CutPrefix(a, home); ok {
					a = "/root" + rest
				}
			}
			if hasAnyPrefix(a, prefixes...) {
				return true
			}
		}
	}
	return false
}

// cleanedAfter reports whether a command after position i satisfies f.
func cleanedAfter(in *Instruction, i int, f func(c *cmd) bool) bool {
	cmds := in.Commands()
	for j := i + 1; j < len(cmds); j++ {
		if f(&cmds[j]) {
			return true
		}
	}
	return false
}

func (c *cacheLeft) leftovers(in *Instruction) []string {
	var left []string
	cmds := in.Commands()
	last := func(f func(c *cmd) bool) int {
		idx := -1
		for i := range cmds {
			if f(&cmds[i]) {
				idx = i
			}
		}
		return idx
	}

	// apt: package lists from update (and install pulling them in).
	if i := last(func(x *cmd) bool {
		return x.Is("apt-get", "update", "install") || x.Is("apt", "update", "install") || x.Is("aptitude", "update", "install")
	}); i >= 0 && !in.CacheMountTargetContains("/var/lib/apt/lists") &&
		!removesAfter(in, i, "/var/lib/apt/lists") &&
		!cleanedAfter(in, i, func(x *cmd) bool { return x.Is("apt-get", "dist-clean") || x.Is("apt", "dist-clean") }) &&
		slices.ContainsFunc(cmds, func(x cmd) bool { return x.HasArg("update") }) {
		left = append(left, "apt lists (end the RUN with rm -rf /var/lib/apt/lists/*)")
	}

	// yum, dnf, microdnf.
	for _, pm := range []string{"yum", "dnf", "microdnf"} {
		i := last(func(x *cmd) bool {
			return x.Is(pm, "install", "groupinstall", "localinstall", "update", "upgrade", "reinstall", "in", "up")
		})
		if i < 0 {
			continue
		}
		dirs := []string{"/var/cache/yum", "/var/cache/dnf", "/var/cache/libdnf5"}
		if slices.ContainsFunc(dirs, in.CacheMountTargetContains) {
			continue
		}
		if cleanedAfter(in, i, func(x *cmd) bool { return x.Is(pm, "clean") }) || removesAfter(in, i, dirs...) {
			continue
		}
		left = append(left, fmt.Sprintf("%s cache (end the RUN with %s clean all)", pm, pm))
	}

	// apk.
	if i := last(func(x *cmd) bool {
		return (x.Is("apk", "add", "update", "upgrade")) && !x.HasFlag("no-cache")
	}); i >= 0 && !in.CacheMountTargetContains("/var/cache/apk") && !removesAfter(in, i, "/var/cache/apk") {
		left = append(left, "apk index (use apk add --no-cache)")
	}

	// zypper.
	if i := last(func(x *cmd) bool { return x.Is("zypper", "install", "in", "update", "up") }); i >= 0 &&
		!in.CacheMountTargetContains("/var/cache/zypp") &&
		!cleanedAfter(in, i, func(x *cmd) bool { return x.Is("zypper", "clean", "cc") }) &&
		!removesAfter(in, i, "/var/cache/zypp") {
		left = append(left, "zypper cache (end the RUN with zypper clean --all)")
	}

	// pip.
	pipOff := c.pipOff[c.cur] || setsTruthy(in.Run.Text, "PIP_NO_CACHE_DIR")
	if i := last(func(x *cmd) bool { return isPipInstall(x) && !isPipWrapper(x) && !x.HasArg("--no-cache-dir") }); i >= 0 && !pipOff &&
		!in.CacheMountTargetContains(".cache/pip") &&
		!cleanedAfter(in, i, func(x *cmd) bool {
			return (strings.HasPrefix(x.Name, "pip") && x.HasArg("cache") && x.HasArg("purge", "remove"))
		}) &&
		!removesAfter(in, i, "/root/.cache/pip", "/root/.cache") {
		left = append(left, "pip cache (use pip install --no-cache-dir)")
	}

	// npm and yarn.
	if i := last(func(x *cmd) bool { return x.Is("npm", "install", "i", "ci", "add") }); i >= 0 &&
		!in.CacheMountTargetContains(".npm") &&
		!cleanedAfter(in, i, func(x *cmd) bool { return x.Is("npm", "cache") && x.HasArg("clean") }) &&
		!removesAfter(in, i, "/root/.npm", "/tmp/.npm") {
		left = append(left, "npm cache (end the RUN with npm cache clean --force)")
	}
	if i := last(func(x *cmd) bool { return x.Is("yarn", "install", "add") }); i >= 0 &&
		!in.CacheMountTargetContains("yarn") &&
		!cleanedAfter(in, i, func(x *cmd) bool { return x.Is("yarn", "cache") && x.HasArg("clean") }) &&
		!removesAfter(in, i, "/usr/local/share/.cache/yarn", "/root/.cache/yarn", "/root/.yarn") {
		left = append(left, "yarn cache (end the RUN with yarn cache clean)")
	}
	return left
}

// --- TG103 debug tools -------------------------------------------------------------

// debugTools are packages that help inspect or attack a running container
// and that an application does not need.
var debugTools = []string{
	"bind-tools", "bind-utils", "busybox-extras", "dnsutils", "emacs", "emacs-nox", "gdb", "htop",
	"iputils-ping", "lsof", "ltrace", "nano", "ncat", "net-tools", "netcat", "netcat-openbsd",
	"netcat-traditional", "nmap", "nmap-ncat", "openssh", "openssh-client", "openssh-clients",
	"openssh-server", "socat", "strace", "sudo", "tcpdump", "telnet", "telnetd", "tshark", "vim",
	"vim-nox", "vim-tiny", "wireshark",
}

type debugToolsCheck struct{ finalStageTracker }

func newDebugTools(env *ruleEnv) checker {
	return &debugToolsCheck{finalStageTracker: newFinalStageTracker(env)}
}

func (d *debugToolsCheck) check(in *Instruction, r *reporter) {
	if !d.step(in) || in.Kind != KindRun {
		return
	}
	installed, removed := packageChanges(in)
	var found []string
	for _, p := range installed {
		if slices.Contains(debugTools, p) && !slices.Contains(removed, p) && !slices.Contains(found, p) {
			found = append(found, p)
		}
	}
	if len(found) > 0 {
		r.addf(in.Line, "Debugging or network tool installed in the final image: %s.", strings.Join(found, ", "))
	}
}

func (d *debugToolsCheck) done(*reporter) {}

// packageChanges returns the package names a RUN installs and removes with
// apt-get/apt, apk, yum/dnf/microdnf and zypper, versions stripped.
func packageChanges(in *Instruction) (installed, removed []string) {
	for _, c := range in.Commands() {
		var add, del []string
		switch c.Name {
		case "apt-get", "apt", "aptitude":
			add, del = []string{"install"}, []string{"remove", "purge", "autoremove"}
		case "apk":
			add, del = []string{"add"}, []string{"del"}
		case "yum", "dnf", "microdnf":
			add, del = []string{"install"}, []string{"remove", "erase", "autoremove"}
		case "zypper":
			add, del = []string{"install", "in"}, []string{"remove", "rm"}
		default:
			continue
		}
		d := c.DropFlagValues("t", "virtual", "repository", "X", "o")
		args := d.ArgsNoFlags()
		var dst *[]string
		for _, a := range args {
			switch {
			case slices.Contains(add, a) && dst == nil:
				dst = &installed
			case slices.Contains(del, a) && dst == nil:
				dst = &removed
			case dst != nil:
				*dst = append(*dst, packageName(a))
			}
		}
	}
	return installed, removed
}

// packageName strips a version or release from a package argument
// (curl=7.88, curl/bookworm, curl~8, curl>=8).
func packageName(a string) string {
	if i := strings.IndexAny(a, "=/~<>"); i > 0 {
		return a[:i]
	}
	return a
}

// --- TG104 minimal base ---------------------------------------------------------------

// checkMinimalBase reports the FROM the final image is ultimately built on
// when it is a full distribution image.
func checkMinimalBase(env *ruleEnv, r *reporter) {
	chain := env.stages.chain()
	if len(chain) == 0 {
		return
	}
	root := chain[len(chain)-1].from
	if !isMinimalBase(root.From) {
		r.addf(root.Line, "The final image is built on %s, a full distribution image; use a minimal base (alpine, slim, distroless or scratch).", root.From.Ref)
	}
}

// isMinimalBase recognises minimal base images by name and tag. A base
// given by a variable cannot be judged and passes.
func isMinimalBase(f *From) bool {
	img := strings.ToLower(f.Image())
	if strings.HasPrefix(img, "$") || img == "scratch" {
		return true
	}
	if f.Registry == "cgr.dev" || strings.Contains(img, "distroless") || strings.Contains(img, "chainguard") {
		return true
	}
	last := path.Base(img)
	switch last {
	case "alpine", "busybox", "nanoserver", "ubi-minimal", "ubi-micro", "static", "wolfi-base":
		return true
	}
	if hasAnySuffix(last, "-minimal", "-micro") {
		return true
	}
	tag := strings.ToLower(f.Tag)
	return strings.HasPrefix(tag, "$") || containsAny(tag, "alpine", "slim", "minimal", "distroless", "micro", "busybox", "nanoserver", "chiseled", "chiselled", "static")
}

// --- TG105 non-root -------------------------------------------------------------------

// checkNonRoot reports a final image whose last USER is root, or that has
// no USER at all on a base not known to set an unprivileged one.
func checkNonRoot(env *ruleEnv, r *reporter) {
	chain := env.stages.chain()
	if len(chain) == 0 {
		return
	}
	for _, s := range chain {
		for i := len(s.body) - 1; i >= 0; i-- {
			in := s.body[i]
			if in.Kind != KindUser {
				continue
			}
			if isRootUser(in.Text()) {
				r.addf(in.Line, "The final image runs as root (USER %s); switch to an unprivileged user.", strings.TrimSpace(in.Text()))
			}
			return
		}
	}
	root := chain[len(chain)-1].from.From
	if strings.Contains(strings.ToLower(root.Tag), "nonroot") || strings.Contains(strings.ToLower(root.Tag), "non-root") {
		return // the base image sets an unprivileged user
	}
	final := chain[0].from
	r.addf(final.Line, "The final image runs as root: no USER instruction; add one with an unprivileged UID.")
}

// --- TG106 COPY then chown -R -----------------------------------------------------------

type copyChown struct {
	finalStageTracker
	workdir string
	// copied maps each COPY destination to the line of its first COPY;
	// under maps every directory above a destination to that line too.
	copied, under map[string]int
}

func newCopyChown(env *ruleEnv) checker {
	return &copyChown{finalStageTracker: newFinalStageTracker(env), copied: map[string]int{}, under: map[string]int{}}
}

func (c *copyChown) remember(dest string, line int) {
	if _, ok := c.copied[dest]; !ok {
		c.copied[dest] = line
	}
	for d := path.Dir(dest); ; d = path.Dir(d) {
		if _, ok := c.under[d]; !ok {
			c.under[d] = line
		}
		if d == "/" || d == "." {
			return
		}
	}
}

// copyLine returns the line of a COPY whose destination is t, lies below t,
// or contains t.
func (c *copyChown) copyLine(t string) (int, bool) {
	if l, ok := c.copied[t]; ok {
		return l, true
	}
	if l, ok := c.under[t]; ok {
		return l, true
	}
	for d := path.Dir(t); ; d = path.Dir(d) {
		if l, ok := c.copied[d]; ok {
			return l, true
		}
		if d == "/" || d == "." {
			return 0, false
		}
	}
}

func (c *copyChown) check(in *Instruction, r *reporter) {
	inFinal := c.step(in)
	switch in.Kind {
	case KindFrom:
		c.workdir = ""
		clear(c.copied)
		clear(c.under)
	case KindWorkdir:
		c.workdir = c.resolve(dropQuotes(in.Text()))
	case KindCopy, KindAdd:
		if in.Copy.Chown != "" {
			return
		}
		if d := c.resolve(dropQuotes(in.Copy.Dest)); d != "" {
			c.remember(d, in.Line)
		}
	case KindRun:
		if !inFinal {
			return
		}
		for _, x := range in.Commands() {
			if (x.Name != "chown" && x.Name != "chmod" && x.Name != "chgrp") || !x.HasFlag("R", "recursive") {
				continue
			}
			args := x.ArgsNoFlags()
			if len(args) < 2 {
				continue
			}
			for _, target := range args[1:] {
				t := c.resolve(target)
				if t == "" {
					continue
				}
				if line, ok := c.copyLine(t); ok {
					flag := "--chown"
					if x.Name == "chmod" {
						flag = "--chmod"
					}
					r.addf(in.Line, "RUN %s -R %s %s rewrites the files COPY added at line %d into a new layer; use COPY %s=%s instead.", x.Name, args[0], target, line, flag, args[0])
					return
				}
			}
		}
	}
}

func (c *copyChown) done(*reporter) {}

// resolve makes p absolute against the current WORKDIR; "" when unknown.
func (c *copyChown) resolve(p string) string { return ResolvePath(c.workdir, p) }

// DebugTools returns the package names TG103 reports, for checks of built
// images that look for the same tools.
func DebugTools() []string { return slices.Clone(debugTools) }

// --- TG107 credentials ----------------------------------------------------------------

// credentials looks for secret values in ENV and ARG values and RUN lines.
type credentials struct{ s *secret.Scanner }

// newCredentials compiles the secret rules once per rule set (once per
// Linter), when the rule first runs.
func newCredentials() func(*ruleEnv) checker {
	var once sync.Once
	var s *secret.Scanner
	return func(*ruleEnv) checker {
		once.Do(func() {
			var err error
			if s, err = secret.New(secret.Options{}); err != nil {
				panic(fmt.Sprintf("dockerfile: the built-in secret rules do not compile: %v", err)) // a programming error
			}
		})
		return credentials{s}
	}
}

func (c credentials) check(in *Instruction, r *reporter) {
	var texts []string
	switch in.Kind {
	case KindEnv, KindArg:
		for _, kv := range in.Pairs {
			if kv.HasValue || in.Kind == KindEnv {
				texts = append(texts, kv.Key+"="+kv.Value)
			}
		}
	case KindRun:
		texts = append(texts, in.Original)
		for _, h := range in.Heredocs {
			texts = append(texts, h.Content)
		}
	default:
		return
	}
	for _, t := range texts {
		for _, f := range c.s.ScanBytes("Dockerfile", []byte(t)) {
			r.addf(in.Line, "Credential-shaped value in %s: %s (%s): %s", in.Kind, f.Title, f.RuleID, f.Match)
		}
	}
}

func (credentials) done(*reporter) {}
