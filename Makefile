# Catalyst: the two commands a newcomer needs are `make start` and `make test`.
# Both install what is missing (npm packages; Debian's redis-server, clickhouse-server and prosody
# unless REDIS_URL / CLICKHOUSE_URL / XMPP_SERVICE point elsewhere) and start local servers with
# data under ./var.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help install build start test test-unit lint typecheck services stop bench bench-codec clean

help:
	@echo "make start    run Catalyst in sandbox mode (HTTP 8080, SMPP 2775, simulator SMSC 2776)"
	@echo "make test     every test, against real Redis, ClickHouse and Prosody"
	@echo "make stop     stop the local Redis, ClickHouse and Prosody"
	@echo "make bench    SMPP load bench (the Benchmarks section of README.md lists every bench)"

node_modules/.installed: package.json package-lock.json
	npm install --no-audit --no-fund
	@touch $@

install: node_modules/.installed

build: install
	rm -rf dist
	npx tsc -p tsconfig.build.json
	mkdir -p dist/store/redis && cp -r src/store/redis/lua dist/store/redis/

services:
	scripts/services.sh up

start: build services
	scripts/start.sh

test: build services
	scripts/test.sh

test-unit: install
	npx vitest run test/unit

lint: install
	npx eslint src test bench

typecheck: install
	npx tsc -p tsconfig.json --noEmit

stop:
	scripts/services.sh down

bench: build services
	eval "$$(scripts/services.sh env)" && node --import tsx bench/smpp-load.ts

bench-codec: install
	node --import tsx bench/codec.ts

clean:
	rm -rf dist node_modules/.installed
