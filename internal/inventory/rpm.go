package inventory

import (
	"io/fs"
	"strconv"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver go-rpmdb opens rpmdb.sqlite with
)

// rpm databases: Berkeley DB "Packages" (RHEL ≤ 8, CentOS, Amazon Linux 2),
// NDB "Packages.db" (SUSE), SQLite "rpmdb.sqlite" (RHEL 9, Fedora ≥ 33).
// usr/lib/sysimage/rpm is the newer location, usr/share/rpm the one of
// rpm-ostree systems. go-rpmdb detects the format from the file itself.
var rpmDBs = map[string]bool{
	"var/lib/rpm/Packages":              true,
	"var/lib/rpm/Packages.db":           true,
	"var/lib/rpm/rpmdb.sqlite":          true,
	"usr/lib/sysimage/rpm/Packages":     true,
	"usr/lib/sysimage/rpm/Packages.db":  true,
	"usr/lib/sysimage/rpm/rpmdb.sqlite": true,
	"usr/share/rpm/Packages":            true,
	"usr/share/rpm/Packages.db":         true,
	"usr/share/rpm/rpmdb.sqlite":        true,
}

type rpmAnalyzer struct{}

func (rpmAnalyzer) name() string   { return "rpm" }
func (rpmAnalyzer) version() int   { return 1 }
func (rpmAnalyzer) maxSize() int64 { return 2 << 30 }
func (rpmAnalyzer) required(p string, _ fs.FileMode) bool {
	return rpmDBs[p]
}

func (rpmAnalyzer) analyze(f *file) (*fileResult, error) {
	p, err := f.diskPath()
	if err != nil {
		return nil, err
	}
	pkgs, err := readRPMDB(p)
	if err != nil {
		return nil, err
	}
	return &fileResult{Packages: pkgs}, nil
}

// readRPMDB lists the packages of an rpm database file.
func readRPMDB(p string) ([]Package, error) {
	infos, err := listRPMDB(p)
	if err != nil {
		return nil, err
	}
	var pkgs []Package
	for _, in := range infos {
		epoch := 0
		if in.Epoch != nil {
			epoch = *in.Epoch
		}
		p := Package{
			Name:       in.Name,
			Version:    rpmEVR(epoch, in.Version, in.Release),
			Epoch:      epoch,
			RPMVersion: in.Version,
			Release:    in.Release,
			Arch:       in.Arch,
			Type:       TypeRPM,
			Maintainer: in.Vendor,
			Modularity: in.Modularitylabel,
		}
		if in.License != "" {
			p.Licenses = []string{in.License}
		}
		p.SrcName, p.SrcVersion = p.Name, p.Version
		if n, v, r, ok := splitSourceRPM(in.SourceRpm); ok {
			p.SrcName, p.SrcVersion = n, rpmEVR(epoch, v, r)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

func rpmEVR(epoch int, version, release string) string {
	s := version
	if release != "" {
		s += "-" + release
	}
	if epoch > 0 {
		s = strconv.Itoa(epoch) + ":" + s
	}
	return s
}

// splitSourceRPM splits "bash-5.1.8-6.el9.src.rpm" into name, version and
// release (names may contain dashes; version and release may not).
func splitSourceRPM(s string) (name, version, release string, ok bool) {
	s, found := strings.CutSuffix(s, ".src.rpm")
	if !found {
		s, found = strings.CutSuffix(s, ".nosrc.rpm")
	}
	if !found {
		return "", "", "", false
	}
	i := strings.LastIndexByte(s, '-')
	if i <= 0 {
		return "", "", "", false
	}
	release = s[i+1:]
	s = s[:i]
	j := strings.LastIndexByte(s, '-')
	if j <= 0 {
		return "", "", "", false
	}
	return s[:j], s[j+1:], release, true
}
