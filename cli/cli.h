/* cli.h: the planmetrics command's shared pieces: sub-command entry points, output helpers. */
#ifndef PM_CLI_H
#define PM_CLI_H

#include <stdio.h>

#include "planmetrics/planmetrics.h"
#include "planmetrics/query.h"

/* Exit codes of every sub-command (METRICS.md §4). */
enum { PM_EXIT_OK = 0, PM_EXIT_MISSED = 1, PM_EXIT_ERROR = 2 };

/* Options every sub-command accepts. */
typedef struct pm_cli {
  pm_context *ctx;
  int quiet;     /* --quiet: no notices, no progress */
  int tty;       /* stderr is a terminal: show progress bars */
  int color;     /* stdout is a terminal and NO_COLOR is unset */
} pm_cli;

/* Print the context's error as "planmetrics: error: ..." on stderr and return PM_EXIT_ERROR. */
int pm_cli_fail(pm_cli *cli);
/* Print a usage error for a sub-command and return PM_EXIT_ERROR. */
int pm_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One file a sub-command writes (or, with input set, reads and must not overwrite). */
typedef struct pm_cli_output {
  const char *option; /* as the user wrote it: "--json", "--db" */
  const char *path;   /* NULL: not given; "-": standard output */
  int input;          /* a file the command reads (the project database): no output may be it */
} pm_cli_output;
/* The one check of a sub-command's outputs, before any work is done: each output's directory is
 * writable; at most one output goes to standard output ("-"; none when stdout_ok is 0); no two
 * outputs are the same file, nor an output an input, however spelled (x, ./x, d/../x, a link:
 * compared by device and inode when the file exists, by resolved path otherwise; /dev/null takes
 * any number). Returns -1 with the error in cli->ctx (the caller exits 2), 0 when fine. */
int pm_cli_check_outputs(pm_cli *cli, const pm_cli_output *outs, size_t n, int stdout_ok);
/* A --timeout value: seconds, a decimal number >= 0 (0: no limit). 1 when valid. */
int pm_cli_parse_seconds(const char *s, double *out);
/* Install notice and progress printers on cli->ctx according to quiet/tty. */
void pm_cli_setup_output(pm_cli *cli);

int pm_cmd_ingest(pm_cli *cli, int argc, char **argv);
int pm_cmd_info(pm_cli *cli, int argc, char **argv);
int pm_cmd_run(pm_cli *cli, int argc, char **argv);
int pm_cmd_query(pm_cli *cli, int argc, char **argv);
int pm_cmd_export(pm_cli *cli, int argc, char **argv);
int pm_cmd_report(pm_cli *cli, int argc, char **argv);
int pm_cmd_sql(pm_cli *cli, int argc, char **argv);
int pm_cmd_history(pm_cli *cli, int argc, char **argv);
int pm_cmd_metrics(pm_cli *cli, int argc, char **argv);
int pm_cmd_network(pm_cli *cli, int argc, char **argv);

/* The walking-network options of the network commands (query reach, query route, network info),
 * as written on the command line (NULL: not given). */
typedef struct pm_cli_netopts {
  const char *layer, *where, *connect, *max_snap, *min_piece, *access_width;
} pm_cli_netopts;
/* o into q (after pm_network_query_init). Returns -1 when fine, else the exit code of a usage
 * error printed for cmd (a number that is not metres, a misspelt connect). Ranges are the
 * library's to check. */
int pm_cli_netopts_parse(const char *cmd, const pm_cli_netopts *o, pm_network_query *q);
/* Without a layer in q: the network of the project's latest run (its layer, filter and numbers,
 * each unless q has its own; a notice says so), else q is left as it is (the library's default,
 * `roads`). *rec holds the strings q then borrows: pm_cli_netopts_clear it after use. */
void pm_cli_netopts_default(pm_cli *cli, pm_store *store, pm_network_query *q,
                            pm_network_spec *rec);
void pm_cli_netopts_clear(pm_network_spec *rec);

#endif
