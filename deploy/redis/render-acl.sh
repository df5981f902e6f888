#!/bin/sh
# render-acl.sh SRC DST [SECRETS_DIR]: writes the ACL file redis-server
# loads (--aclfile DST) from deploy/redis/users.acl, replacing each
# >__ROLE_PASSWORD__ placeholder with the SHA-256 of the password in
# SECRETS_DIR/redis_ROLE_password (default /run/secrets, where Docker puts
# secrets). The file redis-server reads holds hashes, never a password.
set -eu
src=$1
dst=$2
dir=${3:-/run/secrets}
tmp="$dst.tmp.$$"
cp "$src" "$tmp"
for role in feed worker scheduler status admin; do
  f="$dir/redis_${role}_password"
  if [ ! -r "$f" ]; then
    echo "render-acl: $f is missing or unreadable" >&2
    rm -f "$tmp"
    exit 1
  fi
  hash=$(tr -d '\r\n' < "$f" | sha256sum | cut -d' ' -f1)
  upper=$(echo "$role" | tr 'a-z' 'A-Z')
  sed -i "s|>__${upper}_PASSWORD__|#${hash}|" "$tmp"
done
if grep -q '__[A-Z]*_PASSWORD__' "$tmp"; then
  echo "render-acl: a placeholder was left unreplaced" >&2
  rm -f "$tmp"
  exit 1
fi
mv "$tmp" "$dst"
