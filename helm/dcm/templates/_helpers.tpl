{{/*
Chart name, overridable with nameOverride.
*/}}
{{- define "dcm.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name (63 characters at most: some Kubernetes name fields are limited to
this). The release name alone is used when it already contains the chart name.
*/}}
{{- define "dcm.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "dcm.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every resource.
*/}}
{{- define "dcm.labels" -}}
helm.sh/chart: {{ include "dcm.chart" . }}
{{ include "dcm.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dcm
{{- end }}

{{/*
Selector labels (must not change between upgrades).
*/}}
{{- define "dcm.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dcm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Name of the ServiceAccount to use.
*/}}
{{- define "dcm.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dcm.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference: repository:tag, the tag defaulting to the chart's appVersion.
*/}}
{{- define "dcm.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}

{{/*
Name of the Secret holding MONGO_URL: the existing one if given, else the chart's own.
*/}}
{{- define "dcm.mongodbSecretName" -}}
{{- if .Values.mongodb.existingSecret }}
{{- .Values.mongodb.existingSecret }}
{{- else }}
{{- include "dcm.fullname" . }}
{{- end }}
{{- end }}

{{/*
Fails the render unless exactly one source of the MongoDB URL is configured.
*/}}
{{- define "dcm.validateMongodb" -}}
{{- if and .Values.mongodb.url .Values.mongodb.existingSecret }}
{{- fail "set only one of mongodb.url and mongodb.existingSecret" }}
{{- end }}
{{- if not .Values.mongodb.existingSecret }}
{{- $url := required "an external MongoDB is required: set mongodb.url (mongodb://...) or mongodb.existingSecret" .Values.mongodb.url }}
{{- if not (regexMatch "^mongodb(\\+srv)?://" $url) }}
{{- fail "mongodb.url must start with mongodb:// or mongodb+srv://" }}
{{- end }}
{{- end }}
{{- end }}
