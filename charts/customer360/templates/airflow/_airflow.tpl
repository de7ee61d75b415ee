{{/* Pieces every Airflow pod shares: env, envFrom, volumes, the wait-for-migrations init container. */}}

{{/*
Environment of every Airflow container: Airflow's secrets, and the task-pod configuration the DAG's
task factory reads (customer360/settings.py: C360_<FIELD>). The two task image references are literal
env values on purpose: Tilt's match_in_env_vars swaps them for the images it has just built.
*/}}
{{- define "customer360.airflow.env" -}}
- name: AIRFLOW_HOME
  value: /opt/airflow
- name: AIRFLOW_CONFIG
  value: /opt/airflow/config/airflow.cfg
- name: PYTHONDONTWRITEBYTECODE
  value: "1"
{{- range $key, $var := dict "fernet-key" "AIRFLOW__CORE__FERNET_KEY" "jwt-secret" "AIRFLOW__API_AUTH__JWT_SECRET" "api-secret-key" "AIRFLOW__API__SECRET_KEY" }}
- name: {{ $var }}
  valueFrom:
    secretKeyRef:
      name: {{ include "customer360.airflow.secretName" $ }}
      key: {{ $key }}
{{- end }}
- name: C360_TASK_RUNTIME
  value: kubernetes
- name: C360_PIPELINE_IMAGE
  value: {{ include "customer360.image" (list . "pipeline") | quote }}
- name: C360_DBT_IMAGE
  value: {{ include "customer360.image" (list . "dbt") | quote }}
- name: C360_K8S_NAMESPACE
  value: {{ .Release.Namespace | quote }}
- name: C360_TASK_SECRET_NAME
  value: {{ include "customer360.tasks.secretName" . | quote }}
- name: C360_DBT_TASK_SECRET_NAME
  value: {{ include "customer360.tasks.dbtSecretName" . | quote }}
- name: C360_TASK_CONFIGMAP_NAME
  value: {{ include "customer360.tasks.configMapName" . | quote }}
- name: C360_TASK_SERVICE_ACCOUNT_NAME
  value: {{ include "customer360.tasks.serviceAccountName" . | quote }}
{{- if .Values.docs.enabled }}
- name: C360_DOCS_PVC_NAME
  value: {{ include "customer360.docs.pvcName" . | quote }}
- name: C360_DOCS_MOUNT_PATH
  value: {{ .Values.docs.mountPath | quote }}
{{- end }}
{{- with .Values.airflow.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The connections and the metadata DB URI, imported whole from their Secret. */}}
{{- define "customer360.airflow.envFrom" -}}
- secretRef:
    name: {{ include "customer360.airflow.connectionsSecretName" . }}
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

{{/* Container securityContext of Airflow's containers. */}}
{{- define "customer360.airflow.containerSecurityContext" -}}
{{- include "customer360.containerSecurityContext" (list .Values.airflow.identity .Values.airflow.readOnlyRootFilesystem) }}
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
    {{- include "customer360.airflow.containerSecurityContext" . | nindent 4 }}
  command: ["/bin/bash", "-ec"]
  args:
    - |
      for attempt in $(seq 1 180); do
        airflow db check >/dev/null 2>&1 && break
        echo "metadata database not reachable yet (attempt $attempt/180)"; sleep 5
      done
      exec airflow db check-migrations --migration-wait-timeout=900
  env:
    {{- include "customer360.airflow.env" . | nindent 4 }}
  envFrom:
    {{- include "customer360.airflow.envFrom" . | nindent 4 }}
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
