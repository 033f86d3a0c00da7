"""link, explain, entity, review, export: the linkage commands."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from kglink.commands import Context
from kglink.errors import writing
from kglink.ui import Table, console, err_console, lines_cell

app = typer.Typer()


@app.command()
def link(
    ctx: typer.Context,
    full: bool = typer.Option(False, "--full", help="Rescore every pair, not only records that changed."),
    retrain: bool = typer.Option(False, "--retrain", help="Fit the model again (implies --full)."),
    engine: str = typer.Option("local", "--engine",
                               help="Where pairs are blocked, compared and scored: local (this "
                                    "process and its cores) or spark (needs kglink[spark])."),
    spark_master: str = typer.Option("local[2]", "--spark-master",
                                     help="With --engine spark: local[N] (N cores here), "
                                          "spark://HOST:7077, yarn or k8s://..."),
    spark_memory: Optional[str] = typer.Option(None, "--spark-memory",
                                               help="With --engine spark: the driver's memory, "
                                                    "e.g. 6g for a million records (default 2g)."),
) -> None:
    """Link records of the same address, then of the same person, within and across agencies.

    The first run fits an unsupervised Fellegi–Sunter model and saves it in the
    workspace; later runs reuse it and score only new and changed records. Pairs
    between the review and link thresholds wait in `kglink review`.

    With --engine spark the candidate pairs are blocked, compared and scored on Spark,
    and clustered there, with the same rules and model, giving the same links; the
    relatives rounds compare on this machine. Spark pays off across machines: on one
    it costs about three times the local engine's time. A million records need
    --spark-memory 6g (about 20 GB in all with Spark's workers; docs/scale.md).

    Example: kglink link ; kglink link --engine spark --spark-master local[2]
    """
    with ctx.obj.open() as w, console.status("linking") as spinner:
        report = w.link(full=full, retrain=retrain, progress=lambda msg: spinner.update(msg),
                        engine=engine, spark_master=spark_master, spark_memory=spark_memory)
    table = Table(title="Linkage")
    for col in ("kind", "records", "relinked", "pairs compared", "links", "review queue",
                "entities", "multi-record", "model", "seconds"):
        table.add_column(col, justify="right" if col not in ("kind", "model") else "left")
    for k in report.kinds:
        table.add_row(k.kind, str(k.records), str(k.changed), str(k.candidate_pairs), str(k.links),
                      str(k.review), str(k.entities), str(k.multi_record_entities),
                      "trained" if k.model_trained else "reused", f"{k.seconds:.1f}")
    console.print(table)
    for k in report.kinds:
        for rc in k.rules:
            if rc.refused:
                err_console.print(f"Warning: blocking rule {rc.rule} would make {rc.pairs} pairs "
                                  f"and was refused; raise max_pairs_per_rule or tighten the rule.",
                                  markup=False, soft_wrap=True)


@app.command()
def explain(ctx: typer.Context,
            a: str = typer.Argument(..., help="AGENCY:RECORD_ID"),
            b: str = typer.Argument(..., help="AGENCY:RECORD_ID")) -> None:
    """Why two records are, or are not, linked: each comparison's level and weight.

    Example: kglink explain police:P1 childrens_social_care:C10
    """
    from kglink.linkage.rules import MEANING

    with ctx.obj.open() as w:
        ex = w.explain(a, b)
        held_back = conflict_lines(w.contradictions(ex.kind, a, b), ex.kind) \
            if ex.stored_status == "conflict" else None
    table = Table(title=f"{ex.kind} {a} ~ {b}")
    for col in ("comparison", "level", "m", "u", "weight (bits)", "running total"):
        table.add_column(col, justify="left" if col in ("comparison", "level") else "right")
    running = ex.prior_weight
    table.add_row("prior", "two records picked at random", "", "", f"{ex.prior_weight:+.2f}", f"{running:+.2f}")
    for s in ex.steps:
        running += s.weight
        table.add_row(s.comparison, s.level, "" if s.m is None else f"{s.m:.4f}",
                      "" if s.u is None else f"{s.u:.4f}", f"{s.weight:+.2f}", f"{running:+.2f}")
    running += ex.tf_adjustment
    table.add_row("term frequency", "rare names count for more", "", "", f"{ex.tf_adjustment:+.2f}", f"{running:+.2f}")
    console.print(table)
    console.print(f"match weight {ex.total:+.2f} bits, probability {ex.probability:.4f}; "
                  f"model and rules say: {ex.model_status} ({ex.rule}: "
                  f"{MEANING.get(ex.rule, 'see kglink/linkage/rules.py')})", markup=False, soft_wrap=True)
    if ex.note:
        console.print(ex.note, markup=False, soft_wrap=True)
    console.print(f"stored status: {ex.stored_status or 'not a candidate pair'}; human decision: "
                  f"{ex.decision or 'none'}; same entity now: {'yes' if ex.same_entity else 'no'}",
                  markup=False, soft_wrap=True)
    if held_back is not None:
        console.print(held_back, markup=False, soft_wrap=True)


@app.command()
def entity(ctx: typer.Context, record: str = typer.Argument(..., help="AGENCY:RECORD_ID")) -> None:
    """Every source record in the entity (person or address) that RECORD belongs to.

    Example: kglink entity police:P1
    """
    with ctx.obj.open() as w:
        found = w.entity(record)
    table = Table(title=f"{found.kind} entity {found.entity_id}: {len(found.records)} records")
    for col in ("record", "confidence", "summary"):
        table.add_column(col)
    for key, prob, summary in found.records:
        table.add_row(key, f"{prob:.3f}", summary)
    console.print(table)


@app.command()
def review(
    ctx: typer.Context,
    decide: Optional[tuple[str, str, str]] = typer.Option(
        None, "--decide", metavar="A B DECISION",
        help="Non-interactive: two AGENCY:RECORD_IDs and same|different|unsure.", show_default=False),
    kind: Optional[str] = typer.Option(None, help="person or address only."),
    limit: int = typer.Option(20, help="Most pairs to go through interactively."),
    list_only: bool = typer.Option(False, "--list", help="Print the queue and stop."),
    interactive: Optional[bool] = typer.Option(
        None, "--interactive/--no-interactive",
        help="Ask about each pair (default: when run in a terminal)."),
    html: Optional[Path] = typer.Option(
        None, "--html", metavar="OUT.html",
        help="Write every queued pair side by side, with its waterfall, to a page; then stop.",
        show_default=False),
    history: Optional[tuple[str, str]] = typer.Option(
        None, "--history", metavar="A B",
        help="Every decision on a pair: who decided what, when (the last is in force).",
        show_default=False),
) -> None:
    """Decide uncertain pairs: same, different or unsure. Decisions win over the model.

    Interactive in a terminal; or `kglink review --decide police:P1 health:H9 different`.
    Two records a person called different are never merged again. Decisions are
    kept, never overwritten: `kglink review --history police:P1 health:H9`.
    `kglink review --html queue.html` writes the queue as a page to read in a browser; it
    shows the exact --decide command for each pair.

    Example: kglink review --list --kind person
    """
    c: Context = ctx.obj
    with c.open() as w:
        if html is not None and not decide:
            with writing(html, "Choose another --html path"):
                n = w.review.html(html, kind, workspace_hint=str(w.path) if c.workspace else None)
            console.print(f"wrote {n} pairs to {html}", soft_wrap=True)
        elif history:
            past = w.review.history(history[0], history[1])
            table = Table(title=f"Decisions on {history[0]} ~ {history[1]} ({len(past)}; the last is in force)")
            for col in ("when", "decision", "by (--user)", "OS user", "note"):
                table.add_column(col)
            for d in past:
                table.add_row(d.decided_at, d.decision, d.decided_by, d.os_user or "", d.note or "")
            console.print(table)
        elif decide:
            w.review.decide(*decide)
            console.print(f"recorded: {decide[0]} {decide[1]} {decide[2]} (by {c.user})")
        elif list_only or not (sys.stdin.isatty() if interactive is None else interactive):
            console.print(queue_table(w.review.queue(kind, limit)))
        else:
            _interactive(w, kind, limit)


def _interactive(w, kind: str | None, limit: int) -> None:  # type: ignore[no-untyped-def]
    """Each queued pair shown (and audited) in turn; decisions take effect in one link at the end."""
    from kglink.linkage.review import DECISIONS

    decided = 0
    for waiting in w.review.queue(kind, limit):
        it = waiting.item
        _show_pair(w.review.show(it.a, it.b, it.kind), waiting.why)
        answer = ask_decision()
        if answer == "quit":
            break
        if answer in DECISIONS:
            w.review.decide(it.a, it.b, answer, relink=False)
            decided += 1
    if decided:
        w.review.relink()


ANSWERS = {"same": "same", "s": "same", "different": "different", "d": "different",
           "unsure": "unsure", "u": "unsure", "skip": "skip", "k": "skip", "": "skip",
           "quit": "quit", "q": "quit"}


def ask_decision() -> str:
    """same, different, unsure, skip or quit; anything else is asked again."""
    while True:
        raw = typer.prompt("same / different / unsure / skip / quit", default="skip", show_default=True)
        answer = ANSWERS.get(raw.strip().lower())
        if answer:
            return answer
        err_console.print(f"Please answer same, different, unsure, skip or quit (or s, d, u, k, q); "
                          f"{raw.strip()[:20]!r} is none of them.", markup=False, soft_wrap=True)


def queue_table(waiting) -> Table:  # type: ignore[no-untyped-def]
    """The queue with both records side by side and the reason in words."""
    table = Table(title=f"Review queue ({len(waiting)} shown)", show_lines=True)
    for col in ("#", "kind, p", "record A", "record B", "why it waits"):
        table.add_column(col, overflow="fold")
    for n, wt in enumerate(waiting, 1):
        it = wt.item
        table.add_row(str(n), lines_cell((it.kind, f"{it.probability:.3f}")), lines_cell(wt.a.lines()),
                      lines_cell(wt.b.lines()), wt.why)
    return table


def conflict_lines(found: list, kind: str) -> str:  # type: ignore[type-arg]
    """Which contradiction held a linked pair back, and between which records."""
    if not found:
        return "held back: joining their entities was refused, but no contradiction remains now; run kglink link"
    lines = [f"held back: the score links them, but joining their {kind} entities would put together "
             f"records that cannot be one {kind}:"]
    lines += [f"  {c.a} and {c.b}: {c.meaning}" + (f" ({c.rule})" if c.rule != "human" else "")
              for c in found[:10]]
    if len(found) > 10:
        lines.append(f"  ... and {len(found) - 10} more such pairs")
    return "\n".join(lines)


def _show_pair(shown, why: str) -> None:  # type: ignore[no-untyped-def]
    ex = shown.explanation
    table = Table(title=f"{ex.kind}: probability {ex.probability:.3f}; why it waits: {why}")
    table.add_column("")
    table.add_column("record A", overflow="fold")
    table.add_column("record B", overflow="fold")
    table.add_row("record", lines_cell(shown.a.lines()), lines_cell(shown.b.lines()))
    running = ex.prior_weight
    table.add_row("prior", "two records picked at random", f"{running:+.2f} bits")
    for s in ex.steps:
        running += s.weight
        table.add_row(s.comparison, s.level, f"{s.weight:+.2f} bits (total {running:+.2f})")
    console.print(table)


export_app = typer.Typer(
    help="Write what kglink knows to files.\n\nExample: kglink export entities --out entities.csv",
    no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("entities")
def export_entities(ctx: typer.Context,
                    out: Path = typer.Option(..., "--out", help="CSV file to write.")) -> None:
    """Every loaded person and address record with its entity: entity_id,kind,agency,record_id.

    Example: kglink export entities --out entities.csv
    """
    with ctx.obj.open() as w:
        rows = w.export_entities(out)
    console.print(f"wrote {len(rows)} records in {len({r[0] for r in rows})} entities to {out}",
                  soft_wrap=True)
