# SPDX-License-Identifier: Apache-2.0
# Shared rules of the examples.  An example's Makefile sets NAME (the ELF is
# $(NAME).elf), SRCS (C sources) and DATA (files copied next to the ELF and
# enclave.yaml so the manifest's relative paths resolve), then includes this.
#   make [BUILDDIR=...] [MODE=simulation|hardware]
# MODE must match `mode:` in enclave.yaml: the runtime refuses to run in an
# image recorded with another mode.
ex_dir := $(abspath $(dir $(firstword $(MAKEFILE_LIST))))
top    := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
BUILDDIR ?= $(top)/build/examples/$(NAME)
RT_BUILD ?= $(BUILDDIR)/runtime
MODE ?= simulation
CC ?= cc

EX_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Wshadow -Wmissing-prototypes $(WERROR) \
	-ffreestanding -fPIE -fvisibility=hidden -fno-stack-protector -fno-stack-clash-protection \
	-fcf-protection=none -ffile-prefix-map=$(top)=. -I$(top)/runtime/include $(ENCLAVE_CFLAGS)
# static-pie, no interpreter, no TLS, 4 KiB pages, code separate from data,
# no executable stack, no text relocations, no build-id (it would hash debug
# info that depends on the build folder into measured pages).
EX_LDFLAGS := -nostdlib -static-pie -Wl,-z,max-page-size=4096 -Wl,-z,separate-code \
	-Wl,-z,noexecstack -Wl,-z,text -Wl,--build-id=none -Wl,-e,eimg_rt_entry

RT_LIB := $(RT_BUILD)/libenclave-$(MODE).a
# Libraries an example links besides the runtime (e.g. EX_LIBS := $(BEARSSL_A)).
BEARSSL_A := $(shell for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib; do [ -f $$d/libbearssl.a ] && { echo $$d/libbearssl.a; break; }; done)
EX_LIBS ?=
OBJS := $(SRCS:%.c=$(BUILDDIR)/%.o)

all: $(BUILDDIR)/$(NAME).elf $(BUILDDIR)/enclave.yaml $(DATA:%=$(BUILDDIR)/%)

$(RT_LIB): FORCE
	$(MAKE) -C $(top)/runtime BUILDDIR=$(RT_BUILD) $(RT_LIB)

$(BUILDDIR)/%.o: $(ex_dir)/%.c $(top)/runtime/include/enclave.h
	@mkdir -p $(dir $@)
	$(CC) $(EX_CFLAGS) -c $< -o $@

$(BUILDDIR)/$(NAME).elf: $(OBJS) $(RT_LIB)
	$(CC) $(EX_LDFLAGS) $(OBJS) -Wl,--start-group $(RT_LIB) $(EX_LIBS) -Wl,--end-group -lgcc -o $@

$(BUILDDIR)/%: $(ex_dir)/%
	@mkdir -p $(dir $@)
	cp $< $@

clean:
	rm -rf $(BUILDDIR)

FORCE:
.PHONY: all clean FORCE
