# SPDX-License-Identifier: Apache-2.0
# enclaveimg: a toolchain for enclave images.  Plain GNU make, non-recursive, out of tree.
#   make [BUILDDIR=build] [CC=...] [CFLAGS=...]     build library and tools
#   make check        unit tests, command-line tests, independent Python checks, fuzz smoke
#   make sanitize     the same checks under AddressSanitizer + UndefinedBehaviorSanitizer
#   make install DESTDIR=... PREFIX=/usr/local
#   make bench        benchmarks (not part of check)
#   make clean

BUILDDIR ?= build
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
LIBDIR   ?= $(PREFIX)/lib
INCDIR   ?= $(PREFIX)/include
MANDIR   ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
PKGCONFIG ?= pkg-config
CC       ?= cc
VERSION  := 0.1.0

# pkg-config module -> Debian package that provides it
PKGS := libcrypto:libssl-dev libelf:libelf-dev libarchive:libarchive-dev yaml-0.1:libyaml-dev \
        jansson:libjansson-dev libcbor:libcbor-dev libseccomp:libseccomp-dev zlib:zlib1g-dev libcurl:libcurl4-openssl-dev
TEST_PKGS := cmocka:libcmocka-dev

define need_pkg
$(if $(shell $(PKGCONFIG) --exists $(word 1,$(subst :, ,$(1))) && echo ok),,\
  $(error missing dependency $(word 1,$(subst :, ,$(1))): install the Debian package $(word 2,$(subst :, ,$(1))) (apt-get install $(word 2,$(subst :, ,$(1))))))
endef
ifeq ($(filter clean,$(MAKECMDGOALS)),)
$(foreach p,$(PKGS),$(call need_pkg,$(p)))
endif
PKG_NAMES := $(foreach p,$(PKGS),$(word 1,$(subst :, ,$(p))))
DEP_CFLAGS := $(shell $(PKGCONFIG) --cflags $(PKG_NAMES) 2>/dev/null)
DEP_LIBS   := $(shell $(PKGCONFIG) --libs $(PKG_NAMES) 2>/dev/null) -lpthread

# -Werror only for development: `make check`, `make sanitize` and CI (scripts/test) turn it on;
# a user's plain `make` with another compiler must not fail on a new warning.
ifneq ($(filter check sanitize,$(MAKECMDGOALS)),)
WERROR ?= -Werror
export WERROR
endif
WERROR ?=
# snprintf truncation is how this code bounds messages, on purpose: not a warning.
WARN := -std=c11 -Wall -Wextra -Wshadow -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation $(WERROR)
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
# Library objects go into the shared library too: position-independent code.
LIB_PIC := -fPIC
CFLAGS ?= -O2 -g
ALL_CFLAGS := $(WARN) $(HARDEN) -D_GNU_SOURCE -DEIMG_VERSION='"$(VERSION)"' \
              -Ilibenclaveimg/include -Ilibenclaveimg $(DEP_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS := -pie -Wl,-z,relro,-z,now $(LDFLAGS)

LIB_DIRS  := core crypto sgx nitro attest run mail oci net
LIB_SRCS  := $(sort $(foreach d,$(LIB_DIRS),$(wildcard libenclaveimg/$(d)/*.c)))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILDDIR)/%.o)
LIB_A     := $(BUILDDIR)/libenclaveimg.a
# The shared library: soname libenclaveimg.so.$(SOVERSION); it exports only the functions
# declared in the public headers (a version script made from them), nothing internal.
SOVERSION := 0
LIB_SONAME := libenclaveimg.so.$(SOVERSION)
LIB_SO    := $(BUILDDIR)/libenclaveimg.so.$(VERSION)
LIB_MAP   := $(BUILDDIR)/libenclaveimg.map
PUBLIC_HDRS := libenclaveimg/include/enclaveimg.h $(sort $(wildcard libenclaveimg/include/eimg/*.h))
TOOLS     := $(notdir $(patsubst %/main.c,%,$(wildcard tools/*/main.c)))
TOOL_BINS := $(TOOLS:%=$(BUILDDIR)/bin/%)
# The tools' shared skeleton (cli/, included as "cli/tool.h"), compiled once into a small archive.
TOOL_COMMON_OBJS := $(patsubst %.c,$(BUILDDIR)/%.o,$(wildcard cli/*.c))
TOOL_COMMON_A    := $(BUILDDIR)/libtoolcommon.a
UNIT_SRCS := $(sort $(wildcard test/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:test/unit/%.c=$(BUILDDIR)/test/%)
FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz_*.c))
TEST_CFLAGS := $(shell $(PKGCONFIG) --cflags cmocka 2>/dev/null)
TEST_LIBS   := $(shell $(PKGCONFIG) --libs cmocka 2>/dev/null)

# The in-enclave supervisor of Nitro images (enclave-nitro(7)): a static program that compiles
# the libc-only network engine and the error object itself (no name resolution) and links
# jansson statically.  Sanitizer flags are left out: they do not link statically.  Its bytes are
# measured into PCR2: no build path in it (-ffile-prefix-map), so any checkout builds the same.
LIBEXECDIR ?= $(PREFIX)/libexec
SUPERVISOR := $(BUILDDIR)/libexec/eimg-supervisor
# Where enclave-build finds the in-enclave supervisor by default (enclave-nitro(7)).
$(BUILDDIR)/libenclaveimg/nitro/nitro_app.o: ALL_CFLAGS += -DEIMG_SUPERVISOR_DEFAULT='"$(LIBEXECDIR)/enclaveimg/eimg-supervisor"'
SUPERVISOR_SRCS := $(sort $(wildcard runtime/supervisor/*.c) $(wildcard libenclaveimg/net/*.c)) libenclaveimg/core/error.c
SUPERVISOR_CFLAGS := $(WARN) -ffile-prefix-map=$(CURDIR)=. -fstack-protector-strong -D_FORTIFY_SOURCE=2 -D_GNU_SOURCE -DEIMG_NET_NO_RESOLVE \
	-DEIMG_VERSION='"$(VERSION)"' -Ilibenclaveimg/include -Ilibenclaveimg -Iruntime/supervisor \
	$(filter-out -fsanitize%,$(CPPFLAGS) $(CFLAGS))

.PHONY: all check unit cli pytest fuzz-smoke sanitize install uninstall clean bench examples
all: $(LIB_A) $(LIB_SO) $(TOOL_BINS) $(SUPERVISOR)

$(SUPERVISOR): $(SUPERVISOR_SRCS) $(wildcard runtime/supervisor/*.h libenclaveimg/net/*.h) libenclaveimg/include/eimg/net.h
	@mkdir -p $(dir $@)
	$(CC) $(SUPERVISOR_CFLAGS) -fPIE -static-pie -Wl,-z,relro,-z,now $(SUPERVISOR_SRCS) -l:libjansson.a -o $@

-include $(LIB_OBJS:.o=.d) $(TOOL_COMMON_OBJS:.o=.d) $(UNIT_BINS:=.d)

$(BUILDDIR)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIB_OBJS): ALL_CFLAGS += $(LIB_PIC)

$(LIB_A): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# Every eimg_* function a public header declares, and nothing else.
$(LIB_MAP): $(PUBLIC_HDRS)
	@mkdir -p $(dir $@)
	@{ echo 'ENCLAVEIMG_$(SOVERSION) {'; echo '  global:'; \
	   sed -n 's/.*\<\(eimg_[a-z0-9_]*\) *(.*/    \1;/p' $(PUBLIC_HDRS) | sort -u; \
	   echo '  local: *;'; echo '};'; } > $@

$(LIB_SO): $(LIB_OBJS) $(LIB_MAP)
	$(CC) -shared -Wl,-soname,$(LIB_SONAME) -Wl,--version-script,$(LIB_MAP) -Wl,-z,relro,-z,now -Wl,--no-undefined \
	  $(LDFLAGS) $(LIB_OBJS) $(DEP_LIBS) -o $@
	ln -sf $(notdir $@) $(BUILDDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(BUILDDIR)/libenclaveimg.so

$(BUILDDIR)/cli/%.o: ALL_CFLAGS += -I.

$(TOOL_COMMON_A): $(TOOL_COMMON_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILDDIR)/bin/%: tools/%/*.c cli/*.h $(TOOL_COMMON_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itools -I. $(ALL_LDFLAGS) $(filter %.c,$^) $(TOOL_COMMON_A) $(LIB_A) $(DEP_LIBS) -o $@

$(BUILDDIR)/test/%: test/unit/%.c $(LIB_A)
	@mkdir -p $(dir $@)
	@$(PKGCONFIG) --exists cmocka || { echo "missing dependency cmocka: install the Debian package libcmocka-dev" >&2; exit 1; }
	$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -MMD -MP -MF $@.d $(ALL_LDFLAGS) $< $(LIB_A) $(TEST_LIBS) $(DEP_LIBS) $(shell sed -n 's/^.*LINK-WRAP: *//p' $<) -o $@

# The enclave runtime library (both modes), then every examples/<name>/.
EXAMPLES := $(patsubst examples/%/Makefile,%,$(wildcard examples/*/Makefile))
examples: $(TOOL_BINS)
	$(MAKE) -C runtime BUILDDIR=$(abspath $(BUILDDIR))/runtime
	for e in $(EXAMPLES); do $(MAKE) -C examples/$$e BUILDDIR=$(abspath $(BUILDDIR))/examples/$$e RT_BUILD=$(abspath $(BUILDDIR))/runtime || exit 1; done

unit: $(UNIT_BINS)
	@BUILDDIR=$(BUILDDIR) test/run-unit $(UNIT_BINS)

cli: all examples
	@BUILDDIR=$(BUILDDIR) test/run-cli

pytest: all examples
	@BUILDDIR=$(BUILDDIR) test/run-py

fuzz-smoke:
	@BUILDDIR=$(BUILDDIR) fuzz/run-smoke $(FUZZ_SRCS)

check: all
	@BUILDDIR=$(BUILDDIR) test/run-all

# Same checks with ASan+UBSan; fuzz smoke runs in the plain check.
sanitize:
	$(MAKE) BUILDDIR=$(BUILDDIR)-san CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" EIMG_SANITIZE=1 check

bench: all examples
	@BUILDDIR=$(BUILDDIR) bench/run

# Shared and static library: the dependencies are private requirements (`pkg-config --static
# --libs` gives them for static linking).  Always regenerated, so that the PREFIX and LIBDIR of
# this `make install` are the ones recorded (Debian: LIBDIR=/usr/lib/<multiarch>).
.PHONY: $(BUILDDIR)/enclaveimg.pc
$(BUILDDIR)/enclaveimg.pc:
	@mkdir -p $(dir $@)
	@printf 'prefix=%s\nlibdir=%s\nincludedir=%s\n\nName: enclaveimg\nDescription: build, sign, measure and run enclave images\nVersion: %s\nRequires.private: %s\nLibs: -L$${libdir} -lenclaveimg\nLibs.private: -lpthread\nCflags: -I$${includedir}\n' \
	  '$(PREFIX)' '$(LIBDIR)' '$(INCDIR)' '$(VERSION)' '$(PKG_NAMES)' > $@

install: all $(BUILDDIR)/enclaveimg.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR)/eimg \
	  $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	install -m 0755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)/
	install -d $(DESTDIR)$(LIBEXECDIR)/enclaveimg
	install -m 0755 $(SUPERVISOR) $(DESTDIR)$(LIBEXECDIR)/enclaveimg/
	install -m 0644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 0644 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(LIB_SO)) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libenclaveimg.so
	install -d $(DESTDIR)$(BASHCOMPDIR)
	for t in $(TOOLS); do install -m 0644 completions/enclaveimg.bash $(DESTDIR)$(BASHCOMPDIR)/$$t || exit 1; done
	install -m 0644 $(BUILDDIR)/enclaveimg.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 0644 libenclaveimg/include/enclaveimg.h $(DESTDIR)$(INCDIR)/
	install -m 0644 libenclaveimg/include/eimg/*.h $(DESTDIR)$(INCDIR)/eimg/
	$(MAKE) -C runtime BUILDDIR=$(abspath $(BUILDDIR))/runtime
	install -d $(DESTDIR)$(INCDIR)/enclave $(DESTDIR)$(LIBDIR)/enclave
	install -m 0644 runtime/include/enclave.h $(DESTDIR)$(INCDIR)/enclave/
	install -m 0644 $(BUILDDIR)/runtime/libenclave-simulation.a $(BUILDDIR)/runtime/libenclave-hardware.a $(DESTDIR)$(LIBDIR)/enclave/
	for s in 1 3 5 7; do for f in man/*.$$s; do [ -e "$$f" ] && install -m 0644 "$$f" $(DESTDIR)$(MANDIR)/man$$s/ || true; done; done

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(BINDIR)/%) $(DESTDIR)$(LIBDIR)/libenclaveimg.a $(DESTDIR)$(LIBDIR)/pkgconfig/enclaveimg.pc
	rm -f $(DESTDIR)$(LIBDIR)/libenclaveimg.so* $(TOOLS:%=$(DESTDIR)$(BASHCOMPDIR)/%)
	rm -rf $(DESTDIR)$(LIBEXECDIR)/enclaveimg
	rm -rf $(DESTDIR)$(INCDIR)/eimg $(DESTDIR)$(INCDIR)/enclaveimg.h $(DESTDIR)$(INCDIR)/enclave $(DESTDIR)$(LIBDIR)/enclave

clean:
	rm -rf $(BUILDDIR) $(BUILDDIR)-san
