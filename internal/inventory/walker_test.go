package inventory

import (
	"fmt"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/tollgate-dev/tollgate/internal/image"
	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

// countingWalker records the layer of every entry and reads every file.
type countingWalker struct {
	layers []int
}

func (w *countingWalker) Entry(i int, e *image.Entry, content io.Reader) error {
	w.layers = append(w.layers, i)
	if content != nil {
		_, err := io.Copy(io.Discard, content)
		return err
	}
	return nil
}

// TestWalkerSeesEveryLayerInOrder: more layers than the read-ahead has
// room for chunks, a layer bigger than a chunk; the walker gets every
// entry bottom first, cold and warm (every layer cached), and the
// inventory is the one a scan without a walker makes.
func TestWalkerSeesEveryLayerInOrder(t *testing.T) {
	big := make([]byte, readAheadChunk*3+17)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	ls := []v1.Layer{
		registrytest.Layer(t, registrytest.File("etc/os-release", "ID=alpine\nVERSION_ID=3.19.1\n")),
		registrytest.Layer(t, registrytest.File("lib/apk/db/installed", "P:musl\nV:1.2.4-r2\nA:x86_64\n\n")),
		registrytest.Layer(t, registrytest.File("data/big", string(big))),
	}
	for i := range readAheadChunks + 10 {
		ls = append(ls, registrytest.Layer(t, registrytest.File(fmt.Sprintf("data/f%03d", i), string(big[:i*997%len(big)]))))
	}
	for _, img := range []v1.Image{registrytest.Image(t, ls...), registrytest.DebianImage(t)} {
		want := layered(scanLayout(t, img, Options{}).Packages)
		cache := t.TempDir()
		n, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		for _, run := range []string{"cold", "warm"} {
			w := &countingWalker{}
			inv := scanLayout(t, img, Options{CacheDir: cache, Walker: func(*image.Image) (LayerWalker, error) { return w, nil }})
			if diff := cmp.Diff(want, layered(inv.Packages)); diff != "" {
				t.Errorf("%s: packages with a walker (-without +with):\n%s", run, diff)
			}
			last, seen := -1, map[int]bool{}
			for _, l := range w.layers {
				if l < last {
					t.Fatalf("%s: layer %d after layer %d", run, l, last)
				}
				last, seen[l] = l, true
			}
			if len(seen) != len(n) {
				t.Errorf("%s: walker saw %d layers of %d", run, len(seen), len(n))
			}
		}
	}
}
