#!/bin/sh
# Entry point of the throughline service in deploy/docker-compose.yml: build
# the demo organisation, then serve it to Prometheus on every interface.
# Listening beyond loopback needs the SQL API token (server.sql_token_env of
# the demo config is THROUGHLINE_SQL_TOKEN), so compose sets it.
set -eu
: "${THROUGHLINE_SQL_TOKEN:?set THROUGHLINE_SQL_TOKEN (the SQL API token)}"
throughline demo --once --dir /data
sed -i 's/listen: 127\.0\.0\.1:9187/listen: 0.0.0.0:9187/' /data/throughline.yaml
grep -q 'listen: 0.0.0.0:9187' /data/throughline.yaml || { echo "throughline-demo: could not set server.listen in /data/throughline.yaml" >&2; exit 1; }
exec throughline serve --config /data/throughline.yaml
