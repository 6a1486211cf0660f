{{- define "latchkey.name" -}}{{ .Release.Name }}-latchkey{{- end -}}
{{- define "latchkey.labels" -}}
app.kubernetes.io/name: latchkey
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
