# The two commands of the README: `make demo` and `make test`. Each installs what is missing first.
.PHONY: setup build demo test lint typecheck bench clean

setup:
	@bash scripts/setup.sh

build: setup
	npm run build

demo: build
	node dist/cli.js demo --tickets 8 --exit-when-done

test: setup
	npm test

typecheck: setup
	npm run typecheck

lint: setup
	npm run lint

bench: setup
	npm run bench

clean:
	rm -rf dist .runbot
