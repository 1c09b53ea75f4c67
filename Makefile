# posthorn top-level Makefile.
#
# make            build every program into bin/ (-Wall -Wextra -Werror)
# make check      install missing Debian packages (as root), build, run all tests
# make install    DESTDIR=X: commands in X/usr/sbin, daemons in X/usr/libexec/posthorn
# make bench      posthorn vs Postfix (smtp-source/smtp-sink), results in bench/results/
# make bench-profile  per-message syscalls, CPU, context switches by process type (bench/profile.py)
# make bench-cpu  the machine's CPU per message: MTA user/kernel, load, idle (bench/cpu.py)
# make bench-scale  new mail with 100,000 deferred messages; postqueue -p (bench/scale.py)
# make run        a self-contained demo instance in ./run, SMTP on 127.0.0.1:2525
# make asan       build with ASan+UBSan into bin-asan/ and run the tests with it
# make valgrind   the integration tests with every daemon under valgrind
# make fuzz       build the libFuzzer harnesses in tests/fuzz into bin-fuzz/

CC       ?= cc
OPT      ?= -O2 -g
CFLAGS   += $(OPT) -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror \
            -Wno-unused-parameter -Wformat=2 -Wno-format-nonliteral \
            -ffunction-sections -fdata-sections
LDLIBS   += -lpcre2-8 -lresolv -lsasl2
# Berkeley DB: only in dict_db.so (below), in tlsmgr, and in the tests.
DB_LIBS  := -ldb
# OpenSSL: only in posthorn-tls.so (below), in tlsmgr, and in the tests.
TLS_LIBS := -lssl -lcrypto
LDLIBS_tlsmgr := $(TLS_LIBS) $(DB_LIBS)
# Libraries only one program links (the SPF policy service: libspf2).
LDLIBS_policy-spf := -lspf2
.DEFAULT_GOAL := all
BIN      ?= bin
OBJ      ?= build

# Daemons live in daemon_directory, commands in command_directory.
DAEMONS  := master smtpd cleanup qmgr trivial-rewrite local postlogd pickup smtp bounce showq anvil error discard spawn proxymap policy-spf pipe virtual verify flush tlsmgr scache
COMMANDS := postfix postmap postalias postconf sendmail postdrop postqueue postsuper postcat postlog

# A program directory that does not exist yet is simply skipped.
PROGRAMS := $(foreach p,$(DAEMONS) $(COMMANDS),$(if $(wildcard $(p)/*.c),$(p)))

# lib/ in layers, each an archive that sees only itself and the layers
# below it, so an upward #include does not compile:
#   util    memory, strings, streams, events, IPC, privileges (no mail, no main.cf)
#   dict    the table interface and every table type
#   dns     resolver helpers
#   tls     OpenSSL: TLS sessions under a stream (no mail, no main.cf)
#   global  main.cf/master.cf, parameters, logging set-up, queue files,
#           addresses, clients of the internal services, daemon skeletons
LAYERS     := util dict dns tls global
INC_util   := -Ilib/util
INC_dict   := $(INC_util) -Ilib/dict
INC_dns    := $(INC_util) -Ilib/dns
INC_tls    := $(INC_util) -Ilib/tls
INC_global := $(INC_util) -Ilib/dict -Ilib/dns -Ilib/tls -Ilib/global
INC_ALL    := $(INC_global)
LAYER_A  := $(foreach l,global tls dns dict util,$(if $(wildcard lib/$(l)/*.c),$(OBJ)/lib$(l).a))
LIB_A    := $(LAYER_A)
HEADERS  := $(wildcard lib/*/*.h lib/tls/stub/*.h) $(foreach p,$(PROGRAMS),$(wildcard $(p)/*.h))

# Table types with a client library of their own are shared objects that
# the dict layer loads on first use (lib/dict/dict_plugin.c), installed in
# the daemon directory; each carries its own copy of the shared SQL code.
# Programs export what the objects call back into (exports.list).
DICT_PLUGINS := pgsql mysql sqlite
PLUGIN_CFLAGS_pgsql := -I$(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
PLUGIN_LIBS_pgsql   := -lpq
PLUGIN_CFLAGS_mysql := $(shell mariadb_config --cflags 2>/dev/null || echo -I/usr/include/mariadb)
PLUGIN_LIBS_mysql   := -lmariadb
PLUGIN_CFLAGS_sqlite :=
PLUGIN_LIBS_sqlite  := -lsqlite3
PLUGIN_SHARED := lib/dict/dict_sql.c lib/dict/dict_sql_get.c
DB_SO    := $(OBJ)/lib/dict/dict_db.so
DICT_PROG_A := $(OBJ)/libdictprog.a
PLUGIN_SO := $(foreach t,$(DICT_PLUGINS),$(OBJ)/lib/dict/dict_$(t).so) $(DB_SO)
EXPORTS  := lib/dict/plugin/exports.list lib/tls/stub/exports.list
# --gc-sections: what a program does not reference stays out of it (params.c's
# param_table, whose pointers would cost every process 40 kB of relocated
# pages: the programs use mkparams.py's param_rows); exported symbols stay.
PROG_LDFLAGS := $(foreach e,$(EXPORTS),-Wl,--dynamic-list=$(e)) -Wl,--gc-sections

# hash: and btree: (lib/dict/dict_db.c, Berkeley DB) the same way: the
# programs link lib/dict/stub/dict_db_stub.c instead (libdictprog.a), which
# loads dict_db.so when the first such table is opened, so that a process
# without one does not map libdb (~40 kB of relocated pages per process).
# tlsmgr and the unit tests link dict_db.c and libdb directly.

$(DB_SO): lib/dict/dict_db.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -shared -Wl,-Bsymbolic -Wl,-z,defs -Wl,--unresolved-symbols=ignore-in-object-files \
	    $(INC_dict) -o $@ $< $(DB_LIBS)

$(DICT_PROG_A): $(patsubst %.c,$(OBJ)/%.o,$(filter-out lib/dict/dict_db.c,$(wildcard lib/dict/*.c))) \
                $(OBJ)/lib/dict/stub/dict_db_stub.o
	@rm -f $@
	ar rcs $@ $^

$(OBJ)/lib/dict/dict_%.so: lib/dict/plugin/dict_%.c $(PLUGIN_SHARED) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -shared -Wl,-Bsymbolic -Wl,-z,defs -Wl,--unresolved-symbols=ignore-in-object-files \
	    $(INC_dict) $(PLUGIN_CFLAGS_$*) -o $@ $< $(PLUGIN_SHARED) $(PLUGIN_LIBS_$*)

# lib/tls and OpenSSL: posthorn-tls.so, installed in the daemon directory
# and loaded on first use (lib/tls/stub/tls_load.c), so that a process
# that does not use TLS does not map libssl/libcrypto. The programs link
# libtlsstub.a instead of libtls.a: one stub per function of tls.h,
# generated from the header (mkstubs.py), that calls the object's
# function through dlsym. tlsmgr (always TLS), the unit tests and the
# fuzz harnesses link libtls.a and OpenSSL directly.
TLS_SO   := $(OBJ)/lib/tls/posthorn-tls.so
TLS_PIC  := $(patsubst lib/tls/%.c,$(OBJ)/pic/lib/tls/%.o,$(wildcard lib/tls/*.c))
TLS_STUB_A := $(OBJ)/libtlsstub.a
LIB_PROG := $(subst $(OBJ)/libdict.a,$(DICT_PROG_A),$(subst $(OBJ)/libtls.a,$(TLS_STUB_A),$(LAYER_A)))
LIB_A_tlsmgr := $(LAYER_A)
# The commands (postmap, postalias, sendmail...) run outside an instance
# too (no daemon_directory to load dict_db.so from): they link libdb.
LIB_CMD  := $(subst $(OBJ)/libtls.a,$(TLS_STUB_A),$(LAYER_A))
$(foreach c,$(COMMANDS),$(eval LIB_A_$(c) := $(LIB_CMD))$(eval LDLIBS_$(c) += $(DB_LIBS)))

$(OBJ)/pic/lib/tls/%.o: lib/tls/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC $(INC_tls) -c -o $@ $<

$(TLS_SO): $(TLS_PIC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -shared -Wl,-Bsymbolic -Wl,-z,defs -Wl,--unresolved-symbols=ignore-in-object-files \
	    -o $@ $(TLS_PIC) $(TLS_LIBS)

$(OBJ)/tlsstub/tls_stub.c: lib/tls/tls.h lib/tls/stub/mkstubs.py
	@mkdir -p $(dir $@)
	python3 lib/tls/stub/mkstubs.py lib/tls/tls.h > $@.tmp && mv $@.tmp $@

$(OBJ)/tlsstub/tls_stub.o: $(OBJ)/tlsstub/tls_stub.c $(HEADERS)
	$(CC) $(CFLAGS) $(INC_tls) -Ilib/tls/stub -c -o $@ $<

$(OBJ)/tlsstub/tls_load.o: lib/tls/stub/tls_load.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC_tls) -Ilib/tls/stub -c -o $@ $<

$(TLS_STUB_A): $(OBJ)/tlsstub/tls_stub.o $(OBJ)/tlsstub/tls_load.o
	@rm -f $@
	ar rcs $@ $^

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BIN)/tests/%,$(UNIT_SRC))

all: $(foreach p,$(PROGRAMS),$(BIN)/$(p)) $(UNIT_BIN) $(PLUGIN_SO) $(TLS_SO)

$(OBJ)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC_ALL) -c -o $@ $<

# A quoted path with "../" would go around the include path: refused.
# Generated sources of a layer: the parameter table without relocations
# (lib/global/mkparams.py, from params.c).
GEN_OBJ_global := $(OBJ)/gen/param_rows.o

$(OBJ)/gen/param_rows.c: lib/global/params.c lib/global/mkparams.py
	@mkdir -p $(dir $@)
	python3 lib/global/mkparams.py lib/global/params.c > $@.tmp && mv $@.tmp $@

$(OBJ)/gen/param_rows.o: $(OBJ)/gen/param_rows.c $(HEADERS)
	$(CC) $(CFLAGS) $(INC_global) -c -o $@ $<

define LAYER_template
$(OBJ)/lib/$(1)/%.o: lib/$(1)/%.c $(HEADERS)
	@mkdir -p $$(dir $$@)
	@if grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*\.\./' $$< lib/$(1)/*.h; then \
	    echo "$$<: #include of a path with ../ goes around the layers of lib/" >&2; exit 1; fi
	$(CC) $(CFLAGS) $(INC_$(1)) -c -o $$@ $$<

$(OBJ)/lib$(1).a: $(patsubst %.c,$(OBJ)/%.o,$(wildcard lib/$(1)/*.c)) $(GEN_OBJ_$(1))
	@rm -f $$@
	ar rcs $$@ $$^
endef
$(foreach l,$(LAYERS),$(eval $(call LAYER_template,$(l))))

define PROGRAM_template
$(BIN)/$(1): $(patsubst %.c,$(OBJ)/%.o,$(wildcard $(1)/*.c)) $(or $(LIB_A_$(1)),$(LIB_PROG)) $(EXTRA_OBJ) $(EXPORTS)
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) $(LDFLAGS) $(PROG_LDFLAGS) -o $$@ $$(filter-out $(EXPORTS),$$^) $(LDLIBS_$(1)) $(LDLIBS)
endef
$(foreach p,$(PROGRAMS),$(eval $(call PROGRAM_template,$(p))))

# Some unit tests include a program's .c files directly.
PROGRAM_SRC := $(foreach p,$(PROGRAMS),$(wildcard $(p)/*.c))
$(OBJ)/tests/unit/%.o: tests/unit/%.c $(HEADERS) $(PROGRAM_SRC) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC_ALL) -c -o $@ $<

$(BIN)/tests/%: $(OBJ)/tests/unit/%.o $(OBJ)/tests/unit/unit.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(TLS_LIBS) $(DB_LIBS)

# ---- install -------------------------------------------------------------
DESTDIR  ?=
SBINDIR  := $(DESTDIR)/usr/sbin
USRBIN   := $(DESTDIR)/usr/bin
LIBEXEC  := $(DESTDIR)/usr/libexec/posthorn
ETCDIR   := $(DESTDIR)/etc/postfix
SETGID   := postdrop postqueue postlog
SETGID_GROUP ?= postdrop

install: all
	install -d $(SBINDIR) $(USRBIN) $(LIBEXEC) $(ETCDIR)
	for p in $(filter $(DAEMONS),$(PROGRAMS)); do install -m 755 $(BIN)/$$p $(LIBEXEC)/$$p; done
	for so in $(PLUGIN_SO) $(TLS_SO); do install -m 644 $$so $(LIBEXEC)/; done
	for p in $(filter $(COMMANDS),$(PROGRAMS)); do install -m 755 $(BIN)/$$p $(SBINDIR)/$$p; done
	ln -sf ../sbin/postalias $(USRBIN)/newaliases
	if [ -x $(BIN)/sendmail ]; then ln -sf ../sbin/sendmail $(USRBIN)/mailq; fi
	if [ -x $(BIN)/smtp ]; then ln -sf smtp $(LIBEXEC)/lmtp; fi
	@# postdrop and postqueue are setgid $$setgid_group (never setuid), as in Postfix
	for p in $(filter $(SETGID),$(PROGRAMS)); do \
	    if getent group $(SETGID_GROUP) >/dev/null; then \
	        chgrp $(SETGID_GROUP) $(SBINDIR)/$$p && chmod 2755 $(SBINDIR)/$$p; \
	    else echo "warning: group $(SETGID_GROUP) missing: $$p installed without setgid"; fi; \
	done
	for f in conf/*; do [ -e $(ETCDIR)/$${f#conf/} ] || install -m 644 $$f $(ETCDIR)/; done

# ---- tests ---------------------------------------------------------------
check: deps
	$(MAKE) all
	tests/run

deps:
	@tests/deps.sh

build-deps:
	@tests/deps.sh build

asan:
	$(MAKE) BIN=bin-asan OBJ=build-asan OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer" \
	        LDFLAGS="-fsanitize=address,undefined" EXTRA_OBJ=build-asan/tests/asan_defaults.o all
	@# leaks at exit of short-lived commands are not findings; valgrind covers daemon leaks
	ASAN_OPTIONS=detect_leaks=0 POSTHORN_BIN=bin-asan tests/run

# posthorn vs Debian's Postfix side by side (root; installs postfix if missing)
bench: all
	BENCH_BIN=$(BIN) BENCH_OBJ=$(OBJ) bench/run

# the same two instances under strace/perf: work per message by process type
bench-profile: all
	BENCH_BIN=$(BIN) BENCH_OBJ=$(OBJ) bench/run --profile

bench-scale: all
	BENCH_BIN=$(BIN) BENCH_OBJ=$(OBJ) bench/run --scale

# the whole machine under perf: CPU per message by MTA, load generators, idle
bench-cpu: all
	BENCH_BIN=$(BIN) BENCH_OBJ=$(OBJ) bench/run --cpu

# The integration tests with every daemon under valgrind (slow: timing-sensitive
# tests may time out; the valgrind findings are reported as failures at the end).
valgrind: all
	POSTHORN_VALGRIND=1 python3 tests/integration/run.py

# libFuzzer harnesses (clang): bin-fuzz/fuzz_*; see tests/fuzz/README.md
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_LIBS = $(subst $(OBJ)/,build-fuzz/,$(LAYER_A))
fuzz:
	$(MAKE) CC=clang BIN=bin-fuzz OBJ=build-fuzz \
	        OPT="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" $(FUZZ_LIBS)
	@mkdir -p bin-fuzz
	for f in $(FUZZ_SRC); do \
	    clang -O1 -g -fsanitize=fuzzer,address,undefined -std=gnu11 -D_GNU_SOURCE $(INC_ALL) \
	          -o bin-fuzz/$$(basename $$f .c) $$f $(FUZZ_LIBS) $(LDLIBS) $(TLS_LIBS) $(DB_LIBS) || exit 1; \
	done

run: build-deps
	$(MAKE) all
	tests/demo.sh

clean:
	rm -rf $(BIN) $(OBJ) bin-asan build-asan bin-fuzz build-fuzz

.PHONY: all install check deps build-deps asan valgrind fuzz run bench bench-profile bench-scale bench-cpu clean
# keep object files (they are intermediate for pattern rules)
.SECONDARY:
