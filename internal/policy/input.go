package policy

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"

	"github.com/tollgate-dev/tollgate/internal/kube"
)

// DefaultName stands for the built-in policy wherever a policy file is named.
const DefaultName = "default"

// Resolve returns the built-in policy for DefaultName and loads any other
// name as a policy file.
func Resolve(name string) (*Policy, error) {
	if name == DefaultName {
		return Default(), nil
	}
	return Load(name)
}

// FromConfig returns the policy that dir/.tollgate.yaml (or .yml) names
// under the key "policy", relative to that file's directory (DefaultName
// and absolute paths as written); "" when there is no such file or key.
func FromConfig(dir string) (string, error) {
	for _, name := range []string{".tollgate.yaml", ".tollgate.yml"} {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", p, err)
		}
		var c struct {
			Policy string `json:"policy"`
		}
		if err := yaml.Unmarshal(b, &c); err != nil {
			return "", fmt.Errorf("config file %s: %w", p, err)
		}
		if c.Policy == "" || c.Policy == DefaultName || filepath.IsAbs(c.Policy) {
			return c.Policy, nil
		}
		return filepath.Join(dir, c.Policy), nil
	}
	return "", nil
}

// Input is one manifest file and its content.
type Input struct {
	// Name is the path, or kube.StdinName for standard input.
	Name string
	Data []byte
}

// ReadInputs reads manifests as `tollgate kube scan` takes them: files,
// directories (every manifest below them, see kube.ManifestFiles) and "-"
// for stdin, in argument order. It returns what it could read, and an
// error naming each path it could not.
func ReadInputs(paths []string, stdin io.Reader) ([]Input, error) {
	var inputs []Input
	var errs []error
	for _, p := range paths {
		if p == "-" {
			b, err := io.ReadAll(stdin)
			if err != nil {
				errs = append(errs, fmt.Errorf("reading standard input: %w", err))
				continue
			}
			inputs = append(inputs, Input{kube.StdinName, b})
			continue
		}
		files, err := kube.ManifestFiles(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading manifest %s: %w", p, err))
			continue
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if pe, ok := errors.AsType[*fs.PathError](err); ok {
				err = pe.Err // the message names the file already
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("reading manifest %s: %w", f, err))
				continue
			}
			inputs = append(inputs, Input{f, b})
		}
	}
	return inputs, errors.Join(errs...)
}

// TestInputs is Test over several inputs, in order.
func (p *Policy) TestInputs(inputs []Input, o TestOptions) []TestResult {
	var out []TestResult
	for _, in := range inputs {
		out = append(out, p.Test(in.Name, in.Data, o)...)
	}
	return out
}
