"""The student edition (``python tools/book.py student``): no solution at all, gated or not.

sphinx-exercise's ``hide_solutions`` drops a ``{solution}`` directive, but for a *gated* solution
(``{solution-start}`` ... ``{solution-end}``, which the chapters use so that a solution can hold
executed code cells) it drops only the start: the cells and text between the two stay on the page,
and the ``solution_end_node`` left behind has no HTML visitor, so the build fails with
"NotImplementedError: ... departing unknown node type: solution_end_node".

With ``hide_solutions`` on, this extension lets ``{solution-start}`` build its node as usual, so that
sphinx-exercise merges the gated solution into one ``solution_node`` (its transform of priority 10),
and then removes every solution node, with everything it holds, and any end marker left over
(priority 11). ``tools/book.py`` adds the extension to the student edition's configuration; in a
build without ``hide_solutions`` it does nothing.
"""

from __future__ import annotations

from sphinx.transforms import SphinxTransform


def _hidden(env) -> bool:
    return bool(getattr(env.app.config, "hide_solutions", False))


def _start_directive():
    from sphinx_exercise.directive import SolutionStartDirective

    class GatedSolutionStart(SolutionStartDirective):
        """``{solution-start}`` that keeps its node under ``hide_solutions`` (removed whole later)."""

        def run(self):
            config = self.env.app.config
            if not _hidden(self.env):
                return super().run()
            config.hide_solutions = False      # sphinx-exercise would return no start node
            try:
                return super().run()
            finally:
                config.hide_solutions = True

    return GatedSolutionStart


class RemoveSolutions(SphinxTransform):
    """Remove every (merged) solution and leftover gated marker when ``hide_solutions`` is on."""

    default_priority = 11      # after sphinx-exercise's MergeGatedSolutions (10)

    def apply(self, **kwargs):
        if not _hidden(self.env):
            return
        from sphinx_exercise.nodes import solution_end_node, solution_node, solution_start_node

        registry = getattr(self.env, "sphinx_exercise_registry", {})
        for node in list(self.document.findall(solution_node)) + list(self.document.findall(solution_start_node)):
            registry.pop(node.get("label"), None)
            node.parent.remove(node)
        for node in list(self.document.findall(solution_end_node)):
            node.parent.remove(node)


def setup(app):
    app.setup_extension("sphinx_exercise")
    app.add_directive("solution-start", _start_directive(), override=True)
    app.add_transform(RemoveSolutions)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
