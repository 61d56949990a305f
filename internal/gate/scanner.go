package gate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/internal/advisory"
	"github.com/tollgate-dev/tollgate/internal/image"
	"github.com/tollgate-dev/tollgate/internal/inventory"
	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/internal/policy"
	"github.com/tollgate-dev/tollgate/internal/report"
	"github.com/tollgate-dev/tollgate/internal/scan"
	"github.com/tollgate-dev/tollgate/internal/signature"
)

// ImageScanner scans images from their registry with internal/scan, the
// pipeline of `tollgate image`, against the advisory DB in DBDir. The DB
// is opened once and opened again when the file is replaced (`tollgate db
// update` beside the server), never downloaded here.
type ImageScanner struct {
	// DBDir holds the advisory DB (advisory.DefaultDir).
	DBDir string
	// Inventory configures reading images: the layer cache, registry
	// credentials and transport.
	Inventory inventory.Options

	mu      sync.Mutex
	db      *dbHandle
	checked time.Time
}

// dbHandle is an open DB and the scans using it: a replaced DB is closed
// when its last scan ends.
type dbHandle struct {
	db    *advisory.DB
	file  os.FileInfo
	users int
	stale bool
}

// recheck is how often the DB file is looked at for a replacement.
const recheck = time.Second

// DataVersion implements Scanner: the digest of the open DB's records
// (the same for replicas that built the same data), else its build ID.
func (s *ImageScanner) DataVersion() (string, error) {
	h, err := s.acquire()
	if err != nil {
		return "", err
	}
	defer s.release(h)
	if m := h.db.Metadata(); m.ContentID != "" {
		return m.ContentID, nil
	}
	return h.db.Metadata().BuildID, nil
}

// acquire returns the current DB, opening it (again) when needed.
func (s *ImageScanner) acquire() (*dbHandle, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := filepath.Join(s.DBDir, advisory.FileName)
	if s.db != nil && time.Since(s.checked) < recheck {
		s.db.users++
		return s.db, nil
	}
	fi, statErr := os.Stat(path)
	s.checked = time.Now()
	if s.db != nil && statErr == nil && os.SameFile(fi, s.db.file) && fi.ModTime().Equal(s.db.file.ModTime()) {
		s.db.users++
		return s.db, nil
	}
	if statErr != nil && s.db != nil {
		// The file went away (an update renaming over it, or an
		// operator's mistake): keep the open one.
		s.db.users++
		return s.db, nil
	}
	db, err := advisory.Open(path)
	if err != nil {
		if errors.Is(err, advisory.ErrNoDB) {
			return nil, fmt.Errorf("no advisory DB in %s: run `tollgate db update --cache-dir …` (the init container of deploy/ does)", s.DBDir)
		}
		return nil, err
	}
	if s.db != nil {
		s.db.stale = true
		if s.db.users == 0 {
			s.db.db.Close()
		}
	}
	s.db = &dbHandle{db: db, file: fi, users: 1}
	return s.db, nil
}

func (s *ImageScanner) release(h *dbHandle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h.users--
	if h.stale && h.users == 0 {
		h.db.Close()
	}
}

// Close closes the DB.
func (s *ImageScanner) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	s.db.stale = true
	if s.db.users == 0 {
		return s.db.db.Close()
	}
	return nil
}

// Scan implements Scanner.
func (s *ImageScanner) Scan(ctx context.Context, ref string, want Scanners) (*policy.ScanFacts, error) {
	o := scan.Options{
		Kind: scan.KindImage, Target: ref, Inventory: s.Inventory,
		Scanners: scan.Scanners{Vuln: want.Vulnerabilities, Secret: want.Secrets, Misconfig: want.Misconfig},
	}
	var src match.Source // nil without vuln: no DB needed
	if want.Vulnerabilities {
		h, err := s.acquire()
		if err != nil {
			return nil, err
		}
		defer s.release(h)
		src = h.db
	}
	r, err := scan.Run(ctx, src, o)
	if err != nil {
		return nil, err
	}
	return Facts(r), nil
}

// Facts reduces a scan report to what the policy's scan rules decide on
// — the one reduction `tollgate image --policy` and admission share.
func Facts(r *report.Report) *policy.ScanFacts {
	f := &policy.ScanFacts{Vulnerabilities: []policy.VulnFact{}, Checks: []policy.CheckFact{}}
	for _, res := range r.Results {
		for _, v := range res.Vulnerabilities {
			f.Vulnerabilities = append(f.Vulnerabilities, policy.VulnFact{
				ID: v.VulnerabilityID, Aliases: v.VendorIDs, Package: v.PkgName,
				Installed: v.InstalledVersion, Fixed: v.FixedVersion, Severity: v.Severity,
			})
		}
		for _, s := range res.Secrets {
			f.Checks = append(f.Checks, policy.CheckFact{ID: s.RuleID, Class: "secret", Severity: s.Severity, Title: s.Title, Path: s.Path})
		}
		for _, m := range res.Misconfigurations {
			f.Checks = append(f.Checks, policy.CheckFact{ID: m.ID, Class: "misconfig", Severity: m.Severity, Title: m.Title, Path: m.Path})
		}
	}
	for _, nm := range r.NotMatched {
		if nm.Error {
			f.Unchecked = append(f.Unchecked, policy.VulnFact{Package: nm.PkgName, Installed: nm.Version, Severity: "UNKNOWN"})
		}
	}
	return f
}

// SignatureVerifier verifies signatures at the registry with
// internal/signature, offline (keys only).
type SignatureVerifier struct {
	Registry image.Options
}

// Verify implements Verifier.
func (v SignatureVerifier) Verify(ctx context.Context, ref string, req policy.SignatureRequirement) (policy.SignatureOutcome, error) {
	oc, _, _, err := signature.CheckRequirement(ctx, ref, req, v.Registry)
	return oc, err
}

// CheckPolicy checks what the policy leaves to the verifier: every key of
// spec.signatures must be a public key tollgate can verify with, so that
// a policy with a broken key is refused when it is loaded (serve keeps
// the previous one) rather than denying every image it covers.
func CheckPolicy(p *policy.Policy) error {
	var errs []error
	for _, rk := range p.Signatures().Keys() {
		if _, err := signature.ParseKeys(rk.Key.PEM, rk.Key.Name); err != nil {
			errs = append(errs, fmt.Errorf("spec.signatures rule %q: %v", rk.Rule, err))
		}
	}
	return errors.Join(errs...)
}
