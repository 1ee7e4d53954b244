#ifndef PREFLIGHT_CEDIT_SHIM_H
#define PREFLIGHT_CEDIT_SHIM_H
#include <stdio.h>
#include <histedit.h>
#endif
