{{/* Names and labels (the usual Helm conventions). */}}
{{- define "mcp-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mcp-gateway.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mcp-gateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mcp-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mcp-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mcp-gateway.labels" -}}
helm.sh/chart: {{ include "mcp-gateway.chart" . }}
{{ include "mcp-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "mcp-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mcp-gateway.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "mcp-gateway.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* Fixed ports and paths. The gateway listens on 8080 in the pod (the
image's MCPGW_LISTEN says the same). */}}
{{- define "mcp-gateway.httpPort" -}}8080{{- end }}
{{- define "mcp-gateway.configDir" -}}/etc/mcp-gateway{{- end }}
{{- define "mcp-gateway.configFile" -}}gateway.yaml{{- end }}
{{- define "mcp-gateway.tlsDir" -}}/etc/mcp-gateway/tls{{- end }}

{{/* The session secret's name and key. */}}
{{- define "mcp-gateway.sessionSecretName" -}}
{{- .Values.sessionSecret.existingSecret | default (printf "%s-session" (include "mcp-gateway.fullname" .)) }}
{{- end }}

{{/* Replicas that must stay up: replicaCount, or the HPA's minimum. */}}
{{- define "mcp-gateway.minReplicas" -}}
{{- if .Values.autoscaling.enabled }}{{ int .Values.autoscaling.minReplicas }}{{ else }}{{ int .Values.replicaCount }}{{ end }}
{{- end }}

{{/* The gateway's configuration file: values.config plus what the chart
owns (listen, metrics_listen, TLS files). Keys the chart owns are refused
in values.config, and so is session_secret (a Secret, not a ConfigMap). */}}
{{- define "mcp-gateway.config" -}}
{{- $c := deepCopy (.Values.config | default dict) }}
{{- range $k := list "listen" "metrics_listen" "session_secret" }}
{{- if hasKey $c $k }}
{{- if eq $k "session_secret" }}
{{- fail "config.session_secret: set sessionSecret.value or sessionSecret.existingSecret (the chart passes it from a Secret as MCPGW_SESSION_SECRET)" }}
{{- else }}
{{- fail (printf "config.%s is set by the chart (listen 0.0.0.0:8080; metrics_listen with metrics.separateListener): remove it" $k) }}
{{- end }}
{{- end }}
{{- end }}
{{- $_ := set $c "listen" (printf "0.0.0.0:%s" (include "mcp-gateway.httpPort" .)) }}
{{- if .Values.metrics.separateListener }}
{{- $_ := set $c "metrics_listen" (printf "0.0.0.0:%d" (int .Values.metrics.port)) }}
{{- end }}
{{- if .Values.tls.existingSecret }}
{{- if or (hasKey $c "tls_cert_file") (hasKey $c "tls_key_file") }}
{{- fail "config.tls_cert_file/tls_key_file: remove them when tls.existingSecret is set (the chart sets them)" }}
{{- end }}
{{- $_ := set $c "tls_cert_file" (printf "%s/tls.crt" (include "mcp-gateway.tlsDir" .)) }}
{{- $_ := set $c "tls_key_file" (printf "%s/tls.key" (include "mcp-gateway.tlsDir" .)) }}
{{- end }}
{{- toYaml $c }}
{{- end }}

{{/* HTTPS or HTTP: what the main port speaks (tls_cert_file set). */}}
{{- define "mcp-gateway.scheme" -}}
{{- $c := include "mcp-gateway.config" . | fromYaml }}
{{- if $c.tls_cert_file }}HTTPS{{ else }}HTTP{{ end }}
{{- end }}
