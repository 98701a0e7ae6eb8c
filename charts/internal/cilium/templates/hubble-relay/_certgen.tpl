{{/*
Pod template of the certgen Job and CronJob. Argument: dict "root" $ "reuseCA" bool.
*/}}
{{- define "cilium.certgenPodTemplate" -}}
{{- $root := .root -}}
{{- $ns := include "cilium.namespace" $root -}}
{{- $validity := $root.Values.hubbleRelay.certgen.validity -}}
{{- $certs := list
  (dict "name" "hubble-server-certs" "namespace" $ns
        "commonName" (printf "*.%s.hubble-grpc.cilium.io" $root.Values.global.cluster.name)
        "hosts" (list (printf "*.%s.hubble-grpc.cilium.io" $root.Values.global.cluster.name))
        "usage" (list "signing" "key encipherment" "server auth") "validity" $validity)
  (dict "name" "hubble-relay-client-certs" "namespace" $ns
        "commonName" "*.hubble-relay.cilium.io"
        "hosts" (list "*.hubble-relay.cilium.io")
        "usage" (list "signing" "key encipherment" "client auth") "validity" $validity)
-}}
metadata:
  labels:
    k8s-app: hubble-generate-certs
    app.kubernetes.io/name: hubble-generate-certs
    app.kubernetes.io/part-of: cilium
    {{- include "cilium.networkingLabels" $root | nindent 4 }}
spec:
  containers:
    - name: certgen
      image: {{ include "cilium.image" (dict "root" $root "name" "certgen") }}
      imagePullPolicy: {{ $root.Values.global.pullPolicy | quote }}
      command:
        - /usr/bin/cilium-certgen
      args:
        - --ca-generate
{{- if .reuseCA }}
        - --ca-reuse-secret
{{- end }}
        - {{ printf "--ca-secret-namespace=%s" $ns | quote }}
        - --ca-secret-name=cilium-ca
        - --ca-common-name=Cilium CA
        - {{ printf "--ca-validity-duration=%s" $validity | quote }}
      env:
        - name: CILIUM_CERTGEN_CONFIG
          value: |
            {{- toYaml (dict "certs" $certs) | nindent 12 }}
      securityContext:
        allowPrivilegeEscalation: false
        capabilities:
          drop:
            - ALL
      terminationMessagePolicy: FallbackToLogsOnError
  hostNetwork: false
  serviceAccountName: hubble-generate-certs
  automountServiceAccountToken: true
  restartPolicy: OnFailure
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    seccompProfile:
      type: RuntimeDefault
{{- end -}}
