#!/bin/sh
# Large inputs through `tollgate kube scan`, timed with GNU time:
#   annotation.yaml  one Deployment carrying a 20 MB annotation value
#   stream.yaml      a 20 MB stream of many small Deployments
#
#   bench/kubehuge/run.sh [WORKDIR]
set -eu
cd "$(dirname "$0")/../.."
dir=${1:-$(mktemp -d)}
mkdir -p "$dir"
make -s build

deployment() { # NAME [ANNOTATION-FILE]
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $1
  namespace: bench
YAML
  if [ $# -gt 1 ]; then
    printf '  annotations:\n    example.com/blob: "'
    cat "$2"
    printf '"\n'
  fi
  cat <<YAML
spec:
  replicas: 2
  selector:
    matchLabels: {app: $1}
  template:
    metadata:
      labels: {app: $1}
    spec:
      serviceAccountName: $1
      securityContext: {runAsNonRoot: true, runAsUser: 10001}
      containers:
        - name: app
          image: registry.example/$1:1.0
          resources:
            requests: {cpu: 100m, memory: 64Mi}
            limits: {cpu: 500m, memory: 128Mi}
          securityContext:
            readOnlyRootFilesystem: true
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
YAML
}

head -c 20000000 /dev/zero | tr '\0' 'a' > "$dir/blob"
deployment big "$dir/blob" > "$dir/annotation.yaml"
rm "$dir/blob"

# the stream: copies of one Deployment, each with its own name
deployment NAME > "$dir/one.yaml"
awk -v size=20000000 '
  { doc = doc $0 "\n" }
  END {
    for (n = 0; total < size; n++) {
      d = doc; gsub(/NAME/, "web-" n, d)
      printf "---\n%s", d
      total += length(d) + 4
    }
  }' "$dir/one.yaml" > "$dir/stream.yaml"
rm "$dir/one.yaml"

ls -l "$dir/annotation.yaml" "$dir/stream.yaml"
grep -c '^kind: Deployment' "$dir/stream.yaml"
for f in annotation stream; do
  echo "== $f"
  /usr/bin/time -v ./bin/tollgate kube scan "$dir/$f.yaml" > "$dir/$f.json" 2> "$dir/$f.time" || true
  grep -E 'Elapsed|Maximum resident|Exit status' "$dir/$f.time"
  grep -c '"object"' "$dir/$f.json"
done
