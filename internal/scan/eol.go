package scan

import (
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/internal/inventory"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// endOfSupport is the last day each release gets security fixes from its
// distribution, keyed by family and release as OSV keys them (Debian's
// major version, Alpine's major.minor, Ubuntu's YY.MM). Facts, with their
// sources:
//   - Debian: the end of LTS support, https://wiki.debian.org/LTS (the
//     table "Debian version / support architecture / schedule"); regular
//     security support ends about two years earlier
//     (https://www.debian.org/releases/).
//   - Alpine: "End of support" of each branch,
//     https://alpinelinux.org/releases/ (main repository).
//   - Ubuntu: end of standard support, https://ubuntu.com/about/release-cycle
//     (ESM beyond it needs a Pro subscription, which images rarely have).
var endOfSupport = map[string]map[string]time.Time{
	"debian": {
		"8":  day(2020, time.June, 30),
		"9":  day(2022, time.June, 30),
		"10": day(2024, time.June, 30),
		"11": day(2026, time.August, 31),
		"12": day(2028, time.June, 30),
		"13": day(2030, time.June, 30),
	},
	"alpine": {
		"3.10": day(2021, time.May, 1),
		"3.11": day(2021, time.November, 1),
		"3.12": day(2022, time.May, 1),
		"3.13": day(2022, time.November, 1),
		"3.14": day(2023, time.May, 1),
		"3.15": day(2023, time.November, 1),
		"3.16": day(2024, time.May, 23),
		"3.17": day(2024, time.November, 22),
		"3.18": day(2025, time.May, 9),
		"3.19": day(2025, time.November, 1),
		"3.20": day(2026, time.April, 1),
		"3.21": day(2026, time.November, 1),
		"3.22": day(2027, time.May, 1),
		"3.23": day(2027, time.November, 1),
	},
	"ubuntu": {
		"18.04": day(2023, time.May, 31),
		"20.04": day(2025, time.May, 29),
		"22.04": day(2027, time.June, 1),
		"24.04": day(2029, time.May, 31),
	},
}

// EndOfLife reports whether the release is past its end of support at
// now; known is false when the table does not list it (then it is
// treated as supported, and the report notes it).
func EndOfLife(o *inventory.OS, now time.Time) (eol, known bool) {
	rels, ok := endOfSupport[o.Family]
	if !ok {
		return false, false
	}
	key := o.VersionID
	switch o.Family {
	case "debian":
		key, _, _ = strings.Cut(o.VersionID, ".")
	case "alpine":
		parts := strings.SplitN(o.Name, ".", 3)
		if len(parts) < 2 {
			return false, false
		}
		key = parts[0] + "." + parts[1]
	}
	end, ok := rels[key]
	if !ok {
		return false, false
	}
	return now.After(end.Add(24 * time.Hour)), true
}
