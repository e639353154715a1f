# Sourced by the mongo image's entrypoint on the first start only (empty data volume),
# against its temporary init server: creates the gateway's own user, which may read and
# write the onestop database and nothing else. The password is the mongo_app_password
# secret; the gateway's ONESTOP_MONGODB_URL_FILE (the mongodb_url secret) carries the same.
# `mongo` (the shell command, with the root credentials) and `_js_escape` come from the
# entrypoint that sources this file.
"${mongo[@]}" admin <<EOJS
db.getSiblingDB("onestop").createUser({
  user: "onestop",
  pwd: $(_js_escape "$(< /run/secrets/mongo_app_password)"),
  roles: [{ role: "readWrite", db: "onestop" }],
})
EOJS
