#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Test certificates for the TLS tests, made with the openssl CLI into DIR:
#   ca.pem/ca.key          the CA the daemon and clients trust
#   other-ca.pem           a CA nobody configured
#   server.pem/server.key  signed by ca, SAN 127.0.0.1 and localhost
#   rotated.pem/rotated.key  the same names, another key and subject (SIGHUP rotation)
#   expired.pem/expired.key  signed by ca, no longer valid
#   wronghost.pem/wronghost.key  signed by ca for other.example only
#   other-server.pem/.key  signed by other-ca (a server clients must refuse)
#   client.pem/client.key  a client certificate signed by ca
#   other-client.pem/.key  a client certificate signed by other-ca
#   enc.key + enc.pass     server.key encrypted with a passphrase (tls_key_password_file)
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
q() { "$@" >/dev/null 2>&1; }
ca() { q openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 3 -subj "/CN=$2"; }
# leaf NAME CA DAYS SUBJECT EXT
leaf() {
    q openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$4"
    printf '%s\n' "$5" >"$1.ext"
    q openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" \
        -days "$3" -extfile "$1.ext"
    rm -f "$1.csr" "$1.ext"
}
ca ca shuffled-test-ca
ca other-ca other-test-ca
# first, so that at least a second has passed when the tests use it
leaf expired ca 0 localhost "subjectAltName=IP:127.0.0.1,DNS:localhost"
leaf server ca 2 localhost "subjectAltName=IP:127.0.0.1,DNS:localhost"
leaf rotated ca 2 localhost-rotated "subjectAltName=IP:127.0.0.1,DNS:localhost"
leaf wronghost ca 2 other.example "subjectAltName=DNS:other.example"
leaf other-server other-ca 2 localhost "subjectAltName=IP:127.0.0.1,DNS:localhost"
leaf client ca 2 shuffle-client "extendedKeyUsage=clientAuth"
leaf other-client other-ca 2 shuffle-client "extendedKeyUsage=clientAuth"
printf 'correct horse\n' >enc.pass
chmod 600 enc.pass ./*.key
q openssl pkcs8 -topk8 -in server.key -out enc.key -passout pass:"correct horse"
chmod 600 enc.key
sleep 1
