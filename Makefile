# Heartbeat's front door. Every target is a one-liner; see README.md.
GO ?= go
FUZZTIME ?= 30s
GREMLINS ?= github.com/go-gremlins/gremlins/cmd/gremlins@v0.6.0
# make mutation (docs/MUTATION.md): the packages fastest first, each as
# package:timeout-coefficient (gremlins times a mutant against one coverage
# run whose build is cached: decimal's suite takes 0.3 s, a mutant's build
# more). MUTATION_SKIP is the files left out to stay inside MUTATION_BOUND
# on two shared cores; MUTATION_SKIP='^$$' MUTATION_BOUND=2h mutates all.
MUTATED ?= ./internal/decimal:10 ./internal/tasks:5 ./internal/schedule:5 ./internal/runner:4 ./internal/market:5 ./internal/scheduler:4 ./internal/marketdata:5
MUTATION_SKIP ?= ^(always|book|cmes|csv|describe|instruments|lunisolar|markets|overrides|overrides_file|rules|x[a-z]{3}|control|control_calendar|control_settings|events_loop|job_settings|pauses|settings_loop|trigger|backlog|backtest|deadletter|engine|merge|metrics|read|rebuild|rolling|sessions|sessionvolume|statecache|updates|views|vwap|week52)\.go$$
MUTATION_WORKERS ?= 3
MUTATION_BOUND ?= 30m
MUTATION_OUT ?= $(or $(TMPDIR),/tmp)/heartbeat-mutation

.PHONY: run test test-race test-integration test-process test-ha test-ha-loss test-ha-e2e fuzz mutation lint bench bench-backfill bench-ingest bench-ingest-cluster bench-live bench-scheduler bench-scheduler-ha bench-ha-failover e2e compose-check build secrets

run:                ## the whole system in one process, no Redis needed
	$(GO) run ./cmd/scheduler --embedded

test:               ## the test command of README.md (CI runs it with CI=true)
	$(GO) test ./...

test-race:          ## the tests under the race detector
	$(GO) test -race ./...

test-integration:   ## the packages whose tests start real servers and processes, with CI=true so none skips
	CI=true $(GO) test -count=1 ./test/... ./internal/marketdata/ ./internal/bars/ ./internal/scheduler/ ./internal/web/ ./internal/testinfra/ ./internal/keys/ ./deploy/

test-ha:            ## Redis Sentinel and Cluster: topologies, master kills, the system on each (about a minute)
	CI=true $(GO) test -count=1 -v -run 'TestSentinelFailover|TestClusterFailover|TestProcessHA|Slot' ./internal/testinfra/ ./internal/keys/ ./test/integration/

test-ha-loss:       ## 10 Sentinel master kills each with ingest.wait_replicas 0 and 1: acknowledged ticks lost and duplicated (about 4 minutes)
	HEARTBEAT_HA_LOSS=1 CI=true $(GO) test -count=1 -v -run TestHALossAcknowledgedTicks -timeout 15m ./test/integration/

test-process:       ## what .ci/run adds after make test: the process-level tests one package at a time, then the end-to-end test with CI's start-lag bound
	CI=true $(GO) test -p 1 -count=1 -timeout 20m ./test/...
	E2E=1 CI=true $(GO) test -count=1 -run E2E -timeout 10m ./test/e2e/ -args -e2e.max-p99=250ms

fuzz:               ## every fuzz target beyond its seeds, FUZZTIME each (default 30s); a crasher lands in testdata/fuzz/FuzzX/
	FUZZTIME=$(FUZZTIME) GO=$(GO) .ci/fuzz

mutation:           ## mutation testing (gremlins) of the domain packages, fastest first, bounded to 30 minutes; go test -short skips the real servers; not in CI
	mkdir -p $(MUTATION_OUT) && GOBIN=$(MUTATION_OUT) $(GO) install $(GREMLINS) && GOGC=400 GOFLAGS='-count=1 -short -vet=off -trimpath -ldflags=-s -gcflags=-l' timeout $(MUTATION_BOUND) sh -c 'for pc in $(MUTATED); do p=$${pc%:*}; echo "mutation: $$p $$(date -u +%T)"; $(MUTATION_OUT)/gremlins unleash --workers $(MUTATION_WORKERS) --timeout-coefficient $${pc#*:} --exclude-files "$(MUTATION_SKIP)" -S lct -o $(MUTATION_OUT)/$$(basename $$p).json $$p || exit 1; done'

test-ha-e2e:        ## Sentinel and Cluster with PostgreSQL: 2 schedulers, 3 workers, a feed replay, the master SIGKILLed mid-replay; results against an independent computation (about 2 minutes)
	HEARTBEAT_HA_E2E=1 CI=true $(GO) test -count=1 -v -run TestProcessHAEndToEnd -timeout 15m ./test/integration/

lint:               ## vet and formatting
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

build:              ## the three binaries into ./bin
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/ ./cmd/...

bench:              ## the micro-benchmarks beside the code
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

bench-backfill:     ## backfill of 1,000,000 trades over five sessions (target < 60 s)
	$(GO) test -run '^$$' -bench Backfill -benchtime 1x ./internal/backfill/

bench-ingest:       ## 5,000 symbols, feed + Intraday on a real redis-server (target >= 100,000 ticks/s)
	$(GO) run ./test/bench/ingest

bench-ingest-cluster: ## the ingest benchmark on one redis-server, then on a 3-master cluster: ticks/s, Intraday p99, Redis CPU s per 100,000 ticks
	$(GO) run ./test/bench/ingest --topology single && $(GO) run ./test/bench/ingest --topology cluster

bench-live:         ## the ingest benchmark, then the same with 1,000 live figures clients (GET /api/v1/stream, 10 of 5,000 symbols each) on the scheduler replica: tick-to-client latency, replica CPU and memory, ratios to the baseline
	$(GO) run ./test/bench/ingest -sse-clients 1000 -sse-follow 10

bench-scheduler:    ## start lag, duplicates and idle load: 2 schedulers + 4 workers vs asynq's Scheduler
	$(GO) test -count=1 -run '^$$' -bench Scheduler -benchtime 1x -timeout 30m ./test/integration/

bench-scheduler-ha: ## BenchmarkScheduler on single, Sentinel and Cluster in one run: start lag and idle commands/s per node
	$(GO) test -count=1 -run '^$$' -bench Scheduler -benchtime 1x -timeout 40m ./test/integration/ -args -sched.topology single,sentinel,cluster

bench-ha-failover:  ## 5 master kills each on Sentinel and Cluster: kill to promotion and to the first Intraday enqueue on the new master
	CI=true $(GO) test -count=1 -run '^$$' -bench HAFailover -benchtime 1x -timeout 20m ./test/integration/ -args -ha.kills 5

e2e:                ## the compose topology as processes on loopback: a 70 s window, about 2 minutes in all
	E2E=1 $(GO) test -count=1 -run E2E -timeout 10m ./test/e2e/

compose-check:      ## validate docker-compose.yml statically (no Docker engine needed)
	docker-compose config -q

secrets:            ## random passwords and token for docker-compose.yml under deploy/secrets/ (kept if present)
	@mkdir -p deploy/secrets && chmod 700 deploy/secrets
	@for s in http_token postgres_password grafana_admin_password redis_feed_password redis_worker_password redis_scheduler_password redis_status_password redis_admin_password; do \
	  [ -s deploy/secrets/$$s ] || { head -c 24 /dev/urandom | base64 | tr -d '/+=' > deploy/secrets/$$s; chmod 600 deploy/secrets/$$s; echo "wrote deploy/secrets/$$s"; }; \
	done
