package dockerfile

import (
	"path"
	"strings"
)

// ResolvePath makes a path of a COPY, WORKDIR or RUN absolute against the
// working directory workdir, cleaned. It returns "" when that cannot be
// known: p holds a variable, or is relative while workdir is "".
func ResolvePath(workdir, p string) string {
	if p == "" || strings.Contains(p, "$") {
		return ""
	}
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	if workdir == "" {
		return ""
	}
	return path.Clean(path.Join(workdir, p))
}
