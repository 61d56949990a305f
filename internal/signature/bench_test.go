package signature

import (
	"context"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkVerifyUncached is one uncached `tollgate verify` of a cosign
// 2-style signed image (ECDSA P-256) against a loopback registry: tag →
// digest (HEAD), the .sig manifest, the referrers lookup (on Debian's
// registry: the referrers API answers 404, then the fallback tag), the
// payload blob, and the signature check. It reports the median and p99
// of the wall time per verification, and the process CPU time per
// verification (registry included when it is in process).
func BenchmarkVerifyUncached(b *testing.B) {
	for _, reg := range []struct {
		name string
		host func(b *testing.B) string
	}{
		{"docker-registry", func(b *testing.B) string { return registrytest.StartDistribution(b).Addr }},
		{"in-process-referrers", func(b *testing.B) string {
			return registrytest.StartRegistry(b, registrytest.WithReferrers()).Host
		}},
	} {
		b.Run(reg.name, func(b *testing.B) {
			host := reg.host(b)
			k := newTestKey(b, "ecdsa-p256")
			repo := host + "/bench/app"
			d := pushImage(b, repo+":1", "bench")
			pushAttached(b, repo, d, "sig", legacySig(b, k, repo, d, map[string]any{"ref": "main"}))
			o := Options{Image: repo + ":1", Keys: []Key{k.pub}}
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			cpu0 := cpuTime(b)
			b.ResetTimer()
			for b.Loop() {
				t := time.Now()
				res, err := Verify(ctx, o)
				lat = append(lat, time.Since(t))
				if err != nil || !res.Verified {
					b.Fatalf("not verified: %v %+v", err, res)
				}
			}
			b.StopTimer()
			cpu := cpuTime(b) - cpu0
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "median-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(lat)), "cpu-ms/op")
		})
	}
}
