package helm_test

import (
	"fmt"
	"slices"
	"testing"
)

// The shapes of the rendered objects, as far as the tests read them.

type deployment struct {
	Spec struct {
		Replicas *int `yaml:"replicas"`
		Template struct {
			Metadata struct {
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"metadata"`
			Spec struct {
				ServiceAccountName           string `yaml:"serviceAccountName"`
				AutomountServiceAccountToken *bool  `yaml:"automountServiceAccountToken"`
				SecurityContext              struct {
					RunAsNonRoot *bool `yaml:"runAsNonRoot"`
					RunAsUser    *int  `yaml:"runAsUser"`
				} `yaml:"securityContext"`
				Containers []container `yaml:"containers"`
				Volumes    []volume    `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type volume struct {
	Name      string `yaml:"name"`
	ConfigMap *struct {
		Name string `yaml:"name"`
	} `yaml:"configMap"`
	Secret *struct {
		SecretName string `yaml:"secretName"`
	} `yaml:"secret"`
	EmptyDir any `yaml:"emptyDir"`
}

type container struct {
	Image string   `yaml:"image"`
	Args  []string `yaml:"args"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	LivenessProbe   probe `yaml:"livenessProbe"`
	ReadinessProbe  probe `yaml:"readinessProbe"`
	SecurityContext struct {
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
	Resources struct {
		Requests map[string]string `yaml:"requests"`
	} `yaml:"resources"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type probe struct {
	HTTPGet *struct {
		Path   string `yaml:"path"`
		Port   string `yaml:"port"`
		Scheme string `yaml:"scheme"`
	} `yaml:"httpGet"`
}

type serviceMonitor struct {
	Spec struct {
		Endpoints []struct {
			Port   string `yaml:"port"`
			Path   string `yaml:"path"`
			Scheme string `yaml:"scheme"`
		} `yaml:"endpoints"`
	} `yaml:"spec"`
}

// container is the Deployment's one container.
func (d deployment) container(t *testing.T) container {
	t.Helper()
	if n := len(d.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("%d containers, want 1", n)
	}
	return d.Spec.Template.Spec.Containers[0]
}

// volume says where the pod's volume name comes from: "configMap NAME",
// "secret NAME", "emptyDir" or "" when there is no such volume.
func (d deployment) volume(name string) string {
	for _, v := range d.Spec.Template.Spec.Volumes {
		switch {
		case v.Name != name:
		case v.ConfigMap != nil:
			return "configMap " + v.ConfigMap.Name
		case v.Secret != nil:
			return "secret " + v.Secret.SecretName
		default:
			return "emptyDir"
		}
	}
	return ""
}

// mounts reports whether volume name is mounted at path.
func (c container) mounts(name, path string) bool {
	for _, m := range c.VolumeMounts {
		if m.Name == name && m.MountPath == path {
			return true
		}
	}
	return false
}

// port is the container port named name, 0 if none.
func (c container) port(name string) int {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

// checkDeployment checks replicas, the non-root read-only container, its
// ports, probes and session secret.
func checkDeployment(t *testing.T, objs rendered, vs valueSet) deployment {
	t.Helper()
	var d deployment
	objs["Deployment"].decode(t, &d)
	switch {
	case vs.replicas == 0 && d.Spec.Replicas != nil:
		t.Errorf("replicas %d with an HPA, want none (the HPA owns it)", *d.Spec.Replicas)
	case vs.replicas != 0 && (d.Spec.Replicas == nil || *d.Spec.Replicas != vs.replicas):
		t.Errorf("replicas %v, want %d", d.Spec.Replicas, vs.replicas)
	}
	ps := d.Spec.Template.Spec
	if ps.SecurityContext.RunAsNonRoot == nil || !*ps.SecurityContext.RunAsNonRoot ||
		ps.SecurityContext.RunAsUser == nil || *ps.SecurityContext.RunAsUser == 0 {
		t.Errorf("pod securityContext %+v: want runAsNonRoot and a non-zero runAsUser", ps.SecurityContext)
	}
	if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
		t.Error("the service account token is mounted; the gateway does not call the API server")
	}
	c := d.container(t)
	sc := c.SecurityContext
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("container securityContext %+v: want a read-only root, no privilege escalation, ALL capabilities dropped", sc)
	}
	if !c.mounts("tmp", "/tmp") || d.volume("tmp") != "emptyDir" {
		t.Error("no writable /tmp beside the read-only root")
	}
	if tls := c.mounts("tls", "/etc/mcp-gateway/tls") && d.volume("tls") == "secret mcp-gateway-tls"; tls != (vs.scheme == "HTTPS") {
		t.Errorf("TLS Secret mounted at /etc/mcp-gateway/tls: %v, want %v", tls, vs.scheme == "HTTPS")
	}
	if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" {
		t.Errorf("resource requests %v: the HPA needs a CPU request", c.Resources.Requests)
	}
	if c.port("http") != 8080 {
		t.Errorf("http port %d, want 8080", c.port("http"))
	}
	if got, want := c.port("metrics"), map[bool]int{true: 9090}[vs.metricsPort]; got != want {
		t.Errorf("metrics port %d, want %d", got, want)
	}
	for _, p := range []struct {
		name, path string
		probe      probe
	}{{"liveness", "/healthz", c.LivenessProbe}, {"readiness", "/readyz", c.ReadinessProbe}} {
		g := p.probe.HTTPGet
		if g == nil || g.Path != p.path || g.Port != "http" || g.Scheme != vs.scheme {
			t.Errorf("%s probe %+v, want GET %s on port http (%s)", p.name, g, p.path, vs.scheme)
		}
	}
	if name, key := sessionSecretRef(c); name != vs.secretName || key != vs.secretKey {
		t.Errorf("MCPGW_SESSION_SECRET from Secret %q key %q, want %q %q", name, key, vs.secretName, vs.secretKey)
	}
	if s, ok := objs["Secret"]; ok && s.Metadata.Name != vs.secretName {
		t.Errorf("the chart's Secret is %q, the pods read %q", s.Metadata.Name, vs.secretName)
	}
	return d
}

// checkService: port 80 -> http (8080), and metrics only with its own listener.
func checkService(t *testing.T, objs rendered, vs valueSet) {
	t.Helper()
	var svc struct {
		Spec struct {
			Type  string `yaml:"type"`
			Ports []struct {
				Name       string `yaml:"name"`
				Port       int    `yaml:"port"`
				TargetPort string `yaml:"targetPort"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
	objs["Service"].decode(t, &svc)
	got := map[string]string{}
	for _, p := range svc.Spec.Ports {
		got[p.Name] = fmt.Sprintf("%d->%s", p.Port, p.TargetPort)
	}
	want := map[string]string{"http": "80->http"}
	if vs.metricsPort {
		want["metrics"] = "9090->metrics"
	}
	if svc.Spec.Type != "ClusterIP" || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Service %s ports %v, want ClusterIP %v", svc.Spec.Type, got, want)
	}
}

func checkHPA(t *testing.T, o object) {
	t.Helper()
	var hpa struct {
		Spec struct {
			ScaleTargetRef struct {
				Kind string `yaml:"kind"`
				Name string `yaml:"name"`
			} `yaml:"scaleTargetRef"`
			MinReplicas int `yaml:"minReplicas"`
			MaxReplicas int `yaml:"maxReplicas"`
			Metrics     []struct {
				Resource struct {
					Name   string `yaml:"name"`
					Target struct {
						AverageUtilization int `yaml:"averageUtilization"`
					} `yaml:"target"`
				} `yaml:"resource"`
			} `yaml:"metrics"`
		} `yaml:"spec"`
	}
	o.decode(t, &hpa)
	s := hpa.Spec
	if o.APIVersion != "autoscaling/v2" || s.ScaleTargetRef.Kind != "Deployment" || s.MinReplicas != 3 || s.MaxReplicas != 6 ||
		len(s.Metrics) != 1 || s.Metrics[0].Resource.Name != "cpu" || s.Metrics[0].Resource.Target.AverageUtilization != 70 {
		t.Errorf("HPA %s %+v: want autoscaling/v2, Deployment, 3..6, cpu 70%%", o.APIVersion, s)
	}
}

func checkIngress(t *testing.T, o object, service string) {
	t.Helper()
	var ing struct {
		Spec struct {
			IngressClassName string `yaml:"ingressClassName"`
			TLS              []struct {
				Hosts      []string `yaml:"hosts"`
				SecretName string   `yaml:"secretName"`
			} `yaml:"tls"`
			Rules []struct {
				Host string `yaml:"host"`
				HTTP struct {
					Paths []struct {
						Path    string `yaml:"path"`
						Backend struct {
							Service struct {
								Name string `yaml:"name"`
								Port struct {
									Name string `yaml:"name"`
								} `yaml:"port"`
							} `yaml:"service"`
						} `yaml:"backend"`
					} `yaml:"paths"`
				} `yaml:"http"`
			} `yaml:"rules"`
		} `yaml:"spec"`
	}
	o.decode(t, &ing)
	s := ing.Spec
	if s.IngressClassName != "nginx" || len(s.TLS) != 1 || s.TLS[0].SecretName != "mcp-example-com-tls" ||
		len(s.Rules) != 1 || s.Rules[0].Host != "mcp.example.com" || len(s.Rules[0].HTTP.Paths) != 1 {
		t.Fatalf("Ingress %+v", s)
	}
	if b := s.Rules[0].HTTP.Paths[0].Backend.Service; b.Name != service || b.Port.Name != "http" {
		t.Errorf("Ingress backend %+v, want Service %s port http", b, service)
	}
}

// equalNumberish compares a decoded YAML value with want, numbers by value.
func equalNumberish(got, want any) bool {
	return fmt.Sprint(got) == fmt.Sprint(want)
}
