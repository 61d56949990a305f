#!/bin/sh
# Load test of `tollgate kube http`: POST /scan over loopback, plain HTTP,
# 2 keep-alive connections, 10 s, with wrk (Debian package `wrk`).
#
#   bench/kubehttp/run.sh [BODY]
#
# BODY defaults to the guestbook redis-master Deployment of the shared corpus.
set -eu
cd "$(dirname "$0")/../.."
BODY=${1:-../shared/data/manifests/kubernetes-examples/web/guestbook/redis-master-deployment.yaml}
export BODY
PORT=${PORT:-18080}
make -s build
./bin/tollgate kube http "127.0.0.1:$PORT" 2>/tmp/tollgate-kubehttp.log &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for _ in 1 2 3 4 5 6 7 8 9 10; do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
  sleep 0.2
done
# one request to show the reply is a real scan
curl -fsS --data-binary @"$BODY" "http://127.0.0.1:$PORT/scan" | head -c 300; echo
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; } # server user+system time, in ticks
before=$(cpu)
uptime
wrk -t2 -c2 -d10s --latency -s bench/kubehttp/post.lua "http://127.0.0.1:$PORT/scan" | tee /tmp/tollgate-kubehttp.wrk
after=$(cpu)
reqs=$(awk '/requests in/ { print $1 }' /tmp/tollgate-kubehttp.wrk)
hz=$(getconf CLK_TCK)
echo "server CPU: $(( (after - before) * 1000 / hz )) ms for $reqs requests, $(( (after - before) * 1000000 / hz / reqs )) us per request"
grep VmHWM "/proc/$pid/status"
kill -TERM $pid
wait $pid
