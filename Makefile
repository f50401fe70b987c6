# One entry point for building, testing, benchmarking and running the mesh locally.
CMDS := cmd-nsmgr cmd-registry-k8s cmd-forwarder-vpp cmd-forwarder-ovs cmd-nsc cmd-nse-icmp-responder cmd-admission-webhook cmd-nse-supplier-k8s cmd-nsmgr-proxy cmd-registry-proxy-dns
REGISTRY ?= ghcr.io/nsm-ts
TAG ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: all deps host-deps gen gen-check typecheck lint build test bench demo images clean

all: build

# `npm install` with the committed lock file rather than `npm ci`: npm 11 as configured here leaves
# other platforms' optional packages out of the lock file and `npm ci` then refuses it.
node_modules: package-lock.json
	npm install --no-audit --no-fund
	@touch node_modules

deps: node_modules

host-deps:
	bash tools/install-host-deps.sh

gen: deps
	node tools/gen-api.mjs

gen-check: deps
	node tools/gen-api.mjs --check

typecheck: deps
	npx tsc -p tsconfig.json --noEmit

# typescript-eslint over the whole tree (eslint.config.mjs); a warning or an unused disable comment fails it.
lint: deps
	npx eslint --max-warnings 0 .

build: deps
	node tools/build.mjs

# The README's test command: installs what the tests need, type-checks, lints, bundles, runs every test.
test: deps host-deps gen-check typecheck lint build
	NSM_LEAK_CHECK=1 npx jest --ci

bench: deps host-deps build
	node --import=./tools/register-ts.mjs bench/run.ts $(BENCH)

# The README's main command: a local mesh (Kernel2Kernel) in network namespaces, until Ctrl-C.
demo: deps host-deps build
	./bin/nsm-local demo

images:
	@for c in $(CMDS); do \
	  echo "== $$c"; \
	  docker build -f $$c/Dockerfile -t $(REGISTRY)/$$c:$(TAG) . || exit 1; \
	done

clean:
	rm -rf cmd-*/dist dist-local
