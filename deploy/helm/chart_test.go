// Package helm_test tests the mcp-gateway Helm chart (deploy/helm/mcp-gateway),
// a supported deployment artifact like cloudformation/: helm lint, helm
// template with several values sets, the objects each renders, and the
// gateway's own loader (internal/config.Load) reading the ConfigMap's file
// with the pod's environment. helm runs as a pinned Go module (helmModule);
// without it the tests skip, and fail under CI=true. Not checked: a real
// cluster (no kind or API server here); Kubernetes' own schema validation.
package helm_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/mcp-gateway/mcp-gateway/internal/config"
	"github.com/mcp-gateway/mcp-gateway/internal/testkit"
)

const (
	chartDir  = "mcp-gateway"
	release   = "mcp-gateway"
	namespace = "mcp"
	// existingSecretValue stands in for the content of a Secret the chart
	// does not create (sessionSecret.existingSecret).
	existingSecretValue = "an-existing-session-secret-of-32-bytes-or-more"
)

// valueSet is one `helm template` run and what its objects must show.
type valueSet struct {
	name   string
	file   string // under testdata; "" for the chart's defaults
	kinds  []string
	absent []string
	// env completes the pod's environment for config.Load (values the
	// defaults leave to the operator).
	env            []string
	replicas       int // 0: unset (the HPA owns it)
	metricsPort    bool
	scheme         string // probes: HTTP or HTTPS
	secretName     string
	secretKey      string
	monitorPort    string // ServiceMonitor endpoint port, "" without one
	golden         string
	wantConfigKeys map[string]any // top-level keys of the rendered file
	// wantEnv are literal container variables; "" means absent.
	wantEnv map[string]string
	// loaded checks the configuration the gateway loads.
	loaded func(t *testing.T, c *config.Config)
}

var valueSets = []valueSet{{
	name:           "defaults",
	kinds:          []string{"ConfigMap", "Deployment", "PodDisruptionBudget", "Secret", "Service", "ServiceAccount"},
	absent:         []string{"Ingress", "HorizontalPodAutoscaler", "ServiceMonitor"},
	env:            []string{"MCPGW_PUBLIC_URL=https://mcp.example.com", "MCPGW_ISSUER=https://idp.example.com"},
	replicas:       2,
	scheme:         "HTTP",
	secretName:     "mcp-gateway-session",
	secretKey:      "session-secret",
	golden:         "testdata/default.golden.yaml",
	wantConfigKeys: map[string]any{"listen": "0.0.0.0:8080", "log_format": "json"},
	wantEnv:        map[string]string{"OTEL_TRACES_EXPORTER": "", "OTEL_EXPORTER_OTLP_ENDPOINT": ""},
}, {
	name:        "full",
	file:        "values-full.yaml",
	kinds:       []string{"ConfigMap", "Deployment", "HorizontalPodAutoscaler", "Ingress", "PodDisruptionBudget", "Secret", "Service", "ServiceAccount", "ServiceMonitor"},
	metricsPort: true,
	scheme:      "HTTP",
	secretName:  "mcp-gateway-session",
	secretKey:   "session-secret",
	monitorPort: "metrics",
	wantConfigKeys: map[string]any{
		"listen": "0.0.0.0:8080", "metrics_listen": "0.0.0.0:9090", "audit_log": "stderr",
		"body_read_timeout": "20s", "rate_limit_per_ip": 25, "rate_limit_per_principal": 10.5,
		"rate_limit_per_ip_burst": 50, "rate_limit_per_principal_burst": 20, "max_body_bytes": 8388608,
	},
	wantEnv: map[string]string{
		"OTEL_TRACES_EXPORTER":        "otlp",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector.observability:4318",
		"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
		"OTEL_SERVICE_NAME":           "mcp-gateway",
		"OTEL_TRACES_SAMPLER":         "parentbased_traceidratio",
		"OTEL_TRACES_SAMPLER_ARG":     "0.25",
		"OTEL_RESOURCE_ATTRIBUTES":    "k8s.namespace.name=$(POD_NAMESPACE),k8s.pod.name=$(POD_NAME),deployment.environment=prod",
		"MCPGW_LOG_LEVEL":             "debug",
	},
	loaded: func(t *testing.T, c *config.Config) {
		if c.LogLevel != "debug" || c.Provider != "okta" || len(c.Routes) != 2 || c.Routes[1].MaxProcessesPerPrincipal != 2 ||
			!slices.Equal(c.TrustedProxies, []string{"10.0.0.0/8"}) || c.RateLimitPerPrincipal != 10.5 {
			t.Errorf("loaded %+v", c)
		}
	},
}, {
	name:        "existing-secret",
	file:        "values-existing-secret.yaml",
	kinds:       []string{"ConfigMap", "Deployment", "Service", "ServiceAccount", "ServiceMonitor"},
	absent:      []string{"Secret", "PodDisruptionBudget", "Ingress", "HorizontalPodAutoscaler"},
	replicas:    1,
	scheme:      "HTTPS",
	secretName:  "gateway-sessions",
	secretKey:   "hmac",
	monitorPort: "http",
	wantConfigKeys: map[string]any{
		"listen": "0.0.0.0:8080", "tls_cert_file": "/etc/mcp-gateway/tls/tls.crt", "tls_key_file": "/etc/mcp-gateway/tls/tls.key",
	},
	loaded: func(t *testing.T, c *config.Config) {
		if c.ClientIDsTable != "mcp-dcr-registrations" || c.TLSCertFile == "" {
			t.Errorf("loaded %+v", c)
		}
	},
}}

// TestChart lints the chart, renders each values set once and checks its
// objects, and keeps the default render as a golden file.
func TestChart(t *testing.T) {
	h := newHelm(t)
	chart, err := filepath.Abs(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := h.run(t, "lint", "--strict", chart); err != nil {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}
	checksums := map[string]string{}
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			args := []string{"template", release, chart, "--namespace", namespace}
			if vs.file != "" {
				args = append(args, "--values", filepath.Join(filepath.Dir(chart), "testdata", vs.file))
			}
			out, err := h.run(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			objs := parseManifests(t, out)
			checkKinds(t, objs, vs)
			d := checkDeployment(t, objs, vs)
			checkService(t, objs, vs)
			checkConfigLoads(t, objs, d, vs)
			checkToggles(t, objs, vs)
			checksums[vs.name] = checkChecksum(t, out, d)
			if vs.golden != "" {
				testkit.Golden(t, vs.golden, normalizeSecret(out))
			}
		})
	}
	// A change of the configuration changes the pod template: pods roll.
	if checksums["defaults"] != "" && checksums["defaults"] == checksums["full"] {
		t.Errorf("checksum/config is the same for different configurations: %s", checksums["defaults"])
	}
}

// checkChecksum: checksum/config is the SHA-256 of the ConfigMap as
// rendered, so that any change to the file rolls the pods.
func checkChecksum(t *testing.T, out []byte, d deployment) string {
	t.Helper()
	const head = "# Source: mcp-gateway/templates/configmap.yaml\n"
	_, doc, ok := strings.Cut(string(out), head)
	if !ok {
		t.Fatalf("no %q in the render", head)
	}
	doc, _, _ = strings.Cut(doc, "\n---\n") // helm drops the template's last newline
	sum := sha256.Sum256([]byte(strings.TrimSuffix(doc, "\n") + "\n"))
	got := d.Spec.Template.Metadata.Annotations["checksum/config"]
	if want := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("checksum/config %q, want the ConfigMap's SHA-256 %q", got, want)
	}
	return got
}

// generatedSecret is the chart's Secret line holding a generated value.
var generatedSecret = regexp.MustCompile(`(?m)^(  session-secret: ).+$`)

// normalizeSecret replaces the generated session secret (random at every
// render) so that the default render can be a golden file.
func normalizeSecret(out []byte) []byte {
	return generatedSecret.ReplaceAll(out, []byte("${1}<generated>"))
}

func checkKinds(t *testing.T, objs rendered, vs valueSet) {
	t.Helper()
	var got []string
	for k, o := range objs {
		got = append(got, k)
		if o.Metadata.Namespace != namespace {
			t.Errorf("%s: namespace %q, want %q", k, o.Metadata.Namespace, namespace)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, vs.kinds) {
		t.Errorf("kinds %v, want %v", got, vs.kinds)
	}
	for _, k := range vs.absent {
		if _, ok := objs[k]; ok {
			t.Errorf("%s rendered, want none", k)
		}
	}
}

// sessionSecretRef is where MCPGW_SESSION_SECRET comes from.
func sessionSecretRef(c container) (name, key string) {
	for _, e := range c.Env {
		if e.Name == "MCPGW_SESSION_SECRET" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			return e.ValueFrom.SecretKeyRef.Name, e.ValueFrom.SecretKeyRef.Key
		}
	}
	return "", ""
}

// checkConfigLoads runs the gateway's loader on the ConfigMap's file with
// the pod's environment (literal values, the session secret from its
// Secret) plus vs.env: the chart renders a configuration the gateway
// accepts, listening where the Service and probes point.
func checkConfigLoads(t *testing.T, objs rendered, d deployment, vs valueSet) {
	t.Helper()
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	objs["ConfigMap"].decode(t, &cm)
	c := d.container(t)
	if !slices.Equal(c.Args, []string{"serve", "--config", "/etc/mcp-gateway/gateway.yaml"}) {
		t.Fatalf("args %q", c.Args)
	}
	text, ok := cm.Data["gateway.yaml"]
	if !ok {
		t.Fatalf("ConfigMap has no gateway.yaml: %v", cm.Data)
	}
	if !c.mounts("config", "/etc/mcp-gateway") || d.volume("config") != "configMap "+objs["ConfigMap"].Metadata.Name {
		t.Errorf("the ConfigMap is not mounted at /etc/mcp-gateway: %+v", c.VolumeMounts)
	}
	file := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	secret := existingSecretValue
	if s, ok := objs["Secret"]; ok {
		var sec struct {
			Data map[string]string `yaml:"data"`
		}
		s.decode(t, &sec)
		b, err := base64.StdEncoding.DecodeString(sec.Data[vs.secretKey])
		if err != nil || len(b) < 32 {
			t.Fatalf("Secret %s[%s] = %q: not 32+ bytes of base64 (%v)", s.Metadata.Name, vs.secretKey, sec.Data[vs.secretKey], err)
		}
		secret = string(b)
	}
	environ := slices.Clone(vs.env)
	for _, e := range c.Env {
		switch {
		case e.Name == "MCPGW_SESSION_SECRET":
			environ = append(environ, e.Name+"="+secret)
		case e.ValueFrom == nil:
			environ = append(environ, e.Name+"="+e.Value)
		}
	}
	cfg, err := config.Load(config.LoadOptions{File: file, DotEnv: os.DevNull, Environ: environ})
	if err != nil {
		t.Fatalf("the gateway refuses the rendered configuration: %v\n%s", err, text)
	}
	if cfg.Listen != "0.0.0.0:8080" || cfg.SessionSecret != secret {
		t.Errorf("loaded listen %q, session secret %q; want 0.0.0.0:8080 and the Secret's", cfg.Listen, cfg.SessionSecret)
	}
	if want := map[bool]string{true: "0.0.0.0:9090"}[vs.metricsPort]; cfg.MetricsListen != want {
		t.Errorf("metrics_listen %q, want %q", cfg.MetricsListen, want)
	}
	var raw map[string]any
	if err := yaml.Unmarshal([]byte(text), &raw); err != nil {
		t.Fatal(err)
	}
	for k, want := range vs.wantConfigKeys {
		if got := raw[k]; !equalNumberish(got, want) {
			t.Errorf("config %s = %v (%T), want %v", k, got, got, want)
		}
	}
	if _, ok := raw["session_secret"]; ok {
		t.Error("session_secret is in the ConfigMap")
	}
	if vs.loaded != nil {
		vs.loaded(t, cfg)
	}
	for name, want := range vs.wantEnv {
		got := ""
		for _, e := range c.Env {
			if e.Name == name {
				got = e.Value
			}
		}
		if got != want {
			t.Errorf("container env %s=%q, want %q", name, got, want)
		}
	}
}

// checkToggles checks the optional objects a values set turns on.
func checkToggles(t *testing.T, objs rendered, vs valueSet) {
	t.Helper()
	if o, ok := objs["PodDisruptionBudget"]; ok {
		var pdb struct {
			APIVersion string `yaml:"apiVersion"`
			Spec       struct {
				MinAvailable int `yaml:"minAvailable"`
			} `yaml:"spec"`
		}
		o.decode(t, &pdb)
		if pdb.APIVersion != "policy/v1" || pdb.Spec.MinAvailable != 1 {
			t.Errorf("PodDisruptionBudget %s minAvailable %d, want policy/v1 and 1", pdb.APIVersion, pdb.Spec.MinAvailable)
		}
	}
	if o, ok := objs["HorizontalPodAutoscaler"]; ok {
		checkHPA(t, o)
	}
	if o, ok := objs["Ingress"]; ok {
		checkIngress(t, o, objs["Service"].Metadata.Name)
	}
	if o, ok := objs["ServiceMonitor"]; ok {
		var sm serviceMonitor
		o.decode(t, &sm)
		if o.APIVersion != "monitoring.coreos.com/v1" || len(sm.Spec.Endpoints) != 1 {
			t.Fatalf("ServiceMonitor %s with %d endpoints", o.APIVersion, len(sm.Spec.Endpoints))
		}
		ep := sm.Spec.Endpoints[0]
		if ep.Port != vs.monitorPort || ep.Path != "/metrics" {
			t.Errorf("ServiceMonitor scrapes port %q path %q, want %q /metrics", ep.Port, ep.Path, vs.monitorPort)
		}
		if want := map[string]string{"HTTPS": "https"}[vs.scheme]; ep.Scheme != want && vs.monitorPort == "http" {
			t.Errorf("ServiceMonitor scheme %q, want %q", ep.Scheme, want)
		}
	}
}

// TestChartRefuses: values that would misconfigure the pods fail the
// render with a message naming the fix.
func TestChartRefuses(t *testing.T) {
	h := newHelm(t)
	chart, err := filepath.Abs(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, set, want string
	}{
		{"listen", "config.listen=127.0.0.1:8080", "config.listen is set by the chart"},
		{"metrics_listen", "config.metrics_listen=0.0.0.0:9100", "config.metrics_listen is set by the chart"},
		{"session secret in the ConfigMap", "config.session_secret=0123456789abcdef0123456789abcdef", "sessionSecret.value or sessionSecret.existingSecret"},
		{"short session secret", "sessionSecret.value=short", "at least 32 bytes"},
		{"OTLP over gRPC", "tracing.enabled=true,tracing.protocol=grpc", "OTLP over HTTP only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := h.run(t, "template", release, chart, "--namespace", namespace, "--set", tc.set)
			if err == nil {
				t.Fatalf("rendered with %s:\n%s", tc.set, out)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to say %q", err, tc.want)
			}
		})
	}
}
