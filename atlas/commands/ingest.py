"""`atlas ingest`: turn a new article into a review file of candidates; merge a reviewed one."""

from __future__ import annotations

from pathlib import Path

import click

from ..options import seeds_option

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_ARTICLE_OPTIONS = ("out", "force", "source_id", "outlet", "title", "date")


def _slug(ctx, param, value):
    from ..schema import SLUG

    if value is not None and not SLUG.match(value):
        raise click.BadParameter(f"{value!r} is not a lowercase slug (e.g. cqdaily-2025-wulong)")
    return value


def _date(ctx, param, value):
    from ..load import DATE

    if value is not None and not DATE.match(value):
        raise click.BadParameter(f"{value!r} is not an ISO date (YYYY, YYYY-MM or YYYY-MM-DD)")
    return value


@click.command()
@click.argument("article", required=False, type=_FILE)
@click.option("--accept", "review", type=_FILE, default=None,
              help="Merge the entries a review file marks 'status: new' into the seeds, if all validate.")
@seeds_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Review file to write [default: ARTICLE-NAME.review.yaml in the current directory].")
@click.option("--force", is_flag=True, help="Replace an existing review file (and the edits made in it).")
@click.option("--source-id", callback=_slug, default=None,
              help="Source id for the article [default: the seeds' source citing this file, else its name].")
@click.option("--outlet", default=None, help="Outlet of a new source.")
@click.option("--title", default=None, help="Title of a new source [default: the article's headline].")
@click.option("--date", callback=_date, default=None, help="Date of a new source (YYYY[-MM[-DD]]).")
def ingest(article, review, seeds, out, force, source_id, outlet, title, date):
    """Read ARTICLE (plain UTF-8 text) into a review file of candidate places, designations and
    figures for seeds/; after checking it, merge it with --accept. Nothing reaches seeds/ before.

    Candidates seeds/ holds already are marked 'status: known' and are never merged.

    \b
    Examples:
        atlas ingest ../shared/seeds/003_c4c8725dee9525af.txt
        atlas ingest new-report.txt --source-id cqdaily-2025-wulong --outlet "Chongqing Daily" --date 2025-01
        atlas ingest --accept new-report.review.yaml
    """
    from ..ingest import accept_review, article_source, ingest_article, read_article, review_yaml, write_files
    from ..load import default_seeds_dir, load_atlas
    from ..output import check_output_file

    given = click.get_current_context().params
    if (article is None) == (review is None):
        raise click.UsageError("give either ARTICLE (to write a review file) or --accept REVIEW.yaml")
    if review is not None:
        if extra := [f"--{k.replace('_', '-')}" for k in _ARTICLE_OPTIONS if given[k]]:
            raise click.UsageError(f"{', '.join(extra)} only apply when reading an article")
        done = accept_review(review, seeds)
        if not done.added:
            click.echo(f"nothing new to merge ({done.known} known entries left out); seeds unchanged")
            return
        added = ", ".join(f"{n} {kind}" for kind, n in done.added.items())
        click.echo(f"merged {added} into the seeds ({done.known} known entries left out); seeds validate")
        if done.gazetteer:
            click.echo(f"{done.gazetteer} new places sit at their district's point in gazetteer.yaml "
                       "until coordinates are found")
        return
    out = out or Path(f"{article.stem}.review.yaml")
    check_output_file(out, {"article": article, "seeds folder": seeds or default_seeds_dir()})
    if out.exists() and not force:
        raise click.ClickException(f"{out} exists (it may hold review edits); pass --force to replace it")
    text = read_article(article)
    atlas = load_atlas(seeds)
    source = article_source(atlas, article, text, source_id, outlet, title, date)
    result = ingest_article(text, atlas, source)
    write_files({out: review_yaml(result, article.name)})
    counts = []
    for kind, entries in result.entries().items():
        new = sum(e["status"] != "known" for e in entries)
        counts.append(f"{len(entries)} {kind} ({new} new)")
    click.echo(f"wrote {out}: " + ", ".join(counts))
    if result.unplaced:
        click.echo(f"{result.unplaced} figures left out: about Chongqing as a whole, a region, a place outside "
                   "Chongqing or no place named")
    if result.outside:
        click.echo(f"{len(result.outside)} places outside Chongqing left out: {', '.join(result.outside)}")
    for programme in result.programmes:
        click.echo(f"warning: programme {programme['id']!r} is not in programmes.yaml; add it before --accept",
                   err=True)
    if missing := [k for k in ("outlet", "title") if not source.get(k)]:
        click.echo(f"warning: new source {source['id']!r} has no {' or '.join(missing)}; fill it in before "
                   "--accept", err=True)
    click.echo(f"check it against the article, then: atlas ingest --accept {out}")
