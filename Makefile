# mcp-gateway — see README.md. Two commands do everything on a fresh machine:
#   make run    the gateway in dev mode (built-in tools + dev authorization server)
#   make test   every test, installing the npm packages the integration tests use
#   make soak-conformance  (not in make test) repeats the conformance scenarios that once lost responses, 200x each through the gateway
#   make soak              (not in make test) 10 minutes of mixed traffic through the gateway, with a key rotation and an upstream restart
GO       ?= go
NPM      ?= npm
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
NODE_DIR := test/node
BIN      := bin

.PHONY: helm-build run build lambda image image-push deploy outputs destroy test test-unit test-integration lint bench node-deps clean soak-conformance fuzz soak

run: ## gateway on 127.0.0.1:8080 + dev authorization server on 127.0.0.1:8081
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/mcp-gateway dev $(ARGS)

build: ## binaries into ./bin
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

lambda: ## mcp-dcr for AWS Lambda (provided.al2023, arm64): dist/mcp-dcr-lambda.zip with bootstrap
	mkdir -p dist/lambda
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags "$(LDFLAGS)" -o dist/lambda/bootstrap ./cmd/mcp-dcr
	cd dist/lambda && rm -f ../mcp-dcr-lambda.zip && python3 -m zipfile -c ../mcp-dcr-lambda.zip bootstrap
	@ls -l dist/lambda/bootstrap dist/mcp-dcr-lambda.zip

# The gateway's container image, built without Docker by tools/ociimage (the
# Dockerfile builds the same image with Docker). Reproducible: file times and
# the image's creation time come from SOURCE_DATE_EPOCH (default: the last
# commit's time). IMAGE_LICENSES is the org.opencontainers.image.licenses label.
IMAGE_REPO      ?= mcp-gateway
IMAGE_SOURCE    ?= https://github.com/mcp-gateway/mcp-gateway
IMAGE_LICENSES  ?= NOASSERTION
IMAGE_REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

image: ## container image (linux/arm64 + linux/amd64, OCI layout tarball) without Docker: dist/mcp-gateway-image.tar
	@for arch in arm64 amd64; do \
		echo "go build linux/$$arch -> dist/image/$$arch/mcp-gateway"; \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o dist/image/$$arch/mcp-gateway ./cmd/mcp-gateway || exit 1; \
	done
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(GO) run ./tools/ociimage build \
		--binary-arm64 dist/image/arm64/mcp-gateway --binary-amd64 dist/image/amd64/mcp-gateway \
		--version "$(VERSION)" --revision "$(IMAGE_REVISION)" --source "$(IMAGE_SOURCE)" \
		--licenses "$(IMAGE_LICENSES)" --out dist/mcp-gateway-image.tar

# Pushes to ECR as $(IMAGE_REPO):$(VERSION) (tags are immutable: a new
# commit, a new tag) and writes the pushed repo@digest to dist/image-uri.
image-push: image ## push the image to ECR (AWS credentials + region needed); writes dist/image-uri
	@set -e; \
	command -v aws >/dev/null || { echo "image-push: the AWS CLI (aws) is not installed"; exit 1; }; \
	region="$${AWS_REGION:-$${AWS_DEFAULT_REGION:-$$(aws configure get region 2>/dev/null || true)}}"; \
	[ -n "$$region" ] || { echo "image-push: no AWS region: set AWS_REGION or run aws configure set region REGION"; exit 1; }; \
	account=$$(aws sts get-caller-identity --region "$$region" --query Account --output text 2>/dev/null) || \
		{ echo "image-push: no usable AWS credentials (aws sts get-caller-identity failed): set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"; exit 1; }; \
	registry="$$account.dkr.ecr.$$region.amazonaws.com"; \
	if ! aws ecr describe-repositories --region "$$region" --repository-names "$(IMAGE_REPO)" >/dev/null 2>&1; then \
		echo "creating ECR repository $(IMAGE_REPO) in $$region"; \
		aws ecr create-repository --region "$$region" --repository-name "$(IMAGE_REPO)" \
			--image-scanning-configuration scanOnPush=true --image-tag-mutability IMMUTABLE >/dev/null; \
	fi; \
	aws ecr get-login-password --region "$$region" | $(GO) run ./tools/ociimage push \
		--layout dist/mcp-gateway-image.tar --ref "$$registry/$(IMAGE_REPO):$(VERSION)" \
		--username AWS --password-stdin --digest-file dist/image-uri; \
	echo "dist/image-uri: $$(cat dist/image-uri)"

# The stack (cloudformation/deploy.sh): settings from .env.deploy (see
# .env.deploy.example), overridden by the environment and make variables.
deploy: lambda ## deploy the stack: uploads dist/mcp-dcr-lambda.zip to CODE_BUCKET, image from GATEWAY_IMAGE or dist/image-uri
	cloudformation/deploy.sh deploy

outputs: ## write the stack's outputs to .env (tools/stackenv; FORCE=1 overwrites a hand-written .env)
	cloudformation/deploy.sh outputs

destroy: ## delete the stack and everything in it (CONFIRM=<stack name>; lifts deletion protection first)
	cloudformation/deploy.sh destroy

# npm ci only when the lockfile changed since the last install.
$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package-lock.json
	$(NPM) ci --prefix $(NODE_DIR) --no-audit --no-fund
	touch $@

node-deps: $(NODE_DIR)/node_modules/.installed

# Integration tests (real peers: node, moto, many processes) run after the
# unit tests, not beside them, so that their timings are not squeezed by a
# parallel package on a 2-core machine.
# helm is a pinned Go module (deploy/helm's tests run it with go run);
# building it once before the tests keeps its first, minutes-long build
# out of any test's deadline.
HELM_MODULE := helm.sh/helm/v3/cmd/helm@v3.22.0

helm-build: ## build the pinned helm into the Go build cache (deploy/helm's tests use it)
	@echo "building $(HELM_MODULE) (cached after the first time)"
	@$(GO) run -exec echo $(HELM_MODULE) >/dev/null

test: node-deps helm-build ## unit + integration tests (race detector on)
	$(GO) test -race -count=1 -timeout 10m $$($(GO) list ./... | grep -v /test/integration)
	$(GO) test -race -count=1 -timeout 10m ./test/integration/...

test-unit: ## unit tests only (no npm packages needed)
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /test/integration)

test-integration: node-deps
	$(GO) test -count=1 -v -timeout 10m ./test/integration/...

# Run in the package's directory: go test then prints a passing run's figures too.
soak-conformance: node-deps ## conformance scenarios that lost responses, 200x each through one gateway; fails on any loss (SOAK_ITERATIONS, SOAK_DEADLINE, ...: see test/integration/soak_conformance_test.go)
	cd test/integration && $(GO) test -tags soak -count=1 -timeout 30m -run '^TestSoakConformance$$'

# The traffic soak's timeout bounds the whole run: the traffic, the build,
# the wait for the gateway to go idle (up to 2 minutes) and the report.
SOAK_TIMEOUT ?= 40m
soak: ## SOAK_DURATION (default 10m, e.g. 90s) of valid and invalid traffic from several principals through mcp-gateway serve, with a signing-key rotation and an upstream restart; fails on any wrong decision or goroutine/FD growth (test/integration/soak_test.go; SOAK_TIMEOUT bounds it)
	cd test/integration && $(GO) test -tags soak -count=1 -timeout $(SOAK_TIMEOUT) -run '^TestSoak$$'

lint: ## gofmt + go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fuzz: ## every fuzz target briefly, one after another (.ci/fuzz; FUZZTIME per target, default 5000x inputs; FUZZ_TARGETS=regexp to pick)
	GO=$(GO) .ci/fuzz

# make bench writes docs/PERFORMANCE.md's generated blocks: the gateway side
# by side with the alternatives (TestBench: BENCH_DURATION per run, default 5s;
# BENCH_ROUNDS, default 3; BENCH_CONCURRENCY sessions, default 32), the memory
# of idle streams (TestMemoryIdleStreams), then the Go micro-benchmarks of
# BENCH_PKGS, BENCH_COUNT times each for BENCH_BENCHTIME (200ms: with the default
# 1s they alone take over 10 minutes), through benchstat (TestMicro).
BENCH_NODE_DIR := test/bench/node
BENCH_PKGS     ?= ./internal/authn/ ./internal/upstream/httpproxy/ ./internal/upstream/authz/ ./cmd/mcp-gateway/ ./internal/gateway/ ./internal/observe/...
BENCH_COUNT    ?= 6
BENCH_BENCHTIME ?= 200ms
BENCH_TIMEOUT  ?= 60m
BENCH_GOTEST    = $(GO) test -tags bench -count=1 -timeout $(BENCH_TIMEOUT) -v

bench: node-deps ## the gateway against go-sdk, go-oidc, TS SDK and express peers, memory per stream, micro-benchmarks: writes docs/PERFORMANCE.md
	@[ $(BENCH_NODE_DIR)/node_modules/.installed -nt $(BENCH_NODE_DIR)/package-lock.json ] || \
		{ $(NPM) ci --prefix $(BENCH_NODE_DIR) --no-audit --no-fund && touch $(BENCH_NODE_DIR)/node_modules/.installed; }
	cd test/bench && $(BENCH_GOTEST) -run '^TestBench$$'
	@if [ -f test/bench/memory_test.go ]; then set -x; cd test/bench && $(BENCH_GOTEST) -run '^TestMemoryIdleStreams$$'; fi
	cd test/bench && BENCH_PKGS='$(BENCH_PKGS)' BENCH_COUNT=$(BENCH_COUNT) BENCH_BENCHTIME=$(BENCH_BENCHTIME) $(BENCH_GOTEST) -run '^TestMicro$$'

clean:
	rm -rf $(BIN) dist $(NODE_DIR)/node_modules
