.PHONY: demo test bench lint
demo:
	./run demo
test:
	./run test
bench:
	./run bench
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
