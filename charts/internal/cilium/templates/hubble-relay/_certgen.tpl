{{/*
CILIUM_CERTGEN_CONFIG: the certificates certgen writes (server certs of the agents' Hubble API and the
client certs of relay). The text is part of the Job's immutable pod template, so it is kept
byte-for-byte as the Go extension renders it: a switched shoot keeps its Job instead of recreating it
(which would run certgen again and replace the CA).
*/}}
{{- define "cilium.certgenConfig" -}}
{{- $ns := include "cilium.namespace" .root -}}
{{- $validity := .root.Values.hubbleRelay.certgen.validity -}}
{{- $server := printf "*.%s.hubble-grpc.cilium.io" .root.Values.global.cluster.name -}}
certs:
{{- range $cert := list
  (dict "name" "hubble-server-certs" "host" $server "usage" (list "signing" "key encipherment" "server auth" "client auth"))
  (dict "name" "hubble-relay-client-certs" "host" "*.hubble-relay.cilium.io" "usage" (list "signing" "key encipherment" "client auth")) }}
- name: {{ $cert.name }}
  namespace: {{ $ns }}
  commonName: {{ $cert.host | quote }}
  hosts:
  - {{ $cert.host | quote }}
  usage:
  {{- range $cert.usage }}
  - {{ . }}
  {{- end }}
  validity: {{ $validity }}
{{- end }}
{{ end -}}

{{/*
Pod template of the certgen Job and CronJob. Argument: dict "root" $ "cronJob" bool.
The CronJob's renewals reuse the CA (--ca-reuse-secret) and run in the host network; the one-off Job
creates the CA. Every field is the Go extension's (the Job's pod template is immutable).
*/}}
{{- define "cilium.certgenPodTemplate" -}}
{{- $root := .root -}}
{{- $ns := include "cilium.namespace" $root -}}
metadata:
  labels:
    k8s-app: hubble-generate-certs
    {{- include "cilium.networkingLabels" $root | nindent 4 }}
spec:
  containers:
    - name: certgen
      image: {{ include "cilium.image" (dict "root" $root "name" "certgen") }}
      imagePullPolicy: {{ $root.Values.global.pullPolicy | quote }}
      securityContext:
        capabilities:
          drop:
            - ALL
        allowPrivilegeEscalation: false
      command:
        - /usr/bin/cilium-certgen
      args:
        - --ca-generate=true
{{- if .cronJob }}
        - --ca-reuse-secret
{{- end }}
        - {{ printf "--ca-secret-namespace=%s" $ns | quote }}
        - --ca-secret-name=cilium-ca
        - --ca-common-name=Cilium CA
      env:
        - name: CILIUM_CERTGEN_CONFIG
          value: {{ include "cilium.certgenConfig" (dict "root" $root) | quote }}
  hostNetwork: {{ .cronJob }}
  serviceAccount: hubble-generate-certs
  serviceAccountName: hubble-generate-certs
  automountServiceAccountToken: true
  securityContext:
    seccompProfile:
      type: RuntimeDefault
  restartPolicy: OnFailure
{{- end -}}
