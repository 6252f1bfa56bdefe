/* log.h: leveled log lines on stderr (the journal under systemd). */
#ifndef EBPF_FORWARD_LOG_H
#define EBPF_FORWARD_LOG_H

#include "config.h"

void log_set_level(enum config_log_level level);

/* printf-style; one line, newline added. */
void log_msg(enum config_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
