# Makefile for distdb (PGXS)
#
# "make" builds distdb.so from every C file under src/, "make install"
# installs it into the PostgreSQL given by PG_CONFIG.  "make check" is the
# test command: it installs what the tests need (Debian packages), builds,
# installs, starts a throwaway coordinator + 2 workers as an unprivileged OS
# user, runs the pg_regress suite and the TAP tests, and stops the cluster
# (see test/run_tests.sh).

EXTENSION = distdb
MODULE_big = distdb
DATA = $(wildcard distdb--*.sql)

SOURCES = $(sort $(wildcard src/*.c src/*/*.c))
OBJS = $(SOURCES:.c=.o)

PG_CPPFLAGS = -I$(srcdir)/include -I$(libpq_srcdir)
# warnings are errors; they apply to the C compiler only, not to the
# bitcode compiler
DISTDB_WARNINGS = -Wall -Wextra -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-sign-compare -Wno-clobbered -Werror
SHLIB_LINK_INTERNAL = $(libpq)

PG_CONFIG ?= pg_config

# The check target must work on a machine that has no PostgreSQL
# development files yet, so PGXS is not read for it.
ifeq ($(filter check,$(MAKECMDGOALS)),)
PGXS := $(shell $(PG_CONFIG) --pgxs)
# rebuild objects when the headers they include change
override autodepend = yes
# no LLVM bitcode: distdb gains nothing from JIT inlining
override with_llvm = no
include $(PGXS)
override CFLAGS += $(DISTDB_WARNINGS)
else
.PHONY: check
check:
	bash test/run_tests.sh
endif
