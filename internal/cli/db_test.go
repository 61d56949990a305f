package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

// dbRecord is an OSV record of our own (real ID and versions).
const dbRecord = `{"id": "GHSA-jf85-cpcp-j695", "modified": "2024-03-01T10:00:00Z", "summary": "test record",
 "affected": [{"package": {"ecosystem": "npm", "name": "lodash"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "4.17.12"}]}]}],
 "database_specific": {"severity": "CRITICAL"}}`

// dbZip is an all.zip holding dbRecord.
func dbZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("GHSA-jf85-cpcp-j695.json")
	w.Write([]byte(dbRecord))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// importDB builds a DB in a new cache dir with db import and returns the dir.
func importDB(t *testing.T) string {
	t.Helper()
	cache := t.TempDir()
	rec := filepath.Join(t.TempDir(), "rec.json")
	os.WriteFile(rec, []byte(dbRecord), 0o644)
	if _, stderr, code := runTollgate(t, "db", "import", "--cache-dir", cache, rec); code != 0 {
		t.Fatalf("db import: exit %d: %s", code, stderr)
	}
	return cache
}

var buildIDRe = regexp.MustCompile(`(?m)^build id +(\S+)$`)

func buildID(t *testing.T, cache string) string {
	t.Helper()
	out, stderr, code := runTollgate(t, "db", "info", "--cache-dir", cache)
	if code != 0 {
		t.Fatalf("db info: exit %d: %s", code, stderr)
	}
	m := buildIDRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no build id in db info:\n%s", out)
	}
	return m[1]
}

// pushPull pushes a DB to ref and pulls it into a fresh cache dir.
func pushPull(t *testing.T, ref string) {
	t.Helper()
	src := importDB(t)
	out, stderr, code := runTollgate(t, "db", "push", "--cache-dir", src, ref)
	if code != 0 || !strings.HasPrefix(out, ref+"@sha256:") {
		t.Fatalf("db push: exit %d: %s%s", code, out, stderr)
	}
	dst := t.TempDir()
	_, stderr, code = runTollgate(t, "db", "update", "--cache-dir", dst, "--db-repository", ref)
	if code != 0 || !strings.Contains(stderr, "db update: 1 downloaded") {
		t.Fatalf("db update --db-repository: exit %d: %s", code, stderr)
	}
	if a, b := buildID(t, src), buildID(t, dst); a != b {
		t.Errorf("pulled build %s, pushed %s", b, a)
	}
}

func TestDBPushPullInProcessRegistry(t *testing.T) {
	reg := registrytest.StartRegistry(t)
	pushPull(t, reg.Host+"/security/tollgate-db:1")
}

// TestDBPushPullDistributionRegistry: the same round trip through
// Debian's docker-registry on loopback.
func TestDBPushPullDistributionRegistry(t *testing.T) {
	reg := registrytest.StartDistribution(t)
	pushPull(t, reg.Addr+"/security/tollgate-db:1")
}

func TestDBPushWithoutDB(t *testing.T) {
	_, stderr, code := runTollgate(t, "db", "push", "--cache-dir", t.TempDir(), "127.0.0.1:1/x:1")
	if code != 2 || !strings.Contains(stderr, "no advisory DB") || !strings.Contains(stderr, "tollgate db import") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

func TestDBUpdateFromMirrorEnv(t *testing.T) {
	z := dbZip(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/osv/npm/all.zip" {
			http.NotFound(w, r)
			return
		}
		w.Write(z)
	}))
	defer srv.Close()
	t.Setenv("TOLLGATE_DB_URL", srv.URL+"/osv")
	cache := t.TempDir()
	_, stderr, code := runTollgate(t, "db", "update", "--cache-dir", cache, "--ecosystems", "npm")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// Not a terminal: nothing but the summary line.
	if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "db update: 1 downloaded") {
		t.Errorf("stderr is not one summary line:\n%s", stderr)
	}
	out, _, _ := runTollgate(t, "db", "info", "--cache-dir", cache)
	if !strings.Contains(out, srv.URL+"/osv/npm/all.zip") {
		t.Errorf("db info does not name the mirror:\n%s", out)
	}
}

func TestDBUpdateProgressOnTerminal(t *testing.T) {
	z := dbZip(t)
	// A slow transfer, so the bar (throttled to 10 updates a second) draws.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(z)))
		for i := range 4 {
			w.Write(z[i*len(z)/4 : (i+1)*len(z)/4])
			w.(http.Flusher).Flush()
			time.Sleep(150 * time.Millisecond)
		}
	}))
	defer srv.Close()
	master, slave := openPTY(t)
	seen := readPTY(master, "")
	var out strings.Builder
	code := Run(context.Background(), []string{"db", "update", "--cache-dir", t.TempDir(), "--db-url", srv.URL, "--ecosystems", "npm"}, strings.NewReader(""), &out, slave)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	slave.Close()
	select {
	case s := <-seen:
		if !strings.Contains(s, "npm") || !strings.Contains(s, "B/s") {
			t.Errorf("no progress bar with the ecosystem and a rate on the terminal: %q", s)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("nothing on the terminal")
	}
}
