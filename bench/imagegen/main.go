// Command imagegen writes a large container image as an OCI layout, for
// the image-inventory benchmark (see BENCHMARKS.md and bench/image.sh).
//
// The image holds real files of the machine it runs on — a Debian root
// filesystem's /usr, with its dpkg database, os-release, Python
// distributions and Go binaries — topped up with generated text (log-like
// lines, compressible) and random bytes (incompressible) until it reaches
// the requested uncompressed size. The mix is tuned so that gzip shrinks
// the layers about 3:1. Files are spread over N gzip layers of similar
// size; a later layer rewrites the dpkg database and whites out a
// directory of an earlier one, as real images do.
//
// With -distro alpine the base is an Alpine 3.19 release and an apk
// database; with -packages N the package database is generated (N
// packages, a few of them at versions the project's fixture advisories in
// examples/vulndb know) instead of copied from the host. -format
// docker-archive writes a `docker save` tar (Docker 25's layout: the OCI
// layout plus manifest.json, in one tar) instead of a layout directory.
//
// Usage:
//
//	go run ./bench/imagegen -o /tmp/bench/img500 -size 500MB -layers 20
//	go run ./bench/imagegen -o /tmp/bench/deb.tar -format docker-archive -size 90MB -layers 8 -packages 100
package main

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

var epoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

type item struct {
	name string // path in the image
	src  string // host file to copy; "" for generated content
	size int64
	kind string // "host", "text", "rand", "bytes"
	data []byte // for "bytes"
	mode int64
	seed uint64
}

func main() {
	out := flag.String("o", "", "output directory (an OCI image layout)")
	sizeFlag := flag.String("size", "500MB", "uncompressed image size (KB, MB, GB suffixes)")
	layers := flag.Int("layers", 20, "number of layers")
	root := flag.String("root", "/", "root filesystem to take files from")
	hostShare := flag.Float64("host", 0.45, "share of the size taken from the root filesystem")
	textShare := flag.Float64("text", 0.52, "share of generated log-like text; the rest is random bytes")
	level := flag.Int("level", gzip.DefaultCompression, "gzip level")
	distro := flag.String("distro", "debian", "base release: debian or alpine")
	packages := flag.Int("packages", 0, "generate a package database of N packages (0: copy the host's dpkg status)")
	format := flag.String("format", "oci", "output: oci (a layout directory) or docker-archive (a docker save tar)")
	flag.Parse()
	if *out == "" {
		fail(errors.New("-o is required"))
	}
	size, err := parseSize(*sizeFlag)
	if err != nil {
		fail(err)
	}
	base, err := baseFiles(*root, *distro, *packages)
	if err != nil {
		fail(err)
	}
	items, err := plan(*root, base, size, *layers, *hostShare, *textShare)
	if err != nil {
		fail(err)
	}
	switch *format {
	case "oci":
		err = write(*out, items, *level)
	case "docker-archive":
		err = writeDockerArchive(*out, items, *level)
	default:
		err = fmt.Errorf("unknown -format %q: use oci or docker-archive", *format)
	}
	if err != nil {
		fail(err)
	}
}

// baseFiles are the release files and the package database of the
// image's first layer; the last one is rewritten by the last layer.
func baseFiles(root, distro string, packages int) ([]item, error) {
	bytesItem := func(name string, data []byte) item { return item{name: name, kind: "bytes", data: data, mode: 0o644} }
	switch distro {
	case "debian":
		status, err := os.ReadFile(filepath.Join(root, "var/lib/dpkg/status"))
		if packages > 0 {
			status, err = dpkgStatus(packages), nil
		}
		if err != nil {
			return nil, err
		}
		osr, _ := os.ReadFile(filepath.Join(root, "usr/lib/os-release"))
		ver, _ := os.ReadFile(filepath.Join(root, "etc/debian_version"))
		if packages > 0 {
			osr = []byte("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n")
			ver = []byte("12.5\n")
		}
		return []item{bytesItem("etc/os-release", osr), bytesItem("etc/debian_version", ver), bytesItem("var/lib/dpkg/status", status)}, nil
	case "alpine":
		if packages <= 0 {
			packages = 100
		}
		return []item{
			bytesItem("etc/os-release", []byte("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n")),
			bytesItem("etc/alpine-release", []byte("3.19.1\n")),
			bytesItem("lib/apk/db/installed", apkInstalled(packages)),
		}, nil
	}
	return nil, fmt.Errorf("unknown -distro %q: use debian or alpine", distro)
}

// dpkgStatus generates a dpkg status of n packages: libc6, libssl3 and
// zlib1g at versions the fixture advisories know, and generated
// libraries built from sources of their own.
func dpkgStatus(n int) []byte {
	var b strings.Builder
	entry := func(name, version, source string) {
		fmt.Fprintf(&b, "Package: %s\nStatus: install ok installed\nPriority: optional\nSection: libs\nInstalled-Size: 1024\nMaintainer: Debian Maintainers <maint@lists.debian.org>\nArchitecture: amd64\n", name)
		if source != "" {
			fmt.Fprintf(&b, "Source: %s\n", source)
		}
		fmt.Fprintf(&b, "Version: %s\nDepends: libc6 (>= 2.34)\nDescription: %s\n a generated package for the benchmark\n .\n It has a long description of a few lines, like real ones.\n\n", version, name)
	}
	entry("libc6", "2.36-9+deb12u7", "glibc")
	entry("libssl3", "3.0.11-1~deb12u2", "openssl")
	entry("zlib1g", "1:1.2.13.dfsg-1", "zlib")
	for i := 3; i < n; i++ {
		entry(fmt.Sprintf("libbench%03d", i), fmt.Sprintf("%d.%d.%d-%d", 1+i%5, i%13, i%7, 1+i%3), fmt.Sprintf("bench%03d", i/2))
	}
	return []byte(b.String())
}

// apkInstalled generates an apk database of n packages, with openssl's
// libcrypto3/libssl3 and musl at versions the fixture advisories know.
func apkInstalled(n int) []byte {
	var b strings.Builder
	entry := func(name, version, origin string) {
		fmt.Fprintf(&b, "C:Q1%s=\nP:%s\nV:%s\nA:x86_64\nS:100000\nI:400000\nT:%s\nU:https://example.org/\nL:MIT\no:%s\nm:Alpine Maintainer <maint@alpinelinux.org>\nt:1700000000\nc:0123456789abcdef0123456789abcdef01234567\n\n", strings.Repeat("A", 27), name, version, name, origin)
	}
	entry("musl", "1.2.4-r2", "musl")
	entry("libcrypto3", "3.1.4-r5", "openssl")
	entry("libssl3", "3.1.4-r5", "openssl")
	for i := 3; i < n; i++ {
		entry(fmt.Sprintf("bench%03d", i), fmt.Sprintf("%d.%d.%d-r%d", 1+i%5, i%13, i%7, i%3), fmt.Sprintf("bench%03d", i/2))
	}
	return []byte(b.String())
}

// writeDockerArchive writes the image as Docker 25's docker save tar: the
// OCI layout and a manifest.json naming the config and the layers.
func writeDockerArchive(out string, layers [][]item, level int) error {
	dir, err := os.MkdirTemp(filepath.Dir(out), "imagegen-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := write(dir, layers, level); err != nil {
		return err
	}
	var index struct {
		Manifests []struct{ Digest string } `json:"manifests"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err == nil {
		err = json.Unmarshal(b, &index)
	}
	if err != nil || len(index.Manifests) != 1 {
		return fmt.Errorf("reading the layout's index: %v", err)
	}
	var man struct {
		Config struct{ Digest string }   `json:"config"`
		Layers []struct{ Digest string } `json:"layers"`
	}
	blob := func(d string) string { return "blobs/sha256/" + strings.TrimPrefix(d, "sha256:") }
	b, err = os.ReadFile(filepath.Join(dir, blob(index.Manifests[0].Digest)))
	if err == nil {
		err = json.Unmarshal(b, &man)
	}
	if err != nil {
		return fmt.Errorf("reading the manifest: %v", err)
	}
	entry := map[string]any{"Config": blob(man.Config.Digest), "RepoTags": []string{"bench:latest"}}
	var ls []string
	for _, l := range man.Layers {
		ls = append(ls, blob(l.Digest))
	}
	entry["Layers"] = ls
	mj, _ := json.Marshal([]any{entry})
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), mj, 0o644); err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			return tw.WriteHeader(&tar.Header{Name: rel + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch})
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: rel, Typeflag: tar.TypeReg, Mode: 0o644, Size: fi.Size(), ModTime: epoch}); err != nil {
			return err
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(tw, src)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "imagegen:", err)
	os.Exit(1)
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suf, m := range map[string]int64{"KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30} {
		if v, ok := strings.CutSuffix(strings.ToUpper(s), suf); ok {
			s, mult = v, m
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int64(n * float64(mult)), nil
}

// plan decides which files go into which layer.
func plan(root string, base []item, size int64, nLayers int, hostShare, textShare float64) ([][]item, error) {
	var host []item
	var hostBytes int64
	budget := int64(float64(size) * hostShare)
	for _, top := range []string{"usr/bin", "usr/sbin", "usr/lib", "usr/share", "usr/local/go"} {
		if hostBytes >= budget {
			break
		}
		filepath.WalkDir(filepath.Join(root, top), func(p string, d fs.DirEntry, err error) error {
			if err != nil || hostBytes >= budget {
				if d != nil && d.IsDir() && err == nil {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			fi, err := d.Info()
			if err != nil || fi.Size() > 64<<20 {
				return nil
			}
			if f, err := os.Open(p); err == nil { // readable?
				f.Close()
			} else {
				return nil
			}
			rel, _ := filepath.Rel(root, p)
			host = append(host, item{name: filepath.ToSlash(rel), src: p, size: fi.Size(), kind: "host", mode: int64(fi.Mode().Perm())})
			hostBytes += fi.Size()
			return nil
		})
	}
	rest := size - hostBytes
	for _, b := range base {
		rest -= int64(len(b.data))
	}
	textBytes := int64(float64(size) * textShare)
	randBytes := max(rest-textBytes, 0)
	var gen []item
	const chunk = 4 << 20
	for i := int64(0); i*chunk < textBytes; i++ {
		gen = append(gen, item{name: fmt.Sprintf("var/log/app/app-%05d.log", i), kind: "text", size: min(chunk, textBytes-i*chunk), mode: 0o644, seed: uint64(i)})
	}
	for i := int64(0); i*chunk < randBytes; i++ {
		gen = append(gen, item{name: fmt.Sprintf("opt/data/blob-%05d.bin", i), kind: "rand", size: min(chunk, randBytes-i*chunk), mode: 0o644, seed: uint64(i) + 1<<32})
	}
	// Interleave host files and generated ones, then cut into layers of
	// about equal size.
	all := append(host, gen...)
	rnd := rand.New(rand.NewPCG(1, 2))
	rnd.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	per := size / int64(nLayers)
	layers := make([][]item, nLayers)
	layers[0] = append(layers[0], base...)
	cur, acc := 0, int64(0)
	for _, it := range all {
		if acc >= per && cur < nLayers-1 {
			cur++
			acc = 0
		}
		layers[cur] = append(layers[cur], it)
		acc += it.size
	}
	// The last layer rewrites the dpkg database and deletes a directory
	// of generated files, like `apt-get install` and `rm -rf` in a
	// Dockerfile.
	last := nLayers - 1
	db := base[len(base)-1] // the package database, rewritten
	layers[last] = append(layers[last], db, item{name: "var/log/app/.wh.app-00000.log", kind: "bytes", mode: 0o644})
	for i := range layers {
		sort.SliceStable(layers[i], func(a, b int) bool { return layers[i][a].name < layers[i][b].name })
	}
	return layers, nil
}

// words make log-like lines compress the way real logs do (about 4:1 to 6:1).
var words = strings.Fields(`GET POST PUT DELETE /api/v1/orders /api/v1/users /healthz /metrics 200 201 204 301 404 500
request completed failed retrying user_id order_id session latency_ms bytes upstream cache hit miss
INFO WARN ERROR DEBUG shop-api payment-service inventory checkout kafka postgres redis timeout`)

func genText(w io.Writer, size int64, seed uint64) error {
	rnd := rand.New(rand.NewPCG(seed, 7))
	var b strings.Builder
	t := epoch
	for int64(b.Len()) < size {
		t = t.Add(time.Duration(rnd.IntN(5000)) * time.Millisecond)
		fmt.Fprintf(&b, "%s %s %s", t.Format(time.RFC3339Nano), words[32+rnd.IntN(len(words)-32)], words[rnd.IntN(len(words))])
		for j := 0; j < 6; j++ {
			fmt.Fprintf(&b, " %s=%d", words[rnd.IntN(len(words))], rnd.IntN(100000))
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String()[:size])
	return err
}

func genRand(w io.Writer, size int64, seed uint64) error {
	rnd := rand.New(rand.NewPCG(seed, 11))
	buf := make([]byte, 64<<10)
	for size > 0 {
		n := min(int64(len(buf)), size)
		for i := int64(0); i < n; i += 8 {
			v := rnd.Uint64()
			for j := int64(0); j < 8 && i+j < n; j++ {
				buf[i+j] = byte(v >> (8 * j))
			}
		}
		if _, err := w.Write(buf[:n]); err != nil {
			return err
		}
		size -= n
	}
	return nil
}

type blob struct {
	digest, diffID string
	size           int64
}

type countingHash struct {
	h hash.Hash
	n int64
}

func (c *countingHash) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

// writeLayer writes one gzip layer into blobs/sha256 and returns its
// digests.
func writeLayer(dir string, items []item, level int) (blob, error) {
	tmp, err := os.CreateTemp(dir, "layer-*")
	if err != nil {
		return blob{}, err
	}
	defer os.Remove(tmp.Name())
	compressed := &countingHash{h: sha256.New()}
	zw, err := gzip.NewWriterLevel(io.MultiWriter(tmp, compressed), level)
	if err != nil {
		return blob{}, err
	}
	uncompressed := &countingHash{h: sha256.New()}
	tw := tar.NewWriter(io.MultiWriter(zw, uncompressed))
	dirs := map[string]bool{}
	for _, it := range items {
		for d := filepath.Dir(it.name); d != "." && !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	var dirList []string
	for d := range dirs {
		dirList = append(dirList, d)
	}
	sort.Strings(dirList)
	for _, d := range dirList {
		if err := tw.WriteHeader(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch}); err != nil {
			return blob{}, err
		}
	}
	for _, it := range items {
		size := it.size
		if it.kind == "bytes" {
			size = int64(len(it.data))
		}
		if err := tw.WriteHeader(&tar.Header{Name: it.name, Typeflag: tar.TypeReg, Mode: it.mode, Size: size, ModTime: epoch}); err != nil {
			return blob{}, err
		}
		switch it.kind {
		case "bytes":
			_, err = tw.Write(it.data)
		case "text":
			err = genText(tw, size, it.seed)
		case "rand":
			err = genRand(tw, size, it.seed)
		case "host":
			var f *os.File
			if f, err = os.Open(it.src); err == nil {
				var n int64
				n, err = io.Copy(tw, io.LimitReader(f, size))
				f.Close()
				if err == nil && n < size { // the file shrank: pad
					_, err = tw.Write(make([]byte, size-n))
				}
			}
		}
		if err != nil {
			return blob{}, fmt.Errorf("%s: %w", it.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return blob{}, err
	}
	if err := zw.Close(); err != nil {
		return blob{}, err
	}
	if err := tmp.Close(); err != nil {
		return blob{}, err
	}
	b := blob{
		digest: hex.EncodeToString(compressed.h.Sum(nil)),
		diffID: "sha256:" + hex.EncodeToString(uncompressed.h.Sum(nil)),
		size:   compressed.n,
	}
	return b, os.Rename(tmp.Name(), filepath.Join(dir, b.digest))
}

func writeJSONBlob(dir string, v any) (string, int, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", 0, err
	}
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])
	return h, len(b), os.WriteFile(filepath.Join(dir, h), b, 0o644)
}

func write(out string, layers [][]item, level int) error {
	blobs := filepath.Join(out, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	results := make([]blob, len(layers))
	errs := make([]error, len(layers))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i := range layers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i], errs[i] = writeLayer(blobs, layers[i], level)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var diffIDs []string
	var layerDescs []map[string]any
	var total, compressed int64
	for i, b := range results {
		diffIDs = append(diffIDs, b.diffID)
		layerDescs = append(layerDescs, map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + b.digest, "size": b.size})
		compressed += b.size
		for _, it := range layers[i] {
			if it.kind == "bytes" {
				total += int64(len(it.data))
			} else {
				total += it.size
			}
		}
	}
	history := make([]map[string]any, len(results))
	for i := range history {
		history[i] = map[string]any{"created": epoch, "created_by": fmt.Sprintf("imagegen layer %d", i+1)}
	}
	cfg, cfgSize, err := writeJSONBlob(blobs, map[string]any{
		"architecture": "amd64", "os": "linux", "created": epoch,
		"config":  map[string]any{"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": diffIDs},
		"history": history,
	})
	if err != nil {
		return err
	}
	man, manSize, err := writeJSONBlob(blobs, map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + cfg, "size": cfgSize},
		"layers":        layerDescs,
	})
	if err != nil {
		return err
	}
	index, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests":     []map[string]any{{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + man, "size": manSize}},
	})
	if err := os.WriteFile(filepath.Join(out, "index.json"), index, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return err
	}
	fmt.Printf("layers %d, uncompressed %d bytes (%.0f MiB), compressed %d bytes (%.0f MiB), ratio %.2f:1\n",
		len(results), total, float64(total)/(1<<20), compressed, float64(compressed)/(1<<20), float64(total)/float64(compressed))
	for _, b := range results {
		fmt.Printf("layer sha256:%s\n", b.digest)
	}
	return nil
}
