// The one header through which Swift sees the C libraries Tenantry uses.
// Variadic functions and function-like macros do not import into Swift: wrap them here
// as static inline functions, each prefixed with `ctenantry_`.
#ifndef CTENANTRY_SHIM_H
#define CTENANTRY_SHIM_H

// --- libyaml (tenant files, apply-patch+yaml, kubeconfig) ---
#include <yaml.h>

// --- OpenSSL libcrypto (SHA-256 content hashes, HMAC webhook signatures) ---
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#endif
