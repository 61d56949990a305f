package inventory

import (
	"fmt"

	rpmdb "github.com/knqyf263/go-rpmdb/pkg"
)

// What other packages need of the rpm analyzer: imagecheck's TG202 and
// TG204 read every layer's rpm database for the installed packages'
// names and sizes.

// IsRPMDatabase reports whether p (slash-separated, relative to the
// root) is one of the places an rpm database lives.
func IsRPMDatabase(p string) bool { return rpmDBs[p] }

// RPMInstalled is a package of an rpm database: its name and installed
// size in bytes.
type RPMInstalled struct {
	Name string
	Size int64
}

// RPMPackages returns the packages installed in the rpm database file at
// diskPath (any of the formats the rpm analyzer reads), in the
// database's order.
func RPMPackages(diskPath string) ([]RPMInstalled, error) {
	infos, err := listRPMDB(diskPath)
	if err != nil {
		return nil, err
	}
	out := make([]RPMInstalled, len(infos))
	for i, in := range infos {
		out[i] = RPMInstalled{Name: in.Name, Size: int64(in.Size)}
	}
	return out, nil
}

// listRPMDB returns the packages of an rpm database file, imported
// signing keys (gpg-pubkey, not software) left out.
func listRPMDB(p string) ([]*rpmdb.PackageInfo, error) {
	db, err := rpmdb.Open(p)
	if err != nil {
		return nil, fmt.Errorf("opening rpm database: %w", err)
	}
	defer db.Close()
	infos, err := db.ListPackages()
	if err != nil {
		return nil, fmt.Errorf("reading rpm database: %w", err)
	}
	out := infos[:0]
	for _, in := range infos {
		if in.Name != "gpg-pubkey" && in.Name != "" {
			out = append(out, in)
		}
	}
	return out, nil
}
