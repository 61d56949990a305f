package inventory

import (
	"context"
	"fmt"

	"github.com/tollgate-dev/tollgate/internal/image"
)

// Collect inventories a target: it opens the image, directory or
// repository the target names and scans it.
func Collect(ctx context.Context, t Target, o Options) (*Inventory, error) {
	if o.Image.TempDir == "" {
		o.Image.TempDir = o.TempDir
	}
	var inv *Inventory
	var err error
	switch t.Kind {
	case KindDir, KindRootfs:
		inv, err = ScanDir(ctx, t.Value, t.Kind, o)
	case KindGit:
		inv, err = ScanGit(ctx, t.Value, o)
	case KindRegistry, KindDockerArchive, KindOCIDir, KindOCIArchive:
		var img *image.Image
		img, err = openImage(ctx, t, o.Image)
		if err != nil {
			return nil, err
		}
		defer img.Close()
		inv, err = ScanImage(ctx, img, o)
	default:
		return nil, fmt.Errorf("unknown target kind %q", t.Kind)
	}
	if err != nil {
		return nil, err
	}
	inv.Source.Kind = t.Kind
	inv.Source.Name = t.Value
	return inv, nil
}

func openImage(ctx context.Context, t Target, o image.Options) (*image.Image, error) {
	switch t.Kind {
	case KindRegistry:
		return image.OpenRemote(ctx, t.Value, o)
	case KindDockerArchive:
		return image.OpenArchive(t.Value, o)
	case KindOCIArchive:
		return image.OpenOCIArchive(t.Value, o)
	case KindOCIDir:
		return image.OpenLayout(t.Value, o)
	}
	return nil, fmt.Errorf("%s is not an image target", t)
}
