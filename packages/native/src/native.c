// @multiproc/native: what JavaScript cannot do alone. Named and unnamed shared memory segments,
// mapping them as ArrayBuffers, and waiting/waking on a 32-bit word of them across processes
// (Linux futex without FUTEX_PRIVATE_FLAG; macOS __ulock_wait with the shared flag). Everything
// else (locks, events, values) is TypeScript over Atomics in @multiproc/sync and @multiproc/shared.
//
// The TypeScript wrapper (index.ts) validates arguments and words the errors; this file still
// checks every type and range it relies on, so a bad call throws instead of crashing.
//
// Built by scripts/build.mjs with plain `cc` and the node-api-headers package; Node-API 8 so one
// binary serves Node 20, 22 and 24.
#define NAPI_VERSION 8
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#ifndef SYS_memfd_create
// Headers older than Linux 3.17 (the old-glibc release containers) lack the number.
#if defined(__x86_64__)
#define SYS_memfd_create 319
#elif defined(__aarch64__)
#define SYS_memfd_create 279
#endif
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif
#elif defined(__APPLE__)
#include <libproc.h>
#include <sys/proc_info.h>
// The shared-address wait of macOS before os_sync_wait_on_address (14.4): private but stable
// API, used by libc++ and Chromium for the same purpose.
extern int __ulock_wait(uint32_t operation, void *addr, uint64_t value, uint32_t timeout_us);
extern int __ulock_wake(uint32_t operation, void *addr, uint64_t wake_value);
#define UL_COMPARE_AND_WAIT_SHARED 3
#define ULF_WAKE_ALL 0x00000100
#else
#error "@multiproc/native supports Linux and macOS only"
#endif

#define EXPORT __attribute__((visibility("default")))

// ---------------------------------------------------------------------------------------------
// Errors

enum { WAIT_OK = 0, WAIT_NOT_EQUAL = 1, WAIT_TIMED_OUT = 2, WAIT_CANCELLED = 3 };

static const char *errno_code(int err) {
  switch (err) {
    case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case EBADF: return "EBADF";
    case ENOSPC: return "ENOSPC";
    case EISDIR: return "EISDIR";
    case ELOOP: return "ELOOP";
    case ENODEV: return "ENODEV";
    case EOVERFLOW: return "EOVERFLOW";
    default: return "EUNKNOWN";
  }
}

// Throws and returns NULL, so a caller can `return throw_...(...)`.
static napi_value throw_errno(napi_env env, int err, const char *syscall_name, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if ((size_t)n < sizeof msg) snprintf(msg + n, sizeof msg - n, " (%s: %s)", errno_code(err), strerror(err));
  napi_value code, text, error, sys, no;
  napi_create_string_utf8(env, errno_code(err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &text);
  napi_create_error(env, code, text, &error);
  napi_create_string_utf8(env, syscall_name, NAPI_AUTO_LENGTH, &sys);
  napi_create_int32(env, err, &no);
  napi_set_named_property(env, error, "syscall", sys);
  napi_set_named_property(env, error, "errno", no);
  napi_throw(env, error);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

static napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return NULL;
}

#define CALL(env, call)                                                     \
  do {                                                                      \
    if ((call) != napi_ok) {                                                \
      bool pending_;                                                        \
      napi_is_exception_pending((env), &pending_);                          \
      if (!pending_) napi_throw_error((env), NULL, "Node-API call failed: " #call); \
      return NULL;                                                          \
    }                                                                       \
  } while (0)

// ---------------------------------------------------------------------------------------------
// Arguments

static bool arg_number(napi_env env, napi_value v, double *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number) return false;
  return napi_get_value_double(env, v, out) == napi_ok;
}

// An integer in [min, max]: throws (naming `what`) and returns false otherwise.
static bool arg_int(napi_env env, napi_value v, double min, double max, const char *what, int64_t *out) {
  double d;
  char msg[160];
  if (!arg_number(env, v, &d)) {
    snprintf(msg, sizeof msg, "%s must be a number", what);
    throw_type(env, msg);
    return false;
  }
  if (d != floor(d) || d < min || d > max) {
    snprintf(msg, sizeof msg, "%s must be an integer from %.0f to %.0f", what, min, max);
    throw_range(env, msg);
    return false;
  }
  *out = (int64_t)d;
  return true;
}

// A segment name: a string of 1..255 bytes without '/' or NUL, not "." or "..".
static bool arg_name(napi_env env, napi_value v, char *buf, size_t cap) {
  napi_valuetype t;
  size_t len;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) {
    throw_type(env, "name must be a string");
    return false;
  }
  if (napi_get_value_string_utf8(env, v, buf, cap, &len) != napi_ok || len == 0 || len >= cap - 1 ||
      strchr(buf, '/') != NULL || strlen(buf) != len || strcmp(buf, ".") == 0 || strcmp(buf, "..") == 0) {
    throw_type(env, "name must be 1 to 255 bytes, with no '/' or NUL, and not '.' or '..'");
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Segments

static void shm_path(char *out, size_t cap, const char *name) {
#if defined(__linux__)
  // Not shm_open: it moved into libc only in glibc 2.34, so a binary using it would not load on
  // older distributions. glibc's shm_open is exactly this open() below /dev/shm.
  snprintf(out, cap, "/dev/shm/%s", name);
#else
  snprintf(out, cap, "/%s", name);
#endif
}

static int open_segment(const char *name, bool create) {
  char path[300];
  shm_path(path, sizeof path, name);
  int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT | O_EXCL : 0);
#if defined(__linux__)
  int fd;
  do fd = open(path, flags, 0600);
  while (fd < 0 && errno == EINTR);
  return fd;
#else
  int fd = shm_open(path, flags & ~(O_CLOEXEC | O_NOFOLLOW), 0600);
  if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
#endif
}

// shmOpen(name, create: boolean) -> fd
static napi_value shm_open_js(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[257];
  if (!arg_name(env, argv[0], name, sizeof name)) return NULL;
  bool create;
  if (napi_get_value_bool(env, argv[1], &create) != napi_ok) return throw_type(env, "create must be a boolean");
  int fd = open_segment(name, create);
  if (fd < 0) {
    int err = errno;
    if (err == EEXIST) return throw_errno(env, err, "shm_open", "a shared memory segment named '%s' already exists", name);
    if (err == ENOENT && !create) return throw_errno(env, err, "shm_open", "no shared memory segment named '%s'", name);
    return throw_errno(env, err, "shm_open", "cannot %s the shared memory segment '%s'", create ? "create" : "open", name);
  }
  CALL(env, napi_create_int32(env, fd, &result));
  return result;
}

// shmUnlink(name)
static napi_value shm_unlink_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char name[257], path[300];
  if (!arg_name(env, argv[0], name, sizeof name)) return NULL;
  shm_path(path, sizeof path, name);
#if defined(__linux__)
  int rc = unlink(path);
#else
  int rc = shm_unlink(path);
#endif
  if (rc != 0) {
    int err = errno;
    if (err == ENOENT) return throw_errno(env, err, "shm_unlink", "no shared memory segment named '%s'", name);
    return throw_errno(env, err, "shm_unlink", "cannot remove the shared memory segment '%s'", name);
  }
  return NULL;
}

// anonymous() -> fd of a segment with no name anywhere
static napi_value anonymous_js(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  int fd = -1;
#if defined(__linux__) && defined(SYS_memfd_create)
  // Through syscall(): the memfd_create wrapper needs glibc 2.27.
  fd = (int)syscall(SYS_memfd_create, "multiproc", MFD_CLOEXEC);
  if (fd < 0 && errno != ENOSYS) return throw_errno(env, errno, "memfd_create", "cannot create an unnamed shared memory segment");
#endif
  if (fd < 0) {
    // macOS, or a kernel older than 3.17: a random name, removed at once.
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
      char name[40];
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      snprintf(name, sizeof name, "mp-anon-%x-%lx", (unsigned)getpid(), (unsigned long)(ts.tv_nsec ^ (attempt * 2654435761u)));
      fd = open_segment(name, true);
      if (fd >= 0) {
        char path[300];
        shm_path(path, sizeof path, name);
#if defined(__linux__)
        unlink(path);
#else
        shm_unlink(path);
#endif
      } else if (errno != EEXIST) {
        return throw_errno(env, errno, "shm_open", "cannot create an unnamed shared memory segment");
      }
    }
    if (fd < 0) return throw_errno(env, EEXIST, "shm_open", "cannot create an unnamed shared memory segment");
  }
  CALL(env, napi_create_int32(env, fd, &result));
  return result;
}

// ---------------------------------------------------------------------------------------------
// Mappings
//
// One mapping per map() call, handed to JavaScript as one external ArrayBuffer. The memory stays
// mapped while the buffer is attached OR an async wait on it is pending (`live`), so neither the
// finalizer nor unmap() can pull it from under a waiting thread. The struct itself lives until the
// finalizer has run and no wait holds it (`holds`). Both counts are touched on the JS thread only.

typedef struct mapping {
  void *addr;
  size_t size;
  int live;
  int holds;
  bool detached;  // unmap() or the finalizer has dropped the buffer's share
} mapping_t;

static void mapping_drop_live(mapping_t *m) {
  if (--m->live == 0) munmap(m->addr, m->size);
}

static void mapping_drop_hold(mapping_t *m) {
  if (--m->holds == 0) free(m);
}

static void mapping_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  mapping_t *m = hint;
  if (!m->detached) {
    m->detached = true;
    mapping_drop_live(m);
  }
  mapping_drop_hold(m);
}

// map(fd, size) -> ArrayBuffer
static napi_value map_js(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], buffer;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t fd, size;
  if (!arg_int(env, argv[0], 0, INT_MAX, "fd", &fd)) return NULL;
  if (!arg_int(env, argv[1], 1, 9007199254740991.0, "size", &size)) return NULL;
  // Touching a page past the end of the file kills the process with SIGBUS: refuse up front.
  struct stat st;
  if (fstat((int)fd, &st) != 0) return throw_errno(env, errno, "fstat", "cannot map fd %lld", (long long)fd);
  if ((int64_t)st.st_size < size) {
    char msg[200];
    snprintf(msg, sizeof msg, "size %lld is larger than the segment (%lld bytes): size the segment first (fs.ftruncateSync)",
             (long long)size, (long long)st.st_size);
    return throw_range(env, msg);
  }
  void *addr = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
  if (addr == MAP_FAILED) return throw_errno(env, errno, "mmap", "cannot map %lld bytes of fd %lld", (long long)size, (long long)fd);
  mapping_t *m = malloc(sizeof *m);
  if (m == NULL) {
    munmap(addr, (size_t)size);
    return throw_errno(env, ENOMEM, "malloc", "cannot map fd %lld", (long long)fd);
  }
  *m = (mapping_t){.addr = addr, .size = (size_t)size, .live = 1, .holds = 1, .detached = false};
  napi_status s = napi_create_external_arraybuffer(env, addr, (size_t)size, mapping_finalize, m, &buffer);
  if (s != napi_ok) {
    munmap(addr, (size_t)size);
    free(m);
    if (s == napi_no_external_buffers_allowed) {
      napi_throw_error(env, "ERR_MULTIPROC_NO_EXTERNAL_BUFFERS",
                       "this runtime refuses external ArrayBuffers (its V8 memory sandbox is on, as in Electron): "
                       "shared memory cannot be handed to JavaScript here");
      return NULL;
    }
    CALL(env, s);
  }
  // The wrap lets wait/wake/waitAsync find the mapping of a view, and refuse views over other memory.
  s = napi_wrap(env, buffer, m, NULL, NULL, NULL);
  if (s != napi_ok) CALL(env, s);  // the finalizer still unmaps
  return buffer;
}

static mapping_t *mapping_of(napi_env env, napi_value buffer) {
  void *m = NULL;
  if (napi_unwrap(env, buffer, &m) != napi_ok) {
    // napi_unwrap throws nothing on a foreign object, but be sure no exception is left pending.
    napi_value ignored;
    bool pending;
    napi_is_exception_pending(env, &pending);
    if (pending) napi_get_and_clear_last_exception(env, &ignored);
    return NULL;
  }
  return m;
}

// unmap(buffer): munmap now (unless an async wait still holds it) and detach the buffer, so every
// view over it reads length 0 instead of touching unmapped memory. Twice is a no-op.
static napi_value unmap_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool is_ab = false;
  napi_is_arraybuffer(env, argv[0], &is_ab);
  mapping_t *m = is_ab ? mapping_of(env, argv[0]) : NULL;
  if (m == NULL) return throw_type(env, "buffer must be an ArrayBuffer returned by map()");
  if (m->detached) return NULL;
  CALL(env, napi_detach_arraybuffer(env, argv[0]));
  m->detached = true;
  mapping_drop_live(m);
  return NULL;
}

// The word view[index] of an Int32Array over a live mapping, or NULL with an exception.
static int32_t *word_of(napi_env env, napi_value view, napi_value index, mapping_t **out) {
  bool is_ta = false;
  napi_is_typedarray(env, view, &is_ta);
  if (!is_ta) return (throw_type(env, "view must be an Int32Array over memory from map()"), NULL);
  napi_typedarray_type type;
  size_t length, offset;
  void *data;
  napi_value buffer;
  if (napi_get_typedarray_info(env, view, &type, &length, &data, &buffer, &offset) != napi_ok || type != napi_int32_array)
    return (throw_type(env, "view must be an Int32Array over memory from map()"), NULL);
  mapping_t *m = mapping_of(env, buffer);
  if (m == NULL) return (throw_type(env, "view must be an Int32Array over memory from map()"), NULL);
  int64_t i;
  if (!arg_int(env, index, 0, 9007199254740991.0, "index", &i)) return NULL;
  if (m->detached || data == NULL) return (throw_range(env, "the view's memory was unmapped"), NULL);
  if ((uint64_t)i >= length) {
    char msg[120];
    snprintf(msg, sizeof msg, "index %lld is out of the view's bounds (length %zu)", (long long)i, length);
    return (throw_range(env, msg), NULL);
  }
  int32_t *word = (int32_t *)data + i;
  // A view cannot reach past its buffer, but keep the check where a bug would cost a segfault.
  if ((char *)word < (char *)m->addr || (char *)(word + 1) > (char *)m->addr + m->size || ((uintptr_t)word & 3) != 0)
    return (throw_range(env, "index is outside the mapping"), NULL);
  *out = m;
  return word;
}

// ---------------------------------------------------------------------------------------------
// Waiting and waking

static struct timespec deadline_after(double ms) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  double whole = floor(ms / 1000.0);
  ts.tv_sec += (time_t)whole;
  ts.tv_nsec += (long)((ms - whole * 1000.0) * 1e6);
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

// Infinite when ms is NaN, infinite, or too long for a time_t to matter (> ~31 years).
static bool is_forever(double ms) { return isnan(ms) || ms > 1e12; }

// One blocking wait on a shared word until `deadline` (NULL: none). Returns a WAIT_* code.
// EINTR waits again for the time left; a value that changed across the interruption counts as a
// wake ('ok'), as it usually means a waker changed it while we were out of the kernel.
static int wait_word(int32_t *word, int32_t expected, const struct timespec *deadline, atomic_int *cancelled) {
  bool first = true;
  for (;;) {
    if (cancelled != NULL && atomic_load(cancelled)) return WAIT_CANCELLED;
#if defined(__linux__)
    // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, so retries need no arithmetic.
    long rc = syscall(SYS_futex, word, FUTEX_WAIT_BITSET, expected, deadline, NULL, FUTEX_BITSET_MATCH_ANY);
    int err = rc == 0 ? 0 : errno;
#else
    int err = 0;
    if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != expected) {
      err = EAGAIN;
    } else {
      uint32_t timeout_us = 0;  // 0: no timeout
      if (deadline != NULL) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double left = (double)(deadline->tv_sec - now.tv_sec) * 1e6 + (double)(deadline->tv_nsec - now.tv_nsec) / 1e3;
        if (left <= 0) return WAIT_TIMED_OUT;
        timeout_us = left > 4e9 ? 4000000000u : (uint32_t)ceil(left);
      }
      int rc = __ulock_wait(UL_COMPARE_AND_WAIT_SHARED, word, (uint64_t)(uint32_t)expected, timeout_us);
      err = rc >= 0 ? 0 : errno;
      if (err == ETIMEDOUT && deadline != NULL) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec < deadline->tv_sec || (now.tv_sec == deadline->tv_sec && now.tv_nsec < deadline->tv_nsec)) err = EINTR;
      }
    }
#endif
    if (err == 0) return cancelled != NULL && atomic_load(cancelled) ? WAIT_CANCELLED : WAIT_OK;
    if (err == EAGAIN) return first ? WAIT_NOT_EQUAL : WAIT_OK;
    if (err == ETIMEDOUT) return WAIT_TIMED_OUT;
    if (err != EINTR) return -err;
    first = false;
  }
}

static int wake_word(int32_t *word, int count) {
#if defined(__linux__)
  long rc = syscall(SYS_futex, word, FUTEX_WAKE, count, NULL, NULL, 0);
  return rc < 0 ? 0 : (int)rc;
#else
  // __ulock_wake does not count: report 1 when it woke someone (all of them for count > 1).
  int rc = __ulock_wake(UL_COMPARE_AND_WAIT_SHARED | (count > 1 ? ULF_WAKE_ALL : 0), word, 0);
  return rc == 0 ? 1 : 0;
#endif
}

static napi_value wait_result(napi_env env, napi_value *out, int code) {
  if (code < 0) return throw_errno(env, -code, "futex", "waiting on a shared word failed");
  CALL(env, napi_create_int32(env, code, out));
  return *out;
}

// wait(view, index, expected, timeoutMs) -> 0 ok | 1 not-equal | 2 timed-out; blocks this thread.
static napi_value wait_js(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], result;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  mapping_t *m;
  int32_t *word = word_of(env, argv[0], argv[1], &m);
  if (word == NULL) return NULL;
  int64_t expected;
  double ms;
  if (!arg_int(env, argv[2], INT32_MIN, INT32_MAX, "expected", &expected)) return NULL;
  if (!arg_number(env, argv[3], &ms)) return throw_type(env, "timeoutMs must be a number");
  struct timespec deadline = deadline_after(ms > 0 ? ms : 0);
  return wait_result(env, &result, wait_word(word, (int32_t)expected, is_forever(ms) ? NULL : &deadline, NULL));
}

static int wake_count(double count) { return isnan(count) || count >= INT_MAX ? INT_MAX : count < 0 ? 0 : (int)count; }

// wake(view, index, count) -> how many woke
static napi_value wake_js(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  mapping_t *m;
  int32_t *word = word_of(env, argv[0], argv[1], &m);
  if (word == NULL) return NULL;
  double count;
  if (!arg_number(env, argv[2], &count)) return throw_type(env, "count must be a number");
  CALL(env, napi_create_int32(env, wake_word(word, wake_count(count)), &result));
  return result;
}

// ---------------------------------------------------------------------------------------------
// Async waits
//
// Each pending waitAsync parks one thread of our own in the kernel (never libuv's threadpool,
// whose 4 threads it would starve: fs, dns and zlib would stall behind the waits). Idle threads
// are kept a while for the next wait. The result comes back to the JS thread through one
// thread-safe function per env, ref'd while any wait of that env is pending, so a pending wait
// keeps the process alive. cancel() sets a flag and wakes every waiter on the word (the only way
// to reach a thread sleeping in the kernel): other waiters on that word, in any process, see a
// spurious wake and must re-check their condition, as futex users always must.

typedef struct env_data env_data_t;

typedef struct waiter {
  struct waiter *next;       // in the pool's queue, then in the env's pending list
  struct waiter *pending_prev, *pending_next;
  env_data_t *ed;
  mapping_t *m;
  int32_t *word;
  int32_t expected;
  bool forever;
  struct timespec deadline;
  atomic_int cancelled;
  int result;
  uint32_t id;
  napi_ref callback;
} waiter_t;

struct env_data {
  napi_threadsafe_function tsfn;
  waiter_t *pending;         // JS thread only
  uint32_t pending_count;    // JS thread only
  uint32_t next_id;
  pthread_mutex_t mu;        // guards running (threads that may still call the tsfn)
  pthread_cond_t cv;
  uint32_t running;
};

static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  waiter_t *head, *tail;
  int queued, idle;
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, 0, 0};

#define IDLE_SECONDS 10

static void run_waiter(waiter_t *w) {
  int r = wait_word(w->word, w->expected, w->forever ? NULL : &w->deadline, &w->cancelled);
  w->result = r;
  env_data_t *ed = w->ed;
  // Queued for the JS thread; during teardown the tsfn hands it back with env == NULL.
  napi_call_threadsafe_function(ed->tsfn, w, napi_tsfn_nonblocking);
  pthread_mutex_lock(&ed->mu);
  if (--ed->running == 0) pthread_cond_broadcast(&ed->cv);
  pthread_mutex_unlock(&ed->mu);
}

static void *pool_thread(void *first) {
  if (first != NULL) run_waiter(first);
  pthread_mutex_lock(&pool.mu);
  for (;;) {
    while (pool.head == NULL) {
      struct timespec until;
      clock_gettime(CLOCK_REALTIME, &until);
      until.tv_sec += IDLE_SECONDS;
      pool.idle++;
      int rc = pthread_cond_timedwait(&pool.cv, &pool.mu, &until);
      pool.idle--;
      if (rc == ETIMEDOUT && pool.head == NULL) {
        pthread_mutex_unlock(&pool.mu);
        return NULL;
      }
    }
    waiter_t *w = pool.head;
    pool.head = w->next;
    if (pool.head == NULL) pool.tail = NULL;
    pool.queued--;
    pthread_mutex_unlock(&pool.mu);
    run_waiter(w);
    pthread_mutex_lock(&pool.mu);
  }
}

// Hands w to an idle thread, or to a new one. Returns an errno on failure.
static int pool_submit(waiter_t *w) {
  pthread_mutex_lock(&pool.mu);
  if (pool.idle > pool.queued) {
    w->next = NULL;
    if (pool.tail) pool.tail->next = w;
    else pool.head = w;
    pool.tail = w;
    pool.queued++;
    pthread_cond_signal(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
    return 0;
  }
  pthread_mutex_unlock(&pool.mu);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);  // it runs one syscall loop
  pthread_t t;
  int rc = pthread_create(&t, &attr, pool_thread, w);
  pthread_attr_destroy(&attr);
  return rc;
}

static void pending_remove(napi_env env, env_data_t *ed, waiter_t *w) {
  if (w->pending_prev) w->pending_prev->pending_next = w->pending_next;
  else ed->pending = w->pending_next;
  if (w->pending_next) w->pending_next->pending_prev = w->pending_prev;
  if (--ed->pending_count == 0 && ed->tsfn != NULL) napi_unref_threadsafe_function(env, ed->tsfn);
}

// On the JS thread: settle one wait. env is NULL when the tsfn is torn down with the env.
static void call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)js_cb;
  (void)context;
  waiter_t *w = data;
  if (env != NULL) {
    env_data_t *ed = w->ed;
    pending_remove(env, ed, w);
    napi_value callback, global, arg;
    if (napi_get_reference_value(env, w->callback, &callback) == napi_ok && callback != NULL) {
      napi_get_global(env, &global);
      napi_create_int32(env, w->result, &arg);
      // A throwing callback is an uncaught exception, as from any other callback.
      if (napi_call_function(env, global, callback, 1, &arg, NULL) == napi_pending_exception) {
        napi_value error;
        if (napi_get_and_clear_last_exception(env, &error) == napi_ok) napi_fatal_exception(env, error);
      }
    }
    napi_delete_reference(env, w->callback);
  }
  mapping_drop_live(w->m);
  mapping_drop_hold(w->m);
  free(w);
}

// waitAsync(view, index, expected, timeoutMs, callback(code)) -> id for cancel()
static napi_value wait_async_js(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], result;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  env_data_t *ed;
  CALL(env, napi_get_instance_data(env, (void **)&ed));
  mapping_t *m;
  int32_t *word = word_of(env, argv[0], argv[1], &m);
  if (word == NULL) return NULL;
  int64_t expected;
  double ms;
  napi_valuetype t;
  if (!arg_int(env, argv[2], INT32_MIN, INT32_MAX, "expected", &expected)) return NULL;
  if (!arg_number(env, argv[3], &ms)) return throw_type(env, "timeoutMs must be a number");
  if (napi_typeof(env, argv[4], &t) != napi_ok || t != napi_function) return throw_type(env, "done must be a function");
  waiter_t *w = calloc(1, sizeof *w);
  if (w == NULL) return throw_errno(env, ENOMEM, "calloc", "cannot start an async wait");
  w->ed = ed;
  w->m = m;
  w->word = word;
  w->expected = (int32_t)expected;
  w->forever = is_forever(ms);
  w->deadline = deadline_after(ms > 0 ? ms : 0);
  atomic_init(&w->cancelled, 0);
  w->id = ++ed->next_id;
  if (napi_create_reference(env, argv[4], 1, &w->callback) != napi_ok) {
    free(w);
    CALL(env, napi_generic_failure);
  }
  pthread_mutex_lock(&ed->mu);
  ed->running++;
  pthread_mutex_unlock(&ed->mu);
  int rc = pool_submit(w);
  if (rc != 0) {
    pthread_mutex_lock(&ed->mu);
    ed->running--;
    pthread_mutex_unlock(&ed->mu);
    napi_delete_reference(env, w->callback);
    free(w);
    return throw_errno(env, rc, "pthread_create", "cannot start a thread for an async wait");
  }
  // The thread holds the memory mapped until the wait settles, whatever unmap() or GC do meanwhile.
  m->live++;
  m->holds++;
  w->pending_next = ed->pending;
  if (ed->pending) ed->pending->pending_prev = w;
  ed->pending = w;
  if (ed->pending_count++ == 0) napi_ref_threadsafe_function(env, ed->tsfn);
  CALL(env, napi_create_uint32(env, w->id, &result));
  return result;
}

// cancel(id) -> whether the wait was still pending. Callable again: the wrapper repeats it until the
// wait settles, since a cancel that lands between the thread's flag check and its entry into the
// kernel would otherwise be missed.
static napi_value cancel_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  env_data_t *ed;
  CALL(env, napi_get_instance_data(env, (void **)&ed));
  uint32_t id;
  if (napi_get_value_uint32(env, argv[0], &id) != napi_ok) return throw_type(env, "id must be a number");
  bool found = false;
  for (waiter_t *w = ed->pending; w != NULL; w = w->pending_next) {
    if (w->id == id) {
      atomic_store(&w->cancelled, 1);
      wake_word(w->word, INT_MAX);
      found = true;
      break;
    }
  }
  CALL(env, napi_get_boolean(env, found, &result));
  return result;
}

// Env teardown (a worker_thread ending, or the main env at exit): cancel every pending wait and
// wait until no thread can call the tsfn any more, which Node frees right after this hook.
static void env_cleanup(void *arg) {
  env_data_t *ed = arg;
  for (;;) {
    for (waiter_t *w = ed->pending; w != NULL; w = w->pending_next) {
      atomic_store(&w->cancelled, 1);
      wake_word(w->word, INT_MAX);
    }
    pthread_mutex_lock(&ed->mu);
    if (ed->running == 0) {
      pthread_mutex_unlock(&ed->mu);
      break;
    }
    // Wake again in a moment if a thread had not yet entered the kernel when we woke the word.
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 2000000;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&ed->cv, &ed->mu, &until);
    bool done = ed->running == 0;
    pthread_mutex_unlock(&ed->mu);
    if (done) break;
  }
}

static void env_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  env_data_t *ed = data;
  pthread_mutex_destroy(&ed->mu);
  pthread_cond_destroy(&ed->cv);
  free(ed);
}

// ---------------------------------------------------------------------------------------------
// Process start times

// processStartTime(pid) -> bigint, or null when there is no such process or it is a zombie.
// Linux: clock ticks since boot (field 22 of /proc/<pid>/stat); macOS: microseconds since the epoch.
static napi_value process_start_time_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t pid;
  if (!arg_int(env, argv[0], 1, INT32_MAX, "pid", &pid)) return NULL;
#if defined(__linux__)
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%lld/stat", (long long)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ESRCH) return (napi_get_null(env, &result), result);
    return throw_errno(env, errno, "open", "cannot read %s", path);
  }
  ssize_t n;
  do n = read(fd, buf, sizeof buf - 1);
  while (n < 0 && errno == EINTR);
  int err = errno;
  close(fd);
  if (n < 0) {
    if (err == ESRCH) return (napi_get_null(env, &result), result);  // it died between open and read
    return throw_errno(env, err, "read", "cannot read %s", path);
  }
  buf[n] = 0;
  // The command name (field 2) is in parentheses and may itself hold ") ": parse after the last ')'.
  char *p = strrchr(buf, ')');
  if (p == NULL || p[1] != ' ') return throw_errno(env, EINVAL, "read", "cannot parse %s", path);
  char state = p[2];
  if (state == 'Z' || state == 'X' || state == 'x') return (napi_get_null(env, &result), result);
  p += 2;  // field 3
  for (int field = 3; field < 22; field++) {
    p = strchr(p, ' ');
    if (p == NULL) return throw_errno(env, EINVAL, "read", "cannot parse %s", path);
    p++;
  }
  unsigned long long start = strtoull(p, NULL, 10);
  CALL(env, napi_create_bigint_uint64(env, start, &result));
  return result;
#else
  struct proc_bsdinfo bi;
  int n = proc_pidinfo((int)pid, PROC_PIDTBSDINFO, 0, &bi, sizeof bi);
  if (n != (int)sizeof bi) {
    if (errno == ESRCH || errno == 0) return (napi_get_null(env, &result), result);
    return throw_errno(env, errno, "proc_pidinfo", "cannot read the start time of pid %lld", (long long)pid);
  }
  if (bi.pbi_status == SZOMB) return (napi_get_null(env, &result), result);
  CALL(env, napi_create_bigint_uint64(env, (uint64_t)bi.pbi_start_tvsec * 1000000u + bi.pbi_start_tvusec, &result));
  return result;
#endif
}

// ---------------------------------------------------------------------------------------------
// Ending the process

// exitNow(code): _exit(code), as Python's os._exit. Node's own exit (after the 'exit' listeners)
// tears down V8's platform and libuv's threadpool, ~1 ms, and can hang for good there
// (nodejs/node#54918); the kernel frees all of it anyway.
static napi_value exit_now_js(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int64_t code;
  if (!arg_int(env, argv[0], 0, 255, "code", &code)) return NULL;
  _exit((int)code);
}

// ---------------------------------------------------------------------------------------------

EXPORT napi_value napi_register_module_v1(napi_env env, napi_value exports) {
  env_data_t *ed = calloc(1, sizeof *ed);
  if (ed == NULL) return NULL;
  pthread_mutex_init(&ed->mu, NULL);
  pthread_cond_init(&ed->cv, NULL);
  napi_value name;
  CALL(env, napi_create_string_utf8(env, "multiproc wait", NAPI_AUTO_LENGTH, &name));
  CALL(env, napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, NULL, call_js, &ed->tsfn));
  // Unref'd until a wait is pending: an idle addon never keeps a process alive.
  CALL(env, napi_unref_threadsafe_function(env, ed->tsfn));
  CALL(env, napi_set_instance_data(env, ed, env_finalize, NULL));
  // Added after the tsfn, so it runs before the tsfn's own teardown (cleanup hooks run in reverse).
  CALL(env, napi_add_env_cleanup_hook(env, env_cleanup, ed));

  napi_property_descriptor props[] = {
      {"shmOpen", NULL, shm_open_js, NULL, NULL, NULL, napi_default, NULL},
      {"shmUnlink", NULL, shm_unlink_js, NULL, NULL, NULL, napi_default, NULL},
      {"anonymous", NULL, anonymous_js, NULL, NULL, NULL, napi_default, NULL},
      {"map", NULL, map_js, NULL, NULL, NULL, napi_default, NULL},
      {"unmap", NULL, unmap_js, NULL, NULL, NULL, napi_default, NULL},
      {"wait", NULL, wait_js, NULL, NULL, NULL, napi_default, NULL},
      {"wake", NULL, wake_js, NULL, NULL, NULL, napi_default, NULL},
      {"waitAsync", NULL, wait_async_js, NULL, NULL, NULL, napi_default, NULL},
      {"cancel", NULL, cancel_js, NULL, NULL, NULL, napi_default, NULL},
      {"processStartTime", NULL, process_start_time_js, NULL, NULL, NULL, napi_default, NULL},
      {"exitNow", NULL, exit_now_js, NULL, NULL, NULL, napi_default, NULL},
  };
  CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}
