{{/*
calico-monitoring.scrapeConfig renders a ScrapeConfig that lets the shoot Prometheus scrape the endpoints of a
kube-system Service through the kube-apiserver pod proxy.
Arguments (dict): root, component (felix|typha|bird), service, port (container port name), job, keep (metric
name regex).
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
  # the job names are the Go extension's: dashboards and alerts select on them
  - action: replace
    replacement: {{ .job | quote }}
    targetLabel: job
  # only the metrics container port behind the component's monitoring Service
  - sourceLabels: [__meta_kubernetes_service_name, __meta_kubernetes_pod_container_port_name]
    separator: ;
    regex: {{ printf "%s;%s" .service .port | quote }}
    replacement: $1
    action: keep
  - sourceLabels: [__meta_kubernetes_endpoint_node_name]
    separator: ;
    regex: (.*)
    targetLabel: node
    replacement: $1
    action: replace
  - sourceLabels: [__meta_kubernetes_pod_name]
    separator: ;
    regex: (.*)
    targetLabel: pod
    replacement: $1
    action: replace
  # scrape through the kube-apiserver's pod proxy
  - targetLabel: __address__
    replacement: kube-apiserver:443
  - sourceLabels: [__meta_kubernetes_pod_name, __meta_kubernetes_pod_container_port_number]
    separator: ;
    regex: (.+);(.+)
    targetLabel: __metrics_path__
    replacement: /api/v1/namespaces/kube-system/pods/${1}:${2}/proxy/metrics
    action: replace
  metricRelabelings:
  - sourceLabels: [__name__]
    action: keep
    regex: {{ .keep | quote }}
{{- end -}}
