/* SPDX-License-Identifier: MIT */
/*
 * manysites.h - what a generated file of sites (gen_sites.py) gives the
 * many-sites driver (manysites.c): the table of its functions, their
 * number, and their kind ("args3", "noargs" or "empty").
 */
#ifndef BENCH_MANYSITES_H
#define BENCH_MANYSITES_H

typedef void (*ms_site_fn)(int i, double d, const char *s);

extern const ms_site_fn ms_sites[];
extern const unsigned ms_nsites;
extern const char ms_kind[];

#endif
