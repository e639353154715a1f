#!/bin/bash
# Health check of the compose stack's mongo service. It also initiates the one-member
# replica set rs0 on the first start (idempotent: an initiated set is left alone), as
# root, since authentication is on from the first start. Healthy = this member is the
# writable primary, which is what the gateway needs before it starts.
# The password reaches mongosh on its command line, visible to `ps` inside this container
# only; nothing else runs in it.
set -euo pipefail
mongosh --quiet --host 127.0.0.1 --username root --authenticationDatabase admin \
  --password "$(< /run/secrets/mongo_root_password)" --eval '
    try {
      rs.status();
    } catch (error) {
      if (error.codeName !== "NotYetInitialized") throw error;
      rs.initiate({ _id: "rs0", members: [{ _id: 0, host: "mongo:27017" }] });
    }
    print(db.hello().isWritablePrimary ? "primary" : "not primary yet");
  ' | grep -qx primary
