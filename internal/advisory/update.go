package advisory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

// DefaultBaseURL is the OSV bulk export: <base>/<ECOSYSTEM>/all.zip.
const DefaultBaseURL = "https://osv-vulnerabilities.storage.googleapis.com"

// DefaultEcosystems are the ecosystems db update fetches by default.
var DefaultEcosystems = []string{"Debian", "Ubuntu", "Alpine", "Go", "PyPI", "npm", "Maven", "crates.io", "RubyGems", "NuGet", "Packagist"}

// maxDownload bounds one all.zip (the largest OSV export, Debian's, is
// well under 1 GiB).
const maxDownload = 2 << 30

// UpdateOptions configures Update.
type UpdateOptions struct {
	// Dir holds the DB file and its lock (DefaultDir).
	Dir string
	// BaseURL of the export or a mirror of it (DefaultBaseURL when "").
	BaseURL string
	// Ecosystems to fetch (DefaultEcosystems when empty).
	Ecosystems []string
	// Repository, when set, is an OCI reference to pull a DB pushed with
	// Push from, instead of downloading the export.
	Repository string
	// Client for HTTP downloads (http.DefaultClient when nil).
	Client *http.Client
	// Progress, when set, receives progress output: a bar per ecosystem
	// when Terminal, else nothing (the caller prints the summary).
	Progress io.Writer
	Terminal bool
	// Report, when set, receives each problem found in the records.
	Report func(Problem)
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Registry configures registry access for Repository.
	Registry RegistryOptions
}

// UpdateResult says what an update did.
type UpdateResult struct {
	Metadata Metadata
	// Unchanged lists the ecosystems the server said had not changed
	// (304); Downloaded those fetched again, with Bytes transferred.
	Unchanged, Downloaded []string
	Bytes                 int64
	// Rebuilt is false when nothing changed and the DB was left as it was.
	Rebuilt bool
}

// ErrDownload marks a download that failed or did not verify: a server
// error, an interrupted or truncated transfer, content that is not a
// readable OSV zip. The old DB is left as it was.
var ErrDownload = errors.New("advisory download failed")

// downloadsDir keeps the last good all.zip of each ecosystem, so that an
// ecosystem the server says is unchanged (304) is rebuilt from it.
const downloadsDir = "downloads"

// Update fetches the advisory data and replaces the DB atomically: the
// new DB is built beside the old one from verified downloads and renamed
// over it, so a failed, interrupted or corrupt update leaves the old DB
// working, and scans that have the old file open read it whole. Requests
// are conditional (If-None-Match / If-Modified-Since from the last
// update); when every ecosystem is unchanged the DB is left as it is.
// Concurrent updates of one Dir take turns (a lock file).
func Update(ctx context.Context, opts UpdateOptions) (UpdateResult, error) {
	unlock, err := lockDir(ctx, opts.Dir)
	if err != nil {
		return UpdateResult{}, err
	}
	defer unlock()
	if opts.Repository != "" {
		return pull(ctx, opts)
	}
	base := opts.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return UpdateResult{}, fmt.Errorf("DB URL %q is not an http(s) URL", base)
	}
	ecos := opts.Ecosystems
	if len(ecos) == 0 {
		ecos = DefaultEcosystems
	}
	client := opts.Client
	if client == nil {
		client = http.DefaultClient
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}

	prev := previousSources(filepath.Join(opts.Dir, FileName))
	dl := filepath.Join(opts.Dir, downloadsDir)
	if err := os.MkdirAll(dl, 0o755); err != nil {
		return UpdateResult{}, fmt.Errorf("creating %s: %w", dl, errors.Unwrap(err))
	}

	b := NewBuilder()
	b.Report, b.Now = opts.Report, now
	var res UpdateResult
	fresh := map[string]string{} // ecosystem → verified download, moved into downloads/ once the DB is written
	defer func() {
		for _, f := range fresh {
			os.Remove(f)
		}
	}()
	for _, eco := range ecos {
		u := strings.TrimRight(base, "/") + "/" + url.PathEscape(eco) + "/all.zip"
		cached := filepath.Join(dl, safeName(eco)+".zip")
		old, hasOld := prev[eco]
		if hasOld && !fileHasSHA256(cached, old.SHA256) {
			hasOld = false // the kept zip is gone or changed: fetch it whole
		}
		src, tmp, n, err := fetch(ctx, client, eco, u, old, hasOld, dl, opts)
		if err != nil {
			return UpdateResult{}, err
		}
		src.Retrieved = now().UTC()
		path := cached
		if tmp == "" {
			res.Unchanged = append(res.Unchanged, eco)
			src.ETag, src.LastModified, src.SHA256 = old.ETag, old.LastModified, old.SHA256
		} else {
			res.Downloaded = append(res.Downloaded, eco)
			res.Bytes += n
			fresh[eco] = tmp
			path = tmp
		}
		if err := b.addZipFile(src, path); err != nil {
			return UpdateResult{}, fmt.Errorf("%w: %s from %s: %w", ErrDownload, eco, u, err)
		}
	}
	if len(res.Downloaded) == 0 && sameSources(prev, ecos) {
		if db, err := Open(filepath.Join(opts.Dir, FileName)); err == nil {
			res.Metadata = db.Metadata()
			db.Close()
			return res, nil
		}
	}
	meta, err := b.Write(filepath.Join(opts.Dir, FileName))
	if err != nil {
		return UpdateResult{}, err
	}
	for eco, f := range fresh {
		// A failed rename only costs a whole download next time: the
		// kept zip's SHA-256 no longer matches the DB's sources.
		if os.Rename(f, filepath.Join(dl, safeName(eco)+".zip")) == nil {
			delete(fresh, eco)
		}
	}
	res.Metadata, res.Rebuilt = meta, true
	return res, nil
}

// sameSources reports whether the previous DB was built from exactly
// these ecosystems (then all-unchanged means nothing to rebuild).
func sameSources(prev map[string]Source, ecos []string) bool {
	if len(prev) != len(ecos) {
		return false
	}
	for _, e := range ecos {
		if _, ok := prev[e]; !ok {
			return false
		}
	}
	return true
}

// safeName turns an ecosystem name into a file name.
func safeName(eco string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r == 0 {
			return '_'
		}
		return r
	}, eco)
}

// previousSources returns the sources of the DB at path by name, or nil.
func previousSources(path string) map[string]Source {
	db, err := Open(path)
	if err != nil {
		return nil
	}
	defer db.Close()
	m := map[string]Source{}
	for _, s := range db.Metadata().Sources {
		m[s.Name] = s
	}
	return m
}

func fileHasSHA256(path, want string) bool {
	if want == "" {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false
	}
	return hex.EncodeToString(h.Sum(nil)) == want
}

// fetch downloads one all.zip into a temp file in dir. It returns tmp ""
// when the server answered 304 Not Modified to the conditional request.
func fetch(ctx context.Context, client *http.Client, eco, u string, old Source, conditional bool, dir string, opts UpdateOptions) (src Source, tmp string, n int64, err error) {
	src = Source{Name: eco, URL: u}
	fail := func(format string, args ...any) (Source, string, int64, error) {
		return src, "", 0, fmt.Errorf("%w: %s from %s: %s", ErrDownload, eco, u, fmt.Sprintf(format, args...))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fail("%v", err)
	}
	req.Header.Set("User-Agent", "tollgate")
	if conditional {
		if old.ETag != "" {
			req.Header.Set("If-None-Match", old.ETag)
		}
		if old.LastModified != "" {
			req.Header.Set("If-Modified-Since", old.LastModified)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return src, "", 0, ctx.Err()
		}
		return fail("%s", netProblem(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified && conditional:
		return src, "", 0, nil
	case resp.StatusCode != http.StatusOK:
		return fail("the server answered %s", resp.Status)
	}
	src.ETag, src.LastModified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if resp.ContentLength > maxDownload {
		return fail("%d bytes is more than the %d GiB tollgate accepts", resp.ContentLength, maxDownload>>30)
	}
	f, err := os.CreateTemp(dir, "."+safeName(eco)+".*.part")
	if err != nil {
		return src, "", 0, fmt.Errorf("creating a download file in %s: %w", dir, errors.Unwrap(err))
	}
	part := f.Name() // not the named result: a failing return clears that before this defer runs
	ok := false
	defer func() {
		f.Close()
		if !ok {
			os.Remove(part)
		}
	}()
	h := sha256.New()
	var w io.Writer = io.MultiWriter(f, h)
	if opts.Progress != nil && opts.Terminal {
		bar := progressbar.NewOptions64(resp.ContentLength,
			progressbar.OptionSetWriter(opts.Progress),
			progressbar.OptionSetDescription(eco),
			progressbar.OptionShowBytes(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		defer bar.Finish()
		w = io.MultiWriter(w, bar)
	}
	n, err = io.Copy(w, io.LimitReader(resp.Body, maxDownload+1))
	if err != nil {
		if ctx.Err() != nil {
			return src, "", 0, ctx.Err()
		}
		return fail("the transfer broke off after %d bytes: %s", n, netProblem(err))
	}
	if n > maxDownload {
		return fail("more than the %d GiB tollgate accepts", maxDownload>>30)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fail("got %d bytes, the server announced %d", n, resp.ContentLength)
	}
	if err := f.Sync(); err != nil {
		return src, "", 0, fmt.Errorf("writing %s: %w", part, err)
	}
	src.SHA256 = hex.EncodeToString(h.Sum(nil))
	ok = true
	return src, part, n, nil
}

// netProblem words a transport error without socket addresses or Go
// internals.
func netProblem(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), strings.Contains(msg, "unexpected EOF"):
		return "the connection closed early"
	case strings.Contains(msg, "connection refused"):
		return "connection refused"
	case strings.Contains(msg, "no such host"):
		return "unknown host"
	case strings.Contains(msg, "timeout"), strings.Contains(msg, "deadline exceeded"):
		return "timed out"
	case strings.Contains(msg, "connection reset"):
		return "the connection was reset"
	case strings.Contains(msg, "certificate"):
		return "TLS certificate not trusted"
	}
	return "network error"
}

// addZipFile verifies and adds a downloaded zip: every .json entry must
// be an OSV record (an export holds nothing else).
func (b *Builder) addZipFile(src Source, path string) error {
	problems := b.problems
	n, skipped, err := b.addZipPath(src.Name, path)
	if err != nil {
		return err
	}
	if skipped > 0 {
		return fmt.Errorf("%w: %d entries are not OSV records", ErrBadZip, skipped)
	}
	if n == 0 {
		return fmt.Errorf("%w: no records in it", ErrBadZip)
	}
	src.Records, src.Problems = n, b.problems-problems
	b.sources = append(b.sources, src)
	return nil
}
