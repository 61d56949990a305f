package advisory

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

func TestPushPullInProcessRegistry(t *testing.T) {
	reg := registrytest.StartRegistry(t)
	src := t.TempDir()
	db, _, _ := buildFixtures(t, src)
	want := db.Metadata()
	ro := RegistryOptions{Transport: reg.Transport}
	ref := reg.Host + "/mirror/tollgate-db:1"
	ctx := context.Background()

	digest, err := Push(ctx, filepath.Join(src, FileName), ref, ro)
	if err != nil {
		t.Fatal(err)
	}
	// The manifest carries our media types.
	r, _ := name.ParseReference(ref)
	desc, err := remote.Get(r, remote.WithTransport(reg.Transport))
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest.String() != digest {
		t.Errorf("pushed %s, registry has %s", digest, desc.Digest)
	}
	img, _ := desc.Image()
	m, _ := img.Manifest()
	if m.Config.MediaType != ConfigMediaType || m.Layers[0].MediaType != LayerMediaType || m.ArtifactType != ArtifactType {
		t.Errorf("manifest media types: config %s layer %s artifact %s", m.Config.MediaType, m.Layers[0].MediaType, m.ArtifactType)
	}

	dst := t.TempDir()
	res, err := Update(ctx, UpdateOptions{Dir: dst, Repository: ref, Registry: ro})
	if err != nil {
		t.Fatal(err)
	}
	if res.Metadata.BuildID != want.BuildID {
		t.Errorf("pulled build %s, pushed %s", res.Metadata.BuildID, want.BuildID)
	}
	pulled, err := Open(filepath.Join(dst, FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer pulled.Close()
	if advs, err := pulled.Lookup("npm", "lodash"); err != nil || len(advs) != 2 {
		t.Errorf("lookup in the pulled DB: %v %v", ids(advs), err)
	}

	// An ordinary image is not a DB artifact; the old DB stays.
	registrytest.Push(t, reg.Host+"/some/image:1", registrytest.Image(t, registrytest.Layer(t, registrytest.File("a", "b"))), remote.WithTransport(reg.Transport))
	_, err = Update(ctx, UpdateOptions{Dir: dst, Repository: reg.Host + "/some/image:1", Registry: ro})
	if !errors.Is(err, ErrNotArtifact) {
		t.Errorf("pulling an image: %v, want ErrNotArtifact", err)
	}
	if _, err := Update(ctx, UpdateOptions{Dir: dst, Repository: reg.Host + "/missing:1", Registry: ro}); !errors.Is(err, ErrDownload) {
		t.Errorf("pulling a missing tag: %v", err)
	}
	again, err := Open(filepath.Join(dst, FileName))
	if err != nil || again.Metadata().BuildID != want.BuildID {
		t.Errorf("DB after failed pulls: %v", err)
	}
	again.Close()
}
