// The few system calls Node cannot make itself, so that the forwarder can configure the kernel
// without starting a process: a netlink socket opened inside another network namespace, one netlink
// exchange (send a batch, read until every message of the batch is answered) run on the libuv
// threadpool, a /proc/sys/net file read or written from inside a namespace, and the credentials of a
// unix socket's peer (SO_PEERCRED: who is on the other end of an accepted connection). Everything else
// (encoding, decoding, validation, errors) is TypeScript (../*.ts).
//
// Why the threadpool: the kernel handles a netlink request inside sendmsg() on the caller's thread,
// and some requests (deleting a link waits for an RCU grace period) take tens of milliseconds; on
// the event loop they would stall every gRPC stream of the process.
//
// Why setns() here is safe: it changes the calling thread only, and every switch is undone before
// the function returns. A thread that cannot switch back would do later work in the wrong
// namespace, so that aborts the process rather than going on.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_PATH 4096
#define MAX_BATCH 4096          /* messages in one request() */
#define MAX_REPLY (64u << 20)   /* bytes gathered for one request(): a dump bigger than this is refused */
#define MAX_SYSCTL_VALUE 4096

/* ---------- errors ---------- */

/** An Error with .errno (positive) and .code ("EEXIST"), as Node's own system errors have. */
static napi_value errno_error(napi_env env, int err, const char *what, const char *detail) {
  char msg[1024];
  const char *name = strerrorname_np(err);
  snprintf(msg, sizeof msg, "%s: %s%s%s", what, strerror(err), detail && *detail ? ": " : "", detail ? detail : "");
  napi_value m, e, v;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &e);
  napi_create_int32(env, err, &v);
  napi_set_named_property(env, e, "errno", v);
  napi_create_string_utf8(env, name ? name : "EUNKNOWN", NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, e, "code", v);
  napi_create_string_utf8(env, what, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, e, "syscall", v);
  return e;
}

static napi_value throw_errno(napi_env env, int err, const char *what, const char *detail) {
  napi_throw(env, errno_error(env, err, what, detail));
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/* ---------- namespaces ---------- */

/** Moves the calling thread into the network namespace at `path`; *saved receives the way back. */
static int enter_netns(const char *path, int *saved) {
  *saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (*saved < 0) return errno;
  int ns = open(path, O_RDONLY | O_CLOEXEC);
  if (ns < 0) {
    int e = errno;
    close(*saved);
    return e;
  }
  if (setns(ns, CLONE_NEWNET) < 0) {
    int e = errno;
    close(ns);
    close(*saved);
    return e;
  }
  close(ns);
  return 0;
}

static void leave_netns(int saved) {
  if (setns(saved, CLONE_NEWNET) < 0) {
    fprintf(stderr, "nsm_netlink: cannot return to the original network namespace: %s\n", strerror(errno));
    abort();
  }
  close(saved);
}

/* ---------- argument helpers ---------- */

static int get_int(napi_env env, napi_value v, int32_t *out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_number && napi_get_value_int32(env, v, out) == napi_ok;
}

/** A string argument, or NULL/undefined (returns 1 and sets *present = 0). */
static int get_opt_string(napi_env env, napi_value v, char *buf, size_t size, int *present) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_null || t == napi_undefined) {
    *present = 0;
    buf[0] = 0;
    return 1;
  }
  if (t != napi_string) return 0;
  size_t len = 0;
  napi_get_value_string_utf8(env, v, NULL, 0, &len);
  if (len == 0 || len >= size) return 0;
  napi_get_value_string_utf8(env, v, buf, size, &len);
  if (strlen(buf) != len) return 0; /* embedded NUL */
  *present = 1;
  return 1;
}

/* ---------- open(nsPath | null, protocol, timeoutMs): fd ---------- */

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[MAX_PATH];
  int has_path;
  int32_t proto, timeout_ms;
  if (argc < 3 || !get_opt_string(env, argv[0], path, sizeof path, &has_path)) return throw_type(env, "open: nsPath must be a non-empty string or null");
  if (!get_int(env, argv[1], &proto) || (proto != NETLINK_ROUTE && proto != NETLINK_GENERIC)) return throw_type(env, "open: protocol must be NETLINK_ROUTE or NETLINK_GENERIC");
  if (!get_int(env, argv[2], &timeout_ms) || timeout_ms < 1 || timeout_ms > 600000) return throw_type(env, "open: timeoutMs must be 1..600000");

  int saved = -1;
  if (has_path) {
    int e = enter_netns(path, &saved);
    if (e) return throw_errno(env, e, "setns", path);
  }
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
  int e = fd < 0 ? errno : 0;
  if (has_path) leave_netns(saved);
  if (fd < 0) return throw_errno(env, e, "socket", NULL);

  int one = 1, rcvbuf = 4 << 20;
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 || bind(fd, (struct sockaddr *)&local, sizeof local) < 0) {
    e = errno;
    close(fd);
    return throw_errno(env, e, "netlink socket setup", NULL);
  }
  /* Best effort: a larger buffer for dumps, error strings from the kernel, acks without the request
     echoed back, and dumps the kernel filters by the request's fields. */
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);

  napi_value r;
  napi_create_int32(env, fd, &r);
  return r;
}

/* ---------- close(fd) ---------- */

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  if (argc < 1 || !get_int(env, argv[0], &fd) || fd < 0) return throw_type(env, "close: fd must be a non-negative integer");
  if (close(fd) < 0 && errno != EINTR) return throw_errno(env, errno, "close", NULL);
  return NULL;
}

/* ---------- request(fd, batch): Promise<Buffer> ---------- */

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int fd;
  uint8_t *msg;
  size_t len;
  uint8_t *out;
  size_t out_len;
  int err;
  const char *what;
} request_t;

/** The batch's sequence numbers; *n = 0 when the buffer is not a well-formed list of messages. */
static uint32_t *batch_seqs(const uint8_t *msg, size_t len, size_t *n) {
  *n = 0;
  uint32_t *seqs = malloc(sizeof(uint32_t) * MAX_BATCH);
  if (!seqs) return NULL;
  size_t off = 0;
  while (off < len) {
    if (len - off < NLMSG_HDRLEN || *n == MAX_BATCH) goto bad;
    const struct nlmsghdr *h = (const struct nlmsghdr *)(msg + off);
    if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > len - off) goto bad;
    seqs[(*n)++] = h->nlmsg_seq;
    off += NLMSG_ALIGN(h->nlmsg_len);
  }
  return seqs;
bad:
  *n = 0;
  return seqs;
}

static int append(request_t *r, size_t *cap, const void *p, size_t n) {
  if (r->out_len + n > MAX_REPLY) return EMSGSIZE;
  if (r->out_len + n > *cap) {
    size_t c = *cap ? *cap : 8192;
    while (c < r->out_len + n) c *= 2;
    uint8_t *o = realloc(r->out, c);
    if (!o) return ENOMEM;
    r->out = o;
    *cap = c;
  }
  memcpy(r->out + r->out_len, p, n);
  r->out_len += n;
  return 0;
}

static void request_execute(napi_env env, void *data) {
  (void)env;
  request_t *r = data;
  size_t n = 0, cap = 0, pending;
  uint32_t *seqs = batch_seqs(r->msg, r->len, &n);
  uint8_t *done = n ? calloc(n, 1) : NULL;
  uint8_t *buf = NULL;
  size_t bufcap = 0;
  if (!seqs || (n && !done)) {
    r->err = ENOMEM, r->what = "malloc";
    goto out;
  }
  if (n == 0) {
    r->err = EINVAL, r->what = "request: malformed batch";
    goto out;
  }
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  ssize_t s;
  do s = sendto(r->fd, r->msg, r->len, 0, (struct sockaddr *)&kernel, sizeof kernel);
  while (s < 0 && errno == EINTR);
  if (s < 0) {
    r->err = errno, r->what = "sendto";
    goto out;
  }
  pending = n;
  while (pending > 0) {
    /* The size of the next datagram, without taking it. */
    ssize_t size;
    do size = recv(r->fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
    while (size < 0 && errno == EINTR);
    if (size < 0) {
      r->err = errno == EAGAIN || errno == EWOULDBLOCK ? ETIMEDOUT : errno, r->what = "recv";
      goto out;
    }
    if ((size_t)size > bufcap) {
      free(buf);
      bufcap = (size_t)size < 65536 ? 65536 : (size_t)size;
      buf = malloc(bufcap);
      if (!buf) {
        r->err = ENOMEM, r->what = "malloc";
        goto out;
      }
    }
    struct sockaddr_nl from;
    socklen_t fromlen = sizeof from;
    do size = recvfrom(r->fd, buf, bufcap, 0, (struct sockaddr *)&from, &fromlen);
    while (size < 0 && errno == EINTR);
    if (size < 0) {
      r->err = errno == EAGAIN || errno == EWOULDBLOCK ? ETIMEDOUT : errno, r->what = "recv";
      goto out;
    }
    if (from.nl_pid != 0) continue; /* only the kernel answers; anyone else is ignored */
    int len = (int)size;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      size_t i;
      for (i = 0; i < n && seqs[i] != h->nlmsg_seq; i++);
      if (i == n) continue; /* a late answer to an earlier, timed-out exchange */
      int e = append(r, &cap, h, NLMSG_ALIGN(h->nlmsg_len) <= (size_t)len ? NLMSG_ALIGN(h->nlmsg_len) : h->nlmsg_len);
      if (e) {
        r->err = e, r->what = "request: reply too large";
        goto out;
      }
      if ((h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) && !done[i]) {
        done[i] = 1;
        pending--;
      }
    }
  }
out:
  free(seqs);
  free(done);
  free(buf);
}

static void request_complete(napi_env env, napi_status status, void *data) {
  request_t *r = data;
  if (status != napi_ok && !r->err) r->err = ECANCELED, r->what = "request";
  if (r->err) {
    napi_reject_deferred(env, r->deferred, errno_error(env, r->err, r->what, NULL));
  } else {
    napi_value b;
    void *p;
    napi_create_buffer_copy(env, r->out_len, r->out_len ? r->out : (void *)"", &p, &b);
    napi_resolve_deferred(env, r->deferred, b);
  }
  napi_delete_async_work(env, r->work);
  free(r->msg);
  free(r->out);
  free(r);
}

/*
 * The (fd, batch) arguments of request and requestSync; false (a TypeError thrown) when they are not a
 * non-negative integer and a Buffer of 16 bytes to 1 MiB.
 */
static bool request_args(napi_env env, napi_callback_info info, const char *fn, int32_t *fd, void **data, size_t *len) {
  size_t argc = 2;
  napi_value argv[2];
  char msg[96];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool isbuf = false;
  if (argc < 2 || !get_int(env, argv[0], fd) || *fd < 0) {
    snprintf(msg, sizeof msg, "%s: fd must be a non-negative integer", fn);
    throw_type(env, msg);
    return false;
  }
  napi_is_buffer(env, argv[1], &isbuf);
  if (!isbuf) {
    snprintf(msg, sizeof msg, "%s: batch must be a Buffer", fn);
    throw_type(env, msg);
    return false;
  }
  napi_get_buffer_info(env, argv[1], data, len);
  if (*len < NLMSG_HDRLEN || *len > (1u << 20)) {
    snprintf(msg, sizeof msg, "%s: batch must be 16 bytes to 1 MiB", fn);
    throw_type(env, msg);
    return false;
  }
  return true;
}

static napi_value js_request(napi_env env, napi_callback_info info) {
  int32_t fd;
  void *data;
  size_t len;
  if (!request_args(env, info, "request", &fd, &data, &len)) return NULL;

  request_t *r = calloc(1, sizeof *r);
  if (!r || !(r->msg = malloc(len))) {
    free(r);
    return throw_errno(env, ENOMEM, "malloc", NULL);
  }
  memcpy(r->msg, data, len);
  r->len = len;
  r->fd = fd;
  napi_value promise, name;
  napi_create_promise(env, &r->deferred, &promise);
  napi_create_string_utf8(env, "nsm_netlink.request", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, request_execute, request_complete, r, &r->work);
  napi_queue_async_work(env, r->work);
  return promise;
}

/*
 * requestSync(fd, batch): Buffer. The same exchange on the calling thread: for a short change on an
 * idle socket, the threadpool's two thread switches cost more than the kernel's work. The receive
 * timeout set at open bounds how long it can block.
 */
static napi_value js_request_sync(napi_env env, napi_callback_info info) {
  int32_t fd;
  void *data;
  size_t len;
  if (!request_args(env, info, "requestSync", &fd, &data, &len)) return NULL;
  request_t r = {0};
  r.msg = data;
  r.len = len;
  r.fd = fd;
  request_execute(env, &r);
  napi_value b = NULL;
  if (r.err) {
    napi_throw(env, errno_error(env, r.err, r.what, NULL));
  } else {
    void *p;
    napi_create_buffer_copy(env, r.out_len, r.out_len ? r.out : (void *)"", &p, &b);
  }
  free(r.out);
  return b;
}

/* ---------- sysctl(nsPath | null, file, value | null): Promise<string> ---------- */

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  char ns[MAX_PATH];
  int has_ns;
  char file[MAX_PATH];
  char value[MAX_SYSCTL_VALUE];
  int has_value;
  char result[MAX_SYSCTL_VALUE];
  int err;
  const char *what;
} sysctl_t;

static void sysctl_execute(napi_env env, void *data) {
  (void)env;
  sysctl_t *s = data;
  int saved = -1;
  if (s->has_ns && (s->err = enter_netns(s->ns, &saved))) {
    s->what = "setns";
    return;
  }
  /* /proc/sys/net shows the namespace of the thread that opens the file; once open, it stays. */
  int fd = open(s->file, (s->has_value ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
  int e = fd < 0 ? errno : 0;
  if (s->has_ns) leave_netns(saved);
  if (fd < 0) {
    s->err = e, s->what = "open";
    return;
  }
  if (s->has_value) {
    ssize_t n = write(fd, s->value, strlen(s->value));
    if (n < 0) s->err = errno, s->what = "write";
  } else {
    ssize_t n = read(fd, s->result, sizeof s->result - 1);
    if (n < 0) s->err = errno, s->what = "read";
    else s->result[n] = 0;
  }
  close(fd);
}

static void sysctl_complete(napi_env env, napi_status status, void *data) {
  sysctl_t *s = data;
  if (status != napi_ok && !s->err) s->err = ECANCELED, s->what = "sysctl";
  if (s->err) {
    napi_reject_deferred(env, s->deferred, errno_error(env, s->err, s->what, s->file));
  } else {
    napi_value v;
    napi_create_string_utf8(env, s->result, NAPI_AUTO_LENGTH, &v);
    napi_resolve_deferred(env, s->deferred, v);
  }
  napi_delete_async_work(env, s->work);
  free(s);
}

static napi_value js_sysctl(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  sysctl_t *s = calloc(1, sizeof *s);
  if (!s) return throw_errno(env, ENOMEM, "malloc", NULL);
  int has_file;
  if (argc < 3 || !get_opt_string(env, argv[0], s->ns, sizeof s->ns, &s->has_ns) || !get_opt_string(env, argv[1], s->file, sizeof s->file, &has_file) || !has_file ||
      !get_opt_string(env, argv[2], s->value, sizeof s->value, &s->has_value)) {
    free(s);
    return throw_type(env, "sysctl: (nsPath | null, file, value | null) with non-empty strings");
  }
  /* Only the per-namespace network settings: this is not a general file writer. */
  if (strncmp(s->file, "/proc/sys/net/", 14) != 0 || strstr(s->file, "/..") != NULL) {
    free(s);
    return throw_type(env, "sysctl: file must be under /proc/sys/net/");
  }
  napi_value promise, name;
  napi_create_promise(env, &s->deferred, &promise);
  napi_create_string_utf8(env, "nsm_netlink.sysctl", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, sysctl_execute, sysctl_complete, s, &s->work);
  napi_queue_async_work(env, s->work);
  return promise;
}

/* ---------- peercred(fd): {pid, uid, gid} ---------- */

/** The process at the other end of a connected unix socket, as the kernel recorded it at connect(). */
static napi_value js_peercred(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fd;
  if (argc < 1 || !get_int(env, argv[0], &fd) || fd < 0) return throw_type(env, "peercred: fd must be a non-negative integer");
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return throw_errno(env, errno, "getsockopt(SO_PEERCRED)", NULL);
  napi_value out, pid, uid, gid;
  napi_create_object(env, &out);
  napi_create_int32(env, cred.pid, &pid);
  napi_create_uint32(env, cred.uid, &uid);
  napi_create_uint32(env, cred.gid, &gid);
  napi_set_named_property(env, out, "pid", pid);
  napi_set_named_property(env, out, "uid", uid);
  napi_set_named_property(env, out, "gid", gid);
  return out;
}

/* ---------- module ---------- */

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"request", NULL, js_request, NULL, NULL, NULL, napi_enumerable, NULL},
      {"requestSync", NULL, js_request_sync, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sysctl", NULL, js_sysctl, NULL, NULL, NULL, napi_enumerable, NULL},
      {"peercred", NULL, js_peercred, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

#ifndef NODE_GYP_MODULE_NAME
#define NODE_GYP_MODULE_NAME nsm_netlink
#endif
NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
