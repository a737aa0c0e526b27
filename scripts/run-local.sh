#!/bin/sh
# run-local.sh - what `make run` starts: a sluice node on this machine with its defaults,
# and where to publish and watch.  Ctrl-C stops it (and only it).
set -eu
bin=${1:-build/sluice}
host=${SLUICE_HOST:-127.0.0.1}
cat <<EOF
sluice is starting on its defaults (RTMP 1935, HTTP 5080, all interfaces).

  Publish (OBS: Settings > Stream > Custom; Server rtmp://$host/live, Stream Key demo)
    ffmpeg -re -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine \\
      -c:v libx264 -preset veryfast -tune zerolatency -g 60 -c:a aac -f flv rtmp://$host/live/demo

  Watch
    ffplay rtmp://$host/live/demo
    ffplay http://$host:5080/live/demo.flv

  Look inside
    curl http://$host:5080/api/v1/streams
    curl http://$host:5080/metrics

EOF
exec "$bin" node
