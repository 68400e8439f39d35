{{- define "flowrag.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "flowrag.fullname" -}}
{{- if contains (include "flowrag.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "flowrag.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "flowrag.labels" -}}
app.kubernetes.io/name: {{ include "flowrag.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "flowrag.selector" -}}
app.kubernetes.io/name: {{ include "flowrag.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "flowrag.image" -}}
{{- $repo := required "image.repository is required: build the Dockerfile and push it to your registry" .Values.image.repository -}}
{{- $tag := required "image.tag is required (a pinned version)" .Values.image.tag -}}
{{- if eq $tag "latest" -}}
{{- fail "image.tag must be a pinned version, not latest" -}}
{{- end -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}
