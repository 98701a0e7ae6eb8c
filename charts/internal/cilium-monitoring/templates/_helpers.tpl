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
    # the targets are reached through the kube-apiserver pod proxy, not by their own certificates
    insecureSkipVerify: true
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
    {{- /* Order and labels as the Go extension's jobs: dashboards and alerts select on job, pod and the pod's labels. */}}
    - action: replace
      replacement: {{ .job | quote }}
      targetLabel: job
{{- range .keep }}
    - sourceLabels:
        {{- toYaml .labels | nindent 8 }}
      separator: ;
      regex: {{ .regex | quote }}
      replacement: $1
      action: keep
{{- end }}
    - action: labelmap
      regex: __meta_kubernetes_pod_label_(.+)
    - sourceLabels:
        - __meta_kubernetes_pod_name
      separator: ;
      regex: (.*)
      targetLabel: pod
      replacement: $1
      action: replace
    - targetLabel: __address__
      replacement: {{ $access.address | quote }}
{{- if .port }}
    - sourceLabels:
        - __meta_kubernetes_pod_name
      separator: ;
      regex: (.+)
      targetLabel: __metrics_path__
      replacement: {{ printf "/api/v1/namespaces/kube-system/pods/${1}:%v/proxy/metrics" .port | quote }}
      action: replace
{{- else }}
    - sourceLabels:
        - __meta_kubernetes_pod_name
        - __meta_kubernetes_pod_annotation_prometheus_io_port
      separator: ;
      regex: (.+);(.+)
      targetLabel: __metrics_path__
      replacement: /api/v1/namespaces/kube-system/pods/${1}:${2}/proxy/metrics
      action: replace
{{- end }}
  metricRelabelings:
    - sourceLabels:
        - __name__
      action: keep
      regex: {{ printf "^(%s)$" (join "|" .metrics) | quote }}
{{- end -}}
