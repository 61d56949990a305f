// Package buildinfo is the one place tollgate's own version comes from: the
// version command, SARIF and SBOM reports all ask it.
package buildinfo

import (
	"runtime/debug"
	"strings"
)

// version is set at link time:
// -ldflags "-X github.com/tollgate-dev/tollgate/internal/buildinfo.version=v1.2.3".
// It is written only by the linker, never at run time.
var version = "dev"

// Version returns tollgate's version without a leading "v" ("1.2.3"): the
// one set at link time, else the module version `go install` recorded,
// else "dev".
func Version() string {
	v := version
	if v == "dev" {
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	return strings.TrimPrefix(v, "v")
}
