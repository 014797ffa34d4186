#!/usr/bin/env bash
# Runs S3Proxy (org.gaul:s3proxy from Maven Central), a real S3 server, for the tests and benchmarks
# of the S3 connector and the S3 blob store. Authentication is enforced (AWS Signature V2/V4), objects
# live on disk under S3PROXY_DATA_DIR so a restarted server keeps them.
#   S3PROXY_PORT (required)  S3PROXY_DATA_DIR (required)
#   S3PROXY_ACCESS_KEY / S3PROXY_SECRET_KEY (default cqa-test-access / cqa-test-secret-0123456789)
# The jar is fetched once with Maven (into ~/.m2) when missing; `s3proxy.sh --fetch` only fetches it
# (CI does that before the tests, so parallel test files never download it at once). Stop it with SIGTERM.
set -euo pipefail
version="${S3PROXY_VERSION:-2.6.0}"
jar="${HOME}/.m2/repository/org/gaul/s3proxy/${version}/s3proxy-${version}-jar-with-dependencies.jar"
if [ ! -f "$jar" ]; then
  mvn -q -B dependency:get -Dartifact="org.gaul:s3proxy:${version}:jar:jar-with-dependencies" -Dtransitive=false >&2
fi
if [ "${1:-}" = "--fetch" ]; then exit 0; fi
: "${S3PROXY_PORT:?set S3PROXY_PORT}"
: "${S3PROXY_DATA_DIR:?set S3PROXY_DATA_DIR}"
mkdir -p "$S3PROXY_DATA_DIR/objects"
properties="$S3PROXY_DATA_DIR/s3proxy.properties"
cat >"$properties" <<PROPERTIES
s3proxy.endpoint=http://127.0.0.1:${S3PROXY_PORT}
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=${S3PROXY_ACCESS_KEY:-cqa-test-access}
s3proxy.credential=${S3PROXY_SECRET_KEY:-cqa-test-secret-0123456789}
jclouds.provider=filesystem
jclouds.filesystem.basedir=${S3PROXY_DATA_DIR}/objects
jclouds.identity=local
jclouds.credential=local
PROPERTIES
exec java -Xms64m -Xmx512m -jar "$jar" --properties "$properties"
