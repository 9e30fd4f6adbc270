// The one header through which Swift sees the C libraries Tenantry uses.
// Variadic functions and function-like macros do not import into Swift: wrap them here
// as static inline functions, each prefixed with `ctenantry_`, in the section of their library.
#ifndef CTENANTRY_SHIM_H
#define CTENANTRY_SHIM_H

#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>

// --- libyaml (tenant files, apply-patch+yaml, kubeconfig) ---
#include <yaml.h>

// --- OpenSSL libcrypto (SHA-256 content hashes, HMAC webhook signatures) ---
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

// --- libgit2 (GitSync) ---
#include <git2.h>

// --- SQLite (local cluster store, webhook journal) ---
#include <sqlite3.h>

// --- libcurl (Kubernetes and GitHub clients) ---
#include <curl/curl.h>

// --- libmicrohttpd (the HTTP server of the local cluster and the webhooks) ---
#include <microhttpd.h>

#endif
