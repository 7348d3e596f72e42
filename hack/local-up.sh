#!/usr/bin/env bash
# Starts edgecore in the foreground with embedded defaults, loads the demo data
# once it is up, and writes a kubeconfig for kubectl. Used by `make run`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/bin}
DATA_DIR=${DATA_DIR:-$PWD/_output/run}
ADDRESS=${ADDRESS:-127.0.0.1:10550}
mkdir -p "$DATA_DIR"

"$BIN/edgecore" --data-dir "$DATA_DIR" --lwserver-address "$ADDRESS" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM

for _ in $(seq 1 100); do
  if curl -fsS "http://$ADDRESS/readyz" >/dev/null 2>&1 && [ -S "$DATA_DIR/edgecore.sock" ]; then break; fi
  sleep 0.1
done
"$BIN/edgecore" inject --data-dir "$DATA_DIR" -f hack/demo/demo.ndjson >/dev/null

cat >"$DATA_DIR/kubeconfig.dev" <<KCFG
apiVersion: v1
kind: Config
clusters:
- name: edgecore
  cluster: {server: "http://$ADDRESS"}
contexts:
- name: edgecore
  context: {cluster: edgecore, user: local}
users:
- name: local
  user: {}
current-context: edgecore
KCFG

cat <<MSG

edgecore is serving on http://$ADDRESS with the demo data (data dir $DATA_DIR).
  curl http://$ADDRESS/api/v1/pods
  $BIN/kubectl --kubeconfig $DATA_DIR/kubeconfig.dev get pods -A
Ctrl-C stops it.
MSG
wait $pid
