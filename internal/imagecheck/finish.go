package imagecheck

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/dockerfile"
	"github.com/tollgate-dev/tollgate/internal/dockerfile/shell"
	"github.com/tollgate-dev/tollgate/internal/image"
	"github.com/tollgate-dev/tollgate/internal/inventory"
)

// Package databases the checks read.
const (
	dpkgStatus   = "var/lib/dpkg/status"
	dpkgStatusD  = "var/lib/dpkg/status.d"
	apkInstalled = "lib/apk/db/installed"
)

// finish runs the checks once every layer has been read.
func (r *run) finish() {
	r.checkConfig()
	r.checkHistory()
	r.checkSecrets()
	paths := slices.Sorted(maps.Keys(r.nodes))
	r.checkFiles(paths)
	r.checkAccounts()
	r.checkDebugTools()
	r.checkBase(paths)
	r.checkLayerCaches()
	r.checkWaste()
}

// --- config -----------------------------------------------------------------

func (r *run) checkConfig() {
	cfg := r.img.Config.Config
	if u, ok := r.rootUser(cfg.User); ok {
		msg := "The image has no USER: it runs as root."
		if cfg.User != "" {
			msg = fmt.Sprintf("The image's user %q is root%s.", cfg.User, u)
		}
		r.rep.add(IDRootUser, Finding{Message: msg})
	}
	if hc := cfg.Healthcheck; hc == nil || len(hc.Test) == 0 || strings.EqualFold(hc.Test[0], "NONE") {
		msg := "The image has no HEALTHCHECK."
		if hc != nil && len(hc.Test) > 0 {
			msg = "The image's HEALTHCHECK is NONE: health checking is switched off."
		}
		r.rep.add(IDHealthcheck, Finding{Message: msg})
	}
	for _, v := range slices.Sorted(maps.Keys(cfg.Volumes)) {
		clean := path.Clean("/" + strings.TrimLeft(v, "/"))
		for _, sys := range []string{"/proc", "/sys", "/dev"} {
			if clean == sys || strings.HasPrefix(clean, sys+"/") {
				r.rep.add(IDSensitiveVolume, Finding{Path: strings.TrimPrefix(clean, "/"), Message: fmt.Sprintf("VOLUME %s is over the host system directory %s.", v, sys)})
			}
		}
	}
}

// rootUser reports whether the config's User runs as UID 0, and how it
// was worked out (" (UID 0 in /etc/passwd)") for the message.
func (r *run) rootUser(user string) (string, bool) {
	name, _, _ := strings.Cut(strings.TrimSpace(user), ":")
	switch name {
	case "", "root", "0":
		return "", true
	}
	if _, err := strconv.Atoi(name); err == nil {
		return "", false
	}
	if f, ok := r.wanted["etc/passwd"]; ok {
		for _, fields := range colonLines(f.data, 3) {
			if fields[0] == name && fields[2] == "0" {
				return " (UID 0 in /etc/passwd)", true
			}
		}
	}
	return "", false
}

// --- history ------------------------------------------------------------------

func (r *run) checkHistory() {
	var p *shell.Parser
	for i, st := range r.steps {
		switch st.Instruction {
		case "RUN":
			if p == nil {
				p = shell.NewParser()
			}
			r.checkRun(i, p.Parse(st.Args))
		case "ADD":
			r.checkAdd(i, st)
		}
	}
}

func (r *run) checkRun(i int, s *shell.Script) {
	apt := func(c *shell.Command, args ...string) bool {
		return c.Is("apt-get", args...) || c.Is("apt", args...)
	}
	sudo, distUpgrade, update := false, false, -1
	for j := range s.Commands {
		c := &s.Commands[j]
		if c.Name == "sudo" {
			sudo = true
		}
		if apt(c, "dist-upgrade", "full-upgrade") {
			distUpgrade = true
		}
		if apt(c, "update") {
			update = j
		}
		if update >= 0 && j > update && apt(c, "install", "upgrade", "dist-upgrade", "full-upgrade") {
			update = -2 // an install follows the update
		}
	}
	l := r.stepLayer(i)
	if sudo {
		r.rep.add(IDSudo, Finding{Layer: l, Message: "A RUN uses sudo."})
	}
	if distUpgrade {
		r.rep.add(IDDistUpgrade, Finding{Layer: l, Message: "A RUN runs apt-get dist-upgrade."})
	}
	if update >= 0 {
		r.rep.add(IDUpdateAlone, Finding{Layer: l, Message: "A RUN runs apt-get update without installing in the same RUN."})
	}
}

// archiveExts are the archives ADD unpacks (tar, alone or compressed).
var archiveExts = []string{".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".tzst", ".tar.lzma"}

func (r *run) checkAdd(i int, st Step) {
	// The base image's root filesystem: a local archive ADDed to / that
	// made layer 1.
	baseRootfs := len(r.layerStep) > 0 && r.layerStep[0] == i && (strings.HasSuffix(st.Args, " /") || strings.HasSuffix(st.Args, " in /"))
	// ADD --checksum verifies what it downloads.
	verified := strings.Contains(st.Args, "--checksum=")
	for _, src := range addSources(st.Args) {
		low := strings.ToLower(src)
		switch {
		case strings.HasPrefix(low, "http://") || strings.HasPrefix(low, "https://") || strings.HasPrefix(low, "git@") || strings.HasPrefix(low, "git://"):
			if !verified {
				r.rep.add(IDAdd, Finding{Layer: r.stepLayer(i), Message: fmt.Sprintf("ADD fetches %s from the network without verifying it.", src)})
			}
		case hasAnySuffix(low, archiveExts...) && !baseRootfs:
			r.rep.add(IDAdd, Finding{Layer: r.stepLayer(i), Message: fmt.Sprintf("ADD unpacks the archive %s implicitly.", src)})
		}
	}
}

func hasAnySuffix(s string, suffixes ...string) bool {
	return slices.ContainsFunc(suffixes, func(x string) bool { return strings.HasSuffix(s, x) })
}

// --- secrets ------------------------------------------------------------------

func (r *run) checkSecrets() {
	if r.o.Secrets == nil {
		return
	}
	for i, s := range r.secrets {
		f := s.f
		f.Layer = r.layer(s.layer)
		msg := fmt.Sprintf("%s in /%s line %d (%s): %s", f.Title, s.path, f.StartLine, f.RuleID, f.Match)
		if d, ok := r.deletedIn[i]; ok {
			f.DeletedIn = r.layer(d)
			msg += fmt.Sprintf(" — deleted or replaced by %s, but still in %s for anyone who pulls the image", r.layerName(d), r.layerName(s.layer))
		}
		r.allSecrets = append(r.allSecrets, f)
		r.rep.add(IDCredentials, Finding{Severity: f.Severity, Path: s.path, Layer: f.Layer, DeletedIn: f.DeletedIn, Message: msg + "."})
	}
	for _, f := range r.o.Secrets.ScanConfig(r.img.Config) {
		var hist int
		if n, err := fmt.Sscanf(f.Path, "history[%d]", &hist); err == nil && n == 1 && hist < len(r.img.Config.History) {
			f.Layer = r.stepLayer(hist)
		}
		r.allSecrets = append(r.allSecrets, f)
		r.rep.add(IDCredentials, Finding{Severity: f.Severity, Layer: f.Layer,
			Message: fmt.Sprintf("%s in the image config's %s (%s): %s.", f.Title, f.Path, f.RuleID, f.Match)})
	}
}

// --- final filesystem -------------------------------------------------------------

// unneededNames and unneededDirs are what DKL-LI-0003 looks for (dockle's
// lists).
var (
	unneededNames = []string{"Dockerfile", "docker-compose.yml", "docker-compose.yaml", ".vimrc", ".DS_Store"}
	unneededDirs  = []string{".cache", ".aws", ".azure", ".gcp", ".git", ".vscode", ".idea", ".npm"}
)

// tmpDirs hold files anyone may write by design.
var tmpDirs = []string{"tmp/", "var/tmp/", "dev/shm/", "run/lock/", "var/lock/"}

func (r *run) checkFiles(paths []string) {
	type cacheSum struct {
		bytes   int64
		byLayer map[int]int64
	}
	caches := map[string]*cacheSum{}
	var cacheOrder []string
	dirSize := map[string]int64{}
	dirLayer := map[string]int{}
	var unneeded []string
	for _, p := range paths {
		n := r.nodes[p]
		switch n.typ {
		case image.TypeFile:
			if n.mode&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
				bits := "setuid"
				if n.mode&fs.ModeSetuid == 0 {
					bits = "setgid"
				} else if n.mode&fs.ModeSetgid != 0 {
					bits = "setuid and setgid"
				}
				r.rep.add(IDSetuid, Finding{Path: p, Layer: r.layer(n.layer), Message: fmt.Sprintf("/%s is %s (mode %s).", p, bits, n.mode)})
			}
			if n.mode.Perm()&0o002 != 0 && !hasAnyPrefix(p, tmpDirs...) {
				r.rep.add(IDWorldWritable, Finding{Path: p, Layer: r.layer(n.layer), Message: fmt.Sprintf("/%s is writable by every user (mode %s).", p, n.mode)})
			}
			if kind, dir, ok := cacheOf(p); ok {
				key := kind + "\x00" + dir
				c := caches[key]
				if c == nil {
					c = &cacheSum{byLayer: map[int]int64{}}
					caches[key] = c
					cacheOrder = append(cacheOrder, key)
				}
				c.bytes += n.size
				c.byLayer[n.layer] += n.size
			}
			if slices.Contains(unneededNames, path.Base(p)) && !underVendored(p) {
				unneeded = append(unneeded, p)
			}
			for d := path.Dir(p); d != "."; d = path.Dir(d) {
				if slices.Contains(unneededDirs, path.Base(d)) {
					dirSize[d] += n.size
				}
			}
		case image.TypeDir:
			if n.mode.Perm()&0o002 != 0 && n.mode&fs.ModeSticky == 0 {
				r.rep.add(IDWorldWritable, Finding{Path: p, Layer: r.layer(n.layer), Message: fmt.Sprintf("Directory /%s is writable by every user without the sticky bit (mode %s).", p, n.mode)})
			}
		}
		// Unneeded directories, also when the layer tar has no entry of
		// their own: the outermost one above any path.
		d := p
		if n.typ != image.TypeDir {
			d = path.Dir(p)
		}
		for ; d != "."; d = path.Dir(d) {
			if slices.Contains(unneededDirs, path.Base(d)) && !underVendored(d) && !insideUnneeded(d) {
				if _, seen := dirLayer[d]; !seen {
					dirLayer[d] = n.layer
					unneeded = append(unneeded, d)
				}
				break
			}
		}
	}
	sort.Strings(unneeded)
	for _, p := range unneeded {
		if n, ok := r.nodes[p]; ok && n.typ != image.TypeDir {
			r.rep.add(IDUnneededFiles, Finding{Path: p, Size: n.size, Layer: r.layer(n.layer), Message: fmt.Sprintf("/%s does not belong in an image.", p)})
			continue
		}
		layer := dirLayer[p]
		if n, ok := r.nodes[p]; ok {
			layer = n.layer
		}
		r.rep.add(IDUnneededFiles, Finding{Path: p, Size: dirSize[p], Layer: r.layer(layer),
			Message: fmt.Sprintf("Directory /%s (%s) does not belong in an image.", p, bytesText(dirSize[p]))})
	}
	for _, key := range cacheOrder {
		c := caches[key]
		if c.bytes == 0 || c.bytes < r.o.MinCacheBytes {
			continue
		}
		kind, dir, _ := strings.Cut(key, "\x00")
		top := heaviest(c.byLayer)
		r.rep.add(IDCacheInImage, Finding{Path: dir, Size: c.bytes, Layer: r.layer(top),
			Message: fmt.Sprintf("The %s cache /%s holds %s in the final image (%s of it from %s).", kind, dir, bytesText(c.bytes), bytesText(c.byLayer[top]), r.layerName(top))})
	}
}

// underVendored reports a path below node_modules/ or vendor/, where
// dependencies bring their own dot-files (dockle skips them too).
func underVendored(p string) bool {
	return strings.Contains("/"+p+"/", "/node_modules/") || strings.Contains("/"+p+"/", "/vendor/")
}

// insideUnneeded reports a directory below another unneeded directory
// (.git/…/.cache): only the outer one is reported.
func insideUnneeded(p string) bool {
	for d := path.Dir(p); d != "."; d = path.Dir(d) {
		if slices.Contains(unneededDirs, path.Base(d)) {
			return true
		}
	}
	return false
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	return slices.ContainsFunc(prefixes, func(x string) bool { return strings.HasPrefix(s, x) })
}

// heaviest returns the key with the most bytes (the lowest on a tie).
func heaviest(m map[int]int64) int {
	best, bestN := -1, int64(-1)
	for k, n := range m {
		if n > bestN || (n == bestN && k < best) {
			best, bestN = k, n
		}
	}
	return best
}

// cacheOf recognises the files of package-manager caches: what kind, and
// the cache directory.
func cacheOf(p string) (kind, dir string, ok bool) {
	base := path.Base(p)
	if base == "lock" || strings.Contains(p, "/partial/") {
		return "", "", false
	}
	for _, c := range []struct{ kind, dir string }{
		{"apt lists", "var/lib/apt/lists"},
		{"apt", "var/cache/apt"},
		{"yum", "var/cache/yum"},
		{"dnf", "var/cache/dnf"},
		{"dnf", "var/cache/libdnf5"},
		{"zypper", "var/cache/zypp"},
		{"apk", "var/cache/apk"},
		{"yarn", "usr/local/share/.cache/yarn"},
	} {
		if strings.HasPrefix(p, c.dir+"/") {
			return c.kind, c.dir, true
		}
	}
	// Caches in home directories: root's and /home/*'s.
	home := ""
	switch {
	case strings.HasPrefix(p, "root/"):
		home = "root"
	case strings.HasPrefix(p, "home/"):
		if parts := strings.SplitN(p, "/", 3); len(parts) == 3 {
			home = parts[0] + "/" + parts[1]
		}
	}
	if home == "" {
		return "", "", false
	}
	for _, c := range []struct{ kind, dir string }{
		{"pip", ".cache/pip"}, {"npm", ".npm/_cacache"}, {"yarn", ".cache/yarn"}, {"Go build", ".cache/go-build"},
	} {
		if strings.HasPrefix(p, home+"/"+c.dir+"/") {
			return c.kind, home + "/" + c.dir, true
		}
	}
	return "", "", false
}

// noteCache records a cache file layer cur adds, for DKL-DI-0004/0005.
func (r *run) noteCache(p string, size int64) {
	if kind, dir, ok := cacheOf(p); ok && (kind == "apk" || strings.HasPrefix(kind, "apt")) {
		r.caches[r.cur] = append(r.caches[r.cur], cacheAdd{kind: kind, dir: dir, path: p, size: size})
	}
}

func (r *run) checkLayerCaches() {
	for i, adds := range r.caches {
		type sum struct {
			bytes, kept int64
		}
		sums := map[string]*sum{}
		var order []string
		for _, a := range adds {
			s := sums[a.dir]
			if s == nil {
				s = &sum{}
				sums[a.dir] = s
				order = append(order, a.dir)
			}
			s.bytes += a.size
			if n, ok := r.nodes[a.path]; ok && n.layer == i {
				s.kept += a.size
			}
		}
		for _, dir := range order {
			s := sums[dir]
			if s.bytes == 0 || s.bytes < r.o.MinCacheBytes {
				continue
			}
			id := IDAptCache
			if dir == "var/cache/apk" {
				id = IDApkCache
			}
			msg := fmt.Sprintf("%s adds %s under /%s.", strings.ToUpper(r.layerName(i)[:1])+r.layerName(i)[1:], bytesText(s.bytes), dir)
			if s.kept < s.bytes {
				msg += fmt.Sprintf(" A later layer deletes %s of it, but the bytes stay in this layer.", bytesText(s.bytes-s.kept))
			}
			r.rep.add(id, Finding{Path: dir, Size: s.bytes, Layer: r.layer(i), Message: msg})
		}
	}
}

func (r *run) checkWaste() {
	for i, w := range r.waste {
		if w.bytes < r.o.minWaste() {
			continue
		}
		by := heaviest(w.by)
		var big []string
		for _, b := range w.biggest {
			big = append(big, fmt.Sprintf("/%s (%s)", b.path, bytesText(b.size)))
		}
		r.rep.add(IDWaste, Finding{Path: w.biggest[0].path, Size: w.bytes, Layer: r.layer(i), DeletedIn: r.layer(by),
			Message: fmt.Sprintf("%s in %s of %s are deleted or replaced by a later layer (most by %s) but still downloaded: %s.",
				bytesText(w.bytes), plural(w.files, "file"), r.layerName(i), r.layerName(by), strings.Join(big, ", "))})
	}
}

// --- accounts -------------------------------------------------------------------------

// colonLines splits a passwd-style file into the fields of its lines with
// at least min fields; comments, blank and short lines are skipped.
func colonLines(b []byte, min int) [][]string {
	var out [][]string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if f := strings.Split(line, ":"); len(f) >= min {
			out = append(out, f)
		}
	}
	return out
}

func (r *run) checkAccounts() {
	for _, p := range []string{"etc/shadow", "etc/master.passwd"} {
		f, ok := r.wanted[p]
		if !ok {
			continue
		}
		for _, fields := range colonLines(f.data, 2) {
			if fields[1] == "" {
				r.rep.add(IDEmptyPassword, Finding{Path: p, Layer: r.layer(f.layer), Message: fmt.Sprintf("Account %s in /%s has an empty password.", fields[0], p)})
			}
		}
	}
	for _, db := range []struct{ path, what string }{{"etc/passwd", "UID"}, {"etc/group", "GID"}} {
		f, ok := r.wanted[db.path]
		if !ok {
			continue
		}
		owners := map[string][]string{}
		var ids []string
		for _, fields := range colonLines(f.data, 3) {
			id := fields[2]
			if _, seen := owners[id]; !seen {
				ids = append(ids, id)
			}
			owners[id] = append(owners[id], fields[0])
		}
		for _, id := range ids {
			if names := owners[id]; len(names) > 1 {
				r.rep.add(IDDuplicateID, Finding{Path: db.path, Layer: r.layer(f.layer),
					Message: fmt.Sprintf("%s %s is shared by %s in /%s.", db.what, id, strings.Join(names, ", "), db.path)})
			}
		}
	}
}

// --- packages -----------------------------------------------------------------------------

// dpkgPackage is one installed paragraph of a dpkg status file.
type dpkgPackage struct {
	name    string
	sizeKiB int64
}

// dpkgInstalled returns the installed packages of a dpkg status file (or
// a status.d file, which has no Status field).
func dpkgInstalled(data []byte) []dpkgPackage {
	var out []dpkgPackage
	for _, para := range bytes.Split(data, []byte("\n\n")) {
		var p dpkgPackage
		installed := true
		for _, line := range strings.Split(string(para), "\n") {
			if v, ok := strings.CutPrefix(line, "Package:"); ok {
				p.name = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(line, "Status:"); ok {
				installed = strings.HasSuffix(strings.TrimSpace(v), " installed")
			}
			if v, ok := strings.CutPrefix(line, "Installed-Size:"); ok {
				p.sizeKiB, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			}
		}
		if p.name != "" && installed {
			out = append(out, p)
		}
	}
	return out
}

// packageNames returns the installed package names of a package database
// file, nil for other files.
func packageNames(p string, data []byte) map[string]bool {
	switch {
	case p == dpkgStatus || strings.HasPrefix(p, dpkgStatusD+"/"):
		names := map[string]bool{}
		for _, pkg := range dpkgInstalled(data) {
			names[pkg.name] = true
		}
		return names
	case p == apkInstalled:
		names := map[string]bool{}
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "P:"); ok {
				names[strings.TrimSpace(v)] = true
			}
		}
		return names
	}
	return nil
}

// installedSince returns, for each package of the final version of a
// database file, the layer since which it has been in every version.
func (r *run) installedSince(p string) map[string]int {
	if _, ok := r.wanted[p]; !ok {
		return nil
	}
	since := map[string]int{}
	for _, v := range r.dbVersions[p] {
		for name := range since {
			if !v.names[name] {
				delete(since, name)
			}
		}
		for name := range v.names {
			if _, ok := since[name]; !ok {
				since[name] = v.layer
			}
		}
	}
	return since
}

func (r *run) checkDebugTools() {
	tools := dockerfile.DebugTools()
	report := func(db, name string, layer int) {
		if slices.Contains(tools, name) {
			r.rep.add(IDDebugTools, Finding{Path: db, Layer: r.layer(layer), Message: fmt.Sprintf("%s is installed (/%s).", name, db)})
		}
	}
	dbs := []string{dpkgStatus, apkInstalled}
	for _, p := range slices.Sorted(maps.Keys(r.wanted)) {
		if inventory.IsRPMDatabase(p) {
			dbs = append(dbs, p)
		}
	}
	for _, db := range dbs {
		since := r.installedSince(db)
		for _, n := range slices.Sorted(maps.Keys(since)) {
			report(db, n, since[n])
		}
	}
	for _, p := range slices.Sorted(maps.Keys(r.wanted)) {
		if !strings.HasPrefix(p, dpkgStatusD+"/") {
			continue
		}
		f := r.wanted[p]
		names := packageNames(p, f.data)
		for _, n := range slices.Sorted(maps.Keys(names)) {
			report(p, n, f.layer)
		}
	}
}

// --- base ---------------------------------------------------------------------------------

// fullDistros are os-release IDs of full distributions; Debian counts
// only with its documentation installed (the -slim variants drop it).
var fullDistros = []string{"debian", "ubuntu", "fedora", "centos", "rhel", "rocky", "almalinux", "ol", "amzn", "opensuse-leap", "opensuse-tumbleweed", "sles", "arch"}

// packageManagers are the full package-manager front ends; minimal
// variants ship microdnf or none.
var packageManagers = []string{"usr/bin/apt-get", "usr/bin/dnf", "usr/bin/yum", "usr/bin/zypper", "usr/bin/pacman", "bin/yum", "bin/dnf"}

func (r *run) checkBase(paths []string) {
	osPath := "etc/os-release"
	f, ok := r.wanted[osPath]
	if !ok {
		osPath = "usr/lib/os-release"
		if f, ok = r.wanted[osPath]; !ok {
			return // scratch or distroless-static: nothing to judge
		}
	}
	id, pretty := strings.ToLower(osReleaseValue(f.data, "ID")), osReleaseValue(f.data, "PRETTY_NAME")
	if !slices.Contains(fullDistros, id) {
		return
	}
	if !slices.ContainsFunc(packageManagers, func(p string) bool { _, ok := r.nodes[p]; return ok }) {
		return // no package manager: distroless, UBI micro
	}
	if id == "debian" {
		docs := slices.ContainsFunc(paths, func(p string) bool {
			return r.nodes[p].typ == image.TypeFile && (strings.HasPrefix(p, "usr/share/man/") ||
				(strings.HasPrefix(p, "usr/share/doc/") && path.Base(p) != "copyright"))
		})
		if !docs {
			return // debian:*-slim
		}
	}
	size, how := r.installedSize(paths)
	if pretty == "" {
		pretty = id
	}
	r.rep.add(IDFullBase, Finding{Path: osPath, Size: size, Layer: r.layer(0),
		Message: fmt.Sprintf("The image is built on %s, a full distribution (%s installed, %s).", pretty, bytesText(size), how)})
}

// installedSize is the size of what is installed: the package database's
// figures when there is one, else the bytes of every file.
func (r *run) installedSize(paths []string) (int64, string) {
	if f, ok := r.wanted[dpkgStatus]; ok {
		var kib int64
		for _, pkg := range dpkgInstalled(f.data) {
			kib += pkg.sizeKiB
		}
		if kib > 0 {
			return kib * 1024, "the sum of dpkg's Installed-Size"
		}
	}
	for _, p := range paths {
		if f, ok := r.wanted[p]; ok && inventory.IsRPMDatabase(p) && f.installed > 0 {
			return f.installed, "the sum of rpm's installed sizes"
		}
	}
	var total int64
	for _, p := range paths {
		total += r.nodes[p].size
	}
	return total, "the sum of the files' sizes"
}

func osReleaseValue(b []byte, key string) string {
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+"="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	return ""
}

// plural writes "1 file", "2 files".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// bytesText writes a size for people: 1.5 MiB, 312 KiB, 10 B.
func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
