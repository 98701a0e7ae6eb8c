{{/* Name of the Deployment, Service and ServiceAccount; base of every other name. */}}
{{- define "admission.fullname" -}}
{{- default "gardener-extension-admission-networking" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select the pods; never change them (Deployment selectors are immutable). */}}
{{- define "admission.selectorLabels" -}}
app.kubernetes.io/name: {{ include "admission.fullname" . }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
{{- end -}}

{{/* Labels of every object. */}}
{{- define "admission.labels" -}}
{{ include "admission.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}
{{- end -}}

{{- define "admission.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) -}}
{{- end -}}

{{/* service or url (Go's admission charts: url when the webhooks serve a virtual garden). */}}
{{- define "admission.mode" -}}
{{- if .Values.webhookConfig.mode -}}
{{- .Values.webhookConfig.mode -}}
{{- else if .Values.gardener.virtualCluster.enabled -}}
url
{{- else -}}
service
{{- end -}}
{{- end -}}

{{- define "admission.url" -}}
{{- .Values.webhookConfig.url | default (printf "%s.%s" (include "admission.fullname" .) .Release.Namespace) -}}
{{- end -}}

{{/* The Secret of the webhook CA and serving certificate (written by the pods themselves). */}}
{{- define "admission.certSecret" -}}
{{- printf "%s-webhook-cert" (include "admission.fullname" .) -}}
{{- end -}}
