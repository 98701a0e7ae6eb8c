{{/*
Name of the Deployment and base of every other name. Fixed (default gardener-extension-networking)
because gardenlet uses the ControllerRegistration name as release name.
*/}}
{{- define "extension.fullname" -}}
{{- default "gardener-extension-networking" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of the ClusterRole and ClusterRoleBinding (Gardener convention extensions.gardener.cloud:<type>:<name>). */}}
{{- define "extension.clusterRoleName" -}}
{{- printf "extensions.gardener.cloud:networking:%s" (include "extension.fullname" .) -}}
{{- end -}}

{{/* Labels that select the pods; never change them (Deployment selectors are immutable). */}}
{{- define "extension.selectorLabels" -}}
app.kubernetes.io/name: {{ include "extension.fullname" . }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "extension.labels" -}}
{{ include "extension.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
{{- end -}}

{{/* Container image reference; the tag defaults to the chart's appVersion. */}}
{{- define "extension.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) -}}
{{- end -}}

{{/* Directory of the ControllerConfiguration file in the container. */}}
{{- define "extension.configDir" -}}
/etc/gardener-extension-networking/config
{{- end -}}

{{/* apiVersion of the ControllerConfiguration: the configured one, else the first served type's. */}}
{{- define "extension.configApiVersion" -}}
{{- if .Values.config.apiVersion -}}
{{- .Values.config.apiVersion -}}
{{- else -}}
{{- printf "%s.networking.extensions.config.gardener.cloud/v1alpha1" (first .Values.types) -}}
{{- end -}}
{{- end -}}

{{/* The injected gardener values, or an empty map when rendered outside Gardener. */}}
{{- define "extension.gardener" -}}
{{- toYaml (.Values.gardener | default dict) -}}
{{- end -}}

{{/*
A value of the injected gardener section by path, null-safe: walks the keys in .path through
.gardener and yields the value found (as YAML) or nothing when a key is missing or an intermediate
value is null or not a map. gardenlet decides what it injects (a self-hosted shoot has no
gardener.seed, a future gardenlet may add or reshape keys), so no lookup may fail the render.
Usage: include "extension.gardenerValue" (dict "gardener" $gardener "path" (list "seed" "spec"))
*/}}
{{- define "extension.gardenerValue" -}}
{{- $node := .gardener -}}
{{- range .path -}}
{{- if kindIs "map" $node -}}
{{- $node = get $node . -}}
{{- else -}}
{{- $node = "" -}}
{{- end -}}
{{- end -}}
{{- if not (kindIs "invalid" $node) -}}
{{- if or (kindIs "map" $node) (kindIs "slice" $node) -}}
{{- toYaml $node -}}
{{- else -}}
{{- toString $node -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "true" when the seed enables topology-aware routing (injected gardener.seed.spec). */}}
{{- define "extension.topologyAwareRouting" -}}
{{- $gardener := include "extension.gardener" . | fromYaml -}}
{{- $path := list "seed" "spec" "settings" "topologyAwareRouting" "enabled" -}}
{{- if eq (include "extension.gardenerValue" (dict "gardener" $gardener "path" $path)) "true" -}}true{{- end -}}
{{- end -}}

{{/* The Gardener version injected as gardener.version (empty outside Gardener). */}}
{{- define "extension.gardenerVersion" -}}
{{- $gardener := include "extension.gardener" . | fromYaml -}}
{{- include "extension.gardenerValue" (dict "gardener" $gardener "path" (list "version")) -}}
{{- end -}}

{{/*
The ports the pod opens, as YAML {metrics, webhook, health}. Without `usablePorts` they are the
configured metricsPort, webhookConfig.serverPort and healthPort. gardenadm injects `usablePorts` (free
ports of the node) when it bootstraps a control plane node, where the pod runs on the host network; then
the ports are taken from it by position as the Go extensions' charts do: [0] metrics, [1] webhook
server, [2] health. Fewer than three entries or a port used twice fail the render.
*/}}
{{- define "extension.ports" -}}
{{- $usable := .Values.usablePorts | default list -}}
{{- $ports := dict "metrics" .Values.metricsPort "webhook" .Values.webhookConfig.serverPort "health" .Values.healthPort -}}
{{- if $usable -}}
{{- if lt (len $usable) 3 -}}
{{- fail (printf "usablePorts has %d entries, needs at least 3 ([0] metrics, [1] webhook server, [2] health): %v" (len $usable) $usable) -}}
{{- end -}}
{{- $ports = dict "metrics" (index $usable 0) "webhook" (index $usable 1) "health" (index $usable 2) -}}
{{- end -}}
{{- /* int: values from files are float64, from --set int64; uniq compares types too. */ -}}
{{- $opened := list (int $ports.metrics) (int $ports.health) -}}
{{- if .Values.webhookConfig.enabled -}}
{{- $opened = append $opened (int $ports.webhook) -}}
{{- end -}}
{{- if ne (len $opened) (len (uniq $opened)) -}}
{{- fail (printf "the metrics (%v), health (%v) and webhook server (%v) ports must differ" $ports.metrics $ports.health $ports.webhook) -}}
{{- end -}}
{{- toYaml $ports -}}
{{- end -}}

{{/* Name of the fluent-bit ClusterParser of the controller's JSON logs. */}}
{{- define "extension.logParserName" -}}
{{- printf "%s-parser" (include "extension.fullname" .) -}}
{{- end -}}

{{/* Labels that make Gardener's fluent-bit pick up a ClusterParser or ClusterFilter. */}}
{{- define "extension.loggingLabels" -}}
fluentbit.gardener/type: "seed"
fluentbit.gardener.cloud/type: "seed"
{{- end -}}

{{/*
Name of the overlay ConfigMap mounted at --overlay-dir (empty: no overlay): the operator's own
(`overlay.existingConfigMap`) or the one made from `overlay.mappings`/`overlay.charts`.
*/}}
{{- define "extension.overlayConfigMap" -}}
{{- if .Values.overlay.existingConfigMap -}}
{{- .Values.overlay.existingConfigMap -}}
{{- else if or .Values.overlay.mappings .Values.overlay.charts -}}
{{- include "extension.fullname" . }}-overlay
{{- end -}}
{{- end }}
