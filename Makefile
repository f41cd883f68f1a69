# bosun — one binary (`bosun`) built from the module folders below.
#
#   make            release build: build/bosun
#   make deps       install what is missing (Debian packages, libraft >= 0.17.1)
#   make run        deps + build + a local 3-server cluster in the foreground
#   make test       deps + sanitizer build + every test; last line "N passed, N failed"
#   make sim SEEDS=n  the deterministic simulation over n seeds of each workload
#   make fuzz       every libFuzzer target for FUZZ_SECONDS (default 60) each
#
# Two builds share the sources: build/ (-O2) for use and benchmarks, and
# build/test/ (ASan + UBSan) for every test.
MODULES  := util codec httpc store raft kube server scheduler controllers agent tools
PKGS     := libuv lmdb msgpack libmicrohttpd jansson yaml-0.1 liblz4
-include .deps/raft.mk
-include .deps/k8s.mk
CC       ?= cc
WARN     := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wno-missing-field-initializers -Wno-format-truncation
BASE     := -std=c11 -D_GNU_SOURCE -g -pthread -I. $(RAFT_CFLAGS) \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(WARN)
LIBS     := $(RAFT_LIBS) $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
RAFT_A   := $(filter %.a,$(RAFT_LIBS)) # relink when make deps rebuilds libraft
# The Kubernetes API schema, generated from the k8s.io/api sources that
# make deps fetches (scripts/gen_schema.py; see kube/schema.c).
GEN      := build/gen/kube_schema_data.c
SRCS     := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
LIBSRCS  := $(filter-out tools/main.c,$(SRCS))
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

REL_OBJS := $(SRCS:%.c=build/obj/%.o) build/obj/gen/kube_schema_data.o
TST_OBJS := $(LIBSRCS:%.c=build/test/obj/%.o) build/test/obj/gen/kube_schema_data.o
UNIT     := $(patsubst tests/unit/%.c,build/test/unit/%,$(wildcard tests/unit/test_*.c))
SIM      := build/test/sim/sim
FUZZ     := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

.PHONY: all deps run test unit sim e2e bench clean fuzz
all: build/bosun

deps:
	@bash scripts/deps.sh

# The release build allocates with jemalloc: every request builds and frees
# jansson trees, and glibc's malloc took a fifth of the leader's CPU in the
# scheduling benchmark (bosun bench schedule: 2x pods/s with jemalloc, side
# by side). The sanitizer builds keep the allocator ASan provides.
build/bosun: $(REL_OBJS) $(RAFT_A)
	$(CC) -o $@ $(REL_OBJS) $(LIBS) $(shell pkg-config --libs jemalloc 2>/dev/null)

$(GEN): scripts/gen_schema.py .deps/k8s.stamp
	@mkdir -p $(dir $@)
	python3 scripts/gen_schema.py $(K8S_API) $(K8S_MACHINERY) > $@.tmp && mv $@.tmp $@

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE) -O2 -MMD -MP -c -o $@ $<

# The generated schema is data: no warnings to look for, little to optimise.
build/obj/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE) -O0 -c -o $@ $<

build/test/obj/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE) -O0 -c -o $@ $<

build/test/bosun: $(TST_OBJS) build/test/obj/tools/main.o $(RAFT_A)
	$(CC) $(SAN) -o $@ $(TST_OBJS) build/test/obj/tools/main.o $(LIBS)

build/test/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE) -O1 $(SAN) -MMD -MP -c -o $@ $<

build/test/unit/%: tests/unit/%.c $(TST_OBJS) $(RAFT_A)
	@mkdir -p $(dir $@)
	$(CC) $(BASE) -O1 $(SAN) -o $@ $< $(TST_OBJS) $(LIBS) -lcmocka

# This one replaces the cluster's state (leader or not) at link time.
build/test/unit/test_forward_json: tests/unit/test_forward_json.c $(TST_OBJS) $(RAFT_A)
	@mkdir -p $(dir $@)
	$(CC) $(BASE) -O1 $(SAN) -o $@ $< $(TST_OBJS) $(LIBS) -lcmocka \
		-Wl,--wrap=cluster_is_leader -Wl,--wrap=cluster_info

# The controllers' workload (workload_controllers.c) replaces the process's
# edges (Raft, loopback HTTP, clocks, randomness, sleeps) with the simulated
# ones at link time, leaving the production code as it is.
comma := ,
SIM_WRAP := $(addprefix -Wl$(comma)--wrap=,util_now_ms util_now_us util_wall_ms \
	util_time_rfc3339 util_uuid4 util_random_bytes usleep httpc_new httpc_free httpc_request \
	cluster_is_leader cluster_leader_id cluster_info cluster_read_index cluster_propose \
	cluster_propose_async cluster_propose_batch cluster_propose_batch_async)

$(SIM): tests/sim/sim.c tests/sim/workload_controllers.c tests/sim/sim.h $(TST_OBJS) $(RAFT_A)
	@mkdir -p $(dir $@)
	$(CC) $(BASE) -O1 $(SAN) -o $@ tests/sim/sim.c tests/sim/workload_controllers.c \
		$(TST_OBJS) $(LIBS) $(SIM_WRAP)

# Fuzz targets (clang's libFuzzer): the library is compiled once with the
# fuzzer's coverage instrumentation, then linked into each harness.
FUZZ_CC  := clang $(BASE) -Wno-unknown-warning-option -O1 -fno-omit-frame-pointer
FUZZ_OBJS := $(LIBSRCS:%.c=build/fuzz/obj/%.o) build/fuzz/obj/gen/kube_schema_data.o

# Kept between builds (make would delete them as intermediate files).
.SECONDARY: $(FUZZ_OBJS)

build/fuzz/obj/gen/%.o: build/gen/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -O0 -c -o $@ $<

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<

build/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJS) $(RAFT_A)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_OBJS) $(LIBS)

# make fuzz: every target for FUZZ_SECONDS (default 60) each.
fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZ)
	@for f in $(FUZZ); do n=$$(basename $$f); c=""; \
	  if [ -d tests/fuzz/corpus/$$n ]; then mkdir -p build/fuzz/corpus/$$n; \
	    cp -n tests/fuzz/corpus/$$n/* build/fuzz/corpus/$$n/ 2>/dev/null; c=build/fuzz/corpus/$$n; fi; \
	  echo "== $$f"; $$f -max_total_time=$(or $(FUZZ_SECONDS),60) $$c 2>&1 | tail -2; done

run: deps
	@$(MAKE) --no-print-directory -j$$(nproc) build/bosun
	@bash scripts/run.sh

# The builds run one job per core: the three builds (release, sanitizers,
# fuzz) took 213 s one file at a time and 112 s with -j2 on two cores.
test: deps
	@$(MAKE) --no-print-directory -j$$(nproc) build/bosun build/test/bosun $(UNIT) $(SIM) $(FUZZ)
	@bash tests/run_all.sh

sim: deps
	@$(MAKE) --no-print-directory $(SIM)
	$(SIM) --seeds $(or $(SEEDS),1000)
	$(SIM) --workload controllers --seeds $(or $(SEEDS),1000)

bench: deps
	@$(MAKE) --no-print-directory build/bosun
	bash tests/bench/writes_vs_etcd.sh

clean:
	rm -rf build

-include $(REL_OBJS:.o=.d) $(TST_OBJS:.o=.d) $(FUZZ_OBJS:.o=.d)
