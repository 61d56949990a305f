package certs

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/renameio/v2"
	"sigs.k8s.io/yaml"
)

// The files WriteAPIServerConfig writes, in Dir.
const (
	AdmissionConfigFile   = "admission_configuration.yaml"
	ImagePolicyKubeconfig = "connect_webhook.yaml"
	WebhookKubeconfig     = "webhook_kubeconfig.yaml"
	WebhooksFile          = "webhooks.yaml"
)

// Names of the objects and webhooks in webhooks.yaml.
const (
	ValidatingConfigName = "tollgate-validate"
	MutatingConfigName   = "tollgate-mutate"
	ValidatingWebhook    = "validate.tollgate.dev"
	MutatingWebhook      = "mutate.tollgate.dev"
)

// APIServerOptions configure WriteAPIServerConfig.
type APIServerOptions struct {
	// Dir receives the files.
	Dir string
	// CertDir holds the files Generate wrote (default Dir).
	CertDir string
	// URL is tollgate's base URL as the apiserver reaches it,
	// https://HOST:PORT; /image_policy, /validate and /mutate are appended.
	URL string
	// Service, "NAMESPACE/NAME[:PORT]", makes the webhook configurations
	// use clientConfig.service instead of URL (in a cluster). The
	// ImagePolicyWebhook kubeconfig always uses URL: the apiserver does
	// not resolve Services for it.
	Service string
	// AllowTTL and DenyTTL are the ImagePolicyWebhook cache lifetimes in
	// seconds (1–1800, or -1 to disable), RetryBackoff the first retry
	// delay in milliseconds (1–300000, or -1 for none). 0 = the seed's
	// 50 s / 50 s / 500 ms.
	AllowTTL, DenyTTL, RetryBackoff int
	// DefaultAllow admits pods when tollgate cannot be reached
	// (ImagePolicyWebhook defaultAllow). False fails closed.
	DefaultAllow bool
	// Namespace is tollgate's own namespace; the webhooks skip it and
	// kube-system, so a broken tollgate cannot block its own repair.
	Namespace string
	// TimeoutSeconds is the webhooks' timeoutSeconds (default 5).
	TimeoutSeconds int
	// Now is the clock for certificate validity (time.Now when nil).
	Now func() time.Time
}

// WriteAPIServerConfig writes the AdmissionConfiguration, the
// ImagePolicyWebhook kubeconfig, the kubeconfig the apiserver uses for
// admission webhooks and the webhook configurations; every path inside
// them is absolute. It returns the files written. It first checks the
// certificates in CertDir (see checkBundle) and writes nothing when the
// apiserver could not use them.
func WriteAPIServerConfig(o APIServerOptions) ([]string, error) {
	if o.Dir == "" {
		return nil, errors.New("no directory given")
	}
	base, err := parseBaseURL(o.URL)
	if err != nil {
		return nil, err
	}
	if o.AllowTTL == 0 {
		o.AllowTTL = 50
	}
	if o.DenyTTL == 0 {
		o.DenyTTL = 50
	}
	if o.RetryBackoff == 0 {
		o.RetryBackoff = 500
	}
	// The apiserver refuses to start outside these ranges (imagepolicy
	// config.go); -1 is its "disabled" sentinel.
	for _, c := range []struct {
		name   string
		v, max int
	}{{"allow TTL", o.AllowTTL, 1800}, {"deny TTL", o.DenyTTL, 1800}, {"retry backoff", o.RetryBackoff, 300000}} {
		if c.v != -1 && (c.v < 1 || c.v > c.max) {
			return nil, fmt.Errorf("%s %d is outside 1–%d (or -1)", c.name, c.v, c.max)
		}
	}
	if o.TimeoutSeconds == 0 {
		o.TimeoutSeconds = 5
	}
	if o.TimeoutSeconds < 1 || o.TimeoutSeconds > 30 {
		return nil, fmt.Errorf("webhook timeout %d s is outside 1–30", o.TimeoutSeconds)
	}
	if o.Namespace == "" {
		o.Namespace = "tollgate"
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", o.Dir, err)
	}
	certDir := dir
	if o.CertDir != "" {
		if certDir, err = filepath.Abs(o.CertDir); err != nil {
			return nil, fmt.Errorf("resolving %s: %w", o.CertDir, err)
		}
	}
	// Which users entry the apiserver picks for a webhook: its host:port
	// (a Service as name.namespace.svc:port).
	webhookUser := base.Host
	hosts := []string{base.Hostname()}
	var svc *serviceRef
	if o.Service != "" {
		if svc, err = parseService(o.Service); err != nil {
			return nil, err
		}
		svcHost := svc.Name + "." + svc.Namespace + ".svc"
		webhookUser = net.JoinHostPort(svcHost, strconv.Itoa(int(svc.Port)))
		hosts = append(hosts, svcHost)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	// Nothing is written unless every certificate the files name or
	// embed is one the apiserver can use.
	b, err := checkBundle(certDir, hosts, now())
	if err != nil {
		return nil, err
	}
	caPEM := b.caPEM
	caPath := filepath.Join(certDir, CAFile)
	clientCert := filepath.Join(certDir, ClientFile)
	clientKey := filepath.Join(certDir, ClientKeyFile)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	user := authInfo{ClientCertificate: clientCert, ClientKey: clientKey}

	files := []struct {
		name string
		doc  any
	}{
		{AdmissionConfigFile, admissionConfiguration{
			APIVersion: "apiserver.config.k8s.io/v1",
			Kind:       "AdmissionConfiguration",
			Plugins: []admissionPlugin{
				{Name: "ImagePolicyWebhook", Configuration: map[string]any{"imagePolicy": imagePolicyConfig{
					KubeConfigFile: filepath.Join(dir, ImagePolicyKubeconfig),
					AllowTTL:       o.AllowTTL,
					DenyTTL:        o.DenyTTL,
					RetryBackoff:   o.RetryBackoff,
					DefaultAllow:   o.DefaultAllow,
				}}},
				{Name: "ValidatingAdmissionWebhook", Configuration: webhookAdmission(filepath.Join(dir, WebhookKubeconfig))},
				{Name: "MutatingAdmissionWebhook", Configuration: webhookAdmission(filepath.Join(dir, WebhookKubeconfig))},
			},
		}},
		{ImagePolicyKubeconfig, kubeconfig{
			APIVersion: "v1",
			Kind:       "Config",
			Clusters: []namedCluster{{Name: "tollgate", Cluster: cluster{
				CertificateAuthority: caPath,
				Server:               base.String() + "/image_policy",
			}}},
			Users:          []namedUser{{Name: "kube-apiserver", User: user}},
			Contexts:       []namedContext{{Name: "tollgate", Context: kubeContext{Cluster: "tollgate", User: "kube-apiserver"}}},
			CurrentContext: "tollgate",
		}},
		{WebhookKubeconfig, kubeconfig{
			APIVersion: "v1",
			Kind:       "Config",
			Users:      []namedUser{{Name: webhookUser, User: user}},
		}},
	}
	var written []string
	for _, f := range files {
		b, err := yaml.Marshal(f.doc)
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", f.name, err)
		}
		p := filepath.Join(dir, f.name)
		if err := renameio.WriteFile(p, b, 0o644); err != nil {
			return nil, fmt.Errorf("writing %s: %w", p, err)
		}
		written = append(written, p)
	}
	hooks, err := webhookConfigurations(base, svc, caPEM, o)
	if err != nil {
		return nil, err
	}
	p := filepath.Join(dir, WebhooksFile)
	if err := renameio.WriteFile(p, hooks, 0o644); err != nil {
		return nil, fmt.Errorf("writing %s: %w", p, err)
	}
	return append(written, p), nil
}

func parseBaseURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("no URL given (https://HOST:PORT)")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("parsing URL %q: %w", s, err)
	}
	// The apiserver refuses webhook URLs that are not https or that carry
	// user info, a query or a fragment.
	if u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("URL %q must be https://HOST[:PORT][/PATH] without user, query or fragment", s)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), "443")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

type serviceRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Path      string `json:"path,omitempty"`
	Port      int32  `json:"port"`
}

func parseService(s string) (*serviceRef, error) {
	ns, rest, ok := strings.Cut(s, "/")
	if !ok || ns == "" || rest == "" {
		return nil, fmt.Errorf("service %q must be NAMESPACE/NAME[:PORT]", s)
	}
	name, port := rest, 443
	if n, p, ok := strings.Cut(rest, ":"); ok {
		v, err := strconv.Atoi(p)
		if err != nil || v < 1 || v > 65535 {
			return nil, fmt.Errorf("service %q: port %q is not 1–65535", s, p)
		}
		name, port = n, v
	}
	return &serviceRef{Namespace: ns, Name: name, Port: int32(port)}, nil
}

type admissionConfiguration struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Plugins    []admissionPlugin `json:"plugins"`
}

type admissionPlugin struct {
	Name          string `json:"name"`
	Configuration any    `json:"configuration"`
}

// imagePolicyConfig is the ImagePolicyWebhook plugin's configuration. The
// TTLs and backoff are integers (seconds, milliseconds): the plugin decodes
// them as numbers and multiplies by the unit, so "50s" would stop the
// apiserver from starting.
type imagePolicyConfig struct {
	KubeConfigFile string `json:"kubeConfigFile"`
	AllowTTL       int    `json:"allowTTL"`
	DenyTTL        int    `json:"denyTTL"`
	RetryBackoff   int    `json:"retryBackoff"`
	DefaultAllow   bool   `json:"defaultAllow"`
}

func webhookAdmission(kubeconfig string) map[string]any {
	return map[string]any{
		"apiVersion":     "apiserver.config.k8s.io/v1",
		"kind":           "WebhookAdmissionConfiguration",
		"kubeConfigFile": kubeconfig,
	}
}

type kubeconfig struct {
	APIVersion     string         `json:"apiVersion"`
	Kind           string         `json:"kind"`
	Clusters       []namedCluster `json:"clusters,omitempty"`
	Users          []namedUser    `json:"users"`
	Contexts       []namedContext `json:"contexts,omitempty"`
	CurrentContext string         `json:"current-context,omitempty"`
}

type namedCluster struct {
	Name    string  `json:"name"`
	Cluster cluster `json:"cluster"`
}

type cluster struct {
	CertificateAuthority string `json:"certificate-authority"`
	Server               string `json:"server"`
}

type namedUser struct {
	Name string   `json:"name"`
	User authInfo `json:"user"`
}

type authInfo struct {
	ClientCertificate string `json:"client-certificate"`
	ClientKey         string `json:"client-key"`
}

type namedContext struct {
	Name    string      `json:"name"`
	Context kubeContext `json:"context"`
}

type kubeContext struct {
	Cluster string `json:"cluster"`
	User    string `json:"user"`
}

// webhookConfigurations renders webhooks.yaml: the validating
// configuration (failurePolicy Fail: a workload that breaks the policy is
// never admitted because tollgate was down) and the mutating one
// (failurePolicy Ignore: mutations are conveniences, and /validate and the
// ImagePolicyWebhook check the final object).
func webhookConfigurations(base *url.URL, svc *serviceRef, caPEM []byte, o APIServerOptions) ([]byte, error) {
	clientConfig := func(path string) map[string]any {
		cc := map[string]any{"caBundle": base64.StdEncoding.EncodeToString(caPEM)}
		if svc != nil {
			s := *svc
			s.Path = path
			cc["service"] = s
		} else {
			cc["url"] = base.String() + path
		}
		return cc
	}
	nsSelector := map[string]any{"matchExpressions": []any{map[string]any{
		"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": []string{"kube-system", o.Namespace},
	}}}
	rule := func(group string, ops []string, resources ...string) map[string]any {
		return map[string]any{
			"apiGroups": []string{group}, "apiVersions": []string{"v1"}, "operations": ops,
			"resources": resources, "scope": "Namespaced",
		}
	}
	createUpdate := []string{"CREATE", "UPDATE"}
	validating := map[string]any{
		"apiVersion": "admissionregistration.k8s.io/v1",
		"kind":       "ValidatingWebhookConfiguration",
		"metadata":   map[string]any{"name": ValidatingConfigName},
		"webhooks": []any{map[string]any{
			"name":                    ValidatingWebhook,
			"admissionReviewVersions": []string{"v1"},
			"sideEffects":             "None",
			"failurePolicy":           "Fail",
			"matchPolicy":             "Equivalent",
			"timeoutSeconds":          o.TimeoutSeconds,
			"clientConfig":            clientConfig("/validate"),
			"namespaceSelector":       nsSelector,
			"rules": []any{
				rule("", createUpdate, "pods", "pods/ephemeralcontainers", "replicationcontrollers"),
				rule("apps", createUpdate, "deployments", "statefulsets", "daemonsets", "replicasets"),
				rule("batch", createUpdate, "jobs", "cronjobs"),
			},
		}},
	}
	mutating := map[string]any{
		"apiVersion": "admissionregistration.k8s.io/v1",
		"kind":       "MutatingWebhookConfiguration",
		"metadata":   map[string]any{"name": MutatingConfigName},
		"webhooks": []any{map[string]any{
			"name":                    MutatingWebhook,
			"admissionReviewVersions": []string{"v1"},
			"sideEffects":             "None",
			"failurePolicy":           "Ignore",
			"reinvocationPolicy":      "IfNeeded",
			"matchPolicy":             "Equivalent",
			"timeoutSeconds":          o.TimeoutSeconds,
			"clientConfig":            clientConfig("/mutate"),
			"namespaceSelector":       nsSelector,
			"rules":                   []any{rule("", []string{"CREATE"}, "pods")},
		}},
	}
	var out []byte
	for i, doc := range []any{validating, mutating} {
		b, err := yaml.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", WebhooksFile, err)
		}
		if i > 0 {
			out = append(out, "---\n"...)
		}
		out = append(out, b...)
	}
	return out, nil
}
