{{/* Pieces every Airflow pod shares: env, envFrom, volumes, the wait-for-migrations init container. */}}

{{/*
Which credentials each Airflow component gets: only what it uses (docs/kubernetes.md, threat model).
The metadata database URI goes to every one of them; beyond that:
  fernet-key      decrypts what the metadata DB holds encrypted
  jwt-secret      signs/verifies the tokens of the execution API (task processes, triggerer, callbacks)
  api-secret-key  signs/verifies the requests for task logs served by the scheduler and triggerer
  warehouse       the `postgres_warehouse` connection: where tasks run (the scheduler, LocalExecutor)
  tasks           the task-pod settings the DAG files read when they are parsed or run
*/}}
{{- define "customer360.airflow.grants" -}}
{{- $grants := dict
  "api-server" (list "fernet-key" "jwt-secret" "api-secret-key")
  "scheduler" (list "fernet-key" "jwt-secret" "api-secret-key" "warehouse" "tasks")
  "dag-processor" (list "fernet-key" "jwt-secret" "tasks")
  "triggerer" (list "fernet-key" "jwt-secret" "api-secret-key")
  "migrate" (list "fernet-key")
  "wait-for-migrations" (list) }}
{{- get $grants . | toJson }}
{{- end }}

{{/*
Environment of one Airflow container. Call with (list $ "<component>"). The two task image
references are literal env values on purpose: Tilt's match_in_env_vars swaps them for the images it
has just built.
*/}}
{{- define "customer360.airflow.env" -}}
{{- $root := index . 0 }}
{{- $grants := include "customer360.airflow.grants" (index . 1) | fromJsonArray }}
- name: AIRFLOW_HOME
  value: /opt/airflow
- name: AIRFLOW_CONFIG
  value: /opt/airflow/config/airflow.cfg
- name: PYTHONDONTWRITEBYTECODE
  value: "1"
- name: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN
  valueFrom:
    secretKeyRef:
      name: {{ include "customer360.airflow.connectionsSecretName" $root }}
      key: AIRFLOW__DATABASE__SQL_ALCHEMY_CONN
{{- range $key, $var := dict "fernet-key" "AIRFLOW__CORE__FERNET_KEY" "jwt-secret" "AIRFLOW__API_AUTH__JWT_SECRET" "api-secret-key" "AIRFLOW__API__SECRET_KEY" }}
{{- if has $key $grants }}
- name: {{ $var }}
  valueFrom:
    secretKeyRef:
      name: {{ include "customer360.airflow.secretName" $root }}
      key: {{ $key }}
{{- end }}
{{- end }}
{{- if has "warehouse" $grants }}
- name: AIRFLOW_CONN_POSTGRES_WAREHOUSE
  valueFrom:
    secretKeyRef:
      name: {{ include "customer360.airflow.connectionsSecretName" $root }}
      key: AIRFLOW_CONN_POSTGRES_WAREHOUSE
{{- end }}
{{- if has "tasks" $grants }}
- name: C360_TASK_RUNTIME
  value: kubernetes
- name: C360_PIPELINE_IMAGE
  value: {{ include "customer360.image" (list $root "pipeline") | quote }}
- name: C360_DBT_IMAGE
  value: {{ include "customer360.image" (list $root "dbt") | quote }}
- name: C360_K8S_NAMESPACE
  value: {{ include "customer360.tasks.namespace" $root | quote }}
- name: C360_TASK_SECRET_NAME
  value: {{ include "customer360.tasks.secretName" $root | quote }}
- name: C360_DBT_TASK_SECRET_NAME
  value: {{ include "customer360.tasks.dbtSecretName" $root | quote }}
- name: C360_TASK_CONFIGMAP_NAME
  value: {{ include "customer360.tasks.configMapName" $root | quote }}
- name: C360_TASK_SERVICE_ACCOUNT_NAME
  value: {{ include "customer360.tasks.serviceAccountName" $root | quote }}
{{- if $root.Values.docs.enabled }}
- name: C360_DOCS_PVC_NAME
  value: {{ include "customer360.docs.pvcName" $root | quote }}
- name: C360_DOCS_MOUNT_PATH
  value: {{ $root.Values.docs.mountPath | quote }}
{{- end }}
{{- end }}
{{- with $root.Values.airflow.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Mounts of every Airflow container: the config file and the writable places. */}}
{{- define "customer360.airflow.volumeMounts" -}}
- name: config
  mountPath: /opt/airflow/config
  readOnly: true
- name: logs
  mountPath: /opt/airflow/logs
- name: tmp
  mountPath: /tmp
{{- end }}

{{- define "customer360.airflow.volumes" -}}
- name: config
  configMap:
    name: {{ include "customer360.airflow.configMapName" . }}
- name: logs
{{- if .Values.airflow.logs.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ include "customer360.airflow.logsPvcName" . }}
{{- else }}
  emptyDir:
    sizeLimit: 2Gi
{{- end }}
- name: tmp
  emptyDir:
    sizeLimit: 1Gi
{{- end }}

{{/* Pod-level settings shared by every Airflow pod. */}}
{{- define "customer360.airflow.podSpecCommon" -}}
enableServiceLinks: false
{{- include "customer360.imagePullSecrets" . }}
securityContext:
  {{- include "customer360.podSecurityContext" .Values.airflow.identity | nindent 2 }}
{{- end }}

{{/* Pod template metadata: labels (the airflow client label opens the NetworkPolicies) and config checksum. */}}
{{- define "customer360.airflow.podMetadata" -}}
{{- $root := index . 0 -}}
labels:
  {{- include "customer360.labels" (list $root (printf "airflow-%s" (index . 1))) | nindent 2 }}
  {{- include "customer360.airflowClientLabel" $root | nindent 2 }}
annotations:
  checksum/config: {{ include (print $root.Template.BasePath "/airflow/airflow-configmap.yaml") $root | sha256sum }}
{{- end }}

{{/*
Container securityContext of one Airflow component. Call with (list $ "<component>"). Read-only
root filesystem, except for the two components Tilt's live update writes DAG files into.
*/}}
{{- define "customer360.airflow.containerSecurityContext" -}}
{{- $root := index . 0 }}
{{- $writable := and $root.Values.airflow.liveUpdate (has (index . 1) (list "scheduler" "dag-processor")) }}
{{- include "customer360.containerSecurityContext" (list $root.Values.airflow.identity (not $writable)) }}
{{- end }}

{{/*
Init container that holds a component until `airflow db migrate` (the migration Job) has run. It
first waits for the metadata database to answer: on a first install PostgreSQL is still running
initdb, and `check-migrations` would exit at once (a restart of the init container) instead.
*/}}
{{- define "customer360.airflow.waitForMigrations" -}}
- name: wait-for-migrations
  image: {{ include "customer360.image" (list . "airflow") }}
  imagePullPolicy: {{ .Values.imagePullPolicy }}
  securityContext:
    {{- include "customer360.airflow.containerSecurityContext" (list . "wait-for-migrations") | nindent 4 }}
  command: ["/bin/bash", "-ec"]
  args:
    - |
      for attempt in $(seq 1 180); do
        airflow db check >/dev/null 2>&1 && break
        echo "metadata database not reachable yet (attempt $attempt/180)"; sleep 5
      done
      exec airflow db check-migrations --migration-wait-timeout=900
  env:
    {{- include "customer360.airflow.env" (list . "wait-for-migrations") | nindent 4 }}
  resources:
    {{- toYaml .Values.airflow.migrationJob.resources | nindent 4 }}
  volumeMounts:
    {{- include "customer360.airflow.volumeMounts" . | nindent 4 }}
{{- end }}

{{/* Exec probe that asks the metadata DB whether this pod's job is alive. Call with (list $ "SchedulerJob"). */}}
{{- define "customer360.airflow.jobCheckProbe" -}}
exec:
  command: ["airflow", "jobs", "check", "--job-type", {{ index . 1 | quote }}, "--local"]
initialDelaySeconds: 30
periodSeconds: 60
timeoutSeconds: 45
failureThreshold: 5
{{- end }}
