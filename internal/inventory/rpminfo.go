package inventory

// What other packages need of the rpm analyzer (imagecheck's TG202 lists
// the packages of every layer's rpm database with it).

// IsRPMDatabase reports whether p (slash-separated, relative to the
// root) is one of the places an rpm database lives.
func IsRPMDatabase(p string) bool { return rpmDBs[p] }

// RPMPackageNames returns the names of the packages installed in the rpm
// database file at diskPath (any of the formats the rpm analyzer reads;
// signing keys left out), in the database's order.
func RPMPackageNames(diskPath string) ([]string, error) {
	pkgs, err := readRPMDB(diskPath)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(pkgs))
	for i, p := range pkgs {
		names[i] = p.Name
	}
	return names, nil
}
