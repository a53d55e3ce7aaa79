{{/*
The release's full name: the release name when it already contains the chart name, else
"<release>-<chart>", at most 63 characters.
*/}}
{{- define "dittofs-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "dittofs-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "dittofs-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "dittofs-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "dittofs-operator.labels" -}}
{{ include "dittofs-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: dittofs
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
What the operator does with the Kubernetes API, and nothing more (see the README, "RBAC"): the
rules of its ClusterRole, or of the Role in each watched namespace. Read from the code of the
operator's pass; an integration test runs it with only these rules and checks, from the
apiserver's audit log, that it was refused nothing and used every rule.
*/}}
{{- define "dittofs-operator.rules" -}}
# DittoServers: watched; finalizer added and removed.
- apiGroups: ["dittofs.dittofs.com"]
  resources: ["dittoservers"]
  verbs: ["get", "list", "watch", "update"]
# Conditions, phase and replica counts.
- apiGroups: ["dittofs.dittofs.com"]
  resources: ["dittoservers/status"]
  verbs: ["patch"]
# Owner references with blockOwnerDeletion to a DittoServer (checked by the
# OwnerReferencesPermissionEnforcement admission plugin where it is enabled).
- apiGroups: ["dittofs.dittofs.com"]
  resources: ["dittoservers/finalizers"]
  verbs: ["update"]
# The API, headless, metrics and adapter Services: the adapter ones come and go.
- apiGroups: [""]
  resources: ["services"]
  verbs: ["get", "list", "watch", "create", "update", "delete"]
# The baseline and adapter NetworkPolicies: the adapter ones come and go.
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies"]
  verbs: ["get", "list", "watch", "create", "update", "delete"]
# The server's configuration, its generated Secrets and the operator's DittoFS credentials
# (never deleted by the operator: they go with the DittoServer, by garbage collection).
- apiGroups: [""]
  resources: ["configmaps", "secrets"]
  verbs: ["get", "list", "watch", "create", "update"]
- apiGroups: ["apps"]
  resources: ["statefulsets"]
  verbs: ["get", "list", "watch", "create", "update"]
# Managed rollouts: a server pod is deleted once when what it runs changed (and read once
# from the API right after, while a finalizer may still hold it).
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch", "delete"]
# Events about DittoServers (a repeat updates the count of the same Event).
- apiGroups: [""]
  resources: ["events"]
  verbs: ["get", "create", "update"]
{{- end -}}
