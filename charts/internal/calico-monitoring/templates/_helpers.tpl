{{/*
calico-monitoring.scrapeConfig renders a ScrapeConfig that lets the shoot Prometheus scrape the endpoints of a
kube-system Service through the kube-apiserver pod proxy.
Arguments (dict): root, component (felix|typha|bird), service, port (port name), job, keep (metric name regex).
*/}}
{{- define "calico-monitoring.scrapeConfig" -}}
apiVersion: monitoring.coreos.com/v1alpha1
kind: ScrapeConfig
metadata:
  name: {{ printf "shoot-calico-%s" .component | quote }}
  namespace: {{ .root.Release.Namespace | quote }}
  labels:
    prometheus: shoot
spec:
  authorization:
    credentials:
      name: shoot-access-prometheus-shoot
      key: token
  scheme: HTTPS
  tlsConfig:
    # the pod proxy of the shoot kube-apiserver is reached through its in-cluster service name
    insecureSkipVerify: true
  honorLabels: false
  kubernetesSDConfigs:
  - apiServer: https://kube-apiserver
    authorization:
      credentials:
        name: shoot-access-prometheus-shoot
        key: token
    followRedirects: true
    namespaces:
      names:
      - kube-system
    role: Endpoints
    tlsConfig:
      insecureSkipVerify: true
  relabelings:
  - sourceLabels: [__meta_kubernetes_service_name, __meta_kubernetes_endpoint_port_name]
    action: keep
    regex: {{ printf "%s;%s" .service .port | quote }}
  - action: replace
    replacement: {{ .job | quote }}
    targetLabel: job
  - sourceLabels: [__meta_kubernetes_pod_node_name]
    targetLabel: node
  - sourceLabels: [__meta_kubernetes_pod_name]
    targetLabel: pod
  - targetLabel: __address__
    replacement: kube-apiserver:443
  - sourceLabels: [__meta_kubernetes_pod_name, __meta_kubernetes_pod_container_port_number]
    regex: (.+);(.+)
    targetLabel: __metrics_path__
    replacement: /api/v1/namespaces/kube-system/pods/${1}:${2}/proxy/metrics
  metricRelabelings:
  - sourceLabels: [__name__]
    action: keep
    regex: {{ .keep | quote }}
{{- end -}}
