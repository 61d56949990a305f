package main

import (
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tollgate-dev/tollgate/internal/advisory"
	"github.com/tollgate-dev/tollgate/internal/match/matchtest"
	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

// scanScriptCmds are the testscript commands of the scan scripts: an
// advisory DB from the project's fixtures, a loopback registry serving the
// fixture image, and the image as a docker save tar.
type scanScriptCmds struct {
	img v1.Image
}

func newScanScriptCmds(t *testing.T) *scanScriptCmds {
	return &scanScriptCmds{img: registrytest.DebianImage(t)}
}

// vulndb DIR builds the advisory DB from examples/vulndb into DIR, dated
// now (so a scan does not try to update it).
func (c *scanScriptCmds) vulndb(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: vulndb DIR")
	}
	b := advisory.NewBuilder()
	if _, err := b.AddPath(matchtest.FixtureDir()); err != nil {
		ts.Fatalf("reading fixtures: %v", err)
	}
	b.Now = time.Now
	if _, err := b.Write(ts.MkAbs(args[0]) + "/" + advisory.FileName); err != nil {
		ts.Fatalf("writing DB: %v", err)
	}
}

// registry REPO:TAG… starts an in-process registry on loopback, pushes the
// fixture image under each name, and sets $REGISTRY to its host:port.
func (c *scanScriptCmds) registry(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: registry REPO:TAG...")
	}
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	ts.Defer(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, a := range args {
		ref, err := name.ParseReference(host + "/" + a)
		if err != nil {
			ts.Fatalf("%v", err)
		}
		if err := remote.Write(ref, c.img); err != nil {
			ts.Fatalf("pushing %s: %v", ref, err)
		}
	}
	ts.Setenv("REGISTRY", host)
}

// imagetar FILE TAG writes the fixture image as a docker save tar.
func (c *scanScriptCmds) imagetar(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: imagetar FILE TAG")
	}
	tag, err := name.NewTag(args[1])
	if err != nil {
		ts.Fatalf("%v", err)
	}
	if err := tarball.WriteToFile(ts.MkAbs(args[0]), tag, c.img); err != nil {
		ts.Fatalf("writing %s: %v", args[0], err)
	}
}
