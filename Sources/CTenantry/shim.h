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

static inline CURLcode ctenantry_curl_setopt_long(CURL *curl, CURLoption option, long value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode ctenantry_curl_setopt_string(CURL *curl, CURLoption option, const char *value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode ctenantry_curl_setopt_pointer(CURL *curl, CURLoption option, void *value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode ctenantry_curl_setopt_slist(CURL *curl, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(curl, option, value);
}
static inline CURLcode ctenantry_curl_setopt_offset(CURL *curl, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(curl, option, value);
}
/// Copies the bytes (CURL_BLOB_COPY), so the caller's buffer may go away after the call.
static inline CURLcode ctenantry_curl_setopt_blob(CURL *curl, CURLoption option, void *data, size_t length) {
    struct curl_blob blob = { data, length, CURL_BLOB_COPY };
    return curl_easy_setopt(curl, option, &blob);
}
static inline CURLcode ctenantry_curl_setopt_write_function(CURL *curl, CURLoption option,
                                                            size_t (*callback)(char *, size_t, size_t, void *)) {
    return curl_easy_setopt(curl, option, callback);
}
static inline CURLcode ctenantry_curl_getinfo_long(CURL *curl, CURLINFO info, long *value) {
    return curl_easy_getinfo(curl, info, value);
}

// --- libmicrohttpd (the HTTP server of the local cluster and the webhooks) ---
#include <microhttpd.h>

#endif
