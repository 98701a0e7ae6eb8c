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

{{/* "true" when the seed enables topology-aware routing (injected gardener.seed.spec). */}}
{{- define "extension.topologyAwareRouting" -}}
{{- $gardener := include "extension.gardener" . | fromYaml -}}
{{- if dig "seed" "spec" "settings" "topologyAwareRouting" "enabled" false $gardener -}}true{{- end -}}
{{- end -}}
