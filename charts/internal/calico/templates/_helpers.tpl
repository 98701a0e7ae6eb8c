{{/*
calico.image returns the image reference stored under .Values.images.<name>.
Usage: {{ include "calico.image" (dict "root" $ "name" "calico-node") | quote }}
*/}}
{{- define "calico.image" -}}
{{- $images := .root.Values.images | default dict -}}
{{- $image := index $images .name | default "" -}}
{{- if not $image -}}
{{- fail (printf "calico chart: no image configured for %q (set .Values.images.%s)" .name .name) -}}
{{- end -}}
{{- $image -}}
{{- end -}}

{{/* calico.overlay: the overlay state (unset|enabled|disabled); a missing value means unset. */}}
{{- define "calico.overlay" -}}
{{- .Values.global.overlay | default "unset" -}}
{{- end -}}

{{/* calico.typhaServiceName: Service Felix connects to, or "none" without Typha. */}}
{{- define "calico.typhaServiceName" -}}
{{- if .Values.config.typha.enabled -}}calico-typha{{- else -}}none{{- end -}}
{{- end -}}

{{/* calico.nodeCPVA: true ("true") when calico-node is sized by the cluster-proportional vertical autoscaler. */}}
{{- define "calico.nodeCPVA" -}}
{{- if not (or .Values.autoscaling.node .Values.autoscaling.staticRequests) -}}true{{- end -}}
{{- end -}}

{{/* calico.typhaCPVA: true ("true") when Typha is deployed and sized by its cluster-proportional vertical autoscaler. */}}
{{- define "calico.typhaCPVA" -}}
{{- if and .Values.config.typha.enabled (not (or .Values.autoscaling.typha .Values.autoscaling.staticRequests)) -}}true{{- end -}}
{{- end -}}

{{/* calico.nodeRequests: requests of the calico-node container (resourceRequests.node in VPA/static mode). */}}
{{- define "calico.nodeRequests" -}}
{{- $requests := dict -}}
{{- if or .Values.autoscaling.node .Values.autoscaling.staticRequests -}}
{{- $requests = dig "resourceRequests" "node" dict .Values.autoscaling | default dict -}}
{{- end -}}
cpu: {{ $requests.cpu | default "250m" | quote }}
memory: {{ $requests.memory | default "100Mi" | quote }}
{{- end -}}

{{/* calico.typhaRequests: requests of the calico-typha container (resourceRequests.typha in static mode). */}}
{{- define "calico.typhaRequests" -}}
{{- $requests := dict -}}
{{- if .Values.autoscaling.staticRequests -}}
{{- $requests = dig "resourceRequests" "typha" dict .Values.autoscaling | default dict -}}
{{- end -}}
cpu: {{ $requests.cpu | default "200m" | quote }}
memory: {{ $requests.memory | default "100Mi" | quote }}
{{- end -}}

{{/* calico.crdLabels: labels shared by every CustomResourceDefinition of the chart. */}}
{{- define "calico.crdLabels" -}}
gardener.cloud/role: system-component
{{- end -}}

{{/* calico.criticalTolerations: tolerate every NoSchedule/NoExecute taint (node agents). */}}
{{- define "calico.tolerateAll" -}}
- effect: NoSchedule
  operator: Exists
- effect: NoExecute
  operator: Exists
{{- end -}}

{{/*
calico.cniNetworkConfig: the CNI network configuration list installed by install-cni, built as a dict and
serialised with toJson so it is always valid JSON. The __...__ placeholders are replaced by install-cni;
`mtu` is the bare placeholder __CNI_MTU__ (a number once install-cni substitutes CNI_MTU = veth_mtu).
*/}}
{{- define "calico.cniNetworkConfig" -}}
{{- $ipam := dict "type" .Values.config.ipam.type "assign_ipv4" (toString .Values.config.ipam.assign_ipv4) "assign_ipv6" (toString .Values.config.ipam.assign_ipv6) -}}
{{- if .Values.config.ipam.subnet -}}
{{- $_ := set $ipam "subnet" .Values.config.ipam.subnet -}}
{{- end -}}
{{- if .Values.config.ipam.ranges -}}
{{- $_ := set $ipam "ranges" .Values.config.ipam.ranges -}}
{{- end -}}
{{- $calico := dict "type" "calico" "log_level" "error" "log_file_path" "/var/log/calico/cni/cni.log" "datastore_type" "kubernetes" "nodename" "__KUBERNETES_NODE_NAME__" "mtu" "__CNI_MTU__" "ipam" $ipam "policy" (dict "type" "k8s") "kubernetes" (dict "kubeconfig" "__KUBECONFIG_FILEPATH__") -}}
{{- $portmap := dict "type" "portmap" "snat" true "capabilities" (dict "portMappings" true) -}}
{{- dict "name" "k8s-pod-network" "cniVersion" (.Values.config.cniVersion | default "0.3.1" | toString) "plugins" (list $calico $portmap) | toPrettyJson | replace "\"__CNI_MTU__\"" "__CNI_MTU__" -}}
{{- end -}}

{{/* calico.egressLabels: pod labels that Gardener's shoot NetworkPolicies match to allow egress. */}}
{{- define "calico.egressLabels" -}}
networking.gardener.cloud/to-public-networks: allowed
networking.gardener.cloud/to-apiserver: allowed
networking.gardener.cloud/to-dns: allowed
{{- end -}}

{{/* calico.runtimeDefaultSeccomp: the pod-level seccomp profile of every Calico workload. */}}
{{- define "calico.runtimeDefaultSeccomp" -}}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
calico.cpvaPodSecurityContext: pod securityContext of the cluster-proportional vertical autoscalers
(nobody user, group 1 for the mounted ConfigMap).
*/}}
{{- define "calico.cpvaPodSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65534
fsGroup: 1
supplementalGroups:
- 1
{{ include "calico.runtimeDefaultSeccomp" . }}
{{- end -}}

{{/*
calico.iptablesBackend: shell lines setting $backend to "nft" or "legacy" the way kubelet/kube-proxy chose it
(their canary chains exist in the nft mangle table only in nft mode), for iptables-$backend commands.
*/}}
{{- define "calico.iptablesBackend" -}}
if (iptables-nft-save -t mangle; ip6tables-nft-save -t mangle) 2>/dev/null | grep -qE '^:(KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY)'; then
  backend=nft
else
  backend=legacy
fi
{{- end -}}
