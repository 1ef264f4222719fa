/* Running the real nst program from a test ($NST_BIN, through $NST_RUN,
 * e.g. an emulator, if set). */
#ifndef NST_RUNNER_H
#define NST_RUNNER_H

#include <stddef.h>
#include <sys/types.h>

/* Runs `nst ARGS` to the end with stderr in err; the exit status. */
int tu_nst(const char *args, char *err, size_t size);

/* Starts `nst ARGS` in the background with stderr to err_path. */
pid_t tu_nst_start(const char *args, const char *err_path);

/* Waits for a started nst; its exit status (the test fails if it did not
 * exit). */
int tu_nst_wait(pid_t pid);

/* Sends SIGINT to a started nst, which must exit with status 130 and say
 * on stderr (err_path, read into err) "interrupted after N of ...";
 * returns N. */
int tu_nst_interrupt(pid_t pid, const char *err_path, char *err,
                     size_t size);

/* The contents of path (at most size - 1 bytes), "" if it is missing. */
void tu_read_text(const char *path, char *buf, size_t size);

/* Fails unless out/gen_<pair>/pair.txt holds each of the n texts of
 * lines. */
void tu_assert_pair_txt(const char *out, int pair, const char *const *lines,
                        size_t n);

/* Size of path in bytes, -1 if it is missing. */
long tu_file_size(const char *path);

/* 1 if the two files hold the same bytes. */
int tu_same_bytes(const char *a, const char *b);

/* Columns of an nst --log: iter,total,content,style,tv,seconds,size. */
enum { TU_LOG_COLS = 7 };

/* The rows of the --log at path (at most max); the test fails on another
 * header or a row that is not 7 numbers. */
int tu_read_log(const char *path, double rows[][TU_LOG_COLS], int max);

/* Exactly one line on stderr, naming `what`. */
void tu_assert_one_line_naming(const char *err, const char *what);

#endif
