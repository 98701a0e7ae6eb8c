{{/*
Namespace of every namespaced object of this chart. Gardener deploys cilium into kube-system of the
shoot; the name is fixed (like the Go chart) so the objects never depend on the release namespace.
*/}}
{{- define "cilium.namespace" -}}
kube-system
{{- end -}}

{{/*
Image reference by name from global.images, quoted. Fails clearly for a name that is not defined.
Usage: {{ include "cilium.image" (dict "root" $ "name" "cilium-agent") }}
*/}}
{{- define "cilium.image" -}}
{{- $images := .root.Values.global.images | default dict -}}
{{- if not (hasKey $images .name) -}}
{{- fail (printf "global.images has no image %q (known: %s)" .name (keys $images | sortAlpha | join ", ")) -}}
{{- end -}}
{{- $ref := index $images .name -}}
{{- if not $ref -}}
{{- fail (printf "global.images.%s is empty" .name) -}}
{{- end -}}
{{- $ref | quote -}}
{{- end -}}

{{/*
Loopback host for probes and local-only listeners: 127.0.0.1 when IPv4 is enabled, else ::1.
*/}}
{{- define "cilium.loopback" -}}
{{- if .Values.global.ipv4.enabled -}}127.0.0.1{{- else -}}::1{{- end -}}
{{- end -}}

{{/*
host:port form of the loopback (IPv6 in brackets).
*/}}
{{- define "cilium.loopbackHostPort" -}}
{{- if .Values.global.ipv4.enabled -}}127.0.0.1{{- else -}}[::1]{{- end -}}
{{- end -}}

{{/*
Pod labels that let Gardener's network policies admit the component's traffic.
*/}}
{{- define "cilium.networkingLabels" -}}
networking.gardener.cloud/to-apiserver: allowed
networking.gardener.cloud/to-dns: allowed
networking.gardener.cloud/to-public-networks: allowed
{{- end -}}

{{/*
Labels of node-critical DaemonSets (agent and envoy); their pods carry only
node.gardener.cloud/critical-component.
*/}}
{{- define "cilium.criticalLabels" -}}
gardener.cloud/role: system-component
node.gardener.cloud/critical-component: "true"
{{- end -}}

{{/*
Pod annotation that rolls a workload when the rendered cilium-config changes (replaces the two-pass
render of the Go extension).
*/}}
{{- define "cilium.configChecksum" -}}
checksum/configmap-cilium: {{ include (print .Template.BasePath "/config/configmap.yaml") . | sha256sum | quote }}
{{- end -}}

{{/*
Checksum of the label-prefix ConfigMap (immutable; a change must roll the agent).
*/}}
{{- define "cilium.labelPrefixChecksum" -}}
checksum/configmap-label-prefix: {{ include (print .Template.BasePath "/config/label-prefix-configmap.yaml") . | sha256sum | quote }}
{{- end -}}

{{/*
Forbidden value combinations (the controller checks them too, before helm runs). Included by the
cilium-config template so that every render evaluates them.
*/}}
{{- define "cilium.validate" -}}
{{- $g := .Values.global -}}
{{- if $g.egressGateway.enabled -}}
{{- if not $g.kubeProxyReplacement -}}
{{- fail "kubeProxyReplacement must be enabled in order to enable egressGateway" -}}
{{- end -}}
{{- if eq $g.tunnel "disabled" -}}
{{- fail "cilium must run with an overlay network in order to enable egressGateway" -}}
{{- end -}}
{{- end -}}
{{- if and (eq $g.bpf.lbMode "dsr") (not $g.ipv4NativeRoutingCIDR) -}}
{{- fail "bpf-lb-mode 'dsr' requires native routing to be enabled" -}}
{{- end -}}
{{- end -}}

{{/*
One iptables command on the nat chain CILIUM_POST_nat for pod traffic (source ${POD_CIDR}) as the SNAT
sidecars run it. Keys: op (-C, -I, -A), position (" 1" or ""), match (destination and interface
matches), comment (bool: tag the rule "cilium masquerade non-cluster"), target.
The rule text is host state shared with the Go extension: keep chain, matches and comment unchanged.
*/}}
{{- define "cilium.snatRule" -}}
iptables -t nat {{ .op }} CILIUM_POST_nat{{ .position }} -s ${POD_CIDR} {{ .match }}{{ if .comment }} -m comment --comment "cilium masquerade non-cluster"{{ end }} -j {{ .target }}
{{- end -}}
