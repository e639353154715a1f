#!/bin/sh
# Creates the compose stack's secrets, one file each, in deploy/compose/secrets/ (or $1):
#   sh deploy/compose/make-secrets.sh && docker compose up --build
# A file that exists is kept, so running it again changes nothing; delete a file to
# replace that secret (the MongoDB passwords are set on the first start only: see
# docs/OPERATIONS.md, "Key rotation"). The directory is private to you (0700); the files
# in it are 0644 because compose mounts them into containers whose users (mongodb, redis,
# onestop) are not you. Never commit them (.gitignore).
set -eu
dir="${1:-$(dirname "$0")/secrets}"
mkdir -p "$dir"
chmod 0700 "$dir"
umask 022

# new NAME COMMAND...: write the command's output to NAME unless NAME exists.
new() {
  name="$1"
  shift
  [ -s "$dir/$name" ] || "$@" > "$dir/$name"
}

new mongo_root_password openssl rand -hex 24
new mongo_app_password openssl rand -hex 24
new mongo_keyfile openssl rand -base64 756
new redis_password openssl rand -hex 24
new upload_url_secret openssl rand -hex 32
# The stand-in SMS gateway's key; put your SMS provider's key here instead.
new sms_key openssl rand -hex 24
new jwt_private_key openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256
# The URLs carry the passwords above (hex: nothing to escape).
new mongodb_url printf 'mongodb://onestop:%s@mongo:27017/onestop?replicaSet=rs0\n' \
  "$(cat "$dir/mongo_app_password")"
new redis_url printf 'redis://default:%s@redis:6379/0\n' "$(cat "$dir/redis_password")"

chmod 0644 "$dir"/*
echo "secrets in $dir: $(ls "$dir" | tr '\n' ' ')"
