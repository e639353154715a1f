#!/bin/sh
# Health check of the compose stack's redis service; redis-cli takes the password from
# REDISCLI_AUTH, not from its command line.
set -eu
REDISCLI_AUTH="$(cat /run/secrets/redis_password)" redis-cli ping | grep -qx PONG
