// OpenSSL's libcrypto (Debian libssl-dev): SHA-256 through the EVP interface, for the content
// digests that key cached results (JetData/Files/Digest.swift).
#include <openssl/evp.h>
