package inventory

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/tollgate-dev/tollgate/internal/image"
	"github.com/tollgate-dev/tollgate/internal/registrytest"
)

// These tests set DOCKER_CONFIG and PATH, so they do not run in parallel.

func TestRegistryCredentialsFromDockerConfig(t *testing.T) {
	reg := registrytest.StartRegistry(t, registrytest.WithBasicAuth("shop", "s3cret"))
	ref := reg.Host + "/private/app:1.0"
	registrytest.Push(t, ref, registrytest.AlpineImage(t), remote.WithAuth(&authn.Basic{Username: "shop", Password: "s3cret"}))

	cfgDir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", cfgDir)
	target := Target{KindRegistry, ref}

	// No credentials: the registry says no.
	writeFile(t, filepath.Join(cfgDir, "config.json"), `{}`)
	if _, err := Collect(context.Background(), target, Options{Image: image.Options{Keychain: authn.DefaultKeychain}}); err == nil || !strings.Contains(err.Error(), "UNAUTHORIZED") {
		t.Fatalf("anonymous pull: err = %v, want UNAUTHORIZED", err)
	}

	// auths entry in config.json, as docker login writes it.
	auth := base64.StdEncoding.EncodeToString([]byte("shop:s3cret"))
	writeFile(t, filepath.Join(cfgDir, "config.json"), `{"auths": {"`+reg.Host+`": {"auth": "`+auth+`"}}}`)
	inv, err := Collect(context.Background(), target, Options{Image: image.Options{Keychain: authn.DefaultKeychain}})
	if err != nil {
		t.Fatalf("pull with config.json credentials: %v", err)
	}
	if len(inv.Packages) != 4 {
		t.Errorf("%d packages, want 4", len(inv.Packages))
	}

	// A credential helper (docker-credential-<name> on PATH).
	bin := t.TempDir()
	writeFile(t, filepath.Join(bin, "docker-credential-tgtest"), "#!/bin/sh\nread server\necho '{\"ServerURL\":\"'$server'\",\"Username\":\"shop\",\"Secret\":\"s3cret\"}'\n")
	os.Chmod(filepath.Join(bin, "docker-credential-tgtest"), 0o755)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	writeFile(t, filepath.Join(cfgDir, "config.json"), `{"credHelpers": {"`+reg.Host+`": "tgtest"}}`)
	if _, err := Collect(context.Background(), target, Options{Image: image.Options{Keychain: authn.DefaultKeychain}}); err != nil {
		t.Fatalf("pull with a credential helper: %v", err)
	}
}

func TestRegistryTLSNeedsInsecure(t *testing.T) {
	t.Parallel()
	reg := registrytest.StartRegistry(t, registrytest.WithTLS())
	ref := reg.Host + "/app:1.0"
	registrytest.Push(t, ref, registrytest.AlpineImage(t), remote.WithTransport(reg.Transport))
	target := Target{KindRegistry, ref}
	if _, err := Collect(context.Background(), target, Options{}); err == nil {
		t.Fatal("a registry with an untrusted certificate was accepted without --insecure")
	}
	inv, err := Collect(context.Background(), target, Options{Image: image.Options{InsecureSkipTLSVerify: true}})
	if err != nil {
		t.Fatalf("with --insecure: %v", err)
	}
	if len(inv.Packages) != 4 || len(inv.Source.RepoDigests) != 1 {
		t.Errorf("packages %d, repo digests %v", len(inv.Packages), inv.Source.RepoDigests)
	}
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
