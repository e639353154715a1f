#!/bin/bash
# Entrypoint of the compose stack's mongo service: mongod needs its replica-set key file
# readable by the mongodb user alone (0400), and a compose file secret is a bind mount
# with the host file's owner and mode. So the key is copied into place as root, then the
# image's own entrypoint runs as usual (creates the root user and runs initdb/ on the first
# start, then drops to the mongodb user).
set -euo pipefail
install -m 0400 -o mongodb -g mongodb /run/secrets/mongo_keyfile /data/configdb/keyfile
exec docker-entrypoint.sh "$@"
