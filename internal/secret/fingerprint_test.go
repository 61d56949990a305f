package secret

import "testing"

// TestFingerprint: every change of what the scanner finds changes the
// fingerprint (cached findings keyed by it are never reused stale); the
// same configuration gives the same one.
func TestFingerprint(t *testing.T) {
	config := func(yaml string) *Config {
		t.Helper()
		c, err := ParseConfig([]byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	base := newScanner(t, Options{}).Fingerprint()
	if again := newScanner(t, Options{}).Fingerprint(); again != base {
		t.Fatalf("two scanners with the built-in rules differ: %s, %s", base, again)
	}
	if same := newScanner(t, Options{Config: config("disable-rules: []\n")}).Fingerprint(); same != base {
		t.Errorf("a config that changes nothing changes the fingerprint")
	}
	seen := map[string]string{base: "built-in rules"}
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"size limit", Options{MaxFileSize: 1 << 20}},
		{"disabled rule", Options{Config: config("disable-rules: [jwt-token]\n")}},
		{"disabled allow rule", Options{Config: config("disable-allow-rules: [tests]\n")}},
		{"added rule", Options{Config: config("rules:\n  - id: acme\n    regex: acme_[a-z]{8}\n")}},
		{"added rule, other regex", Options{Config: config("rules:\n  - id: acme\n    regex: acme_[a-z]{9}\n")}},
		{"added rule, keyword", Options{Config: config("rules:\n  - id: acme\n    keywords: [acme_]\n    regex: acme_[a-z]{8}\n")}},
		{"added rule, severity", Options{Config: config("rules:\n  - id: acme\n    severity: LOW\n    regex: acme_[a-z]{8}\n")}},
		{"added rule, path", Options{Config: config("rules:\n  - id: acme\n    path: \\.env$\n    regex: acme_[a-z]{8}\n")}},
		{"global allow rule", Options{Config: config("allow-rules:\n  - id: demo\n    regex: ^ghp_Demo\n")}},
		{"global allow rule by path", Options{Config: config("allow-rules:\n  - id: demo\n    path: ^demo/\n")}},
		{"exclude block", Options{Config: config("exclude-block:\n  regexes: ['(?s)BEGIN.*?END']\n")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fp := newScanner(t, tc.o).Fingerprint()
			if other, dup := seen[fp]; dup {
				t.Errorf("the fingerprint is that of %q", other)
			}
			seen[fp] = tc.name
		})
	}
}
