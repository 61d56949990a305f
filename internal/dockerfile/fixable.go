package dockerfile

import "slices"

// fixableIDs are the rules `tollgate dockerfile fix` resolves. The fix
// package owns the fixes; its tests check that this list names exactly the
// rules it has a fix for (the import goes from fix to here, so the list
// cannot be asked of it).
func fixableIDs() []string {
	return []string{
		"DL3006", "DL3007", "DL3009", "DL3014", "DL3015", "DL3019", "DL3025", "DL3030", "DL3032",
		"DL3034", "DL3036", "DL3038", "DL3040", "DL3042", "DL3059", "DL3060",
		"TG101", "TG102", "TG103", "TG104", "TG105", "TG106",
	}
}

// markFixable sets Fixable on the rules dockerfile fix resolves.
func markFixable(rules []*Rule) []*Rule {
	ids := fixableIDs()
	for _, r := range rules {
		r.Fixable = slices.Contains(ids, r.ID)
	}
	return rules
}
