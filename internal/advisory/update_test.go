package advisory

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// zipOf builds an OSV-export-style zip of testdata/records files.
func zipOf(t *testing.T, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join("testdata", "records", n))
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// exportServer serves <eco>/all.zip like the OSV bucket: ETag and
// Last-Modified, 304 for a matching conditional request. mode changes
// what it does to the next responses.
type exportServer struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	zips    map[string][]byte
	mode    string // "", "interrupt", "truncate", "wrong", "500", "crc"
	bodies  atomic.Int64
	lastMod string
}

func newExportServer(t *testing.T) *exportServer {
	s := &exportServer{t: t, lastMod: "Mon, 30 Nov 2026 10:00:00 GMT", zips: map[string][]byte{
		"npm": zipOf(t, "GHSA-jf85-cpcp-j695.json", "GHSA-x5rq-j2xg-h7qm.json", "GHSA-qw6h-vgh9-j6wx.json"),
		"Go":  zipOf(t, "GO-2022-0969.json", "GHSA-69cg-p879-7622.json"),
	}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *exportServer) set(mode string) {
	s.mu.Lock()
	s.mode = mode
	s.mu.Unlock()
}

func (s *exportServer) setZip(eco string, z []byte) {
	s.mu.Lock()
	s.zips[eco] = z
	s.mu.Unlock()
}

func (s *exportServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	mode := s.mode
	eco, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/mirror/"), "/all.zip")
	eco = strings.TrimPrefix(eco, "/")
	body, found := s.zips[eco]
	s.mu.Unlock()
	if !ok || !found {
		http.NotFound(w, r)
		return
	}
	etag := fmt.Sprintf(`"%x"`, len(body)*7919+int(body[len(body)-1]))
	if r.Header.Get("If-None-Match") == etag && mode == "" {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", s.lastMod)
	switch mode {
	case "500":
		http.Error(w, "backend trouble", http.StatusInternalServerError)
		return
	case "wrong":
		page := []byte("<html><body>a captive portal page</body></html>")
		w.Header().Set("Content-Length", fmt.Sprint(len(page)))
		w.Write(page)
		s.bodies.Add(1)
		return
	case "truncate":
		cut := body[:len(body)/2]
		w.Header().Set("Content-Length", fmt.Sprint(len(cut)))
		w.Write(cut)
		s.bodies.Add(1)
		return
	case "crc":
		bad := bytes.Clone(body)
		zr, _ := zip.NewReader(bytes.NewReader(body), int64(len(body)))
		off, _ := zr.File[0].DataOffset()
		bad[off+int64(zr.File[0].CompressedSize64/2)] ^= 0xff // inside the first entry's data
		w.Header().Set("Content-Length", fmt.Sprint(len(bad)))
		w.Write(bad)
		s.bodies.Add(1)
		return
	case "interrupt":
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body[:len(body)/3])
		s.bodies.Add(1)
		if hj, ok := w.(http.Hijacker); ok {
			w.(http.Flusher).Flush()
			conn, _, _ := hj.Hijack()
			conn.Close()
		}
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.Write(body)
	s.bodies.Add(1)
}

func updateOpts(dir, base string) UpdateOptions {
	return UpdateOptions{Dir: dir, BaseURL: base, Ecosystems: []string{"npm", "Go"}, Now: func() time.Time { return fixedNow }}
}

// lookupWorks is what a scan does with the DB: open it and look a package up.
func lookupWorks(t *testing.T, dir, wantBuild string) {
	t.Helper()
	db, err := Open(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatalf("the DB does not open after the failed update: %v", err)
	}
	defer db.Close()
	if wantBuild != "" && db.Metadata().BuildID != wantBuild {
		t.Errorf("the DB was replaced (build %s, want %s)", db.Metadata().BuildID, wantBuild)
	}
	advs, err := db.Lookup("npm", "lodash")
	if err != nil || len(advs) != 2 {
		t.Errorf("lookup after the failed update: %v, %v", ids(advs), err)
	}
}

func TestUpdateFromHTTP(t *testing.T) {
	srv := newExportServer(t)
	dir := t.TempDir()
	ctx := context.Background()

	// First download.
	res, err := Update(ctx, updateOpts(dir, srv.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Rebuilt || len(res.Downloaded) != 2 || res.Metadata.Records != 5 || srv.bodies.Load() != 2 {
		t.Fatalf("first update: %+v, bodies %d", res, srv.bodies.Load())
	}
	first := res.Metadata.BuildID
	lookupWorks(t, dir, first)
	for _, s := range res.Metadata.Sources {
		if s.ETag == "" || s.LastModified == "" || s.SHA256 == "" || s.URL == "" {
			t.Errorf("source without validators: %+v", s)
		}
	}

	// Unchanged: conditional requests, 304, no body, DB left as it was.
	res, err = Update(ctx, updateOpts(dir, srv.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if res.Rebuilt || len(res.Unchanged) != 2 || srv.bodies.Load() != 2 {
		t.Fatalf("unchanged update: %+v, bodies %d", res, srv.bodies.Load())
	}
	lookupWorks(t, dir, first)

	// One ecosystem changes: only it is downloaded; the other is rebuilt
	// from the kept zip.
	srv.setZip("Go", zipOf(t, "GO-2022-0969.json"))
	res, err = Update(ctx, updateOpts(dir, srv.srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Rebuilt || len(res.Downloaded) != 1 || res.Downloaded[0] != "Go" || res.Metadata.Records != 4 || srv.bodies.Load() != 3 {
		t.Fatalf("partial update: %+v, bodies %d", res, srv.bodies.Load())
	}
	good := res.Metadata.BuildID
	lookupWorks(t, dir, good)

	// Each broken download is a clear error and leaves the DB as it was.
	srv.setZip("Go", zipOf(t, "GO-2022-0969.json", "GHSA-69cg-p879-7622.json"))
	for _, tc := range []struct{ mode, want string }{
		{"interrupt", "broke off"},
		{"truncate", "not a readable zip"},
		{"wrong", "not a readable zip"},
		{"crc", "not a readable zip"},
		{"500", "500 Internal Server Error"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			srv.set(tc.mode)
			defer srv.set("")
			_, err := Update(ctx, updateOpts(dir, srv.srv.URL))
			if !errors.Is(err, ErrDownload) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrDownload saying %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "127.0.0.1:") && !strings.Contains(err.Error(), "from http://127.0.0.1") {
				t.Errorf("error shows a socket address: %v", err)
			}
			lookupWorks(t, dir, good)
			left, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
			parts, _ := filepath.Glob(filepath.Join(dir, downloadsDir, "*.part"))
			if len(left)+len(parts) > 0 {
				t.Errorf("temporary files left behind: %v %v", left, parts)
			}
		})
	}
}

func TestUpdateFromMirror(t *testing.T) {
	srv := newExportServer(t)
	dir := t.TempDir()
	res, err := Update(context.Background(), updateOpts(dir, srv.srv.URL+"/mirror/"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Metadata.Sources {
		if !strings.HasPrefix(s.URL, srv.srv.URL+"/mirror/") {
			t.Errorf("source URL %s is not the mirror's", s.URL)
		}
	}
	lookupWorks(t, dir, "")
}

// TestUpdateKeepsOpenReaders: a scan that opened the DB before an update
// goes on reading the old file whole.
func TestUpdateKeepsOpenReaders(t *testing.T) {
	srv := newExportServer(t)
	dir := t.TempDir()
	if _, err := Update(context.Background(), updateOpts(dir, srv.srv.URL)); err != nil {
		t.Fatal(err)
	}
	db, err := Open(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	srv.setZip("npm", zipOf(t, "GHSA-qw6h-vgh9-j6wx.json"))
	if _, err := Update(context.Background(), updateOpts(dir, srv.srv.URL)); err != nil {
		t.Fatal(err)
	}
	advs, err := db.Lookup("npm", "lodash")
	if err != nil || len(advs) != 2 {
		t.Errorf("old reader: %v, %v", ids(advs), err)
	}
	fresh, err := Open(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if advs, _ := fresh.Lookup("npm", "lodash"); len(advs) != 0 {
		t.Errorf("new reader still sees lodash: %v", ids(advs))
	}
}

func TestConcurrentUpdates(t *testing.T) {
	srv := newExportServer(t)
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Update(context.Background(), updateOpts(dir, srv.srv.URL))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("update %d: %v", i, err)
		}
	}
	lookupWorks(t, dir, "")
	if srv.bodies.Load() != 2 {
		t.Errorf("%d bodies sent: the later updates should have been 304s after the first", srv.bodies.Load())
	}
}

func TestLockSaysWhoHoldsIt(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if h := LockHolder(dir); h != fmt.Sprintf("pid %d", os.Getpid()) {
		t.Errorf("LockHolder = %q", h)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = lockDir(ctx, dir)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("second lock: %v, want it to name the holder", err)
	}
}

func TestOpenForScan(t *testing.T) {
	srv := newExportServer(t)
	ctx := context.Background()
	now := fixedNow
	clock := func() time.Time { return now }

	t.Run("missing, offline", func(t *testing.T) {
		_, _, err := OpenForScan(ctx, ScanOptions{Dir: t.TempDir(), Offline: true})
		if !errors.Is(err, ErrNeedDB) || !strings.Contains(err.Error(), "tollgate db import") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("missing, skip update", func(t *testing.T) {
		_, _, err := OpenForScan(ctx, ScanOptions{Dir: t.TempDir(), SkipUpdate: true})
		if !errors.Is(err, ErrNeedDB) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("missing, fetched", func(t *testing.T) {
		dir := t.TempDir()
		db, warn, err := OpenForScan(ctx, ScanOptions{Dir: dir, Update: updateOpts("", srv.srv.URL), Now: clock})
		if err != nil || warn != "" {
			t.Fatalf("err %v warn %q", err, warn)
		}
		db.Close()
	})
	t.Run("missing, unreachable", func(t *testing.T) {
		_, _, err := OpenForScan(ctx, ScanOptions{Dir: t.TempDir(), Update: updateOpts("", "http://127.0.0.1:1")})
		if !errors.Is(err, ErrNeedDB) || !strings.Contains(err.Error(), "tollgate db import") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("stale, updated; stale and unreachable, used with a warning", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := Update(ctx, updateOpts(dir, srv.srv.URL)); err != nil {
			t.Fatal(err)
		}
		srv.setZip("npm", zipOf(t, "GHSA-jf85-cpcp-j695.json"))
		defer srv.setZip("npm", zipOf(t, "GHSA-jf85-cpcp-j695.json", "GHSA-x5rq-j2xg-h7qm.json", "GHSA-qw6h-vgh9-j6wx.json"))
		later := func() time.Time { return fixedNow.Add(25 * time.Hour) }
		uo := updateOpts("", srv.srv.URL)
		uo.Now = later
		// fresh enough: no update
		db, _, err := OpenForScan(ctx, ScanOptions{Dir: dir, Update: uo, Now: clock})
		if err != nil || db.Metadata().Records != 5 {
			t.Fatalf("fresh: %v", err)
		}
		db.Close()
		// stale but offline: used as it is
		db, _, err = OpenForScan(ctx, ScanOptions{Dir: dir, Offline: true, Update: uo, Now: later})
		if err != nil || db.Metadata().Records != 5 {
			t.Fatalf("stale offline: %v", err)
		}
		db.Close()
		// stale: updated first
		db, _, err = OpenForScan(ctx, ScanOptions{Dir: dir, Update: uo, Now: later})
		if err != nil || db.Metadata().Records != 3 {
			t.Fatalf("stale: %v, records %d", err, db.Metadata().Records)
		}
		db.Close()
		// stale and the server broken: the old DB with a warning
		srv.set("500")
		defer srv.set("")
		db, warn, err := OpenForScan(ctx, ScanOptions{Dir: dir, Update: uo, Now: func() time.Time { return fixedNow.Add(60 * time.Hour) }})
		if err != nil || !strings.Contains(warn, "updating it failed") {
			t.Fatalf("stale, broken server: err %v warn %q", err, warn)
		}
		db.Close()
	})
	t.Run("other schema refused offline", func(t *testing.T) {
		dir := t.TempDir()
		writeSchema(t, filepath.Join(dir, FileName), SchemaVersion+1)
		_, _, err := OpenForScan(ctx, ScanOptions{Dir: dir, Offline: true})
		if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "tollgate db update") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("other schema replaced by an update", func(t *testing.T) {
		dir := t.TempDir()
		writeSchema(t, filepath.Join(dir, FileName), SchemaVersion+1)
		db, _, err := OpenForScan(ctx, ScanOptions{Dir: dir, Update: updateOpts("", srv.srv.URL)})
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
	})
}

// TestUpdateCancelled: an update stopped mid-transfer (Ctrl-C) leaves the
// old DB and no temporary files.
func TestUpdateCancelled(t *testing.T) {
	srv := newExportServer(t)
	dir := t.TempDir()
	if _, err := Update(context.Background(), updateOpts(dir, srv.srv.URL)); err != nil {
		t.Fatal(err)
	}
	db, _ := Open(filepath.Join(dir, FileName))
	good := db.Metadata().BuildID
	db.Close()
	started := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		close(started)
		<-r.Context().Done()
	}))
	defer slow.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	_, err := Update(ctx, updateOpts(dir, slow.URL))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	lookupWorks(t, dir, good)
	parts, _ := filepath.Glob(filepath.Join(dir, downloadsDir, "*.part"))
	if len(parts) > 0 {
		t.Errorf("temporary files left behind: %v", parts)
	}
}

// TestUpdateFewerEcosystems: asking for fewer ecosystems rebuilds the DB
// from the kept zips even though the server says nothing changed.
func TestUpdateFewerEcosystems(t *testing.T) {
	srv := newExportServer(t)
	dir := t.TempDir()
	if _, err := Update(context.Background(), updateOpts(dir, srv.srv.URL)); err != nil {
		t.Fatal(err)
	}
	o := updateOpts(dir, srv.srv.URL)
	o.Ecosystems = []string{"npm"}
	res, err := Update(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Rebuilt || len(res.Unchanged) != 1 || res.Metadata.Records != 3 || srv.bodies.Load() != 2 {
		t.Errorf("update with fewer ecosystems: %+v, bodies %d", res, srv.bodies.Load())
	}
}
