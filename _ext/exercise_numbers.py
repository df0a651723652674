"""Exercises numbered within their chapter: "Exercise 2" of *Prediction sensitivity*, not "Exercise 7".

The book's table of contents is not numbered, so Sphinx numbers every enumerable node (figures,
tables, exercises) in one sequence across the whole book. A reader meets "Exercise 17" in the
middle of a chapter whose self-check speaks of "exercise 2 of *Prediction sensitivity*"
(:func:`fairnotes.checks.check` names an exercise by its chapter and its position there). This
extension renumbers the exercises and the figures of each page from 1, in their order on the page,
after Sphinx has assigned its numbers; references to them ({numref}) and the solutions' titles
("Solution to Exercise 2") use the new numbers.
"""

from __future__ import annotations

RENUMBERED = ("exercise", "figure")


def renumber(app, env):
    for docname, by_type in env.toc_fignumbers.items():
        for figtype in RENUMBERED:
            numbers = by_type.get(figtype)
            if not numbers:
                continue
            order = sorted(numbers, key=lambda ident: numbers[ident])
            by_type[figtype] = {ident: (k,) for k, ident in enumerate(order, start=1)}
    return []


def setup(app):
    app.connect("env-get-updated", renumber, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
