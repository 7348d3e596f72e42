#!/usr/bin/env bash
# Starts edgecore in the foreground with embedded defaults (HTTPS, client
# certificates, local RBAC: docs/security.md), loads the demo data once it is
# up, and prints the kubeconfig command. Used by `make run`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/bin}
DATA_DIR=${DATA_DIR:-$PWD/_output/run}
ADDRESS=${ADDRESS:-127.0.0.1:10550}
mkdir -p "$DATA_DIR"

"$BIN/edgecore" --data-dir "$DATA_DIR" --lwserver-address "$ADDRESS" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM

# edgecore writes the admin kubeconfig (client certificate in system:masters,
# its CA) once it listens; /readyz is open to anonymous requests.
KUBECONFIG_FILE="$DATA_DIR/kubeconfig"
for _ in $(seq 1 100); do
  if [ -s "$KUBECONFIG_FILE" ] && [ -S "$DATA_DIR/edgecore.sock" ] &&
    curl -fsS --cacert "$DATA_DIR/pki/ca.crt" "https://$ADDRESS/readyz" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
"$BIN/edgecore" inject --data-dir "$DATA_DIR" -f hack/demo/demo.ndjson >/dev/null

cat <<MSG

edgecore is serving on https://$ADDRESS with the demo data (data dir $DATA_DIR).
  $BIN/kubectl --kubeconfig $KUBECONFIG_FILE get pods -A
  $BIN/kubectl --kubeconfig $KUBECONFIG_FILE auth whoami
  curl --cacert $DATA_DIR/pki/ca.crt --cert $DATA_DIR/pki/admin.crt --key $DATA_DIR/pki/admin.key https://$ADDRESS/api/v1/pods
Ctrl-C stops it.
MSG
wait $pid
