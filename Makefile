# mcp-gateway — see README.md. Two commands do everything on a fresh machine:
#   make run    the gateway in dev mode (built-in tools + dev authorization server)
#   make test   every test, installing the npm packages the integration tests use
#   make soak-conformance  (not in make test) repeats the conformance scenarios that once lost responses, 200x each through the gateway
GO       ?= go
NPM      ?= npm
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
NODE_DIR := test/node
BIN      := bin

.PHONY: run build lambda test test-unit test-integration lint bench node-deps clean soak-conformance

run: ## gateway on 127.0.0.1:8080 + dev authorization server on 127.0.0.1:8081
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/mcp-gateway dev $(ARGS)

build: ## binaries into ./bin
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

lambda: ## mcp-dcr for AWS Lambda (provided.al2023, arm64): dist/mcp-dcr-lambda.zip with bootstrap
	mkdir -p dist/lambda
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags "$(LDFLAGS)" -o dist/lambda/bootstrap ./cmd/mcp-dcr
	cd dist/lambda && rm -f ../mcp-dcr-lambda.zip && python3 -m zipfile -c ../mcp-dcr-lambda.zip bootstrap
	@ls -l dist/lambda/bootstrap dist/mcp-dcr-lambda.zip

# npm ci only when the lockfile changed since the last install.
$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package-lock.json
	$(NPM) ci --prefix $(NODE_DIR) --no-audit --no-fund
	touch $@

node-deps: $(NODE_DIR)/node_modules/.installed

# Integration tests (real peers: node, moto, many processes) run after the
# unit tests, not beside them, so that their timings are not squeezed by a
# parallel package on a 2-core machine.
test: node-deps ## unit + integration tests (race detector on)
	$(GO) test -race -count=1 -timeout 10m $$($(GO) list ./... | grep -v /test/integration)
	$(GO) test -race -count=1 -timeout 10m ./test/integration/...

test-unit: ## unit tests only (no npm packages needed)
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /test/integration)

test-integration: node-deps
	$(GO) test -count=1 -v -timeout 10m ./test/integration/...

# Run in the package's directory: go test then prints a passing run's figures too.
soak-conformance: node-deps ## conformance scenarios that lost responses, 200x each through one gateway; fails on any loss (SOAK_ITERATIONS, SOAK_DEADLINE, ...: see test/integration/soak_conformance_test.go)
	cd test/integration && $(GO) test -tags soak -count=1 -timeout 30m -run '^TestSoakConformance$$'

lint: ## gofmt + go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

bench: ## benchmarks, each pair side by side in one run: Verify vs bare RSA; tools/call direct vs through the proxy
	$(GO) test -run '^$$' -bench . -benchmem -count 3 ./internal/authn/...
	$(GO) test -run '^$$' -bench BenchmarkToolsCall -benchtime 5s -count 3 ./internal/upstream/httpproxy/
	$(GO) test -run '^$$' -bench BenchmarkGatewayToolsCall -benchtime 5s -count 3 ./cmd/mcp-gateway/

clean:
	rm -rf $(BIN) dist $(NODE_DIR)/node_modules
