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
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/rsa.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

// EVP_EC_gen is a macro over the variadic EVP_PKEY_Q_keygen: a new P-256 key (self-signed certificates).
static inline EVP_PKEY *ctenantry_ec_p256_key(void) {
    return EVP_EC_gen("P-256");
}

// EVP_RSA_gen is a macro over the variadic EVP_PKEY_Q_keygen: a new RSA key of the given size (RS256 JWTs).
static inline EVP_PKEY *ctenantry_rsa_key(unsigned int bits) {
    return EVP_RSA_gen(bits);
}

// EVP_PKEY_PUBLIC_KEY is a macro over other macros: the selection that builds a public key from parameters (JWKs).
static inline int ctenantry_evp_pkey_public_key(void) {
    return EVP_PKEY_PUBLIC_KEY;
}

// BIO_get_mem_data is a macro: the bytes written to a memory BIO so far.
static inline long ctenantry_bio_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}

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
/// CURLOPT_XFERINFOFUNCTION: called about once a second while a transfer runs; non-zero aborts it (a stream the
/// caller no longer wants, even while no bytes arrive).
static inline CURLcode ctenantry_curl_setopt_xferinfo_function(CURL *curl,
                                                               int (*callback)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t)) {
    return curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, callback);
}
static inline CURLcode ctenantry_curl_getinfo_long(CURL *curl, CURLINFO info, long *value) {
    return curl_easy_getinfo(curl, info, value);
}

// --- libmicrohttpd (the HTTP server of the local cluster and the webhooks) ---
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string.h>

// MHD_start_daemon is variadic: start a daemon bound to one IPv4 address (loopback or any), polling with
// epoll on `event_threads` threads, with suspend/resume allowed (handlers and streams run on threads of their own).
// Options: hooks for a request's start (request line read), its end, and a connection's open and close; an idle
// timeout; a hard ceiling of connections in all and per client address (MHD refuses beyond it at accept, without an
// answer: the caller keeps its own, lower caps that answer 503); the per-connection memory pool, which bounds the
// request headers MHD can read; and, when a PEM certificate and key are given, TLS.
static inline struct MHD_Daemon *ctenantry_mhd_start(uint16_t port, int loopback_only, unsigned int event_threads,
    MHD_AccessHandlerCallback handler, void *cls,
    MHD_RequestCompletedCallback completed, MHD_NotifyConnectionCallback connection_notify,
    void *(*request_started)(void *cls, const char *uri, struct MHD_Connection *connection),
    unsigned int connection_timeout_seconds, unsigned int connection_limit, unsigned int per_client_limit,
    size_t memory_limit, const char *tls_certificate_pem, const char *tls_key_pem) {
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(loopback_only ? INADDR_LOOPBACK : INADDR_ANY);
    int tls = tls_certificate_pem != NULL && tls_key_pem != NULL;
    unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO | (tls ? MHD_USE_TLS : 0);
    return MHD_start_daemon(flags, port, NULL, NULL, handler, cls,
        MHD_OPTION_NOTIFY_COMPLETED, completed, cls,
        MHD_OPTION_NOTIFY_CONNECTION, connection_notify, cls,
        MHD_OPTION_URI_LOG_CALLBACK, request_started, cls,
        MHD_OPTION_CONNECTION_TIMEOUT, connection_timeout_seconds,
        MHD_OPTION_CONNECTION_LIMIT, connection_limit,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_client_limit,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, memory_limit,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &address,
        MHD_OPTION_THREAD_POOL_SIZE, event_threads,
        tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, tls_certificate_pem,
        MHD_OPTION_HTTPS_MEM_KEY, tls_key_pem,
        MHD_OPTION_END);
}

// MHD_get_connection_info is variadic: what the connection-open hook stored for this connection.
static inline void *ctenantry_mhd_socket_context(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info == NULL ? NULL : info->socket_context;
}

// The connection's socket, or -1.
static inline int ctenantry_mhd_connection_fd(struct MHD_Connection *connection) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info == NULL ? -1 : info->connect_fd;
}

// The client's address as text ("127.0.0.1", "::1") into `buffer`; an empty string when unknown.
static inline void ctenantry_mhd_client_address(struct MHD_Connection *connection, char *buffer, socklen_t size) {
    buffer[0] = 0;
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info == NULL || info->client_addr == NULL) return;
    const struct sockaddr *address = info->client_addr;
    if (address->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *) address)->sin_addr, buffer, size);
    } else if (address->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) address)->sin6_addr, buffer, size);
    }
}

// MHD_get_daemon_info is variadic: the port the daemon listens on (the real one when 0 was asked for).
static inline uint16_t ctenantry_mhd_bound_port(struct MHD_Daemon *daemon) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info == NULL ? 0 : info->port;
}

// --- posix_spawn (the local node's container processes) ---
// The GNU extensions need _GNU_SOURCE, which this header does not set for everyone: declared here as glibc (2.34+) defines them.
#include <spawn.h>
#include <fcntl.h>
#include <unistd.h>
int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *actions, const char *path);
int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
int pipe2(int fds[2], int flags);

static inline int ctenantry_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}
static inline int ctenantry_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
static inline int ctenantry_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

#endif
