package secret

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"regexp"
)

// scannerVersion changes whenever the scanner finds something else for
// the same rules and content: the matching, allow-rule or masking code,
// the shape of a Finding, a built-in rule's validation. It is part of
// Fingerprint, so results cached under an older fingerprint are not
// reused.
const scannerVersion = 1

// Fingerprint identifies what the scanner finds: two scanners with the
// same fingerprint give the same findings for the same content. It covers
// every rule (ID, title, category, severity, keywords, expressions, path,
// allow rules, built-in checks), the global allow rules, the exclude
// blocks, the size limit and scannerVersion, so a cache of findings keyed
// by it is never reused after a secret config, a limit or tollgate's
// rules change.
func (s *Scanner) Fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "secret-scanner/%d\nmax-size %d\n", scannerVersion, s.maxSize)
	for _, r := range s.rules {
		fmt.Fprintf(h, "rule %q %q %q %q %q %q needs=%q valid=%t\n", r.ID, r.Category, r.Title, r.Severity, r.Keywords, r.SecretGroup, r.alsoNeeds, r.valid != nil)
		writeRe(h, "regex", r.Regex)
		writeRe(h, "path", r.Path)
		for _, a := range r.AllowRules {
			writeAllow(h, &a)
		}
	}
	for _, a := range s.allow {
		fmt.Fprint(h, "global ")
		writeAllow(h, &a)
	}
	for _, b := range s.excludeBlocks {
		writeRe(h, "exclude-block", b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func writeAllow(h hash.Hash, a *AllowRule) {
	fmt.Fprintf(h, "allow %q\n", a.ID)
	writeRe(h, "allow-regex", a.Regex)
	writeRe(h, "allow-path", a.Path)
}

func writeRe(h hash.Hash, what string, re *regexp.Regexp) {
	if re == nil {
		fmt.Fprintf(h, "%s -\n", what)
		return
	}
	fmt.Fprintf(h, "%s %q\n", what, re.String())
}
