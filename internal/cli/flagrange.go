package cli

import (
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/outcome"
)

// intRange is the range a numeric flag accepts: lo–hi (hi 0: no upper
// bound), and -1 too when offOK (the "disabled" of the ImagePolicyWebhook
// TTLs).
type intRange struct {
	flag   string
	lo, hi int64
	offOK  bool
}

// checkRanges returns a usage error naming the first flag the user set to
// a value outside its range: out-of-range values are refused, never
// replaced by defaults. Durations must be positive.
func checkRanges(cmd *cobra.Command, ranges ...intRange) error {
	for _, r := range ranges {
		f := cmd.Flags().Lookup(r.flag)
		if f == nil || !f.Changed {
			continue // defaults are in range by construction
		}
		if f.Value.Type() == "duration" {
			if d, err := time.ParseDuration(f.Value.String()); err != nil || d <= 0 {
				return outcome.Usagef("--%s %s: want a positive duration such as 25s", r.flag, f.Value)
			}
			continue
		}
		v, err := strconv.ParseInt(f.Value.String(), 10, 64)
		if err != nil || r.offOK && v == -1 {
			continue // pflag already refused what does not parse
		}
		if v >= r.lo && (r.hi == 0 || v <= r.hi) {
			continue
		}
		if r.hi == 0 {
			return outcome.Usagef("--%s %d: want at least %d", r.flag, v, r.lo)
		}
		off := ""
		if r.offOK {
			off = " (or -1 to disable)"
		}
		return outcome.Usagef("--%s %d is outside %d–%d%s", r.flag, v, r.lo, r.hi, off)
	}
	return nil
}
