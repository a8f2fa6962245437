# netstack - a TCP/IP stack in user space.
#
#   make              libnetstack.a, libnetstack.so, netstack.pc, netstackd, tools
#   make test         all tests, plain and under ASan+UBSan, plus `make portable`
#   make portable     core compiled against C11 + POSIX headers only
#   make demo         netstackd in a private namespace answering ping/curl/nc
#   make bench        benchmarks (kernel reference side by side)
#   make fuzz         libFuzzer targets (clang); make fuzz-smoke runs each briefly
#   make install PREFIX=/usr/local
#
# Every target installs missing Debian packages first (tests/deps.sh).

PREFIX   ?= /usr/local
CC       ?= cc
BUILD    ?= build
V        ?= normal
SONAME    = libnetstack.so.0
VERSION   = 0.1.0

WARN     := -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wvla
CFLAGS_normal := -O2 -g
CFLAGS_asan   := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS_asan  := -fsanitize=address,undefined
CFLAGS_BASE   := $(WARN) -D_POSIX_C_SOURCE=200809L -pthread -fPIC -I. -Inetstack $(CFLAGS_$(V)) $(EXTRA_CFLAGS)
LIBS     := -lurcu-bp -lurcu-cds -lpthread
TOOL_LIBS := $(shell pkg-config --libs libnl-route-3.0 2>/dev/null) -lpcap
NL_CFLAGS := $(shell pkg-config --cflags libnl-route-3.0 2>/dev/null)

OUT      := $(BUILD)/$(V)

PORTABLE_DIRS := netstack ipv4 ipv6 tcp udp
LIB_DIRS := $(PORTABLE_DIRS) link tap
LIB_SRCS := $(filter-out netstack/platform_posix.c,$(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c)))
LIB_OBJS := $(patsubst %.c,$(OUT)/obj/%.o,$(LIB_SRCS))

NETSTACKD_SRCS := $(wildcard tap/netstackd/*.c)
NETSTACKD_OBJS := $(patsubst %.c,$(OUT)/obj/%.o,$(NETSTACKD_SRCS))
REPLAY_SRCS := $(wildcard tests/replay/tool/*.c)
REPLAY_OBJS := $(patsubst %.c,$(OUT)/obj/%.o,$(REPLAY_SRCS))

TEST_SRCS := $(wildcard tests/unit/test_*.c)
TEST_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(TEST_SRCS))
EXAMPLE_SRCS := $(wildcard tests/example/*.c)
TEST_BINS += $(patsubst tests/example/%.c,$(OUT)/tests/example_%,$(EXAMPLE_SRCS))
TEST_HELPER_SRCS := $(wildcard tests/unit/helpers/*.c)
TEST_HELPER_OBJS := $(patsubst %.c,$(OUT)/obj/%.o,$(TEST_HELPER_SRCS))
# keep helper objects (make would delete them as intermediates and rebuild every time)
.SECONDARY: $(TEST_HELPER_OBJS)

FUZZ_FRAME_TARGETS := eth arp ipv4 icmp4 udp tcp ipv6 icmp6
FUZZ_BINS := $(patsubst %,$(OUT)/fuzz/fuzz_%,$(FUZZ_FRAME_TARGETS) tcp_opts reasm4 reasm6 vnet whole)
ifneq ($(REPLAY_SRCS),)
FUZZ_BINS += $(OUT)/fuzz/fuzz_script $(OUT)/fuzz/fuzz_config
endif

BINS := $(OUT)/netstackd
ifneq ($(REPLAY_SRCS),)
BINS += $(OUT)/pcap-replay
endif

.PHONY: check-install all lib deps test test-normal test-asan portable clean install demo bench fuzz fuzz-smoke check-net packetdrill
.DEFAULT_GOAL := all

all: deps
	@$(MAKE) --no-print-directory V=normal build-all
	@ln -sf $(OUT)/libnetstack.a $(OUT)/netstackd . 2>/dev/null || true
	@cp -f $(BUILD)/normal/libnetstack.a $(BUILD)/normal/libnetstack.so.$(VERSION) $(BUILD)/normal/netstack.pc . 2>/dev/null; \
	 ln -sf libnetstack.so.$(VERSION) libnetstack.so; ln -sf libnetstack.so.$(VERSION) $(SONAME); \
	 rm -f netstackd; ln -sf $(BUILD)/normal/netstackd netstackd; \
	 if [ -e $(BUILD)/normal/pcap-replay ]; then ln -sf $(BUILD)/normal/pcap-replay pcap-replay; fi

deps:
	@sh tests/deps.sh build

.PHONY: build-all
build-all: $(OUT)/libnetstack.a $(OUT)/libnetstack.so.$(VERSION) $(OUT)/netstack.pc $(BINS) $(TEST_BINS) $(FUZZ_BINS)

$(OUT)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(NL_CFLAGS) -MMD -MP -c $< -o $@

$(OUT)/libnetstack.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(OUT)/libnetstack.so.$(VERSION): $(LIB_OBJS) netstack/libnetstack.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=netstack/libnetstack.map \
		$(LDFLAGS_$(V)) -o $@ $(LIB_OBJS) $(LIBS) $(TOOL_LIBS)

$(OUT)/netstack.pc: netstack/netstack.pc.in
	@mkdir -p $(OUT)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@

$(OUT)/netstackd: $(NETSTACKD_OBJS) $(OUT)/libnetstack.a
	$(CC) $(LDFLAGS_$(V)) -o $@ $(NETSTACKD_OBJS) $(OUT)/libnetstack.a $(LIBS) $(TOOL_LIBS)

$(OUT)/pcap-replay: $(REPLAY_OBJS) $(OUT)/libnetstack.a
	$(CC) $(LDFLAGS_$(V)) -o $@ $(REPLAY_OBJS) $(OUT)/libnetstack.a $(LIBS) $(TOOL_LIBS)

$(OUT)/tests/%: tests/unit/%.c $(TEST_HELPER_OBJS) $(OUT)/libnetstack.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(NL_CFLAGS) -Itests/unit $(LDFLAGS_$(V)) -o $@ $< $(TEST_HELPER_OBJS) \
		$(OUT)/libnetstack.a -lcmocka $(LIBS) $(TOOL_LIBS)

# pcap-replay's unit tests (tests/unit/test_replay*.c) link its library objects.
REPLAY_LIB_OBJS := $(filter-out %/main.o,$(REPLAY_OBJS))
REPLAY_TEST_BINS := $(filter $(OUT)/tests/test_replay%,$(TEST_BINS))
$(REPLAY_TEST_BINS): $(OUT)/tests/%: tests/unit/%.c $(TEST_HELPER_OBJS) $(REPLAY_LIB_OBJS) $(OUT)/libnetstack.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(NL_CFLAGS) -Itests/unit -Itests/replay/tool $(LDFLAGS_$(V)) -o $@ $< $(TEST_HELPER_OBJS) \
		$(REPLAY_LIB_OBJS) $(OUT)/libnetstack.a -lcmocka $(LIBS) $(TOOL_LIBS)

# The README's example programs, built as a user would (public headers only).
$(OUT)/tests/example_%: tests/example/%.c $(OUT)/libnetstack.a
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -D_POSIX_C_SOURCE=200809L $(CFLAGS_$(V)) -Inetstack $(LDFLAGS_$(V)) -o $@ $< \
		$(OUT)/libnetstack.a $(LIBS) $(TOOL_LIBS)

# Fuzz targets built with gcc and a plain main (fuzz/standalone_main.c): `make
# test` replays every seed and regression input, normally and under ASan+UBSan.
FUZZ_CC = $(CC) $(CFLAGS_BASE) $(NL_CFLAGS) $(LDFLAGS_$(V))
FUZZ_LINK = $(OUT)/libnetstack.a $(LIBS) $(TOOL_LIBS)
FUZZ_DEPS = fuzz/standalone_main.c fuzz/fuzz_stack.c fuzz/fuzz_stack.h $(OUT)/libnetstack.a
REPLAY_LIB_SRCS := $(filter-out %/main.c,$(REPLAY_SRCS))
define fuzz_frame_bin
$(OUT)/fuzz/fuzz_$(1): fuzz/fuzz_frames.c $(FUZZ_DEPS)
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) -DFZ_TARGET=$(1) -o $$@ $$< fuzz/fuzz_stack.c fuzz/standalone_main.c $$(FUZZ_LINK)
endef
$(foreach t,$(FUZZ_FRAME_TARGETS),$(eval $(call fuzz_frame_bin,$(t))))
$(OUT)/fuzz/fuzz_tcp_opts: fuzz/fuzz_tcp_opts.c $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -o $@ $< fuzz/standalone_main.c $(FUZZ_LINK)
$(OUT)/fuzz/fuzz_reasm4: fuzz/fuzz_reasm.c $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -o $@ $< fuzz/fuzz_stack.c fuzz/standalone_main.c $(FUZZ_LINK)
$(OUT)/fuzz/fuzz_reasm6: fuzz/fuzz_reasm.c $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -DFZ_V6 -o $@ $< fuzz/fuzz_stack.c fuzz/standalone_main.c $(FUZZ_LINK)
$(OUT)/fuzz/fuzz_vnet: fuzz/fuzz_vnet.c $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -o $@ $< fuzz/fuzz_stack.c fuzz/standalone_main.c $(FUZZ_LINK)
$(OUT)/fuzz/fuzz_whole: fuzz/fuzz_whole.c $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -o $@ $< fuzz/fuzz_stack.c fuzz/standalone_main.c $(FUZZ_LINK)
$(OUT)/fuzz/fuzz_script: fuzz/fuzz_replay.c $(FUZZ_DEPS) $(REPLAY_LIB_SRCS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -DFZ_SCRIPT -o $@ $< $(REPLAY_LIB_SRCS) fuzz/standalone_main.c $(FUZZ_LINK)
$(OUT)/fuzz/fuzz_config: fuzz/fuzz_replay.c $(FUZZ_DEPS) $(REPLAY_LIB_SRCS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -o $@ $< $(REPLAY_LIB_SRCS) fuzz/standalone_main.c $(FUZZ_LINK)

-include $(LIB_OBJS:.o=.d) $(NETSTACKD_OBJS:.o=.d) $(REPLAY_OBJS:.o=.d) $(TEST_HELPER_OBJS:.o=.d)

# ---- tests -------------------------------------------------------------------

test: deps
	@$(MAKE) --no-print-directory portable
	@$(MAKE) --no-print-directory V=normal build-all
	@$(MAKE) --no-print-directory V=asan build-all
	@$(MAKE) --no-print-directory check-install
	@sh tests/run.sh $(BUILD)/normal $(BUILD)/asan

test-normal: deps
	@$(MAKE) --no-print-directory V=normal build-all
	@sh tests/run.sh $(BUILD)/normal

test-asan: deps
	@$(MAKE) --no-print-directory V=asan build-all
	@sh tests/run.sh $(BUILD)/asan

# Core compiled with C11 + POSIX only: no Linux headers, no epoll/eventfd,
# no feature macros beyond _POSIX_C_SOURCE, the portable platform file.
PORTABLE_SRCS := $(foreach d,$(PORTABLE_DIRS),$(wildcard $(d)/*.c))
portable:
	@echo "portable: checking $(PORTABLE_DIRS) for Linux-only code"
	@if grep -nE '#[[:space:]]*include[[:space:]]*<(linux/|sys/epoll|sys/eventfd|sys/random|net/if\.h|netpacket/)|_GNU_SOURCE|_DEFAULT_SOURCE|_BSD_SOURCE|\b(epoll_[a-z]+|eventfd|getrandom|accept4|pipe2|sendmmsg|recvmmsg)[[:space:]]*\(' \
		$(foreach d,$(PORTABLE_DIRS),$(d)/*.c $(d)/*.h) 2>/dev/null; then \
		echo "portable: FAILED (Linux-only code above)"; exit 1; fi
	@mkdir -p $(BUILD)/portable
	@set -e; for f in $(PORTABLE_SRCS); do \
		$(CC) -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -D_POSIX_C_SOURCE=200809L -U__linux__ \
			-I. -Inetstack -c $$f -o $(BUILD)/portable/$$(echo $$f | tr / _).o; done
	@rm -f $(BUILD)/portable/libcore.a; ar rcs $(BUILD)/portable/libcore.a $(BUILD)/portable/*.o
	@echo "portable: OK ($(words $(PORTABLE_SRCS)) files)"

# The shared packetdrill corpus (../shared/packetdrill) run in-process by pcap-replay.
packetdrill: deps
	@$(MAKE) --no-print-directory V=normal build-all
	@sh tests/replay/packetdrill.sh $(BUILD)/normal

# Installs into a staging prefix and builds the README example against the
# installed headers, pkg-config file and shared library.
check-install:
	@rm -rf $(BUILD)/stage
	@$(MAKE) --no-print-directory install PREFIX=$(CURDIR)/$(BUILD)/stage >/dev/null
	@PKG_CONFIG_PATH=$(BUILD)/stage/lib/pkgconfig $(CC) -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L \
		tests/example/hello.c $$(PKG_CONFIG_PATH=$(BUILD)/stage/lib/pkgconfig pkg-config --cflags --libs netstack) \
		-o $(BUILD)/stage/hello
	@LD_LIBRARY_PATH=$(BUILD)/stage/lib $(BUILD)/stage/hello >/dev/null && \
	 echo "check-install: installed library, headers and netstack.pc build and run the example: OK"

demo: all
	@sh tests/demo.sh

bench: all
	@sh tests/bench/run.sh

fuzz:
	@$(MAKE) --no-print-directory -C fuzz

fuzz-smoke:
	@$(MAKE) --no-print-directory -C fuzz smoke SMOKE_SECS=$(or $(SMOKE_SECS),10)

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/netstack $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(BUILD)/normal/libnetstack.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/normal/libnetstack.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libnetstack.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libnetstack.so
	install -m 644 netstack/netstack.h netstack/ns_abi.h netstack/pkt.h netstack/link.h $(DESTDIR)$(PREFIX)/include/netstack/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' netstack/netstack.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/netstack.pc
	install -m 755 $(BUILD)/normal/netstackd $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf $(BUILD) libnetstack.a libnetstack.so libnetstack.so.* netstack.pc netstackd pcap-replay
	-@$(MAKE) --no-print-directory -C fuzz clean 2>/dev/null || true
