{{/*
cilium-monitoring.scrapeConfig: a ScrapeConfig for the shoot Prometheus that discovers cilium targets in
the shoot's kube-system and scrapes them through the kube-apiserver pod proxy.
Arguments (dict): root, name (suffix of shoot-cilium-<name>), job, role (Endpoints|Pod),
keep (list of "sourceLabels;regex" keep rules as dicts with labels/regex), port (port expression: a
number or "" to take it from the pod's prometheus.io/port annotation), metrics (allow-list).
*/}}
{{- define "cilium-monitoring.scrapeConfig" -}}
{{- $access := .root.Values.shootAccess -}}
apiVersion: monitoring.coreos.com/v1alpha1
kind: ScrapeConfig
metadata:
  name: {{ printf "shoot-cilium-%s" .name | quote }}
  namespace: {{ .root.Release.Namespace | quote }}
  labels:
    prometheus: shoot
spec:
  authorization:
    credentials:
      name: {{ $access.secretName | quote }}
      key: {{ $access.secretKey | quote }}
  scheme: HTTPS
  tlsConfig:
    # the shoot kube-apiserver is addressed by its in-namespace service name
    insecureSkipVerify: true
  honorLabels: false
  kubernetesSDConfigs:
    - apiServer: {{ $access.apiServer | quote }}
      authorization:
        credentials:
          name: {{ $access.secretName | quote }}
          key: {{ $access.secretKey | quote }}
      followRedirects: true
      namespaces:
        names:
          - kube-system
      role: {{ .role }}
      tlsConfig:
        insecureSkipVerify: true
  relabelings:
{{- range .keep }}
    - sourceLabels:
        {{- toYaml .labels | nindent 8 }}
      action: keep
      regex: {{ .regex | quote }}
{{- end }}
    - action: replace
      replacement: {{ .job | quote }}
      targetLabel: job
    - sourceLabels:
        - __meta_kubernetes_pod_node_name
      targetLabel: node
    - sourceLabels:
        - __meta_kubernetes_pod_name
      targetLabel: pod
    - targetLabel: __address__
      replacement: {{ $access.address | quote }}
{{- if .port }}
    - sourceLabels:
        - __meta_kubernetes_pod_name
      regex: (.+)
      targetLabel: __metrics_path__
      replacement: {{ printf "/api/v1/namespaces/kube-system/pods/${1}:%v/proxy/metrics" .port | quote }}
{{- else }}
    - sourceLabels:
        - __meta_kubernetes_pod_name
        - __meta_kubernetes_pod_annotation_prometheus_io_port
      regex: (.+);(.+)
      targetLabel: __metrics_path__
      replacement: /api/v1/namespaces/kube-system/pods/${1}:${2}/proxy/metrics
{{- end }}
  metricRelabelings:
    - sourceLabels:
        - __name__
      action: keep
      regex: {{ printf "^(%s)$" (join "|" .metrics) | quote }}
{{- end -}}
