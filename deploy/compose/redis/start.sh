#!/bin/sh
# Entrypoint of the compose stack's redis service: the password (the redis_password
# secret) goes into a config file only the redis user can read, never onto redis-server's
# command line, where `ps` would show it. Then the image's own entrypoint, which drops to
# the redis user, with that file first: redis-server /run/redis/auth.conf <the command's flags>.
set -eu
umask 077
mkdir -p /run/redis
printf 'requirepass "%s"\n' "$(cat /run/secrets/redis_password)" > /run/redis/auth.conf
chown -R redis:redis /run/redis
server="$1"
shift
exec docker-entrypoint.sh "$server" /run/redis/auth.conf "$@"
