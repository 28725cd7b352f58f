/* output.c: files the writers produce whole or not at all: a temporary file renamed into place. */
#define _POSIX_C_SOURCE 200809L
#include "report/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *extension_of(const char *path) {
  const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
  return dot && (!slash || dot > slash) ? dot : "";
}

static pm_status cannot_create(pm_context *ctx, const pm__output *o, int err) {
  return pm_error(ctx, PM_EIO,
                  "%s: cannot write the %s (%s); check that the directory exists and is writable",
                  o->path, o->what, strerror(err));
}

/* A symbolic link to an open descriptor (/dev/stdout, /dev/fd/3, /proc/self/fd/1): the file
 * behind it must be written through the descriptor, never replaced (replacing would turn
 * /dev/stdout itself into a file). */
static int descriptor_link(const char *path) {
  char target[64];
  ssize_t n = readlink(path, target, sizeof target - 1);
  if (n < 0) return 0;
  target[n] = '\0';
  return strncmp(target, "/proc/", 6) == 0 || strncmp(path, "/dev/", 5) == 0 ||
         strncmp(path, "/proc/", 6) == 0;
}

/* Common start: "-", non-regular files and descriptor links are written in place; a symbolic
 * link to a file is followed (the file it names is replaced, the link kept); otherwise a
 * temporary file beside the file (created, fd returned) keeping its extension when keep_ext. */
static pm_status start(pm_context *ctx, pm__output *o, const char *path, const char *what,
                       int keep_ext, int *fd) {
  memset(o, 0, sizeof *o);
  o->path = path;
  o->what = what;
  *fd = -1;
  if (!path || !*path) return pm_error(ctx, PM_EINPUT, "no file name given for the %s", what);
  struct stat sb;
  if (strcmp(path, "-") == 0 || (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode))) {
    o->in_place = 1;
    return PM_OK;
  }
  if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
    if (descriptor_link(path) || !(o->target = realpath(path, NULL))) {
      o->in_place = 1; /* a descriptor, or a link to a file still to be created: write through */
      return PM_OK;
    }
  }
  const char *file = o->target ? o->target : path;
  const char *ext = keep_ext ? extension_of(file) : "";
  pm_status st = pm_asprintf(ctx, &o->tmp, "%s.tmp-XXXXXX%s", file, ext);
  if (st) return st;
  if (st) {
    free(o->target);
    o->target = NULL;
    return st;
  }
  *fd = mkstemps(o->tmp, (int)strlen(ext));
  if (*fd < 0) {
    st = cannot_create(ctx, o, errno);
    free(o->tmp);
    o->tmp = NULL;
    free(o->target);
    o->target = NULL;
    return st;
  }
  /* mkstemps creates 0600; an output is an ordinary file (keep the mode of one being replaced). */
  mode_t mode = stat(file, &sb) == 0 ? (sb.st_mode & 0777) : 0644;
  (void)fchmod(*fd, mode); /* best effort: a file with the wrong mode is still the file */
  return PM_OK;
}

pm_status pm__output_open(pm_context *ctx, pm__output *o, const char *path, const char *what) {
  int fd;
  pm_status st = start(ctx, o, path, what, 0, &fd);
  if (st) return st;
  if (o->in_place) {
    if (strcmp(path, "-") == 0) {
      o->f = stdout;
      return PM_OK;
    }
    o->f = fopen(path, "wb");
    return o->f ? PM_OK : cannot_create(ctx, o, errno);
  }
  o->f = fdopen(fd, "wb");
  if (!o->f) {
    st = cannot_create(ctx, o, errno);
    close(fd);
    unlink(o->tmp);
    free(o->tmp);
    o->tmp = NULL;
  }
  return st;
}

pm_status pm__output_reserve(pm_context *ctx, pm__output *o, const char *path, const char *what) {
  int fd;
  pm_status st = start(ctx, o, path, what, 1, &fd);
  if (st) return st;
  if (o->in_place)
    return pm_error(ctx, PM_EINPUT, "%s: the %s must be written to a regular file", path, what);
  close(fd);
  unlink(o->tmp); /* the library creates it; the random name stays ours in practice */
  return PM_OK;
}

pm_status pm__output_close(pm_context *ctx, pm__output *o, pm_status st) {
  int err = 0;
  if (o->f) {
    if (!st && (fflush(o->f) != 0 || ferror(o->f))) err = errno ? errno : EIO;
    if (!st && !err && o->tmp && fsync(fileno(o->f)) != 0) err = errno;
    if (o->f == stdout)
      clearerr(stdout);
    else if (fclose(o->f) != 0 && !st && !err)
      err = errno ? errno : EIO;
    o->f = NULL;
  }
  if (!st && !err && o->tmp && rename(o->tmp, o->target ? o->target : o->path) != 0) err = errno;
  if (o->tmp && (st || err)) unlink(o->tmp);
  if (!st && err)
    st = o->in_place && strcmp(o->path, "-") == 0
             ? pm_error(ctx, PM_EIO, "cannot write the %s to standard output (%s)", o->what,
                        strerror(err))
             : pm_error(ctx, PM_EIO,
                        "%s: cannot write the %s (%s); nothing was written, check the disk "
                        "space and that the path is a writable file",
                        o->path, o->what, strerror(err));
  free(o->tmp);
  o->tmp = NULL;
  free(o->target);
  o->target = NULL;
  return st;
}

pm_status pm__output_stage(pm_context *ctx, pm__output *o, const char *path, const char *what) {
  int fd;
  pm_status st = start(ctx, o, path, what, 0, &fd);
  if (st) return st;
  if (o->in_place) {
    o->f = open_memstream(&o->buf, &o->len);
    return o->f ? PM_OK : pm_error(ctx, PM_ENOMEM, "out of memory");
  }
  o->f = fdopen(fd, "wb");
  if (!o->f) {
    st = cannot_create(ctx, o, errno);
    close(fd);
    pm__output_discard(o);
  }
  return st;
}

pm_status pm__output_staged(pm_context *ctx, pm__output *o, pm_status st) {
  int err = 0;
  if (o->f) {
    if (!st && (fflush(o->f) != 0 || ferror(o->f))) err = errno ? errno : EIO;
    if (!st && !err && o->tmp && fsync(fileno(o->f)) != 0) err = errno;
    if (fclose(o->f) != 0 && !st && !err) err = errno ? errno : EIO;
    o->f = NULL;
  }
  if (!st && err)
    st = pm_error(ctx, PM_EIO,
                  "%s: cannot write the %s (%s); nothing was written, check the disk space and "
                  "that the path is a writable file",
                  o->path, o->what, strerror(err));
  if (st) pm__output_discard(o);
  return st;
}

pm_status pm__output_publish(pm_context *ctx, pm__output *o) {
  pm_status st = PM_OK;
  int err = 0;
  if (o->tmp) {
    if (rename(o->tmp, o->target ? o->target : o->path) != 0) err = errno;
  } else if (o->in_place) {
    int to_stdout = strcmp(o->path, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(o->path, "wb");
    if (!f) {
      err = errno;
    } else {
      if (o->len && fwrite(o->buf, 1, o->len, f) != o->len) err = errno ? errno : EIO;
      if (fflush(f) != 0 && !err) err = errno ? errno : EIO;
      if (!to_stdout && fclose(f) != 0 && !err) err = errno ? errno : EIO;
    }
  }
  if (err)
    st = pm_error(ctx, PM_EIO, "%s: cannot write the %s (%s)", o->path, o->what, strerror(err));
  if (st) {
    pm__output_discard(o);
    return st;
  }
  free(o->tmp);
  o->tmp = NULL;
  pm__output_discard(o);
  return PM_OK;
}

void pm__output_discard(pm__output *o) {
  if (o->f) fclose(o->f);
  o->f = NULL;
  if (o->tmp) unlink(o->tmp);
  free(o->tmp);
  o->tmp = NULL;
  free(o->target);
  o->target = NULL;
  free(o->buf);
  o->buf = NULL;
  o->len = 0;
}

pm_status pm__output_write_all(pm_context *ctx, const char *path, const char *what,
                               const char *data, size_t len) {
  pm__output o;
  pm_status st = pm__output_open(ctx, &o, path, what);
  if (st) return st;
  (void)fwrite(data, 1, len, o.f); /* a short write sets the stream's error flag: close reports it */
  return pm__output_close(ctx, &o, PM_OK);
}
