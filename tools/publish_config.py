"""Write the configuration of the published book, derived from ``_config.yml`` and a repository URL.

Usage, from the repository root (the GitHub Actions workflow ``.github/workflows/publish.yml``
runs it with the repository it runs in, so that no URL is typed into the repository)::

    python tools/publish_config.py https://github.com/OWNER/REPO [--ref COMMIT] [-o PATH]
    jupyter-book build . --config _build/publish/_config.yml

The derived file is ``_config.yml`` plus:

* ``repository``: the URL, the branch the site is published on (:data:`PUBLISH_BRANCH`) and, as
  the "path to the book", ``_sources``, the folder of the built site that holds each page's
  converted notebook (``_ext/notebook_download.py``). sphinx-book-theme's launch buttons point at
  ``<branch>/<path>/<page>``, so they open the notebooks of the published site;
* ``launch_buttons``: Colab and Binder (mybinder.org), opening JupyterLab;
* ``html.baseurl``: the book's GitHub Pages address (``https://OWNER.github.io/REPO/``), which the
  notebooks' glossary terms and cross-references link to, and the repository button;
* ``fairnotes_repository_url`` and ``fairnotes_install_ref``: the repository and commit the
  notebooks' Colab cell and Binder install fairnotes from (``_ext/notebook_download.py``).

The committed ``_config.yml`` has no repository URL (sphinx-book-theme fails on an empty one).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
#: the branch the workflow publishes the built site to; GitHub Pages serves it, Colab and Binder
#: open the notebooks in it
PUBLISH_BRANCH = "gh-pages"
NOTEBOOK_FOLDER = "_sources"
COLAB_URL = "https://colab.research.google.com"
BINDERHUB_URL = "https://mybinder.org"
DEFAULT_OUTPUT = ROOT / "_build" / "publish" / "_config.yml"

_GITHUB = re.compile(r"^https://github\.com/(?P<owner>[A-Za-z0-9-]+)/(?P<repo>[A-Za-z0-9._-]+?)(?:\.git)?/?$")


def pages_url(repo_url: str) -> str:
    """The GitHub Pages address of a repository's site (``OWNER.github.io`` repositories at the root)."""
    m = _GITHUB.match(repo_url)
    if not m:
        raise ValueError(f"{repo_url!r} is not a GitHub repository URL (https://github.com/OWNER/REPO); "
                         "Colab's launch button works only with GitHub")
    owner, repo = m.group("owner").lower(), m.group("repo")
    if repo.lower() == f"{owner}.github.io":
        return f"https://{owner}.github.io/"
    return f"https://{owner}.github.io/{repo}/"


def publish_config(config_text: str, repo_url: str, ref: str | None, output: Path,
                   book_url: str | None = None) -> dict:
    """The published book's configuration: ``_config.yml`` with repository, launch buttons, base URL.

    ``output`` is where the file will be written: Jupyter Book resolves ``local_extensions``
    relative to the configuration file, so their paths are rewritten relative to it.
    """
    repo_url = repo_url.rstrip("/").removesuffix(".git")
    book_url = book_url or pages_url(repo_url)
    config = yaml.safe_load(config_text)
    if (config.get("repository") or {}).get("url"):
        raise ValueError("_config.yml already names a repository; the published one is derived here")
    config["repository"] = {"url": repo_url, "branch": PUBLISH_BRANCH, "path_to_book": NOTEBOOK_FOLDER}
    config["launch_buttons"] = {"notebook_interface": "jupyterlab", "colab_url": COLAB_URL,
                                "binderhub_url": BINDERHUB_URL}
    html = config.setdefault("html", {})
    html["baseurl"] = book_url
    html["use_repository_button"] = True
    html["use_issues_button"] = True   # "open an issue" on every page, in the repository above
    sphinx = config.setdefault("sphinx", {})
    local = sphinx.get("local_extensions") or {}
    sphinx["local_extensions"] = {
        name: os.path.relpath((ROOT / path).resolve(), output.resolve().parent) for name, path in local.items()}
    sphinx_config = sphinx.setdefault("config", {})
    sphinx_config["fairnotes_repository_url"] = repo_url  # _ext/notebook_download.py: Colab cell, Binder
    if ref:
        sphinx_config["fairnotes_install_ref"] = ref
    return config


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("repo_url", help="https://github.com/OWNER/REPO")
    parser.add_argument("--ref", help="the commit (or branch, tag) that Colab and Binder install fairnotes from")
    parser.add_argument("--book-url", help="the published book's address (default: its GitHub Pages address)")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    config = publish_config((ROOT / "_config.yml").read_text(), args.repo_url, args.ref, args.output,
                            args.book_url)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("# Derived by tools/publish_config.py from _config.yml; do not edit.\n"
                           + yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
