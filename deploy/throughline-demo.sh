#!/bin/sh
# Entry point of the throughline service in deploy/docker-compose.yml: build
# the demo organisation and serve it to Prometheus on every interface. The
# demo runs its own in-process fake Jira site, which the scheduled syncs
# read, so it stays in the foreground (`demo`, not `demo --once` + `serve`).
# Listening beyond loopback needs the SQL API token (server.sql_token_env of
# the demo config is THROUGHLINE_SQL_TOKEN), so compose sets it.
set -eu
: "${THROUGHLINE_SQL_TOKEN:?set THROUGHLINE_SQL_TOKEN (the SQL API token)}"
exec throughline demo --dir /data --listen 0.0.0.0:8467
