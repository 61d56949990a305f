package inventory

import (
	"bufio"
	"io"
	"io/fs"
	"regexp"
	"strings"
)

// release is what one OS identification file says. Kind is the file's
// role ("os-release", "alpine-release", "debian_version", "redhat-release",
// "lsb-release"); Fields are its KEY=value pairs, or {"text": first line}
// for the one-line files.
type release struct {
	Kind   string            `json:"kind"`
	Fields map[string]string `json:"fields"`
}

// releaseFiles maps the files the OS analyzer reads to their kind.
var releaseFiles = map[string]string{
	"etc/os-release":     "os-release",
	"usr/lib/os-release": "os-release",
	"etc/alpine-release": "alpine-release",
	"etc/debian_version": "debian_version",
	"etc/redhat-release": "redhat-release",
	"etc/centos-release": "redhat-release",
	"etc/fedora-release": "redhat-release",
	"etc/system-release": "redhat-release",
	"etc/lsb-release":    "lsb-release",
}

type osReleaseAnalyzer struct{}

func (osReleaseAnalyzer) name() string   { return "os-release" }
func (osReleaseAnalyzer) version() int   { return 1 }
func (osReleaseAnalyzer) maxSize() int64 { return 64 << 10 }
func (osReleaseAnalyzer) required(p string, _ fs.FileMode) bool {
	_, ok := releaseFiles[p]
	return ok
}

func (osReleaseAnalyzer) analyze(f *file) (*fileResult, error) {
	kind := releaseFiles[f.Path]
	var fields map[string]string
	switch kind {
	case "os-release", "lsb-release":
		fields = parseOSRelease(f.reader())
	default:
		line, _ := bufio.NewReader(f.reader()).ReadString('\n')
		fields = map[string]string{"text": strings.TrimSpace(line)}
	}
	return &fileResult{Release: &release{Kind: kind, Fields: fields}}, nil
}

// parseOSRelease reads os-release(5): KEY=value lines, values optionally
// quoted with shell quoting rules (backslash escapes inside double quotes).
func parseOSRelease(r io.Reader) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64<<10)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" {
			continue
		}
		out[strings.TrimSpace(k)] = unquote(strings.TrimSpace(v))
	}
	return out
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		q := v[0]
		v = v[1 : len(v)-1]
		if q == '"' {
			var b strings.Builder
			for i := 0; i < len(v); i++ {
				if v[i] == '\\' && i+1 < len(v) && strings.IndexByte("\"\\$`", v[i+1]) >= 0 {
					i++
				}
				b.WriteByte(v[i])
			}
			return b.String()
		}
	}
	return v
}

// familyByID maps os-release IDs to OS families (Trivy's names).
var familyByID = map[string]string{
	"debian":              "debian",
	"ubuntu":              "ubuntu",
	"alpine":              "alpine",
	"rhel":                "redhat",
	"centos":              "centos",
	"rocky":               "rocky",
	"almalinux":           "alma",
	"fedora":              "fedora",
	"amzn":                "amazon",
	"ol":                  "oracle",
	"opensuse":            "opensuse",
	"opensuse-leap":       "opensuse",
	"opensuse-tumbleweed": "opensuse",
	"sles":                "sles",
	"sle-micro":           "sles",
	"photon":              "photon",
	"mariner":             "cbl-mariner",
	"azurelinux":          "azurelinux",
	"wolfi":               "wolfi",
	"chainguard":          "chainguard",
}

var redhatReleaseRE = regexp.MustCompile(`^(.*?) release ([0-9][0-9.]*)`)

// detectOS decides the OS from the release files of the final filesystem
// (path → release). os-release wins; the one-line files refine the
// version (Debian point release, Alpine patch release) or stand in for
// os-release on old images.
func detectOS(files map[string]*release) *OS {
	get := func(p string) map[string]string {
		if r := files[p]; r != nil {
			return r.Fields
		}
		return nil
	}
	text := func(p string) string { return get(p)["text"] }
	osr := get("etc/os-release")
	if osr == nil {
		osr = get("usr/lib/os-release")
	}
	if osr != nil && osr["ID"] != "" {
		id := strings.ToLower(osr["ID"])
		o := &OS{
			Family:     familyByID[id],
			ID:         id,
			VersionID:  osr["VERSION_ID"],
			Codename:   osr["VERSION_CODENAME"],
			PrettyName: osr["PRETTY_NAME"],
			Name:       osr["VERSION_ID"],
		}
		if o.Family == "" {
			o.Family = id
		}
		switch o.Family {
		case "debian":
			if v := text("etc/debian_version"); v != "" && v[0] >= '0' && v[0] <= '9' {
				o.Name = v
			}
		case "alpine":
			if v := text("etc/alpine-release"); v != "" {
				o.Name = v
			}
		case "ubuntu":
			o.LTS = strings.Contains(osr["VERSION"], "LTS")
		}
		return o
	}
	if v := text("etc/alpine-release"); v != "" {
		return &OS{Family: "alpine", ID: "alpine", Name: v, VersionID: v}
	}
	if lsb := get("etc/lsb-release"); lsb != nil && strings.EqualFold(lsb["DISTRIB_ID"], "ubuntu") {
		v := lsb["DISTRIB_RELEASE"]
		return &OS{Family: "ubuntu", ID: "ubuntu", Name: v, VersionID: v, Codename: lsb["DISTRIB_CODENAME"],
			PrettyName: lsb["DISTRIB_DESCRIPTION"], LTS: strings.Contains(lsb["DISTRIB_DESCRIPTION"], "LTS")}
	}
	for _, p := range []string{"etc/centos-release", "etc/fedora-release", "etc/redhat-release", "etc/system-release"} {
		m := redhatReleaseRE.FindStringSubmatch(text(p))
		if m == nil {
			continue
		}
		dist := strings.ToLower(m[1])
		o := &OS{Name: m[2], VersionID: m[2], PrettyName: text(p)}
		switch {
		case strings.HasPrefix(dist, "centos"):
			o.Family, o.ID = "centos", "centos"
		case strings.HasPrefix(dist, "fedora"):
			o.Family, o.ID = "fedora", "fedora"
		case strings.HasPrefix(dist, "rocky"):
			o.Family, o.ID = "rocky", "rocky"
		case strings.HasPrefix(dist, "almalinux"):
			o.Family, o.ID = "alma", "almalinux"
		case strings.HasPrefix(dist, "amazon"):
			o.Family, o.ID = "amazon", "amzn"
		case strings.HasPrefix(dist, "oracle"):
			o.Family, o.ID = "oracle", "ol"
		default:
			o.Family, o.ID = "redhat", "rhel"
		}
		return o
	}
	if v := text("etc/debian_version"); v != "" {
		o := &OS{Family: "debian", ID: "debian", Name: v}
		if v[0] >= '0' && v[0] <= '9' {
			o.VersionID, _, _ = strings.Cut(v, ".")
		}
		return o
	}
	return nil
}
