#ifndef PREFLIGHT_CEDIT_SHIM_H
#define PREFLIGHT_CEDIT_SHIM_H
#include <stdio.h>
#include <histedit.h>

/* Swift imports neither C variadic functions (el_set, el_get, history) nor the
   mutable globals stdin/stdout/stderr, so each operation the shell needs is a
   small non-variadic wrapper here. */

typedef char *(*pf_prompt_fn)(EditLine *);
typedef unsigned char (*pf_el_fn)(EditLine *, int);

static inline EditLine *pf_el_init(const char *prog) {
    return el_init(prog, stdin, stdout, stderr);
}

/* The prompt; `esc` brackets invisible characters (ANSI styling) in the prompt string. */
static inline int pf_el_set_prompt(EditLine *el, pf_prompt_fn fn, char esc) {
    return el_set(el, EL_PROMPT_ESC, fn, esc);
}

static inline int pf_el_set_editor(EditLine *el, const char *mode) {
    return el_set(el, EL_EDITOR, mode);
}

static inline int pf_el_set_hist(EditLine *el, History *h) {
    return el_set(el, EL_HIST, history, h);
}

static inline int pf_el_set_clientdata(EditLine *el, void *data) {
    return el_set(el, EL_CLIENTDATA, data);
}

static inline void *pf_el_get_clientdata(EditLine *el) {
    void *data = NULL;
    if (el_get(el, EL_CLIENTDATA, &data) != 0) return NULL;
    return data;
}

/* Binds `key` (e.g. "^I", "^W") to a named editor function. */
static inline int pf_el_bind(EditLine *el, const char *key, const char *fn) {
    return el_set(el, EL_BIND, key, fn, (const char *)NULL);
}

/* Adds a user editor function `name` (bind it with pf_el_bind). */
static inline int pf_el_addfn(EditLine *el, const char *name, const char *help, pf_el_fn fn) {
    return el_set(el, EL_ADDFN, name, help, fn);
}

/* History: each returns history()'s status (0 ok, -1 error). */
static inline int pf_hist_setsize(History *h, int size) {
    HistEvent ev;
    return history(h, &ev, H_SETSIZE, size);
}

static inline int pf_hist_setunique(History *h, int on) {
    HistEvent ev;
    return history(h, &ev, H_SETUNIQUE, on);
}

static inline int pf_hist_enter(History *h, const char *line) {
    HistEvent ev;
    return history(h, &ev, H_ENTER, line);
}

static inline int pf_hist_load(History *h, const char *path) {
    HistEvent ev;
    return history(h, &ev, H_LOAD, path);
}

#endif
