{{/*
Every name, label, image reference and Secret name of the chart is built here, so a rename happens in
one place and templates never spell a name twice.
*/}}

{{/* Chart name, overridable with nameOverride. */}}
{{- define "customer360.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every resource name: fullnameOverride, else the release name (with the chart name appended
when the release name does not contain it). Release `customer360` gives `customer360-...`, the names
customer360/settings.py expects by default.
*/}}
{{- define "customer360.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of one component's resources: <fullname>-<component>. Call with (list $ "component"). */}}
{{- define "customer360.componentName" -}}
{{- $root := index . 0 }}
{{- printf "%s-%s" (include "customer360.fullname" $root) (index . 1) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select one component's pods. Call with (list $ "component"). */}}
{{- define "customer360.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "customer360.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/*
Labels of every object: the selector labels plus version, manager and `part-of: customer360`
(docs/interfaces.md, Names; the task pods carry the same part-of label). Call with (list $ "component").
*/}}
{{- define "customer360.labels" -}}
{{- $root := index . 0 -}}
{{ include "customer360.selectorLabels" . }}
app.kubernetes.io/part-of: customer360
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_" }}
{{- end }}

{{/* Pod label that the NetworkPolicies use to let Airflow's pods reach the warehouse and lake. */}}
{{- define "customer360.airflowClientLabel" -}}
customer360/client: airflow
{{- end }}

{{/* Image reference repository:tag[@digest]. Call with (list $ "pipeline"|"dbt"|"airflow"|...). */}}
{{- define "customer360.image" -}}
{{- $image := index (index . 0).Values.images (index . 1) }}
{{- if $image.digest }}
{{- printf "%s:%s@%s" $image.repository $image.tag $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository $image.tag }}
{{- end }}
{{- end }}

{{/* imagePullSecrets block of a pod spec (empty when there are none). */}}
{{- define "customer360.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* Pod securityContext of the restricted Pod Security Standard. Call with an identity dict. */}}
{{- define "customer360.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .runAsUser }}
runAsGroup: {{ .runAsGroup }}
fsGroup: {{ .fsGroup }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Container securityContext: non-root, no escalation, no capabilities. Call with (list identity readOnly). */}}
{{- define "customer360.containerSecurityContext" -}}
{{- $identity := index . 0 -}}
runAsNonRoot: true
runAsUser: {{ $identity.runAsUser }}
runAsGroup: {{ $identity.runAsGroup }}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: {{ index . 1 }}
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* ---- warehouse ------------------------------------------------------------------------- */}}
{{- define "customer360.warehouse.fullname" -}}
{{- include "customer360.componentName" (list . "warehouse") }}
{{- end }}

{{/*
Host name of the warehouse (its Service), qualified with the namespace: the task pods run in the
tasks namespace and resolve it from there.
*/}}
{{- define "customer360.warehouse.host" -}}
{{- printf "%s.%s.svc" (include "customer360.warehouse.fullname" .) .Release.Namespace }}
{{- end }}

{{- define "customer360.warehouse.secretName" -}}
{{- .Values.warehouse.auth.existingSecret | default (include "customer360.warehouse.fullname" .) }}
{{- end }}

{{/* ---- lake ------------------------------------------------------------------------------ */}}
{{- define "customer360.lake.fullname" -}}
{{- include "customer360.componentName" (list . "lake") }}
{{- end }}

{{- define "customer360.lake.consoleName" -}}
{{- include "customer360.componentName" (list . "lake-console") }}
{{- end }}

{{/* The S3 endpoint every client uses: the MinIO Service, or lake.endpoint for an external S3. */}}
{{- define "customer360.lake.endpoint" -}}
{{- if eq .Values.lake.provider "minio" }}
{{- printf "http://%s.%s.svc:%d" (include "customer360.lake.fullname" .) .Release.Namespace (.Values.lake.minio.apiService.port | int) }}
{{- else }}
{{- .Values.lake.endpoint }}
{{- end }}
{{- end }}

{{- define "customer360.lake.secretName" -}}
{{- .Values.lake.auth.existingSecret | default (include "customer360.lake.fullname" .) }}
{{- end }}

{{/* ---- airflow --------------------------------------------------------------------------- */}}
{{/* Name of one Airflow component: <fullname>-airflow-<part>. Call with (list $ "scheduler"). */}}
{{- define "customer360.airflow.name" -}}
{{- include "customer360.componentName" (list (index . 0) (printf "airflow-%s" (index . 1))) }}
{{- end }}

{{- define "customer360.airflow.serviceAccountName" -}}
{{- include "customer360.componentName" (list . "airflow") }}
{{- end }}

{{- define "customer360.airflow.secretName" -}}
{{- .Values.airflow.auth.existingSecret | default (include "customer360.componentName" (list . "airflow")) }}
{{- end }}

{{- define "customer360.airflow.connectionsSecretName" -}}
{{- .Values.airflow.connections.existingSecret | default (include "customer360.componentName" (list . "airflow-connections")) }}
{{- end }}

{{- define "customer360.airflow.logsPvcName" -}}
{{- include "customer360.componentName" (list . "airflow-logs") }}
{{- end }}

{{- define "customer360.airflow.configMapName" -}}
{{- include "customer360.componentName" (list . "airflow-config") }}
{{- end }}

{{/* In-cluster URL of the API server, which task processes call (the execution API). */}}
{{- define "customer360.airflow.apiServerUrl" -}}
{{- printf "http://%s:%d" (include "customer360.airflow.name" (list . "api-server")) (.Values.airflow.apiServer.service.port | int) }}
{{- end }}

{{/* ---- tasks ----------------------------------------------------------------------------- */}}
{{/* Namespace of the task pods (and of everything they need, and of the docs site they write). */}}
{{- define "customer360.tasks.namespace" -}}
{{- .Values.tasks.namespace | default (printf "%s-tasks" .Release.Namespace) }}
{{- end }}

{{/* Pod Security Admission labels of a namespace the chart creates. */}}
{{- define "customer360.podSecurityLabels" -}}
pod-security.kubernetes.io/enforce: {{ .Values.podSecurity.level }}
pod-security.kubernetes.io/enforce-version: latest
pod-security.kubernetes.io/warn: {{ .Values.podSecurity.level }}
pod-security.kubernetes.io/audit: {{ .Values.podSecurity.level }}
{{- end }}

{{/* Role (in the tasks namespace) that lets the scheduler launch, watch and delete task pods. */}}
{{- define "customer360.tasks.launcherRoleName" -}}
{{- include "customer360.componentName" (list . "pod-launcher") }}
{{- end }}
{{/* Secret the loader/datagen task pods import with envFrom (C360_TASK_SECRET_NAME). */}}
{{- define "customer360.tasks.secretName" -}}
{{- .Values.tasks.existingSecret | default (include "customer360.componentName" (list . "task-credentials")) }}
{{- end }}

{{/* Secret the dbt task pods import with envFrom (C360_DBT_TASK_SECRET_NAME). */}}
{{- define "customer360.tasks.dbtSecretName" -}}
{{- .Values.tasks.existingDbtSecret | default (include "customer360.componentName" (list . "task-credentials-dbt")) }}
{{- end }}

{{/* ConfigMap every task pod imports with envFrom (C360_TASK_CONFIGMAP_NAME). */}}
{{- define "customer360.tasks.configMapName" -}}
{{- include "customer360.componentName" (list . "task-config") }}
{{- end }}

{{/* CronJob that deletes finished task pods once their retention has passed. */}}
{{- define "customer360.tasks.podReaperName" -}}
{{- include "customer360.componentName" (list . "task-pod-reaper") }}
{{- end }}

{{/* ServiceAccount of the task pods: no API token, no permissions. */}}
{{- define "customer360.tasks.serviceAccountName" -}}
{{- include "customer360.componentName" (list . "task") }}
{{- end }}

{{/* ---- docs ------------------------------------------------------------------------------ */}}
{{- define "customer360.docs.fullname" -}}
{{- include "customer360.componentName" (list . "docs") }}
{{- end }}

{{/* PVC the dbt_docs_generate task writes the site to and the docs server reads. */}}
{{- define "customer360.docs.pvcName" -}}
{{- include "customer360.componentName" (list . "dbt-docs") }}
{{- end }}

{{/* ---- credentials ----------------------------------------------------------------------- */}}
{{/*
One key of a Secret, stable across `helm upgrade` and consistent within one render.
Call with (dict "root" $ "secret" <name> "key" <key> "provided" <bool> "length" <n>).
Order: the value already in the cluster (lookup) > a value this render already produced > when the
Secret is one the user provides (`provided`), a clear failure, since the chart cannot invent its
content > a new random alphanumeric string (URL-safe, so it can sit in connection URIs).
`helm template` has no cluster, so there lookup finds nothing and chart-made values are new each run;
`helm install/upgrade` and Tilt (which renders with --dry-run=server) find and keep them.
*/}}
{{- define "customer360.credential" -}}
{{- $root := .root }}
{{- if not (hasKey $root "customer360Credentials") }}
{{- $_ := set $root "customer360Credentials" dict }}
{{- end }}
{{- $cache := get $root "customer360Credentials" }}
{{- $id := printf "%s/%s" .secret .key }}
{{- if not (hasKey $cache $id) }}
{{- $value := "" }}
{{- $found := lookup "v1" "Secret" $root.Release.Namespace .secret }}
{{- if and (not .provided) (not (include "customer360.clusterVisible" $root)) (not $root.Values.allowEphemeralCredentials) }}
{{- fail (printf "cannot read the cluster to keep the generated credential %s/%s (helm template, --dry-run=client or a GitOps renderer): every render would invent a new one and break the databases that already use it. Render against the cluster (helm install/upgrade, --dry-run=server), name existing Secrets (warehouse.auth.existingSecret, lake.auth.existingSecret, airflow.auth.existingSecret, airflow.connections.existingSecret, tasks.existingSecret, tasks.existingDbtSecret), or set allowEphemeralCredentials=true for a throw-away render" .secret .key) }}
{{- end }}
{{- $data := dict }}
{{- if $found }}{{ $data = $found.data | default dict }}{{ end }}
{{- if hasKey $data .key }}
{{- $value = index $data .key | b64dec }}
{{- else if .provided }}
{{- fail (printf "the Secret %q (key %q) must exist in namespace %q before the chart can build the Secrets derived from it; create it first, or also name existing Secrets for airflow.connections.existingSecret, tasks.existingSecret and tasks.existingDbtSecret" .secret .key $root.Release.Namespace) }}
{{- else if eq (.format | default "") "fernet" }}
{{- /* A Fernet key is the URL-safe base64 of 32 random bytes. */}}
{{- $value = randAlphaNum 32 | b64enc | replace "+" "-" | replace "/" "_" }}
{{- else }}
{{- $value = randAlphaNum (int (.length | default 32)) }}
{{- end }}
{{- $_ := set $cache $id $value }}
{{- end }}
{{- get $cache $id }}
{{- end }}

{{/*
"true" when this render can read the cluster: the kube-system namespace exists in every cluster, and
lookup returns nothing at all under helm template or --dry-run=client.
*/}}
{{- define "customer360.clusterVisible" -}}
{{- if lookup "v1" "Namespace" "" "kube-system" }}true{{ end }}
{{- end }}

{{/* A warehouse credential (key of the warehouse Secret). Call with (list $ "loader-password"). */}}
{{- define "customer360.warehouse.credential" -}}
{{- $root := index . 0 }}
{{- include "customer360.credential" (dict "root" $root "secret" (include "customer360.warehouse.secretName" $root) "key" (index . 1) "provided" (ne $root.Values.warehouse.auth.existingSecret "")) }}
{{- end }}

{{/* A lake credential (key of the lake Secret). Call with (list $ "access-key-id"). */}}
{{- define "customer360.lake.credential" -}}
{{- $root := index . 0 }}
{{- $length := 32 }}
{{- if has (index . 1) (list "access-key-id" "root-user") }}{{ $length = 20 }}{{ end }}
{{- include "customer360.credential" (dict "root" $root "secret" (include "customer360.lake.secretName" $root) "key" (index . 1) "provided" (ne $root.Values.lake.auth.existingSecret "") "length" $length) }}
{{- end }}

{{/* An Airflow credential (key of the Airflow Secret). Call with (list $ "jwt-secret"). */}}
{{- define "customer360.airflow.credential" -}}
{{- $root := index . 0 }}
{{- $format := ternary "fernet" "" (eq (index . 1) "fernet-key") }}
{{- include "customer360.credential" (dict "root" $root "secret" (include "customer360.airflow.secretName" $root) "key" (index . 1) "provided" (ne $root.Values.airflow.auth.existingSecret "") "format" $format) }}
{{- end }}

{{/* Role name of a warehouse role key (loader|dbt|analyst). Call with (list $ "dbt"). */}}
{{- define "customer360.warehouse.role" -}}
{{- index (index . 0).Values.warehouse.roles (index . 1) }}
{{- end }}

{{/* ---- network policies ----------------------------------------------------------------- */}}
{{/* Peer: the task pods (label customer360/step) in the tasks namespace. */}}
{{- define "customer360.networkPolicy.taskPods" -}}
- namespaceSelector:
    matchLabels:
      kubernetes.io/metadata.name: {{ include "customer360.tasks.namespace" . }}
  podSelector:
    matchExpressions:
      - key: customer360/step
        operator: Exists
    matchLabels:
      app.kubernetes.io/part-of: customer360
{{- end }}

{{/* Peer: Airflow's pods of this release (they carry the airflow client label). */}}
{{- define "customer360.networkPolicy.airflowPods" -}}
- podSelector:
    matchLabels:
      app.kubernetes.io/instance: {{ .Release.Name }}
      {{- include "customer360.airflowClientLabel" . | nindent 6 }}
{{- end }}

{{/* Peer: the pods of one component of this release. Call with (list $ "component"). */}}
{{- define "customer360.networkPolicy.component" -}}
- podSelector:
    matchLabels:
      {{- include "customer360.selectorLabels" . | nindent 6 }}
{{- end }}

{{/*
Egress rule to the Kubernetes API server: its endpoints' addresses (networkPolicy.apiServer.cidrs,
else read from the `kubernetes` Service's EndpointSlice at install time: policies see the address
after the Service's translation), on their ports. Without a cluster to read, any address on the ports.
*/}}
{{- define "customer360.networkPolicy.apiServerEgress" -}}
{{- $cidrs := .Values.networkPolicy.apiServer.cidrs }}
{{- $ports := .Values.networkPolicy.apiServer.ports }}
{{- if not $cidrs }}
{{- $slice := lookup "discovery.k8s.io/v1" "EndpointSlice" "default" "kubernetes" }}
{{- range ($slice.endpoints | default list) }}
{{- range (.addresses | default list) }}{{ $cidrs = append $cidrs (printf "%s/32" .) }}{{ end }}
{{- end }}
{{- range ($slice.ports | default list) }}{{ $ports = append $ports (int .port) }}{{ end }}
{{- end }}
- ports:
    {{- range (uniq $ports) }}
    - protocol: TCP
      port: {{ . }}
    {{- end }}
  {{- with $cidrs }}
  to:
    {{- range . }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  {{- end }}
{{- end }}
