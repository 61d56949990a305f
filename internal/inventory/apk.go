package inventory

import (
	"io"
	"io/fs"
)

// apk keeps its database in lib/apk/db/installed (usr/lib/apk/db/installed
// on newer systems): paragraphs of one-letter "X:value" lines (apk-tools
// "Installed database V2" format). P = name, V = version, A = arch,
// o = origin (the source package advisories name), L = license,
// m = maintainer.
var apkDBs = map[string]bool{
	"lib/apk/db/installed":     true,
	"usr/lib/apk/db/installed": true,
}

type apkAnalyzer struct{}

func (apkAnalyzer) name() string   { return "apk" }
func (apkAnalyzer) version() int   { return 1 }
func (apkAnalyzer) maxSize() int64 { return 256 << 20 }
func (apkAnalyzer) required(p string, _ fs.FileMode) bool {
	return apkDBs[p]
}

func (apkAnalyzer) analyze(f *file) (*fileResult, error) {
	pkgs, err := parseApkInstalled(f.reader())
	if err != nil {
		return nil, err
	}
	return &fileResult{Packages: pkgs}, nil
}

// parseApkInstalled reads an apk installed database.
func parseApkInstalled(r io.Reader) ([]Package, error) {
	var pkgs []Package
	var cur Package
	flush := func() {
		if cur.Name != "" && cur.Version != "" {
			if cur.SrcName == "" {
				cur.SrcName = cur.Name
			}
			cur.SrcVersion = cur.Version
			cur.Type = TypeApk
			pkgs = append(pkgs, cur)
		}
		cur = Package{}
	}
	err := eachLine(r, 64<<10, func(line string) bool {
		if line == "" {
			flush()
		} else if len(line) >= 2 && line[1] == ':' {
			v := line[2:]
			switch line[0] {
			case 'P':
				cur.Name = v
			case 'V':
				cur.Version = v
			case 'A':
				cur.Arch = v
			case 'o':
				cur.SrcName = v
			case 'L':
				if v != "" {
					cur.Licenses = []string{v}
				}
			case 'm':
				cur.Maintainer = v
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	flush()
	return pkgs, nil
}
