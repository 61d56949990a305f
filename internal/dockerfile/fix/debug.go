package fix

import (
	"regexp"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
)

// toolCommands maps a debug-tool package to the commands it provides, to
// tell whether a later instruction still uses it.
func toolCommands(pkg string) []string {
	switch {
	case strings.HasPrefix(pkg, "vim"):
		return []string{"vim", "vi", "view", "xxd"}
	case strings.HasPrefix(pkg, "emacs"):
		return []string{"emacs"}
	case strings.Contains(pkg, "netcat") || strings.Contains(pkg, "ncat"):
		return []string{"nc", "ncat", "netcat"}
	case strings.HasPrefix(pkg, "nmap"):
		return []string{"nmap", "ncat", "nc"}
	case strings.HasPrefix(pkg, "openssh"):
		return []string{"ssh", "scp", "sftp", "sshd", "ssh-keygen", "ssh-keyscan", "ssh-agent"}
	case pkg == "net-tools":
		return []string{"ifconfig", "netstat", "route", "arp"}
	case pkg == "iputils-ping":
		return []string{"ping"}
	case pkg == "dnsutils" || pkg == "bind-utils" || pkg == "bind-tools":
		return []string{"dig", "nslookup", "host"}
	case pkg == "busybox-extras":
		return []string{"telnet", "telnetd", "httpd", "ftpd"}
	case pkg == "wireshark":
		return []string{"tshark", "wireshark", "dumpcap"}
	}
	return []string{pkg}
}

// fixDebug drops the debug and network tools TG103 reports from the install
// commands of the final image, unless a later instruction uses them. Opt-in:
// a tool may be installed on purpose.
func fixDebug(x *run, d *doc) []edit {
	found := x.findings(d)
	ins := d.file.Instructions
	var edits []edit
	for i, in := range ins {
		var tools []string
		for _, f := range found[in.Line] {
			if f.Rule == "TG103" {
				_, list, _ := strings.Cut(f.Message, ": ")
				for _, t := range strings.Split(strings.TrimSuffix(list, "."), ", ") {
					tools = append(tools, strings.TrimSpace(t))
				}
			}
		}
		if len(tools) == 0 {
			continue
		}
		r, ok := d.editableRun(i)
		if !ok {
			continue
		}
		tools = slices.DeleteFunc(tools, func(t string) bool { return usedAfter(d, i, t) })
		if len(tools) == 0 {
			x.note("TG103", 0, "debug tools kept in RUN %s: a later instruction uses them", firstCommand(in))
			continue
		}
		e := &runEdit{r: r}
		var removed []string
		s, end := d.span(in)
		var inner []edit
		for ci := range r.script.calls {
			c := &r.script.calls[ci]
			sub := c.arg("install", "add", "in")
			if sub < 0 || !slices.Contains([]string{"apt-get", "apt", "aptitude", "apk", "yum", "dnf", "microdnf", "zypper"}, c.name()) {
				continue
			}
			var drop []int
			pkgs := 0
			for w := sub + 1; w < len(c.words); w++ {
				if isFlag(c.words[w]) || c.words[w] == "" {
					continue
				}
				pkgs++
				if slices.Contains(tools, pkgName(c.words[w])) {
					drop = append(drop, w)
				}
			}
			if len(drop) == 0 || len(drop) == pkgs {
				continue // removing every package would leave a broken command
			}
			for _, w := range drop {
				inner = append(inner, edit{start: r.body.srcOff(c.end[w-1]) - s, end: r.body.srcOff(c.end[w]) - s})
				removed = append(removed, pkgName(c.words[w]))
			}
		}
		if len(inner) == 0 {
			continue
		}
		text := string(apply(d.src[s:end], inner))
		nin, ok := x.verifyRun(d, text)
		if !ok || len(nin.Commands()) != len(e.r.in.Commands()) {
			continue
		}
		edits = append(edits, edit{start: s, end: end, text: text})
		x.apply("TG103", "removed %s from RUN %s", strings.Join(removed, ", "), firstCommand(in))
	}
	return edits
}

// pkgName strips a version from a package argument.
func pkgName(a string) string {
	if i := strings.IndexAny(a, "=/~<>"); i > 0 {
		return a[:i]
	}
	return a
}

// usedAfter reports whether an instruction after idx names one of the
// tool's commands as a word.
func usedAfter(d *doc, idx int, pkg string) bool {
	var alts []string
	for _, c := range toolCommands(pkg) {
		alts = append(alts, regexp.QuoteMeta(c))
	}
	re := regexp.MustCompile(`(^|[^A-Za-z0-9_.-])(` + strings.Join(alts, "|") + `)($|[^A-Za-z0-9_.-])`)
	for _, in := range d.file.Instructions[idx+1:] {
		if in.Kind == dockerfile.KindFrom && in.From.Alias != "" {
			continue
		}
		if re.MatchString(in.Original) {
			return true
		}
	}
	return false
}
