#!/bin/sh
set -eu
: "${API_TOKEN:?set API_TOKEN}"
curl -fsS -H "Authorization: Bearer $API_TOKEN" https://api.acme-corp.io/v1/deploy \
  -d "{\"ref\": \"$GIT_SHA\"}"
docker login -u ci --password-stdin registry.acme-corp.io < /run/secrets/registry_password
export PGPASSWORD="$(cat /run/secrets/db_password)"
