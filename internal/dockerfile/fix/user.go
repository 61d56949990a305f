package fix

import (
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
)

// The user the fix creates.
const (
	userName = "app"
	userID   = "10001"
	// distrolessNonRoot is the unprivileged user distroless and Chainguard
	// images ship.
	distrolessNonRoot = "65532"
)

// fixUser gives a final image that has no USER an unprivileged one
// (TG105): an existing useradd of the stages is reused; otherwise the user
// is created with the base's own tool, in a RUN placed after the stage's
// last RUN so the merge fix joins the two.
func fixUser(x *run, d *doc) []edit {
	f := d.file
	chain := stageChain(f)
	if len(chain) == 0 {
		return nil
	}
	for _, from := range chain {
		for i := from + 1; i < stageEnd(f, from); i++ {
			if f.Instructions[i].Kind == dockerfile.KindUser {
				return nil // a USER root is the user's choice; TG105 reports it
			}
		}
	}
	if !slices.ContainsFunc(x.findings(d)[f.Instructions[chain[0]].Line], func(fd dockerfile.Finding) bool {
		return fd.Rule == "TG105"
	}) {
		return nil
	}
	final := chain[0]
	end := stageEnd(f, final)
	kw := keywordCase(f)

	// Where USER goes: after the last instruction that builds the
	// filesystem, so those still run as root, before CMD and the like.
	userAt := final
	for i := final + 1; i < end; i++ {
		switch f.Instructions[i].Kind {
		case dockerfile.KindRun, dockerfile.KindCopy, dockerfile.KindAdd, dockerfile.KindWorkdir, dockerfile.KindOnbuild, dockerfile.KindVolume:
			userAt = i
		}
	}
	_, userOff := d.span(f.Instructions[userAt])
	userLine := func(u string) string { return kw("USER") + " " + u + d.nl }

	if name := existingUser(f, chain); name != "" {
		x.apply("TG105", "USER %s (the user a RUN already creates)", name)
		return []edit{d.insertLines(userOff, userLine(name))}
	}
	create, uid := userCommand(familyOfChain(f, chain))
	if create == "" {
		x.apply("TG105", "USER %s", uid)
		return []edit{d.insertLines(userOff, userLine(uid))}
	}
	runLine := kw("RUN") + " " + create + d.nl
	// The RUN goes after the last RUN of the final stage that the merge
	// fix can join, else just before USER.
	runOff := userOff
	for i := end - 1; i > final; i-- {
		if _, ok := d.shellRunAt(i); ok && runFlags(f.Instructions[i]) == "" {
			_, runOff = d.span(f.Instructions[i])
			break
		}
	}
	x.apply("TG105", "created user %s (%s) and switched to it with USER %s", userName, uid, uid)
	if runOff == userOff {
		return []edit{d.insertLines(userOff, runLine+userLine(uid))}
	}
	return []edit{d.insertLines(runOff, runLine), d.insertLines(userOff, userLine(uid))}
}

// insertLines inserts whole lines at off, the start of a line or the end
// of the file; a last line without a line ending gets one first.
func (d *doc) insertLines(off int, text string) edit {
	if off == len(d.src) && len(d.src) > 0 && d.src[len(d.src)-1] != '\n' {
		text = d.nl + text
	}
	return edit{start: off, end: off, text: text}
}

// existingUser returns the user a useradd or adduser of the final image's
// stages creates, or "".
func existingUser(f *dockerfile.File, chain []int) string {
	for _, from := range chain {
		for i := stageEnd(f, from) - 1; i > from; i-- {
			cmds := f.Instructions[i].Commands()
			for j := len(cmds) - 1; j >= 0; j-- {
				c := cmds[j]
				if c.Name != "useradd" && c.Name != "adduser" {
					continue
				}
				c = c.DropFlagValues("u", "uid", "g", "gid", "G", "groups", "s", "shell", "d", "home", "home-dir", "c", "comment", "gecos", "k", "K", "e", "f", "p", "b", "Z", "h")
				if a := c.ArgsNoFlags(); len(a) > 0 && !strings.Contains(a[len(a)-1], "$") {
					return a[len(a)-1]
				}
			}
		}
	}
	return ""
}

// familyOfChain is the family of the final image's root base, or, when its
// name says nothing, the one its RUNs' package managers suggest.
func familyOfChain(f *dockerfile.File, chain []int) family {
	if fam := familyOf(f.Instructions[chain[len(chain)-1]].From); fam != famUnknown {
		return fam
	}
	for _, from := range chain {
		for i := from + 1; i < stageEnd(f, from); i++ {
			for _, c := range f.Instructions[i].Commands() {
				switch c.Name {
				case "apk":
					return famAlpine
				case "apt-get", "apt", "useradd":
					return famDebian
				case "yum", "dnf":
					return famRHEL
				case "microdnf":
					return famRHELMinimal
				case "zypper":
					return famSUSE
				}
			}
		}
	}
	return famUnknown
}

// userCommand is the shell command that creates the user on a family, and
// the UID to switch to. No command: the image cannot run one (distroless),
// or nothing is known about it; a numeric USER needs no passwd entry.
func userCommand(fam family) (string, string) {
	passwd := "echo '" + userName + ":x:" + userID + ":" + userID + "::/nonexistent:/bin/false' >> /etc/passwd && " +
		"echo '" + userName + ":x:" + userID + ":' >> /etc/group"
	switch fam {
	case famNone:
		return "", distrolessNonRoot
	case famBusybox, famRHELMinimal:
		return passwd, userID
	case famAlpine:
		return "addgroup -S -g " + userID + " " + userName + " && adduser -S -D -H -u " + userID + " -G " + userName + " " + userName, userID
	case famDebian, famRHEL, famSUSE:
		return "useradd -r -l -U -u " + userID + " " + userName, userID
	}
	return "", userID
}

// keywordCase returns a function writing keywords in the case the file
// uses (lower case when its first instruction is written so).
func keywordCase(f *dockerfile.File) func(string) string {
	if len(f.Instructions) > 0 {
		k := f.Instructions[0].Keyword
		if k == strings.ToLower(k) {
			return strings.ToLower
		}
	}
	return func(s string) string { return s }
}
