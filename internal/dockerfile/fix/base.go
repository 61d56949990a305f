package fix

import (
	"path"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
)

// family is the kind of base image as far as users and packages go.
type family uint8

const (
	famUnknown     family = iota
	famNone               // scratch, distroless: no shell, no package manager
	famBusybox            // a shell, no user tool
	famAlpine             // apk, busybox adduser
	famDebian             // apt, useradd
	famRHEL               // yum/dnf, useradd
	famRHELMinimal        // microdnf, no useradd
	famSUSE               // zypper, useradd
)

func (f family) String() string {
	switch f {
	case famNone:
		return "none (no shell or package manager)"
	case famBusybox:
		return "busybox"
	case famAlpine:
		return "apk (Alpine)"
	case famDebian:
		return "apt (Debian/Ubuntu)"
	case famRHEL:
		return "yum/dnf (RHEL family)"
	case famRHELMinimal:
		return "microdnf (UBI minimal)"
	case famSUSE:
		return "zypper (SUSE)"
	}
	return "unknown"
}

// familyOf guesses a base image's family from its name and tag. Official
// language images (python, node, golang…) are Debian-based unless their
// tag says alpine.
func familyOf(f *dockerfile.From) family {
	img := strings.ToLower(f.Image())
	name := path.Base(img)
	tag := strings.ToLower(f.Tag)
	switch {
	case strings.HasPrefix(img, "$") || strings.HasPrefix(tag, "$"):
		return famUnknown
	case img == "scratch" || strings.Contains(img, "distroless") || f.Registry == "cgr.dev" || name == "static":
		return famNone
	case name == "busybox" || strings.Contains(tag, "busybox"):
		return famBusybox
	case name == "alpine" || strings.Contains(tag, "alpine"):
		return famAlpine
	case strings.Contains(name, "ubi") && strings.Contains(name, "minimal"), strings.Contains(name, "micro"):
		return famRHELMinimal
	}
	for _, n := range []string{"ubi", "centos", "fedora", "rockylinux", "almalinux", "amazonlinux", "oraclelinux", "rhel"} {
		if strings.HasPrefix(name, n) {
			return famRHEL
		}
	}
	if strings.Contains(name, "suse") || name == "sles" || name == "leap" || name == "tumbleweed" {
		return famSUSE
	}
	for _, n := range []string{
		"debian", "ubuntu", "python", "node", "ruby", "golang", "openjdk", "eclipse-temurin", "php",
		"perl", "rust", "buildpack-deps", "nginx", "httpd", "postgres", "mysql", "mariadb", "redis",
		"maven", "gradle", "elixir", "erlang", "haskell", "julia", "r-base", "gcc", "clojure",
	} {
		if name == n {
			return famDebian
		}
	}
	return famUnknown
}

// suggestBase names a smaller or pinned base for a FROM, in words.
func suggestBase(f *dockerfile.From) string {
	name := path.Base(strings.ToLower(f.Image()))
	tag := f.Tag
	if tag == "" || tag == "latest" {
		tag = "<version>"
	}
	switch name {
	case "debian":
		return "debian:bookworm-slim, or gcr.io/distroless/base-debian12 for the final image"
	case "ubuntu":
		return "a pinned tag (ubuntu:24.04), or debian:bookworm-slim / gcr.io/distroless/base-debian12 for the final image"
	case "golang", "rust", "gcc":
		return "build in " + f.Image() + ":" + tag + ", then copy the binary into gcr.io/distroless/static-debian12 or scratch"
	case "centos", "fedora", "rockylinux", "almalinux", "ubi8", "ubi9", "ubi":
		return "registry.access.redhat.com/ubi9/ubi-minimal"
	case "busybox", "alpine", "scratch":
		return f.Image() + ":" + tag
	}
	if familyOf(f) == famDebian {
		return f.Image() + ":" + tag + "-slim (or -alpine)"
	}
	return "a pinned tag of an -alpine or -slim variant, a distroless image, or scratch"
}

// stageChain returns the indices of the FROM instructions of the final
// stage and of the stages it is built on, final first; the last is the
// root, the image the final image really starts from.
func stageChain(f *dockerfile.File) []int {
	var froms []int
	for i, in := range f.Instructions {
		if in.Kind == dockerfile.KindFrom {
			froms = append(froms, i)
		}
	}
	if len(froms) == 0 {
		return nil
	}
	chain := []int{froms[len(froms)-1]}
	for k := len(froms) - 1; ; {
		parent := -1
		img := f.Instructions[froms[k]].From
		if img.Tag == "" && img.Digest == "" {
			for j := k - 1; j >= 0; j-- {
				if strings.EqualFold(f.Instructions[froms[j]].From.Alias, img.Ref) {
					parent = j
					break
				}
			}
		}
		if parent < 0 {
			return chain
		}
		chain = append(chain, froms[parent])
		k = parent
	}
}

// stageEnd returns the index after the last instruction of the stage that
// starts at instruction from.
func stageEnd(f *dockerfile.File, from int) int {
	for i := from + 1; i < len(f.Instructions); i++ {
		if f.Instructions[i].Kind == dockerfile.KindFrom {
			return i
		}
	}
	return len(f.Instructions)
}

// fixBase reports untagged, latest and full-distribution bases with a
// suggestion (DL3006, DL3007, TG104) and, with Options.Base, replaces the
// image the final image is built on.
func fixBase(x *run, d *doc) []edit {
	chain := stageChain(d.file)
	for line, fs := range x.findings(d) {
		if x.opts.Base != "" && len(chain) > 0 && line == d.file.Instructions[chain[len(chain)-1]].Line {
			continue // being replaced
		}
		for _, f := range fs {
			if (f.Rule == "DL3006" || f.Rule == "DL3007" || f.Rule == "TG104") && x.on(f.Rule) {
				in := instructionAt(d.file, line)
				if in == nil || in.From == nil {
					continue
				}
				x.note(f.Rule, line, "%s Suggested: %s.", f.Message, suggestBase(in.From))
			}
		}
	}
	if x.opts.Base == "" || len(chain) == 0 {
		return nil
	}
	root := d.file.Instructions[chain[len(chain)-1]]
	if root.From.Ref == x.opts.Base {
		return nil
	}
	s, e := d.span(root)
	text := string(d.src[s:e])
	// The reference is the first word after the keyword and flags that
	// is spelled as parsed.
	kw := strings.Index(text, root.Keyword) + len(root.Keyword)
	i := strings.Index(text[kw:], root.From.Ref)
	if i < 0 {
		return nil
	}
	at := s + kw + i
	newFrom := &dockerfile.From{}
	if nf, err := dockerfile.Parse("base", []byte("FROM "+x.opts.Base+"\n")); err == nil && len(nf.Instructions) == 1 {
		newFrom = nf.Instructions[0].From
	}
	oldFam, newFam := familyOf(root.From), familyOf(newFrom)
	if pm := packageManagerUsed(d.file, chain); pm != "" && oldFam != newFam {
		x.note("TG104", root.Line, "the new base %s is of family %s, the old %s of %s; RUN commands using %s are not translated",
			x.opts.Base, newFam, root.From.Ref, oldFam, pm)
	}
	x.apply("TG104", "final image now built on %s (was %s)", x.opts.Base, root.From.Ref)
	return []edit{{start: at, end: at + len(root.From.Ref), text: x.opts.Base}}
}

// packageManagerUsed names a package manager or user tool a RUN of the final image's
// stages calls, or "".
func packageManagerUsed(f *dockerfile.File, chain []int) string {
	for _, from := range chain {
		for i := from + 1; i < stageEnd(f, from); i++ {
			for _, c := range f.Instructions[i].Commands() {
				switch c.Name {
				case "apt-get", "apt", "apk", "yum", "dnf", "microdnf", "zypper", "useradd", "groupadd", "adduser", "addgroup":
					return c.Name
				}
			}
		}
	}
	return ""
}

func instructionAt(f *dockerfile.File, line int) *dockerfile.Instruction {
	for _, in := range f.Instructions {
		if in.Line == line {
			return in
		}
	}
	return nil
}
