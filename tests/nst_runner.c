#include "nst_runner.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

/* "PRE 'BIN' ARGS" */
static void command(const char *args, char *cmd, size_t size)
{
    const char *bin = getenv("NST_BIN"), *pre = getenv("NST_RUN");
    ck_assert_ptr_nonnull(bin);
    ck_assert_int_lt(snprintf(cmd, size, "%s '%s' %s", pre ? pre : "", bin,
                              args),
                     (int)size);
}

void tu_read_text(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, size - 1, f) : 0;
    buf[n] = 0;
    if (f)
        fclose(f);
}

void tu_assert_pair_txt(const char *out, int pair, const char *const *lines,
                        size_t n)
{
    char path[8400], text[4096];
    snprintf(path, sizeof path, "%s/gen_%d/pair.txt", out, pair);
    tu_read_text(path, text, sizeof text);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(strstr(text, lines[i]), "%s lacks '%s': %s", path,
                      lines[i], text);
}

int tu_nst(const char *args, char *err, size_t size)
{
    char tmp[4096], tag[64], cmd[65536], line[75000];
    /* One folder per test program: make check may run several at once. */
    snprintf(tag, sizeof tag, "nst_stderr_%ld", (long)getpid());
    tu_tmpdir(tag, tmp, sizeof tmp);
    command(args, cmd, sizeof cmd);
    /* timeout turns a hang (exit status 124) into a failure. */
    snprintf(line, sizeof line, "timeout 600 %s >'%s/out' 2>'%s/err'", cmd,
             tmp, tmp);
    int st = system(line);
    ck_assert(st != -1 && WIFEXITED(st));
    char path[4200];
    snprintf(path, sizeof path, "%s/err", tmp);
    tu_read_text(path, err, size);
    return WEXITSTATUS(st);
}

pid_t tu_nst_start(const char *args, const char *err_path)
{
    char cmd[65536], line[75000];
    command(args, cmd, sizeof cmd);
    /* exec: the signals a test sends reach nst, not a shell. */
    snprintf(line, sizeof line, "exec %s >/dev/null 2>'%s'", cmd, err_path);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", line, (char *)NULL);
        _exit(127);
    }
    return pid;
}

int tu_nst_wait(pid_t pid)
{
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st), "nst did not exit (signal %d)",
                  WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return WEXITSTATUS(st);
}

int tu_nst_interrupt(pid_t pid, const char *err_path, char *err,
                     size_t size)
{
    ck_assert_int_eq(kill(pid, SIGINT), 0);
    ck_assert_int_eq(tu_nst_wait(pid), 130);
    tu_read_text(err_path, err, size);
    int done = -1;
    const char *says = strstr(err, "interrupted after ");
    ck_assert_msg(says && sscanf(says, "interrupted after %d", &done) == 1,
                  "%s", err);
    return done;
}

long tu_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

int tu_same_bytes(const char *a, const char *b)
{
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

int tu_read_log(const char *path, double rows[][TU_LOG_COLS], int max)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s: cannot open", path);
    char line[512];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "iter,total,content,style,tv,seconds,size\n");
    int n = 0;
    while (n < max && fgets(line, sizeof line, f)) {
        double *r = rows[n++];
        ck_assert_int_eq(sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf,%lf", &r[0],
                                &r[1], &r[2], &r[3], &r[4], &r[5], &r[6]),
                         TU_LOG_COLS);
    }
    fclose(f);
    return n;
}

void tu_assert_one_line_naming(const char *err, const char *what)
{
    ck_assert_msg(strstr(err, what), "error does not name %s: %s", what, err);
    const char *nl = strchr(err, '\n');
    ck_assert_msg(nl && nl[1] == 0, "not one line: %s", err);
}
