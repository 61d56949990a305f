package policy

import "strings"

// String lists the defaults that are on by their policy-file names, as the
// server's log shows them ("runAsNonRoot, dropAllCapabilities"), instead of
// a Go struct dump.
func (d SecurityContextDefaults) String() string {
	var on []string
	for _, f := range []struct {
		set  bool
		name string
	}{
		{d.RunAsNonRoot, "runAsNonRoot"},
		{d.SeccompRuntimeDefault, "seccompRuntimeDefault"},
		{d.AllowPrivilegeEscalationFalse, "allowPrivilegeEscalationFalse"},
		{d.DropAllCapabilities, "dropAllCapabilities"},
	} {
		if f.set {
			on = append(on, f.name)
		}
	}
	if len(on) == 0 {
		return "none"
	}
	return strings.Join(on, ", ")
}
