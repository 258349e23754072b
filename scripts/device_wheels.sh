#!/usr/bin/env bash
# Download (here, where PyPI is reachable) the pure-Python wheels that scripts/device_check.sh installs on the
# GPU machine, which reaches no registry. Its image has torch, numpy, matplotlib, tqdm, pytest, hypothesis,
# pytest-timeout, pygments, typing-extensions and tensorboard; this adds the widget stack (anywidget,
# ipywidgets and IPython's dependencies) and the peers the benchmarks compare with (zuko, normflows, nflows).
# Versions are pinned to what the CI machine runs. Writes .whl/ (git-ignored), 25 wheels, about 9.4 MB.
# Usage: bash scripts/device_wheels.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .whl && mkdir -p .whl
python3 -m pip download -q --no-deps --only-binary=:all: --implementation py --abi none --platform any \
  --python-version 3.12 -d .whl \
  anywidget==0.11.0 psygnal==0.16.1 ipywidgets==8.1.9 comm==0.2.3 jupyterlab_widgets==3.0.17 \
  widgetsnbextension==4.0.16 traitlets==5.15.0 ipython==8.12.3 backcall==0.2.0 pickleshare==0.7.5 \
  decorator==5.2.1 jedi==0.20.0 parso==0.8.7 matplotlib-inline==0.2.2 pexpect==4.8.0 ptyprocess==0.7.0 \
  prompt_toolkit==3.0.52 wcwidth==0.7.0 stack_data==0.6.3 executing==2.2.1 asttokens==3.0.1 pure_eval==0.2.3 \
  zuko==1.6.0
# normflows and nflows publish no wheels: build them from their sdists (pure Python)
python3 -m pip wheel -q --no-deps -w .whl normflows==1.7.3 nflows==0.14
ls .whl | wc -l
du -sh .whl
