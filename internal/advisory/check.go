package advisory

import (
	"fmt"
	"slices"

	"github.com/tollgate-dev/tollgate/internal/version"
)

// Verdict says whether one version is affected by one Affected entry,
// and why.
type Verdict struct {
	Affected bool
	// InVersions: the version is listed in Affected.Versions.
	InVersions bool
	// Range is the index in Affected.Ranges of the range that holds the
	// version, -1 when none does.
	Range int
	// The bounds of the interval of that range that holds the version
	// ("" when the interval has no such bound); Fixed is the version that
	// fixes it. When the version is not affected, Fixed is the fix of the
	// interval it is past, if any.
	Introduced, Fixed, LastAffected string
	// Ordering is the version ordering that decided.
	Ordering version.Ordering
}

// orderingOf returns the ordering of a range of the entry: SEMVER ranges
// use SemVer 2.0 (Go's spelling for the Go ecosystem), ECOSYSTEM ranges
// the ecosystem's own.
func (a *Affected) orderingOf(t RangeType) (version.Ordering, error) {
	if t == RangeSemver {
		if version.Base(a.Ecosystem) == version.Go {
			return version.GoModule, nil
		}
		return version.SemVer, nil
	}
	return version.OrderingOf(a.Ecosystem)
}

// Check decides whether installed is affected: listed in Versions, or
// inside a range (OSV's evaluation: events sorted by version; a version
// at or after an "introduced" is affected until a "fixed" at or before
// it, or a "last_affected" below it; with "limit" events only versions
// below a limit count). An installed version the ordering cannot read is
// an error wrapping version.ErrInvalidVersion — never "not affected".
func (a *Affected) Check(installed string) (Verdict, error) {
	v := Verdict{Range: -1}
	if a.listed(installed) {
		v.Affected, v.InVersions = true, true
		if ord, err := version.OrderingOf(a.Ecosystem); err == nil {
			v.Ordering = ord
		}
		return v, nil
	}
	for i, r := range a.Ranges {
		if r.Type != RangeEcosystem && r.Type != RangeSemver {
			continue
		}
		ord, err := a.orderingOf(r.Type)
		if err != nil {
			return Verdict{Range: -1}, err
		}
		v.Ordering = ord
		iv, err := version.ParseOrdering(ord, installed)
		if err != nil {
			return Verdict{Range: -1}, fmt.Errorf("checking %s %s: %w", a.Name, installed, err)
		}
		in, introduced, fixed, last, err := r.contains(ord, iv)
		if err != nil {
			return Verdict{Range: -1}, fmt.Errorf("checking %s %s: %w", a.Name, installed, err)
		}
		if in {
			return Verdict{Affected: true, Range: i, Introduced: introduced, Fixed: fixed, LastAffected: last, Ordering: ord}, nil
		}
		if fixed != "" && v.Fixed == "" {
			v.Fixed = fixed
		}
	}
	return v, nil
}

// listed reports whether installed is in Versions: spelled the same, or
// equal in the ecosystem's ordering ("2.0" and "2.0.0" in PyPI).
func (a *Affected) listed(installed string) bool {
	if len(a.Versions) == 0 {
		return false
	}
	if slices.Contains(a.Versions, installed) {
		return true
	}
	iv, err := version.Parse(a.Ecosystem, installed)
	if err != nil {
		return false // the ranges report it
	}
	for _, l := range a.Versions {
		if lv, err := version.Parse(a.Ecosystem, l); err == nil && lv.Compare(iv) == 0 {
			return true
		}
	}
	return false
}

type parsedEvent struct {
	Event
	v version.Version
}

// contains evaluates the range for iv. It returns the bounds of the
// interval holding iv, or (when iv is not inside) the fix of the
// interval iv is past.
func (r *Range) contains(ord version.Ordering, iv version.Version) (in bool, introduced, fixed, lastAffected string, err error) {
	events := make([]parsedEvent, 0, len(r.Events))
	var limits []version.Version
	for _, e := range r.Events {
		if e.Kind == Introduced && e.Version == "0" {
			events = append(events, parsedEvent{Event: e})
			continue
		}
		pv, err := version.ParseOrdering(ord, e.Version)
		if err != nil {
			return false, "", "", "", err
		}
		if e.Kind == Limit {
			if e.Version != "*" {
				limits = append(limits, pv)
			}
			continue
		}
		events = append(events, parsedEvent{Event: e, v: pv})
	}
	if len(limits) > 0 && !slices.ContainsFunc(limits, func(l version.Version) bool { return iv.Compare(l) < 0 }) {
		return false, "", "", "", nil
	}
	// Sort: "introduced: 0" first, then by version; on equal versions an
	// introduced event comes before the fix or last_affected it meets.
	slices.SortStableFunc(events, func(x, y parsedEvent) int {
		xz, yz := x.Kind == Introduced && x.Version == "0", y.Kind == Introduced && y.Version == "0"
		switch {
		case xz && yz:
			return 0
		case xz:
			return -1
		case yz:
			return 1
		}
		if c := x.v.Compare(y.v); c != 0 {
			return c
		}
		return eventRank(x.Kind) - eventRank(y.Kind)
	})
	affected := false
	for _, e := range events {
		zero := e.Kind == Introduced && e.Version == "0"
		switch e.Kind {
		case Introduced:
			if zero || iv.Compare(e.v) >= 0 {
				affected, introduced, fixed, lastAffected = true, e.Version, "", ""
			}
		case Fixed:
			if iv.Compare(e.v) >= 0 {
				affected, introduced = false, ""
				fixed = e.Version
			} else if affected && fixed == "" {
				fixed = e.Version
				return true, introduced, fixed, "", nil
			}
		case LastAffected:
			if iv.Compare(e.v) > 0 {
				affected, introduced, fixed = false, "", ""
			} else if affected {
				return true, introduced, "", e.Version, nil
			}
		}
	}
	if affected {
		return true, introduced, "", "", nil
	}
	return false, "", fixed, "", nil
}

func eventRank(k EventKind) int {
	switch k {
	case Introduced:
		return 0
	case LastAffected:
		return 1
	}
	return 2
}
