"""Publishing: the GitHub Actions workflow, the derived configuration, and the launch buttons.

The build test publishes the book (fast mode, into a temporary folder) for a made-up repository
and follows every launch link the pages carry: sphinx-book-theme builds them as
``https://colab.research.google.com/github/OWNER/REPO/blob/BRANCH/PATH`` and
``https://mybinder.org/v2/gh/OWNER/REPO/BRANCH?urlpath=lab/tree/PATH``; the workflow pushes the
built site to BRANCH, so PATH must be a notebook of the built site. What GitHub, Colab and
Binder then do with it needs the internet and is not tested (README.md, "Publishing").
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest
import yaml

import book_builds
from conftest import ROOT, notebook_chapters

sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "_ext"))
import notebook_download  # noqa: E402
import notebook_text  # noqa: E402
import publish_config  # noqa: E402

WORKFLOW = ROOT / ".github" / "workflows" / "publish.yml"
REPO = "https://github.com/example-org/fairnotes-demo"
REF = "0123456789abcdef0123456789abcdef01234567"


def _steps():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers and "push" in triggers, "the workflow does not run on push"
    (job,) = workflow["jobs"].values()
    return job["steps"]


def test_workflow_runs_the_readme_commands():
    readme = (ROOT / "README.md").read_text()
    install, build = "pip install -r requirements.txt", "jupyter-book build ."
    assert f"{install} && {build}" in readme, "README.md's install-and-build command changed"
    runs = [" ".join(s["run"].split()) for s in _steps() if "run" in s]
    assert install in runs
    derive = next(r for r in runs if r.startswith("python tools/publish_config.py"))
    assert "${{ github.repository }}" in derive, "the repository URL must come from the run"
    config = re.search(r"-o (\S+)", derive).group(1)
    assert f"{build} --config {config}" in runs, "the book is not built with the derived configuration"
    assert not re.search(r"github\.com/|github\.io", WORKFLOW.read_text()), "a URL is typed into the workflow"


def test_workflow_publishes_the_built_site_to_the_branch_the_buttons_open():
    deploy = next(s for s in _steps() if "gh-pages" in s.get("uses", ""))
    assert deploy["with"]["publish_dir"].strip("./") == "_build/html"
    assert deploy["with"]["publish_branch"] == publish_config.PUBLISH_BRANCH


def test_publish_config_derives_everything_from_the_repository_url(tmp_path):
    out = tmp_path / "sub" / "_config.yml"
    out.parent.mkdir()
    config = publish_config.publish_config((ROOT / "_config.yml").read_text(), REPO + ".git", REF, out)
    assert config["repository"] == {"url": REPO, "branch": publish_config.PUBLISH_BRANCH,
                                    "path_to_book": publish_config.NOTEBOOK_FOLDER}
    assert set(config["launch_buttons"]) >= {"colab_url", "binderhub_url", "notebook_interface"}
    assert config["html"]["baseurl"] == "https://example-org.github.io/fairnotes-demo/"
    assert config["html"]["use_issues_button"] is True   # "open an issue" on every page
    assert config["sphinx"]["config"]["fairnotes_install_ref"] == REF
    assert config["sphinx"]["config"]["fairnotes_repository_url"] == REPO
    for path in config["sphinx"]["local_extensions"].values():
        assert (out.parent / path / "notebook_download.py").exists()
    assert "repository" not in yaml.safe_load((ROOT / "_config.yml").read_text()) or not \
        yaml.safe_load((ROOT / "_config.yml").read_text())["repository"].get("url")


def test_pages_url():
    assert publish_config.pages_url("https://github.com/Org/Repo") == "https://org.github.io/Repo/"
    assert publish_config.pages_url("https://github.com/org/org.github.io") == "https://org.github.io/"
    with pytest.raises(ValueError, match="not a GitHub repository"):
        publish_config.pages_url("https://gitlab.com/org/repo")


def test_binder_requirements_install_the_package_from_the_repository():
    text = notebook_download.binder_requirements((ROOT / "requirements.txt").read_text(), REPO, REF)
    assert f"fairnotes @ git+{REPO}@{REF}" in text.splitlines()
    assert "-e ." not in [l.split("#")[0].strip() for l in text.splitlines()]


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    book_builds.skip_if_subset()
    out = tmp_path_factory.mktemp("published")
    config_path = out / "_config.yml"
    config = publish_config.publish_config((ROOT / "_config.yml").read_text(), REPO, REF, config_path)
    book_builds.with_shared_cache(config, book_builds.shared_cache(tmp_path_factory), config_path)
    book_builds.jupyter_book("build", str(ROOT), "--config", str(config_path), "--path-output", str(out))
    book_builds.assert_chapters_executed(out / "_build" / "html")
    return out / "_build" / "html"


_COLAB = re.compile(r'href="https://colab\.research\.google\.com/github/([^/]+)/([^/]+)/blob/([^/]+)/([^"]+)"')
_BINDER = re.compile(r'href="https://mybinder\.org/v2/gh/([^/]+)/([^/]+)/([^?]+)\?urlpath=lab/tree/([^"]+)"')


@pytest.mark.slow
def test_every_launch_button_opens_a_converted_notebook_of_the_published_site(published):
    owner, repo = REPO.rsplit("/", 2)[1:]
    book_url = publish_config.pages_url(REPO)
    for chapter in notebook_chapters():
        page = chapter.relative_to(ROOT).with_suffix("")
        html = (published / page.with_suffix(".html")).read_text()
        links = _COLAB.findall(html) + _BINDER.findall(html)
        assert len(links) == 2, f"{page}.html: expected one Colab and one Binder link, found {links}"
        for link_owner, link_repo, branch, path in links:
            assert (link_owner, link_repo, branch) == (owner, repo, publish_config.PUBLISH_BRANCH)
            assert path == f"{publish_config.NOTEBOOK_FOLDER}/{page}.ipynb"
            notebook = published / unquote(path)
            assert notebook.exists(), f"{page}.html launches {path}, which the published site lacks"
        assert f"_sources/{page}.ipynb" in html, f"{page}.html: the download button is not the same notebook"
        assert f"{REPO}/issues/new" in html, f"{page}.html has no 'open an issue' button"
        nb = nbformat.read(published / path, 4)
        nbformat.validate(nb)
        assert not notebook_text.leftover_myst(nb), f"{path}: {notebook_text.leftover_myst(nb)[:5]}"
        assert nb.metadata["fairnotes"] == {"page": str(page), "edition": "teacher", "executed": True}
        assert f"git+{REPO}@{REF}" in nb.cells[0].source and "google.colab" in nb.cells[0].source
        assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{path} has no outputs"
        # links into the published book land on a page and an anchor that exist
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        for target, anchor in re.findall(re.escape(book_url) + r"([^)#\s]+)#([^)\s]+)\)", text):
            target_html = (published / target).read_text()
            assert f'id="{anchor}"' in target_html, f"{path} links to {target}#{anchor}, which does not exist"
    binder = (published / "binder" / "requirements.txt").read_text()
    assert f"fairnotes @ git+{REPO}@{REF}" in binder
    assert (published / "binder" / "runtime.txt").read_text().startswith("python-3.")
