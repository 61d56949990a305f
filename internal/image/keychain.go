package image

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// FileKeychain reads registry credentials from one file in the format of
// a kubernetes.io/dockerconfigjson Secret's .dockerconfigjson (the Docker
// config.json format: {"auths": {"HOST": {"auth": "…"}}}), as the
// cluster's image pull secrets hold them. The file is read at each look-up,
// so a rotated Secret mounted as a file takes effect without a restart.
type FileKeychain struct {
	Path string
}

// NewFileKeychain checks that path holds a readable config and returns
// its keychain.
func NewFileKeychain(path string) (*FileKeychain, error) {
	k := &FileKeychain{Path: path}
	if _, err := k.load(); err != nil {
		return nil, err
	}
	return k, nil
}

func (k *FileKeychain) load() (*configLike, error) {
	data, err := os.ReadFile(k.Path)
	if err != nil {
		return nil, fmt.Errorf("reading registry credentials: %w", err)
	}
	cf, err := config.LoadFromReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("registry credentials %s: not a dockerconfigjson file (want {\"auths\": {\"HOST\": {\"auth\": \"…\"}}})", k.Path)
	}
	return &configLike{get: cf.GetAuthConfig}, nil
}

type configLike struct {
	get func(string) (types.AuthConfig, error)
}

// Resolve implements authn.Keychain.
func (k *FileKeychain) Resolve(target authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), target)
}

// ResolveContext implements authn.ContextKeychain: the entry for the
// repository, else for its registry (Docker Hub under its historical
// key), else anonymous.
func (k *FileKeychain) ResolveContext(_ context.Context, target authn.Resource) (authn.Authenticator, error) {
	cf, err := k.load()
	if err != nil {
		return nil, err
	}
	var empty types.AuthConfig
	for _, key := range []string{target.String(), target.RegistryStr()} {
		if key == name.DefaultRegistry {
			key = authn.DefaultAuthKey
		}
		cfg, err := cf.get(key)
		if err != nil {
			return nil, fmt.Errorf("registry credentials %s: %v", k.Path, err)
		}
		cfg.ServerAddress = ""
		if cfg != empty {
			return authn.FromConfig(authn.AuthConfig{
				Username: cfg.Username, Password: cfg.Password, Auth: cfg.Auth,
				IdentityToken: cfg.IdentityToken, RegistryToken: cfg.RegistryToken,
			}), nil
		}
	}
	return authn.Anonymous, nil
}
