{{/*
Chart name, overridable with nameOverride.
*/}}
{{- define "dcm.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name (55 characters at most, so that "-mongodb" and "-grpc" suffixes
stay within the 63 characters some Kubernetes name fields allow). The release name alone
is used when it already contains the chart name.
*/}}
{{- define "dcm.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 55 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 55 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 55 | trimSuffix "-" }}
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
Labels every resource of the release carries.
*/}}
{{- define "dcm.commonLabels" -}}
helm.sh/chart: {{ include "dcm.chart" . }}
app.kubernetes.io/name: {{ include "dcm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dcm
{{- end }}

{{/*
Labels of the DCM's own resources.
*/}}
{{- define "dcm.labels" -}}
{{ include "dcm.commonLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{/*
Selector labels of the DCM's pods (must not change between upgrades). The component keeps
them apart from the bundled MongoDB's pods of the same release.
*/}}
{{- define "dcm.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dcm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end }}

{{/*
Name, labels and selector labels of the bundled MongoDB.
*/}}
{{- define "dcm.mongodb.fullname" -}}
{{- printf "%s-mongodb" (include "dcm.fullname" .) }}
{{- end }}

{{- define "dcm.mongodb.labels" -}}
{{ include "dcm.commonLabels" . }}
app.kubernetes.io/component: mongodb
{{- end }}

{{- define "dcm.mongodb.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dcm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: mongodb
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
The Secret the chart creates: MongoDB URL, encryption keys, API tokens and the bundled
MongoDB's root password, each when it comes from values. Rendered only when one does.
*/}}
{{- define "dcm.secretName" -}}
{{- include "dcm.fullname" . }}
{{- end }}

{{- define "dcm.chartSecretNeeded" -}}
{{- if or (not .Values.mongodb.existingSecret) .Values.encryption.keys .Values.auth.tokens .Values.metrics.token }}true{{- end }}
{{- end }}

{{/* Where MONGO_URL comes from: "name/key". */}}
{{- define "dcm.mongodbUrlSecretName" -}}
{{- .Values.mongodb.existingSecret | default (include "dcm.secretName" .) }}
{{- end }}
{{- define "dcm.mongodbUrlSecretKey" -}}
{{- if .Values.mongodb.existingSecret }}{{ .Values.mongodb.existingSecretKey }}{{ else }}MONGO_URL{{ end }}
{{- end }}

{{/* The bundled MongoDB's URL (credentials included when it has a root password). */}}
{{- define "dcm.mongodb.bundledUrl" -}}
{{- $auth := .Values.mongodb.bundled.auth }}
{{- if $auth.rootPassword }}
{{- printf "mongodb://%s:%s@%s:27017/?authSource=admin" $auth.rootUsername $auth.rootPassword (include "dcm.mongodb.fullname" .) }}
{{- else }}
{{- printf "mongodb://%s:27017/" (include "dcm.mongodb.fullname" .) }}
{{- end }}
{{- end }}

{{- define "dcm.encryptionSecretName" -}}
{{- .Values.encryption.existingSecret | default (include "dcm.secretName" .) }}
{{- end }}
{{- define "dcm.encryptionSecretKey" -}}
{{- if .Values.encryption.existingSecret }}{{ .Values.encryption.existingSecretKey }}{{ else }}encryption-keys{{ end }}
{{- end }}

{{- define "dcm.authTokensEnabled" -}}
{{- if or .Values.auth.tokens .Values.auth.existingSecret }}true{{- end }}
{{- end }}
{{- define "dcm.authSecretName" -}}
{{- .Values.auth.existingSecret | default (include "dcm.secretName" .) }}
{{- end }}
{{- define "dcm.authSecretKey" -}}
{{- if .Values.auth.existingSecret }}{{ .Values.auth.existingSecretKey }}{{ else }}auth-tokens{{ end }}
{{- end }}

{{/* The token file's text: a string as it is, a list as YAML. */}}
{{- define "dcm.authTokensFile" -}}
{{- if kindIs "string" .Values.auth.tokens }}{{ .Values.auth.tokens }}{{ else }}{{ toYaml .Values.auth.tokens }}{{ end }}
{{- end }}

{{- define "dcm.metricsTokenEnabled" -}}
{{- if or .Values.metrics.token .Values.metrics.existingSecret }}true{{- end }}
{{- end }}
{{- define "dcm.metricsSecretName" -}}
{{- .Values.metrics.existingSecret | default (include "dcm.secretName" .) }}
{{- end }}
{{- define "dcm.metricsSecretKey" -}}
{{- if .Values.metrics.existingSecret }}{{ .Values.metrics.existingSecretKey }}{{ else }}metrics-token{{ end }}
{{- end }}

{{/* TLS on the APIs: "true" when a TLS Secret is mounted. */}}
{{- define "dcm.tlsEnabled" -}}
{{- if or .Values.tls.existingSecret .Values.tls.certManager.enabled }}true{{- end }}
{{- end }}
{{- define "dcm.tlsSecretName" -}}
{{- .Values.tls.existingSecret | default (printf "%s-tls" (include "dcm.fullname" .)) }}
{{- end }}

{{/* A probe of values, with `scheme: HTTPS` on its httpGet when TLS is on. Takes (dict "probe" . "root" $). */}}
{{- define "dcm.probe" -}}
{{- $probe := deepCopy .probe }}
{{- if and (include "dcm.tlsEnabled" .root) $probe.httpGet }}
{{- $_ := set $probe.httpGet "scheme" "HTTPS" }}
{{- end }}
{{- toYaml $probe }}
{{- end }}

{{/*
Fails the render, with a message saying what to set, unless the values make a DCM that
can start: one MongoDB source, encryption keys in the right format, some API
authentication, and no configuration the chart owns.
*/}}
{{- define "dcm.validate" -}}
{{- $mongo := .Values.mongodb }}
{{- $sources := 0 }}
{{- if $mongo.url }}{{ $sources = add1 $sources }}{{ end }}
{{- if $mongo.existingSecret }}{{ $sources = add1 $sources }}{{ end }}
{{- if $mongo.bundled.enabled }}{{ $sources = add1 $sources }}{{ end }}
{{- if eq $sources 0 }}
{{- fail "MongoDB is required: set mongodb.url (mongodb://...), mongodb.existingSecret (a Secret holding the URL) or mongodb.bundled.enabled=true" }}
{{- end }}
{{- if gt $sources 1 }}
{{- fail "set only one of mongodb.url, mongodb.existingSecret and mongodb.bundled.enabled" }}
{{- end }}
{{- if and $mongo.url (not (regexMatch "^mongodb(\\+srv)?://" $mongo.url)) }}
{{- fail "mongodb.url must start with mongodb:// or mongodb+srv://" }}
{{- end }}
{{- if and $mongo.bundled.enabled $mongo.bundled.auth.rootPassword }}
{{- if not (regexMatch "^[A-Za-z0-9._~-]+$" $mongo.bundled.auth.rootPassword) }}
{{- fail "mongodb.bundled.auth.rootPassword may hold only A-Z a-z 0-9 . _ ~ - (it goes into the connection URL unescaped)" }}
{{- end }}
{{- if not (regexMatch "^[A-Za-z0-9._~-]+$" $mongo.bundled.auth.rootUsername) }}
{{- fail "mongodb.bundled.auth.rootUsername may hold only A-Z a-z 0-9 . _ ~ -" }}
{{- end }}
{{- end }}

{{- $enc := .Values.encryption }}
{{- if and $enc.keys $enc.existingSecret }}
{{- fail "set only one of encryption.keys and encryption.existingSecret" }}
{{- end }}
{{- if not (or $enc.keys $enc.existingSecret) }}
{{- fail "encryption keys are required (the DCM refuses to start without them): set encryption.keys to \"id:base64key\" (e.g. \"k1:$(openssl rand -base64 32)\") or encryption.existingSecret" }}
{{- end }}
{{- if $enc.keys }}
{{- $ids := dict }}
{{- range $i, $entry := splitList "," $enc.keys }}
{{- $entry = trim $entry }}
{{- if $entry }}
{{- $parts := regexFindAll "^[A-Za-z0-9_.-]{1,64}:[A-Za-z0-9+/]+={0,2}$" $entry 1 }}
{{- if not $parts }}
{{- fail (printf "encryption.keys entry %d: expected id:base64key (id of 1-64 A-Z a-z 0-9 _ . -)" (add1 $i)) }}
{{- end }}
{{- $id := regexReplaceAll ":.*$" $entry "" }}
{{- $key := regexReplaceAll "^[^:]*:" $entry "" }}
{{- if ne (len (b64dec $key)) 32 }}
{{- fail (printf "encryption.keys: key %q must be 32 bytes, base64-encoded (openssl rand -base64 32)" $id) }}
{{- end }}
{{- if hasKey $ids $id }}
{{- fail (printf "encryption.keys: the id %q is used twice" $id) }}
{{- end }}
{{- $_ := set $ids $id true }}
{{- end }}
{{- end }}
{{- if eq (len $ids) 0 }}
{{- fail "encryption.keys holds no key" }}
{{- end }}
{{- end }}

{{- $auth := .Values.auth }}
{{- if and $auth.tokens $auth.existingSecret }}
{{- fail "set only one of auth.tokens and auth.existingSecret" }}
{{- end }}
{{- if and $auth.oidc.issuer (not $auth.oidc.audience) }}
{{- fail "auth.oidc.audience is required with auth.oidc.issuer" }}
{{- end }}
{{- if and (or $auth.oidc.audience $auth.oidc.jwksUrl) (not $auth.oidc.issuer) }}
{{- fail "auth.oidc.audience and auth.oidc.jwksUrl need auth.oidc.issuer" }}
{{- end }}
{{- if and $auth.tokens (not (or (kindIs "string" $auth.tokens) (kindIs "slice" $auth.tokens))) }}
{{- fail "auth.tokens must be a list of token entries (or the token file's YAML text)" }}
{{- end }}
{{- if not (or $auth.tokens $auth.existingSecret $auth.oidc.issuer) }}
{{- fail "API authentication is required: set auth.tokens or auth.existingSecret (static API tokens), or auth.oidc.issuer and auth.oidc.audience (OIDC)" }}
{{- end }}

{{- if and .Values.metrics.token .Values.metrics.existingSecret }}
{{- fail "set only one of metrics.token and metrics.existingSecret" }}
{{- end }}
{{- if and .Values.metrics.token (not (regexMatch "^\\S{16,}$" .Values.metrics.token)) }}
{{- fail "metrics.token must be at least 16 characters without white space" }}
{{- end }}

{{- $tls := .Values.tls }}
{{- if and $tls.existingSecret $tls.certManager.enabled }}
{{- fail "set only one of tls.existingSecret and tls.certManager.enabled" }}
{{- end }}
{{- if and $tls.certManager.enabled (not $tls.certManager.issuerRef.name) }}
{{- fail "tls.certManager.issuerRef.name is required with tls.certManager.enabled (the Issuer or ClusterIssuer that signs the certificate)" }}
{{- end }}
{{- if and $tls.clientCa.existingSecret (not (include "dcm.tlsEnabled" .)) }}
{{- fail "tls.clientCa.existingSecret needs TLS: set tls.existingSecret or tls.certManager.enabled" }}
{{- end }}

{{- $owned := list "MONGO_URL" "DCM_HTTP_PORT" "DCM_GRPC_PORT" "DCM_REPLICA_ID" "DCM_ENCRYPTION_KEYS_FILE" "DCM_AUTH_TOKENS_FILE" "DCM_METRICS_TOKEN_FILE" "DCM_CA_CERT_FILE" "DCM_CA_KEY_FILE" "DCM_CA_CHAIN_FILE" "DCM_TLS_CERT_FILE" "DCM_TLS_KEY_FILE" "DCM_GRPC_CLIENT_CA_FILE" }}
{{- $owned = concat $owned (list "DCM_OIDC_ISSUER" "DCM_OIDC_AUDIENCE" "DCM_OIDC_JWKS_URL" "DCM_OIDC_ROLES_CLAIM" "DCM_OIDC_PROJECTS_CLAIM" "DCM_OIDC_LOGICAL_CLOUDS_CLAIM" "DCM_OIDC_NAME_CLAIM" "DCM_OIDC_CLOCK_TOLERANCE_SECONDS") }}
{{- range $key, $_ := .Values.config }}
{{- if eq $key "DCM_DEVELOPMENT_MODE" }}
{{- fail "config.DCM_DEVELOPMENT_MODE must not be set in a deployment (it allows running unencrypted and unauthenticated)" }}
{{- end }}
{{- if eq $key "DCM_ENCRYPTION_KEYS" }}
{{- fail "config.DCM_ENCRYPTION_KEYS would put the keys in a ConfigMap: use encryption.keys or encryption.existingSecret" }}
{{- end }}
{{- if has $key $owned }}
{{- fail (printf "config.%s is set by the chart; see the comments in values.yaml" $key) }}
{{- end }}
{{- end }}
{{- range .Values.extraEnv }}
{{- if has .name (list "DCM_DEVELOPMENT_MODE" "DCM_ENCRYPTION_KEYS") }}
{{- fail (printf "extraEnv: %s must not be set in a deployment" .name) }}
{{- end }}
{{- end }}
{{- if eq (toString (dig "DCM_LOG_PRETTY" "false" (.Values.config | default dict))) "true" }}
{{- fail "config.DCM_LOG_PRETTY=true needs pino-pretty, a development dependency that is not in the image" }}
{{- end }}

{{- $pdb := .Values.podDisruptionBudget }}
{{- if $pdb.enabled }}
{{- $min := "" }}
{{- if not (kindIs "invalid" $pdb.minAvailable) }}{{ $min = toString $pdb.minAvailable }}{{ end }}
{{- $max := "" }}
{{- if not (kindIs "invalid" $pdb.maxUnavailable) }}{{ $max = toString $pdb.maxUnavailable }}{{ end }}
{{- if and (ne $min "") (ne $max "") }}
{{- fail "podDisruptionBudget: set only one of minAvailable and maxUnavailable" }}
{{- end }}
{{- end }}
{{- end }}
